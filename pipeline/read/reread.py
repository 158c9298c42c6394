"""Second readings of a scanned page: the lines Tesseract's page reading lost, and the words it was
unsure of, cut out of the page image and read again.

`read.ocr_page` reads a whole page with `--psm 3`. That reading can lose a line outright (its words
come back as noise or not at all: an address's postcode under a town's name) and reads some words
unsurely (a postcode at 66/100), which sends a letter to review though the reading was right. After
the page reading, `second_reading`:

1. finds bands of ink in the prepared page image that no kept word covers (a row projection of the
   dark pixels left once every surely read word's box is masked); a band of a text line's height
   and ink, not a speck, rule, logo or signature, is a lost line. It is read twice (black on white,
   and grey), and what reads like text is added to the page's words where it stands (`found`),
   replacing any word the page reading read there below `floor`;
2. cuts out each word read below `unsure_below` that has a digit or is capitalised or shaped like a
   postcode's part, with a word of context either side, and reads it again under another
   preparation: black on white (Otsu, per piece, at twice the size and shrunk back), with the
   ruling lines prepare_scan whitened painted back in (a letter touching a rule loses the pixels
   it shares with it), as a block (`--psm 6`) rather than a page. Two readings that agree on a
   word are independent evidence: its confidence becomes 1-(1-p1)(1-p2) (`confirmed`). Two that
   disagree keep the lower confidence, never more than `disputed_at_most` (under every threshold a
   value is judged by, so the value is flagged), and the other reading is kept so the flag can name
   both (`disputed`). A reading below `floor` is no evidence either way, and a word first read
   below it is never rescued.

All the pieces of a page go to Tesseract in one image (a call costs 0.2 s before it reads
anything), so the second reading costs one call a page (about +10% on a page's OCR), and none on a
page read surely. Settings are in data/reread.toml.

Measured on generated scans (tests/fixtures/generate.py, seeds 20-31, not used elsewhere), each word
checked against the PDF the scan was made from: of 472 words a confirming second reading lifted
over 92, 7 were still wrong (1.5%; the same model misreads the same glyphs the same way), against
0.4% of words the page reading reads at 92 or over. Those 7 were postcode parts, an authority's name
and words no value rests on, which the postcode rules, the gazetteer and the title vocabulary check
again. See README, "Second readings of scans".
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import regex

from pipeline.config import load_toml
from pipeline.normalise import WORD_EDGES, normalise_characters

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

    from pipeline.records import LetterText

_LETTER_OR_DIGIT = regex.compile(r"[\p{L}\p{N}]")
_DIGIT = regex.compile(r"\p{N}")
_CAPITALISED = regex.compile(r"^\p{Lu}[\p{L}'\u2019\-.]*$")
# "TS18", "1LD", "ILD": what a postcode's halves look like, misread digits included
_POSTCODE_PART = regex.compile(r"^[A-Z0-9$|]{2,4}$")
# the key Tesseract's block, paragraph and line numbers give a line the second reading found
_FOUND_BLOCK = 10_000
_COLUMNS = ("level", "page_num", "block_num", "par_num", "line_num", "word_num", "left", "top", "width", "height", "conf", "text")


@lru_cache(maxsize=1)
def settings() -> dict[str, Any]:
    return load_toml("reread.toml")["reread"]


@dataclass
class Reread:
    """What a second reading said of one word of a page."""

    kind: str  # confirmed | disputed | single (a lost line's word only one reading found)
    second: float  # the second reading's confidence (0-100)
    first: float | None = None  # the first reading's confidence (the page's; for a lost line, its surer reading's)
    other: str = ""  # disputed: what the second reading read instead of `read` ...
    read: str = ""  # ... the words of the first reading it was compared with (the word, or it and a neighbour one reading split or joined)
    found: bool = False  # the word stands in a line the page reading lost


class OcrWords(dict):
    """A page's words and the best confidence each was read with (read.OcrResult's third part, a plain
    dict to everything that looks a word up), with what a second reading said of some of them in
    `rereads` (word -> Reread). A subclass, so pages carry it unchanged through ingest's workers,
    their pickles and normalise."""

    def __init__(self, words: dict[str, float] | None = None, rereads: dict[str, Reread] | None = None) -> None:
        super().__init__(words or {})
        self.rereads: dict[str, Reread] = dict(rereads or {})

    def __reduce__(self):
        return (OcrWords, (dict(self), self.rereads))


def word_key(word: str) -> str:
    """A word as the page's words are keyed: normalised, its punctuation stripped."""
    return normalise_characters(word).strip(WORD_EDGES)


def kept_word(word: str, conf: float) -> bool:
    """Whether one of Tesseract's words stands in the page's text: specks and scanner noise come
    back as low-confidence punctuation or fragments, and are dropped. A word of the letters read
    whole is kept however low its confidence: Tesseract gives some words it read rightly next to
    none ("council's" at 0-28 where two apostrophes compete), and dropping them misquotes the letter."""
    if not word.strip() or conf < 0:
        return False
    if conf < 25:
        return known_word(word)
    return not (conf < 70 and not _LETTER_OR_DIGIT.search(word))


_WHOLE_WORD = regex.compile(r"^(\p{L}{3,})(?:['\u2019]\p{L}{1,2})?[.,;:]?$")


def known_word(word: str) -> bool:
    """Whether the word is one of the letters' vocabulary (data/letter_words.txt, the authorities'
    names), read whole: three letters or more, perhaps with a possessive or a stop after it."""
    from pipeline.read.quality import letter_vocabulary

    whole = _WHOLE_WORD.match(word)
    return bool(whole) and whole.group(1).lower() in letter_vocabulary()


def worth_rereading(word: str) -> bool:
    """A word a value could rest on: a number, a name, part of a postcode."""
    key = word_key(word)
    return bool(_DIGIT.search(key) or _CAPITALISED.match(key) or _POSTCODE_PART.match(key))


@dataclass
class Crop:
    """A piece of the page to read again: a box in page pixels, and what it holds."""

    kind: str  # lost | unsure
    x0: int
    y0: int
    x1: int
    y1: int
    targets: list[int] = field(default_factory=list)  # unsure: the indexes of the words to check
    context: list[int] = field(default_factory=list)  # unsure: every first-read word in the box
    line: tuple[int, int, int] | None = None  # lost: the page line it stands beside, if any
    grey: bool = False  # prepared grey (healed only) rather than binarised


Word = tuple[str, float, int, int, int, int]  # text, confidence, left, top, right, bottom (page pixels)


def second_reading(image: "Image.Image", data: dict[str, list], timeout: float | None = None,
                   rules: "np.ndarray | None" = None, dpi: float = 300) -> tuple[dict[str, list], dict[str, Reread]]:
    """Tesseract's page reading (image_to_data's columns) with the lines it lost added and the words it
    was unsure of read again; and, for each word a second reading spoke for, what it said.

    image is the prepared page Tesseract read, rules where its ruling lines were whitened
    (read.ocr.Prepared), at dpi. timeout is passed to Tesseract (seconds, None for none)."""
    import numpy as np

    cfg = settings()
    n = len(data["text"])
    data = {k: list(v) for k, v in data.items()}
    kept = [i for i in range(n) if kept_word(data["text"][i], float(data["conf"][i]))]
    height = _line_height(data, kept)
    if height is None:
        return data, {}
    kept = _drop_columns_read_across(data, kept, height)
    pixels = np.asarray(image)
    if rules is None:
        rules = np.zeros(pixels.shape, dtype=np.uint8)
    crops = lost_lines(pixels, data, kept, height, rules) + unsure_words(data, kept, height, pixels.shape)
    # words whose boxes overlap leave an unsure word's piece no width: nothing to read there
    crops = [c for c in crops if c.x1 - c.x0 > 1 and c.y1 - c.y0 > 1]
    if not crops:
        return data, {}
    crops = crops[: cfg["max_crops"]]
    # a lost line has no first reading to compare with: it is read twice, binarised and grey
    twins = [replace(c, grey=True) for c in crops if c.kind == "lost"]
    readings = read_crops(pixels, crops + twins, height, timeout, rules, dpi)
    grey = iter(readings[len(crops):])
    notes: dict[int, Reread] = {}
    for k, (crop, words) in enumerate(zip(crops, readings)):
        if crop.kind == "lost":
            _add_found(data, crop, [words, next(grey)], notes, k)
        else:
            _compare(data, crop, words, notes)
    return data, _notes_by_word(data, notes)


def _drop_columns_read_across(data: dict[str, list], kept: list[int], height: float) -> list[int]:
    """The kept words, less the lines Tesseract made of a column: a table's column of row numbers
    ('4', '3', '2', '1', one to a row, a wide gap either side) can come back as one line as tall as
    the column ('WwW YPN'). The unsure words of such a line (taller than column_line line heights)
    are dropped from the reading, so their ink is uncovered and read again row by row as lost
    pieces; a sure word stands (a letterhead's logo that Tesseract put on one line with the two
    address lines beside it)."""
    cfg = settings()
    lines: dict[tuple[int, int, int], list[int]] = {}
    for i in kept:
        lines.setdefault((data["block_num"][i], data["par_num"][i], data["line_num"][i]), []).append(i)
    dropped = set()
    for words in lines.values():
        top = min(data["top"][i] for i in words)
        bottom = max(data["top"][i] + data["height"][i] for i in words)
        if bottom - top > cfg["column_line"] * height:
            dropped.update(i for i in words if float(data["conf"][i]) < cfg["unsure_below"])
    for i in dropped:
        data["text"][i], data["conf"][i] = "", -1
    return [i for i in kept if i not in dropped]


def _line_height(data: dict[str, list], kept: list[int]) -> float | None:
    """The page's usual word height in pixels (words with letters, read fairly surely)."""
    import statistics

    heights = [data["height"][i] for i in kept if float(data["conf"][i]) >= 60 and _LETTER_OR_DIGIT.search(data["text"][i])]
    return float(statistics.median(heights)) if len(heights) >= 3 else None


def ink_threshold(pixels: "np.ndarray") -> int:
    """Otsu's threshold of the image's grey levels: pixels this dark or darker are ink."""
    import numpy as np

    hist = grey_histogram(pixels).astype(np.float64)
    weight = np.cumsum(hist)
    mass = np.cumsum(hist * np.arange(256))
    total, mean = weight[-1], mass[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean * weight - mass * total) ** 2 / (weight * (total - weight))
    between[~np.isfinite(between)] = -1
    return int(np.argmax(between))


def grey_histogram(pixels: "np.ndarray", block: int = 1 << 20) -> "np.ndarray":
    """How many pixels have each grey level, counted a block at a time: np.bincount casts its input
    to 8-byte integers, which for a whole page at 300 dpi is 70 MB more (290 MB for a piece read twice the size)."""
    import numpy as np

    flat = pixels.reshape(-1)
    hist = np.zeros(256, dtype=np.int64)
    for start in range(0, flat.size, block):
        hist += np.bincount(flat[start:start + block], minlength=256)
    return hist


def _runs(flags: "np.ndarray", gap: int = 0) -> list[tuple[int, int]]:
    """The [start, end] runs of True in flags, runs less than gap apart joined."""
    import numpy as np

    idx = np.flatnonzero(flags)
    if not len(idx):
        return []
    breaks = np.flatnonzero(np.diff(idx) > gap + 1)
    starts = np.concatenate(([idx[0]], idx[breaks + 1]))
    ends = np.concatenate((idx[breaks], [idx[-1]]))
    return [(int(a), int(b)) for a, b in zip(starts, ends)]


def lost_lines(pixels: "np.ndarray", data: dict[str, list], kept: list[int], height: float, rules: "np.ndarray | None" = None) -> list[Crop]:
    """Pieces of text-like ink that no kept word covers: bands of inked rows of a text line's height,
    split where they are blank for more than a word's gap, each wide enough and inked like text."""
    import numpy as np

    cfg = settings()
    ink = pixels <= ink_threshold(pixels)
    if rules is not None:
        # what is left of a ruling line read.wipe_rules whitened (grey beyond its soft edges) is not text
        rows, cols = np.flatnonzero(rules.any(axis=1)), np.flatnonzero(rules.any(axis=0))
        if len(rows):
            y0, y1, x0, x1 = max(rows[0] - 3, 0), rows[-1] + 4, max(cols[0] - 3, 0), cols[-1] + 4
            ink[y0:y1, x0:x1] &= ~_near(rules[y0:y1, x0:x1] > 0, 3)
    m = int(round(cfg["cover_margin"] * height))
    # a word read below the floor covers nothing: its place is read again, and the second reading replaces it
    for i in kept:
        if float(data["conf"][i]) < cfg["floor"]:
            continue
        x, y, w, h = data["left"][i], data["top"][i], data["width"][i], data["height"][i]
        ink[max(y - m, 0):y + h + m, max(x - m, 0):x + w + m] = False
    rows = ink.sum(axis=1)
    crops: list[Crop] = []
    for a, b in _runs(rows >= cfg["row_ink"] * height, gap=int(0.15 * height)):
        band = b - a + 1
        if not cfg["band_min"] * height <= band <= cfg["band_max"] * height:
            continue
        columns = ink[a:b + 1].sum(axis=0)
        for x0, x1 in _runs(columns > 0, gap=int(cfg["gap_words"] * height)):
            width = x1 - x0 + 1
            share = columns[x0:x1 + 1].sum() / (width * band)
            if width < cfg["min_width"] * height or not cfg["min_ink"] <= share <= cfg["max_ink"]:
                continue
            pad = int(round(cfg["margin"] * height))  # the ends of letters cleared with a ruling line's edges
            crops.append(Crop("lost", max(x0 - pad, 0), max(a - pad, 0), min(x1 + 1 + pad, ink.shape[1]), min(b + 1 + pad, ink.shape[0]),
                              line=_line_beside(data, kept, a, b + 1)))
    return crops + _beside_lines(ink, data, kept, height, crops)


def _beside_lines(ink: "np.ndarray", data: dict[str, list], kept: list[int], height: float, found: list[Crop]) -> list[Crop]:
    """Narrow pieces of uncovered ink within the height of a line the page reading read: a table's
    row number that Tesseract read as a column of its own, or not at all. Too narrow and too thin
    for a lost line (a digit has ink in few pixels a row), they are looked for line by line, at
    least min_width_beside line heights wide and band_min tall, inked like text."""
    cfg = settings()
    lines: dict[tuple[int, int, int], list[int]] = {}
    for i in kept:
        if float(data["conf"][i]) >= cfg["floor"]:
            lines.setdefault((data["block_num"][i], data["par_num"][i], data["line_num"][i]), []).append(i)
    crops: list[Crop] = []
    pad = int(round(cfg["margin"] * height))
    for key, words in lines.items():
        top = min(data["top"][i] for i in words)
        bottom = max(data["top"][i] + data["height"][i] for i in words)
        if bottom - top > cfg["band_max"] * height:
            continue
        band = ink[top:bottom]
        for x0, x1 in _runs(band.sum(axis=0) > 0, gap=int(cfg["gap_words"] * height)):
            piece = band[:, x0:x1 + 1]
            inked = _runs(piece.any(axis=1))
            tall = inked[-1][1] - inked[0][0] + 1 if inked else 0
            share = piece.sum() / max(piece.size, 1)
            if x1 - x0 + 1 < cfg["min_width_beside"] * height or tall < cfg["band_min"] * height or not cfg["min_ink"] <= share <= cfg["max_ink"]:
                continue
            box = (max(x0 - pad, 0), max(top - pad, 0), min(x1 + 1 + pad, ink.shape[1]), min(bottom + pad, ink.shape[0]))
            if any(_box_overlap(box, (c.x0, c.y0, c.x1, c.y1)) > 0.5 for c in found + crops):
                continue
            crops.append(Crop("lost", *box, line=key))
    return crops


def _line_beside(data: dict[str, list], kept: list[int], top: int, bottom: int) -> tuple[int, int, int] | None:
    """The page line a lost piece stands on (most of the piece's height inside the line's), if any."""
    best, best_overlap = None, 0.0
    for i in kept:
        overlap = min(bottom, data["top"][i] + data["height"][i]) - max(top, data["top"][i])
        if overlap > 0.5 * (bottom - top) and overlap > best_overlap:
            best, best_overlap = (data["block_num"][i], data["par_num"][i], data["line_num"][i]), overlap
    return best


def unsure_words(data: dict[str, list], kept: list[int], height: float, shape: tuple[int, ...]) -> list[Crop]:
    """A piece of the page for each line holding words worth reading again that were read unsurely:
    the words with context_words either side, and a margin."""
    cfg = settings()
    lines: dict[tuple[int, int, int], list[int]] = {}
    for i in kept:
        lines.setdefault((data["block_num"][i], data["par_num"][i], data["line_num"][i]), []).append(i)
    crops: list[Crop] = []
    pad = int(round(cfg["margin"] * height))
    for words in lines.values():
        words.sort(key=lambda i: data["left"][i])
        unsure = [k for k, i in enumerate(words) if cfg["floor"] <= float(data["conf"][i]) < cfg["unsure_below"] and worth_rereading(data["text"][i])]
        if not unsure:
            continue
        a, b = max(unsure[0] - cfg["context_words"], 0), min(unsure[-1] + cfg["context_words"], len(words) - 1)
        top = min(data["top"][i] for i in words)
        bottom = max(data["top"][i] + data["height"][i] for i in words)
        # sideways, the piece stops short of the next word of the line, so no word is cut in two
        x0 = data["left"][words[a]] - pad
        if a > 0:
            x0 = max(x0, data["left"][words[a - 1]] + data["width"][words[a - 1]] + 2)
        x1 = data["left"][words[b]] + data["width"][words[b]] + pad
        if b + 1 < len(words):
            x1 = min(x1, data["left"][words[b + 1]] - 2)
        crops.append(Crop("unsure", max(x0, 0), max(top - pad, 0), min(x1, shape[1]), min(bottom + pad, shape[0]),
                          targets=[words[k] for k in unsure], context=words[a:b + 1]))
    return crops


def _near(mask: "np.ndarray", r: int) -> "np.ndarray":
    """The mask grown by r pixels each way (a square)."""
    out = mask.copy()
    for k in range(1, r + 1):
        out[k:] |= mask[:-k]
        out[:-k] |= mask[k:]
    grown = out.copy()
    for k in range(1, r + 1):
        grown[:, k:] |= out[:, :-k]
        grown[:, :-k] |= out[:, k:]
    return grown


def _past_wipes(lo: int, hi: int, wiped: "np.ndarray", reach: int = 4) -> tuple[int, int]:
    """[lo, hi) widened so that no wiped line touches its edges: a letter a wipe cut lies partly
    beyond it, and heal needs the pixels on both sides of the wipe."""
    n = len(wiped)
    while lo > 0 and wiped[max(lo - reach, 0):lo + reach].any():
        lo = max(lo - reach, 0)
    while hi < n and wiped[max(hi - reach, 0):hi + reach].any():
        hi = min(hi + reach, n)
    return lo, hi


def heal(piece: "np.ndarray", wiped: "np.ndarray", widest: int = 10) -> "np.ndarray":
    """The piece with the pixels its ruling lines' wipe whitened (wiped: bit 1 a horizontal rule's,
    bit 2 a vertical one's) painted back in from the pixels either side across the rule, so a letter
    that touched a rule is whole again (a wiped rule between blank paper stays blank)."""
    import numpy as np

    out = piece.astype(np.float32)
    for bit, axis in ((2, 1), (1, 0)):
        mask = (wiped & bit) > 0
        if mask.any():
            out = _across(out, mask, axis, widest)
    return out.astype(np.uint8)


def _across(values: "np.ndarray", mask: "np.ndarray", axis: int, widest: int) -> "np.ndarray":
    """values with each masked pixel interpolated from the nearest unmasked ones before and after it
    along axis; a run wider than widest or touching the piece's edge is left as it is."""
    import numpy as np

    if axis == 0:
        return _across(values.T, mask.T, 1, widest).T
    n = values.shape[1]
    idx = np.broadcast_to(np.arange(n), values.shape)
    before = np.maximum.accumulate(np.where(mask, -1, idx), axis=1)
    after = np.minimum.accumulate(np.where(mask, n, idx)[:, ::-1], axis=1)[:, ::-1]
    ok = mask & (before >= 0) & (after < n) & (after - before - 1 <= widest)
    b, a = np.clip(before, 0, n - 1), np.clip(after, 0, n - 1)
    t = (idx - b) / np.maximum(a - b, 1)
    filled = np.take_along_axis(values, b, axis=1) * (1 - t) + np.take_along_axis(values, a, axis=1) * t
    return np.where(ok, filled, values)


def prepare_piece(piece: "np.ndarray") -> "np.ndarray":
    """The second reading's preparation: the piece black on white, its grain and specks gone, its
    edges smooth. Thresholded (Otsu) at twice the size and shrunk back, since a small letter
    thresholded as it is comes out in steps that Tesseract misreads ("TS$18")."""
    import numpy as np
    from PIL import Image

    h, w = piece.shape
    big = np.asarray(Image.fromarray(piece).resize((2 * w, 2 * h), Image.BICUBIC))
    # uint8 throughout: np.where(..., 255, 0) makes an int64 array, 8 bytes a pixel of a piece twice the size
    black_white = np.where(big > ink_threshold(big), np.uint8(255), np.uint8(0))
    return np.asarray(Image.fromarray(black_white).resize((w, h), Image.BOX))


def read_crops(pixels: "np.ndarray", crops: list[Crop], height: float, timeout: float | None = None,
               rules: "np.ndarray | None" = None, dpi: float = 300) -> list[list[Word]]:
    """Each crop's words as (text, confidence, left, top, right, bottom) in page pixels, from one
    Tesseract call on an image of all the crops stacked with blank paper between them."""
    import numpy as np

    from pipeline.read import tesseract

    if rules is None:
        rules = np.zeros(pixels.shape, dtype=np.uint8)
    for c in crops:
        # a crop reaches past any rule wiped at its edges, so the letters it touched can be healed
        c.x0, c.x1 = _past_wipes(c.x0, c.x1, (rules[c.y0:c.y1] & 2).any(axis=0))
        c.y0, c.y1 = _past_wipes(c.y0, c.y1, (rules[:, c.x0:c.x1] & 1).any(axis=1))
    gap = int(round(1.5 * height))
    pieces = [heal(pixels[c.y0:c.y1, c.x0:c.x1], rules[c.y0:c.y1, c.x0:c.x1]) for c in crops]
    pieces = [p if c.grey else prepare_piece(p) for c, p in zip(crops, pieces)]
    width = max(p.shape[1] for p in pieces) + 2 * gap
    total = sum(p.shape[0] for p in pieces) + gap * (len(pieces) + 1)
    sheet = np.full((total, width), 255, dtype=np.uint8)
    places: list[int] = []
    y = gap
    for p in pieces:
        sheet[y:y + p.shape[0], gap:gap + p.shape[1]] = p
        places.append(y)
        y += p.shape[0] + gap
    found = tesseract.run_tesseract(sheet, 6, timeout, dpi)
    out: list[list[Word]] = [[] for _ in crops]
    for i, text in enumerate(found["text"]):
        conf = float(found["conf"][i])
        if not text.strip() or conf < 0:
            continue
        middle = found["top"][i] + found["height"][i] / 2
        for k, (crop, at, piece) in enumerate(zip(crops, places, pieces)):
            if at <= middle < at + piece.shape[0]:
                left = found["left"][i] - gap + crop.x0
                top = found["top"][i] - at + crop.y0
                out[k].append((text, conf, left, top, left + found["width"][i], top + found["height"][i]))
                break
    return out


def _overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return min(a[1], b[1]) - max(a[0], b[0]) > 0.3 * min(a[1] - a[0], b[1] - b[0])


def _align(first: dict[int, tuple[float, float]], second: dict[int, tuple[float, float]], start: int) -> tuple[list[int], list[int]]:
    """The words of two readings that stand over the word start of the first, and over those, until
    neither reading adds one (a word one reading split in two, "NW1 1BD" / "NW11BD", is compared
    whole); each side in reading order. first and second give each word's left and right."""
    group, other = {start}, set()
    while True:
        more = {j for j in second if j not in other and any(_overlaps(first[i], second[j]) for i in group)}
        other |= more
        grow = {i for i in first if i not in group and any(_overlaps(first[i], second[j]) for j in other)}
        if not more and not grow:
            break
        group |= grow
    return sorted(group, key=lambda i: first[i][0]), sorted(other, key=lambda j: second[j][0])


def combine(c1: float, c2: float) -> float:
    """Two readings that agree, as independent evidence: 1-(1-p1)(1-p2), in Tesseract's 0-100."""
    return round(100 * (1 - (1 - c1 / 100) * (1 - c2 / 100)), 1)


def _judge(first_words: list[str], c1: float, second_words: list[str], c2: float) -> tuple[str, float, str]:
    """Two readings of the same place: (confirmed, combined confidence, '') when they read the same
    characters, (disputed, the lower confidence, what the second read) when they do not."""
    if "".join(map(word_key, first_words)) == "".join(map(word_key, second_words)):
        return "confirmed", max(c1, combine(c1, c2)), ""
    # two fair readings that disagree leave the word in doubt, however sure each was
    return "disputed", min(c1, c2, settings()["disputed_at_most"]), " ".join(second_words)


def _compare(data: dict[str, list], crop: Crop, words: list[Word], notes: dict[int, Reread]) -> None:
    """Each unsure word against what the second reading read where it stands: confirmed, disputed, or
    (no word there, or none read above the floor) left as it was."""
    floor = settings()["floor"]
    first = {i: (data["left"][i], data["left"][i] + data["width"][i]) for i in crop.context}
    second = {j: (w[2], w[4]) for j, w in enumerate(words)}
    for target in crop.targets:
        group, again = _align(first, second, target)
        if not again:
            continue
        c1, c2 = float(data["conf"][target]), min(words[j][1] for j in again)
        if c2 < floor or c1 < floor:
            continue
        read = [data["text"][i] for i in group]
        kind, conf, other = _judge(read, c1, [words[j][0] for j in again], c2)
        data["conf"][target] = conf
        notes[target] = Reread(kind, c2, c1, other, " ".join(read) if other else "")


def _add_found(data: dict[str, list], crop: Crop, readings: list[list[Word]], notes: dict[int, Reread], k: int) -> None:
    """A lost line's words, added to the page's reading where they stand, when they read like text.

    The line was read twice (binarised and grey): the surer reading is the text, and the other confirms
    or disputes each of its words as a second reading does an unsure word's."""
    cfg = settings()
    readings = [[w for w in words if kept_word(w[0], w[1]) and _LETTER_OR_DIGIT.search(w[0])] for words in readings]
    readings.sort(key=lambda words: -sum(w[1] for w in words) / max(len(words), 1))
    words, others = readings[0], readings[1] if len(readings) > 1 else []
    first = {i: (w[2], w[4]) for i, w in enumerate(words)}
    second = {j: (w[2], w[4]) for j, w in enumerate(others)}
    judged: list[tuple[float, Reread]] = []
    for i, word in enumerate(words):
        group, again = _align(first, second, i)
        c1 = word[1]
        c2 = min((others[j][1] for j in again), default=-1.0)
        if c1 < cfg["floor"] or c2 < cfg["floor"]:
            judged.append((c1, Reread("single", c1, None, found=True)))
            continue
        read = [words[g][0] for g in group]
        kind, conf, other = _judge(read, c1, [others[j][0] for j in again], c2)
        judged.append((conf, Reread(kind, c2, c1, other, " ".join(read) if other else "", found=True)))
    if not words or sum(conf for conf, _ in judged) / len(judged) < cfg["found_mean"]:
        return
    # the page reading's words below the floor where the line was found are replaced by it
    for i in range(len(data["text"])):
        if 0 <= float(data["conf"][i]) < cfg["floor"] and data["text"][i].strip():
            x0, x1 = data["left"][i], data["left"][i] + data["width"][i]
            y0, y1 = data["top"][i], data["top"][i] + data["height"][i]
            if min(x1, crop.x1) - max(x0, crop.x0) > 0.5 * (x1 - x0) and min(y1, crop.y1) - max(y0, crop.y0) > 0.5 * (y1 - y0):
                data["conf"][i] = -1
    block, par, line = crop.line or (_FOUND_BLOCK + k, 1, 1)
    # a piece can reach over words the page reading read: they stand, and are not added twice
    standing = [(data["left"][i], data["top"][i], data["left"][i] + data["width"][i], data["top"][i] + data["height"][i])
                for i in range(len(data["text"])) if float(data["conf"][i]) >= cfg["floor"] and kept_word(data["text"][i], float(data["conf"][i]))]
    for n, ((text, _, left, top, right, bottom), (conf, note)) in enumerate(zip(words, judged), start=1):
        if any(_box_overlap((left, top, right, bottom), box) > 0.5 for box in standing):
            continue
        row = {"level": 5, "page_num": 1, "block_num": block, "par_num": par, "line_num": line, "word_num": 1000 + n,
               "left": left, "top": top, "width": right - left, "height": bottom - top, "conf": conf, "text": text}
        for column in data:
            data[column].append(row.get(column, 0))
        notes[len(data["text"]) - 1] = note


def _box_overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """The share of the smaller of two boxes (left, top, right, bottom) that the other covers."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    return w * h / max(min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1])), 1)


def _notes_by_word(data: dict[str, list], notes: dict[int, Reread]) -> dict[str, Reread]:
    """The notes keyed as the page's words are: the note of the reading that gave a word its best
    confidence (the confidence the page's words hold for it), if a second reading spoke for it."""
    best: dict[str, tuple[float, Reread | None]] = {}
    for i, word in enumerate(data["text"]):
        conf = float(data["conf"][i])
        if not kept_word(word, conf):
            continue
        key = word_key(word)
        if key not in best or conf > best[key][0]:
            best[key] = (conf, notes.get(i))
    return {key: note for key, (_, note) in best.items() if note is not None}


# ---------------------------------------------------------------- what a value's words went through


def rereads_at(text: "LetterText", offset: int) -> dict[str, Reread]:
    """The second readings' notes of the page at offset (none for a page not OCR'd by us)."""
    if not text.page_word_confidences:
        return {}
    return getattr(text.page_word_confidences[text.page_at(offset) - 1], "rereads", {})


def notes_for(text: "LetterText", start: int, end: int) -> list[tuple[str, Reread]]:
    """The value's words text[start:end] a second reading spoke for, with what it said."""
    notes = rereads_at(text, start)
    if not notes:
        return []
    out = []
    for word in text.text[start:end].split():
        key = word.strip(WORD_EDGES)
        if key in notes:
            out.append((key, notes[key]))
    return out


def method_suffix(text: "LetterText", start: int, end: int) -> str:
    """What fields.method gains for a value a second reading confirmed (+reread) or found in a line the
    page reading lost (+line-found)."""
    notes = [note for _, note in notes_for(text, start, end)]
    found = any(note.found for note in notes)
    confirmed = any(note.kind == "confirmed" and not note.found for note in notes)
    return ("+reread" if confirmed else "") + ("+line-found" if found else "")


def other_reading(text: "LetterText", value: str, start: int, end: int) -> str | None:
    """The value as the second reading read it, where two readings of the scan disagree on a word of
    it ("TS13 1LD" for "TS18 1LD"); None when none do, or the value is not written as read (a code)."""
    other = value
    for _, note in notes_for(text, start, end):
        if note.kind != "disputed":
            continue
        for read, instead in ((note.read, note.other), (note.read.strip(WORD_EDGES), note.other.strip(WORD_EDGES))):
            if read and read in other:
                other = other.replace(read, instead, 1)
                break
        else:
            return None
    return other if other != value else None


def disputed_word(text: "LetterText", word: str, offset: int) -> tuple[str, str] | None:
    """Where two readings of the scan disagree on this word of the page at offset: what the first read
    (the word, or it and the neighbour a reading joined it to) and what the second read instead."""
    note = rereads_at(text, offset).get(word)
    return (note.read, note.other) if note is not None and note.kind == "disputed" else None
