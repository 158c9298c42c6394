"""The read stage: encodings, PDFs from several producers in reading order, scans, and bad files."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.read import OcrDeferred, ocr_available, pieces_to_text, Piece, read_document
from pipeline.records import Page, ReadError

needs_ocr = pytest.mark.skipif(not ocr_available(), reason="Tesseract is not installed: apt-get install tesseract-ocr tesseract-ocr-eng")


def entries(generated, kind=None, fmt=None):
    return [e for e in generated["manifest"]["files"] if (kind is None or e["kind"] == kind) and (fmt is None or e["format"] == fmt)]


@pytest.mark.parametrize("encoding, newline", [("utf-8", "\n"), ("utf-8-sig", "\r\n"), ("cp1252", "\r\n"), ("latin-1", "\n")])
def test_text_encodings_and_line_ends(tmp_path, encoding, newline):
    text = newline.join(["Dear Mr O\u2019Connor" if encoding != "latin-1" else "Dear Mr O'Connor", "Caf\u00e9 provision is good."])
    path = tmp_path / "letter.txt"
    path.write_bytes(text.encode(encoding))
    page = read_document(path).pages[0]
    assert "\r" not in page.text and "Caf\u00e9" in page.text and "Connor" in page.text


@pytest.mark.parametrize("content, error", [
    (b"", "empty"), (b"  \n\t\n", "empty"), (bytes(range(256)) * 10, "binary"),
    (b"%PDF-1.4\n" + b"\x00garbage" * 50, "corrupt_pdf"),
])
def test_bad_files_are_clear_read_errors(tmp_path, content, error):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(ReadError) as info:
        read_document(path)
    assert info.value.error == error and len(info.value.message) > 10


def test_too_large_and_unsupported(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 2000)
    with pytest.raises(ReadError, match="over the"):
        read_document(big, max_bytes=1000)
    doc = tmp_path / "letter.docx"
    doc.write_bytes(b"PK\x03\x04 not a letter")
    with pytest.raises(ReadError) as info:
        read_document(doc)
    assert info.value.error == "unsupported"


def test_generated_bad_pdfs_fail_with_their_reason(generated):
    reasons = {}
    for e in entries(generated, "bad"):
        if e["expected_status"] != "failed" or e["format"] != "pdf":
            continue
        with pytest.raises(ReadError) as info:
            read_document(generated["dir"] / e["file"])
        reasons[e["reason"]] = info.value.error
    assert reasons.get("encrypted") == "encrypted"
    assert reasons.get("truncated") == "corrupt_pdf"


def test_pdfs_from_every_producer_read_in_reading_order(generated):
    """Whatever order the PDF stores its text in, the date comes before the salutation, the scale before the closing."""
    pdfs = entries(generated, "pdf")
    assert {e["variant"]["producer"] for e in pdfs} >= {"reportlab", "fpdf2"}
    for e in pdfs:
        doc = read_document(generated["dir"] / e["file"])
        text = "\n".join(p.text for p in doc.pages)
        assert doc.source_format == "pdf"
        scale = re.search(r"four.point scale", text)
        assert scale and text.index("Dear") < scale.start() < text.index("section 138"), e["file"]
        assert "Page 1 of" not in text


def test_fast_path_gives_the_same_text_as_the_full_layout(generated):
    for e in entries(generated, "pdf")[:4]:
        path = generated["dir"] / e["file"]
        fast = " ".join(" ".join(p.text for p in read_document(path, layout="fast").pages).split())
        full = " ".join(" ".join(p.text for p in read_document(path, layout="full").pages).split())
        assert re.sub(r"\W", "", fast) == re.sub(r"\W", "", full), e["file"]


def test_table_cells_become_tab_separated_and_wrapped_cells_rejoin():
    row = [Piece(50, 56, 100, 110, "4"), Piece(80, 130, 100, 110, "Performs"), Piece(200, 420, 100, 110, "An organisation that significantly exceeds")]
    wrapped = [Piece(80, 130, 112, 122, "excellently"), Piece(200, 300, 112, 122, "minimum requirements")]
    text = pieces_to_text(row + wrapped)
    assert text == "4\tPerforms excellently\tAn organisation that significantly exceeds minimum requirements"


def test_letterhead_block_beside_nothing_keeps_its_lines():
    pieces = [Piece(400, 480, 20, 28, "Aviation House"), Piece(400, 470, 30, 38, "125 Kingsway"), Piece(50, 140, 80, 90, "9 December 2009")]
    assert pieces_to_text(pieces).split("\n") == ["Aviation House", "125 Kingsway", "", "9 December 2009"]


def test_scan_without_tesseract_is_a_clear_failure(generated, monkeypatch):
    from pipeline.read import pdf

    monkeypatch.setattr(pdf, "ocr_available", lambda: False)
    scan = entries(generated, "scan")[0]
    with pytest.raises(ReadError) as info:
        read_document(generated["dir"] / scan["file"])
    assert info.value.error == "ocr_unavailable" and "apt-get install tesseract-ocr" in info.value.message


def test_scan_with_ocr_off_has_no_text(generated):
    scan = entries(generated, "scan")[0]
    with pytest.raises(ReadError) as info:
        read_document(generated["dir"] / scan["file"], ocr="off")
    assert info.value.error == "no_text"


@needs_ocr
def test_a_long_scan_can_be_handed_back_for_its_pages_to_be_ocrd_elsewhere(generated, monkeypatch):
    from pipeline.read import pdf

    scan = generated["dir"] / entries(generated, "scan")[0]["file"]
    with pytest.raises(OcrDeferred) as info:
        read_document(scan, defer_ocr=True)
    assert info.value.pages == [1, 2]

    def no_ocr_here(page):
        raise AssertionError("a page given in ocr_pages was OCR'd again")

    monkeypatch.setattr(pdf, "ocr_page", no_ocr_here)
    given = {1: ("Dear Ms Smith\nfirst page", 91.0, {"Smith": 93.0}), 2: ("second page", 88.5, {})}
    doc = read_document(scan, ocr_pages=given, defer_ocr=True)
    assert [(p.text, p.method, p.ocr_confidence) for p in doc.pages] == [
        ("Dear Ms Smith\nfirst page", "ocr", 91.0),
        ("second page", "ocr", 88.5),
    ]
    assert doc.pages[0].word_confidences == {"Smith": 93.0}


def test_deferring_ocr_leaves_text_pdfs_alone(generated):
    pdf = generated["dir"] / entries(generated, "pdf")[0]["file"]
    assert read_document(pdf, defer_ocr=True).pages == read_document(pdf).pages


@needs_ocr
@pytest.mark.ocr
def test_scan_is_read_by_ocr_with_confidence(generated):
    scan = entries(generated, "scan")[0]
    doc = read_document(generated["dir"] / scan["file"])
    assert doc.source_format == "pdf-ocr"
    assert all(p.method == "ocr" and p.ocr_confidence and p.ocr_confidence > 60 for p in doc.pages)
    assert re.search(r"four.point scale", " ".join(p.text for p in doc.pages))
    words = doc.pages[0].word_confidences
    assert words.get("Ofsted", 0) > 60 and all(0 <= c <= 100 for c in words.values())


def test_text_quality_tells_broken_and_glued_words_from_clean_text():
    from pipeline.read import text_quality

    clean = ("Children's services in Bromley perform well. The overall effectiveness of the large majority of inspected services "
             "and settings is good or outstanding, and the council works in partnership with others to improve outcomes for children.")
    broken = ("C h i l d re n 's s e rv i c e s i n B ro m l ey p e rfo rm we l l . Th e ove ra l l e ff e c t i ve n e s s of t h e "
              "l a rg e m a jo ri ty of i n s p e c te d s e rv i c e s i s g o o d")
    glued = ("Children'sservices inBromley performwell. Theoverall effectivenessof thelarge majorityof inspectedservices "
             "andsettings isgood oroutstanding, andthe councilworks inpartnership withothers toimprove outcomesfor children.") * 2
    assert not text_quality(clean).reads_badly and text_quality(clean).fragments == 0
    assert text_quality(broken).reads_badly and text_quality(broken).fragments > 0.3
    assert text_quality(glued).reads_badly and text_quality(glued).known < 0.5
    assert text_quality(clean).score > text_quality(glued).score > text_quality(broken).score
    # a short page is not judged
    assert not text_quality("Pe rfo rm s").reads_badly


def _reportlab_page(tmp_path, invisible: bool, image: bool, name: str) -> Path:
    import io

    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    path = tmp_path / name
    c = canvas.Canvas(str(path), pagesize=(595, 842))
    if image:
        buf = io.BytesIO()
        Image.new("L", (300, 420), 250).save(buf, "PNG")
        c.drawImage(ImageReader(io.BytesIO(buf.getvalue())), 0, 0, width=595, height=842)
    text = c.beginText(72, 760)
    text.setTextRenderMode(3 if invisible else 0)
    for line in ["Children's services in Bromley perform well.", "Nine of the ten special schools are good or outstanding."] * 3:
        text.textLine(line)
    c.drawText(text)
    c.showPage()
    c.save()
    return path


def test_an_invisible_text_layer_over_a_page_image_is_read_as_ocr(tmp_path):
    layer = read_document(_reportlab_page(tmp_path, invisible=True, image=True, name="layer.pdf"))
    assert layer.source_format == "pdf-ocr-layer" and layer.pages[0].method == "ocr-layer"
    assert "special schools are good" in layer.pages[0].text
    # visible text over a background image (a letterhead template), and invisible text with no image, are plain PDFs
    for name, invisible, image in (("background.pdf", False, True), ("white-text.pdf", True, False)):
        document = read_document(_reportlab_page(tmp_path, invisible=invisible, image=image, name=name))
        assert document.source_format == "pdf" and document.pages[0].method == "pdfium", name


def test_pdfium_boxes_of_one_line_are_merged_as_pdfium_spaced_them():
    from pipeline.read.pdf_text import _merge_runs

    text = "Performs excellently\tAn organisation"
    # a browser positions a few glyphs at a time: boxes close together, gaps inside words
    rects = [(72, 700, 95, 710), (95.5, 700, 120, 710), (121, 700, 170, 710), (300, 700, 380, 710)]
    bounds = [0, 5, 9, 20, 36]
    pieces = _merge_runs(text, rects, bounds, 842)
    assert [p.text for p in pieces] == ["Performs excellently", "An organisation"]


@needs_ocr
def test_an_ocr_layer_that_reads_badly_is_read_again_and_the_better_reading_kept(tmp_path):
    import io

    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    from pipeline.read import open_pdf

    lines = ["Children's services in Bromley perform well.", "Nine of the ten special schools are good or outstanding.",
             "The council works in partnership with others to improve outcomes for children."] * 2
    clean = tmp_path / "clean.pdf"
    c = canvas.Canvas(str(clean), pagesize=(595, 842))
    for i, line in enumerate(lines):
        c.setFont("Helvetica", 12)
        c.drawString(72, 760 - 20 * i, line)
    c.save()
    pdf = open_pdf(clean.read_bytes())
    image = pdf[0].render(scale=300 / 72).to_pil()
    pdf.close()
    png = io.BytesIO()
    image.save(png, "PNG")
    layered = tmp_path / "bad-layer.pdf"
    c = canvas.Canvas(str(layered), pagesize=(595, 842))
    c.drawImage(ImageReader(io.BytesIO(png.getvalue())), 0, 0, width=595, height=842)
    text = c.beginText(72, 760)
    text.setTextRenderMode(3)
    for line in lines:
        # a bureau's OCR that broke every word apart
        text.textLine(" ".join(line[k:k + 2] for k in range(0, len(line), 2)))
    c.drawText(text)
    c.save()
    document = read_document(layered)
    assert document.source_format == "pdf-ocr-layer"
    page = document.pages[0]
    assert page.method == "ocr-layer-reread" and page.ocr_confidence is not None
    assert "special schools are good or outstanding" in page.text


# --------------------------------------------------------------------------- failures say what failed


LINES = ["Dear Mrs Pearson, the annual rating of children's services in Bromley.",
         "Nine of the ten special schools are good or outstanding, and the council performs well."]


@pytest.mark.parametrize("layout", ["full", "auto"])
def test_a_page_pdfplumber_does_not_see_keeps_pdfium_s_reading(tmp_path, layout, monkeypatch):
    """PDFium reads two pages that pdfplumber finds no page of: the second reading gives nothing, and
    PDFium's text stands (it used to raise IndexError and fail the file as corrupt)."""
    from fixtures import hostile
    from pipeline.read import TextQuality, pdf_text

    path = tmp_path / "untyped.pdf"
    path.write_bytes(hostile.untyped_pages_pdf(LINES))
    if layout == "auto":  # make the page read badly, so that the second reading is tried
        monkeypatch.setattr(pdf_text, "text_quality", lambda text: TextQuality(50, 0.1, 0.5))
    document = read_document(path, layout=layout)
    assert [p.method for p in document.pages] == ["pdfium", "pdfium"]
    assert "special schools are good" in document.pages[0].text


def test_our_own_bug_while_reading_is_an_internal_error_row_not_a_corrupt_file(tmp_path, monkeypatch):
    from fixtures import hostile
    from pipeline.read import pdf
    from pipeline.process import process_document

    path = tmp_path / "letter.pdf"
    path.write_bytes(hostile.untyped_pages_pdf(LINES))

    def broken(pieces, *args, **kwargs):
        return [][1]  # an IndexError raised in our own code

    monkeypatch.setattr(pdf, "pieces_to_text", broken)
    record = process_document(path)
    assert record.status == "failed"
    [error] = record.errors
    assert error["stage"] == "read" and error["error"] == "internal_error"
    assert "internal error in read (IndexError: list index out of range)" in error["message"] and "not a fault of the file" in error["message"]


def test_only_an_exception_raised_inside_a_pdf_library_is_the_file_s_fault():
    import io

    import pdfplumber

    from pipeline.read import raised_in_library

    try:
        with pdfplumber.open(io.BytesIO(b"%PDF-1.4\nnothing else")) as pdf:
            pdf.pages[0].extract_words()
    except Exception as exc:  # pdfminer's own parse error
        assert raised_in_library(exc)
    try:
        [][1]
    except IndexError as exc:
        assert not raised_in_library(exc)


# --------------------------------------------------------------------------- a reading with no words never wins


def test_a_reading_with_no_words_scores_below_any_reading_with_words():
    from pipeline.read import text_quality

    garbled = "Pe rfo rm s zq xv " * 20
    assert text_quality("").score < text_quality(garbled).score
    assert text_quality("   \n").score < text_quality("Qxz").score
    assert text_quality("").score < text_quality("the council").score


def test_best_reading_keeps_pdfium_s_text_when_the_second_reading_is_empty(monkeypatch):
    from pipeline.read import pdf_text

    monkeypatch.setattr(pdf_text, "pdfplumber_pieces", lambda data, index: [])
    garbled = " ".join(["zq", "xv", "pl"] * 20)
    assert pdf_text.best_reading(b"", 1, garbled) == (garbled, "pdfium")


def test_text_beside_a_page_sized_image_is_kept_when_the_image_reads_as_nothing(tmp_path):
    """A text layer that reads badly beside a blank page-sized image: re-reading the image finds
    nothing, and the text layer is kept (it used to lose to the empty reading and fail `no_text`)."""
    from fixtures import hostile
    from pipeline.read import read_ocr_layer

    words = "zqx brrf klmn wopp vvtt glarb snerk plonk".split()
    lines = [" ".join(words[(i + j) % 8] for j in range(8)) for i in range(8)]
    path = tmp_path / "image.pdf"
    path.write_bytes(hostile.text_beside_page_image_pdf(lines))
    document = read_document(path)
    assert document.source_format == "pdf-ocr-layer" and document.pages[0].method == "ocr-layer"
    assert "glarb snerk" in document.pages[0].text
    assert read_ocr_layer(None, 1, "\n".join(lines), ("", None, {})).method == "ocr-layer"


# --------------------------------------------------------------------------- the same answer whatever was read before


def test_a_pdf_with_no_pages_is_corrupt_whatever_failed_before_it(tmp_path):
    """pypdfium2 reported a document with no pages with PDFium's last error, left by the document
    that failed before it: after an encrypted PDF, an empty one was `encrypted` too."""
    from fixtures import hostile

    zero, locked = tmp_path / "zero.pdf", tmp_path / "locked.pdf"
    zero.write_bytes(hostile.zero_page_pdf())
    locked.write_bytes(hostile.encrypted_pdf())
    kinds = []
    for path in (zero, locked, zero, locked, zero):
        with pytest.raises(ReadError) as info:
            read_document(path)
        kinds.append(info.value.error)
    assert kinds == ["corrupt_pdf", "encrypted", "corrupt_pdf", "encrypted", "corrupt_pdf"]


def test_every_pdf_is_read_by_a_fresh_pdfium_with_nothing_left_open(tmp_path, monkeypatch):
    from fixtures import hostile
    from pypdfium2 import _library_scope
    from pypdfium2.internal import bases

    starts = []
    real = _library_scope.init_lib
    monkeypatch.setattr(_library_scope, "init_lib", lambda: (starts.append(1), real())[1])
    path = tmp_path / "letter.pdf"
    path.write_bytes(hostile.letter_pdf(3))
    for _ in range(3):
        read_document(path)
    assert len(starts) == 3
    # every page, text page and document was closed: nothing PDFium holds outlives a document
    assert not [ref for refs in bases.ObjectTracker.values() for ref in refs if ref() is not None]


def _rows_bytes(records) -> list[bytes]:
    import json

    from pipeline.rows import record_rows

    return [json.dumps(record_rows(r), sort_keys=True, default=str).encode() for r in records]


@needs_ocr
def test_documents_read_the_same_in_either_order_in_one_process(tmp_path):
    """Rendering a scan fills PDFium's caches and a failed load leaves its last error: neither may
    change how the next document reads. The same documents read in two orders in one process give
    the same rows, byte for byte."""
    import random

    from fixtures import generate as gen
    from fixtures import hostile
    from pipeline.process import process_document

    letter = hostile.letter_pdf(4)
    files = {
        "scan.pdf": gen.scan_pdf(hostile.letter_pdf(5), random.Random(5)),
        "letter.pdf": letter,
        "unembedded.pdf": hostile.unembedded_font_pdf(LINES * 8),
        "zero.pdf": hostile.zero_page_pdf(),
        "encrypted.pdf": hostile.encrypted_pdf(),
        "flipped.pdf": hostile.flip_bits(letter, random.Random(1), 30),
        "untyped.pdf": hostile.untyped_pages_pdf(LINES),
    }
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    forward = dict(zip(paths, _rows_bytes(process_document(p) for p in paths)))
    backward = dict(zip(reversed(paths), _rows_bytes(process_document(p) for p in reversed(paths))))
    assert forward == backward


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_unicode_text_as_windows_saves_it_is_read(encoding):
    from pipeline.read import decode_text

    text = "Dear Mrs Smith\r\n\r\nChildren\u2019s services in Kent perform well.\r\n"
    assert decode_text(text.encode(encoding)) == "Dear Mrs Smith\n\nChildren\u2019s services in Kent perform well.\n"


def test_nul_bytes_that_are_no_encoding_are_still_binary():
    from pipeline.read import decode_text

    with pytest.raises(ReadError):
        decode_text(b"PK\x03\x04\x00\x00\x08\x00" + bytes(range(256)) * 4)


def test_a_rating_row_opening_page_two_is_no_running_head():
    from pipeline.read import drop_running_furniture

    head = "Ofsted - children's services annual rating 2009 - Kent County Council"
    pages = [Page(1, f"{head}\n\n9 December 2009\n\nDear Mrs Smith\n\nChildren's services rating 2009"),
             Page(2, f"{head}\n\nChildren's services rating | Performs well (3)\n\nChildren's services in Kent perform well.\n\nYours sincerely")]
    second = drop_running_furniture(pages)[1].text
    assert head not in second and "Performs well (3)" in second
