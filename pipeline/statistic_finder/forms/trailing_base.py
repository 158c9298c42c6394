"""`trailing base`: the whole written after the counts it is the whole of ("Twenty-two children's centres
were judged good, of 30 inspected"; "Nineteen schools were outstanding and 41 good, of 75 inspected in
the year"). The number is a base, never a count of its own, and each count before it in the sentence
that it can hold is counted out of it."""
from __future__ import annotations

from pipeline.statistic_finder.sentence import PUNCTUATION, Sentence

# what may follow the base before its clause ends: a time phrase ("in the year", "this year")
_TIME_WORDS = {"in", "during", "this", "last", "over", "the", "year", "period"}


class TrailingBaseForm:
    """Mixin of StatisticFinder (pipeline/statistic_finder/finder.py): methods over its sentence state."""

    def _trailing_base(self, s: Sentence, i: int, done: set[int]) -> int:
        q = self._quantity_at(s, i)
        if q is None or q.kind != "cardinal" or q.start == s.start or self._lower[q.start - 1] != "of":
            return i
        after = self._phrase_at(q.end, s.end, self.trailing_base_after)
        if not after:
            return i
        k = q.end + after
        while k < s.end and self._lower[k] in _TIME_WORDS:
            k += 1
        if k < s.end and self._lower[k] not in PUNCTUATION:
            return i
        counts = [st for st in s.stats if st.kind == "count" and st.denominator is None and st.value <= q.value]
        if not counts:
            return i
        for stat in counts:
            stat.denominator = q.value
        self._number(s, q, "distractor", "base")
        done.add(q.start)
        return q.end + after
