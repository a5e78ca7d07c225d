"""What the user commands take from the outside world, in one place so tests can replace it:
the clock, the prompts, the browser and whether stdout is a terminal. `rolehop` runs with the
defaults; tests pass their own with `CliRunner.invoke(main, …, obj=UserContext(…))`."""

from __future__ import annotations

import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import click

from rolehop.cli.user.prompt import IsTerminal, Prompter, stdin_first, stdout_is_terminal, terminal_or_stdin


def _now() -> datetime:
    return datetime.now(UTC)


def _open(url: str) -> bool:
    return webbrowser.open(url, new=2)


@dataclass
class UserContext:
    now: Callable[[], datetime] = _now
    prompter: Prompter = field(default=terminal_or_stdin)  # MFA codes
    key_prompter: Prompter = field(default=stdin_first)  # configure's access key
    open_browser: Callable[[str], bool] = _open
    stdout_is_terminal: IsTerminal = stdout_is_terminal


def user_context() -> UserContext:
    ctx = click.get_current_context(silent=True)
    found = ctx.find_object(UserContext) if ctx is not None else None
    return found if found is not None else UserContext()
