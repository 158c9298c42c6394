"""Reading the words of a sentence: where a token is, the phrase at or before it, the setting a number
counts, and the building blocks every form uses to record a statistic and account for its numbers."""
from __future__ import annotations

from spacy.lang.en.stop_words import STOP_WORDS

from pipeline.quantities import Quantity
from pipeline.records import NumberSpan, Statistic
from pipeline.statistic_finder.sentence import Base, Phrases, Sentence


class WordReading:
    """Mixin of StatisticFinder (pipeline/statistic_finder/finder.py): methods over its sentence state."""

    # ---- helpers over tokens -------------------------------------------------------------
    def _chars(self, a: int, b: int) -> tuple[int, int]:
        return self._starts[a], self._ends[b - 1]

    def _span_text(self, a: int, b: int) -> str:
        s, e = self._chars(a, b)
        return self._text[s:e]

    def _phrase_at(self, i: int, end: int, phrases: Phrases) -> int:
        """Length in tokens of the longest phrase starting at token i, 0 if none."""
        return phrases.at(self._lower, i, end)[0]

    def _phrase_before(self, i: int, start: int, phrases: Phrases) -> int:
        """Length in tokens of the longest phrase ending just before token i, 0 if none."""
        return phrases.before(self._lower, i, start)[0]

    def _subject_after(self, s: Sentence, i: int, max_modifiers: int = 2) -> tuple[int, str] | None:
        """The subject written right after token i ("three special schools", "three inspected children's homes"),
        a grade phrase between them included ("no inadequate nursery schools": the grade is the count's judgement,
        which _assign_judgements reads inside the statistic)."""
        j = i
        skipped = 0
        graded = False
        free: int | None = None  # a describing word the vocabulary does not know ("38 high schools")
        while j < s.end:
            if j in s.subjects:
                end, phrase = s.subjects[j]
                if free is not None:
                    phrase = self._text[self._starts[free]:self._ends[end - 1]]
                return end, phrase
            if skipped < max_modifiers and self._lower[j] in self.modifiers:
                j += 1
                skipped += 1
                continue
            if not graded and s.grade_ends.get(j, j) > j:
                j = s.grade_ends[j]
                graded = True
                continue
            if free is None and skipped < max_modifiers and self._describes(j):
                free = j
                j += 1
                skipped += 1
                continue
            return None
        return None

    def _describes(self, j: int) -> bool:
        """Whether token j can describe a setting named after it: a lower-case content word, no number,
        grade or participle ("in 2009 judged services" is a year and a verb, not 2009 services)."""
        word = self._lower[j]
        return (word.isalpha() and word not in STOP_WORDS and not self.grammar.writes_a_number(word)
                and self._text[self._starts[j]].islower() and word not in self.judgement_words
                and not word.endswith(("ed", "ing")))

    def _determiners(self, i: int, end: int) -> int:
        """The token after a determiner phrase at i: "the", "its", "the council's", "Bromley's" (or i)."""
        j = i + self._phrase_at(i, end, self.determiners)
        # a possessive of one to three words: "council's", "the local authority's", "Bromley's"
        for n in (1, 2, 3):
            k = j + n
            if k < end and self._lower[k] in self.possessive_marks and all(
                self._lower[m].isalpha() and not self.grammar.is_number_word(self._lower[m]) for m in range(j, k)
            ):
                return k + 1
        return j

    def _token_after(self, char_end: int, j: int) -> int:
        """The first token at or after j that starts beyond char_end (a statistic may end at its subject)."""
        while j < len(self._starts) and self._starts[j] < char_end:
            j += 1
        return j

    def _quantity_at(self, s: Sentence, i: int) -> Quantity | None:
        return s.by_start.get(i)

    def _qualifier_before(self, s: Sentence, i: int) -> tuple[int, str | None]:
        """The hedge before token i ("over", "just under", "only"): its first token and its words."""
        n = self._phrase_before(i, s.start, self.qualifiers)
        if n:
            return i - n, " ".join(self._lower[i - n:i])
        return i, None

    # ---- building blocks -------------------------------------------------------------------
    def _stat(self, s: Sentence, a: int, b: int, kind: str, form: str, value: float | None, den: float | None,
              qual: str | None, subject: str | None) -> Statistic:
        start, end = self._chars(a, b)
        stat = Statistic(self._text[start:end], start, end, "", kind, value if value is not None else float("nan"), den, qual, subject)
        stat.form = form
        stat.sentence = self._text[s.char_start:self._chars(s.start, s.end)[1]].strip()
        if value is None:
            stat.problem = "a quantifier over a base of unknown size"
        return stat

    def _place(self, s: Sentence, stat: Statistic, values: list[Quantity], done: set[int],
               bases: list[Quantity] | None = None, quantifier: tuple[int, int] | None = None) -> None:
        """Record the statistic and account for the numbers it rests on: its value(s), and the base it is out of."""
        s.stats.append(stat)
        for rule, parts in (("value", values), ("denominator", bases or [])):
            for q in parts:
                done.add(q.start)
                self._number(s, q, "statistic", rule, stat)
        if quantifier is not None:
            a, b = quantifier
            done.update(q.start for q in s.quantities if a <= q.start < b)  # the "one" of "every one of"
            start, end = self._chars(a, b)
            s.numbers.append(NumberSpan(start, end, self._text[start:end], "statistic", "quantifier", stat))
        self._check_leftovers(s, stat)

    def _number(self, s: Sentence, q: Quantity, role: str, rule: str, stat: Statistic | None = None) -> None:
        start, end = self._chars(q.start, q.end)
        s.numbers.append(NumberSpan(start, end, self._text[start:end], role, rule, stat))

    def _subject_for_amount(self, s: Sentence, j: int, allow_of: bool) -> tuple[str | None, int]:
        """The subject of a percentage or fraction: right after it, or after "of the"."""
        found = self._subject_after(s, j)
        if found is not None:
            return found[1], found[0]
        if allow_of and self._lower[j:j + 1] == ["of"]:
            k = self._determiners(j + 1, s.end)
            found = self._subject_after(s, k)
            if found is not None:
                return found[1], found[0]
        return None, j

    def _subject_of_base(self, s: Sentence, value: float, before: int) -> str | None:
        """The subject of "five of the nine": the base of nine named earlier, in this sentence or the one before."""
        for b in reversed(s.bases):
            if b.token < before and b.value == value and b.subject:
                return b.subject
        for stat in reversed(s.stats):
            if stat.value == value and stat.subject and stat.form in ("count",):
                return stat.subject
        # "provision in nursery schools is very good, with 13 out of 14 inspected ...": the setting named last before it
        named = sorted((k, t) for k, (e, t) in s.subjects.items() if e <= before)
        specific = [t for _, t in named if t.lower() not in self.generic]
        if specific:
            return specific[-1]
        return named[-1][1] if named else None

    def _last_base(self, s: Sentence, before: int, previous: bool = True) -> Base | None:
        """The whole a count refers back to: the last base named before it in the sentence, else, when
        the sentence names no setting before it, the last base of the sentence before."""
        candidates = [b for b in s.bases if b.token < before]
        if candidates:
            return candidates[-1]
        named = [(k, t) for k, (e, t) in s.subjects.items() if e <= before]
        if previous and not named and s.previous and s.previous[-1].stat is not None and s.previous[-1].subject:
            base = s.previous[-1]
            self._used_elsewhere.append(base.stat)
            return base
        specific = [(k, t) for k, t in named if t.lower() not in self.generic]
        if len({t.lower() for _, t in specific}) == 1:
            return Base(None, specific[-1][1], specific[-1][0])
        return None

    def _nearby_subject(self, s: Sentence, start: int, figure_end: int | None = None) -> tuple[str | None, bool]:
        """The subject of a number that stands apart from it: the nearest named setting before it, else
        after; and whether that setting, named after it, is another number's (a number between the figure,
        ending at token figure_end, and the setting)."""
        end = start if figure_end is None else figure_end
        before = [(k, t) for k, (e, t) in s.subjects.items() if e <= start]
        after = [(k, t) for k, (e, t) in s.subjects.items() if k >= start]
        for pool in (list(reversed(before)), after):
            specific = [(k, t) for k, t in pool if t.lower() not in self.generic]
            if specific:
                return specific[0][1], self._counted_between(s, end, specific[0][0])
        if before:
            return before[-1][1], False
        return (after[0][1], self._counted_between(s, end, after[0][0])) if after else (None, False)

    @staticmethod
    def _counted_between(s: Sentence, start: int, k: int) -> bool:
        """Whether another number stands between a figure at token start and a setting named later at token k:
        the setting is then that number's ("46% ..., and five of the 18 secondary schools"), not the figure's."""
        return k > start and any(start <= q.start < k for q in s.quantities)
