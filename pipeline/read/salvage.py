"""PDFs PDFium cannot open or had to repair: pdfplumber (pdfminer) rebuilds what it can."""
from __future__ import annotations

import regex

from pipeline.limits import Limits
from pipeline.read.failures import check_page_count, pages_phrase
from pipeline.read.layout import Piece, drop_running_furniture, pieces_to_text
from pipeline.records import Page, ReadError


_STARTXREF = regex.compile(rb"startxref\s+(\d+)")


_XREF_AT = regex.compile(rb"\s*(xref|\d+\s+\d+\s+obj)")


def xref_damaged(data: bytes) -> bool:
    """Whether the last startxref fails to point at a cross-reference table or stream (PDFium then
    rebuilds it by scanning the file, silently)."""
    at = data.rfind(b"startxref")
    found = _STARTXREF.match(data, at) if at >= 0 else None
    if found is None:
        return True
    offset = int(found[1])
    return offset >= len(data) or not _XREF_AT.match(data[offset:offset + 64])


def salvage_pdf(data: bytes, error: ReadError, limits: Limits, warnings: list[str]) -> list[Page]:
    """The text of a PDF PDFium cannot open, from pdfplumber (pdfminer rebuilds a broken
    cross-reference table by scanning for objects); error is raised again if that finds nothing."""
    import io
    import logging

    import pdfplumber

    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # its warnings about the damage would go to stderr
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            check_page_count(len(pdf.pages), limits)
            pages = []
            for number, page in enumerate(pdf.pages, start=1):
                words = page.extract_words(keep_blank_chars=False, use_text_flow=False, x_tolerance=1.5)
                pieces = [Piece(w["x0"], w["x1"], w["top"], w["bottom"], w["text"]) for w in words]
                pages.append(Page(number, pieces_to_text(pieces), "pdfplumber"))
    except ReadError:
        raise
    except Exception:  # pdfminer gave up too: the PDFium message stands
        raise error from None
    if not any(p.text.strip() for p in pages):
        raise error
    unread = sum(not p.text.strip() for p in pages)
    detail = f"; {pages_phrase(unread)} with no text layer could not be OCR'd" if unread else ""
    warnings.append(f"repaired: PDFium could not open the PDF ({error.message}); pdfplumber recovered the text of {pages_phrase(len(pages) - unread)}{detail}")
    return drop_running_furniture(pages)
