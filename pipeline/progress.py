"""Terminal feedback for long runs: a progress bar on a terminal, silence when piped or --quiet."""
from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from pipeline.ingest import RunSummary

STATUS_ORDER = ["ok", "needs_review", "not_rating_letter", "failed"]


class ProgressReporter:
    """A rich progress bar with letters/s and ETA, shown only when stderr is a terminal."""

    def __init__(self, console: Console, enabled: bool = True) -> None:
        self.console = console
        self.enabled = enabled and console.is_terminal
        self.progress: Progress | None = None
        self.task = None

    def __enter__(self) -> "ProgressReporter":
        if self.enabled:
            self.progress = Progress(
                TextColumn("[bold]letters"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self.progress.__enter__()
        return self

    def update(self, done: int, total: int) -> None:
        if self.progress is None:
            return
        if self.task is None:
            self.task = self.progress.add_task("ingest", total=total, rate="")
        elapsed = self.progress.tasks[0].elapsed or 0.0
        rate = f"{done / elapsed:.0f}/s" if elapsed > 0 else ""
        self.progress.update(self.task, completed=done, rate=rate)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.progress is not None:
            self.progress.__exit__(exc_type, exc, tb)


def print_summary(console: Console, summary: RunSummary) -> None:
    table = Table(title=f"ofsted-letters: {summary.n_documents} documents -> {summary.out_dir}", show_header=True)
    table.add_column("status")
    table.add_column("letters", justify="right")
    for status in STATUS_ORDER + sorted(set(summary.by_status) - set(STATUS_ORDER)):
        if summary.by_status.get(status):
            table.add_row(status, str(summary.by_status[status]))
    table.add_row("duplicates", str(summary.duplicates))
    table.add_row("reused from cache", str(summary.from_cache))
    table.add_row("time", f"{summary.seconds:.2f} s ({summary.letters_per_second:.1f} letters/s, {summary.workers} workers)")
    console.print(table)
