"""The sentence model: one sentence being read, the wholes later counts can be part of, and word phrases
indexed by their first and last word."""
from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.quantities import Quantity
from pipeline.records import NumberSpan, Statistic

PUNCTUATION = {",", ";", ":", ".", "(", ")", "!", "?"}


CLAUSE_STARTS = {",", ";", ":", "and", "but", "while", "whilst", "whereas", "however"}


@dataclass
class Base:
    """A whole that later counts in the sentence can be part of ("Of the 12 homes", "five schools")."""

    value: float | None
    subject: str | None
    token: int
    stat: Statistic | None = None
    used: bool = False


@dataclass
class Sentence:
    """One sentence being read: its tokens, entities and what has been found so far."""

    start: int
    end: int
    char_start: int
    subjects: dict[int, tuple[int, str]]
    judgements: list[tuple[int, int, str]]
    quantities: list[Quantity]
    stats: list[Statistic] = field(default_factory=list)
    numbers: list[NumberSpan] = field(default_factory=list)
    bases: list[Base] = field(default_factory=list)
    used_judgements: set[int] = field(default_factory=set)
    by_start: dict[int, Quantity] = field(default_factory=dict)
    previous: list[Base] = field(default_factory=list)  # the bases of the sentence before
    refers: dict[int, Statistic] = field(default_factory=dict)  # id of a refer-back statistic -> the statistic it counts part of
    grade_ends: dict[int, int] = field(default_factory=dict)  # first token of each grade phrase -> the token after it

    def __post_init__(self) -> None:
        self.by_start = {q.start: q for q in self.quantities}
        self.grade_ends = {a: b for a, b, _ in self.judgements}


class Phrases:
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


def phrase_index(words: list[str]) -> Phrases:
    return Phrases(words)


def rule_index(rules: dict[str, list[str]]) -> Phrases:
    """The distractor phrases, each tagged with the name of its rule."""
    index = Phrases([])
    for rule, words in rules.items():
        index.add(words, rule)
    return index
