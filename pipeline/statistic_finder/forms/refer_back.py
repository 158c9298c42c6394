"""`refer_back`: a count of a base named before it ("..., and three are satisfactory", "with one being good")."""
from __future__ import annotations

from pipeline.statistic_finder.sentence import Sentence


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
        den = b.value if b.value is not None and b.value >= q.value else None
        stat = self._stat(s, qstart, q.end, "count", "refer_back", q.value, den, qual, b.subject)
        self._place(s, stat, [q], done)
        b.used = True
        if b.stat is not None:
            s.refers[id(stat)] = b.stat
        return q.end
