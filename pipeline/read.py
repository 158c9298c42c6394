"""Read a letter file into pages of text in reading order: text files, PDFs, scanned PDFs.

PDF pages are rebuilt from the positions of their text, not the order the PDF stores it in:
PDFium gives text runs with boxes in a few milliseconds a page; pdfplumber's word layout
(about 60 ms a page) is used only where PDFium's text looks damaged; Tesseract reads pages
that have no text layer. Every failure becomes a ReadError whose message a person can act on.
"""
from __future__ import annotations

import codecs
import csv
import ctypes
import errno
import hashlib
import math
import os
import shutil
import stat
import statistics
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

import regex

from pipeline.config import DATA, compiled
from pipeline.limits import MIB, RENDER_BYTES_PER_PIXEL, Limits, default_limits, seconds_left, timed_out
from pipeline.records import Page, ReadError, SourceDocument

if TYPE_CHECKING:  # PIL and numpy are imported where a page is rendered, not when this module is
    import numpy as np
    from PIL import Image

TEXT_SUFFIXES = {".txt", ".text", ""}
# a page with fewer characters than this in its text layer is treated as a scan
MIN_PAGE_CHARS = 25
OCR_DPI = 300
# how far into a file PDF readers look for the %PDF header (junk before it is skipped): a file
# named .pdf is searched this far, any other file only as far as PDFium itself looks
PDF_HEADER_WINDOW = 64 * 1024
PDF_HEADER_WINDOW_OTHER = 1024
# a rendered page with fewer dark pixels than this share (once specks are averaged away) is blank
BLANK_INK_SHARE = 0.0001
_SPECIAL_FILES = [(stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                  (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder")]
# "Page 1 of 2", "- 2 -", "2/3"; OCR reads a 1 as "|", "l" or "I"
_PAGE_NUMBER = regex.compile(r"^[\s\W]*(page\s*)?(\d{1,3}|[\dIl|!]{0,3}\s*(of|/)\s*[\dIl|!]{1,3})[\s\W]*$", regex.IGNORECASE)


# replacement and private-use characters: glyphs a PDF's font gave no Unicode for
_DAMAGED_CHAR = regex.compile(r"[\ufffd\ue000-\uf8ff]")
_TEXT_LINE = regex.compile(r"[^\r\n]+")
_DIGITS = regex.compile(r"\d+")
# a bullet, "page", or a date: what a running head on page 2+ carries
_RUNNING_HEAD = regex.compile(r"[·|•]|\bpage\b|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}|\d{1,2}\s+\p{L}+\s+\d{4}", regex.IGNORECASE)


# what Tesseract gives for one page: its text, mean word confidence, best confidence of each word
OcrResult = tuple[str, "float | None", dict[str, float]]


class OcrDeferred(Exception):
    """Raised instead of OCR-ing a scan's pages in place, so a caller with a pool of workers can
    OCR them one page a task and read the document again with the results (`ocr_pages`)."""

    def __init__(self, pages: list[int]) -> None:
        super().__init__(f"pages {pages} need OCR")
        self.pages = pages


@dataclass
class Piece:
    """A run of text on one line and its box (points, top-left origin)."""

    x0: float
    x1: float
    top: float
    bottom: float
    text: str

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 0.1)


def ocr_available() -> bool:
    return shutil.which("tesseract") is not None


def check_regular_file(path: Path) -> None:
    """ReadError unless path is a regular file (or a link to one), found with stat alone: a FIFO,
    socket or device is never opened, since reading one can block for ever."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise _unreadable(Path(path), exc) from exc
    for test, what in _SPECIAL_FILES:
        if test(info.st_mode):
            raise ReadError("not_a_regular_file", f"the path is {what}, not a regular file: it was not opened")


def _unreadable(path: Path, exc: OSError) -> ReadError:
    """The reason a path cannot be opened, in words: a dangling link, a loop of links, no permission."""
    if path.is_symlink():
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        if isinstance(exc, FileNotFoundError):
            return ReadError("unreadable", f"the path is a symbolic link to {target!r}, which does not exist")
        if exc.errno == errno.ELOOP:
            return ReadError("unreadable", f"the path is a loop of symbolic links (it points to {target!r})")
    return ReadError("unreadable", f"cannot open the file: {exc.strerror or exc}")


def read_document(
    path: Path,
    *,
    ocr: str = "auto",
    layout: str = "auto",
    max_bytes: int | None = None,
    ocr_pages: Mapping[int, OcrResult] | None = None,
    defer_ocr: bool = False,
    limits: Limits | None = None,
) -> SourceDocument:
    """The document's pages of text; raises ReadError for input it cannot read.

    ocr_pages holds pages already OCR'd elsewhere (by page number). With defer_ocr, a PDF with
    two or more scanned pages not in ocr_pages raises OcrDeferred instead of OCR-ing them here.
    limits bound the work (defaults in data/limits.toml); max_bytes, if given, overrides the file size limit.
    """
    path = Path(path)
    limits = limits or default_limits()
    max_bytes = max_bytes if max_bytes is not None else limits.max_bytes
    check_regular_file(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ReadError("too_large", f"the file is {size / MIB:.1f} MiB, over the limit of {max_bytes / MIB:g} MiB for one letter (--max-file-mib)")
        data = path.read_bytes()
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    sha = hashlib.sha256(data).hexdigest()
    if not data.strip():
        raise ReadError("empty", "the file is empty" if not data else "the file holds only white space")
    header = pdf_header_offset(data, path.suffix.lower() == ".pdf")
    if header is not None:
        warnings: list[str] = []
        if data[:header].strip():
            warnings.append(f"repaired: {header:,} bytes of junk before the %PDF header were skipped")
        pages = read_pdf(data[header:], ocr=ocr, layout=layout, ocr_pages=ocr_pages, defer_ocr=defer_ocr, limits=limits, warnings=warnings)
        source_format = pdf_source_format(pages)
        return SourceDocument(path, source_format, sha, pages, warnings)
    if path.suffix.lower() == ".pdf":
        raise ReadError("corrupt_pdf", f"the file is named .pdf but is not a PDF (no %PDF header in its first {PDF_HEADER_WINDOW // 1024} KiB)")
    if path.suffix.lower() not in TEXT_SUFFIXES:
        raise ReadError("unsupported", f"files of type {path.suffix!r} are not read: give .txt or .pdf files")
    return SourceDocument(path, "txt", sha, [Page(1, decode_text(data), "text")])


def pdf_header_offset(data: bytes, named_pdf: bool) -> int | None:
    """Where the %PDF header starts, as PDF readers look for it: anywhere in the first 64 KiB of a
    file named .pdf (mail headers or junk written before it), in the first 1 KiB of any other."""
    window = PDF_HEADER_WINDOW if named_pdf else PDF_HEADER_WINDOW_OTHER
    found = data.find(b"%PDF-", 0, window)
    if found < 0 and data[:window].lstrip().startswith(b"%PDF"):
        found = data.index(b"%PDF")
    return found if found >= 0 else None


def wide_encoding(data: bytes) -> str | None:
    """UTF-32 or UTF-16, as Windows tools save "Unicode" text: by its byte-order mark, or, without one,
    by NUL bytes standing in every other place of a text that is mostly ASCII."""
    for bom, encoding in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return encoding
    sample = data[:4096]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def decode_text(data: bytes) -> str:
    """Text in UTF-32 or UTF-16 (with a byte-order mark, or recognised without one), UTF-8 (BOM or not),
    else cp1252, else latin-1; line ends (Windows, old Mac, Unix) made LF."""
    wide = wide_encoding(data)
    if wide is not None:
        try:
            data = data.decode(wide).lstrip("\ufeff").encode("utf-8")
        except UnicodeDecodeError:
            raise ReadError("binary", f"the file starts like {wide} text but does not decode as it") from None
    if b"\x00" in data[:65536]:
        raise ReadError("binary", "the file is binary (it holds NUL bytes), not text")
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\t\n\r\f" or 0x7F <= ord(ch) < 0xA0)
    if controls > 0.02 * min(len(text), 65536):
        raise ReadError("binary", "the file is not text: it is full of control characters (binary data named .txt?)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


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


class InternalError(Exception):
    """An exception raised by this program's own code while reading (a bug), not by a library
    parsing a damaged file: the document's row names it as an internal error, never as a corrupt file."""

    def __init__(self, stage: str, exc: BaseException) -> None:
        super().__init__(f"{type(exc).__name__}: {exc}")
        self.stage = stage
        self.original = exc


# the libraries whose exceptions, raised inside them, mean the file is damaged
_LIBRARY_PACKAGES = ("pypdfium2", "pdfplumber", "pdfminer", "PIL", "charset_normalizer")


def raised_in_library(exc: BaseException) -> bool:
    """Whether exc was raised inside a PDF library's code (it could not parse the file), rather than in ours."""
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:
        return False
    parts = Path(last.tb_frame.f_code.co_filename).parts
    return any(name in parts for name in _LIBRARY_PACKAGES)


def _library_failure(exc: Exception, what: str) -> ReadError:
    """A library's failure on a damaged file as a corrupt_pdf ReadError; our own bug as InternalError."""
    if not raised_in_library(exc):
        raise InternalError("read", exc) from exc
    return ReadError("corrupt_pdf", f"{what}: {type(exc).__name__}: {exc}")


def read_pdf(
    data: bytes,
    *,
    ocr: str = "auto",
    layout: str = "auto",
    ocr_pages: Mapping[int, OcrResult] | None = None,
    defer_ocr: bool = False,
    limits: Limits | None = None,
    warnings: list[str] | None = None,
) -> list[Page]:
    """The PDF's pages; what was repaired or lowered on the way is appended to warnings."""
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
        for number, pieces in enumerate(raw_pages, start=1):
            if number in blank:
                pages.append(Page(number, "", "blank"))
                continue
            if number in scans:
                text, confidence, words = ocr_pages[number] if number in ocr_pages else ocr_page(opened[number - 1], limits=limits, number=number)
                pages.append(Page(number, text, "ocr", confidence, words))
                continue
            method = "pdfium"
            if layout == "full" or (layout == "auto" and _looks_damaged(pieces)):
                second = pdfplumber_pieces(data, number - 1)
                if second is not None:  # else pdfplumber could not read the page: PDFium's text stands
                    pieces, method = second, "pdfplumber"
            if ocr != "off" and is_ocr_layer(opened[number - 1]):
                # an OCR layer is one positioned word at a time: each box is a word (or a scanner's speck)
                words = pieces_to_text(pdfium_pieces(opened[number - 1], opened[number - 1].get_height(), merge=False), word_gap=True)
                pages.append(read_ocr_layer(opened[number - 1], number, words, ocr_pages.get(number), limits))
                continue
            text = pieces_to_text(pieces)
            if layout == "auto" and method == "pdfium":
                text, method = best_reading(data, number, text)
            pages.append(Page(number, text, method))
    except (ReadError, OcrDeferred, InternalError):
        raise
    except Exception as exc:  # a library's failure on a damaged file; a bug of ours is an InternalError
        raise _library_failure(exc, "the PDF could not be read") from exc
    finally:
        for page in opened:
            page.close()
        pdf.close()
    if not any(p.text.strip() for p in pages):
        # what was lowered or repaired on the way is part of why nothing was found
        raise ReadError("no_text", "; ".join([no_text_message(pages, ocr), *warnings]))
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
    blanks = f"; {_pages(n_blank)} blank" if n_blank else ""
    return f"OCR found no words on the {_pages(n_ocr).replace('page', 'scanned page')} (blank or unreadable){blanks}"


def _pages(n: int) -> str:
    return "1 page" if n == 1 else f"{n:,} pages"


def check_page_count(n: int, limits: Limits) -> None:
    """The page cap, met before any page is read or OCR'd."""
    if n > limits.max_pages:
        raise ReadError("too_many_pages", f"the PDF has {n:,} pages, over the limit of {limits.max_pages} pages for one letter (--max-pages); a rating letter has 1-4")


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
    detail = f"; {_pages(unread)} with no text layer could not be OCR'd" if unread else ""
    warnings.append(f"repaired: PDFium could not open the PDF ({error.message}); pdfplumber recovered the text of {_pages(len(pages) - unread)}{detail}")
    return drop_running_furniture(pages)


def page_draws_nothing(page) -> bool:
    """A page with no objects at all (no text, image or drawing) and no annotations (which render too)
    is blank: it is not rendered or OCR'd."""
    import pypdfium2.raw as pdfium_c

    return pdfium_c.FPDFPage_CountObjects(page.raw) == 0 and pdfium_c.FPDFPage_GetAnnotCount(page.raw) == 0


def ocr_resolution(page, number: int, limits: Limits) -> tuple[float, str | None]:
    """The DPI to render a page at for OCR, and a note when it is lowered from OCR_DPI to keep the
    image within the pixel and memory limits; ReadError if that would go below min_ocr_dpi."""
    width, height = page.get_width(), page.get_height()
    pixels = (width * OCR_DPI / 72) * (height * OCR_DPI / 72)
    by_pixels = limits.max_page_megapixels * 1e6
    by_memory = limits.render_memory_mib * MIB / RENDER_BYTES_PER_PIXEL
    budget = min(by_pixels, by_memory)
    if pixels <= budget:
        return OCR_DPI, None
    dpi = math.floor(OCR_DPI * math.sqrt(budget / pixels))
    limit = (f"{limits.max_page_megapixels:g} megapixels (--max-page-megapixels)" if by_pixels <= by_memory
             else f"{limits.render_memory_mib:g} MiB of memory to render it (--render-memory-mib)")
    size = f"page {number} is {width / 72:.1f} x {height / 72:.1f} in"
    if dpi < limits.min_ocr_dpi:
        raise ReadError("page_too_large", f"{size}: to stay within {limit} it would be OCR'd at {dpi} dpi, below the {limits.min_ocr_dpi:g} dpi OCR needs (--min-ocr-dpi)")
    return dpi, f"{size}: OCR'd at {dpi} dpi instead of {OCR_DPI}, to stay within {limit}"


def blank_render(image: "Image.Image") -> bool:
    """Whether a rendered page has no ink once isolated specks are averaged away (3 x 3 boxes)."""
    import numpy as np

    small = np.asarray(image.convert("L").reduce(3))
    return bool((small < 128).mean() < BLANK_INK_SHARE)


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
    text = textpage.get_text_range()
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
            pieces.extend(_merge_runs(text, rects, bounds, page_height))
            continue
        for (left, bottom, right, top), a, b in zip(rects, bounds, bounds[1:]):
            if text[a:b].strip():
                pieces.append(Piece(left, right, page_height - top, page_height - bottom, text[a:b].strip()))
    return pieces


def _merge_runs(text: str, rects: list[tuple[float, float, float, float]], bounds: list[int], page_height: float) -> list[Piece]:
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
    return [Piece(x0, x1, page_height - top, page_height - bottom, " ".join(chunk.split())) for x0, x1, bottom, top, _, _, chunk in runs]


def pdf_source_format(pages: list[Page]) -> str:
    """`pdf-ocr-layer` when a page is a scan with a text layer someone else's OCR made, `pdf-ocr` when
    a page had no text and Tesseract read it, else `pdf`."""
    methods = {p.method for p in pages}
    if methods & {"ocr-layer", "ocr-layer-reread"}:
        return "pdf-ocr-layer"
    return "pdf-ocr" if "ocr" in methods else "pdf"


@dataclass(frozen=True)
class TextQuality:
    """How well a page's text reads: the share of its lower-case words found in the letters'
    vocabulary (words glued together, "ofthe", are not), and the share of its words that stand in
    runs of short non-words (words broken apart, "Pe rfo rm s")."""

    words: int
    known: float
    fragments: float

    @property
    def score(self) -> float:
        """Higher reads better; a text with no words scores below any text with words (-1 to 1)."""
        if not self.words:
            return NO_WORDS_SCORE
        return self.known - 2 * self.fragments

    @property
    def reads_badly(self) -> bool:
        return self.words >= QUALITY_MIN_WORDS and (self.fragments > QUALITY_MAX_FRAGMENTS or self.known < QUALITY_MIN_KNOWN)


# a page with fewer words than this is not judged (a short covering page, a signature page)
QUALITY_MIN_WORDS = 25
QUALITY_MAX_FRAGMENTS = 0.04
QUALITY_MIN_KNOWN = 0.7
# the score of a reading with no words: below the worst a reading with words can score (known 0, all fragments: -2)
NO_WORDS_SCORE = -3.0
_WORD = regex.compile(r"\p{L}+")


@lru_cache(maxsize=1)
def letter_vocabulary() -> frozenset[str]:
    """The words of the letters (pipeline/data/letter_words.txt) and of the authorities' names."""
    words = {ln.strip() for ln in (DATA / "letter_words.txt").read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")}
    with (DATA / "authorities.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            words.update(w.lower() for w in _WORD.findall(f"{row['name']} {row['aliases']}"))
    return frozenset(words)


def text_quality(text: str) -> TextQuality:
    """Measure a page's text (see TextQuality)."""
    vocabulary = letter_vocabulary()
    words = _WORD.findall(text)
    lower = [w for w in words if w[0].islower()]
    known = sum(w in vocabulary for w in lower) / len(lower) if lower else 1.0
    broken, run = 0, 0
    for word in words:
        if len(word) <= 3 and word.lower() not in vocabulary:
            run += 1
            broken += 2 if run == 2 else (1 if run > 2 else 0)
        else:
            run = 0
    return TextQuality(len(words), round(known, 3), round(broken / len(words), 3) if words else 0.0)


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


def is_ocr_layer(page) -> bool:
    """Whether the page is a scan under a text layer: text drawn invisibly (render mode 3, as
    Tesseract's and scanning bureaus' PDFs draw it) or hidden under an image that covers the page."""
    import pypdfium2.raw as pdfium_c

    width, height = page.get_width(), page.get_height()
    objects = [pdfium_c.FPDFPage_GetObject(page.raw, i) for i in range(pdfium_c.FPDFPage_CountObjects(page.raw))]
    kinds = [pdfium_c.FPDFPageObj_GetType(obj) for obj in objects]
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    full_image_at = -1
    for i, kind in enumerate(kinds):
        if kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            pdfium_c.FPDFPageObj_GetBounds(objects[i], left, bottom, right, top)
            if (right.value - left.value) * (top.value - bottom.value) >= 0.8 * width * height:
                full_image_at = i
                break
    # most pages have no page-sized image: their text objects need not be asked how they are drawn
    texts = [i for i, kind in enumerate(kinds) if kind == pdfium_c.FPDF_PAGEOBJ_TEXT]
    if full_image_at < 0 or not texts:
        return False
    invisible = sum(pdfium_c.FPDFTextObj_GetTextRenderMode(objects[i]) == pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE for i in texts)
    return invisible >= 0.8 * len(texts) or texts[0] < full_image_at


def read_ocr_layer(page, number: int, text: str, ocr_result: OcrResult | None, limits: Limits | None = None) -> Page:
    """A page whose text another program's OCR made: kept as OCR ("ocr-layer"), or read again with
    Tesseract when it reads badly, keeping whichever of the two reads better ("ocr-layer-reread")."""
    if not text_quality(text).reads_badly or (ocr_result is None and not ocr_available()):
        return Page(number, text, "ocr-layer")
    ocr_text, confidence, words = ocr_result or ocr_page(page, limits=limits, number=number)
    if text_quality(ocr_text).score > text_quality(text).score:
        return Page(number, ocr_text, "ocr-layer-reread", confidence, words)
    return Page(number, text, "ocr-layer")


def _looks_damaged(pieces: list[Piece]) -> bool:
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
            words = pdf.pages[index].extract_words(keep_blank_chars=False, use_text_flow=False, x_tolerance=1.5)
    except Exception as exc:
        if not raised_in_library(exc):
            raise InternalError("read", exc) from exc
        return None
    return [Piece(w["x0"], w["x1"], w["top"], w["bottom"], w["text"]) for w in words]


def ocr_pdf_page(path: Path, number: int, limits: Limits | None = None) -> OcrResult:
    """OCR one page of a PDF file: the task a worker runs for each page of a long scan."""
    data = Path(path).read_bytes()
    pdf = open_pdf(data[pdf_header_offset(data, True) or 0:])
    try:
        return ocr_page(pdf[number - 1], limits=limits, number=number)
    finally:
        pdf.close()


def ocr_page(page, limits: Limits | None = None, number: int = 1) -> OcrResult:
    """Tesseract's words for a rendered page, rebuilt into lines; the mean word confidence; and the
    best confidence each word was read with (names and titles are checked against it).

    The page is rendered at OCR_DPI, or lower for a page too large for the limits; a render with
    no ink is blank and not given to Tesseract. Tesseract is stopped at the document's time limit.
    """
    import pytesseract

    from pipeline.reread import OcrWords, kept_word, second_reading, word_key

    dpi, _ = ocr_resolution(page, number, limits or default_limits())
    rendered = page.render(scale=dpi / 72).to_pil()
    if blank_render(rendered):
        return "", None, {}
    image = prepare_scan(rendered)
    del rendered
    # Tesseract's OpenMP threads fight the pipeline's own workers for the cores; one thread is faster here
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    left = seconds_left()
    try:
        data = pytesseract.image_to_data(image, lang="eng", config="--psm 3", output_type=pytesseract.Output.DICT,
                                         timeout=0 if left is None else max(left, 0.5))
    except pytesseract.TesseractNotFoundError as exc:
        raise ReadError("ocr_unavailable", "Tesseract is not installed: apt-get install tesseract-ocr tesseract-ocr-eng") from exc
    except RuntimeError as exc:
        if left is not None and "timeout" in str(exc).lower():
            raise timed_out() from exc
        raise
    # lines the page reading lost and words it was unsure of, read again (pipeline/reread.py)
    left = seconds_left()
    data, rereads = second_reading(image, data, None if left is None else max(left, 0.5))
    scale = 72 / dpi
    pieces, confidences = [], []
    words: dict[str, float] = {}
    by_line: dict[tuple[int, int, int], list[Piece]] = {}
    for i, word in enumerate(data["text"]):
        conf = float(data["conf"][i])
        if not kept_word(word, conf):  # specks and scanner noise: low-confidence punctuation or fragments
            continue
        confidences.append(conf)
        key = word_key(word)
        words[key] = max(conf, words.get(key, 0.0))
        x, y, w, h = (data[k][i] * scale for k in ("left", "top", "width", "height"))
        piece = Piece(x, x + w, y, y + h, word)
        pieces.append(piece)
        by_line.setdefault((data["block_num"][i], data["par_num"][i], data["line_num"][i]), []).append(piece)
    # Tesseract's own lines follow a skewed scan where bands of equal height would not
    lines = sorted((sorted(ln, key=lambda p: p.x0) for ln in by_line.values()), key=lambda ln: statistics.median(p.top for p in ln))
    text = pieces_to_text(pieces, word_gap=True, lines=lines)
    return text, round(statistics.fmean(confidences), 1) if confidences else None, OcrWords(words, rereads)


def prepare_scan(image: "Image.Image") -> "Image.Image":
    """Grey, despeckled and straightened: what Tesseract reads best."""
    from PIL import Image, ImageFilter

    grey = image.convert("L").filter(ImageFilter.MedianFilter(3))
    angle = estimate_skew(grey)
    if abs(angle) > 0.05:
        grey = grey.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=255)
    return wipe_rules(grey)


def wipe_rules(grey: "Image.Image") -> "Image.Image":
    """Whiten the ruling lines of bordered tables and boxes, which Tesseract reads as text."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(grey).copy()
    rows = _ruled_lines(pixels, axis=1, length=pixels.shape[1] // 6)
    columns = _ruled_lines(pixels, axis=0, length=pixels.shape[0] // 10)
    pixels[rows, :] = 255
    pixels[:, columns] = 255
    return Image.fromarray(pixels)


def _ruled_lines(pixels: "np.ndarray", axis: int, length: int, band_pixels: int = 1 << 22) -> "np.ndarray":
    """Which rows (axis 1) or columns (axis 0) hold a dark run nearly `length` long: found a band of
    rows or columns at a time, so the working arrays stay a few MB however large the page."""
    import numpy as np

    n = pixels.shape[axis]
    across = pixels.shape[1 - axis]
    step = max(1, band_pixels // max(n, 1))
    ruled = np.zeros(across, dtype=bool)
    for start in range(0, across, step):
        band = pixels[start:start + step] if axis == 1 else pixels[:, start:start + step]
        runs = np.cumsum(band < 140, axis=axis, dtype=np.int32)
        if axis == 1:
            window = runs[:, length:] - runs[:, :n - length]
        else:
            window = runs[length:, :] - runs[:n - length, :]
        ruled[start:start + step] = (window >= 0.92 * length).any(axis=axis)
    return ruled


def estimate_skew(grey: "Image.Image", limit: float = 3.0, step: float = 0.1) -> float:
    """The rotation (degrees) that makes text lines horizontal: rows of ink are sharpest when level."""
    import numpy as np
    from PIL import Image

    small = grey.resize((max(grey.width // 3, 1), max(grey.height // 3, 1)))

    def sharpness(angle: float) -> float:
        ink = 255 - np.asarray(small.rotate(angle, resample=Image.NEAREST, fillcolor=255), dtype=np.float32)
        return float(np.var(ink.sum(axis=1)))

    coarse = max((i * 0.5 for i in range(int(-limit * 2), int(limit * 2) + 1)), key=sharpness)
    return max((coarse + i * step for i in range(-5, 6)), key=sharpness)


def _group_lines(pieces: list[Piece]) -> list[list[Piece]]:
    """Pieces that share a baseline band and do not overlap sideways form a line."""
    lines: list[list[Piece]] = []
    bands: list[list[float]] = []  # each line's [top, bottom], kept beside it rather than recomputed
    for piece in sorted(pieces, key=lambda p: (p.top, p.x0)):
        placed = False
        height = piece.height
        for k in range(len(lines) - 1, max(len(lines) - 5, -1), -1):
            line, band = lines[k], bands[k]
            top, bottom = band
            overlap = min(bottom, piece.bottom) - max(top, piece.top)
            if overlap < 0.5 * min(height, bottom - top):
                continue
            # a large wordmark beside small letterhead lines is not on any of them
            if not 0.5 <= height / max(bottom - top, 0.1) <= 2.0:
                continue
            if any(piece.x0 < p.x1 - 1 and p.x0 < piece.x1 - 1 for p in line):
                continue
            line.append(piece)
            band[0], band[1] = min(top, piece.top), max(bottom, piece.bottom)
            placed = True
            break
        if not placed:
            lines.append([piece])
            bands.append([piece.top, piece.bottom])
    for line in lines:
        line.sort(key=lambda p: p.x0)
    order = sorted(range(len(lines)), key=lambda k: bands[k][0])
    return [lines[k] for k in order]


def _median(values: list[float]) -> float:
    """statistics.median for the short lists here, without its generality's cost (it runs per line)."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _line_cells(line: list[Piece], word_gap: bool, size: float) -> list[list]:
    """The line as cells [x, text]: a gap wider than about two character heights (size) starts a new cell."""
    cells = [[line[0].x0, line[0].text]]
    for prev, piece in zip(line, line[1:]):
        gap = piece.x0 - prev.x1
        if gap > 2.2 * size:
            cells.append([piece.x0, piece.text])
        elif word_gap or gap > 0.15 * size:
            cells[-1][1] += " " + piece.text
        else:
            cells[-1][1] += piece.text
    return cells


def _continues_row(cells: list[list], row: list[list]) -> bool:
    """Whether this line is the wrapped end of the row above's cells: it sits under the row's later
    cells and reads as the middle of a phrase (lower case), not as a new row."""
    return len(row) > 1 and all(
        any(j > 0 and abs(x - row[j][0]) < 4 for j in range(len(row))) and text[:1].islower() for x, text in cells
    )


def pieces_to_text(pieces: list[Piece], word_gap: bool = False, lines: list[list[Piece]] | None = None) -> str:
    """Lines top to bottom, cells joined by TAB, a blank line where a new paragraph starts.

    A line whose text sits under the later cells of a table row (a wrapped label or
    description) is joined to those cells.
    """
    lines = lines if lines is not None else _group_lines(pieces)
    if not lines:
        return ""
    boxes = [(min([p.top for p in ln]), max([p.bottom for p in ln]), _median([p.height for p in ln])) for ln in lines]
    gaps = [b[0] - a[1] for a, b in zip(boxes, boxes[1:]) if b[0] - a[1] > 0]
    usual = statistics.median(gaps) if gaps else 0.0
    left = min([p.x0 for p in pieces])
    right = max([p.x1 for p in pieces])
    width = max(right - left, 1.0)
    out: list[str] = []
    row: list[list] = []
    prev_right = right
    for i, line in enumerate(lines):
        cells = _line_cells(line, word_gap, boxes[i][2])
        line_right = max([p.x1 for p in line])
        if i:
            gap = boxes[i][0] - boxes[i - 1][1]
            prev_text = out[-1]
            # a wide gap, or a short line that ends a sentence (paragraphs set without extra space)
            ended = prev_text.rstrip().endswith((".", ":", "?", "!")) and prev_right < right - 0.1 * width
            heading = prev_right - left < 0.6 * width and line_right - left > 0.85 * width and "\t" not in prev_text
            new_paragraph = gap > max(1.6 * usual, usual + 0.6 * boxes[i][2]) or ended or heading
            if gap < 1.2 * boxes[i][2] and _continues_row(cells, row):
                for x, text in cells:
                    j = min(range(1, len(row)), key=lambda k: abs(row[k][0] - x))
                    row[j][1] += " " + text
                out[-1] = "\t".join(t for _, t in row)
                continue
            if new_paragraph:
                out.append("")
        out.append("\t".join(t for _, t in cells))
        row = cells
        prev_right = line_right
    return "\n".join(out)


def drop_running_furniture(pages: list[Page]) -> list[Page]:
    """Remove page numbers and header/footer lines that repeat on several pages."""
    if len(pages) < 2:
        return [replace(p, text=_strip_page_numbers(p.text)) for p in pages]

    def key(line: str) -> str:
        return _DIGITS.sub("#", line.strip().lower())

    edges: dict[str, int] = {}
    for p in pages:
        lines = [ln for ln in p.text.split("\n") if ln.strip()]
        for line in set(lines[:2] + lines[-2:]):
            edges[key(line)] = edges.get(key(line), 0) + 1
    repeated = {k for k, n in edges.items() if n >= 2 and len(k) > 3}
    cleaned = []
    for p in pages:
        lines = p.text.split("\n")
        content = [i for i, ln in enumerate(lines) if ln.strip()]
        edge = set(content[:2] + content[-2:])
        kept = [ln for i, ln in enumerate(lines) if not (i in edge and key(ln) in repeated)]
        cleaned.append(_drop_continuation_header(replace(p, text=_strip_page_numbers("\n".join(kept)))))
    return cleaned


def _drop_continuation_header(page: Page) -> Page:
    """A short first line set apart on page 2+ ("Plymouth City Council · 08/12/2010") is a running head;
    never the letter's rating line, whose table cell a scan reads with a bar ("Children's services
    rating | Performs excellently (4)")."""
    lines = page.text.split("\n")
    content = [i for i, ln in enumerate(lines) if ln.strip()]
    if page.number < 2 or len(content) < 3:
        return page
    first = content[0]
    line = lines[first].strip()
    set_apart = first + 1 < len(lines) and not lines[first + 1].strip()
    furniture = _RUNNING_HEAD.search(line)
    if set_apart and len(line) < 80 and not line.endswith(".") and furniture and not compiled("segment", "rating_line").search(line):
        return replace(page, text="\n".join(lines[first + 1:]))
    return page


def _strip_page_numbers(text: str) -> str:
    lines = text.split("\n")
    content = [i for i, ln in enumerate(lines) if ln.strip()]
    drop = {i for i in content[:1] + content[-1:] if _PAGE_NUMBER.match(lines[i]) and len(content) > 3}
    return "\n".join(ln for i, ln in enumerate(lines) if i not in drop)
