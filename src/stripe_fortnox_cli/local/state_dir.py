"""The state directory of one local stack: its function logs, its outputs, a Fortnox token chain.

Every stack has its own: the one it is given (`dev`: `.local-stack` unless `--state-dir` says
otherwise), else a temporary one made for it and removed after it (`demo`, the tests). A stack
never takes over a directory whose recorded stack still answers, and removes its `outputs.json`
when it stops, so `--local` never talks to a stack that is gone or to the wrong one.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from stripe_fortnox_cli.local_state import OUTPUTS_FILE, live_endpoint

from .config import LocalStackError


class StateDirectory:
    def __init__(self, wanted: Path | None) -> None:
        self._wanted = wanted
        self._path: Path | None = None
        self._written: str | None = None

    @property
    def temporary(self) -> bool:
        return self._wanted is None

    @property
    def path(self) -> Path:
        assert self._path is not None, "the state directory is not claimed yet"
        return self._path

    @property
    def outputs_path(self) -> Path:
        return self.path / OUTPUTS_FILE

    def claim(self) -> Path:
        """Make the directory this stack's; LocalStackError (exit 2) when a live stack has it."""
        if self._wanted is None:
            self._path = Path(tempfile.mkdtemp(prefix="stripe-fortnox-local-"))
            return self._path
        self._refuse_if_live(self._wanted)
        self._wanted.mkdir(parents=True, exist_ok=True)
        self._path = self._wanted
        return self._path

    def write_outputs(self, data: Mapping[str, str]) -> None:
        """Record where this stack listens; asked again first, as another may have started meanwhile."""
        if self._written is None:
            self._refuse_if_live(self.path)
        text = json.dumps(dict(data), indent=2)
        # Whole or not at all: a reader never sees half a file.
        partial = self.path / f".{OUTPUTS_FILE}.{os.getpid()}"
        partial.write_text(text, encoding="utf-8")
        partial.replace(self.outputs_path)
        self._written = text

    def release(self, keep: bool = False) -> None:
        """Remove this stack's outputs (only if still its own), and a temporary directory unless `keep`."""
        if self._path is None:
            return
        if self._written is not None:
            with contextlib.suppress(OSError):
                if self.outputs_path.read_text(encoding="utf-8") == self._written:
                    self.outputs_path.unlink()
            self._written = None
        if self.temporary and not keep:
            shutil.rmtree(self._path, ignore_errors=True)

    @staticmethod
    def _refuse_if_live(directory: Path) -> None:
        endpoint = live_endpoint(directory)
        if endpoint is not None:
            raise LocalStackError(
                f"a local stack is already running in {directory}/ (it answers at {endpoint}): stop it, "
                f"or give this one another directory with --state-dir (if nothing of ours runs there, "
                f"delete {directory / OUTPUTS_FILE})"
            )
