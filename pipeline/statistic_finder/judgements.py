"""Which grade phrase each statistic of a sentence is about, clause by clause; outcome indicators get none."""
from __future__ import annotations

import regex

from pipeline.indicators import read_indicator
from pipeline.statistic_finder.sentence import Sentence


# between a statistic and a second setting named with its own: "... of childminding and childcare"
_JOINED = regex.compile(r"\s+(?:and|or|&)\s+")


class JudgementAssignment:
    """Mixin of StatisticFinder (pipeline/statistic_finder/finder.py): methods over its sentence state."""

    # ---- judgements ------------------------------------------------------------------------
    def _clauses(self, text: str) -> list[tuple[int, int]]:
        cuts = [0] + [m.start() for m in self.clause_break.finditer(text)] + [len(text)]
        return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]

    def _clause_of(self, s: Sentence, offset: int) -> tuple[int, int]:
        text = self._text[s.char_start:self._chars(s.start, s.end)[1]]
        clauses = self._clauses(text)
        return next(((a, b) for a, b in clauses if a <= offset < b), (0, len(text)))

    def _negation_before(self, before: str) -> str:
        """"are not yet good", "were less than good", "are no longer outstanding": the negation is part of
        the judgement as written ("not yet good"), never dropped to leave "good"."""
        found = self.negation.search(before)
        return found.group(1).lower() + " " if found else ""

    def _about_another(self, s: Sentence, a: int, b: int) -> bool:
        """Whether another setting, or "the other", is named between character offsets a and b; a setting
        joined to the statistic's own by "and" ("65% of childminding and childcare is good") is not another."""
        if any(a <= self._starts[k] < b and not _JOINED.fullmatch(self._text[a:self._starts[k]]) for k in s.subjects):
            return True
        return any(w.strip(",;") in self.remainder for w in self._text[a:b].lower().split())

    def _assign_judgements(self, s: Sentence) -> None:
        if not s.stats:
            return
        text = self._text[s.char_start:self._chars(s.start, s.end)[1]]
        clauses = self._clauses(text)
        judgements = [(self._chars(a, b)[0] - s.char_start, self._chars(a, b)[1] - s.char_start, t) for a, b, t in s.judgements]
        own: dict[int, bool] = {}  # whether a statistic's judgement stands in its own clause
        for stat in s.stats:
            start, end = stat.start - s.char_start, stat.end - s.char_start
            index = next((i for i, (a, b) in enumerate(clauses) if a <= start < b), 0)
            c_start, c_end = clauses[index]
            # a grade word after another named setting, or after "the other", is about that, not this statistic
            # nor is one after a count that refers back to this statistic ("21 schools include four that are outstanding")
            limit = min((r.start - s.char_start for r in s.stats if s.refers.get(id(r)) is stat and r.start > stat.start), default=len(text))
            after = [j for j in judgements if j[0] >= end and j[1] <= min(c_end, limit)
                     and not self._about_another(s, stat.end, s.char_start + j[0])]
            chosen = None
            in_clause = [j for j in judgements if j[1] <= start and j[0] >= c_start]
            indicator = None
            if not after and not in_clause and stat.kind == "percentage":
                adjacent = bool(stat.subject) and stat.text.endswith(str(stat.subject))
                indicator = read_indicator(text[c_start:start], text[:start], text[end:c_end], stat.subject, adjacent)
            if indicator is not None:
                # "56% of pupils attained ...": an outcome no inspection judged, not a grade word's statistic
                stat.kind, stat.subject, stat.measure = "indicator", indicator.subject, indicator.measure
                own[id(stat)] = False
                continue
            # "no inadequate nursery schools", "three outstanding children's centres": a count's grade written between
            # its number and its setting; one written after it too, and other, leaves the statistic in doubt. In a
            # partitive's base ("each of the 20 outstanding childminders") the grade picks out the base: no judgement
            inside = [j for j in judgements if start <= j[0] and j[1] <= end] if stat.form == "count" else []
            if inside:  # a grade after a later statistic is that one's ("no inadequate schools and 97% are good")
                after = [j for j in after if not any(end <= o.start - s.char_start < j[0] for o in s.stats if o is not stat)]
            if inside and after and inside[0][2].lower() != after[0][2].lower():
                stat.problem = stat.problem or f"graded {inside[0][2]!r} before its setting and {after[0][2]!r} after it"
            if inside:
                s.used_judgements.add(inside[0][0])
            if after:
                chosen = after[0]
            elif inside:
                chosen = inside[0]
            else:
                inherits = any(w in text[c_start:start].lower() for w in self.inherit)
                before = in_clause
                earlier = [j for j in judgements if j[1] <= start]
                later = [j for j in judgements if end <= j[0] < limit]
                if before and not inherits:
                    chosen = before[-1]
                elif earlier:
                    chosen = earlier[-1]
                elif later:
                    chosen = later[0]
            if chosen is not None:
                stat.judgement = self._negation_before(text[c_start if c_start <= chosen[0] else 0:chosen[0]]) + chosen[2].lower()
                s.used_judgements.add(chosen[0])
            own[id(stat)] = chosen is not None and c_start <= chosen[0] < c_end
        # "The council has 12 homes: nine of them are good": a count that later counts refer back to,
        # judged nowhere in its own clause, is their base and no statistic of its own
        for b in s.bases:
            if b.used and b.stat is not None and b.stat.form == "count" and b.stat in s.stats and not own.get(id(b.stat)):
                s.stats.remove(b.stat)
                for n in s.numbers:
                    if n.statistic is b.stat:
                        n.role, n.rule, n.statistic = "distractor", "base", None
        # a grade word after the last statistic of its clause, with no other setting named between them, went to no statistic
        for a, b, t in judgements:
            if a in s.used_judgements:
                continue
            clause = next(((x, y) for x, y in clauses if x <= a < y), None)
            prior = [st for st in s.stats if clause and clause[0] <= st.start - s.char_start < a]
            if not prior:
                continue
            last = prior[-1].end - s.char_start
            if self._about_another(s, prior[-1].end, s.char_start + a):
                continue  # "... and the special school is good", "... and the other is good"
            if any(last <= n.start - s.char_start < a for n in s.numbers if n.role == "distractor"):
                continue
            prior[-1].problem = prior[-1].problem or f"the grade word {t!r} after {prior[-1].text!r} went to no statistic"
