"""One clear line on failure: what went wrong, then what to do next."""

from __future__ import annotations

from typing import IO, Any

import click


class UserError(click.ClickException):
    """A failure the user can act on: printed as `rolehop: WHAT; HINT` on stderr, exit status 1."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint

    def format_message(self) -> str:
        line = self.message.rstrip(". ")
        return f"{line}; {self.hint}" if self.hint else line

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"rolehop: {self.format_message()}", file=file, err=file is None)


class MfaSessionNeeded(UserError):
    """A new MFA session needs a code, and this invocation may not ask for one."""
