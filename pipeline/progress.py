"""Terminal feedback for long runs: a progress bar on a terminal, silence when piped or --quiet;
per-document stages and timings with --verbose (on stderr) and --log FILE.

The bar moves by pages, so a long scan moves it page by page as its pages are OCR'd, and the ETA
is computed from pages rather than documents (a scan costs seconds a page, a text letter
milliseconds); it names the file, or the page of a scan, being read.
"""
from __future__ import annotations

import logging
from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from pipeline.ingest import RunProgress, RunSummary, log as run_log

STATUS_ORDER = ["ok", "needs_review", "not_rating_letter", "failed"]


class ProgressReporter:
    """A rich progress bar over pages, with letters done, letters/s, ETA and the file being read;
    shown only when stderr is a terminal."""

    def __init__(self, console: Console, enabled: bool = True) -> None:
        self.console = console
        self.enabled = enabled and console.is_terminal
        self.progress: Progress | None = None
        self.task = None

    def __enter__(self) -> "ProgressReporter":
        if self.enabled:
            self.progress = Progress(
                TextColumn("[bold]letters[/bold] {task.fields[letters]}"),
                BarColumn(),
                TextColumn("pages {task.completed:.0f}/{task.total:.0f}"),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                TextColumn("[dim]{task.fields[current]}", markup=True),
                console=self.console,
                transient=True,
            )
            self.progress.__enter__()
        return self

    def update(self, state: RunProgress) -> None:
        if self.progress is None:
            return
        if self.task is None:
            self.task = self.progress.add_task("ingest", total=max(state.pages, 1), letters="", rate="", current="")
        elapsed = self.progress.tasks[0].elapsed or 0.0
        rate = f"{state.documents_done / elapsed:.0f}/s" if elapsed > 0 else ""
        current = state.current if len(state.current) <= 60 else "..." + state.current[-57:]
        self.progress.update(
            self.task, total=max(state.pages, 1), completed=min(state.pages_done, max(state.pages, 1)),
            letters=f"{state.documents_done}/{state.documents}", rate=rate, current=current.replace("[", r"\["),
        )

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.progress is not None:
            self.progress.__exit__(exc_type, exc, tb)


def start_logging(console: Console, verbose: bool = False, log_file: Path | None = None) -> list[logging.Handler]:
    """Send the run's log (each document's status, pages, stages and seconds; each page of a long
    scan OCR'd) to the console with verbose, and to log_file; return the handlers, for stop_logging."""
    logger = run_log
    handlers: list[logging.Handler] = []
    if verbose:
        handlers.append(RichHandler(console=console, show_path=False, markup=False, log_time_format="%H:%M:%S"))
    if log_file is not None:
        log_file = Path(log_file)
        log_file.parent.mkdir(parents=True, exist_ok=True)
        to_file = logging.FileHandler(log_file, encoding="utf-8")
        to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        handlers.append(to_file)
    for handler in handlers:
        handler.setLevel(logging.INFO)
        logger.addHandler(handler)
    if handlers:
        logger.setLevel(logging.INFO)
    return handlers


def stop_logging(handlers: list[logging.Handler]) -> None:
    logger = run_log
    for handler in handlers:
        logger.removeHandler(handler)
        handler.close()


def print_summary(console: Console, summary: RunSummary) -> None:
    table = Table(title=f"ofsted-letters: {summary.n_documents} documents -> {summary.out_dir}", show_header=True)
    table.add_column("status")
    table.add_column("letters", justify="right")
    for status in STATUS_ORDER + sorted(set(summary.by_status) - set(STATUS_ORDER)):
        if summary.by_status.get(status):
            table.add_row(status, str(summary.by_status[status]))
    table.add_row("duplicates", str(summary.duplicates))
    table.add_row("reused from cache", str(summary.from_cache))
    if summary.skipped:  # files in the folders that are not letters by their extension (a PDF named .qdf, say)
        table.add_row("skipped (not .txt, .pdf or an archive)", f"{sum(summary.skipped.values())}: " + ", ".join(
            f"{n} {ext or '(none)'}" for ext, n in sorted(summary.skipped.items())))
    table.add_row("time", f"{summary.seconds:.2f} s ({summary.letters_per_second:.1f} letters/s, {summary.workers} workers)")
    console.print(table)
