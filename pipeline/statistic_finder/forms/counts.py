"""`count`: "three special schools", "All 53 primary schools", "no secondary schools", "both special schools",
and "seven schools out of ten" (a ratio); "none is inadequate" refers back."""
from __future__ import annotations

from pipeline.quantities import Quantity
from pipeline.statistic_finder.sentence import Base, Sentence


class CountForm:
    """Mixin of StatisticFinder (pipeline/statistic_finder/finder.py): methods over its sentence state."""

    def _count(self, s: Sentence, i: int, done: set[int]) -> int:
        """"three special schools", "All 53 primary schools", "the council's two pupil referral units"."""
        q = self._quantity_at(s, i)
        if q is None or q.kind != "cardinal":
            return i
        found = self._subject_after(s, q.end)
        if found is None:
            return i
        qstart, qual = self._qualifier_before(s, i)
        ratio = self._ratio_after(s, q, found[0], done)
        if ratio is not None:
            # "seven schools out of ten": a ratio, not ten schools
            stat = self._stat(s, qstart, ratio.end, "ratio", "ratio", q.value, ratio.value, qual, found[1])
            self._check_denominator(stat)
            self._place(s, stat, [q], done, bases=[ratio])
            return ratio.end
        stat = self._stat(s, qstart, found[0], "count", "count", q.value, None, qual, found[1])
        of = self._of_before(s, qstart)
        if of is not None:
            # "of the 12 schools" with no count before "of": "most of the 12 schools", or a count OCR lost
            word = self._lower[of - 1] if of > s.start else ""
            if word in self.vague:
                self._number(s, q, "distractor", "vague_partitive")
                done.add(q.start)
                s.bases.append(Base(q.value, found[1], q.start))
                return found[0]
            if not (word.isalpha() and len(word) > 1):
                stat.problem = f"{self._span_text(max(s.start, of - 1), found[0])!r}: a partitive whose count could not be read"
        self._place(s, stat, [q], done)
        s.bases.append(Base(q.value, found[1], q.start, stat))
        return found[0]

    def _ratio_after(self, s: Sentence, q: Quantity, j: int, done: set[int]) -> Quantity | None:
        """The M of "N settings out of M" / "N settings in M", when M names no setting of its own."""
        n = self._phrase_at(j, s.end, self.links)
        if not n or self._lower[j:j + n] == ["of"]:
            return None
        whole = self._quantity_at(s, j + n)
        if whole is None or whole.kind != "cardinal" or whole.start in done or whole.value < q.value:
            return None
        return whole if self._subject_after(s, whole.end) is None else None

    def _of_before(self, s: Sentence, i: int) -> int | None:
        """The token of an "of" whose determiners lead up to token i ("of the council's 12"), if any."""
        for k in range(i - 1, max(s.start, i - 6) - 1, -1):
            if self._lower[k] == "of" and self._determiners(k + 1, s.end) == i:
                return k
        return None

    def _quantified_count(self, s: Sentence, i: int, done: set[int]) -> int:
        """"no secondary schools are inadequate", "both special schools are good"."""
        word = self._lower[i]
        if word in self.zero and self._phrase_at(i + 1, s.end, self.refer_back_after) and self._lower[i + 1:i + 2] != [","]:
            # "Of the 36 schools, 30 are good and none is inadequate": none of a base named before
            b = self._last_base(s, i, previous=i == s.start)
            if b is not None and b.subject is not None:
                self._count_of_base(s, i, i + 1, 0.0, [], b, word, done, quantifier=(i, i + 1))
                return i + 1
        if word in self.zero or word in self.pair:
            j = self._determiners(i + 1, s.end) if word in self.pair else i + 1
            found = self._subject_after(s, j)
            if found is None:
                return i
            if word in self.zero and found[1].lower() in self.generic:
                return i  # "no schools" in general is no count of a named setting
            value = 0.0 if word in self.zero else 2.0
            stat = self._stat(s, i, found[0], "count", "count", value, None, word, found[1])
            self._place(s, stat, [], done, quantifier=(i, i + 1))
            s.bases.append(Base(value, found[1], i, stat))
            return found[0]
        return i
