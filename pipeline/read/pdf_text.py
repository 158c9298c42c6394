"""A PDF's text layer with positions: PDFium's text runs (a few milliseconds a page), or
pdfplumber's word layout (about 60 ms a page) where PDFium's text looks damaged or reads badly."""
from __future__ import annotations

from typing import Callable

import regex

from pipeline.read.failures import InternalError, raised_in_library
from pipeline.read.layout import Piece, pieces_to_text
from pipeline.read.quality import text_quality
from pipeline.records import ReadError


# how far into a file PDF readers look for the %PDF header (junk before it is skipped): a file
# named .pdf is searched this far, any other file only as far as PDFium itself looks
PDF_HEADER_WINDOW = 64 * 1024


PDF_HEADER_WINDOW_OTHER = 1024


# replacement and private-use characters: glyphs a PDF's font gave no Unicode for
_DAMAGED_CHAR = regex.compile(r"[\ufffd\ue000-\uf8ff]")


_TEXT_LINE = regex.compile(r"[^\r\n]+")


def pdf_header_offset(data: bytes, named_pdf: bool) -> int | None:
    """Where the %PDF header starts, as PDF readers look for it: anywhere in the first 64 KiB of a
    file named .pdf (mail headers or junk written before it), in the first 1 KiB of any other."""
    window = PDF_HEADER_WINDOW if named_pdf else PDF_HEADER_WINDOW_OTHER
    found = data.find(b"%PDF-", 0, window)
    if found < 0 and data[:window].lstrip().startswith(b"%PDF"):
        found = data.index(b"%PDF")
    return found if found >= 0 else None


# what PDFium's FPDF_GetLastError says after a load that failed (fpdfview.h)
_PDFIUM_LOAD_ERRORS = {1: "unknown error", 2: "file not found or could not be opened", 3: "not a PDF or damaged",
                       4: "password required or incorrect", 5: "unsupported security scheme", 6: "page not found or content error"}


def open_pdf(data: bytes):
    """A pypdfium2 document; ReadError if it is encrypted or damaged beyond opening.

    PDFium keeps state across documents in a process (its font caches, its last error), so the
    library is started afresh for each document (fresh_pdfium) and the document is loaded with
    PDFium's own call: pypdfium2 reports a document with no pages with the last error of whatever
    document failed before it, which made the same file `encrypted` in one run and `corrupt_pdf` in another.
    """
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    fresh_pdfium()
    raw = pdfium_c.FPDF_LoadMemDocument64(data, len(data), None)
    if not raw:  # the load failed, so the last error is this load's own
        code = pdfium_c.FPDF_GetLastError()
        if code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise ReadError("encrypted", "the PDF is password-protected: remove the password and read it again")
        reason = _PDFIUM_LOAD_ERRORS.get(code, f"error {code}")
        raise ReadError("corrupt_pdf", f"the PDF cannot be opened (damaged or truncated): PDFium: {reason}")
    pdf = pdfium.PdfDocument(raw)
    pdf._data_holder.append(data)  # PDFium reads the bytes in place: they live as long as the document
    if len(pdf) < 1:
        pdf.close()
        raise ReadError("corrupt_pdf", "the PDF cannot be opened (damaged or truncated): PDFium found no pages in it")
    return pdf


def fresh_pdfium() -> None:
    """Start PDFium afresh, so that a document reads the same whatever the process read before it
    (rendering a page fills PDFium's font caches, and the character boxes of a later document
    shifted with them). A few microseconds; skipped while any PDFium object is still open (a
    caller of the Python API may hold one), since restarting the library would close it."""
    from pypdfium2 import _library_scope
    from pypdfium2.internal import bases

    if any(ref() is not None for refs in bases.ObjectTracker.values() for ref in refs):
        return
    for refs in bases.ObjectTracker.values():
        refs.clear()
    _library_scope.destroy_lib()
    _library_scope.init_lib()


def page_draws_nothing(page) -> bool:
    """A page with no objects at all (no text, image or drawing) and no annotations (which render too)
    is blank: it is not rendered or OCR'd."""
    import pypdfium2.raw as pdfium_c

    return pdfium_c.FPDFPage_CountObjects(page.raw) == 0 and pdfium_c.FPDFPage_GetAnnotCount(page.raw) == 0


def pdfium_pieces(page, page_height: float, merge: bool = True) -> list[Piece]:
    """Text runs with boxes from PDFium, a handful of calls per line rather than one per character.

    PDFium's page text (one call) breaks lines; each line's boxes come from count_rects over
    its characters, and where a line has several boxes (table cells, a letterhead beside the
    address) the characters are split between them by bisecting on count_rects.
    """
    textpage = page.get_textpage()
    try:
        return _pdfium_pieces(textpage, page_height, merge)
    finally:
        textpage.close()


def _pdfium_pieces(textpage, page_height: float, merge: bool) -> list[Piece]:
    import pypdfium2.raw as pdfium_c

    text = textpage.get_text_range()

    def size_at(start: int, end: int) -> float | None:
        """The font size of the first character drawn between start and end."""
        first = next((i for i in range(start, end) if not text[i].isspace()), None)
        return None if first is None else round(pdfium_c.FPDFText_GetFontSize(textpage.raw, first), 2)

    pieces = []
    for line in _TEXT_LINE.finditer(text):
        start, end = line.start(), line.end()
        n = textpage.count_rects(start, end - start)
        rects = [textpage.get_rect(i) for i in range(n)]
        bounds = [start]
        for j in range(1, n):
            low, high = bounds[-1] - start + 1, end - start
            while low < high:
                mid = (low + high) // 2
                if textpage.count_rects(start, mid) > j:
                    high = mid
                else:
                    low = mid + 1
            bounds.append(start + low - 1)
        bounds.append(end)
        if merge:
            pieces.extend(_merge_runs(text, rects, bounds, page_height, size_at))
            continue
        for (left, bottom, right, top), a, b in zip(rects, bounds, bounds[1:]):
            if text[a:b].strip():
                pieces.append(Piece(left, right, page_height - top, page_height - bottom, text[a:b].strip(), size_at(a, b)))
    return pieces


def _merge_runs(text: str, rects: list[tuple[float, float, float, float]], bounds: list[int], page_height: float,
                size_at: Callable[[int, int], float | None] | None = None) -> list[Piece]:
    """One line's boxes merged into runs wherever they stand close together, each run's text as PDFium
    spaced it: a browser's PDF positions every few glyphs on their own, and rebuilding words from
    those boxes' gaps breaks them apart ("Pe rfo rm s"). Boxes far apart (table cells, a letterhead
    beside the address) stay separate pieces."""
    runs: list[list] = []
    for (left, bottom, right, top), a, b in zip(rects, bounds, bounds[1:]):
        if not text[a:b].strip():
            continue
        height = max(top - bottom, 0.1)
        if runs:
            run = runs[-1]
            gap = left - run[1]
            overlap = min(top, run[3]) - max(bottom, run[2])
            if -0.5 * height < gap < 2.2 * max(height, run[3] - run[2]) and overlap > 0.3 * min(height, run[3] - run[2]):
                run[6] += text[run[5]:b]
                run[1], run[2], run[3], run[5] = max(run[1], right), min(run[2], bottom), max(run[3], top), b
                continue
        runs.append([left, right, bottom, top, a, b, text[a:b]])
    return [Piece(x0, x1, page_height - top, page_height - bottom, " ".join(chunk.split()), size_at(a, b) if size_at else None)
            for x0, x1, bottom, top, a, b, chunk in runs]


def looks_damaged(pieces: list[Piece]) -> bool:
    """PDFium's runs are trusted unless their text carries replacement or private-use characters."""
    text = "".join([p.text for p in pieces])
    bad = len(_DAMAGED_CHAR.findall(text))
    return bool(text) and bad > 0.01 * len(text)


def pdfplumber_pieces(data: bytes, index: int) -> list[Piece] | None:
    """Words with boxes from pdfplumber's layout analysis: slower, and robust to odd fonts. None
    when pdfplumber cannot give the page (it parses the file on its own, and may find fewer pages
    than PDFium, or fail where PDFium did not): the caller keeps PDFium's reading."""
    import io
    import logging

    import pdfplumber

    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            if index >= len(pdf.pages):
                return None
            words = pdf.pages[index].extract_words(keep_blank_chars=False, use_text_flow=False, x_tolerance=1.5, extra_attrs=["size"])
    except Exception as exc:
        if not raised_in_library(exc):
            raise InternalError("read", exc) from exc
        return None
    return [Piece(w["x0"], w["x1"], w["top"], w["bottom"], w["text"], round(w["size"], 2)) for w in words]


def best_reading(data: bytes, number: int, text: str) -> tuple[str, str]:
    """PDFium's text of the page, or pdfplumber's word layout where PDFium's reads badly and
    pdfplumber's reads better; with the name of the reader whose text it is."""
    first = text_quality(text)
    if not first.reads_badly:
        return text, "pdfium"
    pieces = pdfplumber_pieces(data, number - 1)
    if pieces is None:
        return text, "pdfium"
    second = pieces_to_text(pieces)
    return (second, "pdfplumber") if text_quality(second).score > first.score else (text, "pdfium")
