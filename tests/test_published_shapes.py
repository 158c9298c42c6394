"""The extractor on prose it was not taught: sentences written in the shapes published prose uses to cite
inspection figures (Ofsted statistics releases, council reports, the trade press), every number's role
asserted. The sentences and what each number is are data, in tests/fixtures/published_shapes.toml.

Each expected number is located in its sentence by its text (`n`, the `at`-th occurrence) and read as:
- right: the extractor says what the entry says (value, denominator, subject keyword, judgement, kind;
  a distractor or base is not a statistic's value);
- flagged: the extractor sends it to a person (an unexplained number, or a statistic with a problem, no
  subject, or a share with no grade word, as pipeline.validate.check_statistics flags) and says nothing wrong;
- wrong_flagged: it states something wrong, but flagged;
- wrong: it states something wrong and does not flag it (a wrong value, a lost statistic, a distractor read
  as a statistic, a wrong subject or judgement, an indicator read as a judged share). Only this fails.
A number the entry does not name that the extractor reports as an unflagged statistic is wrong too.
A sentence reads as the worst of its numbers. Sentences wrong today carry `known_gap` (xfail, strict).
"""
from __future__ import annotations

import tomllib
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import regex

from pipeline.extract import read_statistics

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "published_shapes.toml"
DATA = tomllib.loads(FIXTURE.read_text(encoding="utf-8"))
CASES = DATA["case"]
ORDER = ["right", "flagged", "wrong_flagged", "wrong"]
STATISTIC_ROLES = {"statistic", "indicator"}
NOT_STATISTIC_ROLES = {"distractor", "base"}
# a trend's earlier value and a comparator: columns of the statistic they qualify
QUALIFYING_ROLES = {"previous": "previous_value", "comparator": "comparator_value"}
ROLES = STATISTIC_ROLES | NOT_STATISTIC_ROLES | {"range_high"} | set(QUALIFYING_ROLES)


@pytest.fixture(scope="module")
def nlp():
    """Both readings of a sentence: the finder's, checked against the parse's (pipeline.structure)."""
    return read_statistics


def _worst(outcomes: list[str]) -> str:
    return max(outcomes, key=ORDER.index, default="right")


def _flagged(stat) -> bool:
    """What pipeline.validate.check_statistics sends to a person."""
    return bool(
        stat.problem
        or not stat.subject
        or (stat.judgement is None and stat.form != "count" and stat.kind != "indicator")
    )


def _locate(sentence: str, text: str, at: int) -> tuple[int, int]:
    found = list(regex.finditer(rf"(?<![\w]){regex.escape(text)}(?![\w])", sentence))
    if len(found) < at:
        raise AssertionError(f"fixture error: {text!r} (occurrence {at}) is not in {sentence!r}")
    m = found[at - 1]
    return m.start(), m.end()


def _overlapping(numbers, start: int, end: int) -> list:
    return [n for n in numbers if n.start < end and start < n.end]


def _norm(text: str | None) -> str:
    return " ".join((text or "").lower().replace("\u2019", "'").split())


def _judgement_matches(expected, actual: str | None) -> bool:
    options = expected if isinstance(expected, list) else [expected]
    return _norm(actual) in {_norm(o) for o in options}


def _mismatches(exp: dict, stat) -> list[str]:
    wrong = []
    if abs(stat.value - exp["value"]) > 1e-6:
        wrong.append(f"value {stat.value:g} not {exp['value']:g}")
    if "denominator" in exp and (stat.denominator is None or abs(stat.denominator - exp["denominator"]) > 1e-6):
        wrong.append(f"denominator {stat.denominator} not {exp['denominator']:g}")
    if "value_high" in exp and (stat.value_high is None or abs(stat.value_high - exp["value_high"]) > 1e-6):
        wrong.append(f"value_high {stat.value_high} not {exp['value_high']:g}")
    if "subject" in exp and _norm(exp["subject"]) not in _norm(stat.subject):
        wrong.append(f"subject {stat.subject!r} lacks {exp['subject']!r}")
    if "judgement" in exp and not _judgement_matches(exp["judgement"], stat.judgement):
        wrong.append(f"judgement {stat.judgement!r} not {exp['judgement']!r}")
    if exp["role"] == "indicator" and stat.kind != "indicator":
        wrong.append(f"kind {stat.kind} not indicator")
    elif exp["role"] == "statistic" and stat.kind == "indicator":
        wrong.append("kind indicator for a judged statistic")
    if "kind" in exp and stat.kind != exp["kind"]:
        wrong.append(f"kind {stat.kind} not {exp['kind']}")
    return wrong


def _describe(stat) -> str:
    return (f"{stat.kind}/{stat.form} value={stat.value:g} denominator={stat.denominator} subject={stat.subject!r} "
            f"judgement={stat.judgement!r}" + (f" problem={stat.problem!r}" if stat.problem else ""))


def read_case(nlp, case: dict) -> tuple[str, list[str]]:
    """The sentence's outcome and a line for each number that was not read right."""
    sentence = case["sentence"]
    _, numbers, doubts = nlp(sentence)
    doubted = {id(n) for n, _ in doubts}
    claimed: set[int] = set()
    outcomes: list[str] = []
    notes: list[str] = []
    for exp in case["expect"]:
        start, end = _locate(sentence, exp["n"], exp.get("at", 1))
        spans = _overlapping(numbers, start, end)
        claimed.update(id(n) for n in spans)
        label = f"{exp['n']!r} ({exp['role']})"
        if exp["role"] in STATISTIC_ROLES:
            valued = [n for n in spans if n.role == "statistic" and n.rule in ("value", "quantifier") and n.statistic]
            if valued:
                stat = valued[0].statistic
                wrong = _mismatches(exp, stat)
                flagged = _flagged(stat)
                outcome = ("wrong_flagged" if flagged else "wrong") if wrong else ("flagged" if flagged else "right")
                if outcome != "right":
                    notes.append(f"{label}: {outcome}: {'; '.join(wrong) or 'flagged'}; read {_describe(stat)}")
            elif any(n.role == "unexplained" or id(n) in doubted for n in spans):
                outcome = "flagged"
                notes.append(f"{label}: flagged: unexplained or doubted by the parse")
            elif any(n.role == "statistic" for n in spans):
                other = next(n for n in spans if n.role == "statistic")
                flagged = other.statistic is not None and _flagged(other.statistic)
                outcome = "wrong_flagged" if flagged else "wrong"
                notes.append(f"{label}: {outcome}: read as the {other.rule} of "
                             f"{_describe(other.statistic) if other.statistic else 'a statistic'}")
            else:
                outcome = "wrong"
                rules = ", ".join(f"{n.role}:{n.rule}" for n in spans) or "no number span"
                notes.append(f"{label}: wrong: lost ({rules})")
        elif exp["role"] in NOT_STATISTIC_ROLES:
            as_value = [n for n in spans if n.role == "statistic" and n.rule in ("value", "quantifier") and n.statistic]
            if as_value:
                stat = as_value[0].statistic
                outcome = "flagged" if _flagged(stat) else "wrong"
                notes.append(f"{label}: {outcome}: read as a statistic {_describe(stat)}")
            elif any(n.role == "unexplained" for n in spans):
                outcome = "flagged"
                notes.append(f"{label}: flagged: unexplained")
            else:
                outcome = "right"
                rule = exp.get("rule")
                if rule and not any(n.rule == rule for n in spans):
                    notes.append(f"{label}: note: rule {[n.rule for n in spans]} not {rule!r}")
        elif exp["role"] in QUALIFYING_ROLES:
            column = QUALIFYING_ROLES[exp["role"]]
            folded = [n for n in spans if n.rule == exp["role"] and n.statistic is not None
                      and getattr(n.statistic, column) is not None and abs(getattr(n.statistic, column) - exp["value"]) < 1e-6]
            if folded:
                outcome = "right"
            elif any(n.role == "unexplained" or id(n) in doubted for n in spans):
                outcome = "flagged"
                notes.append(f"{label}: flagged: unexplained")
            else:
                as_value = [n for n in spans if n.statistic is not None]
                outcome = "flagged" if as_value and _flagged(as_value[0].statistic) else "wrong"
                notes.append(f"{label}: {outcome}: not the {column} of a statistic ({', '.join(f'{n.role}:{n.rule}' for n in spans)})")
        elif exp["role"] == "range_high":
            tops = [n for n in spans if n.statistic is not None and n.statistic.value_high is not None
                    and abs(n.statistic.value_high - exp["value"]) < 1e-6]
            others = [n for n in spans if n.statistic is not None]
            if tops:
                outcome = "right"
            elif any(n.role == "unexplained" for n in spans):
                outcome = "flagged"
                notes.append(f"{label}: flagged: unexplained")
            elif others:
                outcome = "flagged" if _flagged(others[0].statistic) else "wrong"
                notes.append(f"{label}: {outcome}: not the top of a range; read {_describe(others[0].statistic)}")
            else:
                outcome = "wrong"
                notes.append(f"{label}: wrong: the top of the range is lost ({', '.join(f'{n.role}:{n.rule}' for n in spans)})")
        else:
            raise AssertionError(f"fixture error: role {exp['role']!r}")
        outcomes.append(outcome)
    for n in numbers:
        if id(n) in claimed:
            continue
        if n.role == "statistic" and n.rule in ("value", "quantifier") and n.statistic:
            outcome = "flagged" if _flagged(n.statistic) else "wrong"
            notes.append(f"{n.text!r} (not expected): {outcome}: read as {_describe(n.statistic)}")
            outcomes.append(outcome)
        elif n.role == "unexplained":
            outcomes.append("flagged")
            notes.append(f"{n.text!r} (not expected): flagged: unexplained")
    return _worst(outcomes), notes


def _param(i: int, case: dict):
    marks = [pytest.mark.xfail(strict=True, reason=case["known_gap"])] if case.get("known_gap") else []
    return pytest.param(case, id=f"{i:03d}-{case['shape']}", marks=marks)


@pytest.mark.parametrize("case", [_param(i, c) for i, c in enumerate(CASES)])
def test_published_shape(nlp, case):
    outcome, notes = read_case(nlp, case)
    assert outcome != "wrong", f"{case['sentence']!r} is silently wrong:\n  " + "\n  ".join(notes)


def test_fixture_is_complete():
    assert len(CASES) >= 150
    for case in CASES:
        assert case["sentence"] and case["shape"] and "expect" in case, case
        for exp in case["expect"]:
            assert exp["role"] in ROLES, exp
            assert exp["role"] in NOT_STATISTIC_ROLES or "value" in exp, exp
            _locate(case["sentence"], exp["n"], exp.get("at", 1))


def test_summary_by_shape(nlp, capsys):
    by_shape: dict[str, Counter] = defaultdict(Counter)
    silent: dict[str, list[str]] = defaultdict(list)
    for case in CASES:
        outcome, notes = read_case(nlp, case)
        by_shape[case["shape"]][outcome] += 1
        if outcome == "wrong":
            silent[case["shape"]].append(f"{case['sentence']}\n      " + "\n      ".join(n for n in notes if ": wrong" in n))
    total = sum(by_shape.values(), Counter())
    with capsys.disabled():
        print(f"\n{'shape':32} {'right':>6} {'flagged':>8} {'wrong_fl':>9} {'silent':>7}")
        for shape in sorted(by_shape):
            c = by_shape[shape]
            print(f"{shape:32} {c['right']:6} {c['flagged']:8} {c['wrong_flagged']:9} {c['wrong']:7}")
        print(f"{'TOTAL (' + str(len(CASES)) + ' sentences)':32} {total['right']:6} {total['flagged']:8} "
              f"{total['wrong_flagged']:9} {total['wrong']:7}")
        for shape in sorted(silent):
            print(f"\nsilently wrong: {shape}")
            for line in silent[shape]:
                print(f"  - {line}")
    floor = DATA["summary"]
    assert total["right"] >= floor["right_at_least"]
    assert total["wrong"] <= floor["silently_wrong_at_most"]
