"""The second reading: statistics read from the sentence's dependency parse, and compared with the finder's."""
import pytest

from pipeline.extract import read_statistics
from pipeline.parse import load_parser
from pipeline.structure import compare_reading, parse_for_structure, read_structure


@pytest.fixture(scope="module")
def parser():
    return load_parser()


def readings(parser, sentence):
    doc = parse_for_structure([sentence], parser)[0]
    return {sentence[r.start:r.end]: r for r in read_structure(doc, parser)}


@pytest.mark.parametrize("sentence, number, subject, judgement, negated", [
    ("41 of the 56 primary schools are good or better.", "41", "primary schools", "good or better", False),
    ("Over 70% of childminding is good or outstanding.", "70", "childminding", "good or outstanding", False),
    ("Nine per cent of children's homes were inadequate.", "Nine", "children's homes", "inadequate", False),
    ("Three of the council's children's homes are not good.", "Three", "homes", "good", True),
    ("All three serious case reviews evaluated by Ofsted were adequate.", "three", "serious case reviews", "adequate", False),
    ("Twenty-nine of the 38 high schools are good or outstanding.", "Twenty-nine", "high schools", "good or outstanding", False),
])
def test_the_parse_reads_what_a_number_counts_and_how_it_is_judged(parser, sentence, number, subject, judgement, negated):
    r = readings(parser, sentence)[number]
    assert subject in r.subject and r.judgement == judgement and r.negated is negated


def test_a_number_the_parse_cannot_place_has_no_reading(parser):
    assert "2009" not in readings(parser, "In 2009 the council reorganised its services.")


def test_agreeing_readings_confirm_and_disagreeing_ones_are_flagged_with_both():
    stats, _, _ = read_statistics("Seven of the nine special schools are outstanding.")
    assert [s.agreement for s in stats] == ["confirmed"]
    stats, _, _ = read_statistics("Eight of the 30 primary schools are not good.")
    assert stats[0].judgement == "not good" and stats[0].agreement == "confirmed"


def test_a_negation_only_the_parse_sees_disputes_the_judgement(parser):
    reading = readings(parser, "Three of the council's children's homes are not good.")["Three"]
    comparison = compare_reading("children's homes", "good", "count", reading, parser)
    assert comparison.agreement == "disputed" and "negated" in comparison.problem


def test_a_subject_the_parse_counts_otherwise_disputes_it(parser):
    reading = readings(parser, "41 of the 56 primary schools are good or better.")["41"]
    comparison = compare_reading("children's homes", "good or better", "count", reading, parser)
    assert comparison.agreement == "disputed" and "'primary schools'" in comparison.problem


def test_no_reading_is_one_reading_not_a_dispute(parser):
    assert compare_reading("schools", "good", "count", None, parser).agreement == "one_reading"
