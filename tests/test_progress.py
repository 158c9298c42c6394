"""Feedback on long runs: a bar over pages naming the file being read, and a per-document log."""
from __future__ import annotations

import io
import logging
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.ingest import RunProgress, log
from pipeline.progress import ProgressReporter, start_logging, stop_logging


def test_the_bar_moves_by_pages_and_names_the_current_file() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=200, color_system=None)
    with ProgressReporter(console) as reporter:
        reporter.update(RunProgress(documents=3, pages=10, documents_done=1, pages_done=4, current="in/scan[1].pdf (OCR, page 3 of 8)"))
        task = reporter.progress.tasks[0]
        assert (task.total, task.completed) == (10, 4)
        reporter.progress.refresh()
        shown = screen.getvalue()
    assert "letters 1/3" in shown and "pages 4/10" in shown and "in/scan[1].pdf (OCR, page 3 of 8)" in shown


def test_no_bar_when_not_a_terminal() -> None:
    console = Console(file=io.StringIO(), force_terminal=False)
    with ProgressReporter(console) as reporter:
        reporter.update(RunProgress(documents=1, pages=1))
        assert reporter.progress is None


def test_logging_goes_to_the_console_and_a_file_and_is_removed_after(tmp_path: Path) -> None:
    screen = io.StringIO()
    handlers = start_logging(Console(file=screen, width=200), verbose=True, log_file=tmp_path / "logs" / "run.log")
    log.info("bromley.pdf: ok, pdf, 2 page(s), 0.120 s (read 0.100)")
    stop_logging(handlers)
    log.info("not logged anywhere")
    assert "bromley.pdf: ok" in screen.getvalue() and "not logged" not in screen.getvalue()
    text = (tmp_path / "logs" / "run.log").read_text(encoding="utf-8")
    assert "INFO bromley.pdf: ok, pdf, 2 page(s)" in text and "not logged" not in text
    assert not [h for h in logging.getLogger(log.name).handlers if h in handlers]


def test_verbose_and_log_give_each_documents_stages_and_timings(tmp_path: Path, seed_dir: Path) -> None:
    target = tmp_path / "run.log"
    result = CliRunner().invoke(app, ["ingest", str(seed_dir), "--out", str(tmp_path / "out"), "--workers", "1", "-q", "-v", "--log", str(target)])
    assert result.exit_code == 0, result.output
    lines = target.read_text(encoding="utf-8").splitlines()
    documents = [line for line in lines if "page(s)" in line]
    assert len(documents) == 2
    for line in documents:
        assert ": ok, txt, 1 page(s), " in line
        assert all(f"{stage} " in line for stage in ("read", "normalise", "segment", "extract", "validate"))
    assert "2 documents (0 reused from the cache, 0 refused), 2 to read: about 2 pages" in lines[0]
    assert "finished: 2 documents" in lines[-1]
    again = CliRunner().invoke(app, ["ingest", str(seed_dir), "--out", str(tmp_path / "out"), "--workers", "1", "-q", "--log", str(target)])
    assert again.exit_code == 0
    assert sum("reused from the cache" in line and "page(s)" in line for line in target.read_text(encoding="utf-8").splitlines()) == 2


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_no_rate_or_eta_until_there_is_a_measurement() -> None:
    from pipeline.progress import Estimator

    clock = FakeClock()
    estimator = Estimator(clock)
    state = RunProgress(documents=5, pages=10)
    estimator.update(state)
    assert estimator.rate(state) is None and estimator.seconds_left(state) is None
    clock.now += 0.5
    state.pages_done = state.documents_done = 1
    estimator.update(state)
    assert estimator.rate(state) is None and estimator.seconds_left(state) is None  # under a second: no measure yet
    clock.now += 1.0
    estimator.update(state)
    assert estimator.rate(state) is not None and estimator.seconds_left(state) is not None


def test_during_ocr_the_rate_and_eta_stay_plausible_and_steady() -> None:
    """50 text letters in 2 s on 2 workers, then a 12-page scan whose pages take 5 s each (one page
    every 2.5 s on 2 workers): the rate is never 0/s or hundreds a second once the scan is under
    way, and the ETA is within a factor of 2 of the truth and moves steadily down."""
    from pipeline.progress import Estimator

    clock = FakeClock()
    estimator = Estimator(clock)
    state = RunProgress(documents=51, pages=62, workers=2)
    for k in range(50):
        clock.now += 0.04
        state.pages_done = state.documents_done = k + 1
        estimator.update(state)
    etas, rates = [], []
    for page in range(1, 13):
        for _ in range(5):  # the display refreshes while the page is OCR'd
            clock.now += 0.5
            estimator.update(state)
            rate = estimator.rate(state)
            assert rate is not None and rate > 0
        state.pages_done += 1
        state.ocr_pages_done += 1
        state.ocr_seconds += 5.0
        state.ocr_pages_pending = 12 - page
        estimator.update(state)
        truth = (12 - page) * 2.5
        eta = estimator.seconds_left(state)
        assert eta is not None
        if page >= 2 and truth:
            assert truth / 2 <= eta <= truth * 2, (page, eta, truth)
        etas.append(eta)
        rates.append(estimator.rate(state))
    assert all(later <= earlier + 1e-9 for earlier, later in zip(etas, etas[1:]))  # never jumps up
    assert all(0.2 <= rate <= 2.0 for rate in rates[8:]), rates  # pages/s over the window: the scan's pace
    assert etas[-1] == 0.0


def test_a_slow_page_never_shows_zero_pages_a_second() -> None:
    from pipeline.progress import Estimator, _rate_text

    clock = FakeClock()
    estimator = Estimator(clock)
    state = RunProgress(documents=2, pages=3, workers=1)
    clock.now += 5
    state.pages_done = 1
    estimator.update(state)
    clock.now += 60  # a page that takes a minute
    estimator.update(state)
    assert estimator.rate(state) > 0 and _rate_text(estimator.rate(state)) == "0.0 pages/s"  # 1/65: shown to a tenth
    assert _rate_text(0.25) == "0.2 pages/s" and _rate_text(42.4) == "42 pages/s"


def test_letters_are_counted_as_they_finish_not_as_they_are_written() -> None:
    """The second letter finishing first moves the letters counter at once."""
    from pipeline.ingest import _Watch
    from pipeline.sources import Input

    seen: list[int] = []
    inputs = [Input(path=None, source=f"{n}.txt") for n in ("slow", "fast")]
    watch = _Watch(inputs, [0, 1], lambda state: seen.append(state.documents_done))
    rows = {"letters": [{"status": "ok"}], "documents": [{"pages": 1}]}
    watch.finished(1, rows)
    assert seen[-1] == 1 and watch.state.pages_done == 1
    watch.finished(0, rows)
    watch.document(0, rows, None, cached=False)
    watch.document(1, rows, None, cached=False)
    assert watch.state.documents_done == 2 and watch.state.pages_done == 2


def test_the_bar_shows_no_rate_or_eta_before_a_measurement() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=200, color_system=None)
    with ProgressReporter(console, clock=FakeClock()) as reporter:
        reporter.update(RunProgress(documents=3, pages=10))
        reporter.progress.refresh()
    assert "eta -:--:--" in screen.getvalue() and "/s" not in screen.getvalue()
