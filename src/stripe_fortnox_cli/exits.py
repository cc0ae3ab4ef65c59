"""Exit codes of every `stripe-fortnox` command, and the one way a command reports a failure."""

from __future__ import annotations

import sys

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_PORT, EXIT_AUTH = 0, 1, 2, 3, 4


def fail(message: str, code: int) -> int:
    """Print `message` for the user and return `code` for the caller to exit with."""
    print(f"stripe-fortnox: {message}", file=sys.stderr)
    return code
