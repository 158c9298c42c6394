"""The grammar of quantities: numbers of any size, in digits or words, fractions, percentages, ordinals."""
import pytest
import spacy

from pipeline.config import vocab
from pipeline.quantities import QuantityGrammar

_NLP = spacy.blank("en")
_GRAMMAR = QuantityGrammar(vocab()["numbers"])


def quantities(text: str) -> list[tuple[str, str, float, float | None]]:
    doc = _NLP(text)
    lower = [t.lower_ for t in doc]
    return [(doc[q.start:q.end].text, q.kind, q.value, q.denominator) for q in _GRAMMAR.scan(lower, 0, len(doc))]


@pytest.mark.parametrize(
    "text, value",
    [
        ("seven", 7), ("nineteen", 19), ("forty-one", 41), ("forty one", 41), ("ninety-nine", 99),
        ("one hundred and twelve", 112), ("a hundred", 100), ("two hundred", 200), ("three thousand", 3000),
        ("one thousand two hundred and five", 1205), ("1,234", 1234), ("2.5", 2.5), ("20,000", 20000), ("12", 12),
    ],
)
def test_cardinals_of_any_size(text, value):
    assert quantities(text) == [(text, "cardinal", value, None)]


def test_two_numbers_side_by_side_stay_two():
    assert [q[2] for q in quantities("two and three")] == [2, 3]
    assert [q[2] for q in quantities("seven nine")] == [7, 9]
    assert [q[2] for q in quantities("2 of the 3")] == [2, 3]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("70%", ("70%", "percentage", 70, None)),
        ("70 per cent", ("70 per cent", "percentage", 70, None)),
        ("seventy percent", ("seventy percent", "percentage", 70, None)),
        ("two thirds", ("two thirds", "fraction", 2, 3)),
        ("three-quarters", ("three-quarters", "fraction", 3, 4)),
        ("a quarter of", ("a quarter", "fraction", 1, 4)),
        ("one third of", ("one third", "fraction", 1, 3)),
        ("half of", ("half", "fraction", 1, 2)),
    ],
)
def test_percentages_and_fractions(text, expected):
    assert quantities(text)[0] == expected


@pytest.mark.parametrize("text", ["the third successive year", "13th", "twenty-first", "the first time"])
def test_ordinals_are_not_cardinals(text):
    assert [q[1] for q in quantities(text)] == ["ordinal"]


def test_words_that_are_not_numbers():
    assert quantities("a strong half-term and a good start") == []
    assert quantities("none of the above") == []


def test_fused_tens_and_units_are_one_number():
    from pipeline.config import vocab
    from pipeline.quantities import QuantityGrammar

    grammar = QuantityGrammar(vocab()["numbers"])
    [q] = grammar.scan(["fiftyeight", "of", "the"], 0, 3)
    assert q.value == 58 and q.kind == "cardinal"
