"""Figures that belong to another statistic: the earlier value of a trend and a comparator.

"the share judged outstanding fell from 14% to 11%" states one statistic, 11%, with its earlier
value 14%; "65% of childminders are good, compared with 59% in similar areas" states 65% with a
comparator, 59% in similar areas. Neither 14% nor 59% is this authority's statistic, and neither is
a row of its own: each is folded into the statistic it qualifies (`previous_value`, `comparator_value`,
`comparator_scope`), and its number keeps the rule `previous` or `comparator`. The wording is in
pipeline/data/statistics.toml, [relations].
"""
from __future__ import annotations

from functools import lru_cache

import regex

from pipeline.config import alternation, vocab
from pipeline.records import NumberSpan, Statistic



@lru_cache(maxsize=1)
def _wording() -> tuple[regex.Pattern, regex.Pattern, regex.Pattern, regex.Pattern, regex.Pattern]:
    r = vocab()["relations"]
    trend_from = regex.compile(rf"\b(?:{alternation(r['trend_verbs'])})\s+from\s+$", regex.IGNORECASE)
    # between the two values: "to", with the earlier value's year or "in 2008" between
    trend_to = regex.compile(r"^(?:\s+(?:in|at|during)\s+[\w/-]+)?\s+to\s+$", regex.IGNORECASE)
    comparator = regex.compile(rf"(?:{alternation(r['comparators'])})\s+(?:(?:the|a|an)\s+)?(?:(?:{alternation(r['scopes'])})\s+)?"
                               rf"(?:(?:{alternation(r['measures'])})\s+)?(?:of\s+)?$", regex.IGNORECASE)
    scope_after = regex.compile(rf"^\s*(?:(?:in|for|across|among)\s+)?(?:(?:the|all|other)\s+)?(?P<scope>(?:{alternation(r['scopes'])})(?:\s+(?:areas?|authorities|councils|average|figure|rate|level))?)",
                                regex.IGNORECASE)
    scope_before = regex.compile(rf"\b(?P<scope>{alternation(r['scopes'])})\b", regex.IGNORECASE)
    return trend_from, trend_to, comparator, scope_after, scope_before


@lru_cache(maxsize=1)
def _other_time() -> regex.Pattern:
    """Words just after a comparator that make it another time's figure: a year, "last year", "previously"."""
    r = vocab()["relations"]
    return regex.compile(rf"^[\s,]*(?:[\w'’-]+\s+){{0,3}}?(?:(?:in|of|from)\s+)?(?:(?:19|20)\d\d\b|(?:{alternation(r['other_times'])})\b)",
                         regex.IGNORECASE)


@lru_cache(maxsize=1)
def _reversed_trend() -> tuple[regex.Pattern, regex.Pattern]:
    verbs = alternation(vocab()["relations"]["trend_verbs"])
    return regex.compile(rf"\b(?:{verbs})\s+to\s+$", regex.IGNORECASE), regex.compile(r"^,?\s+from\s+$", regex.IGNORECASE)


def fold_relations(stats: list[Statistic], numbers: list[NumberSpan], text: str) -> None:
    """Fold each trend's earlier value and each comparator into the statistic it belongs to (in place).

    stats are one sentence's statistics in order; text is the text their offsets point into."""
    trend_from, trend_to, comparator, scope_after, scope_before = _wording()
    trend_to_first, trend_from_after = _reversed_trend()
    for earlier, later in zip(list(stats), list(stats)[1:]):
        if earlier not in stats or earlier.form != later.form:
            continue
        if trend_from.search(text[max(0, earlier.start - 40):earlier.start]) and trend_to.match(text[earlier.end:later.start]):
            # "fell from 14% to 11%": one statistic, now 11%, before 14%
            later.previous_value = earlier.value
            later.subject = later.subject or earlier.subject
            later.judgement = later.judgement or earlier.judgement
            _fold(earlier, later, "previous", stats, numbers)
    for later, earlier in zip(list(stats), list(stats)[1:]):
        if later not in stats or earlier.form != later.form:
            continue
        if trend_to_first.search(text[max(0, later.start - 40):later.start]) and trend_from_after.match(text[later.end:earlier.start]):
            # "fell to 4%, from 7% the previous year": the earlier value written second
            later.previous_value = earlier.value
            _fold(earlier, later, "previous", stats, numbers)
    for stat in list(stats):
        before = text[max(0, stat.start - 60):stat.start]
        if not comparator.search(before):
            continue
        owner = next((s for s in reversed(stats) if s.end <= stat.start and s is not stat), None)
        if owner is None:
            continue
        # "compared with 59% in similar areas", "against a national figure of 48%"
        scope = scope_after.match(text[stat.end:stat.end + 60]) or scope_before.search(comparator.search(before).group())
        owner.comparator_value = stat.value
        owner.comparator_scope = " ".join(scope["scope"].split()).lower() if scope else None
        if (scope is None and owner.problem is None and stat.subject and owner.subject
                and stat.subject.lower() == owner.subject.lower() and not _other_time().match(text[stat.end:stat.end + 60])):
            # a comparison differs in something: with no other place or time, not in whom it counts either
            owner.problem = (f"compared with a figure for {stat.subject}, it is given the same subject and no other place or "
                             f"time: which group it counts is not clear")
        _fold(stat, owner, "comparator", stats, numbers)


def _fold(figure: Statistic, owner: Statistic, rule: str, stats: list[Statistic], numbers: list[NumberSpan]) -> None:
    stats.remove(figure)
    for n in numbers:
        if n.statistic is figure:
            n.rule, n.statistic = rule, owner
