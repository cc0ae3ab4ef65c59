"""Where an interrupted backfill resumes: a small JSON file per stack."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from stripe_fortnox_cli.ops.errors import OperationError
from stripe_fortnox_cli.ops.stack import Stack


@dataclass
class Cursor:
    """Where an interrupted backfill resumes: after the last customer it queued."""

    path: Path
    stack: str
    after: str | None = None
    queued: int = 0
    created_keys: dict[str, str] = field(default_factory=dict)
    started_at: float = field(default_factory=time.time)

    @classmethod
    def load(cls, path: Path, stack: Stack) -> Cursor | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise OperationError(f"cannot read the cursor file {path}: {exc}; use --restart") from None
        if data.get("stack") != stack.identity:
            raise OperationError(
                f"the cursor file {path} belongs to another stack ({data.get('stack')}); "
                "use --restart to start over or --cursor to choose another file"
            )
        return cls(
            path=path,
            stack=stack.identity,
            after=data.get("after"),
            queued=int(data.get("queued") or 0),
            created_keys=dict(data.get("created_keys") or {}),
            started_at=float(data.get("started_at") or time.time()),
        )

    def save(self) -> None:
        data = {
            "stack": self.stack,
            "after": self.after,
            "queued": self.queued,
            "created_keys": self.created_keys,
            "started_at": self.started_at,
            "updated_at": time.time(),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(data), encoding="utf-8")
        # Atomic: a backfill killed mid-write leaves the previous cursor, never half a file.
        temporary.replace(self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def default_cursor_path(stack: Stack) -> Path:
    # One cursor per tenant: tenant `default`'s keeps the name it always had.
    own = "" if stack.tenant is None else f"-{stack.tenant.id}"
    if stack.state_dir is not None:
        return stack.state_dir / f"backfill-cursor{own}.json"
    return Path(f".stripe-fortnox-backfill-{re.sub(r'[^A-Za-z0-9_-]', '_', stack.name)}{own}.json")
