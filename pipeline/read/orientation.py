"""Which way up a scanned page lies, told as cheaply as possible, so a turned page is turned before
it is read rather than after a reading that is thrown away (README, "OCR's cost per page").

Three tests, cheapest first:

- `on_its_side`: a page's lines of ink run down it (its dark pixels vary more by column than by row);
- `upside_down`: English type has more ink above its x-height band (ascenders, capitals, digits)
  than below it (descenders): a page whose text lines carry more ink below their bands than above
  lies upside down. Milliseconds on the prepared page; on the dev-set's 26 scanned pages and the
  OCR benchmark's 20, upright pages score +0.20 to +0.79 (`ink_balance`) and the same pages turned
  -0.19 to -0.81;
- Tesseract's orientation detection (OSD, 0.2-0.45 s a page), asked only when the ink cannot tell or
  the reading of a page comes back as fragments (`known_words`, `standing_words`).

Settings are in data/ocr.toml, [orientation].
"""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from pipeline.config import load_toml
from pipeline.read import tesseract

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image


@lru_cache(maxsize=1)
def settings() -> dict[str, Any]:
    return load_toml("ocr.toml")["orientation"]


def on_its_side(image: "Image.Image") -> bool:
    """Whether the page's lines of ink run down it rather than across: its dark pixels (darker than
    [ocr] ink_level) counted by column vary more than counted by row (by side_ratio). Upright letters
    measure 0.1-0.3, pages on their side 3-7; a few milliseconds on a copy a quarter the size."""
    import numpy as np

    factor = max(1, round(image.width / 600))
    small = np.asarray(image.reduce(factor) if factor > 1 else image)
    ys, xs = np.nonzero(small < load_toml("ocr.toml")["ocr"]["ink_level"])
    if len(ys) < 200:
        return False
    return float(np.var(np.bincount(xs))) > settings()["side_ratio"] * float(np.var(np.bincount(ys)))


class InkBalance(NamedTuple):
    """The ink of a level page's text lines above their x-height bands against the ink below them."""

    score: float  # (above - below) / (above + below): about +0.2 to +0.8 upright, as much below 0 turned
    lines: int  # the text lines it was measured on
    outside: float  # the ink above and below the bands, as a share of all the lines' ink


def ink_balance(pixels: "np.ndarray", dpi: float, ink: float) -> InkBalance:
    """For each text line (a run of rows with ink, between a 24th and half an inch high), the rows
    at least half as dark as its darkest row are its x-height band; the ink above the band and the
    ink below it are summed over the lines, leaving out the rows next to each band, which a tilt
    left by the straightening blurs alike for every letter (a page of capitals, with no ink beyond
    its bands but that, would otherwise seem to lean one way). Rows are counted inside a margin of
    the page's edges, above the ink every row has (a photograph's paper edge, a scanner's border)."""
    import numpy as np

    cfg = settings()
    h, w = pixels.shape
    margin_y, margin_x = int(cfg["ink_margin"] * h), int(cfg["ink_margin"] * w)
    dark = pixels[margin_y:h - margin_y, margin_x:w - margin_x] < ink
    rows = dark.sum(axis=1).astype(np.int64)
    if not rows.size:
        return InkBalance(0.0, 0, 0.0)
    rows = np.maximum(rows - int(np.percentile(rows, 10)), 0)
    inked = rows > max(2, cfg["ink_row_share"] * dark.shape[1])
    edges = np.flatnonzero(np.diff(np.concatenate(([0], inked.astype(np.int8), [0]))))
    edge = 1 + int(dpi) // 200
    above = below = total = lines = 0
    for start, stop in zip(edges[::2], edges[1::2]):
        if not dpi / 24 <= stop - start <= dpi / 2:
            continue
        line = rows[start:stop]
        band = np.flatnonzero(line >= 0.5 * line.max())
        above += int(line[:max(band[0] - edge, 0)].sum())
        below += int(line[band[-1] + 1 + edge:].sum())
        total += int(line.sum())
        lines += 1
    return InkBalance((above - below) / max(above + below, 1), lines, (above + below) / max(total, 1))


def upside_down(pixels: "np.ndarray", dpi: float, ink: float) -> bool | None:
    """Whether a level page lies upside down by its ink (ink_balance): True when its score is under
    -ink_verdict, False over it, None when the ink cannot tell (too few lines, too little ink beyond
    the bands: capitals, figures, a picture)."""
    cfg = settings()
    balance = ink_balance(pixels, dpi, ink)
    if balance.lines < cfg["ink_lines"] or balance.outside < cfg["ink_outside"] or abs(balance.score) < cfg["ink_verdict"]:
        return None
    return balance.score < 0


def osd_upright(image: "Image.Image", timeout: float | None) -> "Image.Image | None":
    """The page turned as Tesseract's orientation detection (OSD) says it must be to stand upright;
    None when OSD finds it upright, cannot tell, or is unsure (under osd_confidence)."""
    from PIL import Image

    found = tesseract.orientation(image, timeout)
    if found is None or found[0] == 0 or found[1] < settings()["osd_confidence"]:
        return None
    # OSD's turn is clockwise; PIL's transpositions are counter-clockwise
    return image.transpose({90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}[found[0]])


def standing_words(data: dict[str, list]) -> float:
    """The share of a reading's longer words (four characters or more) whose boxes are taller than
    wide: Tesseract reads the lines of a page lying on its side as vertical text, every word right
    and every box on end, so the words alone do not say the page is turned."""
    from pipeline.read.reread import kept_word

    longer = [i for i, text in enumerate(data["text"]) if len(text.strip()) >= 4 and kept_word(text, float(data["conf"][i]))]
    return sum(data["height"][i] > data["width"][i] for i in longer) / len(longer) if longer else 0.0


def known_words(data: dict[str, list]) -> tuple[int, float]:
    """How many of a reading's words are words of the letters (data/letter_words.txt, authorities'
    names), and their share of its words: a page read upside down or sideways gives fragments."""
    import regex

    from pipeline.read.quality import letter_vocabulary
    from pipeline.read.reread import kept_word

    vocabulary = letter_vocabulary()
    words = [w.lower() for i, text in enumerate(data["text"]) if kept_word(text, float(data["conf"][i]))
             for w in regex.findall(r"\p{L}+", text)]
    known = sum(w in vocabulary for w in words)
    return known, known / len(words) if words else 0.0


def reads_upright(known: int, share: float, on_end: bool) -> bool:
    """Whether a page's reading looks like an upright page's: enough of the letters' words (known_words
    over upright_words and upright_share), their boxes lying level (not on_end: standing_words)."""
    return known >= settings()["upright_words"] and share >= settings()["upright_share"] and not on_end
