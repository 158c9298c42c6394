"""Read a letter file into pages of text in reading order: text files, PDFs, scanned PDFs.

Every PDF page is rebuilt from the positions of its words, never from the order the PDF happens
to store them in. PDFium gives words with their boxes in a few milliseconds a page (the fast
path); pdfplumber's word layout and table finder (~60 ms a page) are used only on pages where
the fast path cannot be trusted (table rulings, text stored out of order, words whose letters
are scattered); Tesseract reads pages that have no text layer. The same layout rules then make
lines (top to bottom, words left to right), table rows (cells joined by TAB) and paragraphs (a
blank line between them) for all three, and page furniture (page numbers, running heads and
footers) is dropped. Every failure becomes a ReadError whose message says what to do.
"""
from __future__ import annotations

import codecs
import ctypes
import hashlib
import io
import os
import re
import shutil
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.records import Page, ReadError, SourceDocument

if TYPE_CHECKING:
    import pdfplumber.page
    import pypdfium2
    from PIL import Image

MAX_BYTES = 20 * 1024 * 1024
TEXT_SUFFIXES = {".txt", ".text", ""}
OCR_MODES = ("auto", "off", "force")
LAYOUT_MODES = ("auto", "fast", "full")
INSTALL_TESSERACT = "apt-get install tesseract-ocr tesseract-ocr-eng"
# a page with fewer visible characters than this, and a picture over much of it, is a scan
MIN_TEXT_CHARS = 25
MIN_IMAGE_COVER = 0.25
OCR_DPI = 300
# PDFium's loose character box is this many times the font size (1.0-1.17 across common fonts)
LOOSE_EM = 1.12
# a word box of big type (a wordmark) in a scan is about this many times the font size
OCR_EM = 0.72
# a horizontal gap wider than this many font sizes separates table cells (a TAB), not words
TAB_GAP = 1.0
# extra space between two lines, in font sizes beyond the page's usual line gap, that starts a paragraph
PARAGRAPH_GAP = 0.3
# share of the page height at the top and at the bottom where running heads and footers live
FURNITURE_ZONE = 0.12

_PAGE_NUMBER = re.compile(r"^\W*(?:page\s*)?\d{1,3}(?:\s*(?:of|/)\s*\d{1,3})?\W*$", re.IGNORECASE)
_PAGE_OF = re.compile(r"\bpage\s*\d{1,3}\s*(?:of|/)\s*\d{1,3}\b", re.IGNORECASE)
_CONTROL = {i: " " for i in range(32) if chr(i) not in "\t\n\r"} | {2: "-", 0x7F: " "}
_RULING_TOKEN = re.compile(r"^(?:[|_=~]+|[-\u2014\u2013]{3,})$")


def _cp1252_byte(error: UnicodeDecodeError) -> tuple[str, int]:
    """Decode a byte that is not UTF-8 as cp1252 (latin-1 for the five bytes cp1252 leaves out)."""
    byte = error.object[error.start:error.start + 1]
    try:
        return byte.decode("cp1252"), error.start + 1
    except UnicodeDecodeError:
        return byte.decode("latin-1"), error.start + 1


codecs.register_error("ofsted-cp1252", _cp1252_byte)


@dataclass
class Word:
    """A word and its box in points, origin at the top left of the page as displayed."""

    x0: float
    x1: float
    top: float
    bottom: float
    text: str
    size: float = 0.0  # font size in points; 0 takes the box height

    def __post_init__(self) -> None:
        if self.size <= 0:
            self.size = max(self.bottom - self.top, 1.0)


@dataclass
class Line:
    """Words sharing a baseline, as cells [x0, x1, text] split where the gap is wide."""

    words: list[Word]
    top: float
    bottom: float
    size: float
    cells: list[list] = field(default_factory=list)
    fixed: bool = False  # a row from pdfplumber's table finder: its cells are final
    right: float = 0.0  # the right edge of the words so far, while the line is being built

    @property
    def x0(self) -> float:
        return self.cells[0][0]

    @property
    def x1(self) -> float:
        return max(c[1] for c in self.cells)

    @property
    def row(self) -> bool:
        return len(self.cells) > 1

    @property
    def text(self) -> str:
        return "\t".join(c[2] for c in self.cells)


@dataclass
class PageLayout:
    """One page's lines before furniture is removed, and how they were read."""

    number: int
    lines: list[Line]
    width: float
    height: float
    method: str
    ocr_confidence: float | None = None


def file_sha256(path: Path) -> str:
    """The content hash letter_ids and the cache are keyed on."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ocr_available() -> bool:
    """Whether Tesseract can be run: scanned pages need it."""
    try:
        import pytesseract
    except ImportError:
        return False
    return shutil.which(pytesseract.pytesseract.tesseract_cmd) is not None


def read_document(path: Path, *, ocr: str = "auto", layout: str = "auto", max_bytes: int = MAX_BYTES) -> SourceDocument:
    """The document's pages of text in reading order; raises ReadError (and nothing else) for a file it cannot read.

    ocr: "auto" reads pages without a text layer with Tesseract, "off" never, "force" every page.
    layout: "auto" takes PDFium's words unless a page needs pdfplumber, "fast" PDFium only, "full" pdfplumber only.
    """
    if ocr not in OCR_MODES:
        raise ValueError(f"ocr must be one of {OCR_MODES}, not {ocr!r}")
    if layout not in LAYOUT_MODES:
        raise ValueError(f"layout must be one of {LAYOUT_MODES}, not {layout!r}")
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ReadError("too_large", f"the file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit for one letter: check it is a letter, or raise the limit")
        data = path.read_bytes()
    except OSError as exc:
        raise ReadError("unreadable", f"cannot open the file: {exc.strerror or exc}") from exc
    sha = hashlib.sha256(data).hexdigest()
    suffix = path.suffix.lower()
    if not data:
        raise ReadError("empty", "the file is empty (0 bytes): there is nothing to read")
    if b"%PDF-" in data[:1024]:
        pages, warnings = read_pdf(data, ocr=ocr, layout=layout)
        source_format = "pdf-ocr" if any(p.method == "ocr" for p in pages) else "pdf"
        return SourceDocument(path, source_format, sha, pages, warnings)
    if suffix == ".pdf":
        raise ReadError("corrupt_pdf", "the file is named .pdf but is not a PDF (it does not start with %PDF-): it may be an HTML error page or another format saved as .pdf")
    if suffix not in TEXT_SUFFIXES:
        raise ReadError("unsupported", f"files of type {suffix!r} are not read: save the letter as .txt or .pdf")
    text = decode_text(data)
    if not text.strip():
        raise ReadError("empty", "the file holds only white space: there is no text to read")
    return SourceDocument(path, "txt", sha, [Page(1, text, "text")])


def decode_text(data: bytes) -> str:
    """Text in UTF-8 (with or without BOM) or UTF-16 with BOM; bytes that are not UTF-8 are read as cp1252
    (else latin-1), one by one, so a UTF-8 file with a few pasted Windows characters keeps both. Line ends made LF.

    Raises ReadError("binary") for bytes that are not text at all.
    """
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ReadError("binary", "the file starts like UTF-16 text but does not decode as it: save the letter again as UTF-8 text") from exc
    elif b"\x00" in data:
        raise ReadError("binary", "the file is not text (it holds NUL bytes): it may be a Word document or an image renamed .txt; save the letter as plain text or PDF")
    else:
        text = data.decode("utf-8-sig", errors="ofsted-cp1252")
    sample = text[:65536]
    controls = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\n\r\f\v") or 0x7F <= ord(ch) < 0xA0)
    if controls > max(2, 0.01 * len(sample)):
        raise ReadError("binary", "the file is not text (it is full of control characters): it may be a binary file renamed .txt; save the letter as plain text or PDF")
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --------------------------------------------------------------------------- PDF


def read_pdf(data: bytes, *, ocr: str = "auto", layout: str = "auto") -> tuple[list[Page], list[str]]:
    """The pages of a PDF's bytes, and warnings about pages that could not be read fully."""
    import pypdfium2 as pdfium

    if _truncated(data):
        raise ReadError("corrupt_pdf", "the PDF is truncated (it stops before its end-of-file marker): the download or copy was probably cut short; get the file again")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc)
        if "password" in message.lower() or "security" in message.lower():
            raise ReadError("encrypted", "the PDF is password-protected (encrypted): open it with its password and save an unprotected copy, then read that") from exc
        raise ReadError("corrupt_pdf", f"the PDF cannot be opened, it is damaged or not really a PDF: {message}") from exc
    warnings: list[str] = []
    try:
        if len(pdf) == 0:
            raise ReadError("corrupt_pdf", "the PDF has no pages: it is damaged or empty")
        layouts = _read_pdf_pages(pdf, data, ocr, layout, warnings)
    except ReadError:
        raise
    except Exception as exc:  # any library failure on a damaged file
        raise ReadError("corrupt_pdf", f"the PDF could not be read, it is probably damaged: {type(exc).__name__}: {exc}") from exc
    finally:
        pdf.close()
    pages = [Page(p.number, render_lines(p.lines), p.method, p.ocr_confidence) for p in drop_furniture(layouts)]
    if not any(p.text.strip() for p in pages):
        if any("no text layer" in w for w in warnings):
            raise ReadError("no_text", "the PDF has no text layer (it looks scanned) and OCR is off: read it with OCR on (--ocr auto), which needs Tesseract")
        raise ReadError("no_text", "the PDF contains no text to read")
    return pages, warnings


def _truncated(data: bytes) -> bool:
    """Whether the file was cut short: no %%EOF, or objects written after the last one."""
    end = data.rfind(b"%%EOF")
    if end < 0:
        return True
    after = data[end + 5:]
    return len(after) > 1024 and (b"endobj" in after or b"stream" in after)


def _read_pdf_pages(pdf: pypdfium2.PdfDocument, data: bytes, ocr: str, layout: str, warnings: list[str]) -> list[PageLayout]:
    plumber = None
    layouts = []
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            number = index + 1
            if ocr == "force":
                layouts.append(_ocr_layout(page, number))
                continue
            left, top, width, height, rotation = _page_frame(page)
            words, scattered = pdfium_words(page.get_textpage(), left, top)
            image_cover, paths = _page_graphics(page, left, top, width, height)
            if rotation:
                words = _rotate(words, rotation, width, height)
                paths = [_rotate_box(p, rotation, width, height) for p in paths]
                width, height = (height, width) if rotation in (90, 270) else (width, height)
            if sum(len(w.text) for w in words) < MIN_TEXT_CHARS and image_cover >= MIN_IMAGE_COVER:
                if ocr == "off":
                    warnings.append(f"page {number} has no text layer (a scan) and OCR is off: it was left empty")
                    layouts.append(PageLayout(number, [], width, height, "pdfium"))
                else:
                    layouts.append(_ocr_layout(page, number))
                continue
            if layout == "auto":
                reason = fast_path_doubt(words, scattered, paths)
            else:
                reason = "asked for" if layout == "full" else None
            if reason and words and rotation == 0:
                try:
                    if plumber is None:
                        import pdfplumber

                        plumber = pdfplumber.open(io.BytesIO(data))
                    plumber_page = plumber.pages[index]
                    free, rows = pdfplumber_words(plumber_page, words)
                    plumber_page.close()
                    layouts.append(PageLayout(number, make_lines(free, rows), width, height, "pdfplumber"))
                    continue
                except Exception as exc:  # pdfplumber chokes on some files PDFium reads
                    warnings.append(f"page {number}: pdfplumber failed ({type(exc).__name__}: {exc}), PDFium's words were used")
            layouts.append(PageLayout(number, make_lines(words), width, height, "pdfium"))
    finally:
        if plumber is not None:
            plumber.close()
    return layouts


def _page_frame(page: pypdfium2.PdfPage) -> tuple[float, float, float, float, int]:
    """The media box's left and top edges, its width and height, and the page's rotation in degrees."""
    mx0, my0, mx1, my1 = page.get_mediabox()
    return mx0, my1, mx1 - mx0, my1 - my0, page.get_rotation() % 360


def _rotate_box(box: tuple[float, float, float, float], rotation: int, width: float, height: float) -> tuple[float, float, float, float]:
    """A box (x0, top, x1, bottom) on the unrotated page, moved to where it shows on the page turned clockwise by rotation degrees."""
    x0, top, x1, bottom = box
    if rotation == 90:
        return height - bottom, x0, height - top, x1
    if rotation == 180:
        return width - x1, height - bottom, width - x0, height - top
    if rotation == 270:
        return top, width - x1, bottom, width - x0
    return box


def _rotate(words: list[Word], rotation: int, width: float, height: float) -> list[Word]:
    for w in words:
        w.x0, w.top, w.x1, w.bottom = _rotate_box((w.x0, w.top, w.x1, w.bottom), rotation, width, height)
    return words


def pdfium_words(textpage: pypdfium2.PdfTextPage, left: float = 0.0, top: float = 0.0) -> tuple[list[Word], int]:
    """PDFium's words in stream order, each boxed by its first and last character, and how many were scattered.

    Boxes are in points from the unrotated page's top left (left, top: the media box's edges).
    A "word" whose first and last characters are not on one line, or are further apart than its
    letters could be, is split at the gaps between its characters (and counted as scattered).
    """
    import pypdfium2.raw as pdfium_c

    n = textpage.count_chars()
    if n <= 0:
        return [], 0
    text = textpage.get_text_range()
    if len(text) != n:  # PDFium added or left out characters: take them one by one
        text = "".join(_char(pdfium_c.FPDFText_GetUnicode(textpage, i)) for i in range(n))
    text = text.translate(_CONTROL)
    raw = textpage.raw
    loose = pdfium_c.FPDFText_GetLooseCharBox
    a, b = pdfium_c.FS_RECTF(), pdfium_c.FS_RECTF()
    pa, pb = ctypes.byref(a), ctypes.byref(b)
    words: list[Word] = []
    scattered = 0
    for m in re.finditer(r"\S+", text):
        start, end = m.span()
        if loose(raw, start, pa) and loose(raw, end - 1, pb):
            height = a.top - a.bottom
            size = height / LOOSE_EM
            if height > 0 and abs(b.bottom - a.bottom) <= 0.25 * height and b.right >= a.left - 0.5 and b.right - a.left <= (end - start + 1) * 1.2 * size:
                words.append(Word(a.left - left, b.right - left, top - a.top, top - a.bottom, m.group(), size))
                continue
        scattered += 1
        words.extend(_split_at_gaps(text, start, end, textpage, left, top))
    return words, scattered


def _char(code: int) -> str:
    return chr(code) if 0 < code < 0x110000 and not 0xD800 <= code < 0xE000 else " "


def _split_at_gaps(text: str, start: int, end: int, textpage: pypdfium2.PdfTextPage, left: float, top: float) -> list[Word]:
    """The pieces of a run of characters that sit together, using every character's box."""
    import pypdfium2.raw as pdfium_c

    rect = pdfium_c.FS_RECTF()
    pieces: list[Word] = []
    for i in range(start, end):
        if not pdfium_c.FPDFText_GetLooseCharBox(textpage.raw, i, ctypes.byref(rect)) or rect.top <= rect.bottom:
            continue
        x0, x1, y0, y1 = rect.left - left, rect.right - left, top - rect.top, top - rect.bottom
        size = (y1 - y0) / LOOSE_EM
        last = pieces[-1] if pieces else None
        if last and abs(y1 - last.bottom) <= 0.25 * (y1 - y0) and last.x1 - 0.3 * size <= x0 <= last.x1 + 0.6 * size:
            last.x1 = max(last.x1, x1)
            last.text += text[i]
        else:
            pieces.append(Word(x0, x1, y0, y1, text[i], size))
    return pieces


def _page_graphics(page: pypdfium2.PdfPage, left: float, top: float, width: float, height: float) -> tuple[float, list[tuple[float, float, float, float]]]:
    """The share of the unrotated page covered by images, and the boxes (x0, top, x1, bottom) of vector paths (rules, rectangles)."""
    import pypdfium2.raw as pdfium_c

    l, b, r, t = (ctypes.c_float() for _ in range(4))
    image_area = 0.0
    paths = []
    stack = [(page.raw, pdfium_c.FPDFPage_CountObjects, pdfium_c.FPDFPage_GetObject)]
    containers = 0
    while stack and containers < 200:
        parent, count, get = stack.pop()
        containers += 1
        for i in range(count(parent)):
            obj = get(parent, i)
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            if kind == pdfium_c.FPDF_PAGEOBJ_FORM:
                stack.append((obj, pdfium_c.FPDFFormObj_CountObjects, pdfium_c.FPDFFormObj_GetObject))
                continue
            if kind not in (pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_PATH):
                continue
            if not pdfium_c.FPDFPageObj_GetBounds(obj, l, b, r, t):
                continue
            x0, y0, x1, y1 = l.value - left, top - t.value, r.value - left, top - b.value
            if kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
                image_area += max(0.0, min(x1, width) - max(x0, 0.0)) * max(0.0, min(y1, height) - max(y0, 0.0))
            else:
                paths.append((x0, y0, x1, y1))
    return min(image_area / max(width * height, 1.0), 1.0), paths


def fast_path_doubt(words: list[Word], scattered: int, paths: list[tuple[float, float, float, float]]) -> str | None:
    """Why PDFium's words should not be trusted on their own for this page, or None.

    Table rulings call for pdfplumber's table finder (a cell's wrapped lines stay in their cell);
    a text stream that keeps jumping back up the page, or words whose letters are scattered,
    mean the producer placed text in pieces, which pdfplumber's character layout handles best.
    """
    if not words:
        return None
    if has_rulings(paths, words):
        return "table rulings"
    if scattered > max(3, 0.05 * len(words)):
        return "scattered characters"
    if order_breaks(words) > 3 + 0.02 * len(words):
        return "text stored out of reading order"
    return None


def has_rulings(paths: list[tuple[float, float, float, float]], words: list[Word]) -> bool:
    """Two or more ruling lines, or rectangles around text: a bordered table."""
    found = 0
    for x0, top, x1, bottom in paths:
        w, h = x1 - x0, bottom - top
        if (w >= 30 and h <= 3) or (h >= 15 and w <= 3):
            found += 1
        elif w >= 15 and h >= 8 and w * h < 200_000:
            found += any(x0 <= (t.x0 + t.x1) / 2 <= x1 and top <= (t.top + t.bottom) / 2 <= bottom for t in words)
        if found >= 2:
            return True
    return False


def order_breaks(words: list[Word]) -> int:
    """How often the stream jumps up the page, or back left along a line."""
    breaks = 0
    for a, b in zip(words, words[1:]):
        if b.bottom < a.top - 0.2 * a.size:
            breaks += 1
        elif abs(b.bottom - a.bottom) < 0.3 * a.size and b.x1 <= a.x0:
            breaks += 1
    return breaks


def pdfplumber_words(page: pdfplumber.page.Page, pdfium_found: list[Word] = ()) -> tuple[list[Word], list[Line]]:
    """pdfplumber's words, and the rows of bordered tables its table finder sees (their words taken out).

    A word pdfminer could not decode ("(cid:127)") takes the text PDFium found in the same place.
    """
    raw = page.extract_words(x_tolerance_ratio=0.15, y_tolerance=2, keep_blank_chars=False, use_text_flow=False)
    x_off, y_off = page.bbox[0], page.bbox[1]
    words = []
    for w in raw:
        text = w["text"].translate(_CONTROL)
        word = Word(w["x0"] - x_off, w["x1"] - x_off, w["top"] - y_off, w["bottom"] - y_off, text)
        if "(cid:" in text or "\ufffd" in text:
            word.text = _text_at(word, pdfium_found) or re.sub(r"\(cid:\d+\)", "\ufffd", text)
        if word.text.strip():
            words.append(word)
    rows: list[Line] = []
    if page.lines or page.rects:
        for table in page.find_tables():
            taken, table_rows = _table_rows(table, words, x_off, y_off)
            if table_rows:
                rows.extend(table_rows)
                words = [w for w in words if id(w) not in taken]
    return words, rows


def _text_at(word: Word, others: list[Word]) -> str:
    """The text of the words among others that overlap word's box (pdfminer gives undecoded glyphs no width)."""
    inside = [o for o in others if o.x0 <= word.x1 + 1 and o.x1 >= word.x0 - 1 and word.top - 1 <= (o.top + o.bottom) / 2 <= word.bottom + 1]
    return " ".join(o.text for o in sorted(inside, key=lambda o: o.x0))


def _table_rows(table, words: list[Word], x_off: float = 0.0, y_off: float = 0.0) -> tuple[set[int], list[Line]]:
    """A bordered table as rows of cells; a one-column "table" (a box round a paragraph) is left alone."""
    if max((len(r.cells) for r in table.rows), default=0) < 2:
        return set(), []
    taken: set[int] = set()
    rows = []
    for row in table.rows:
        cells, row_words = [], []
        for bbox in row.cells:
            if bbox is None:
                continue
            x0, top, x1, bottom = bbox[0] - x_off, bbox[1] - y_off, bbox[2] - x_off, bbox[3] - y_off
            inside = [w for w in words if id(w) not in taken and x0 <= (w.x0 + w.x1) / 2 <= x1 and top <= (w.top + w.bottom) / 2 <= bottom]
            taken.update(id(w) for w in inside)
            row_words += inside
            text = " ".join(" ".join(w.text for w in line.words) for line in group_lines(inside))
            cells.append([x0, x1, text])
        while cells and not cells[-1][2]:
            cells.pop()
        if not row_words:
            continue
        filled = [c for c in cells if c[2]]
        line = Line(row_words, min(w.top for w in row_words), max(w.bottom for w in row_words), statistics.median(w.size for w in row_words))
        line.cells = cells if len(filled) > 1 else filled
        line.fixed = True
        rows.append(line)
    return taken, rows


# --------------------------------------------------------------------------- OCR


def _ocr_layout(page: pypdfium2.PdfPage, number: int) -> PageLayout:
    if not ocr_available():
        raise ReadError("ocr_unavailable", f"page {number} is a scan (it has no text layer) and Tesseract is not installed: {INSTALL_TESSERACT}")
    words, confidence, width, height = ocr_words(page)
    return PageLayout(number, make_lines(words), width, height, "ocr", confidence)


def ocr_words(page: pypdfium2.PdfPage) -> tuple[list[Word], float | None, float, float]:
    """Tesseract's words on the page rendered at OCR_DPI, in points with the skew taken out; their mean confidence; the page size.

    Every word is placed on its line's baseline (from Tesseract's hOCR), so the pieces of one
    printed line that Tesseract files in different blocks (table cells) line up again; what skew
    the image still has is taken out of those coordinates.
    """
    import pytesseract

    scale = OCR_DPI / 72
    image = prepare_scan(page.render(scale=scale, grayscale=True).to_pil())
    # Tesseract's OpenMP threads fight each other and the pipeline's workers: one thread is ~3x faster
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    try:
        hocr = pytesseract.image_to_pdf_or_hocr(image, lang="eng", extension="hocr", config="--psm 3")
    except pytesseract.TesseractNotFoundError as exc:
        raise ReadError("ocr_unavailable", f"this PDF needs OCR and Tesseract is not installed: {INSTALL_TESSERACT}") from exc
    except pytesseract.TesseractError as exc:
        if "language" in str(exc).lower() or "traineddata" in str(exc).lower():
            raise ReadError("ocr_unavailable", f"Tesseract has no English language data: {INSTALL_TESSERACT}") from exc
        raise ReadError("read_error", f"Tesseract failed on this page: {exc}") from exc
    lines = parse_hocr(hocr)
    slopes = [ln["slope"] for ln in lines if ln["bbox"][2] - ln["bbox"][0] > 300]
    skew = statistics.median(slopes) if slopes else 0.0
    centre = image.width / 2
    body = statistics.median(ln["x_size"] for ln in lines) if lines else 0.0
    words: list[Word] = []
    confidences = []
    for ln in lines:
        x0, _, x1, y1 = ln["bbox"]
        size, descent = ln["x_size"], ln["x_descenders"]
        if 0.8 < size / body < 1.25:  # Tesseract's estimate for a short line is rough: body text is all one size
            size = body
        # the line's baseline where it is best known (its middle), moved to where it would be without skew
        middle = (x0 + x1) / 2
        base = y1 + ln["offset"] + ln["slope"] * (middle - x0) - skew * (middle - centre)
        for (wx0, wy0, wx1, wy1), conf, text in ln["words"]:
            text = _strip_rulings(text)
            if not text or conf < 0 or _ocr_noise(text, conf):
                continue
            confidences.append(conf)
            shift = skew * ((wx0 + wx1) / 2 - centre)
            tall = wy1 - wy0
            if tall > 1.9 * size and wy1 - shift - base < 0.5 * size and (wx1 - wx0) / len(text) > 0.4 * tall:
                # big type on the small print's baseline (a wordmark beside the letterhead) is a line of its
                # own; a word made tall by a scrap of ruling above it has letters too narrow for its height
                top, bottom, word_size = wy0 - shift, wy1 - shift, tall / OCR_EM
            else:
                top, bottom, word_size = base - (size - descent), base + descent, size
            words.append(Word(wx0 / scale, wx1 / scale, top / scale, bottom / scale, text, word_size / scale))
    confidence = round(statistics.fmean(confidences), 1) if confidences else None
    return words, confidence, image.width / scale, image.height / scale


def prepare_scan(image: Image.Image) -> Image.Image:
    """A rendered scan made easier to read: specks removed (median filter), straightened, rulings erased.

    On noisy 150 dpi test scans this took word recall from 0.965 to 0.984 (straightening without
    the filter first made things worse).
    """
    from PIL import Image, ImageFilter

    grey = image.convert("L").filter(ImageFilter.MedianFilter(3))
    angle = skew_angle(grey)
    if abs(angle) >= 0.1:
        grey = grey.rotate(angle, resample=Image.BICUBIC, fillcolor=255)
    return erase_rulings(grey)


def skew_angle(grey: Image.Image, limit: float = 3.0) -> float:
    """The rotation in degrees that levels the text: the rows' ink totals vary most when lines are level."""
    import numpy as np
    from PIL import Image

    small = grey.reduce(3)

    def spread(angle: float) -> float:
        ink = 255 - np.asarray(small.rotate(angle, resample=Image.NEAREST, fillcolor=255), dtype=np.float32)
        return float(ink.sum(axis=1).var())

    coarse = max((a / 2 for a in range(int(-2 * limit), int(2 * limit) + 1)), key=spread)
    return max((coarse + a / 10 for a in range(-5, 6)), key=spread)


def erase_rulings(image: Image.Image) -> Image.Image:
    """The page image with long straight lines (table rulings, underlines) whitened: Tesseract misreads text touching them.

    A ruling is a dark run longer than 1/3 inch along a row (or a column), looked for in bands of
    three rows so that a line tilted by a skewed scan still counts; its grey fringe goes too.
    """
    import numpy as np
    from PIL import Image

    pixels = np.array(image.convert("L"))
    dark = pixels < 128
    min_run = OCR_DPI // 3
    mask = np.zeros_like(dark)
    for axis in (0, 1):
        d = dark if axis == 0 else dark.T
        band = d.copy()
        band[1:] |= d[:-1]
        band[:-1] |= d[1:]
        edges = np.diff(np.pad(band, ((0, 0), (1, 1))).astype(np.int8), axis=1)
        rows, starts = np.nonzero(edges == 1)
        _, ends = np.nonzero(edges == -1)
        long = ends - starts >= min_run
        if not long.any():
            continue
        marks = np.zeros((d.shape[0], d.shape[1] + 1), dtype=np.int8)
        marks[rows[long], starts[long]] = 1  # a row's runs never share a start, nor an end
        marks[rows[long], ends[long]] = -1
        covered = np.cumsum(marks, axis=1, dtype=np.int16)[:, :-1] > 0
        mask |= covered if axis == 0 else covered.T
    if not mask.any():
        return image
    grown = mask.copy()
    for shift in (1, 2):
        grown[shift:] |= mask[:-shift]
        grown[:-shift] |= mask[shift:]
        grown[:, shift:] |= mask[:, :-shift]
        grown[:, :-shift] |= mask[:, shift:]
    pixels[grown & (pixels < 224)] = 255
    return Image.fromarray(pixels)


def parse_hocr(hocr: bytes) -> list[dict]:
    """Tesseract's hOCR as lines: bbox, baseline slope and offset, x_size, x_descenders, and words (bbox, confidence, text)."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(hocr)
    lines = []
    for el in root.iter():
        if el.get("class") not in ("ocr_line", "ocr_header", "ocr_caption", "ocr_textfloat"):
            continue
        props = _hocr_title(el.get("title", ""))
        if len(props.get("bbox", [])) != 4:
            continue
        bbox = props["bbox"]
        baseline = props.get("baseline", [0.0, 0.0]) + [0.0, 0.0]
        words = []
        for w in el.iter():
            if w.get("class") == "ocrx_word":
                wp = _hocr_title(w.get("title", ""))
                if len(wp.get("bbox", [])) == 4:
                    words.append((tuple(wp["bbox"]), (wp.get("x_wconf") or [0.0])[0], "".join(w.itertext()).strip()))
        lines.append({
            "bbox": bbox,
            "slope": baseline[0],
            "offset": baseline[1],
            "x_size": (props.get("x_size") or [bbox[3] - bbox[1]])[0],
            "x_descenders": (props.get("x_descenders") or [0.0])[0],
            "words": words,
        })
    return lines


def _hocr_title(title: str) -> dict[str, list[float]]:
    props = {}
    for part in title.split(";"):
        name, _, values = part.strip().partition(" ")
        try:
            props[name] = [float(v) for v in values.split()]
        except ValueError:
            continue
    return props


def _strip_rulings(text: str) -> str:
    """A table's ruling read as a bracket or bar stuck to the word beside it ("[Performs", "requirements|")."""
    text = text.strip().strip("|")
    if text.startswith("[") and "]" not in text:
        text = text[1:]
    if text.endswith("]") and "[" not in text:
        text = text[:-1]
    return text


def _ocr_noise(text: str, conf: float) -> bool:
    """Specks, table rulings and signature strokes that Tesseract reads as marks."""
    if _RULING_TOKEN.match(text):
        return True
    if not any(ch.isalnum() for ch in text):
        return conf < 60
    return conf < 30 and len(text) <= 2


# --------------------------------------------------------------------------- layout


def layout_text(words: list[Word], rows: list[Line] = ()) -> str:
    """The text of one page's words in reading order (no furniture removed): for tests and tools."""
    return render_lines(make_lines(words, rows))


def make_lines(words: list[Word], rows: list[Line] = ()) -> list[Line]:
    """Words grouped into lines and cells, top to bottom, with wrapped table cells put back in their row."""
    lines = group_lines(words)
    for line in lines:
        line.cells = _cells(line.words)
    lines = _attach_superscripts(lines)
    lines.extend(rows)
    lines.sort(key=lambda ln: (ln.top, ln.x0))
    return _merge_wrapped_cells(lines)


def group_lines(words: list[Word]) -> list[Line]:
    """Words that overlap vertically, are of like size and do not overlap sideways form a line.

    A word lying on top of an identical word (fake bold, text drawn twice) is dropped.
    """
    lines: list[Line] = []
    for w in sorted(words, key=lambda w: (w.top + w.bottom, w.x0)):
        for line in reversed(lines[-6:]):
            fit = _fits(line, w)
            if fit:
                if fit is True:
                    line.words.append(w)
                    line.right = max(line.right, w.x1)
                break
        else:
            lines.append(Line([w], w.top, w.bottom, w.size, right=w.x1))
    for line in lines:
        line.words.sort(key=lambda w: w.x0)
    return lines


def _fits(line: Line, w: Word) -> bool | str:
    if not 0.84 * line.size <= w.size <= 1.19 * line.size:
        return False
    overlap = min(line.bottom, w.bottom) - max(line.top, w.top)
    if overlap < 0.5 * min(line.bottom - line.top, w.bottom - w.top) or abs(w.bottom - line.bottom) > 0.35 * min(w.size, line.size):
        return False
    if w.x0 >= line.right - 0.3 * (w.x1 - w.x0):
        return True
    level = abs(w.top - line.top) < 0.15 * w.size and abs(w.bottom - line.bottom) < 0.15 * w.size
    for o in line.words:
        shared = min(o.x1, w.x1) - max(o.x0, w.x0)
        if shared > 0.3 * min(o.x1 - o.x0, w.x1 - w.x0):
            if o.text == w.text:
                return "duplicate"
            # OCR boxes of neighbouring words can overlap; a word on exactly the line's band still belongs
            return level
    return True


def _cells(words: list[Word]) -> list[list]:
    size = statistics.median(w.size for w in words)
    cells = [[words[0].x0, words[0].x1, words[0].text]]
    for prev, w in zip(words, words[1:]):
        if w.x0 - prev.x1 > TAB_GAP * size:
            cells.append([w.x0, w.x1, w.text])
        else:
            cells[-1][1] = w.x1
            cells[-1][2] += " " + w.text
    return cells


def _attach_superscripts(lines: list[Line]) -> list[Line]:
    """A small line touching a word of a bigger line beside it (the "th" of 13th) joins that word."""
    if len(lines) < 2:
        return lines
    kept = []
    for i, small in enumerate(lines):
        host = None
        if len(small.words) <= 2:
            for big in lines[max(0, i - 3): i + 4]:
                if big is small or small.size > 0.8 * big.size or not (big.top - 0.5 * big.size <= small.top and small.bottom <= big.bottom):
                    continue
                if all(any(abs(s.x0 - b.x1) < 0.3 * big.size for b in big.words) for s in small.words):
                    host = big
                    break
        if host is None:
            kept.append(small)
            continue
        for s in small.words:
            b = min(host.words, key=lambda b: abs(s.x0 - b.x1))
            b.text += s.text
            b.x1 = max(b.x1, s.x1)
        host.cells = _cells(host.words)
    return kept


def _merge_wrapped_cells(lines: list[Line]) -> list[Line]:
    """Join a line that continues a table row's cells (it sits under its later cells and reads on in lower case) to that row."""
    out: list[Line] = []
    for line in lines:
        row = out[-1] if out else None
        if row is not None and row.row and not line.fixed and _continues_row(row, line):
            for x0, x1, text in line.cells:
                cell = min(row.cells, key=lambda c: abs(c[0] - x0))
                cell[2] += " " + text
                cell[1] = max(cell[1], x1)
            row.bottom = max(row.bottom, line.bottom)
            row.words = row.words + line.words
            continue
        out.append(line)
    return out


def _continues_row(row: Line, line: Line) -> bool:
    if line.top - row.bottom > 0.8 * row.size or not 0.8 <= line.size / row.size <= 1.25:
        return False
    first = line.cells[0][2]
    if not first or first[0].isupper() or first[0].isdigit():
        return False
    tolerance = max(3.0, 0.3 * row.size)
    return all(any(abs(x0 - c[0]) <= tolerance for c in row.cells[1:]) for x0, _, _ in line.cells)


def render_lines(lines: list[Line]) -> str:
    """Lines as text: a paragraph's lines joined by newlines, paragraphs (and tables) by a blank line."""
    return "\n\n".join("\n".join(line.text for line in block) for block in paragraphs(lines))


def paragraphs(lines: list[Line]) -> list[list[Line]]:
    """Lines grouped into blocks of tightly spaced, overlapping lines, the blocks in reading order.

    A block is a paragraph, an address, a letterhead or a table; blocks are read top to bottom
    (side by side ones left first), so a letterhead at the top right stays in one piece even
    when the address beside it starts lower down.
    """
    lines = sorted(lines, key=lambda ln: (ln.top, ln.x0))
    usual = _usual_gap(lines)
    blocks: list[list[Line]] = []
    for line in lines:
        best, best_gap = None, None
        for block in blocks[-8:]:
            gap = _block_gap(block[-1], line, usual)
            if gap is not None and (best_gap is None or gap < best_gap):
                best, best_gap = block, gap
        if best is None:
            blocks.append([line])
        else:
            best.append(line)
    blocks.sort(key=lambda b: b[0].top)
    for i in range(1, len(blocks)):
        j = i
        while j > 0 and _beside_left(blocks[j], blocks[j - 1]):
            blocks[j - 1], blocks[j] = blocks[j], blocks[j - 1]
            j -= 1
    return blocks


def _beside_left(block: list[Line], other: list[Line]) -> bool:
    """Whether block starts level with other, entirely to its left."""
    size = min(block[0].size, other[0].size)
    return abs(block[0].top - other[0].top) < 0.5 * size and max(ln.x1 for ln in block) <= min(ln.x0 for ln in other)


def _usual_gap(lines: list[Line]) -> float:
    """The page's ordinary space between a line and the next, in font sizes (a low percentile: most lines are inside paragraphs)."""
    gaps = []
    for a, b in zip(lines, lines[1:]):
        if 0.84 <= b.size / a.size <= 1.19 and min(a.x1, b.x1) > max(a.x0, b.x0):
            r = (b.top - a.bottom) / min(a.size, b.size)
            if -0.5 < r < 1.5:
                gaps.append(r)
    if len(gaps) < 3:
        return 0.2
    gaps.sort()
    return max(gaps[int(0.3 * (len(gaps) - 1))], -0.2)


def _block_gap(last: Line, line: Line, usual: float) -> float | None:
    """The gap from a block's last line to this line when the line carries the block on, else None."""
    if min(last.x1, line.x1) <= max(last.x0, line.x0):
        return None
    gap = line.top - last.bottom
    size = min(last.size, line.size)
    if last.row or line.row:
        # rows of one table stay together; a table is never part of a paragraph
        return gap if last.row and line.row and -0.5 * size < gap <= 1.5 * size else None
    if not 0.8 <= line.size / last.size <= 1.25:
        return None
    return gap if -0.5 * size < gap <= (usual + PARAGRAPH_GAP) * size else None


# --------------------------------------------------------------------------- page furniture


def drop_furniture(pages: list[PageLayout]) -> list[PageLayout]:
    """Remove page numbers, "Page N of M" lines, and head or foot lines repeated on several pages.

    On pages after the first, a small-print line alone at the very top (a continuation head
    such as "Plymouth City Council · 08/12/2010") goes too.
    """
    def key(line: Line) -> str:
        return re.sub(r"\d+", "#", " ".join(line.text.lower().split()))

    def in_zone(line: Line, page: PageLayout) -> bool:
        return line.bottom <= FURNITURE_ZONE * page.height or line.top >= (1 - FURNITURE_ZONE) * page.height

    seen: dict[str, int] = {}
    for page in pages:
        for k in {key(ln) for ln in page.lines if in_zone(ln, page)}:
            seen[k] = seen.get(k, 0) + 1
    repeated = {k for k, n in seen.items() if n >= 2 and len(k) > 3}
    out = []
    for page in pages:
        lines = [
            ln for ln in page.lines
            if not (in_zone(ln, page) and (_PAGE_NUMBER.match(ln.text) or _PAGE_OF.search(ln.text) or key(ln) in repeated))
        ]
        if page.number > 1 and len(lines) > 2:
            lines = _drop_continuation_head(lines, page)
        out.append(PageLayout(page.number, lines, page.width, page.height, page.method, page.ocr_confidence))
    return out


def _drop_continuation_head(lines: list[Line], page: PageLayout) -> list[Line]:
    first, second = lines[0], lines[1]
    body = statistics.median(ln.size for ln in lines)
    small = first.size < 0.92 * body
    alone = second.top - first.bottom > 0.5 * first.size
    if first.bottom <= FURNITURE_ZONE * page.height and small and alone and len(first.text) < 100:
        return lines[1:]
    return lines
