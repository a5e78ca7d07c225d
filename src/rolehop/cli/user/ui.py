"""Tables for people (Rich): the terminal's width on a terminal, natural width when piped. Rich is
imported when a table is printed, so that `rolehop assume --json` starts without it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


def console() -> Console:
    from rich.console import Console

    found = Console()
    return found if found.is_terminal else Console(width=240, no_color=True)


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left", box=None, pad_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    console().print(table)
