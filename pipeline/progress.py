"""Terminal feedback for long runs: a progress bar on a terminal, silence when piped or --quiet;
per-document stages and timings with --verbose (on stderr) and --log FILE.

The bar moves by pages, so a long scan moves it page by page as its pages are OCR'd, and the ETA
is computed from pages rather than documents (a scan costs seconds a page, a text letter
milliseconds); it names the file, or the page of a scan, being read. The rate and the ETA come
from the Estimator: nothing is shown until there is a measurement.
"""
from __future__ import annotations

import logging
import time
from collections import deque
from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline.ingest import RunProgress, RunSummary, log as run_log

STATUS_ORDER = ["ok", "needs_review", "not_rating_letter", "failed"]


class Estimator:
    """The rate and the time left of a run, from what it measured, with a clock that tests can set.

    Rate: pages per second over the last `window` seconds, the window stretched back to the last
    `min_events` progress steps, so a run that is OCRing a slow page shows the pace of its last
    few pages, never 0/s while work proceeds, and a burst of text letters does not show as
    hundreds a second for long.

    Time left: OCR'd pages and other pages are costed apart. An OCR'd page costs the worker
    seconds Tesseract took over it (measured), a text page the rest of the run's worker time
    shared over the text pages done. The pages left of the scans under way are OCR; the other
    pages left are split between the two in the proportion seen so far; the worker seconds they
    need are shared over the workers. Nothing until there is a measurement: a page done (of the
    kind the pages left need), and `min_seconds` of the run gone.
    """

    def __init__(self, clock=time.monotonic, window: float = 20.0, min_events: int = 3, min_seconds: float = 1.0) -> None:
        self.clock = clock
        self.started = clock()
        self.window = window
        self.min_events = min_events
        self.min_seconds = min_seconds
        self.events: deque[tuple[float, int]] = deque()  # (time, pages_done) at each step forward

    def update(self, state: RunProgress) -> None:
        now = self.clock()
        if not self.events or state.pages_done != self.events[-1][1]:
            self.events.append((now, state.pages_done))
        # keep the window, and at least min_events steps before it
        while len(self.events) > self.min_events + 1 and self.events[1][0] < now - self.window:
            self.events.popleft()

    def _ready(self, state: RunProgress) -> bool:
        return state.pages_done > 0 and self.clock() - self.started >= self.min_seconds

    def rate(self, state: RunProgress) -> float | None:
        """Pages per second lately; None before there is a measurement."""
        if not self._ready(state):
            return None
        now = self.clock()
        first_time, first_pages = self.events[0] if self.events else (self.started, 0)
        if len(self.events) <= self.min_events:  # early in the run: everything since the start
            first_time, first_pages = self.started, 0
        span = now - first_time
        return (state.pages_done - first_pages) / span if span > 0 else None

    def seconds_left(self, state: RunProgress) -> float | None:
        """Wall seconds the pages left should take; None before there is a measurement."""
        if not self._ready(state):
            return None
        left = max(state.pages - state.pages_done, 0)
        if not left:
            return 0.0
        workers = max(state.workers, 1)
        ocr_pages = state.ocr_pages_done
        text_pages = state.pages_done - ocr_pages
        spent = (self.clock() - self.started) * workers  # worker seconds so far
        ocr_cost = state.ocr_seconds / ocr_pages if ocr_pages else None
        text_cost = max(spent - state.ocr_seconds, 0.0) / text_pages if text_pages else None
        pending = min(state.ocr_pages_pending, left)  # pages of the scans under way: OCR, for certain
        rest = left - pending
        share = ocr_pages / state.pages_done  # of the other pages left, the part that will need OCR
        cost = 0.0
        for pages, per_page in ((pending + share * rest, ocr_cost), ((1 - share) * rest, text_cost)):
            if pages > 1e-9:
                if per_page is None:
                    return None
                cost += pages * per_page
        return cost / workers


def _rate_text(rate: float | None) -> str:
    if rate is None:
        return ""
    return f"{rate:.1f} pages/s" if rate < 10 else f"{rate:.0f} pages/s"


def _eta_text(seconds: float | None) -> str:
    if seconds is None:
        return "eta -:--:--"
    seconds = int(round(seconds))
    return f"eta {seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class ProgressReporter:
    """A rich progress bar over pages, with letters done, letters/s, ETA and the file being read;
    shown only when stderr is a terminal."""

    def __init__(self, console: Console, enabled: bool = True, clock=time.monotonic) -> None:
        self.console = console
        self.enabled = enabled and console.is_terminal
        self.progress: Progress | None = None
        self.task = None
        self.estimator = Estimator(clock)

    def __enter__(self) -> "ProgressReporter":
        if self.enabled:
            self.progress = Progress(
                TextColumn("[bold]letters[/bold] {task.fields[letters]}"),
                BarColumn(),
                TextColumn("pages {task.completed:.0f}/{task.total:.0f}"),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TextColumn("{task.fields[eta]}"),
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
            self.task = self.progress.add_task("ingest", total=max(state.pages, 1), letters="", rate="", eta="", current="")
        self.estimator.update(state)
        current = state.current if len(state.current) <= 60 else "..." + state.current[-57:]
        self.progress.update(
            self.task, total=max(state.pages, 1), completed=min(state.pages_done, max(state.pages, 1)),
            letters=f"{state.documents_done}/{state.documents}", rate=_rate_text(self.estimator.rate(state)),
            eta=_eta_text(self.estimator.seconds_left(state)), current=current.replace("[", r"\["),
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
    letters = f" ({summary.n_letters} letters)" if summary.n_letters > summary.n_documents else ""
    table = Table(title=f"ofsted-letters: {summary.n_documents} documents{letters} -> {summary.out_dir}", show_header=True)
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
