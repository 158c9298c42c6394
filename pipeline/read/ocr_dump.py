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


@lru_cache(maxsize=1)
def _speck_edges() -> tuple[regex.Pattern, regex.Pattern]:
    marks = patterns()["ocr_dump"]["speck_marks"]
    token = rf"(?:{marks}{{1,3}}|\p{{Ll}}{{1,2}})"
    before = regex.compile(rf"^[ \t]*(?P<specks>(?:{token}[ \t]+)+)(?=\S)")
    after = regex.compile(rf"(?P<specks>(?:[ \t]+{token})+)[ \t]*$")
    return before, after


def _is_speck(token: str) -> bool:
    return not token.isalpha() or token not in letter_vocabulary()


def line_specks(line: str) -> tuple[int, int]:
    """Where a line's words start and end once the specks at its edges are left out: (start, end)."""
    before, after = _speck_edges()
    start, end = 0, len(line.rstrip())
    found = before.match(line)
    if found:
        tokens = found["specks"].split()
        kept = 0
        while kept < len(tokens) and _is_speck(tokens[kept]):
            kept += 1
        if kept:
            start = found.start("specks") + len(" ".join(tokens[:kept])) if kept < len(tokens) else found.end()
            start = len(line) - len(line[start:].lstrip())
    found = after.search(line, start)
    if found:
        tokens = found["specks"].split()
        dropped = 0
        while dropped < len(tokens) and _is_speck(tokens[-1 - dropped]):
            dropped += 1
        if dropped:
            cut = found.start("specks")
            for token in tokens[: len(tokens) - dropped]:
                cut = line.index(token, cut) + len(token)
            end = cut
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
