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
