"""`refer_back`: a count of a base named before it ("..., and three are satisfactory", "with one being good")."""
from __future__ import annotations

from pipeline.quantities import Quantity
from pipeline.records import Statistic
from pipeline.statistic_finder.sentence import Base, Sentence


class ReferBackForm:
    """Mixin of StatisticFinder (pipeline/statistic_finder/finder.py): methods over its sentence state."""

    def _refer_back(self, s: Sentence, i: int, done: set[int]) -> int:
        """"..., and three are satisfactory", "with one being good": a count of a base named before."""
        q = self._quantity_at(s, i)
        if q is None or q.kind != "cardinal" or not q.in_words and q.value != int(q.value):
            return i
        if not self._phrase_at(q.end, s.end, self.refer_back_after):
            return i
        qstart, qual = self._qualifier_before(s, i)
        # a bare count takes a base from the sentence before only when it opens its sentence ("Seven are good.")
        b = self._last_base(s, q.start, previous=qstart == s.start)
        if b is None or b.subject is None:
            return i
        self._count_of_base(s, qstart, q.end, q.value, [q], b, qual, done)
        return q.end

    def _count_of_base(self, s: Sentence, start: int, end: int, value: float, values: list[Quantity], b: Base,
                       qual: str | None, done: set[int], quantifier: tuple[int, int] | None = None) -> Statistic:
        """Record a count of a base named before it ("three are good", "Of these, 11", "none is"): out of
        the base when the base is at least as large, and the base marked as counted from."""
        den = b.value if b.value is not None and b.value >= value else None
        stat = self._stat(s, start, end, "count", "refer_back", value, den, qual, b.subject)
        self._place(s, stat, values, done, quantifier=quantifier)
        b.used = True
        if b.stat is not None:
            s.refers[id(stat)] = b.stat
        return stat
