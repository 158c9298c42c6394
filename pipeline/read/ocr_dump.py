"""Text files that are another program's OCR of a scan: told apart by the scanner's specks at the edges
of their lines, and cleared of them so the letter's landmarks ("Dear ...", a name, a title) read again.

Our own OCR drops specks by Tesseract's word confidence (reread.kept_word); a text dump has no
confidences, so a speck is known by where it stands and what it is: marks alone at a line's edge, or a
one- or two-letter lower-case token that is no word of the letters' vocabulary.
"""
from __future__ import annotations

from functools import lru_cache

import regex

from pipeline.config import patterns
from pipeline.read.quality import letter_vocabulary

OCR_DUMP_METHOD = "ocr-dump"


_TOKEN = regex.compile(r"[^ \t]+")  # a form feed stays inside its token: it is a page break, not a space


@lru_cache(maxsize=1)
def _speck_shape() -> regex.Pattern:
    """A token shaped like a speck: one to three marks, or one or two lower-case letters."""
    return regex.compile(rf"(?:{patterns()['ocr_dump']['speck_marks']}){{1,3}}|\p{{Ll}}{{1,2}}")


def _is_speck(token: str) -> bool:
    return bool(_speck_shape().fullmatch(token)) and (not token.isalpha() or token not in letter_vocabulary())


def line_specks(line: str) -> tuple[int, int]:
    """Where a line's words start and end once the specks at its edges are left out: (start, end). The
    last token standing is never a speck (a line of marks alone keeps its last)."""
    tokens = list(_TOKEN.finditer(line))
    first = 0
    while first < len(tokens) - 1 and _is_speck(tokens[first].group()):
        first += 1
    while first and not tokens[first].group()[0].strip():  # a form feed opens no words: the specks stand
        first -= 1
    last = len(tokens)
    while last - 1 > first and _is_speck(tokens[last - 1].group()):
        last -= 1
    start = tokens[first].start() if first else 0
    end = min(tokens[last - 1].end(), len(line.rstrip())) if tokens else 0
    return start, max(end, start)


def speck_share(text: str) -> float:
    """The share of a text's lines with a speck at either edge."""
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines:
        return 0.0
    specked = sum(line_specks(line) != (len(line) - len(line.lstrip()), len(line.rstrip())) for line in lines)
    return specked / len(lines)


def is_ocr_dump(text: str) -> bool:
    """Whether a text file reads as another program's OCR of a scan (see patterns.toml [ocr_dump])."""
    return speck_share(text) >= patterns()["ocr_dump"]["min_speck_share"]


def clear_line_specks(text: str) -> str:
    """The text with the specks at its lines' edges taken away."""
    lines = []
    for line in text.split("\n"):
        start, end = line_specks(line)
        lines.append(line[start:end])
    return "\n".join(lines)
