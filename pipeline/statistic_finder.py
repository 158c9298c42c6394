"""The statistics a narrative cites, and an account of every number in it.

Built on the grammar of quantities (`pipeline.quantities`) and the entity ruler's SUBJECT and
JUDGEMENT spans. Each quantity in a sentence ends up in exactly one place: part of a statistic,
a distractor explained by a named rule (a year, a key stage, an age ...), or `unexplained`. What
the finder cannot make sense of it says so, on the statistic (`problem`) or as an unexplained
number, so the letter goes to review instead of holding a wrong value.

Statistic forms (the `form` column):
- count: "three special schools", "no secondary schools", "all five nursery schools", "both"
- partitive: "two of the council's four children's homes", "13 out of 14", "none of the eight"
- fronted: "Of the 12 children's homes, nine are good"
- refer_back: a count of a base named before it, "... nine of them", "..., three are good"
- percentage, fraction ("two thirds of"), ratio ("nine in ten"), range ("between 60% and 70%")
"""
from __future__ import annotations

from dataclasses import dataclass, field

import regex
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.attrs import ENT_IOB, ENT_TYPE, IDX, IS_SPACE, LENGTH, SENT_START
from spacy.strings import hash_string
from spacy.tokens import Doc

from pipeline.config import patterns
from pipeline.indicators import indicator_lead, read_indicator
from pipeline.quantities import Quantity, QuantityGrammar
from pipeline.records import NumberSpan, Statistic
from pipeline.relations import fold_relations

_PUNCTUATION = {",", ";", ":", ".", "(", ")", "!", "?"}
_CLAUSE_STARTS = {",", ";", ":", "and", "but", "while", "whilst", "whereas", "however"}


@dataclass
class _Base:
    """A whole that later counts in the sentence can be part of ("Of the 12 homes", "five schools")."""

    value: float | None
    subject: str | None
    token: int
    stat: Statistic | None = None
    used: bool = False


@dataclass
class _Sentence:
    """One sentence being read: its tokens, entities and what has been found so far."""

    start: int
    end: int
    char_start: int
    subjects: dict[int, tuple[int, str]]
    judgements: list[tuple[int, int, str]]
    quantities: list[Quantity]
    stats: list[Statistic] = field(default_factory=list)
    numbers: list[NumberSpan] = field(default_factory=list)
    bases: list[_Base] = field(default_factory=list)
    used_judgements: set[int] = field(default_factory=set)
    by_start: dict[int, Quantity] = field(default_factory=dict)
    previous: list[_Base] = field(default_factory=list)  # the bases of the sentence before
    refers: dict[int, Statistic] = field(default_factory=dict)  # id of a refer-back statistic -> the statistic it counts part of

    def __post_init__(self) -> None:
        self.by_start = {q.start: q for q in self.quantities}


class _Phrases:
    """Word sequences, found at or just before a token; the longest wins. Indexed by their first and
    last word, since the finder asks at most tokens and most tokens begin no phrase."""

    def __init__(self, words: list[str], tag: str = "") -> None:
        self.by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        self.by_last: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        self.add(words, tag)

    def add(self, words: list[str], tag: str) -> None:
        for phrase in {tuple(w.lower().split()) for w in words}:
            self.by_first.setdefault(phrase[0], []).append((phrase, tag))
            self.by_last.setdefault(phrase[-1], []).append((phrase, tag))
        for index in (self.by_first, self.by_last):
            for entries in index.values():
                entries.sort(key=lambda e: len(e[0]), reverse=True)

    def at(self, lower: list[str], i: int, end: int) -> tuple[int, str]:
        """Length in tokens of the longest phrase starting at token i (0 if none), and its tag."""
        if i < end:
            for phrase, tag in self.by_first.get(lower[i], ()):
                n = len(phrase)
                if i + n <= end and tuple(lower[i:i + n]) == phrase:
                    return n, tag
        return 0, ""

    def before(self, lower: list[str], i: int, start: int) -> tuple[int, str]:
        """Length in tokens of the longest phrase ending just before token i (0 if none), and its tag."""
        if i - 1 >= start:
            for phrase, tag in self.by_last.get(lower[i - 1], ()):
                n = len(phrase)
                if i - n >= start and tuple(lower[i - n:i]) == phrase:
                    return n, tag
        return 0, ""


def _phrases(words: list[str]) -> _Phrases:
    return _Phrases(words)


def _rules(rules: dict[str, list[str]]) -> _Phrases:
    """The distractor phrases, each tagged with the name of its rule."""
    index = _Phrases([])
    for rule, words in rules.items():
        index.add(words, rule)
    return index


_YEAR = regex.compile(r"(?:19|20)\d\d")
_WORD_BEFORE = regex.compile(r"([\p{L}\d]+)(-?)\s*$")
_WORD_AFTER = regex.compile(r"\s*(-?)([\p{L}\d]+)")
_HYPHEN_AT_END = regex.compile(r"[-\u2010\u2011]$")
# a number glued to the word after it ("4of"), not an ordinal ("4th"), a decade ("1990s") or a time ("10am")
_GLUED_NUMBER = regex.compile(r"\d+(?!(?:st|nd|rd|th|s|am|pm)$)\p{Ll}{2,}")


class StatisticFinder:
    """Finds statistics and accounts for numbers: doc._.statistics and doc._.numbers."""

    def __init__(self, vocabulary: dict) -> None:
        v = vocabulary
        self.grammar = QuantityGrammar(v["numbers"])
        q = v["quantifiers"]
        self.zero = set(q["zero"])
        self.universal = _phrases(q["universal"])
        self.pair = set(q["pair"])
        self.determiners = _phrases(q["determiners"])
        self.possessive_marks = set(q["possessive_marks"])
        self.pronouns = set(q["pronouns"])
        self.links = _phrases(q["links"])
        self.refer_back_after = _phrases(q["refer_back_after"])
        self.vague = set(q["vague"])
        self.remainder = set(q["remainder"])
        self.qualifiers = _phrases(v["qualifiers"]["words"])
        self.range_openers = set(v["qualifiers"]["range_openers"])
        self.range_links = set(v["qualifiers"]["range_links"])
        # words that may open a statistic without being a number ("none of", "every one of", "between", "Of the")
        self.subject_label, self.judgement_label = hash_string("SUBJECT"), hash_string("JUDGEMENT")
        self.triggers = self.zero | self.pair | set(self.universal.by_first) | self.range_openers | {"of"}
        self.before_rules = _rules(v["distractors"]["before"])
        self.after_rules = _rules(v["distractors"]["after"])
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
            elif label == self.judgement_label:
                judgements.append((a, b, phrase))
        stats: list[Statistic] = []
        numbers: list[NumberSpan] = []
        previous: list[_Base] = []
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
            s = _Sentence(
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

    def _unread_digits(self, start: int, end: int, quantities: list[Quantity], inside: set[int]) -> list[NumberSpan]:
        """Words with digits the grammar could not read ("4of": OCR lost a space): a number may hide in
        them, so each is unexplained and the letter's statistics go to a person."""
        read = {i for q in quantities for i in range(q.start, q.end)} | inside
        out = []
        for i in range(start, end):
            if i not in read and _GLUED_NUMBER.fullmatch(self._text[self._starts[i]:self._ends[i]]):
                out.append(NumberSpan(self._starts[i], self._ends[i], self._text[self._starts[i]:self._ends[i]], "unexplained", ""))
        return out

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

    # ---- helpers over tokens -------------------------------------------------------------
    def _chars(self, a: int, b: int) -> tuple[int, int]:
        return self._starts[a], self._ends[b - 1]

    def _span_text(self, a: int, b: int) -> str:
        s, e = self._chars(a, b)
        return self._text[s:e]

    def _phrase_at(self, i: int, end: int, phrases: _Phrases) -> int:
        """Length in tokens of the longest phrase starting at token i, 0 if none."""
        return phrases.at(self._lower, i, end)[0]

    def _phrase_before(self, i: int, start: int, phrases: _Phrases) -> int:
        """Length in tokens of the longest phrase ending just before token i, 0 if none."""
        return phrases.before(self._lower, i, start)[0]

    def _subject_after(self, s: _Sentence, i: int, max_modifiers: int = 2) -> tuple[int, str] | None:
        """The subject written right after token i ("three special schools", "three inspected children's homes")."""
        j = i
        skipped = 0
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

    def _quantity_at(self, s: _Sentence, i: int) -> Quantity | None:
        return s.by_start.get(i)

    def _qualifier_before(self, s: _Sentence, i: int) -> tuple[int, str | None]:
        """The hedge before token i ("over", "just under", "only"): its first token and its words."""
        n = self._phrase_before(i, s.start, self.qualifiers)
        if n:
            return i - n, " ".join(self._lower[i - n:i])
        return i, None

    # ---- distractors ---------------------------------------------------------------------
    def _distractor_rule(self, s: _Sentence, q: Quantity, blocked: list[tuple[int, int]]) -> str | None:
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

    def _compound_modifier(self, s: _Sentence, q: Quantity) -> bool:
        """"the three-tier system", "a two-year plan": a number glued by a hyphen to a word that is no setting
        describes that word and counts nothing."""
        j = q.end
        if j + 1 >= s.end or self._lower[j] != "-" or j + 1 in s.subjects:
            return False
        glued = self._ends[j - 1] == self._starts[j] and self._ends[j] == self._starts[j + 1]
        return glued and self._lower[j + 1].isalpha()

    def _distractors(self, s: _Sentence) -> dict[int, str]:
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

    # ---- the sentence --------------------------------------------------------------------
    def _read_sentence(self, s: _Sentence) -> None:
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

    def _statement(self, s: _Sentence, i: int, done: set[int]) -> int:
        """Try each form of statistic at token i; the token after what was read, or i."""
        lower = self._lower
        word = lower[i]
        if i not in s.by_start and word not in self.triggers:
            return i  # most tokens start no statistic
        if word == "of" and (i == s.start or lower[i - 1] in _CLAUSE_STARTS):
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
            for form in (self._range, self._partitive, self._percentage_or_fraction, self._count, self._refer_back):
                end = form(s, i, done)
                if end > i:
                    return end
            return i
        for quantifier in (self._quantified_partitive, self._quantified_count):
            end = quantifier(s, i, done)
            if end > i:
                return end
        return i

    # ---- forms -----------------------------------------------------------------------------
    def _range(self, s: _Sentence, i: int, done: set[int], opener: int | None = None) -> int:
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

    def _fronted(self, s: _Sentence, i: int, done: set[int]) -> int:
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
        while k < s.end and self._lower[k] not in _PUNCTUATION:
            k += 1
        if k >= s.end or self._lower[k] != ",":
            if base is not None and subject is not None:
                s.bases.append(_Base(base.value, subject, base.start))
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
        s.bases.append(_Base(den, subject, i, stat))
        return count_end

    def _fronted_pronoun(self, s: _Sentence, i: int, done: set[int]) -> int:
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
        den = b.value if b.value is not None and b.value >= count.value else None
        stat = self._stat(s, i, count.end, "count", "refer_back", count.value, den, qual, b.subject)
        self._place(s, stat, [count], done)
        b.used = True
        if b.stat is not None:
            s.refers[id(stat)] = b.stat
        return count.end

    def _partitive(self, s: _Sentence, i: int, done: set[int]) -> int:
        """"two of the council's four children's homes", "13 out of 14", "nine in ten", "nine of them"."""
        q = self._quantity_at(s, i)
        if q is None or q.kind != "cardinal":
            return i
        return self._partitive_from(s, i, q.end, q.value, [q], done)

    def _partitive_from(self, s: _Sentence, i: int, j: int, value: float | None, parts: list[Quantity], done: set[int],
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
            if link == "in":
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
            s.bases.append(_Base(base.value, stat.subject, base.start, stat))
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

    def _percentage_or_fraction(self, s: _Sentence, i: int, done: set[int]) -> int:
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
            subject, later = self._nearby_subject(s, qstart)
        kind = q.kind
        stat = self._stat(s, qstart, max(end, q.end), kind, kind, q.value, q.denominator, qual, subject)
        if later:
            # "46% of primary: schools are good, and five of the 18 secondary schools ...": the only setting
            # is named after it, with a statistic of its own
            stat.problem = f"no setting is named with it; {subject!r} is named only later in the sentence"
        self._place(s, stat, [q], done, bases=[base] if base else [])
        if base is not None:
            # "fewer than half of the 17 secondary schools ..., and 2 are ...": later counts may refer to the 17
            s.bases.append(_Base(base.value, subject, base.start, stat))
        return max(end, q.end)

    def _count(self, s: _Sentence, i: int, done: set[int]) -> int:
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
                s.bases.append(_Base(q.value, found[1], q.start))
                return found[0]
            if not (word.isalpha() and len(word) > 1):
                stat.problem = f"{self._span_text(max(s.start, of - 1), found[0])!r}: a partitive whose count could not be read"
        self._place(s, stat, [q], done)
        s.bases.append(_Base(q.value, found[1], q.start, stat))
        return found[0]

    def _ratio_after(self, s: _Sentence, q: Quantity, j: int, done: set[int]) -> Quantity | None:
        """The M of "N settings out of M" / "N settings in M", when M names no setting of its own."""
        n = self._phrase_at(j, s.end, self.links)
        if not n or self._lower[j:j + n] == ["of"]:
            return None
        whole = self._quantity_at(s, j + n)
        if whole is None or whole.kind != "cardinal" or whole.start in done or whole.value < q.value:
            return None
        return whole if self._subject_after(s, whole.end) is None else None

    def _of_before(self, s: _Sentence, i: int) -> int | None:
        """The token of an "of" whose determiners lead up to token i ("of the council's 12"), if any."""
        for k in range(i - 1, max(s.start, i - 6) - 1, -1):
            if self._lower[k] == "of" and self._determiners(k + 1, s.end) == i:
                return k
        return None

    def _refer_back(self, s: _Sentence, i: int, done: set[int]) -> int:
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

    def _quantified_partitive(self, s: _Sentence, i: int, done: set[int]) -> int:
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

    def _quantified_count(self, s: _Sentence, i: int, done: set[int]) -> int:
        """"no secondary schools are inadequate", "both special schools are good"."""
        word = self._lower[i]
        if word in self.zero and self._phrase_at(i + 1, s.end, self.refer_back_after) and self._lower[i + 1:i + 2] != [","]:
            # "Of the 36 schools, 30 are good and none is inadequate": none of a base named before
            b = self._last_base(s, i, previous=i == s.start)
            if b is not None and b.subject is not None:
                stat = self._stat(s, i, i + 1, "count", "refer_back", 0.0, b.value, word, b.subject)
                self._place(s, stat, [], done, quantifier=(i, i + 1))
                b.used = True
                if b.stat is not None:
                    s.refers[id(stat)] = b.stat
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
            s.bases.append(_Base(value, found[1], i, stat))
            return found[0]
        return i

    # ---- what is left ----------------------------------------------------------------------
    def _unplaced(self, s: _Sentence, q: Quantity) -> None:
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

    # ---- building blocks -------------------------------------------------------------------
    def _stat(self, s: _Sentence, a: int, b: int, kind: str, form: str, value: float | None, den: float | None,
              qual: str | None, subject: str | None) -> Statistic:
        start, end = self._chars(a, b)
        stat = Statistic(self._text[start:end], start, end, "", kind, value if value is not None else float("nan"), den, qual, subject)
        stat.form = form
        stat.sentence = self._text[s.char_start:self._chars(s.start, s.end)[1]].strip()
        if value is None:
            stat.problem = "a quantifier over a base of unknown size"
        return stat

    def _place(self, s: _Sentence, stat: Statistic, values: list[Quantity], done: set[int],
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

    def _number(self, s: _Sentence, q: Quantity, role: str, rule: str, stat: Statistic | None = None) -> None:
        start, end = self._chars(q.start, q.end)
        s.numbers.append(NumberSpan(start, end, self._text[start:end], role, rule, stat))

    def _check_denominator(self, stat: Statistic) -> None:
        if stat.denominator is not None and stat.value == stat.value and stat.value > stat.denominator:
            stat.problem = f"the value {stat.value:g} is above its denominator {stat.denominator:g}"
        if stat.denominator == 0:
            stat.problem = "a denominator of zero"

    def _check_leftovers(self, s: _Sentence, stat: Statistic) -> None:
        """A number word or hyphen glued to a statistic's edge means the grammar read only part of it."""
        text = self._text
        before = text[max(0, stat.start - 12):stat.start]
        after = text[stat.end:stat.end + 12]
        word_before = _WORD_BEFORE.search(before)
        word_after = _WORD_AFTER.match(after)
        # a number beside it that a rule already explains ("at Key Stage 4 only 48% of pupils") is no part of it
        explained = [(n.start, n.end) for n in s.numbers if n.role == "distractor"]
        if word_before and any(e == stat.start - len(before) + word_before.end(1) for _, e in explained):
            word_before = None
        if word_after and any(b == stat.end + word_after.start(2) for b, _ in explained):
            word_after = None
        if _HYPHEN_AT_END.search(before) or (word_before and word_before[2]):
            stat.problem = stat.problem or f"a hyphen before {stat.text!r}: part of a longer number?"
        elif word_before and (self.grammar.is_number_word(word_before[1].lower()) or word_before[1].isdigit()):
            stat.problem = stat.problem or f"the number {word_before[1]!r} stands just before {stat.text!r}"
        if word_after and word_after[1] and stat.text[-1:].isalnum():
            stat.problem = stat.problem or f"a hyphen after {stat.text!r}: part of a longer number?"
        elif word_after and (self.grammar.is_number_word(word_after[2].lower()) or word_after[2].isdigit()) and not stat.value_high:
            stat.problem = stat.problem or f"the number {word_after[2]!r} stands just after {stat.text!r}"

    def _subject_for_amount(self, s: _Sentence, j: int, allow_of: bool) -> tuple[str | None, int]:
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

    def _subject_of_base(self, s: _Sentence, value: float, before: int) -> str | None:
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

    def _last_base(self, s: _Sentence, before: int, previous: bool = True) -> _Base | None:
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
            return _Base(None, specific[-1][1], specific[-1][0])
        return None

    def _nearby_subject(self, s: _Sentence, start: int) -> tuple[str | None, bool]:
        """The subject of a number that stands apart from it: the nearest named setting before it, else
        after; and whether that setting, named after it, is another number's."""
        before = [(k, t) for k, (e, t) in s.subjects.items() if e <= start]
        after = [(k, t) for k, (e, t) in s.subjects.items() if k >= start]
        for pool in (list(reversed(before)), after):
            specific = [(k, t) for k, t in pool if t.lower() not in self.generic]
            if specific:
                return specific[0][1], self._counted_between(s, start, specific[0][0])
        if before:
            return before[-1][1], False
        return (after[0][1], self._counted_between(s, start, after[0][0])) if after else (None, False)

    @staticmethod
    def _counted_between(s: _Sentence, start: int, k: int) -> bool:
        """Whether another number stands between a figure at token start and a setting named later at token k:
        the setting is then that number's ("46% ..., and five of the 18 secondary schools"), not the figure's."""
        return k > start and any(start < q.start < k for q in s.quantities)

    # ---- judgements ------------------------------------------------------------------------
    def _clauses(self, text: str) -> list[tuple[int, int]]:
        cuts = [0] + [m.start() for m in self.clause_break.finditer(text)] + [len(text)]
        return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]

    def _clause_of(self, s: _Sentence, offset: int) -> tuple[int, int]:
        text = self._text[s.char_start:self._chars(s.start, s.end)[1]]
        clauses = self._clauses(text)
        return next(((a, b) for a, b in clauses if a <= offset < b), (0, len(text)))

    def _negation_before(self, before: str) -> str:
        """"are not yet good", "were less than good", "are no longer outstanding": the negation is part of
        the judgement as written ("not yet good"), never dropped to leave "good"."""
        found = self.negation.search(before)
        return found.group(1).lower() + " " if found else ""

    def _about_another(self, s: _Sentence, a: int, b: int) -> bool:
        """Whether another setting, or "the other", is named between character offsets a and b."""
        if any(a <= self._starts[k] < b for k in s.subjects):
            return True
        return any(w.strip(",;") in self.remainder for w in self._text[a:b].lower().split())

    def _assign_judgements(self, s: _Sentence) -> None:
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
            if after:
                chosen = after[0]
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


