"""The statistic finder on hard sentences: shapes of numbers, subjects apart from numbers, distractors."""
import pytest
import spacy

from pipeline.nlp import MODEL_DIR, build_pipeline, load_pipeline, ruler_patterns


@pytest.fixture(scope="module")
def nlp():
    return load_pipeline()


def stats(nlp, text):
    return [(s.text, s.kind, s.value, s.denominator, s.qualifier, s.subject, s.judgement) for s in nlp(text)._.statistics]


def test_shipped_model_loads_with_spacy_load_and_has_our_factory():
    nlp = spacy.load(MODEL_DIR)
    assert nlp.pipe_names == ["sentencizer", "entity_ruler", "letter_statistics"]


def test_shipped_model_patterns_match_the_vocabulary_files():
    """models/ is rebuilt with `make model`; this fails when the data files moved on without it."""
    shipped = spacy.load(MODEL_DIR).get_pipe("entity_ruler").patterns
    key = lambda p: (p["label"], str(p["pattern"]))
    assert sorted(map(key, shipped)) == sorted(map(key, ruler_patterns()))


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("An above average proportion of childminding and childcare provision, over 70%, is good or outstanding.",
         [("over 70%", "percentage", 70, None, "over", "childminding and childcare provision", "good or outstanding")]),
        ("Only three of the eight secondary schools in Westminster are good or outstanding.",
         [("Only three of the eight secondary schools", "count", 3, 8, "only", "secondary schools", "good or outstanding")]),
        ("Provision in nursery schools is very good, with 13 out of 14 inspected being good or better.",
         [("13 out of 14", "count", 13, 14, None, "nursery schools", "good or better")]),
        ("All three serious case reviews conducted between 1 April 2007 and 15 July 2009 have been evaluated by Ofsted as adequate.",
         [("All three serious case reviews", "count", 3, None, "all", "serious case reviews", "adequate")]),
        ("About 85 per cent of primary schools are good or better.",
         [("About 85 per cent of primary schools", "percentage", 85, None, "about", "primary schools", "good or better")]),
        ("Only 2 of the 11 children's homes are outstanding.",
         [("Only 2 of the 11 children's homes", "count", 2, 11, "only", "children's homes", "outstanding")]),
        ("The two special schools are good, as are two of the three pupil referral units.",
         [("two special schools", "count", 2, None, None, "special schools", "good"),
          ("two of the three pupil referral units", "count", 2, 3, None, "pupil referral units", "good")]),
        ("Of the 22 children's homes inspected, 5 are outstanding.",
         [("Of the 22 children's homes inspected, 5", "count", 5, 22, None, "children's homes", "outstanding")]),
        ("Provision is only satisfactory for pupils in one of the four special schools.",
         [("one of the four special schools", "count", 1, 4, None, "special schools", "satisfactory")]),
    ],
)
def test_statistics_in_hard_sentences(nlp, sentence, expected):
    assert stats(nlp, sentence) == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "Students from low income families achieving at level 2 and 3 by the age of 19 do well.",
        "Attainment at Key Stage 2 and Key Stage 4 is improving.",
        "The rating is provided for the purpose of section 138 of the Education and Inspections Act 2006.",
        "The joint area review in 2007 judged safeguarding as good.",
        "Reviews were evaluated between 1 April 2007 and 15 July 2009.",
        "The annual rating derives from a four point scale.",
        "The overall effectiveness of a large majority of inspected services and settings is good or outstanding.",
        "Telephone 08456 40 40 40 for advice.",
        "Inspectors found no areas for priority action.",
    ],
)
def test_distractors_are_not_statistics(nlp, sentence):
    assert stats(nlp, sentence) == []


def test_thousands_separators_are_one_number(nlp):
    assert [(s.value, s.subject) for s in nlp("Of the 1,200 childminders inspected, 1,050 are good.")._.statistics] == [(1050, "childminders")]
    assert [s.value for s in nlp("Ofsted inspects over 20,000 services each year.")._.statistics] == [20000]


def test_pipeline_builds_without_the_model_folder():
    nlp = build_pipeline()
    assert [s.value for s in nlp("Nine of the ten primary schools are good.")._.statistics] == [9]
