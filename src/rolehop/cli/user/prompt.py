"""Asking the person at the keyboard: the terminal when there is one (even when stdout is captured,
as in `eval "$(rolehop assume …)"`), otherwise a line of stdin, as botocore's MFA prompt does."""

from __future__ import annotations

import getpass
import io
import os
import sys
from collections.abc import Callable
from contextlib import suppress
from typing import Protocol, TextIO

TTY = "/dev/tty"


class Prompter(Protocol):
    def __call__(self, prompt: str, *, secret: bool = False) -> str | None:
        """The answer without its line end; None when there is nothing to read (end of input)."""


def _open_tty() -> TextIO | None:
    if os.name != "posix":
        return None
    try:
        fd = os.open(TTY, os.O_RDWR | os.O_NOCTTY)
    except OSError:  # no controlling terminal
        return None
    # unbuffered, as getpass does it: a terminal is not seekable, so open(…, "r+") would refuse it
    return io.TextIOWrapper(io.FileIO(fd, "r+"), encoding="utf-8", line_buffering=True)


def has_terminal() -> bool:
    tty = _open_tty()
    if tty is None:
        return False
    tty.close()
    return True


def terminal_or_stdin(prompt: str, *, secret: bool = False) -> str | None:
    tty = _open_tty()
    if tty is not None:
        with tty:
            if secret:
                return getpass.getpass(prompt, stream=tty).strip()
            tty.write(prompt)
            tty.flush()
            line = tty.readline()
    else:
        sys.stderr.write(prompt)
        sys.stderr.flush()
        line = sys.stdin.readline() if sys.stdin is not None else ""
        if line and not sys.stdin.isatty():
            sys.stderr.write("\n")  # the piped answer does not echo: end the prompt's line
    return line.strip() if line else None


def stdin_first(prompt: str, *, secret: bool = False) -> str | None:
    """For what may be piped in on purpose (configure's access key): stdin when it is not a
    terminal, else the terminal. MFA codes do not use it: with `--exec` stdin belongs to the command."""
    if sys.stdin is not None and not sys.stdin.isatty():
        line = sys.stdin.readline()
        return line.strip() if line else None
    return terminal_or_stdin(prompt, secret=secret)


def ask_code(prompter: Prompter, serial: str) -> str | None:
    """botocore's prompt text ("Enter MFA code for <serial>: "), so people see what they know."""
    answer = prompter(f"Enter MFA code for {serial}: ")
    if answer is None:
        return None
    return answer.replace(" ", "")


def stdout_is_terminal() -> bool:
    with suppress(AttributeError, ValueError):
        return sys.stdout.isatty()
    return False


IsTerminal = Callable[[], bool]
