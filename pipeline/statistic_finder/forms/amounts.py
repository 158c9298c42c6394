"""`percentage` and `fraction`: "over 70% of childminding", "two thirds of the 12 schools"."""
from __future__ import annotations

from pipeline.statistic_finder.sentence import Base, Sentence


class AmountForm:
    """Mixin of StatisticFinder (pipeline/statistic_finder/finder.py): methods over its sentence state."""

    def _percentage_or_fraction(self, s: Sentence, i: int, done: set[int]) -> int:
        q = self._quantity_at(s, i)
        if q is None or q.kind not in ("percentage", "fraction"):
            return i
        qstart, qual = self._qualifier_before(s, i)
        subject, end = self._subject_for_amount(s, q.end, True)
        base = None
        # "two thirds of the 12 schools", "70% of the 40 childminders": the base is written too
        j = q.end
        if self._lower[j:j + 1] == ["of"]:
            k = self._determiners(j + 1, s.end)
            base = self._quantity_at(s, k)
            if base is not None and base.kind == "cardinal" and base.start not in done:
                found = self._subject_after(s, base.end)
                if found is not None:
                    subject, end = found[1], found[0]
                else:
                    subject, end = self._subject_of_base(s, base.value, qstart), base.end
            else:
                base = None
        later = False
        if subject is None:
            subject, later = self._nearby_subject(s, qstart, q.end)
        kind = q.kind
        stat = self._stat(s, qstart, max(end, q.end), kind, kind, q.value, q.denominator, qual, subject)
        if later:
            # "46% of primary: schools are good, and five of the 18 secondary schools ...": the only setting
            # is named after it, with a statistic of its own
            stat.problem = f"no setting is named with it; {subject!r} is named only later in the sentence"
        self._place(s, stat, [q], done, bases=[base] if base else [])
        if base is not None:
            # "fewer than half of the 17 secondary schools ..., and 2 are ...": later counts may refer to the 17
            s.bases.append(Base(base.value, subject, base.start, stat))
        return max(end, q.end)
