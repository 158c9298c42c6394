"""The same letters printed by every producer CI can run must read to the same fields and statistics.

Each producer is a real program: reportlab and fpdf2 (Python libraries), headless Chromium
(`--print-to-pdf`, Skia/PDF), Ghostscript's `ps2pdf` re-distilling a reportlab PDF, and Tesseract's
PDF renderer (a page image under an invisible OCR text layer). LibreOffice is not among them: it
is several hundred megabytes to install in CI for one more producer whose text layer PDFium reads
like any word processor's.
"""
from __future__ import annotations

import datetime as dt
import random
import shutil
from dataclasses import replace

import pytest

from fixtures import generate as gen
from pipeline.process import process_document
from pipeline.read import ocr_available

WHEN = dt.datetime(2010, 12, 14, 10, 31)
# a 2009 letter laid out with a letterhead column and bordered tables, a 2010 one with improvements
PLAN = [("Bromley", "2009", dt.date(2009, 12, 9), 3), ("Kent", "2010", dt.date(2010, 12, 3), 2)]


def _letters() -> list[gen.Letter]:
    authorities = {a["name"]: a for a in gen.load_authorities()}
    return [gen.build_letter(random.Random(f"producers:{i}"), authorities[name], fam, day, score, f"producer_{i}")
            for i, (name, fam, day, score) in enumerate(PLAN)]


def _style(producer: str) -> gen.PdfStyle:
    return replace(gen.PDF_ARCHETYPES[0], producer=producer, font="Helvetica", signature="none")


def reportlab(letter: gen.Letter) -> bytes:
    return gen.render_pdf(letter, _style("reportlab"), random.Random(1))[0]


def fpdf2(letter: gen.Letter) -> bytes:
    return gen.render_pdf(letter, _style("fpdf2"), random.Random(1))[0]


def chromium(letter: gen.Letter) -> bytes:
    running = (f"{letter.subject} - {letter.fields['authority_name']}", f"https://www.example.gov.uk/{letter.stem}.html {WHEN:%d/%m/%Y, %H:%M}", "Page ")
    return gen.browser_pdf(gen.render_html(letter, random.Random(1), running), WHEN)


def ps2pdf(letter: gen.Letter) -> bytes:
    return gen.ghostscript_pdf(reportlab(letter), WHEN)


def tesseract(letter: gen.Letter) -> bytes:
    return gen.ocr_layer_pdf(reportlab(letter), random.Random(1), clean=True, when=WHEN)


PRODUCERS = {
    "reportlab": (reportlab, None),
    "fpdf2": (fpdf2, None),
    "chromium": (chromium, "chromium" if gen.chromium() is None else None),
    "ps2pdf": (ps2pdf, "ps2pdf (ghostscript)" if shutil.which("ps2pdf") is None else None),
    "tesseract": (tesseract, "tesseract" if not ocr_available() else None),
}


def _values(record) -> tuple[dict, list[tuple]]:
    fields = {name: fv.value for name, fv in record.fields.items()}
    stats = [(s.text, s.kind, s.value, s.denominator, s.qualifier, s.subject, s.judgement) for s in record.statistics]
    return fields, stats


@pytest.fixture(scope="module")
def letters() -> list[gen.Letter]:
    return _letters()


@pytest.fixture(scope="module")
def reference(letters, tmp_path_factory) -> list[tuple[dict, list[tuple]]]:
    """What the plain text of each letter reads to: every producer must match it."""
    out = tmp_path_factory.mktemp("reference")
    values = []
    for letter in letters:
        data, _ = gen.render_text(letter, gen.TextStyle(), random.Random(1))
        path = out / f"{letter.stem}.txt"
        path.write_bytes(data)
        record = process_document(path)
        assert record.status == "ok", record.issues
        values.append(_values(record))
    return values


@pytest.mark.parametrize("producer", list(PRODUCERS))
def test_every_producer_gives_the_same_fields_and_statistics(producer, letters, reference, tmp_path):
    make, missing = PRODUCERS[producer]
    if missing:
        pytest.skip(f"{missing} is not installed")
    for letter, (fields, stats) in zip(letters, reference):
        path = tmp_path / f"{letter.stem}.pdf"
        path.write_bytes(make(letter))
        record = process_document(path)
        assert record.status == "ok", (producer, record.issues)
        got_fields, got_stats = _values(record)
        assert got_fields == fields, producer
        assert got_stats == stats, producer
        assert {k: record.value(k) for k in letter.fields} == letter.fields
        if producer == "tesseract":
            assert record.source_format == "pdf-ocr-layer"
            assert all(fv.method.startswith("ocr-layer+") for fv in record.fields.values())
        else:
            assert record.source_format == "pdf"
            # PDFium's own reading is good enough on every producer: no page needed the second reader
            assert not any(fv.method.startswith("pdfplumber+") for fv in record.fields.values()), producer
        if producer == "chromium":
            _second_reader_mends_boxes_read_one_by_one(path.read_bytes())


def _second_reader_mends_boxes_read_one_by_one(data: bytes) -> None:
    """A browser's boxes joined by their gaps alone break words apart ("Pe rfo rm s"): such a page
    reads badly, and pdfplumber's word layout, read in its place, reads well."""
    import pypdfium2 as pdfium

    from pipeline.read import best_reading, pdfium_pieces, pieces_to_text, text_quality

    pdf = pdfium.PdfDocument(data)
    try:
        page = pdf[0]
        by_gaps = pieces_to_text(pdfium_pieces(page, page.get_height(), merge=False))
    finally:
        pdf.close()
    assert text_quality(by_gaps).reads_badly
    text, reader = best_reading(data, 1, by_gaps)
    assert reader == "pdfplumber" and not text_quality(text).reads_badly
