"""The second reading of a statistic: from the structure of its sentence.

The statistic finder reads a sentence left to right over its words. This module reads the same
sentence from its dependency parse (models/ofsted_parser, trained by the project on UD_English-EWT):
which noun each number counts and which grade word its clause gives it. The two readings are made
independently; where they agree the statistic is confirmed, where they disagree it is flagged with
both (`compare_readings`), the way two OCR readings that disagree are.

The patterns are spaCy DependencyMatcher trees in pipeline/data/structure.toml: subject patterns
anchored on a number, judgement patterns anchored on the phrase the clause is about.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from spacy.language import Language
from spacy.matcher import DependencyMatcher
from spacy.tokens import Doc, Token

from pipeline.config import load_toml, vocab
from pipeline.quantities import QuantityGrammar

if not Token.has_extension("is_number"):
    # a number in digits or words, as the project's grammar of quantities reads it ("Twenty-nine", "56", "five")
    Token.set_extension("is_number", default=False)

_MODIFIER_DEPS = {"compound", "amod", "nmod:poss", "case", "flat"}
_SKIP_AT_START = {"the", "its", "their", "all", "these", "those", "other", "remaining", "of", "'s", "'"}


@dataclass(frozen=True)
class StructureReading:
    """What the parse says of one number: the noun it counts and the grade its clause gives it."""

    start: int  # character offsets of the number in the parsed text
    end: int
    subject: str | None
    judgement: str | None
    negated: bool = False
    subject_rule: str | None = None
    judgement_rule: str | None = None


def _expand(value: object, words: dict[str, list[str]]) -> object:
    """A pattern with its "@name" values replaced by the word lists they name."""
    if isinstance(value, str) and value.startswith("@"):
        return list(words[value[1:]])
    if isinstance(value, dict):
        return {k: _expand(v, words) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, words) for v in value]
    return value


@dataclass(frozen=True)
class _Patterns:
    subjects: DependencyMatcher
    judgements: DependencyMatcher
    holders: dict[int, int]  # subject pattern's match id -> index of its holder node
    counted: dict[int, int]  # subject pattern's match id -> index of its "subject" node
    grades: dict[int, int]  # judgement pattern's match id -> index of its "grade" node
    order: dict[int, int]  # match id -> its place in the file (earlier patterns win)
    negation: frozenset[str]
    grade_words: frozenset[str]
    settings: frozenset[str]  # the head nouns settings are named by, singular ("school", "home")


@lru_cache(maxsize=4)
def _patterns(nlp: Language) -> _Patterns:
    data = load_toml("structure.toml")
    words = data["words"]
    subjects, judgements = DependencyMatcher(nlp.vocab), DependencyMatcher(nlp.vocab)
    holders, counted, order = {}, {}, {}
    for n, entry in enumerate(data["subject"]):
        pattern = _expand(entry["pattern"], words)
        subjects.add(entry["name"], [pattern])
        match_id = nlp.vocab.strings[entry["name"]]
        nodes = [node["RIGHT_ID"] for node in pattern]
        holders[match_id], counted[match_id] = nodes.index(entry["holder"]), nodes.index("subject")
        order[match_id] = n
    grades = {}
    for n, entry in enumerate(data["judgement"]):
        pattern = _expand(entry["pattern"], words)
        judgements.add(entry["name"], [pattern])
        match_id = nlp.vocab.strings[entry["name"]]
        grades[match_id] = [node["RIGHT_ID"] for node in pattern].index("grade")
        order[match_id] = n
    v = vocab()
    grade_words = frozenset(w for p in v["judgements"]["phrases"] for w in p.lower().split()) | {"better", "well", "poorly"}
    # the nouns settings are named by ("schools" of "primary schools"), not every word of their names ("case"),
    # nor words too general to tell one setting from another ("provision in early years settings")
    settings = frozenset(_singular(p.lower().split()[-1]) for p in v["subjects"]["phrases"]) - {_singular(w) for w in words["too_general"]}
    return _Patterns(subjects, judgements, holders, counted, grades, order, frozenset(words["negation"]), grade_words, settings)


def parse_for_structure(texts: list[str], nlp: Language) -> list[Doc]:
    """Parse sentences with each number written in words kept as one token ("Twenty-nine", "forty one"),
    as the treebank writes numbers, so the parse attaches the number once."""
    grammar = _grammar()
    docs = []
    for doc in nlp.tokenizer.pipe([_number_in_lower_case(t, grammar) for t in texts]):
        spans = _number_words(doc, grammar)
        if spans:
            with doc.retokenize() as retokenizer:
                for span in spans:
                    retokenizer.merge(span)
        for token in doc:
            parts = [part for part in token.lower_.split("-") if part]
            if parts and all(grammar.writes_a_number(part) for part in parts):
                token._.is_number = True
        docs.append(doc)
    for _, component in nlp.pipeline:
        docs = list(component.pipe(docs)) if hasattr(component, "pipe") else [component(d) for d in docs]
    return docs


def _number_in_lower_case(text: str, grammar: QuantityGrammar) -> str:
    """"Eleven homes ...": the treebank rarely opens a sentence with a number word, and the parser takes a
    capitalised one for a name; in lower case (same length, so offsets hold) it reads it as a number."""
    first = text.split(" ", 1)[0].split("-", 1)[0]
    return text[:1].lower() + text[1:] if grammar.is_number_word(first.lower()) else text


@lru_cache(maxsize=1)
def settled_rules() -> frozenset[str]:
    """Distractor rules the parse need not check: a sentence holding only such numbers is not parsed."""
    return frozenset(load_toml("structure.toml")["second_reading"]["settled_rules"])


@lru_cache(maxsize=1)
def _grammar() -> QuantityGrammar:
    return QuantityGrammar(vocab()["numbers"])


def _number_words(doc: Doc, grammar: QuantityGrammar) -> list:
    """Spans of number words joined by hyphens ("Twenty - nine")."""
    spans, i = [], 0
    while i < len(doc):
        j = i
        while (j + 2 < len(doc) and grammar.is_number_word(doc[j].lower_) and doc[j + 1].text == "-"
               and grammar.is_number_word(doc[j + 2].lower_) and not doc[j].whitespace_ and not doc[j + 1].whitespace_):
            j += 2
        if j > i:
            spans.append(doc[i:j + 1])
        i = j + 1
    return spans


def read_structure(doc: Doc, nlp: Language) -> list[StructureReading]:
    """A reading for each number of a parsed sentence that the parse gives a counted noun."""
    p = _patterns(nlp)
    counted: dict[int, tuple[int, Token, Token, str]] = {}  # number token -> (pattern order, holder, subject, rule)
    for match_id, ids in p.subjects(doc):
        number, holder, subject = doc[ids[0]], doc[ids[p.holders[match_id]]], doc[ids[p.counted[match_id]]]
        rank = p.order[match_id]
        if number.i not in counted or rank < counted[number.i][0]:
            counted[number.i] = (rank, holder, subject, doc.vocab.strings[match_id])
    graded: dict[int, tuple[int, Token, str]] = {}  # holder token -> (order, grade token, rule)
    for match_id, ids in p.judgements(doc):
        holder, grade = doc[ids[0]], doc[ids[p.grades[match_id]]]
        if grade.i < holder.i:
            continue  # a grade word before the phrase it would judge is a misattached clause, not a reading
        rank = p.order[match_id]
        if holder.i not in graded or rank < graded[holder.i][0]:
            graded[holder.i] = (rank, grade, doc.vocab.strings[match_id])
    readings = []
    for i, (_, holder, subject, rule) in sorted(counted.items()):
        number = doc[i]
        grade = graded.get(holder.i) or _carried_grade(holder, graded)
        judgement, negated = (_grade_text(grade[1], p), _negated(grade[1], p)) if grade else (None, False)
        if judgement is not None and not (set(judgement.split()) & p.grade_words):
            judgement, negated = None, False  # the clause says something, but not a grade
        readings.append(StructureReading(
            number.idx, number.idx + len(number.text), _noun_phrase(subject), judgement, negated, rule, grade[2] if grade else None,
        ))
    return readings


def _carried_grade(holder: Token, graded: dict[int, tuple[int, Token, str]]) -> tuple[int, Token, str] | None:
    """A conjunct with no grade of its own takes the grade of what it is joined to: "40 were good and 9
    too" (joined to the other subject), "9% of homes were inadequate, and 4% of agencies" (joined to the
    grade word itself, the clause's verb left out)."""
    if holder.dep_ != "conj":
        return None
    if any(t.dep_ in ("cop", "aux:pass") for t in holder.doc[holder.i + 1:]):
        return None  # a verb of its own follows ("... and twelve of the 13 schools are good or better"): the parse misjoined it
    if holder.head.i in graded:
        return graded[holder.head.i]
    return next((g for g in graded.values() if g[1].i == holder.head.i), None)


def _grade_text(grade: Token, p: _Patterns) -> str:
    """The grade word with the grade words coordinated with it: "good or outstanding", "good or better"."""
    words = [grade]
    for child in grade.children:
        # "good or outstanding", not "... are good and two are outstanding" (a clause of its own)
        own_clause = any(c.dep_ in ("nsubj", "nsubj:pass", "cop") for c in child.children)
        if child.dep_ == "conj" and child.lower_ in p.grade_words and not own_clause and child.i - grade.i <= 3:
            words.append(child)
    if len(words) == 1:
        return grade.lower_
    cc = next((c.lower_ for c in words[-1].children if c.dep_ == "cc"), "or")
    return f" {cc} ".join(w.lower_ for w in sorted(words, key=lambda t: t.i))


def _negated(grade: Token, p: _Patterns) -> bool:
    """"are not yet good", "were not judged good": a negation before the grade word, in its own clause
    (not the "not" of "..., but the rest are not" after it)."""
    heads = [grade, grade.head] if grade.dep_ == "xcomp" else [grade]
    return any(c.lower_ in p.negation and c.i < grade.i for h in heads for c in h.children)


def _noun_phrase(noun: Token) -> str:
    """The counted noun with the words that name what it is ("primary schools", "children's homes")."""
    first = noun.i
    for child in noun.lefts:
        if child.dep_ in _MODIFIER_DEPS:
            first = min(first, child.left_edge.i)
    doc = noun.doc
    while first < noun.i and (doc[first].lower_ in _SKIP_AT_START or doc[first].like_num or doc[first].is_punct):
        first += 1
    return doc[first:noun.i + 1].text


# ---- the two readings compared --------------------------------------------------------------

AGREEMENTS = ("confirmed", "one_reading", "disputed")


def _singular(word: str) -> str:
    word = word.lower().replace("'s", "").strip("'")
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


@dataclass
class Comparison:
    """How the parse's reading of one statistic compares with the finder's."""

    agreement: str  # confirmed | one_reading | disputed
    reading: StructureReading | None
    problem: str | None = None


def compare_reading(subject: str | None, judgement: str | None, kind: str, reading: StructureReading | None, nlp: Language) -> Comparison:
    """Whether the parse confirms the finder's subject and judgement of a statistic, disputes them, or says nothing.

    The parse speaks of a subject only when the noun it counts is a setting or group the vocabularies
    know, and of a judgement only when its clause gives a grade word: elsewhere it has no opinion.
    """
    if reading is None:
        return Comparison("one_reading", None)
    p = _patterns(nlp)
    head = _singular(reading.subject.split()[-1]) if reading.subject else None
    finder_words = {_singular(w) for w in (subject or "").split()}
    # an indicator's subject is a group ("looked after children") the parse may name by another noun ("reviews of ...")
    subject_known = head is not None and head in p.settings and kind != "indicator"
    # the same setting, named more or less fully: "private fostering" and "private fostering provision"
    parsed_words = {_singular(w) for w in (reading.subject or "").split()}
    subject_agrees = subject_known and (head in finder_words or bool(finder_words) and finder_words <= parsed_words)
    problems = []
    if subject_known and not subject_agrees and subject:
        problems.append(f"the sentence's structure counts {reading.subject!r}, the finder {subject!r}")
    judgement_agrees = False
    if reading.judgement is not None and kind != "indicator":
        parsed = set(reading.judgement.split()) & p.grade_words
        finder_grades = set((judgement or "").split())
        negated_here = "not" in finder_grades
        if reading.negated and not negated_here:
            problems.append(f"the sentence's structure reads the judgement as negated (not {reading.judgement!r}), the finder as {judgement!r}")
        elif judgement is None or not parsed <= finder_grades | {"better", "well"}:
            problems.append(f"the sentence's structure gives the judgement {reading.judgement!r}, the finder {judgement!r}")
        else:
            judgement_agrees = True
    if problems:
        return Comparison("disputed", reading, "two readings disagree: " + "; ".join(problems))
    if subject_agrees and (judgement_agrees or kind == "indicator"):
        return Comparison("confirmed", reading)
    return Comparison("one_reading", reading)


def unread_statistic(reading: StructureReading, nlp: Language) -> bool:
    """Whether the parse reads as a judged statistic a number the finder did not: a setting it counts and a grade."""
    p = _patterns(nlp)
    if reading.subject is None or reading.judgement is None:
        return False
    return _singular(reading.subject.split()[-1]) in p.settings
