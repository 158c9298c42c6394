"""The statistic finder: the spaCy component that reads a narrative sentence by sentence, trying each form
of statistic at each word (pipeline/statistic_finder/forms/), naming each distractor, assigning judgements
and checking what it found."""
from __future__ import annotations

import regex
from spacy.attrs import ENT_IOB, ENT_TYPE, IDX, IS_SPACE, LENGTH, SENT_START
from spacy.strings import hash_string
from spacy.tokens import Doc

from pipeline.config import patterns
from pipeline.quantities import QuantityGrammar
from pipeline.records import NumberSpan, Statistic
from pipeline.relations import fold_relations
from pipeline.statistic_finder.words import WordReading
from pipeline.statistic_finder.distractors import DistractorRules
from pipeline.statistic_finder.checks import StatisticChecks
from pipeline.statistic_finder.judgements import JudgementAssignment
from pipeline.statistic_finder.forms.ranges import RangeForm
from pipeline.statistic_finder.forms.fronted import FrontedForm
from pipeline.statistic_finder.forms.partitive import PartitiveForm
from pipeline.statistic_finder.forms.amounts import AmountForm
from pipeline.statistic_finder.forms.counts import CountForm
from pipeline.statistic_finder.forms.refer_back import ReferBackForm
from pipeline.statistic_finder.forms.trailing_base import TrailingBaseForm
from pipeline.statistic_finder.sentence import CLAUSE_STARTS, Base, Sentence, phrase_index, rule_index


class StatisticFinder(WordReading, DistractorRules, StatisticChecks, JudgementAssignment, RangeForm, FrontedForm, PartitiveForm, AmountForm, CountForm, TrailingBaseForm, ReferBackForm):
    """Finds statistics and accounts for numbers: doc._.statistics and doc._.numbers."""


    def __init__(self, vocabulary: dict) -> None:
        v = vocabulary
        self.grammar = QuantityGrammar(v["numbers"])
        q = v["quantifiers"]
        self.zero = set(q["zero"])
        self.universal = phrase_index(q["universal"])
        self.pair = set(q["pair"])
        self.determiners = phrase_index(q["determiners"])
        self.possessive_marks = set(q["possessive_marks"])
        self.pronouns = set(q["pronouns"])
        self.links = phrase_index(q["links"])
        self.measure_nouns = phrase_index(v["judgements"]["measure_nouns"])
        self.ratio_links = set(q["ratio_links"])
        self.refer_back_after = phrase_index(q["refer_back_after"])
        self.trailing_base_after = phrase_index(q["trailing_base_after"])
        self.vague = set(q["vague"])
        self.remainder = set(q["remainder"])
        self.qualifiers = phrase_index(v["qualifiers"]["words"])
        self.range_openers = set(v["qualifiers"]["range_openers"])
        self.range_links = set(v["qualifiers"]["range_links"])
        # words that may open a statistic without being a number ("none of", "every one of", "between", "Of the")
        self.subject_label, self.judgement_label = hash_string("SUBJECT"), hash_string("JUDGEMENT")
        self.triggers = self.zero | self.pair | set(self.universal.by_first) | self.range_openers | {"of"}
        self.before_rules = rule_index(v["distractors"]["before"])
        self.after_rules = rule_index(v["distractors"]["after"])
        self.generic = {g.lower() for g in v["subjects"]["generic"]}
        self.judgement_words = {w for p in v["judgements"]["phrases"] for w in p.lower().split()}
        self.modifiers = {m.lower() for m in v["subjects"]["modifiers"]}
        self.inherit = [w.lower() for w in v["clauses"]["inherit"]]
        negations = "|".join(regex.escape(n).replace(r"\ ", r"\s+") for n in sorted(v["judgements"]["negations"], key=len, reverse=True))
        self.negation = regex.compile(rf"\b({negations})\s+(?:(?:judged|rated|graded|found|considered|deemed|yet|as|to\s+be)\s+){{0,2}}$", regex.IGNORECASE)
        openers = "|".join(v["clauses"]["openers"])
        self.clause_break = regex.compile(rf"[;:]\s+|,\s+(?=(?:{openers})\b)|\s+-\s+", regex.IGNORECASE)
        dates = patterns()["dates"]
        self.dates = regex.compile(
            "|".join(f"(?:{dates[k]})" for k in ("day_month_year", "month_day_year", "numeric", "iso")), regex.IGNORECASE
        )
        self.month_year = regex.compile(
            rf"\b(?:{'|'.join(dates['months'])})[a-z]*\.?\s+(?:19|20)\d\d\b|\b(?:19|20)\d\d\s*(?:-|/|to)\s*(?:19|20)?\d\d\b(?!\s*(?:%|per\s*cent|percent))", regex.IGNORECASE
        )

    # ---- the doc -------------------------------------------------------------------------
    def __call__(self, doc: Doc) -> Doc:
        # white space tokens ("Four of the\tfive", a double space) are no words: the grammar reads past them
        # offsets and lengths as arrays: building a Token object for each word costs more than the grammar
        text = doc.text
        # one list per attribute: a list per token would cost more than the grammar's own work
        offsets, lengths, spaces, sent_starts, iobs, labels = doc.to_array([IDX, LENGTH, IS_SPACE, SENT_START, ENT_IOB, ENT_TYPE]).T.tolist() if len(doc) else ([],) * 6
        index = [0] * (len(doc) + 1)  # doc token -> position among the words
        sentence_starts = [i for i, start in enumerate(sent_starts) if start == 1 or i == 0]
        k = 0
        for i, space in enumerate(spaces):
            index[i] = k
            k += not space
        index[len(doc)] = k
        self._starts = [idx for idx, space in zip(offsets, spaces) if not space]
        self._ends = [idx + length for idx, length, space in zip(offsets, lengths, spaces) if not space]
        self._lower = lower = [text[a:b].lower() for a, b in zip(self._starts, self._ends)]
        self._text = text
        self._used_elsewhere: list[Statistic] = []  # count statistics a later sentence refers back to
        subjects: dict[int, tuple[int, str]] = {}
        judgements: list[tuple[int, int, str]] = []
        inside: set[int] = set()
        last_subject: int | None = None  # first word of the setting that ends where the next may begin
        for first, after, label in self._entities(iobs, labels):
            a, b = index[first], index[after]
            inside.update(range(a, b))
            phrase = text[offsets[first]:offsets[after - 1] + lengths[after - 1]]
            if label == self.subject_label and last_subject is not None and subjects[last_subject][0] == a:
                # "school" + "sixth forms": two setting names side by side name one setting
                start_char = self._starts[last_subject]
                subjects[last_subject] = (b, text[start_char:offsets[after - 1] + lengths[after - 1]])
            elif label == self.subject_label:
                subjects[a] = (b, phrase)
                last_subject = a
            elif label == self.judgement_label and not self._phrase_at(b, len(self._lower), self.measure_nouns):
                judgements.append((a, b, phrase))  # not "good GCSEs": a grade word in a measure of attainment
        stats: list[Statistic] = []
        numbers: list[NumberSpan] = []
        previous: list[Base] = []
        for first, after in zip(sentence_starts, sentence_starts[1:] + [len(doc)]):
            start, end = index[first], index[after]
            # "sixth form colleges": a number inside a setting's or a grade's name is part of the name
            quantities = [q for q in self.grammar.scan(lower, start, end) if q.start not in inside]
            numbers.extend(self._unread_digits(start, end, quantities, inside))
            if not quantities and not any(lower[i] in self.zero or lower[i] in self.pair for i in range(start, end)):
                previous = []
                continue
            if start == end:
                continue
            s = Sentence(
                start, end, self._starts[start],
                {k: v for k, v in subjects.items() if start <= k < end},
                [j for j in judgements if start <= j[0] < end],
                quantities,
            )
            s.previous = previous
            self._read_sentence(s)
            stats.extend(s.stats)
            numbers.extend(s.numbers)
            previous = s.bases
        # "The county has nine special schools. Seven of them are outstanding.": the nine, judged
        # nowhere, is the base of the seven and no statistic of its own
        for stat in [r for r in stats if r.form == "count" and r.judgement is None and any(b is r for b in self._used_elsewhere)]:
            stats.remove(stat)
            for n in numbers:
                if n.statistic is stat:
                    n.role, n.rule, n.statistic = "distractor", "base", None
        self._used_elsewhere = []
        # "There are 1,350 registered childminders": a count nothing judges is no statistic, only a number the letter cites
        for stat in [r for r in stats if r.form == "count" and r.kind == "count" and r.judgement is None and not r.problem]:
            stats.remove(stat)
            for n in numbers:
                if n.statistic is stat:
                    n.role, n.rule, n.statistic = "distractor", "not_judged", None
        for i, stat in enumerate(stats):
            stat.stat_index = i
        doc._.statistics = stats
        doc._.numbers = sorted(numbers, key=lambda n: n.start)
        return doc

    @staticmethod
    def _entities(iobs: list[int], labels: list[int]) -> list[tuple[int, int, int]]:
        """The entity ruler's spans (first token, token after, label hash) from the IOB column."""
        found: list[tuple[int, int, int]] = []
        for i, iob in enumerate(iobs):
            if iob == 3:  # B
                found.append((i, i + 1, labels[i]))
            elif iob == 1 and found and found[-1][1] == i:  # I
                found[-1] = (found[-1][0], i + 1, found[-1][2])
        return found

    # ---- the sentence --------------------------------------------------------------------
    def _read_sentence(self, s: Sentence) -> None:
        rules = self._distractors(s)
        done: set[int] = set()  # first tokens of quantities already placed
        for q in s.quantities:
            if q.start in rules:
                self._number(s, q, "distractor", rules[q.start])
                done.add(q.start)
        i = s.start
        while i < s.end:
            nxt = self._statement(s, i, done)
            i = nxt if nxt > i else i + 1
        for q in s.quantities:
            if q.start not in done:
                self._unplaced(s, q)
        self._assign_judgements(s)
        fold_relations(s.stats, s.numbers, self._text)

    def _statement(self, s: Sentence, i: int, done: set[int]) -> int:
        """Try each form of statistic at token i; the token after what was read, or i."""
        lower = self._lower
        word = lower[i]
        if i not in s.by_start and word not in self.triggers:
            return i  # most tokens start no statistic
        if word == "of" and (i == s.start or lower[i - 1] in CLAUSE_STARTS):
            end = self._fronted(s, i, done)
            if end > i:
                return end
        if word in self.range_openers:
            end = self._range(s, i + 1, done, opener=i)
            if end > i:
                return end
        q = self._quantity_at(s, i)
        if q is not None and q.start in done:
            return q.end
        if q is not None:
            for form in (self._range, self._partitive, self._percentage_or_fraction, self._count, self._trailing_base, self._refer_back):
                end = form(s, i, done)
                if end > i:
                    return end
            return i
        for quantifier in (self._quantified_partitive, self._quantified_count):
            end = quantifier(s, i, done)
            if end > i:
                return end
        return i
