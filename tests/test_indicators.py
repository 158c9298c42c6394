"""Outcome indicators: figures about children and casework that no inspection judged."""
import pytest

from pipeline.extract import read_statistics
from pipeline.indicators import indicator_lead, is_indicator_subject


@pytest.mark.parametrize("sentence, value, subject, measure", [
    ("At Key Stage 4, 57% of pupils achieved five or more GCSEs at grades A* to C.", 57, "pupils", "achieved five or more GCSEs"),
    ("The proportion of care leavers in suitable accommodation (NI 147) is 91%.", 91, "care leavers", "in suitable accommodation"),
    ("Re-referrals to children's social care (NI 65) rose to 27.5% in 2008-09.", 27.5, "Re-referrals", "to children's social care"),
    # the group named earlier in the sentence, its state after the figure, a grade word before it about the service
    ("Outcomes for care leavers are good, with 88% in education, employment or training.", 88, "care leavers",
     "in education, employment or training"),
    ("Just 62% of initial assessments were completed within seven working days.", 62, "initial assessments", "were completed within seven working days"),
    ("The number of looked after children has risen to 277.", 277, "looked after children", None),
])
def test_indicators_are_statistics_of_their_own_kind_with_subject_and_measure(sentence, value, subject, measure):
    stats, numbers, _ = read_statistics(sentence)
    indicator = next(s for s in stats if s.value == value)
    assert indicator.kind == "indicator" and indicator.subject == subject and indicator.judgement is None
    assert measure is None or (indicator.measure or "").startswith(measure)
    assert not any(n.role == "unexplained" for n in numbers)


def test_a_judged_share_of_a_group_stays_a_judged_statistic():
    stats, _, _ = read_statistics("Nine per cent of children's homes were inadequate.")
    assert stats[0].kind == "percentage" and stats[0].judgement == "inadequate"


def test_a_number_inside_the_measure_is_no_indicator():
    assert indicator_lead("The proportion of initial assessments completed within ") is None
    assert indicator_lead("The number of looked after children has risen to ").subject == "looked after children"


def test_indicator_subjects_come_from_the_vocabulary():
    assert is_indicator_subject("care leavers") and not is_indicator_subject("children's centres")
