"""Numbers that are not statistics, each under a named rule (the `rule` column of the numbers table), and
what becomes of a number no form took."""
from __future__ import annotations

import regex

from pipeline.indicators import indicator_lead
from pipeline.quantities import Quantity
from pipeline.records import NumberSpan
from pipeline.statistic_finder.sentence import Sentence

_YEAR = regex.compile(r"(?:19|20)\d\d")

# a number glued to the word after it ("4of"), not an ordinal ("4th"), a decade ("1990s") or a time ("10am")
_GLUED_NUMBER = regex.compile(r"\d+(?!(?:st|nd|rd|th|s|am|pm)$)\p{Ll}{2,}")



class DistractorRules:
    """Mixin of StatisticFinder (pipeline/statistic_finder/finder.py): methods over its sentence state."""

    # ---- distractors ---------------------------------------------------------------------
    def _distractor_rule(self, s: Sentence, q: Quantity, blocked: list[tuple[int, int]]) -> str | None:
        lower = self._lower
        if q.kind == "ordinal":
            return "ordinal"
        a, b = self._chars(q.start, q.end)
        a -= s.char_start
        if any(x <= a < y for x, y in blocked):
            return "date"
        word = lower[q.start]
        if not q.in_words and q.kind == "cardinal":
            if word.startswith("0") and len(word) >= 3:
                return "telephone"
            if _YEAR.fullmatch(word) and self._subject_after(s, q.end) is None:
                return "year"
        n, rule = self.before_rules.before(self._lower, q.start, s.start)
        if n:
            return rule
        if q.kind == "percentage":
            return None
        if q.end in s.subjects:
            return None  # "23 day nurseries": the word after is a setting's name, not a duration
        n, rule = self.after_rules.at(self._lower, q.end, s.end)
        if n:
            return rule
        return "compound_modifier" if self._compound_modifier(s, q) else None

    def _compound_modifier(self, s: Sentence, q: Quantity) -> bool:
        """"the three-tier system", "a two-year plan": a number glued by a hyphen to a word that is no setting
        describes that word and counts nothing."""
        j = q.end
        if j + 1 >= s.end or self._lower[j] != "-" or j + 1 in s.subjects:
            return False
        glued = self._ends[j - 1] == self._starts[j] and self._ends[j] == self._starts[j + 1]
        return glued and self._lower[j + 1].isalpha()

    def _distractors(self, s: Sentence) -> dict[int, str]:
        """The named rule that explains each quantity that is no statistic, by its first token."""
        sentence_text = self._text[s.char_start:self._chars(s.start, s.end)[1]]
        blocked = [(m.start(), m.end()) for m in self.dates.finditer(sentence_text)]
        blocked += [(m.start(), m.end()) for m in self.month_year.finditer(sentence_text)]
        rules = {q.start: r for q in s.quantities if (r := self._distractor_rule(s, q, blocked))}
        # "level 2 and 3", "16 to 18 year olds", "Page 1 of 2": a number joined to an explained one shares its rule
        for _ in range(2):
            for q1, q2 in zip(s.quantities, s.quantities[1:]):
                gap = self._lower[q1.end:q2.start]
                if not gap and rules.get(q1.start) == "telephone" and q2.start not in rules:
                    rules[q2.start] = "telephone"  # "08456 40 40 40"
                    continue
                if gap not in (["and"], ["or"], ["to"], ["-"], ["and", "/", "or"], ["of"], ["/"]):
                    continue
                if gap == ["of"] and rules.get(q1.start) != "page":
                    continue
                for x, y in ((q1, q2), (q2, q1)):
                    if x.start in rules and y.start not in rules and y.kind != "percentage" and self._subject_after(s, y.end) is None:
                        rules[y.start] = rules[x.start]
        return rules

    def _unread_digits(self, start: int, end: int, quantities: list[Quantity], inside: set[int]) -> list[NumberSpan]:
        """Words with digits the grammar could not read ("4of": OCR lost a space): a number may hide in
        them, so each is unexplained and the letter's statistics go to a person."""
        read = {i for q in quantities for i in range(q.start, q.end)} | inside
        out = []
        for i in range(start, end):
            if i not in read and _GLUED_NUMBER.fullmatch(self._text[self._starts[i]:self._ends[i]]):
                out.append(NumberSpan(self._starts[i], self._ends[i], self._text[self._starts[i]:self._ends[i]], "unexplained", ""))
        return out

    # ---- what is left ----------------------------------------------------------------------
    def _unplaced(self, s: Sentence, q: Quantity) -> None:
        """A number no form took: explained when nothing in its clause is judged, else unexplained."""
        a, _ = self._chars(q.start, q.end)
        clause = self._clause_of(s, a - s.char_start)
        judged = any(clause[0] <= self._chars(j[0], j[1])[0] - s.char_start < clause[1] for j in s.judgements)
        lead = indicator_lead(self._text[s.char_start:a]) if q.kind == "cardinal" and not judged else None
        if lead is not None:
            # "the number of first-time entrants fell to 312": an outcome indicator stated as a count
            stat = self._stat(s, q.start, q.end, "indicator", "count", q.value, None, None, lead.subject)
            stat.measure = lead.measure
            self._place(s, stat, [q], set())
        elif q.value == 1 and q.in_words and q.kind == "cardinal" and not judged:
            self._number(s, q, "distractor", "pronoun_one")
        elif not judged:
            self._number(s, q, "distractor", "not_judged")
        else:
            self._number(s, q, "unexplained", "")
