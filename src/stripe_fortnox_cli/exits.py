"""Exit codes of every `stripe-fortnox` command, and the one way a command reports a failure."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterable, Mapping

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_PORT, EXIT_AUTH = 0, 1, 2, 3, 4

# What each code means, for `--help` (argparse's own usage errors are 2 as well).
EXIT_TEXT = {
    EXIT_OK: "done",
    EXIT_FAILED: "the demo's expectations were not met, or an operator command found something that "
    "needs attention or could not finish",
    EXIT_CONFIG: "bad usage or configuration (no stack, no Stripe key, a wrong mode, a local stack "
    "that is not running or already running)",
    EXIT_PORT: "a port is in use",
    EXIT_AUTH: "Fortnox (or Stripe) refused the credentials",
}


def exit_codes_help(codes: Iterable[int] = tuple(EXIT_TEXT), said: Mapping[int, str] | None = None) -> str:
    """The exit codes as `--help` lists them; `said` words some of them for one command."""
    texts = {**EXIT_TEXT, **(said or {})}
    lines = (
        textwrap.fill(texts[code], width=88, initial_indent=f"  {code}  ", subsequent_indent="     ")
        for code in codes
    )
    return "exit codes:\n" + "\n".join(lines)


def fail(message: str, code: int) -> int:
    """Print `message` for the user and return `code` for the caller to exit with."""
    print(f"stripe-fortnox: {message}", file=sys.stderr)
    return code
