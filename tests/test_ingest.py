"""The run over many documents: every input a row, duplicates, cache, workers, crash safety."""
from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipeline import ingest as ingest_module
from pipeline.ingest import ingest
from pipeline.sources import find_inputs


@pytest.fixture()
def folder(tmp_path, seed_dir) -> Path:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    for p in Path(seed_dir).glob("*.txt"):
        shutil.copy(p, folder / p.name)
    shutil.copy(next(Path(seed_dir).glob("000_*.txt")), folder / "sub" / "copy_of_000.txt")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "junk.txt").write_bytes(bytes(range(256)) * 20)
    (folder / "press.txt").write_text("Press release\n\nThe council opens a new library on Monday. Residents are welcome.\n")
    (folder / "notes.docx").write_bytes(b"ignored: not a letter format")
    return folder


def test_discover_finds_letters_recursively_and_skips_other_files(folder, tmp_path):
    names = [Path(i.source).name for i in find_inputs([folder], tmp_path / "staging")]
    assert "copy_of_000.txt" in names and "notes.docx" not in names
    assert len(names) == 6


def test_every_input_gets_exactly_one_row_with_a_clear_status(folder, tmp_path):
    out = tmp_path / "out"
    summary = ingest([folder], out, workers=1)
    letters = pd.read_csv(out / "letters.csv", dtype=str, keep_default_na=False)
    assert len(letters) == 6 == summary.n_documents
    assert letters["letter_id"].is_unique
    status = dict(zip(letters["source_path"].map(lambda p: Path(p).name), letters["status"]))
    assert status["empty.txt"] == "failed"
    assert status["junk.txt"] == "failed"
    assert status["press.txt"] == "not_rating_letter"
    errors = pd.read_csv(out / "errors.csv", dtype=str)
    assert set(errors["error"]) >= {"empty", "binary"}
    assert all(errors["message"].str.len() > 10)


def test_same_bytes_twice_is_reported_as_a_duplicate(folder, tmp_path):
    out = tmp_path / "out"
    summary = ingest([folder], out, workers=1)
    letters = pd.read_csv(out / "letters.csv", dtype=str, keep_default_na=False).set_index("source_path")
    original = letters.loc[str(folder / "000_fab9377e44d3ba9b.txt")]
    copy = letters.loc[str(folder / "sub" / "copy_of_000.txt")]
    assert copy["duplicate_of"] == original["letter_id"]
    assert copy["letter_id"] != original["letter_id"]
    assert summary.duplicates == 1


def test_output_is_identical_whatever_the_number_of_workers(folder, tmp_path):
    ingest([folder], tmp_path / "one", workers=1)
    ingest([folder], tmp_path / "two", workers=2)
    for table in ("letters", "statistics", "fields", "segments"):
        assert (tmp_path / "one" / f"{table}.csv").read_bytes() == (tmp_path / "two" / f"{table}.csv").read_bytes()


def test_rerun_reuses_cached_documents_and_force_redoes_them(folder, tmp_path):
    out = tmp_path / "out"
    first = ingest([folder], out, workers=1)
    assert first.from_cache == 0
    again = ingest([folder], out, workers=1)
    assert again.from_cache == again.n_documents
    assert (out / "letters.csv").read_bytes() != b""
    forced = ingest([folder], out, workers=1, force=True)
    assert forced.from_cache == 0


def test_crash_mid_run_leaves_earlier_outputs_whole(folder, tmp_path, monkeypatch):
    out = tmp_path / "out"
    ingest([folder], out, workers=1)
    before = {p.name: p.read_bytes() for p in out.glob("*.csv")}

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ingest_module, "_mark_duplicate", boom)
    with pytest.raises(KeyboardInterrupt):
        ingest([folder], out, workers=1)
    assert {p.name: p.read_bytes() for p in out.glob("*.csv")} == before
    assert not list(out.glob(".parts-*"))


def test_a_bug_in_one_document_costs_one_row(folder, tmp_path, monkeypatch):
    from pipeline import process

    real = process.extract_letter

    def flaky(record, segments):
        if "Westminster" in record.text.text:
            raise RuntimeError("simulated extractor bug")
        return real(record, segments)

    monkeypatch.setattr(process, "extract_letter", flaky)
    out = tmp_path / "out"
    ingest([folder], out, workers=1)
    letters = pd.read_csv(out / "letters.csv", dtype=str, keep_default_na=False)
    westminster = letters[letters["source_path"].str.contains("002_")].iloc[0]
    assert westminster["status"] == "failed" and "simulated extractor bug" in westminster["issues"]
    assert (letters["status"] == "ok").sum() == 2


@pytest.mark.ocr
def test_a_long_scan_is_ocrd_one_page_a_task_with_the_same_rows(generated, tmp_path, monkeypatch, caplog):
    from pipeline.read import ocr_available

    if not ocr_available():
        pytest.skip("Tesseract is not installed")
    scan = next(e for e in generated["manifest"]["files"] if e["kind"] == "scan")
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(generated["dir"] / scan["file"], folder / "scan.pdf")
    pages_back: list[tuple[int, int]] = []
    real = ingest_module.ParallelRun._on_page

    def counting(self, future, key):
        pages_back.append(key)
        return real(self, future, key)

    monkeypatch.setattr(ingest_module.ParallelRun, "_on_page", counting)
    seen: dict[int, list] = {2: [], 1: []}
    with caplog.at_level(logging.INFO, logger="ofsted_letters"):
        ingest([folder], tmp_path / "two", workers=2, progress=lambda state: seen[2].append(dataclasses.replace(state)))
        assert sorted(pages_back) == [(0, 1), (0, 2)]
        ingest([folder], tmp_path / "one", workers=1, progress=lambda state: seen[1].append(dataclasses.replace(state)))
    for table in ("letters", "statistics", "fields", "segments"):
        assert (tmp_path / "one" / f"{table}.csv").read_bytes() == (tmp_path / "two" / f"{table}.csv").read_bytes()
    for states in seen.values():
        # the bar moves page by page while the scan is read, naming it, before the document is done
        # (told again when the document is written, in input order, after it was counted as it finished)
        counts = [(s.pages_done, s.pages, s.documents_done) for s in states]
        assert [c for k, c in enumerate(counts) if not k or c != counts[k - 1]] == [(1, 2, 0), (2, 2, 0), (2, 2, 1)]
        assert "scan.pdf (OCR, page" in states[0].current and states[0].documents == 1
    lines = [r.getMessage() for r in caplog.records]
    assert sum("scan.pdf: page 1 OCR'd in" in line for line in lines) == 2
    document = [line for line in lines if "scan.pdf: " in line and "page(s)" in line]
    assert len(document) == 2 and all("pdf-ocr, 2 page(s)" in line and " ocr " in line and "extract " in line for line in document)


def test_workers_never_import_pandas_or_pyarrow():
    """Each worker would spend half a second importing them; only the writer needs them."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from pipeline import ingest\n"
        "ingest._init_worker()\n"
        "import pipeline.process, pipeline.rows\n"
        "print(sorted(m for m in ('pandas', 'pyarrow') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def _die_on_crash_files(path, **kwargs):
    """Stands in for process_file in forked workers: the process dies on files named crash*."""
    import os

    if Path(path).name.startswith("crash"):
        os._exit(70)
    return _real_process_file(path, **kwargs)


from pipeline.process import process_file as _real_process_file  # noqa: E402


@pytest.mark.skipif(sys.platform != "linux", reason="the stand-in reaches the workers by fork")
def test_a_document_that_kills_its_worker_gets_a_failed_row_and_the_run_goes_on(folder, tmp_path, monkeypatch):
    from pipeline import process

    (folder / "crash.txt").write_text("a file whose reader dies")
    expected = ingest([folder], tmp_path / "one", workers=1)
    monkeypatch.setattr(process, "process_file", _die_on_crash_files)
    summary = ingest([folder], tmp_path / "two", workers=2)
    letters = pd.read_csv(tmp_path / "two" / "letters.csv", dtype=str, keep_default_na=False)
    crashed = letters[letters["source_path"].str.endswith("crash.txt")].iloc[0]
    assert crashed["status"] == "failed" and "worker reading this file died" in crashed["issues"]
    others = letters[~letters["source_path"].str.endswith("crash.txt")]
    before = pd.read_csv(tmp_path / "one" / "letters.csv", dtype=str, keep_default_na=False)
    before = before[~before["source_path"].str.endswith("crash.txt")]
    assert others.reset_index(drop=True).equals(before.reset_index(drop=True))
    assert summary.n_documents == expected.n_documents == 7


def test_an_archive_is_ingested_as_a_folder_with_refusals_as_rows(tmp_path, seed_dir):
    import zipfile

    seeds = sorted(Path(seed_dir).glob("*.txt"))
    archive = tmp_path / "letters.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("2009/bromley.txt", seeds[0].read_bytes())
        zf.writestr("2010/westminster.txt", seeds[1].read_bytes())
        zf.writestr("../outside.txt", b"Dear Sir, this member climbs out of the archive.")
        zf.writestr("2010/bomb.txt", b" " * (8 << 20))
        zf.writestr("notes/readme.md", b"not a letter")
        zf.writestr("notes/photo.jpg", os.urandom(1 << 20))
    out = tmp_path / "out"
    summary = ingest([archive], out, workers=1, exclude=("*westminster*",))
    letters = pd.read_csv(out / "letters.csv", dtype=str, keep_default_na=False).set_index("source_path")
    assert sorted(letters.index) == [f"{archive}/../outside.txt", f"{archive}/2009/bromley.txt", f"{archive}/2010/bomb.txt"]
    assert letters.loc[f"{archive}/2009/bromley.txt", "status"] == "ok"
    assert letters.loc[f"{archive}/2009/bromley.txt", "authority_name"] == "Bromley"
    errors = pd.read_csv(out / "errors.csv", dtype=str).set_index("source_path")
    assert errors.loc[f"{archive}/../outside.txt", "error"] == "unsafe_path"
    assert errors.loc[f"{archive}/2010/bomb.txt", "error"] == "archive_bomb"
    assert letters.loc[f"{archive}/../outside.txt", "status"] == "failed" and "climbs out" in letters.loc[f"{archive}/../outside.txt", "issues"]
    documents = pd.read_csv(out / "documents.csv", dtype=str).set_index("letter_id")
    assert documents.loc[letters.loc[f"{archive}/2009/bromley.txt", "letter_id"], "source_path"] == f"{archive}/2009/bromley.txt"
    assert summary.n_documents == 3 and summary.by_status == {"ok": 1, "failed": 2}
    assert not list(out.glob(".archives-*")), "the staging folder is removed"
    again = ingest([archive], out, workers=1, exclude=("*westminster*",))
    assert again.from_cache == 1 and not list(out.glob(".archives-*"))


def test_pages_are_estimated_from_the_bytes_without_opening_the_pdf(tmp_path):
    from fpdf import FPDF
    from reportlab.pdfgen import canvas

    from pipeline.ingest import estimate_pages

    drawn = canvas.Canvas(str(tmp_path / "three.pdf"))
    for n in range(3):
        drawn.drawString(72, 720, f"page {n + 1}")
        drawn.showPage()
    drawn.save()
    fpdf = FPDF()
    for n in range(2):
        fpdf.add_page()
        fpdf.set_font("helvetica", size=12)
        fpdf.cell(text=f"page {n + 1}")
    fpdf.output(str(tmp_path / "two.pdf"))
    (tmp_path / "packed.pdf").write_bytes(b"%PDF-1.5\n1 0 obj << /Type /Pages /Kids [] /Count 7 >> endobj\n%%EOF")
    (tmp_path / "junk.pdf").write_bytes(b"not a pdf")
    (tmp_path / "letter.txt").write_text("Dear Sir")
    assert [estimate_pages(tmp_path / name) for name in ("three.pdf", "two.pdf", "packed.pdf", "junk.pdf", "letter.txt")] == [3, 2, 7, 1, 1]
    assert estimate_pages(None) == 1 and estimate_pages(tmp_path / "missing.pdf") == 1


def test_progress_counts_pages_and_corrects_the_estimate(tmp_path, seed_dir):
    """Text letters move the bar a document at a time; a PDF whose estimate was wrong is corrected when read."""
    folder = tmp_path / "in"
    folder.mkdir()
    for p in sorted(Path(seed_dir).glob("*.txt")):
        shutil.copy(p, folder / p.name)
    (folder / "odd.pdf").write_bytes(b"%PDF-1.4\n/Type /Page /Type /Page /Type /Page\ntruncated")
    states = []
    ingest([folder], tmp_path / "out", workers=1, progress=lambda state: states.append(dataclasses.replace(state)))
    assert states[0].pages == 5 and states[0].documents == 3
    # a document is told when its worker finishes it and again when it is written: the counts move once
    counts = [(s.documents_done, s.pages_done, s.pages) for s in states]
    assert [c for k, c in enumerate(counts) if k == 0 or c != counts[k - 1]] == [(1, 1, 5), (2, 2, 5), (3, 3, 3)]
    assert any(s.current.endswith("002_c8e38d5c7059abd6.txt") for s in states) and states[-1].current == ""


def _segfault_on_crash_files(path, **kwargs):
    """Stands in for process_file in forked workers: a segmentation fault, as PDFium can have on a damaged file."""
    import faulthandler
    import os
    import signal

    if Path(path).name.startswith("crash"):
        faulthandler.disable()  # pytest's, inherited by the fork: its dump of the fault would fill the test's output
        os.kill(os.getpid(), signal.SIGSEGV)
    return _real_process_file(path, **kwargs)


@pytest.mark.skipif(sys.platform != "linux", reason="the stand-in reaches the workers by fork")
def test_with_one_worker_a_segfault_costs_that_document_s_row_not_the_run(folder, tmp_path, monkeypatch):
    """Documents are read in a worker process even with --workers 1, so a crash in a native library is isolated."""
    from pipeline import process

    (folder / "crash.txt").write_text("a file whose reader dies")
    monkeypatch.setattr(process, "process_file", _segfault_on_crash_files)
    summary = ingest([folder], tmp_path / "out", workers=1)
    letters = pd.read_csv(tmp_path / "out" / "letters.csv", dtype=str, keep_default_na=False)
    crashed = letters[letters["source_path"].str.endswith("crash.txt")].iloc[0]
    assert crashed["status"] == "failed" and "worker reading this file died" in crashed["issues"]
    errors = pd.read_csv(tmp_path / "out" / "errors.csv", dtype=str, keep_default_na=False)
    assert "worker_crashed" in set(errors["error"])
    assert summary.n_documents == 7 and (letters["status"] == "ok").sum() == 3


def test_an_archive_holding_only_an_archive_of_letters_gets_its_rows(tmp_path, seed_dir):
    import io
    import zipfile

    from typer.testing import CliRunner

    from pipeline.cli import app

    seeds = sorted(Path(seed_dir).glob("*.txt"))
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("2009/a.txt", seeds[0].read_bytes())
        zf.writestr("2009/b.txt", seeds[1].read_bytes())
    outer = tmp_path / "outer.zip"
    with zipfile.ZipFile(outer, "w") as zf:
        zf.writestr("letters-2009.zip", inner.getvalue())
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["ingest", str(outer), "--out", str(out), "-w", "1", "-q"])
    assert result.exit_code == 0, result.output
    letters = pd.read_csv(out / "letters.csv", dtype=str)
    assert list(letters["source_path"]) == [f"{outer}/letters-2009.zip/2009/a.txt", f"{outer}/letters-2009.zip/2009/b.txt"]
    assert list(letters["status"]) == ["ok", "ok"]


def _hostile_pdfs(folder: Path, prefixes: list[str]) -> None:
    """Readable and damaged PDFs (a scan, a PDF with no pages after an encrypted one ...), named
    with the prefixes given so that a second folder can sort them in another order."""
    import random

    from fixtures import generate as gen
    from fixtures import hostile

    letter = hostile.letter_pdf(6)
    lines = ["Dear Mrs Pearson, the annual rating of children's services in Bromley."] * 6
    files = [("scan.pdf", gen.scan_pdf(hostile.letter_pdf(7), random.Random(7))), ("letter.pdf", letter),
             ("encrypted.pdf", hostile.encrypted_pdf()), ("zero.pdf", hostile.zero_page_pdf()),
             ("flipped.pdf", hostile.flip_bits(letter, random.Random(2), 30)), ("untyped.pdf", hostile.untyped_pages_pdf(lines)),
             ("unembedded.pdf", hostile.unembedded_font_pdf(lines)), ("beside_image.pdf", hostile.text_beside_page_image_pdf(lines))]
    folder.mkdir()
    for prefix, (name, data) in zip(prefixes, files):
        (folder / f"{prefix}_{name}").write_bytes(data)


def _tables(out: Path) -> dict[str, pd.DataFrame]:
    """letters, statistics and documents, source paths reduced to the file's name without its prefix, sorted by letter."""
    tables = {}
    for table in ("letters", "statistics", "documents"):
        frame = pd.read_csv(out / f"{table}.csv", dtype=str, keep_default_na=False)
        if "source_path" in frame:
            frame["source_path"] = frame["source_path"].map(lambda p: Path(p).name.split("_", 1)[1])
        tables[table] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return tables


@pytest.mark.ocr
def test_hostile_pdfs_give_the_same_tables_in_either_order_and_with_one_or_two_workers(tmp_path):
    from pipeline.read import ocr_available

    if not ocr_available():
        pytest.skip("Tesseract is not installed")
    forward = [f"{n:02d}" for n in range(8)]
    _hostile_pdfs(tmp_path / "forward", forward)
    _hostile_pdfs(tmp_path / "backward", forward[::-1])
    ingest([tmp_path / "forward"], tmp_path / "one", workers=1)
    ingest([tmp_path / "forward"], tmp_path / "two", workers=2)
    ingest([tmp_path / "backward"], tmp_path / "back", workers=1)
    for table in ("letters", "statistics", "documents"):
        assert (tmp_path / "one" / f"{table}.csv").read_bytes() == (tmp_path / "two" / f"{table}.csv").read_bytes(), table
    one, back = _tables(tmp_path / "one"), _tables(tmp_path / "back")
    for table in one:
        # which of two same-text documents is the copy follows path order, which the two folders reverse
        pd.testing.assert_frame_equal(one[table].drop(columns=["duplicate_of"], errors="ignore"),
                                      back[table].drop(columns=["duplicate_of"], errors="ignore"))
    letters = one["letters"].set_index("source_path")
    assert letters.loc["zero.pdf", "status"] == "failed" and letters.loc["encrypted.pdf", "status"] == "failed"
    assert letters.loc["untyped.pdf", "status"] != "failed" and letters.loc["beside_image.pdf", "status"] != "failed"
