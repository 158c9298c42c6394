"""How well a page's text reads, so that of two readings of a page the better one is kept."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache

import regex

from pipeline.config import DATA


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
