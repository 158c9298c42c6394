"""`partitive` and `ratio`: "two of the council's four children's homes", "13 out of 14", "nine in ten",
"none of the eight", "every one of the five", "both of the"."""
from __future__ import annotations

from pipeline.quantities import Quantity
from pipeline.statistic_finder.sentence import Base, Sentence


class PartitiveForm:
    """Mixin of StatisticFinder (pipeline/statistic_finder/finder.py): methods over its sentence state."""

    def _partitive(self, s: Sentence, i: int, done: set[int]) -> int:
        """"two of the council's four children's homes", "13 out of 14", "nine in ten", "nine of them"."""
        q = self._quantity_at(s, i)
        if q is None or q.kind != "cardinal":
            return i
        return self._partitive_from(s, i, q.end, q.value, [q], done)

    def _partitive_from(self, s: Sentence, i: int, j: int, value: float | None, parts: list[Quantity], done: set[int],
                        qualifier: str | None = None, universal: bool = False, quantifier: tuple[int, int] | None = None) -> int:
        n = self._phrase_at(j, s.end, self.links)
        if not n:
            return i
        link = " ".join(self._lower[j:j + n])
        k = self._determiners(j + n, s.end)
        qstart, qual = self._qualifier_before(s, i)
        qual = qualifier or qual
        base = self._quantity_at(s, k)
        if base is not None and base.kind == "cardinal" and base.start not in done:
            found = self._subject_after(s, base.end)
            if universal and value is None:
                value = base.value
            if link in self.ratio_links:
                subject, end = self._subject_for_amount(s, base.end, True)
                if found is not None:
                    subject, end = found[1], found[0]
                stat = self._stat(s, qstart, end, "ratio", "ratio", value, base.value, qual, subject)
                if subject is None:
                    stat.subject = self._nearby_subject(s, qstart)[0]
            elif found is not None:
                stat = self._stat(s, qstart, found[0], "count", "partitive", value, base.value, qual, found[1])
            else:
                subject = self._subject_of_base(s, base.value, qstart)
                stat = self._stat(s, qstart, base.end, "count", "partitive", value, base.value, qual, subject)
                if subject is None:
                    stat.problem = f"a partitive without its base: no service or setting is named for the {base.value:g}"
            self._check_denominator(stat)
            self._place(s, stat, parts, done, bases=[base], quantifier=quantifier)
            s.bases.append(Base(base.value, stat.subject, base.start, stat))
            return self._token_after(stat.end, base.end)
        if self._lower[k] in self.pronouns and link == "of":
            # "nine of them", "three of these": the base is the one named just before
            b = self._last_base(s, qstart)
            if b is not None:
                b.used = True
            subject = b.subject if b else None
            den = b.value if b else None
            stat = self._stat(s, qstart, k + 1, "count", "refer_back", value, den, qual, subject)
            if b is not None and b.stat is not None:
                s.refers[id(stat)] = b.stat
            if b is None or subject is None:
                stat.problem = f"{self._span_text(qstart, k + 1)!r} refers back to a base the sentence does not name"
            if value is None:
                stat.problem = "a quantifier over a base of unknown size"
            self._check_denominator(stat)
            self._place(s, stat, parts, done, quantifier=quantifier)
            return k + 1
        found = self._subject_after(s, k, max_modifiers=3)
        if found is not None and link == "of" and value is not None and (k > j + n or universal or value == 0):
            # "one of the special schools", "none of the secondary schools": no base number written
            stat = self._stat(s, qstart, found[0], "count", "partitive", value, None, qual, found[1])
            self._place(s, stat, parts, done, quantifier=quantifier)
            return found[0]
        return i

    def _quantified_partitive(self, s: Sentence, i: int, done: set[int]) -> int:
        """"none of the eight X", "every one of the five X", "each of the four X", "both of the X", "all of the 12 X"."""
        word = self._lower[i]
        if word in self.zero:
            if self._lower[i + 1:i + 2] != ["of"]:
                return i
            return self._partitive_from(s, i, i + 1, 0.0, [], done, qualifier=word, quantifier=(i, i + 1))
        if word in self.pair and self._lower[i + 1:i + 2] == ["of"]:
            k = self._determiners(i + 2, s.end)
            found = self._subject_after(s, k)
            if found is None:
                return i
            stat = self._stat(s, i, found[0], "count", "partitive", 2.0, 2.0, word, found[1])
            self._place(s, stat, [], done, quantifier=(i, i + 1))
            return found[0]
        n = self._phrase_at(i, s.end, self.universal)
        if n and self._lower[i + n:i + n + 1] == ["of"]:
            qual = " ".join(self._lower[i:i + n])
            return self._partitive_from(s, i, i + n, None, [], done, qualifier=qual, universal=True, quantifier=(i, i + n))
        return i
