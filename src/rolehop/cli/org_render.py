"""How `rolehop plan` and `rolehop apply` show a plan: one line per object (+ created, ~ changed,
- deleted, ? unmanaged) with the changed fields beneath, counts at the end, in colour on a terminal
(Rich: none when the output is a file or a pipe, or NO_COLOR is set); and apply's progress bar."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from rolehop.services.admin.org_plan import Change, FieldChange, Plan

SYMBOLS = {"create": ("+", "green"), "update": ("~", "yellow"), "delete": ("-", "red")}
UNMANAGED = ("?", "magenta")
LARGE_PLAN = 50  # changes from which apply shows a progress bar (on a terminal)


def console(*, stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=True, emoji=False)


def _field(out: Console, f: FieldChange, creating: bool) -> None:
    line = Text(f"      {f.name}: ")
    if f.diff:
        out.print(Text(f"      {f.name}:"))
        for d in f.diff:
            style = "green" if d.startswith("+") else "red" if d.startswith("-") else "dim"
            out.print(Text(f"        {d}", style=style))
        return
    if f.added or f.removed:
        items = [Text(f"+ {a}", style="green") for a in f.added] + [
            Text(f"- {r}", style="red") for r in f.removed
        ]
        out.print(line + Text(", ").join(items))
        return
    if creating:
        out.print(line + Text(str(f.after), style="green"))
        return
    before = Text("(none)", style="dim") if f.before is None else Text(f.before, style="red")
    after = Text("(none)", style="dim") if f.after is None else Text(f.after, style="green")
    out.print(line + before + Text(" -> ") + after)


def _change(out: Console, change: Change, symbol: tuple[str, str]) -> None:
    mark, style = symbol
    out.print(
        Text(f"  {mark} ", style=f"bold {style}")
        + Text(change.kind, style=style)
        + Text(f" {change.label}" if change.label else "")
    )
    for f in change.fields:
        _field(out, f, change.action == "create")
    if change.note:
        out.print(Text(f"      ({change.note})", style="dim"))


def summary(plan: Plan) -> str:
    text = (
        f"Plan: {plan.count('create')} to create, {plan.count('update')} to change, "
        f"{plan.count('delete')} to delete."
    )
    if plan.unmanaged and not plan.prune:
        text += f" {len(plan.unmanaged)} unmanaged (apply --prune deletes them)."
    return text


def show_plan(out: Console, plan: Plan, file: Path) -> None:
    if not plan.changes:
        out.print(f"No changes: the store already matches {file}.")
    for change in plan.changes:
        _change(out, change, SYMBOLS[change.action])
    if plan.unmanaged and not plan.prune:
        out.print(
            Text("Unmanaged: in the store, not in the file (apply --prune deletes them):", style="bold")
        )
        for change in plan.unmanaged:
            _change(out, change, UNMANAGED)
    if plan.changes or (plan.unmanaged and not plan.prune):
        out.print(Text(summary(plan), style="bold"))


class ApplyView:
    """apply's output: the plan, then a progress bar on stderr for a large plan on a terminal."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.out = console()
        self.progress: Progress | None = None

    def show(self, plan: Plan) -> None:
        show_plan(self.out, plan, self.file)
        err = console(stderr=True)
        if len(plan.changes) >= LARGE_PLAN and err.is_terminal:
            self.progress = Progress(
                TextColumn("applying"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            )
            self.progress.add_task("apply", total=len(plan.changes))
            self.progress.start()

    def step(self, change: Change) -> None:
        if self.progress is not None:
            self.progress.advance(self.progress.task_ids[0])

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
