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

The package: `finder.py` (the spaCy component: a sentence at a time, each form tried at each word),
`sentence.py` (the sentence model), `words.py` (reading words: settings, determiners, qualifiers,
recording a statistic), `forms/` (one module per form or family of forms), `distractors.py` (named
rules for numbers that are not statistics), `judgements.py` (which grade phrase each statistic is
about) and `checks.py` (a statistic checked against itself). To add a form, write a method in a
module of `forms/`, add its class to StatisticFinder's bases and its name to `_statement`'s list,
and give it test sentences in tests/test_nlp.py.
"""
from __future__ import annotations

from pipeline.statistic_finder.finder import StatisticFinder

__all__ = ["StatisticFinder"]
