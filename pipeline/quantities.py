"""A grammar of quantity expressions over spaCy tokens: every number a sentence writes.

It reads cardinals in digits ("1,234", "2.5") or in words of any size ("forty-one", "one hundred
and twelve", "a hundred"), fractions ("two thirds", "three-quarters", "a quarter of", "half of"),
percentages ("70%", "70 per cent", "70 percent") and ordinals ("13th", "third", "twenty-first").
It knows nothing of statistics: the finder in `pipeline.nlp` decides what each quantity is. The
word lists are in pipeline/data/statistics.toml, [numbers].
"""
from __future__ import annotations

from dataclasses import dataclass

import regex

_DIGITS = regex.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_ORDINAL_DIGITS = regex.compile(r"\d+(?:st|nd|rd|th)")


@dataclass
class Quantity:
    """A number-like span: tokens [start, end) of the doc and the number they write."""

    start: int
    end: int
    value: float
    kind: str  # cardinal | percentage | fraction | ordinal
    denominator: float | None = None  # the 3 of "two thirds"
    in_words: bool = False
    # where the number itself ends, before any "%" or "per cent" (a range's first half needs it)
    number_end: int = 0


class QuantityGrammar:
    """Parses the quantities in a run of lower-cased tokens."""

    def __init__(self, numbers: dict) -> None:
        self.units: dict[str, int] = numbers["units"]
        self.teens: dict[str, int] = numbers["teens"]
        self.tens: dict[str, int] = numbers["tens"]
        self.hundred: dict[str, int] = numbers["hundred"]
        self.scales: dict[str, int] = numbers["scales"]
        self.fractions: dict[str, int] = numbers["fractions"]
        self.singular_fractions = set(numbers["singular_fractions"])
        self.standalone_fractions = set(numbers["standalone_fractions"])
        self.standalone_before = set(numbers["standalone_before"])
        self.ordinals: dict[str, int] = numbers["ordinals"]
        self.percent_signs = [tuple(p.split()) for p in numbers["percent_signs"]]
        # a tens word and a unit written as one ("fiftyeight"): OCR and some producers lose the hyphen
        self.fused: dict[str, int] = {t + u: tv + uv for t, tv in self.tens.items() for u, uv in self.units.items() if uv}
        self.number_words = set(self.units) | set(self.teens) | set(self.tens) | set(self.hundred) | set(self.scales) | set(self.fused)
        self.starts = self.number_words | self.standalone_fractions | set(self.ordinals) | {"a", "an"}

    def is_number_word(self, word: str) -> bool:
        return word in self.number_words

    def writes_a_number(self, word: str) -> bool:
        """Whether a word of the text is (part of) a number: digits, a number word or a fraction word."""
        return any(c.isdigit() for c in word) or word.lower() in self.number_words or word.lower() in self.fractions

    def scan(self, lower: list[str], start: int, end: int) -> list[Quantity]:
        """Every quantity in tokens [start, end), left to right, none overlapping."""
        found: list[Quantity] = []
        i = start
        while i < end:
            word = lower[i]
            q = None
            if word[:1].isdigit():
                q = self._digits(lower, i, end)
            elif word in self.starts:
                q = self._words(lower, i, end)
            if q is None:
                i += 1
                continue
            found.append(q)
            i = q.end
        return found

    def _digits(self, lower: list[str], i: int, end: int) -> Quantity | None:
        word = lower[i]
        if _ORDINAL_DIGITS.fullmatch(word):
            return Quantity(i, i + 1, float(word[:-2]), "ordinal", number_end=i + 1)
        if not _DIGITS.fullmatch(word):
            return None
        value = float(word.replace(",", ""))
        j = i + 1
        if j < end and lower[j] in self.scales:
            value *= self.scales[lower[j]]
            j += 1
        return self._after_number(lower, Quantity(i, j, value, "cardinal", number_end=j), end)

    def _words(self, lower: list[str], i: int, end: int) -> Quantity | None:
        word = lower[i]
        if word in ("a", "an"):
            # "a quarter of", "a third of", "a hundred"
            if i + 1 >= end:
                return None
            nxt = lower[i + 1]
            if nxt in self.singular_fractions and i + 2 < end and lower[i + 2] == "of":
                return Quantity(i, i + 2, 1.0, "fraction", float(self.fractions[nxt]), True, i + 2)
            if nxt in self.hundred or nxt in self.scales:
                parsed = self._cardinal(lower, i + 1, end, leading_one=True)
                if parsed:
                    return self._after_number(lower, Quantity(i, parsed[1], parsed[0], "cardinal", in_words=True, number_end=parsed[1]), end)
            return None
        if word in self.standalone_fractions:
            # "half of the schools", "half the schools"; not "half-term"
            if not (i + 1 < end and lower[i + 1] in self.standalone_before):
                return None
            return Quantity(i, i + 1, 1.0, "fraction", float(self.fractions[word]), True, i + 1)
        if word in self.ordinals:
            return Quantity(i, i + 1, float(self.ordinals[word]), "ordinal", in_words=True, number_end=i + 1)
        parsed = self._cardinal(lower, i, end)
        if parsed is None:
            return None
        value, j = parsed
        # "twenty-first": a tens word, a hyphen, an ordinal
        if j + 1 < end and lower[j] == "-" and lower[j + 1] in self.ordinals and lower[j - 1] in self.tens:
            return Quantity(i, j + 2, value + self.ordinals[lower[j + 1]], "ordinal", in_words=True, number_end=j + 2)
        return self._after_number(lower, Quantity(i, j, value, "cardinal", in_words=True, number_end=j), end)

    def _cardinal(self, lower: list[str], i: int, end: int, leading_one: bool = False) -> tuple[float, int] | None:
        """A cardinal in words from token i: its value and the token after it."""
        total, current, last = 0, 0, None
        if leading_one:
            current, last = 1, "unit"
        j = i
        while j < end:
            w = lower[j]
            if w in self.units and last in (None, "tens", "hundred", "scale", "and"):
                current += self.units[w]
                last = "unit"
            elif w in self.teens and last in (None, "hundred", "scale", "and"):
                current += self.teens[w]
                last = "teen"
            elif w in self.tens and last in (None, "hundred", "scale", "and"):
                current += self.tens[w]
                last = "tens"
            elif w in self.fused and last in (None, "hundred", "scale", "and"):
                current += self.fused[w]
                last = "unit"
            elif w in self.hundred and last in ("unit", "teen"):
                current *= self.hundred[w]
                last = "hundred"
            elif w in self.scales and last in ("unit", "teen", "tens", "hundred"):
                total += current * self.scales[w]
                current = 0
                last = "scale"
            elif w == "-" and last == "tens" and j + 1 < end and lower[j + 1] in self.units:
                pass  # "forty-one"
            elif w == "and" and last in ("hundred", "scale") and j + 1 < end and (
                lower[j + 1] in self.units or lower[j + 1] in self.teens or lower[j + 1] in self.tens
            ):
                last = "and"
            else:
                break
            j += 1
        if j == i or last == "and":
            return None
        return float(total + current), j

    def _after_number(self, lower: list[str], q: Quantity, end: int) -> Quantity:
        """A cardinal may go on as a fraction ("two thirds", "two-thirds") or a percentage ("70 per cent")."""
        j = q.end
        k = j + 1 if j < end and lower[j] == "-" else j
        if k < end and lower[k] in self.fractions and lower[k] not in self.standalone_fractions:
            word = lower[k]
            plural = word not in self.singular_fractions
            if plural or (q.value == 1 and k + 1 < end and lower[k + 1] == "of"):
                return Quantity(q.start, k + 1, q.value, "fraction", float(self.fractions[word]), q.in_words, q.number_end)
        for sign in self.percent_signs:
            n = len(sign)
            if tuple(lower[j:j + n]) == sign:
                return Quantity(q.start, j + n, q.value, "percentage", None, q.in_words, q.number_end)
        return q
