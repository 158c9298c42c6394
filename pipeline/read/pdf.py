"""A PDF's pages in reading order: text pages from their text layer, scans through OCR, scans under
another program's OCR layer, blank pages marked blank; a PDF PDFium cannot open is salvaged."""
from __future__ import annotations

from typing import Mapping

from pipeline.limits import Limits, default_limits
from pipeline.read.failures import InternalError, check_page_count, library_failure, pages_phrase
from pipeline.read.layout import Piece, drop_running_furniture, pieces_to_text
from pipeline.read.ocr import OcrDeferred, OcrResult, ocr_available, ocr_page, ocr_resolution
from pipeline.read.ocr_image import with_image_parts
from pipeline.read.ocr_layer import is_ocr_layer, read_ocr_layer
from pipeline.read.pdf_text import best_reading, looks_damaged, open_pdf, page_draws_nothing, pdfium_pieces, pdfplumber_pieces
from pipeline.read.salvage import salvage_pdf, xref_damaged
from pipeline.records import Page, ReadError


# a page with fewer characters than this in its text layer is treated as a scan
MIN_PAGE_CHARS = 25


def read_pdf(
    data: bytes,
    *,
    ocr: str = "auto",
    layout: str = "auto",
    ocr_pages: Mapping[int, OcrResult] | None = None,
    defer_ocr: bool = False,
    limits: Limits | None = None,
    warnings: list[str] | None = None,
    as_read: list[Page] | None = None,
) -> list[Page]:
    """The PDF's pages; what was repaired or lowered on the way is appended to warnings, and the pages
    before running heads were dropped across them to as_read (not for a salvaged PDF)."""
    limits = limits or default_limits()
    warnings = warnings if warnings is not None else []
    try:
        pdf = open_pdf(data)
    except ReadError as exc:
        if exc.error != "corrupt_pdf":
            raise
        return salvage_pdf(data, exc, limits, warnings)
    ocr_pages = ocr_pages or {}
    opened: list = []
    try:
        check_page_count(len(pdf), limits)
        if xref_damaged(data):
            warnings.append("repaired: the PDF's cross-reference table is damaged; PDFium rebuilt it from the objects")
        raw_pages: list[list[Piece]] = []
        opened.extend(pdf)  # each page opened once: opening one costs about a millisecond
        for page in opened:
            height = page.get_height()
            raw_pages.append([] if ocr == "force" else pdfium_pieces(page, height))
        scans = [n for n, pieces in enumerate(raw_pages, start=1) if ocr != "off" and sum(len(p.text.strip()) for p in pieces) < MIN_PAGE_CHARS]
        blank = {n for n in scans if page_draws_nothing(opened[n - 1])}
        scans = [n for n in scans if n not in blank]
        for n in scans:
            note = ocr_resolution(opened[n - 1], n, limits)[1]
            if note:
                warnings.append(note)
        to_read = [n for n in scans if n not in ocr_pages]
        if to_read and not ocr_available():
            raise ReadError("ocr_unavailable", f"page {to_read[0]} is a scan (no text layer) and Tesseract is not installed: apt-get install tesseract-ocr tesseract-ocr-eng")
        if defer_ocr and len(to_read) > 1:
            raise OcrDeferred(to_read)
        pages: list[Page] = []
        part_carried = False  # the page before ended naming a part (the scale, the rating row) no picture followed
        for number, pieces in enumerate(raw_pages, start=1):
            if number in blank:
                pages.append(Page(number, "", "blank"))
                continue
            if number in scans:
                text, confidence, words = ocr_pages[number] if number in ocr_pages else ocr_page(opened[number - 1], limits=limits, number=number)
                pages.append(Page(number, text, "ocr", confidence, words))
                continue
            method = "pdfium"
            if layout == "full" or (layout == "auto" and looks_damaged(pieces)):
                second = pdfplumber_pieces(data, number - 1)
                if second is not None:  # else pdfplumber could not read the page: PDFium's text stands
                    pieces, method = second, "pdfplumber"
            if ocr != "off" and is_ocr_layer(opened[number - 1]):
                # an OCR layer is one positioned word at a time: each box is a word (or a scanner's speck)
                words = pieces_to_text(pdfium_pieces(opened[number - 1], opened[number - 1].get_height(), merge=False), word_gap=True)
                pages.append(read_ocr_layer(opened[number - 1], number, words, ocr_pages.get(number), limits))
                continue
            text = pieces_to_text(pieces)
            from_pieces = True
            if layout == "auto" and method == "pdfium":
                text, method = best_reading(data, number, text)
                from_pieces = method == "pdfium"
            image_text = ""
            if ocr != "off" and from_pieces and ocr_available():
                # a scale table or rating row pasted in as a picture is read where it stands
                text, image_text, part_carried = with_image_parts(opened[number - 1], text, pieces, part_carried)
            pages.append(Page(number, text, method, image_text=image_text))
    except (ReadError, OcrDeferred, InternalError):
        raise
    except Exception as exc:  # a library's failure on a damaged file; a bug of ours is an InternalError
        raise library_failure(exc, "the PDF could not be read") from exc
    finally:
        for page in opened:
            page.close()
        pdf.close()
    if not any(p.text.strip() for p in pages):
        # what was lowered or repaired on the way is part of why nothing was found
        raise ReadError("no_text", "; ".join([no_text_message(pages, ocr), *warnings]))
    if as_read is not None:
        as_read.extend(pages)
    return drop_running_furniture(pages)


def no_text_message(pages: list[Page], ocr: str) -> str:
    """Why a PDF gave no text, saying what was tried: blank pages, OCR off, or OCR that found nothing."""
    n_blank = sum(p.method == "blank" for p in pages)
    n_ocr = sum(p.method == "ocr" for p in pages)
    if ocr == "off":
        return "the PDF has no text layer and OCR is off (use --ocr auto)"
    if n_ocr == 0 and n_blank == len(pages):
        what = "the PDF's only page is blank" if n_blank == 1 else f"all {n_blank} pages of the PDF are blank"
        return f"{what}: nothing is drawn on {'it' if n_blank == 1 else 'them'} (or the content is damaged)"
    blanks = f"; {pages_phrase(n_blank)} blank" if n_blank else ""
    return f"OCR found no words on the {pages_phrase(n_ocr).replace('page', 'scanned page')} (blank or unreadable){blanks}"


def pdf_source_format(pages: list[Page]) -> str:
    """`pdf-ocr-layer` when a page is a scan with a text layer someone else's OCR made, `pdf-ocr` when
    a page had no text and Tesseract read it, else `pdf`."""
    methods = {p.method for p in pages}
    if methods & {"ocr-layer", "ocr-layer-reread"}:
        return "pdf-ocr-layer"
    return "pdf-ocr" if "ocr" in methods else "pdf"
