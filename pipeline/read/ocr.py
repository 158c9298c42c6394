"""Scanned pages read with Tesseract: rendered at OCR_DPI (lower for a page too large for the
limits), greyed, despeckled, straightened and cleared of ruling lines, read, then read again where
lines were lost or words unsure (pipeline/read/reread.py)."""
from __future__ import annotations

import math
import os
import shutil
import statistics
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.limits import MIB, RENDER_BYTES_PER_PIXEL, Limits, default_limits, seconds_left, timed_out
from pipeline.read.layout import Piece, pieces_to_text
from pipeline.read.pdf_text import open_pdf, pdf_header_offset
from pipeline.records import ReadError

if TYPE_CHECKING:  # PIL and numpy are imported where a page is rendered, not when this module is
    import numpy as np
    from PIL import Image


# what Tesseract gives for one page: its text, mean word confidence, best confidence of each word
OcrResult = tuple[str, "float | None", dict[str, float]]


class OcrDeferred(Exception):
    """Raised instead of OCR-ing a scan's pages in place, so a caller with a pool of workers can
    OCR them one page a task and read the document again with the results (`ocr_pages`)."""

    def __init__(self, pages: list[int]) -> None:
        super().__init__(f"pages {pages} need OCR")
        self.pages = pages


OCR_DPI = 300


# a rendered page with fewer dark pixels than this share (once specks are averaged away) is blank
BLANK_INK_SHARE = 0.0001


def ocr_available() -> bool:
    return shutil.which("tesseract") is not None


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

    from pipeline.read.reread import OcrWords, kept_word, second_reading, word_key

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
    # lines the page reading lost and words it was unsure of, read again (reread.py)
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
