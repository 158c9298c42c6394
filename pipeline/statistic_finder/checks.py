"""A statistic checked against itself: a value above its base, a number word or hyphen left at its edge."""
from __future__ import annotations

import regex

from pipeline.records import Statistic
from pipeline.statistic_finder.sentence import Sentence

_WORD_BEFORE = regex.compile(r"([\p{L}\d]+)(-?)\s*$")

_WORD_AFTER = regex.compile(r"\s*(-?)([\p{L}\d]+)")

_HYPHEN_AT_END = regex.compile(r"[-\u2010\u2011]$")



class StatisticChecks:
    """Mixin of StatisticFinder (pipeline/statistic_finder/finder.py): methods over its sentence state."""

    def _check_denominator(self, stat: Statistic) -> None:
        if stat.denominator is not None and stat.value == stat.value and stat.value > stat.denominator:
            stat.problem = f"the value {stat.value:g} is above its denominator {stat.denominator:g}"
        if stat.denominator == 0:
            stat.problem = "a denominator of zero"

    def _check_leftovers(self, s: Sentence, stat: Statistic) -> None:
        """A number word or hyphen glued to a statistic's edge means the grammar read only part of it."""
        text = self._text
        before = text[max(0, stat.start - 12):stat.start]
        after = text[stat.end:stat.end + 12]
        word_before = _WORD_BEFORE.search(before)
        word_after = _WORD_AFTER.match(after)
        # a number beside it that a rule already explains ("at Key Stage 4 only 48% of pupils") is no part of it
        explained = [(n.start, n.end) for n in s.numbers if n.role == "distractor"]
        if word_before and any(e == stat.start - len(before) + word_before.end(1) for _, e in explained):
            word_before = None
        if word_after and any(b == stat.end + word_after.start(2) for b, _ in explained):
            word_after = None
        if _HYPHEN_AT_END.search(before) or (word_before and word_before[2]):
            stat.problem = stat.problem or f"a hyphen before {stat.text!r}: part of a longer number?"
        elif word_before and (self.grammar.is_number_word(word_before[1].lower()) or word_before[1].isdigit()):
            stat.problem = stat.problem or f"the number {word_before[1]!r} stands just before {stat.text!r}"
        if word_after and word_after[1] and stat.text[-1:].isalnum():
            stat.problem = stat.problem or f"a hyphen after {stat.text!r}: part of a longer number?"
        elif word_after and (self.grammar.is_number_word(word_after[2].lower()) or word_after[2].isdigit()) and not stat.value_high:
            stat.problem = stat.problem or f"the number {word_after[2]!r} stands just after {stat.text!r}"
