"""Scanned pages read with Tesseract: rendered in grey at the scan's own resolution (at most OCR_DPI,
lower for a page too large for the limits); a photographed page's light evened out and its paper
warped flat; despeckled, straightened and cleared of ruling lines; read; turned upright and read
again when the reading says the page still lies turned (a page turned on the glass is told by its
ink and turned before it is read: orientation.py); then read again where lines were lost or words
unsure (pipeline/read/reread.py). Settings in data/ocr.toml; costs in README, "Speed"."""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.config import load_toml
from pipeline.limits import MIB, RENDER_BYTES_PER_PIXEL, Limits, default_limits, seconds_left
from pipeline.read.layout import Piece, pieces_to_text
from pipeline.read.pdf_text import open_pdf, pdf_header_offset
from pipeline.read import orientation, tesseract
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


@lru_cache(maxsize=1)
def settings() -> dict[str, Any]:
    return load_toml("ocr.toml")["ocr"]


# the highest resolution a page is read at (data/ocr.toml max_dpi)
OCR_DPI = int(settings()["max_dpi"])


# a rendered page with fewer dark pixels than this share (once specks are averaged away) is blank
BLANK_INK_SHARE = 0.0001


def ocr_available() -> bool:
    return tesseract.available()


def scan_resolution(page) -> float | None:
    """The resolution of the scan a page holds: its page-sized image's pixels over the image's size on
    the page (both ways, so an image placed turned gives the same); None for a page with no such image."""
    import pypdfium2.raw as pdfium_c

    area = page.get_width() * page.get_height()
    best, covered = None, 0.0
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]):
        try:
            left, bottom, right, top = obj.get_bounds()
            px_w, px_h = obj.get_px_size()
        except Exception:  # an image PDFium cannot size counts for nothing
            continue
        placed = max(right - left, 0.0) * max(top - bottom, 0.0)
        if placed <= 0 or px_w <= 0 or px_h <= 0:
            continue
        covered += placed
        dpi = 72 * math.sqrt(px_w * px_h / placed)
        best = dpi if best is None else max(best, dpi)
    return best if best is not None and covered >= settings()["scan_cover"] * area else None


def ocr_resolution(page, number: int, limits: Limits) -> tuple[float, str | None]:
    """The DPI to render a page at for OCR: the scan's own resolution, scaled up a little, within
    min_dpi and OCR_DPI (data/ocr.toml); and a note when it is lowered to keep the image within the
    pixel and memory limits; ReadError if that would go below min_ocr_dpi."""
    return _resolution(page, scan_resolution(page), number, limits)


def _resolution(page, native: float | None, number: int, limits: Limits) -> tuple[float, str | None]:
    """ocr_resolution for a page whose scan's resolution (None: no scan) is known already."""
    cfg = settings()
    wanted = OCR_DPI if native is None else round(min(OCR_DPI, max(cfg["min_dpi"], native * cfg["upscale"])), 1)
    width, height = page.get_width(), page.get_height()
    pixels = (width * wanted / 72) * (height * wanted / 72)
    by_pixels = limits.max_page_megapixels * 1e6
    by_memory = limits.render_memory_mib * MIB / RENDER_BYTES_PER_PIXEL
    budget = min(by_pixels, by_memory)
    if pixels <= budget:
        return wanted, None
    dpi = math.floor(wanted * math.sqrt(budget / pixels))
    limit = (f"{limits.max_page_megapixels:g} megapixels (--max-page-megapixels)" if by_pixels <= by_memory
             else f"{limits.render_memory_mib:g} MiB of memory to render it (--render-memory-mib)")
    size = f"page {number} is {width / 72:.1f} x {height / 72:.1f} in"
    if dpi < limits.min_ocr_dpi:
        raise ReadError("page_too_large", f"{size}: to stay within {limit} it would be OCR'd at {dpi} dpi, below the {limits.min_ocr_dpi:g} dpi OCR needs (--min-ocr-dpi)")
    return dpi, f"{size}: OCR'd at {dpi} dpi instead of {wanted:g}, to stay within {limit}"


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

    The page is rendered at its scan's resolution (ocr_resolution); a render with no ink is blank
    and not given to Tesseract. Tesseract is stopped at the document's time limit.
    """
    from pipeline.read.reread import OcrWords, kept_word, second_reading, word_key

    native = scan_resolution(page)
    dpi, _ = _resolution(page, native, number, limits or default_limits())
    rendered = render_grey(page, dpi, scan=native is not None)
    if blank_render(rendered):
        return "", None, {}
    rendered = flatten_photograph(rendered)
    rendered, prepared = upright_page(rendered, dpi)
    data = tesseract.run_tesseract(prepared.image, 3, _time_left(), dpi)
    turned = turn_upright(rendered, data, dpi)
    del rendered
    if turned is not None:
        prepared, data = turned
    # lines the page reading lost and words it was unsure of, read again (reread.py)
    data, rereads = second_reading(prepared.image, data, _time_left(), rules=prepared.rules, dpi=dpi)
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
    lines = sorted((sorted(ln, key=lambda p: p.x0) for ln in join_row_numbers(list(by_line.values()))),
                   key=lambda ln: statistics.median(p.top for p in ln))
    text = pieces_to_text(pieces, word_gap=True, lines=lines)
    return text, round(statistics.fmean(confidences), 1) if confidences else None, OcrWords(words, rereads)


def join_row_numbers(lines: list[list[Piece]]) -> list[list[Piece]]:
    """Tesseract's lines, with a line of one short word (a table's row number, '4', that Tesseract
    read as a block of its own) joined to the line it stands level with on its right, which it
    would otherwise follow on a line of its own ('Performs excellently ...' then '4')."""
    out = [ln for ln in lines if not _row_number(ln)]
    for ln in lines:
        if not _row_number(ln):
            continue
        p = ln[0]
        level = [other for other in out if min(x.x0 for x in other) > p.x1
                 and min(p.bottom, max(x.bottom for x in other)) - max(p.top, min(x.top for x in other)) > 0.5 * (p.bottom - p.top)]
        if level:
            min(level, key=lambda other: min(x.x0 for x in other)).append(p)
        else:
            out.append(ln)
    return out


def _row_number(line: list[Piece]) -> bool:
    return len(line) == 1 and len(line[0].text.strip()) <= 2


def _time_left() -> float | None:
    left = seconds_left()
    return None if left is None else max(left, 0.5)


def render_grey(page, dpi: float, scan: bool = False) -> "Image.Image":
    """The page rendered in grey. A scan is rendered straight into a grey bitmap, which for a page
    that is one image gives the same pixels as rendering in colour and turning them grey, in a third
    to two thirds less time; a page of text or drawings is rendered in colour and turned grey by PIL,
    since PDFium's grey bitmap draws text without its smoothing."""
    import pypdfium2.raw as pdfium_c

    if scan:
        return page.render(scale=dpi / 72, force_bitmap_format=pdfium_c.FPDFBitmap_Gray).to_pil()
    image = page.render(scale=dpi / 72).to_pil()
    return image if image.mode == "L" else image.convert("L")


def upright_page(rendered: "Image.Image", dpi: float) -> tuple["Image.Image", "Prepared"]:
    """The page turned upright, as rendered and as prepared, told by its ink before it is read
    (pipeline/read/orientation.py): a page on its side is turned a quarter turn, and a page whose
    lines carry their ink below their x-height bands a half turn. A page on its side whose ink
    cannot say which quarter asks Tesseract's orientation detection."""
    import numpy as np
    from PIL import Image

    on_side = orientation.on_its_side(rendered)
    if on_side:
        rendered = rendered.transpose(Image.Transpose.ROTATE_90)
    prepared = prepare_scan(rendered, dpi)
    verdict = orientation.upside_down(np.asarray(prepared.image), dpi, prepared.ink)
    if verdict:  # prepared again upright, as an upright scan is (the skew's shear runs the other way)
        rendered = rendered.transpose(Image.Transpose.ROTATE_180)
        return rendered, prepare_scan(rendered, dpi)
    if verdict is None and on_side:
        upright = orientation.osd_upright(rendered, _time_left())
        if upright is not None:
            return upright, prepare_scan(upright, dpi)
    return rendered, prepared


@dataclass
class Prepared:
    """A page made ready for Tesseract, where its ruling lines were whitened (bit 1: a horizontal
    rule, bit 2: a vertical one), so a second reading can paint them back in, and the grey its ink
    is darker than."""

    image: "Image.Image"
    rules: "np.ndarray"
    ink: float


def prepare_scan(image: "Image.Image", dpi: float = OCR_DPI) -> Prepared:
    """Grey, despeckled, straightened and cleared of ruling lines: what Tesseract reads best."""
    import numpy as np
    from PIL import Image

    pixels = despeckle(np.asarray(image.convert("L")))
    ink, paper = grey_levels(pixels)
    pixels = straighten(pixels, estimate_skew(pixels, ink))
    pixels, rules = wipe_rules(pixels, dpi, ink + settings()["rule_lift"] * (paper - ink))
    return Prepared(Image.fromarray(pixels), rules, ink)


def grey_levels(pixels: "np.ndarray") -> tuple[float, float]:
    """The page's ink threshold (Otsu's, between ink and paper: a pixel darker than it is ink) and
    its paper's grey (the 90th percentile), from every 4th pixel each way. Where no page has the
    greys between ink and paper, every level over that gap splits the page alike, and the middle of
    the gap is taken: a bilevel page rendered pixel for pixel gives 127, where the gap's first
    level, 0, counted no black pixel as ink (and the page was not straightened)."""
    import numpy as np

    sample = pixels[::4, ::4]
    hist = np.bincount(sample.ravel(), minlength=256).astype(np.float64)
    weight, mass = np.cumsum(hist), np.cumsum(hist * np.arange(256))
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mass[-1] * weight - mass * weight[-1]) ** 2 / (weight * (weight[-1] - weight))
    between[~np.isfinite(between)] = -1
    best = np.flatnonzero(between == between.max())
    return (float(best[0]) + float(best[-1])) / 2, float(np.searchsorted(weight, 0.9 * weight[-1]))


def _median3(a: "np.ndarray", b: "np.ndarray", c: "np.ndarray") -> "np.ndarray":
    import numpy as np

    return np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))


def despeckle(pixels: "np.ndarray", band: int = 512) -> "np.ndarray":
    """The 3 x 3 median of the page (a speck or a grain of the paper goes, a stroke stays), as
    PIL's MedianFilter(3) gives it but about 20 times faster: each column's three pixels sorted
    once, then the median of the nine is the median of the largest low, the middle middle and the
    smallest high of three neighbouring columns. A band of rows at a time, so memory stays small."""
    import numpy as np

    h, w = pixels.shape
    out = np.empty_like(pixels)
    for start in range(0, h, band):
        stop = min(start + band, h)
        rows = np.pad(pixels[max(start - 1, 0):min(stop + 1, h)], ((start == 0, stop == h), (1, 1)), mode="edge")
        up, mid, down = rows[:-2], rows[1:-1], rows[2:]
        lo, hi = np.minimum(up, mid), np.maximum(up, mid)
        middle = np.maximum(lo, np.minimum(hi, down))
        lo, hi = np.minimum(lo, down), np.maximum(hi, down)
        low = np.maximum(np.maximum(lo[:, :-2], lo[:, 1:-1]), lo[:, 2:])
        high = np.minimum(np.minimum(hi[:, :-2], hi[:, 1:-1]), hi[:, 2:])
        out[start:stop] = _median3(low, _median3(middle[:, :-2], middle[:, 1:-1], middle[:, 2:]), high)
    return out


def estimate_skew(pixels: "np.ndarray", ink: float | None = None) -> float:
    """The rotation (degrees, counter-clockwise) that makes text lines level: the rows of ink are
    sharpest when level. Each angle is tried by shearing the dark pixels' coordinates (a rotation of
    a few degrees moves a pixel up or down by its distance from the middle times the angle's
    tangent) and counting them by row, not by rotating the image: a few milliseconds a page."""
    import numpy as np
    from PIL import Image

    cfg = settings()
    factor = max(1, round(pixels.shape[1] / 1200))
    small = np.asarray(Image.fromarray(pixels).reduce(factor)) if factor > 1 else pixels
    ys, xs = np.nonzero(small < (cfg["ink_level"] if ink is None else ink))
    if len(ys) < 200:
        return 0.0
    if len(ys) > 200_000:  # every k-th dark pixel is as good a sample
        k = len(ys) // 200_000 + 1
        ys, xs = ys[::k], xs[::k]
    xs = xs.astype(np.float64) - small.shape[1] / 2
    ys = ys.astype(np.float64) + abs(xs).max() * math.tan(math.radians(cfg["max_skew"])) + 1

    def sharpness(angle: float) -> float:
        rows = np.rint(ys - xs * math.tan(math.radians(angle))).astype(np.int64)
        return float(np.var(np.bincount(rows)))

    limit, step = cfg["max_skew"], cfg["skew_step"]
    coarse = max((i * 0.25 for i in range(int(-limit * 4), int(limit * 4) + 1)), key=sharpness)
    return max((coarse + i * step for i in range(-int(0.25 / step), int(0.25 / step) + 1)), key=sharpness)


def straighten(pixels: "np.ndarray", angle: float) -> "np.ndarray":
    """The page's text lines levelled: each column moved up or down by its distance from the middle
    times the angle's tangent (a shear, which for the few degrees a scan is tilted levels the lines
    as a rotation would, at a tenth of the cost: one copy of each run of columns moved alike). Rows
    are not moved sideways: that would stand a table's vertical rules upright, but puts a step of a
    pixel in every letter a shifted row crosses ('Adult' read 'Aduit' on a fax), and a tilted rule
    is found and wiped as it is. Paper fills what is uncovered; an angle under skew_ignore is left alone."""
    import numpy as np

    if abs(angle) <= settings()["skew_ignore"]:
        return pixels
    w = pixels.shape[1]
    return _shear(pixels, np.rint((np.arange(w) - w / 2) * math.tan(math.radians(angle))).astype(np.int64), columns=True)


def _shear(pixels: "np.ndarray", shifts: "np.ndarray", columns: bool) -> "np.ndarray":
    """Each column (or row) k of the result taken from the page shifted by shifts[k] pixels along
    it: out[y, x] = pixels[y + shifts[x], x] (columns), pixels[y, x + shifts[y]] (rows)."""
    import numpy as np

    h, w = pixels.shape
    out = np.full_like(pixels, 255)
    n = h if columns else w
    edges = np.flatnonzero(np.diff(shifts)) + 1
    for a, b in zip(np.concatenate(([0], edges)), np.concatenate((edges, [len(shifts)]))):
        s = int(shifts[a])
        if abs(s) >= n:
            continue
        if columns:
            if s >= 0:
                out[:h - s, a:b] = pixels[s:, a:b]
            else:
                out[-s:, a:b] = pixels[:h + s, a:b]
        elif s >= 0:
            out[a:b, :w - s] = pixels[a:b, s:]
        else:
            out[a:b, -s:] = pixels[a:b, :w + s]
    return out


def wipe_rules(pixels: "np.ndarray", dpi: float = OCR_DPI, level: float | None = None,
               lengths: tuple[int, int] | None = None) -> tuple["np.ndarray", "np.ndarray"]:
    """The page with the ruling lines of bordered tables and boxes (which Tesseract reads as text)
    whitened, and where: only the rules' own pixels and their soft edges go, and not where a letter's
    stroke crosses a rule (ink just beyond the rule on both sides), so a word that a table's line
    runs through keeps its letters. A pixel darker than level counts (a hairline rule scanned at
    150 dpi is grey, lighter than text's ink; no run of text is a rule's length however light).
    lengths: the shortest horizontal and vertical rules, if not rule_width and rule_height of the page."""
    import numpy as np

    cfg = settings()
    dark = pixels < (cfg["ink_level"] if level is None else level)
    h, w = dark.shape
    reach = max(2, round(cfg["rule_reach"] * dpi / 300))
    thickest = max(2, round(cfg["rule_thickest"] * dpi / 300))
    wide, tall = lengths or (int(w * cfg["rule_width"]), int(h * cfg["rule_height"]))
    across = _rule_pixels(dark, max(wide, 16), cfg["rule_fill"], axis=1)
    down = _rule_pixels(dark, max(tall, 16), cfg["rule_fill"], axis=0)
    rules = np.zeros(dark.shape, dtype=np.uint8)
    horizontal = _wiped(across, dark, down, reach, thickest)
    vertical = _wiped(down.T, dark.T, across.T, reach, thickest)
    if not horizontal and not vertical:
        return pixels, rules
    out = pixels.copy()
    # only the bands of rows (of the page turned, for vertical rules: columns) holding a rule are written
    for bit, marks, page, bands in ((1, rules, out, horizontal), (2, rules.T, out.T, vertical)):
        for lo, hi, wiped in bands:
            marks[lo:hi][wiped] |= bit
            page[lo:hi][wiped] = 255
    return out, rules


@lru_cache(maxsize=1)
def _mostly_dark_byte() -> "np.ndarray":
    """For each byte, whether three quarters of its eight bits are set: eight pixels, mostly dark."""
    import numpy as np

    return np.array([bin(b).count("1") >= 6 for b in range(256)])


def _rule_pixels(dark: "np.ndarray", length: int, fill: float, axis: int) -> "np.ndarray":
    """The dark pixels that lie on a dark run nearly `length` long along axis (1: a row's, 0: a
    column's). Looked for in blocks of 8 pixels along the run (a block is dark when three quarters
    of it is), a window of blocks at a time, so the page is passed over once and the working arrays
    are an eighth of its size."""
    import numpy as np

    block = 8
    n = dark.shape[axis]
    m = n // block * block
    if axis == 1:  # a row's eight pixels as the bits of a byte, and its count looked up
        blocks = _mostly_dark_byte()[np.packbits(dark[:, :m], axis=1)]
    else:
        blocks = dark[:m].reshape(m // block, block, dark.shape[1]).sum(axis=1, dtype=np.int16) >= (3 * block) // 4
    size = max(length // block, 2)
    k = blocks.shape[axis]
    ruled = np.zeros(dark.shape, dtype=bool)
    if size >= k:
        return ruled
    if axis == 0:
        blocks = blocks.T
    runs = np.zeros((blocks.shape[0], k + 1), dtype=np.int32)
    np.cumsum(blocks, axis=1, dtype=np.int32, out=runs[:, 1:])
    full = (runs[:, size:] - runs[:, :-size]) >= fill * size  # full[y, s]: the blocks s..s+size-1
    lines = np.flatnonzero(full.any(axis=1))
    if not len(lines):
        return ruled
    # a block lies on a rule when a full window starts within size-1 blocks before it
    starts = np.zeros((len(lines), full.shape[1] + 1), dtype=np.int32)
    np.cumsum(full[lines], axis=1, dtype=np.int32, out=starts[:, 1:])
    x = np.arange(k)
    covered = (starts[:, np.minimum(x, k - size) + 1] - starts[:, np.maximum(x - size + 1, 0)]) > 0
    pixels = np.repeat(covered, block, axis=1)
    if axis == 1:
        ruled[lines, :m] = pixels
    else:
        ruled[:m, lines] = pixels.T
    return ruled & dark


def _grow(mask: "np.ndarray", r: int) -> "np.ndarray":
    """The mask grown by r pixels each way."""
    out = mask.copy()
    for k in range(1, r + 1):
        out[k:] |= mask[:-k]
        out[:-k] |= mask[k:]
        out[:, k:] |= mask[:, :-k]
        out[:, :-k] |= mask[:, k:]
    return out


def _wiped(rule: "np.ndarray", dark: "np.ndarray", other: "np.ndarray", reach: int,
           thickest: int) -> list[tuple[int, int, "np.ndarray"]]:
    """The pixels to whiten for a mask of horizontal rule pixels: the rule and one pixel either side
    (its soft edges), except in columns where a stroke crosses it: dark pixels off the rule within
    reach both above and below (a rule of the other direction, `other`, meeting it is no stroke).
    Where the rule is thicker than `thickest` it is no rule (a large letter's stem, a black box).
    Only the bands of rows that hold a rule are looked at, and each is given back as its rows
    (from, to) and its mask, so the page is not passed over again to mark them."""
    import numpy as np

    h, w = rule.shape
    out: list[tuple[int, int, np.ndarray]] = []
    flags = rule.any(axis=1)
    if not flags.any():
        return out
    idx = np.flatnonzero(flags)
    breaks = np.flatnonzero(np.diff(idx) > 1)
    for a, b in zip(np.concatenate(([idx[0]], idx[breaks + 1])), np.concatenate((idx[breaks], [idx[-1]]))):
        lo, hi = max(a - reach - 1, 0), min(b + reach + 2, h)
        r = rule[lo:hi].copy()
        r[:, r.sum(axis=0) > thickest] = False  # where the band is thicker than a rule: a stem, a box
        if not r.any():
            continue
        core = r.copy()
        core[1:] |= r[:-1]
        core[:-1] |= r[1:]  # the rule with a pixel either side: its soft, ragged edges
        ink = dark[lo:hi] & ~core & ~_grow(other[lo:hi], 1)
        sums = np.zeros((hi - lo + 1, w), dtype=np.int32)
        np.cumsum(ink, axis=0, dtype=np.int32, out=sums[1:])
        n = hi - lo
        rows = np.arange(n)
        above = sums[rows] - sums[np.maximum(rows - reach, 0)]  # ink in the reach rows above
        below = sums[np.minimum(rows + 1 + reach, n)] - sums[rows + 1]  # ... and below
        crossing = core & (above > 0) & (below > 0)
        # a column a stroke crosses keeps the whole of the rule's width there
        crossed = crossing.any(axis=0)
        wiped = core & ~crossed[None, :]
        if wiped.any():
            out.append((lo, hi, wiped))
    return out


def turn_upright(rendered: "Image.Image", data: dict[str, list], dpi: float) -> tuple[Prepared, dict[str, list]] | None:
    """For a page whose reading does not look upright (few words of the letters, or words standing
    on end: orientation.reads_upright): the page turned as Tesseract's orientation detection says,
    prepared and read again, when that reading has more of the letters' words standing level; else
    None. The ink turned most turned pages before they were read; this is for the rest."""
    known, share = orientation.known_words(data)
    on_end = orientation.standing_words(data) > 0.5
    if orientation.reads_upright(known, share, on_end):
        return None
    upright = orientation.osd_upright(rendered, _time_left())
    if upright is None:
        return None
    prepared = prepare_scan(upright, dpi)
    again = tesseract.run_tesseract(prepared.image, 3, _time_left(), dpi)
    again_known = orientation.known_words(again)[0]
    better = again_known > known or (on_end and orientation.standing_words(again) <= 0.5 and again_known >= 0.8 * known)
    return (prepared, again) if better else None


def _spread_max(a: "np.ndarray", r: int) -> "np.ndarray":
    """Each pixel the brightest within r pixels (a square): the paper under the text."""
    import numpy as np

    out = a
    for axis in (0, 1):
        padded = np.pad(out, [(r, r) if k == axis else (0, 0) for k in range(2)], mode="edge")
        n = out.shape[axis]
        out = np.max([padded[i:i + n] if axis == 0 else padded[:, i:i + n] for i in range(2 * r + 1)], axis=0)
    return out


def paper_light(image: "Image.Image") -> tuple["np.ndarray", int]:
    """How bright the bare paper is across the page, at about 1/300 of its width a pixel (text and
    rules filled in from the paper around them), and the factor it was shrunk by."""
    import numpy as np

    factor = max(1, round(image.width / 300))
    small = np.asarray(image.reduce(factor) if factor > 1 else image, dtype=np.float32)
    return _spread_max(small, 3), factor


def flatten_photograph(image: "Image.Image") -> "Image.Image":
    """A page photographed on a desk, warped flat to its paper's four corners; a page lit unevenly,
    its light evened out (divided by the paper's own brightness around each pixel). A scanned
    page, evenly lit with no desk around it, is returned as it is after a look at a small copy."""
    import numpy as np
    from PIL import Image

    cfg = settings()
    light, factor = paper_light(image)
    paper = float(np.percentile(light, 95))
    band = max(1, int(cfg["edge_band"] * max(light.shape)))
    edges = np.concatenate([light[:band].ravel(), light[-band:].ravel(), light[:, :band].ravel(), light[:, -band:].ravel()])
    desk = float(np.median(edges))
    if desk < cfg["desk_ratio"] * paper:
        small = np.asarray(image.reduce(factor) if factor > 1 else image)
        corners = paper_corners(small)
        if corners is not None:
            image = unwarp(image, [((x + 0.5) * factor, (y + 0.5) * factor) for x, y in corners])
            light, factor = paper_light(image)
            paper = float(np.percentile(light, 95))
    if float(np.percentile(light, 5)) >= cfg["light_ratio"] * paper:
        return image
    # each pixel times its paper's gain (paper / the light there), in one float array worked in place
    even = np.asarray(Image.fromarray(np.clip(light, 1, 255).astype(np.uint8)).resize(image.size, Image.BILINEAR), dtype=np.float32)
    np.divide(paper, even, out=even)
    even *= np.asarray(image)
    np.clip(even, 0, 255, out=even)
    return Image.fromarray(even.astype(np.uint8))


def paper_corners(small: "np.ndarray") -> list[tuple[float, float]] | None:
    """The paper's corners in a small copy of a photograph (top left, top right, bottom right, bottom
    left): where, coming in from each side, the grey first rises sharply (edge_rise) from desk to
    paper, a straight line fitted to each side's points and the lines met. However the light falls,
    paper is brighter than the desk beside it. None when a side has too few points or the four do
    not make a page-like shape (a side under half the picture's)."""
    import numpy as np

    cfg = settings()
    h, w = small.shape
    grey = small.astype(np.float32) + 1
    d = 2
    across, down = grey[:, 2 * d:] / grey[:, :-2 * d], grey[2 * d:] / grey[:-2 * d]
    rows, cols = np.arange(int(0.1 * h), int(0.9 * h)), np.arange(int(0.1 * w), int(0.9 * w))
    sides = []
    for steps, lines, flip in ((across[rows] > cfg["edge_rise"], rows, False), (across[rows] < 1 / cfg["edge_rise"], rows, True),
                               (down[:, cols].T > cfg["edge_rise"], cols, False), (down[:, cols].T < 1 / cfg["edge_rise"], cols, True)):
        found = steps.any(axis=1)
        at = (steps.shape[1] - 1 - np.argmax(steps[:, ::-1], axis=1)) if flip else np.argmax(steps, axis=1)
        if found.sum() < 0.5 * len(lines):
            return None
        sides.append(_fit_line(lines[found].astype(np.float64), at[found].astype(np.float64) + d))
    (la, lb), (ra, rb), (ta, tb), (ba, bb) = sides  # left/right: x = a*y + b; top/bottom: y = a*x + b

    def meet(xa: float, xb: float, ya: float, yb: float) -> tuple[float, float]:
        x = (xa * yb + xb) / (1 - xa * ya)
        return x, ya * x + yb

    corners = [meet(la, lb, ta, tb), meet(ra, rb, ta, tb), meet(ra, rb, ba, bb), meet(la, lb, ba, bb)]
    (tlx, tly), (trx, try_), (brx, bry), (blx, bly) = corners
    if min(trx - tlx, brx - blx) < 0.5 * w or min(bly - tly, bry - try_) < 0.5 * h:
        return None
    if any(not (-0.05 * w <= x <= 1.05 * w and -0.05 * h <= y <= 1.05 * h) for x, y in corners):
        return None
    return corners


def _fit_line(t: "np.ndarray", v: "np.ndarray") -> tuple[float, float]:
    """v = a*t + b fitted by least squares, then again without the points more than 2 pixels off."""
    import numpy as np

    a, b = np.polyfit(t, v, 1)
    near = np.abs(v - (a * t + b)) <= 2
    if near.sum() >= 2:
        a, b = np.polyfit(t[near], v[near], 1)
    return float(a), float(b)


def unwarp(image: "Image.Image", corners: list[tuple[float, float]]) -> "Image.Image":
    """The quadrilateral with these corners (top left, top right, bottom right, bottom left) warped
    to an upright rectangle of its own mean width and height."""
    import numpy as np
    from PIL import Image

    (tlx, tly), (trx, try_), (brx, bry), (blx, bly) = corners
    width = int(round((math.dist(corners[0], corners[1]) + math.dist(corners[3], corners[2])) / 2))
    height = int(round((math.dist(corners[0], corners[3]) + math.dist(corners[1], corners[2])) / 2))
    rectangle = [(0, 0), (width, 0), (width, height), (0, height)]
    rows, rhs = [], []
    for (x, y), (u, v) in zip(rectangle, corners):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        rhs += [u, v]
    coefficients = np.linalg.solve(np.array(rows, dtype=np.float64), np.array(rhs, dtype=np.float64))
    return image.transform((width, height), Image.Transform.PERSPECTIVE, [float(c) for c in coefficients], Image.BILINEAR, fillcolor=255)
