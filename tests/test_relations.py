"""Trends and comparators fold into the statistic they qualify; neither is a row of its own."""
import pytest

from pipeline.extract import read_statistics


@pytest.mark.parametrize("sentence, value, previous", [
    ("The share of childminders judged inadequate fell from 14% to 11%.", 11, 14),
    ("Good or better primary schools increased from 65% in 2007 to 78% in 2009.", 78, 65),
    ("Inadequate provision among childminders fell to 4%, from 7% the previous year.", 4, 7),
])
def test_a_trend_is_one_statistic_with_its_earlier_value(sentence, value, previous):
    stats, numbers, _ = read_statistics(sentence)
    assert [(s.value, s.previous_value) for s in stats] == [(value, previous)]
    assert any(n.rule == "previous" and n.statistic is stats[0] for n in numbers)


@pytest.mark.parametrize("sentence, value, comparator, scope", [
    ("Some 66% of primary schools are good or better, compared with 61% in similar areas.", 66, 61, "similar areas"),
    ("Only 48% of children's centres are good or outstanding, well below the regional average of 60%.", 48, 60, "regional"),
    ("Eight in ten childminders are good or better, against a national figure of 85%.", 8, 85, "national"),
])
def test_a_comparator_is_a_column_of_the_statistic_it_is_set_against(sentence, value, comparator, scope):
    stats, numbers, _ = read_statistics(sentence)
    assert len(stats) == 1 and stats[0].value == value and stats[0].comparator_value == comparator
    assert scope in stats[0].comparator_scope
    assert any(n.rule == "comparator" for n in numbers)


def test_changes_are_no_statistics():
    stats, numbers, _ = read_statistics("Good childminding rose by 12 per cent, and outstanding provision by 5 percentage points.")
    assert stats == [] and {n.rule for n in numbers} == {"change"}


@pytest.mark.parametrize("sentence, scope", [
    ("Two thirds of nurseries are good, against 58% of nurseries elsewhere.", "elsewhere"),
    ("In the county 71% of childminders are good, compared with 64% of childminders in the rest of the county.", "the rest of the county"),
])
def test_a_comparator_elsewhere_is_scoped(sentence, scope):
    stats, _, _ = read_statistics(sentence)
    assert len(stats) == 1 and stats[0].comparator_scope == scope and stats[0].problem is None


@pytest.mark.parametrize("sentence", [
    "Of the schools, 89% are good or better, compared with 85% of schools last year.",
    "Some 89% of schools are good, compared with 85% of schools in 2008.",
])
def test_a_comparator_of_the_same_subject_at_another_time_is_no_doubt(sentence):
    stats, _, _ = read_statistics(sentence)
    assert len(stats) == 1 and stats[0].comparator_value == 85 and stats[0].problem is None


def test_a_statistic_given_its_comparators_subject_with_no_other_place_or_time_is_flagged():
    """'89% are good or better, compared with 88% of academies': a comparison differs in something, so a
    statistic that took the comparator's own subject has probably taken the wrong one."""
    stats, _, _ = read_statistics("Maintained schools do as well as academies: 89% are good or better, compared with 88% of academies.")
    assert len(stats) == 1 and stats[0].comparator_value == 88
    assert "same subject" in stats[0].problem
