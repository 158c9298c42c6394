"""Hostile archives: every input one row with a clear reason, no hang, bounded memory and time, nothing left behind.

The hostile inputs are built in code by tests/fixtures/hostile.py. Runs that could hang if the
guarantee broke (a FIFO, a stuck document) are run in a subprocess with a generous timeout, so a
regression fails the test instead of stopping the suite. `make fuzz` runs the same invariants
over randomly damaged letters for as long as it is given.
"""
from __future__ import annotations

import os
import pickle
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from fixtures import hostile
from pipeline import ingest as ingest_module
from pipeline.ingest import ingest, output_lock
from pipeline.limits import limits_with
from pipeline.read import ocr_available, read_document
from pipeline.records import ReadError

ROOT = Path(__file__).resolve().parent.parent
linux_only = pytest.mark.skipif(sys.platform != "linux", reason="FIFOs, /proc and fork as Linux has them")
needs_ocr = pytest.mark.skipif(not ocr_available(), reason="Tesseract is not installed")
PEAK_MEMORY_MB = 500


def letters_of(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "letters.csv", dtype=str, keep_default_na=False)


def errors_of(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "errors.csv", dtype=str, keep_default_na=False)


def by_name(table: pd.DataFrame) -> dict[str, pd.Series]:
    return {Path(row.source_path).name: row for row in table.itertuples()}


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", *args]


# --------------------------------------------------------------------------- the hostile folder


@linux_only
@needs_ocr
def test_every_hostile_input_gets_one_row_with_its_reason_in_bounded_time_and_memory(tmp_path):
    cases = hostile.build_hostile(tmp_path / "in")
    out = tmp_path / "out"
    result, peak_mb, seconds = hostile.run_measured(cli("ingest", str(tmp_path / "in"), "--out", str(out), "--workers", "2", "--quiet"), timeout=300)
    assert result.returncode == 0, result.stderr
    letters, errors = letters_of(out), errors_of(out)
    names = sorted(p.name for p in (tmp_path / "in").iterdir())
    assert sorted(Path(p).name for p in letters["source_path"]) == names  # one row per input, FIFO and links included
    assert letters["letter_id"].is_unique
    rows = by_name(letters)
    kinds = {Path(row.source_path).name: row.error for row in errors.itertuples()}
    for case in cases:
        for name in case.files:
            row = rows[name]
            assert row.status in case.statuses, (name, row.status, row.issues)
            if case.error:
                assert kinds.get(name) == case.error, (name, kinds.get(name), row.issues)
            if case.issue:
                assert case.issue in row.issues, (name, row.issues)
    # unreadable paths are not copies of each other
    unreadable = [rows[n] for n in ("loop_a.pdf", "loop_b.pdf", "dangling.txt", "pipe.pdf")]
    assert all(not row.duplicate_of and not row.letter_id.startswith("-") for row in unreadable)
    assert peak_mb < PEAK_MEMORY_MB, f"peak memory {peak_mb:.0f} MB"
    assert seconds < 240
    assert not list(out.glob(".parts-*")) and not (out / ".scratch").exists()


# --------------------------------------------------------------------------- copies and the cache


@linux_only
def test_120_copies_are_processed_once_and_each_gets_a_row_in_every_run(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    data = hostile.letter_pdf(1)
    for i in range(120):
        (folder / f"copy_{i:03d}.pdf").write_bytes(data)
    for run, workers in enumerate((2, 1)):
        out = tmp_path / f"out{run}"
        summary = ingest([folder], out, workers=workers)
        letters = letters_of(out)
        first = letters.iloc[0]
        assert summary.processed == 1 and summary.duplicates == 119 and len(letters) == 120
        assert first["duplicate_of"] == "" and first["status"] in {"ok", "needs_review"}
        assert (letters["duplicate_of"].iloc[1:] == first["letter_id"]).all()
        assert letters["letter_id"].is_unique and (letters["status"] == first["status"]).all()
    again = ingest([folder], tmp_path / "out0", workers=2)
    assert again.processed == 0 and again.from_cache == 120 and again.duplicates == 119
    assert (tmp_path / "out0" / "letters.csv").read_bytes() == (tmp_path / "out1" / "letters.csv").read_bytes()


def test_cache_writers_never_share_a_temporary_file(tmp_path):
    target = tmp_path / "ab" / "entry.pickle"
    rows = {"letters": [{"letter_id": "x" * 16}]}
    failures: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(50):
                ingest_module._store(target, rows)
        except BaseException as exc:  # noqa: BLE001 - any failure is the test's finding
            failures.append(exc)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures and pickle.loads(target.read_bytes()) == rows
    assert not list(target.parent.glob("*.tmp"))


def test_a_cache_that_cannot_be_written_or_read_costs_only_its_entries(tmp_path, seed_dir):
    folder = tmp_path / "in"
    shutil.copytree(seed_dir, folder)
    out = tmp_path / "out"
    out.mkdir()
    (out / ".cache").write_text("a file where the cache folder should be")
    expected = ingest([folder], tmp_path / "expected", workers=1)
    summary = ingest([folder], out, workers=1)
    assert summary.n_documents == expected.n_documents and summary.by_status == expected.by_status
    (out / ".cache").unlink()
    ingest([folder], out, workers=1)
    entries = sorted((out / ".cache").rglob("*.pickle"))
    entries[0].write_bytes(b"not a pickle")
    again = ingest([folder], out, workers=1)
    assert again.from_cache == again.n_documents - 1 and again.processed == 1
    assert letters_of(out).equals(letters_of(tmp_path / "expected"))


# --------------------------------------------------------------------------- one run per output folder


def test_a_second_run_into_the_same_folder_is_refused_with_exit_code_5(tmp_path, seed_dir):
    from typer.testing import CliRunner

    from pipeline.cli import app
    from pipeline.errors import EXIT_BUSY

    out = tmp_path / "out"
    with output_lock(out):  # another run holds the folder
        result = CliRunner().invoke(app, ["ingest", str(seed_dir), "--out", str(out), "--quiet"])
        assert result.exit_code == EXIT_BUSY == 5
        assert f"error: another ingest (process {os.getpid()}) is writing to {out}\nwait for it to finish, or give another --out" in result.output
        assert not (out / "letters.csv").exists()
    result = CliRunner().invoke(app, ["ingest", str(seed_dir), "--out", str(out), "--quiet", "--workers", "1"])
    assert result.exit_code == 0 and (out / "letters.csv").exists()


# --------------------------------------------------------------------------- unreadable paths


@linux_only
def test_unreadable_paths_keep_stable_ids_from_their_path_and_are_nobody_s_duplicate(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    os.symlink("b.pdf", folder / "a.pdf")
    os.symlink("a.pdf", folder / "b.pdf")
    os.symlink("missing.txt", folder / "c.txt")
    os.mkfifo(folder / "d.txt")
    ids = []
    for run in range(2):
        ingest([folder], tmp_path / f"out{run}", workers=1)
        letters = letters_of(tmp_path / f"out{run}")
        assert (letters["status"] == "failed").all() and (letters["duplicate_of"] == "").all()
        assert letters["letter_id"].is_unique and letters["letter_id"].str.fullmatch(r"[0-9a-f]{16}").all()
        ids.append(list(letters["letter_id"]))
    assert ids[0] == ids[1]
    kinds = dict(zip(errors_of(tmp_path / "out0")["source_path"].map(lambda p: Path(p).name), errors_of(tmp_path / "out0")["error"]))
    assert kinds == {"a.pdf": "unreadable", "b.pdf": "unreadable", "c.txt": "unreadable", "d.txt": "not_a_regular_file"}


# --------------------------------------------------------------------------- limits


def _slow_on_slow_files(path, **kwargs):
    """Stands in for read_document in forked workers: a document named slow* takes far too long."""
    if Path(path).name.startswith("slow"):
        time.sleep(60)
    return _real_read_document(path, **kwargs)


def _stuck_on_stuck_files(path, **kwargs):
    """A document named stuck* hangs where no timer signal reaches (as in a library's C code)."""
    if Path(path).name.startswith("stuck"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(60)
    return _real_read_document(path, **kwargs)


_real_read_document = read_document


@linux_only
@pytest.mark.parametrize("workers", [1, 2])
def test_a_document_past_its_time_limit_gets_a_failed_row_and_the_run_goes_on(tmp_path, seed_dir, monkeypatch, workers):
    from pipeline import process

    folder = tmp_path / "in"
    shutil.copytree(seed_dir, folder)
    (folder / "slow.txt").write_text("a letter whose reading never ends")
    monkeypatch.setattr(process, "read_document", _slow_on_slow_files)
    started = time.monotonic()
    ingest([folder], tmp_path / "out", workers=workers, limits=limits_with(max_seconds=1))
    assert time.monotonic() - started < 30
    rows = by_name(letters_of(tmp_path / "out"))
    assert rows["slow.txt"].status == "failed" and "stopped after 1 s, the time limit for one document (--max-seconds)" in rows["slow.txt"].issues
    assert all(row.status == "ok" for name, row in rows.items() if name != "slow.txt")
    assert dict(zip(errors_of(tmp_path / "out")["source_path"].map(lambda p: Path(p).name), errors_of(tmp_path / "out")["error"]))["slow.txt"] == "time_limit"
    # a time limit depends on the machine as much as on the file: it is tried again next run
    assert not any("slow" in str(p) for p in (tmp_path / "out" / ".cache").rglob("*.pickle")) and len(list((tmp_path / "out" / ".cache").rglob("*.pickle"))) == len(rows) - 1


@linux_only
def test_a_worker_stuck_where_no_signal_reaches_is_ended_by_its_watchdog(tmp_path, seed_dir, monkeypatch):
    from pipeline import limits, process

    folder = tmp_path / "in"
    shutil.copytree(seed_dir, folder)
    (folder / "stuck.pdf").write_bytes(hostile.letter_pdf(2))
    monkeypatch.setattr(process, "read_document", _stuck_on_stuck_files)
    monkeypatch.setattr(limits, "HARD_STOP_GRACE_SECONDS", 1.0)
    started = time.monotonic()
    ingest([folder], tmp_path / "out", workers=2, limits=limits_with(max_seconds=1))
    assert time.monotonic() - started < 40
    rows = by_name(letters_of(tmp_path / "out"))
    assert rows["stuck.pdf"].status == "failed" and "stuck in a library call past the 1 s time limit, --max-seconds" in rows["stuck.pdf"].issues
    assert sum(row.status == "ok" for row in rows.values()) == len(rows) - 1


def test_rows_made_under_other_limits_are_redone_but_a_new_time_limit_keeps_the_cache():
    from pipeline.limits import default_limits

    base = default_limits().key()
    assert limits_with(max_seconds=5).key() == base
    assert {limits_with(max_pages=3).key(), limits_with(max_page_megapixels=4).key(), limits_with(max_file_mib=1).key()}.isdisjoint({base})


def test_page_cap_and_file_size_limits_name_the_option_they_met(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "three_pages.pdf").write_bytes(hostile.blank_pdf(3))
    (folder / "big.txt").write_bytes(b"Dear Sir\n" * 300_000)
    ingest([folder], tmp_path / "out", workers=1, limits=limits_with(max_pages=2, max_file_mib=1))
    rows = by_name(letters_of(tmp_path / "out"))
    assert "the PDF has 3 pages, over the limit of 2 pages for one letter (--max-pages)" in rows["three_pages.pdf"].issues
    assert "the file is 2.6 MiB, over the limit of 1 MiB for one letter (--max-file-mib)" in rows["big.txt"].issues


def test_limits_are_ingest_options(tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "three_pages.pdf").write_bytes(hostile.blank_pdf(3))
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--quiet", "--max-pages", "2"])
    assert result.exit_code == 0, result.output
    assert errors_of(tmp_path / "out")["error"].tolist() == ["too_many_pages"]
    help_text = CliRunner().invoke(app, ["ingest", "--help"], env={"COLUMNS": "200"}).output
    for option in ("--max-file-mib", "--max-pages", "--max-seconds", "--max-page-megapixels", "--render-memory-mib", "--min-ocr-dpi"):
        assert option in help_text


@needs_ocr
def test_an_oversized_page_is_rendered_at_a_lower_dpi_and_the_row_says_so(tmp_path):
    path = tmp_path / "poster.pdf"
    path.write_bytes(hostile.poster_pdf())
    doc = read_document(path, limits=limits_with(max_page_megapixels=4, min_ocr_dpi=50))
    assert any("OCR'd at 65 dpi instead of 200, to stay within 4 megapixels (--max-page-megapixels)" in w for w in doc.warnings)
    assert "civic" in doc.pages[0].text.lower()
    with pytest.raises(ReadError) as info:
        read_document(path, limits=limits_with(max_page_megapixels=4))
    assert info.value.error == "page_too_large" and "below the 100 dpi OCR needs (--min-ocr-dpi)" in info.value.message


def test_blank_pages_are_not_ocrd_and_the_message_says_they_are_blank(tmp_path, monkeypatch):
    from pipeline.read import pdf

    def no_ocr(*args, **kwargs):
        raise AssertionError("a blank page went to OCR")

    monkeypatch.setattr(pdf, "ocr_page", no_ocr)
    monkeypatch.setattr(pdf, "ocr_available", lambda: True)
    path = tmp_path / "blank.pdf"
    path.write_bytes(hostile.blank_pdf(12))
    with pytest.raises(ReadError) as info:
        read_document(path)
    assert info.value.error == "no_text" and info.value.message.startswith("all 12 pages of the PDF are blank")


@needs_ocr
def test_a_page_that_renders_blank_skips_tesseract_and_no_text_does_not_blame_a_text_layer(tmp_path, monkeypatch):
    from PIL import Image

    from pipeline.read import tesseract

    def no_tesseract(*args, **kwargs):
        raise AssertionError("a blank render went to Tesseract")

    monkeypatch.setattr(tesseract, "run_tesseract", no_tesseract)
    path = tmp_path / "white_scan.pdf"
    Image.new("L", (850, 1100), 255).save(path, "PDF", resolution=100.0)
    with pytest.raises(ReadError) as info:
        read_document(path)
    assert info.value.error == "no_text"
    assert info.value.message == "OCR found no words on the 1 scanned page (blank or unreadable)"


# --------------------------------------------------------------------------- salvage


def test_junk_before_the_header_is_skipped_within_64_kib_and_said(tmp_path):
    pdf = hostile.letter_pdf(3)
    near, far = tmp_path / "near.pdf", tmp_path / "far.pdf"
    near.write_bytes(b"From: archive@example.org\r\n" * 1500 + pdf)
    far.write_bytes(b"x" * (70 * 1024) + pdf)
    doc = read_document(near)
    assert doc.source_format == "pdf" and "Dear" in doc.pages[0].text
    assert doc.warnings == ["repaired: 40,500 bytes of junk before the %PDF header were skipped"]
    with pytest.raises(ReadError) as info:
        read_document(far)
    assert info.value.error == "corrupt_pdf" and "first 64 KiB" in info.value.message


def test_a_broken_cross_reference_table_is_rebuilt_and_said(tmp_path):
    path = tmp_path / "xref.pdf"
    pdf = hostile.letter_pdf(4)
    path.write_bytes(hostile.broken_xref(pdf))
    doc = read_document(path)
    assert "Dear" in doc.pages[0].text
    assert any("cross-reference table is damaged" in w for w in doc.warnings)
    (tmp_path / "good.pdf").write_bytes(pdf)
    assert read_document(tmp_path / "good.pdf").warnings == []


def test_pdfplumber_recovers_what_pdfium_cannot_open(tmp_path):
    from pipeline.read import salvage_pdf
    from pipeline.limits import default_limits

    pdf = hostile.letter_pdf(5)
    warnings: list[str] = []
    pages = salvage_pdf(pdf, ReadError("corrupt_pdf", "the PDF cannot be opened"), default_limits(), warnings)
    assert "Dear" in pages[0].text and pages[0].method == "pdfplumber"
    assert warnings and warnings[0].startswith("repaired: PDFium could not open the PDF (the PDF cannot be opened); pdfplumber recovered")
    with pytest.raises(ReadError, match="cannot be opened"):
        salvage_pdf(b"%PDF-1.4\n" + b"\x00garbage" * 50, ReadError("corrupt_pdf", "the PDF cannot be opened"), default_limits(), [])


# --------------------------------------------------------------------------- killed outright


def _two_workers(run: subprocess.Popen) -> set[int]:
    """The worker processes of a run started with --workers 2, once both are up (a minute at most)."""
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while time.monotonic() < deadline and len(workers) < 2:
        workers = _descendants(run.pid)
        time.sleep(0.05)
    assert len(workers) >= 2, "the workers never started"
    return workers


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    todo = [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*"):
            try:
                kids = {int(c) for c in (task / "children").read_text().split()}
            except OSError:
                continue
            todo.extend(kids - found)
            found |= kids
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@linux_only
def test_sigkill_of_the_run_ends_its_workers_and_the_next_run_cleans_up(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for seed in range(6):
        (folder / f"letter_{seed}.pdf").write_bytes(hostile.letter_pdf(10 + seed))
    out = tmp_path / "out"
    run = subprocess.Popen(cli("ingest", str(folder), "--out", str(out), "--workers", "2", "--quiet"), cwd=ROOT)
    try:
        workers = _two_workers(run)
    finally:
        run.kill()
        run.wait()
    killed = time.monotonic()
    while any(_alive(pid) for pid in workers) and time.monotonic() - killed < 15:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers), "workers outlived the run"
    assert list(out.glob(".parts-*")) or (out / ".scratch").exists()  # what SIGKILL leaves, for the next run
    (tmp_path / "small").mkdir()
    shutil.copy(folder / "letter_0.pdf", tmp_path / "small")
    ingest([tmp_path / "small"], out, workers=1)  # the lock died with the run
    assert not list(out.glob(".parts-*")) and not (out / ".scratch").exists()
    assert not list((out / ".cache").rglob("*.tmp"))


@linux_only
def test_sigterm_stops_the_run_as_ctrl_c_does_and_keeps_the_previous_dataset(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "letter_0.pdf").write_bytes(hostile.letter_pdf(20))
    out = tmp_path / "out"
    ingest([folder], out, workers=1)
    before = {p.name: p.read_bytes() for p in out.glob("*.csv")}
    for seed in range(1, 8):
        (folder / f"letter_{seed}.pdf").write_bytes(hostile.letter_pdf(20 + seed))
    run = subprocess.Popen(cli("ingest", str(folder), "--out", str(out), "--workers", "2", "--quiet"), cwd=ROOT,
                           stderr=subprocess.PIPE, text=True)
    try:
        workers = _two_workers(run)
        run.send_signal(signal.SIGTERM)
        _, stderr = run.communicate(timeout=30)
    finally:
        run.kill()
    assert run.returncode == 130 and stderr.strip().splitlines()[-1] == "interrupted", stderr
    stopped = time.monotonic()
    while any(_alive(pid) for pid in workers) and time.monotonic() - stopped < 15:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers)
    assert {p.name: p.read_bytes() for p in out.glob("*.csv")} == before


@linux_only
def test_tesseract_started_by_a_worker_gets_the_parent_death_signal(monkeypatch):
    """A worker killed mid-page takes its Tesseract with it (PR_SET_PDEATHSIG in the child)."""
    import pytesseract.pytesseract as tess

    monkeypatch.setattr(tess, "subprocess_args", tess.subprocess_args)
    ingest_module._tesseract_dies_with_worker()
    kwargs = tess.subprocess_args()
    probe = "import ctypes; v = ctypes.c_int(); ctypes.CDLL(None).prctl(2, ctypes.byref(v)); print(v.value)"  # 2 = PR_GET_PDEATHSIG
    child = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30, preexec_fn=kwargs["preexec_fn"])
    assert child.stdout.strip() == str(int(signal.SIGKILL))
    assert kwargs["stdin"] == subprocess.PIPE  # pytesseract's own arguments are kept


def test_library_warnings_go_to_the_run_log_not_stderr(capfd, caplog):
    import logging
    import warnings

    saved = {name: (list(logging.getLogger(name).handlers), logging.getLogger(name).propagate, logging.getLogger(name).level)
             for name in ingest_module.LIBRARY_LOGGERS}
    ingest_module.route_library_logs()  # as each worker does when it starts
    logging.getLogger("pdfminer").setLevel(logging.WARNING)  # reading with pdfplumber raises it to ERROR
    try:
        with caplog.at_level(logging.INFO, logger="ofsted_letters"):
            logging.getLogger("pdfminer.pdffont").warning("Could not get FontBBox from font descriptor")
            with warnings.catch_warnings():
                warnings.simplefilter("always")
                warnings.warn("a library's warning")
    finally:
        logging.captureWarnings(False)
        for name, (handlers, propagate, level) in saved.items():
            logging.getLogger(name).handlers[:] = handlers
            logging.getLogger(name).propagate = propagate
            logging.getLogger(name).setLevel(level)
    assert capfd.readouterr().err == ""
    lines = [r.getMessage() for r in caplog.records if r.name == "ofsted_letters"]
    assert any("pdfminer.pdffont: Could not get FontBBox" in line for line in lines)
    assert any("a library's warning" in line for line in lines)
