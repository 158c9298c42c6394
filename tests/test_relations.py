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
