"""Pages of text rebuilt from positioned pieces (PDF text runs, pdfplumber words, OCR words): lines
top to bottom, table cells joined by TAB, paragraphs apart; then the running heads, footers and
page numbers that repeat on every page taken away."""
from __future__ import annotations

import statistics
from dataclasses import dataclass, replace

import regex

from pipeline.config import compiled
from pipeline.records import Page


@dataclass
class Piece:
    """A run of text on one line and its box (points, top-left origin)."""

    x0: float
    x1: float
    top: float
    bottom: float
    text: str
    size: float | None = None  # the font size, where the PDF tells it (not for OCR'd words)

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 0.1)


# "Page 1 of 2", "- 2 -", "2/3"; OCR reads a 1 as "|", "l" or "I"
_PAGE_NUMBER = regex.compile(r"^[\s\W]*(page\s*)?(\d{1,3}|[\dIl|!]{0,3}\s*(of|/)\s*[\dIl|!]{1,3})[\s\W]*$", regex.IGNORECASE)


_DIGITS = regex.compile(r"\d+")


# a bullet, "page", or a date: what a running head on page 2+ carries
_RUNNING_HEAD = regex.compile(r"[·|•]|\bpage\b|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}|\d{1,2}\s+\p{L}+\s+\d{4}", regex.IGNORECASE)


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


def _gutters(line: list[Piece], least: float) -> list[tuple[float, float]]:
    """The gaps between a line's pieces at least `least` wide, widest first."""
    gaps = [(a.x1, b.x0) for a, b in zip(line, line[1:]) if b.x0 - a.x1 >= least]
    return sorted(gaps, key=lambda g: g[0] - g[1])


def _narrowed(line: list[Piece], gutter: tuple[float, float], least: float) -> tuple[float, float] | None:
    """The gutter narrowed to pass this line (a longer line of the address reaches into it), or None when a
    piece of the line stands across it (a line running the width of the page) or leaves it narrower than `least`."""
    a, b = gutter
    for piece in line:
        if piece.x1 <= a or piece.x0 >= b:
            continue
        if piece.x0 <= a and piece.x1 >= b:
            return None
        # a piece reaching in from one side, or standing inside: the wider part of the gutter is left
        a, b = max([(a, min(b, piece.x0)), (max(a, piece.x1), b)], key=lambda g: g[1] - g[0])
    return (a, b) if b - a >= least else None


def _gutter_run(lines: list[list[Piece]], seed: int, floor: int, gutter: tuple[float, float], least: float) -> tuple[int, int, float]:
    """The lines around the seed line (first, last) down which the gutter runs unbroken, no higher than
    floor, and the x of its middle."""
    last = seed
    while last + 1 < len(lines) and (narrower := _narrowed(lines[last + 1], gutter, least)):
        gutter, last = narrower, last + 1
    first = seed
    while first - 1 >= floor and (narrower := _narrowed(lines[first - 1], gutter, least)):
        gutter, first = narrower, first - 1
    return first, last, (gutter[0] + gutter[1]) / 2


def _bands(pieces: list[Piece]) -> list[tuple[float, float]]:
    return [(min(p.top for p in ln), max(p.bottom for p in ln)) for ln in _group_lines(pieces)]


def _rows_level(shorter: list[tuple[float, float]], other: list[tuple[float, float]], height: float) -> bool:
    """Whether the lines of one side stand level with lines of the other, as a table's cells in a row do:
    each line's distance to the nearest line across the gutter is the same for nearly all (nothing, or the
    drift of a tilted scan's text layer; a cell set in the middle of its row is the exception). Columns set
    independently, each in its own type and spacing, drift apart line by line."""
    centres = [(top + bottom) / 2 for top, bottom in other]
    offsets = [min((c - (top + bottom) / 2 for c in centres), key=abs) for top, bottom in shorter]
    drift = _median(offsets)
    level = sum(abs(d - drift) <= 0.2 * height for d in offsets)
    return abs(drift) <= 0.6 * height and level >= 0.75 * len(shorter)


def _side_by_side(left: list[Piece], right: list[Piece], height: float) -> list[Piece] | None:
    """The side column of two columns standing side by side, or None when they are not two columns: one
    side has a single line, they stand one above the other (a letterhead over the address block), or they
    are a table (the lines of the shorter side level with lines of the other: a row's cells start together),
    or both are set in one type. A side column is set apart in smaller type at its own line spacing, so few
    of its lines stand level with the text beside it."""
    left_bands, right_bands = _bands(left), _bands(right)
    if min(len(left_bands), len(right_bands)) < 2:
        return None
    shorter, other = sorted((left_bands, right_bands), key=len)
    beside = sum(any(top - height <= o_bottom and o_top <= bottom + height for o_top, o_bottom in other) for top, bottom in shorter)
    if beside < 0.6 * len(shorter):
        return None
    if _rows_level(shorter, other, height):
        return None
    smaller = _smaller_type(left, right)
    return None if smaller is None else left if smaller == 0 else right


def _smaller_type(left: list[Piece], right: list[Piece]) -> int | None:
    """Which side (0 left, 1 right) is set in smaller type, as a side column is; None when both are set
    alike (a table whose cells sit in the middle of their rows is not level, but its type is one). By
    the font sizes the PDF gives, else by the words' boxes (not a lone digit's), which vary more."""
    if all(p.size for p in left + right):
        sizes, margin = [_median([p.size for p in side]) for side in (left, right)], 1.1
    else:
        sizes, margin = [_median([p.height for p in side if len(p.text) >= 4] or [p.height for p in side]) for side in (left, right)], 1.2
    if max(sizes) <= margin * min(sizes):
        return None
    return 0 if sizes[0] < sizes[1] else 1


def reading_blocks(pieces: list[Piece]) -> list[list[Piece]]:
    """The page's pieces in the order they are read, block by block. A side column (a letterhead or a
    reference block running down the margin beside the address or the letter) is a block of its own, read
    before the text it stands beside, so its lines never join the address block or a sentence; the rest of
    the page is one flow. A side column is found by a gutter: a vertical band of white space running down a
    region of the page, with lines on both sides that are not the rows of a table."""
    lines = _group_lines(pieces)
    if len(lines) < 3:
        return [pieces]
    height = _median([p.height for p in pieces])
    least = max(1.2 * height, 10.0)
    sides: dict[int, list[Piece]] = {}
    main = [list(line) for line in lines]
    k = floor = 0
    while k < len(lines):
        for gutter in _gutters(lines[k], least):
            first, last, middle = _gutter_run(lines, k, floor, gutter, least)
            run = [p for line in lines[first:last + 1] for p in line]
            side = _side_by_side([p for p in run if p.x1 <= middle], [p for p in run if p.x0 >= middle], height)
            if side is not None and last - first >= 2:
                sides[first] = side
                taken = {id(p) for p in side}
                for j in range(first, last + 1):
                    main[j] = [p for p in main[j] if id(p) not in taken]
                k = last
                floor = last + 1
                break
        k += 1
    if not sides:
        return [pieces]
    blocks: list[list[Piece]] = []
    flow: list[Piece] = []
    for j, line in enumerate(main):
        if j in sides:
            blocks += [flow, sides[j]] if flow else [sides[j]]
            flow = []
        flow += line
    return blocks + ([flow] if flow else [])


def pieces_to_text(pieces: list[Piece], word_gap: bool = False, lines: list[list[Piece]] | None = None) -> str:
    """Lines top to bottom, cells joined by TAB, a blank line where a new paragraph starts; a side
    column read as a block of its own (reading_blocks), before the text it stands beside.

    A line whose text sits under the later cells of a table row (a wrapped label or
    description) is joined to those cells.
    """
    if lines is None and pieces:
        blocks = reading_blocks(pieces)
        if len(blocks) > 1:
            # the page's usual gap between lines tells a paragraph break in every block alike
            usual = _usual_gap(_line_boxes(_group_lines(pieces)))
            return "\n\n".join(_block_text(block, word_gap, usual=usual) for block in blocks)
    return _block_text(pieces, word_gap, lines)


def _line_boxes(lines: list[list[Piece]]) -> list[tuple[float, float, float]]:
    """Each line's top, bottom and median piece height."""
    return [(min([p.top for p in ln]), max([p.bottom for p in ln]), _median([p.height for p in ln])) for ln in lines]


def _usual_gap(boxes: list[tuple[float, float, float]]) -> float:
    gaps = [b[0] - a[1] for a, b in zip(boxes, boxes[1:]) if b[0] - a[1] > 0]
    return statistics.median(gaps) if gaps else 0.0


def _block_text(pieces: list[Piece], word_gap: bool = False, lines: list[list[Piece]] | None = None, usual: float | None = None) -> str:
    lines = lines if lines is not None else _group_lines(pieces)
    if not lines:
        return ""
    boxes = _line_boxes(lines)
    usual = _usual_gap(boxes) if usual is None else usual
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
