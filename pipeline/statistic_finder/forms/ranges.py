"""`range`: "between 60% and 70%", "from 10 to 12 schools"."""
from __future__ import annotations

from pipeline.statistic_finder.sentence import Sentence


class RangeForm:
    """Mixin of StatisticFinder (pipeline/statistic_finder/finder.py): methods over its sentence state."""

    # ---- forms -----------------------------------------------------------------------------
    def _range(self, s: Sentence, i: int, done: set[int], opener: int | None = None) -> int:
        q1 = self._quantity_at(s, i)
        if q1 is None or q1.start in done or q1.kind not in ("cardinal", "percentage"):
            return i
        j = q1.end
        if j >= s.end or self._lower[j] not in self.range_links:
            return i
        q2 = self._quantity_at(s, j + 1)
        if q2 is None or q2.start in done or q2.kind not in ("cardinal", "percentage"):
            return i
        if self._lower[j] == "and" and opener is None:
            return i  # "2 and 3" is two numbers; "between 2 and 3" is a range
        percentage = q2.kind == "percentage"
        if not percentage and (q1.kind == "percentage" or self._subject_after(s, q2.end) is None):
            return i
        if q2.value < q1.value:
            return i
        start = opener if opener is not None else q1.start
        qstart, qual = self._qualifier_before(s, start)
        end = q2.end
        subject, end = self._subject_for_amount(s, q2.end, percentage)
        stat = self._stat(s, qstart, end, "percentage" if percentage else "count", "range", q1.value, None, qual, subject)
        stat.value_high = q2.value
        self._place(s, stat, [q1, q2], done)
        return end
