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
