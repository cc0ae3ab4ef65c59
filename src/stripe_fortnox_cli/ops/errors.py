"""The one error an operator command stops with: it says why and what to do."""

from __future__ import annotations

from stripe_fortnox_cli.exits import EXIT_CONFIG


class OperationError(Exception):
    """The command cannot go on; the message says why and what to do."""

    def __init__(self, message: str, exit_code: int = EXIT_CONFIG) -> None:
        super().__init__(message)
        self.exit_code = exit_code
