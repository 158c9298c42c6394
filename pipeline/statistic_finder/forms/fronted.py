"""`fronted`: the base first, the count after the comma ("Of the 12 children's homes inspected, nine are good",
"Of these, 11 were good")."""
from __future__ import annotations

from pipeline.statistic_finder.sentence import PUNCTUATION, Base, Sentence


class FrontedForm:
    """Mixin of StatisticFinder (pipeline/statistic_finder/finder.py): methods over its sentence state."""

    def _fronted(self, s: Sentence, i: int, done: set[int]) -> int:
        """"Of the 12 children's homes inspected, nine are good": the base first, the count after the comma."""
        if self._lower[i + 1:i + 2] and self._lower[i + 1] in self.pronouns and self._lower[i + 2:i + 3] == [","]:
            return self._fronted_pronoun(s, i, done)
        j = self._determiners(i + 1, s.end)
        base = self._quantity_at(s, j)
        subject_end, subject = j, None
        if base is not None:
            if base.start in done or base.kind != "cardinal":
                return i
            found = self._subject_after(s, base.end)
            after = base.end
        else:
            found = self._subject_after(s, j, max_modifiers=3)
            after = j
        if found is not None:
            subject_end, subject = found
        elif base is None:
            return i
        # the count comes after the first comma of the clause
        k = max(after, subject_end)
        while k < s.end and self._lower[k] not in PUNCTUATION:
            k += 1
        if k >= s.end or self._lower[k] != ",":
            if base is not None and subject is not None:
                s.bases.append(Base(base.value, subject, base.start))
            return i
        k += 1
        qual = None
        n = self._phrase_at(k, s.end, self.qualifiers)
        if n and self._quantity_at(s, k + n) is not None:
            qual = " ".join(self._lower[k:k + n])
            k += n
        count = self._quantity_at(s, k)
        value: float | None
        quantifier_end = k + max(self._phrase_at(k, s.end, self.universal), int(self._lower[k] in self.zero or self._lower[k] in self.pair))
        if quantifier_end > k and self._lower[quantifier_end:quantifier_end + 1] == ["of"]:
            return i  # "Of the settings inspected, none of the 3 short stay schools ...": a partitive of its own
        if count is not None and (self._phrase_at(count.end, s.end, self.links) or self._subject_after(s, count.end)):
            # "Of the settings inspected, only 6 of the 14 centres ...": the count has a base of its own
            return i
        if count is not None and count.start not in done and count.kind == "cardinal":
            value, count_end = count.value, count.end
        elif self._lower[k] in self.zero:
            value, count_end, count = 0.0, k + 1, None
        elif base is not None and (self._lower[k] in self.pair or self._phrase_at(k, s.end, self.universal)):
            # "Of the two special schools, each is outstanding", "..., all are good", "..., both are good"
            value, count_end, count = base.value, k + max(1, self._phrase_at(k, s.end, self.universal)), None
            qual = qual or " ".join(self._lower[k:count_end])
        else:
            return i  # the count after the comma is not one the grammar knows: let the other forms read the base
        den = base.value if base is not None else None
        stat = self._stat(s, i, count_end, "count", "fronted", value, den, qual, subject)
        stat.qualifier = qual
        self._check_denominator(stat)
        if subject is None:
            stat.problem = "a count whose base names no service or setting"
        self._place(s, stat, [count] if count else [], done, bases=[base] if base else [])
        s.bases.append(Base(den, subject, i, stat))
        return count_end

    def _fronted_pronoun(self, s: Sentence, i: int, done: set[int]) -> int:
        """"Inspectors visited 14 secure units. Of these, 11 were good.": the base is the one named before."""
        k = i + 3
        n = self._phrase_at(k, s.end, self.qualifiers)
        qual = " ".join(self._lower[k:k + n]) if n and self._quantity_at(s, k + n) is not None else None
        count = self._quantity_at(s, k + (n if qual else 0))
        if count is None or count.kind != "cardinal" or count.start in done:
            return i
        b = self._last_base(s, i, previous=i == s.start)
        if b is None or b.subject is None:
            return i
        self._count_of_base(s, i, count.end, count.value, [count], b, qual, done)
        return count.end
