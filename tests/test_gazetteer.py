"""Tests of the local authority gazetteer: the data users join on, and name resolution."""
from __future__ import annotations

import re
import statistics
import time
from collections import defaultdict

import pytest

from pipeline.gazetteer import (
    Authority,
    AuthorityMatch,
    _fold,
    _index,
    _tokens,
    find_authorities,
    fuzzy_find_authority,
    load_authorities,
    lookup_authority,
)

REGIONS = {
    "North East", "North West", "Yorkshire and the Humber", "East Midlands", "West Midlands",
    "East of England", "London", "South East", "South West",
}
GSS_PREFIX = {
    "London borough": "E09",
    "City of London corporation": "E09",
    "metropolitan district": "E08",
    "county": "E10",
    "unitary": "E06",
}


def by_name() -> dict[str, Authority]:
    return {a.name: a for a in load_authorities()}


# --- the data ---------------------------------------------------------------------------


def test_exactly_152_authorities_with_unique_names_and_codes() -> None:
    authorities = load_authorities()
    assert len(authorities) == 152
    for field in ("name", "la_code", "gss_code"):
        values = [getattr(a, field) for a in authorities]
        assert len(set(values)) == 152, field


def test_codes_types_and_regions_are_well_formed() -> None:
    for a in load_authorities():
        assert re.fullmatch(r"\d{3}", a.la_code), a
        assert re.fullmatch(r"E\d{8}", a.gss_code), a
        assert a.region in REGIONS, a
        assert a.gss_code.startswith(GSS_PREFIX[a.type]), a
        if a.gss_code.startswith("E09"):
            assert a.region == "London"
            assert 201 <= int(a.la_code) <= 213 or 301 <= int(a.la_code) <= 320, a


def test_counts_by_type_and_region_match_the_2009_structure() -> None:
    counts: dict[str, int] = defaultdict(int)
    regions: dict[str, int] = defaultdict(int)
    for a in load_authorities():
        counts[a.type] += 1
        regions[a.region] += 1
    assert dict(counts) == {
        "London borough": 32,
        "City of London corporation": 1,
        "metropolitan district": 36,
        "county": 27,
        "unitary": 56,
    }
    assert dict(regions) == {
        "North East": 12, "North West": 23, "Yorkshire and the Humber": 15, "East Midlands": 9,
        "West Midlands": 14, "East of England": 11, "London": 33, "South East": 19, "South West": 16,
    }


@pytest.mark.parametrize(
    ("name", "la_code", "gss_code"),
    [
        ("Bromley", "305", "E09000006"),
        ("Westminster", "213", "E09000033"),
        ("City of London", "201", "E09000001"),
        ("Camden", "202", "E09000007"),
        ("Barking and Dagenham", "301", "E09000002"),
        ("Waltham Forest", "320", "E09000031"),
        ("Kingston upon Thames", "314", "E09000021"),
        ("Richmond upon Thames", "318", "E09000027"),
        ("Sutton", "319", "E09000029"),
        ("Birmingham", "330", "E08000025"),
        ("Manchester", "352", "E08000003"),
        ("Leeds", "383", "E08000035"),
        ("Sefton", "343", "E08000014"),
        ("St. Helens", "342", "E08000013"),
        ("Wirral", "344", "E08000015"),
        ("Barnsley", "370", "E08000016"),
        ("Gateshead", "390", "E08000020"),
        ("Kent", "886", "E10000016"),
        ("Hertfordshire", "919", "E10000015"),
        ("North Yorkshire", "815", "E10000023"),
        ("East Sussex", "845", "E10000011"),
        ("West Sussex", "938", "E10000032"),
        ("Buckinghamshire", "825", "E10000002"),
        ("Cornwall", "908", "E06000052"),
        ("Isles of Scilly", "420", "E06000053"),
        ("Bristol", "801", "E06000023"),
        ("Kingston upon Hull", "810", "E06000010"),
        ("North Lincolnshire", "813", "E06000013"),
        ("Telford and Wrekin", "894", "E06000020"),
        ("Herefordshire", "884", "E06000019"),
        ("Durham", "840", "E06000047"),
        ("Northumberland", "929", "E06000048"),
        ("Bedford", "822", "E06000055"),
        ("Central Bedfordshire", "823", "E06000056"),
        ("Cheshire East", "895", "E06000049"),
        ("Cheshire West and Chester", "896", "E06000050"),
        ("Shropshire", "893", "E06000051"),
        ("Wiltshire", "865", "E06000054"),
        ("Bournemouth", "837", "E06000028"),
        ("Poole", "836", "E06000029"),
    ],
)
def test_known_codes(name: str, la_code: str, gss_code: str) -> None:
    a = by_name()[name]
    assert (a.la_code, a.gss_code) == (la_code, gss_code)


def test_types_of_the_special_cases() -> None:
    authorities = by_name()
    assert authorities["City of London"].type == "City of London corporation"
    assert authorities["Isles of Scilly"].type == "unitary"
    assert authorities["Durham"].type == "unitary"
    assert authorities["Kent"].type == "county"
    assert authorities["Wirral"].type == "metropolitan district"


def test_load_is_cached_and_aliases_are_tuples() -> None:
    first, second = load_authorities(), load_authorities()
    assert first == second and first is not second
    assert all(x is y for x, y in zip(first, second))
    assert all(isinstance(a.aliases, tuple) for a in first)
    assert "London Borough of Bromley" in by_name()["Bromley"].aliases


def test_no_alias_or_ocr_key_names_two_authorities() -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for a in load_authorities():
        for written in (a.name, *a.aliases):
            owners[" ".join(_tokens(written))].add(a.name)
    assert not {k: v for k, v in owners.items() if len(v) > 1}
    index = _index()
    folded: dict[str, set[str]] = defaultdict(set)
    for key, owner in zip(index.fuzzy_keys, index.fuzzy_owners):
        folded[key].add(owner.name)
    assert not {k: v for k, v in folded.items() if len(v) > 1}


# --- lookup_authority ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("London Borough of Bromley", "Bromley"),
        ("Bromley Council", "Bromley"),
        ("London Borough of Westminster", "Westminster"),
        ("City of Westminster", "Westminster"),
        ("the Royal Borough of Kensington and Chelsea", "Kensington and Chelsea"),
        ("Royal Borough of Kingston upon Thames", "Kingston upon Thames"),
        ("Kingston upon Hull City Council", "Kingston upon Hull"),
        ("Hull City Council", "Kingston upon Hull"),
        ("Telford & Wrekin", "Telford and Wrekin"),
        ("County Durham", "Durham"),
        ("Durham County Council", "Durham"),
        ("Bath & North East Somerset", "Bath and North East Somerset"),
        ("Southend-on-Sea", "Southend-on-Sea"),
        ("Stockton on Tees", "Stockton-on-Tees"),
        ("Windsor and Maidenhead", "Windsor and Maidenhead"),
        ("Brighton & Hove City Council", "Brighton and Hove"),
        ("Herefordshire Council", "Herefordshire"),
        ("Bournemouth", "Bournemouth"),
        ("Borough of Poole", "Poole"),
        ("Medway Council", "Medway"),
        ("St Helens", "St. Helens"),
        ("St. Helens Council", "St. Helens"),
        ("Kent County Council", "Kent"),
        ("Bolton Metropolitan Borough Council", "Bolton"),
        ("City of Bradford Metropolitan District Council", "Bradford"),
        ("Council of the Isles of Scilly", "Isles of Scilly"),
        ("City of London Corporation", "City of London"),
        ("  LONDON BOROUGH OF BROMLEY  ", "Bromley"),
    ],
)
def test_lookup_exact_and_alias(phrase: str, expected: str) -> None:
    match = lookup_authority(phrase)
    assert match is not None
    assert match.authority.name == expected
    assert (match.score, match.method) == (1.0, "gazetteer")
    assert phrase[match.start:match.end] == match.as_written == phrase.strip()


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("Brornley", "Bromley"),
        ("Westrninster", "Westminster"),
        ("8romley", "Bromley"),
        ("Bir mingham", "Birmingham"),
        ("Wa1sall", "Walsall"),
        ("Lancashlre", "Lancashire"),
        ("London Borough of Brornley", "Bromley"),
        ("Leicestershlre County Councll", "Leicestershire"),
        ("Nottinghamshir", "Nottinghamshire"),
    ],
)
def test_lookup_ocr_damaged(phrase: str, expected: str) -> None:
    match = lookup_authority(phrase)
    assert match is not None
    assert match.authority.name == expected
    assert match.method == "gazetteer-fuzzy"
    assert 0.85 <= match.score < 1.0


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("Kingston upon Thames", "Kingston upon Thames"),
        ("Kingston upon Hull", "Kingston upon Hull"),
        ("Kingston upon Tharnes", "Kingston upon Thames"),
        ("Kingston upon Hu1l", "Kingston upon Hull"),
        ("Richmond upon Tharnes", "Richmond upon Thames"),
        ("North Yorkshire", "North Yorkshire"),
        ("North Lincolnshire", "North Lincolnshire"),
        ("North Yorkshlre", "North Yorkshire"),
        ("North Lincolnshlre", "North Lincolnshire"),
        ("East Sussex", "East Sussex"),
        ("West Sussex", "West Sussex"),
        ("Sutton", "Sutton"),
        ("Sefton", "Sefton"),
        ("Barnet", "Barnet"),
        ("Barnsley", "Barnsley"),
        ("Bamet", "Barnet"),
        ("Bristol", "Bristol"),
        ("Bradford", "Bradford"),
        ("Nottingham", "Nottingham"),
        ("Nottinghamshire", "Nottinghamshire"),
        ("Lincolnshire", "Lincolnshire"),
        ("North East Lincolnshire", "North East Lincolnshire"),
    ],
)
def test_confusable_names_resolve_to_the_right_one(phrase: str, expected: str) -> None:
    match = lookup_authority(phrase)
    assert match is not None and match.authority.name == expected


@pytest.mark.parametrize(
    "phrase",
    [
        "Wast Sussex",  # as close to East Sussex as to West Sussex
        "Eest Sussex",
        "Kingston",  # upon Thames or upon Hull?
        "Sutlon",
        "Sefron",
        "London",
        "Ofsted",
        "Aviation House",
        "National Indicator Set",
        "Children's services annual rating",
        "",
        "   ",
    ],
)
def test_lookup_returns_none_when_ambiguous_or_not_an_authority(phrase: str) -> None:
    assert lookup_authority(phrase) is None


def test_min_score_is_respected() -> None:
    assert lookup_authority("Lancashlre", min_score=0.95) is None
    assert lookup_authority("Lancashlre", min_score=0.85) is not None


# --- find_authorities ------------------------------------------------------------------------


def assert_offsets(text: str, matches: list[AuthorityMatch]) -> None:
    for m in matches:
        assert text[m.start:m.end] == m.as_written
        assert (m.score, m.method) == (1.0, "gazetteer")


def test_find_in_a_sentence() -> None:
    text = "Children's services in the London Borough of Bromley perform well."
    matches = find_authorities(text)
    assert [(m.authority.name, m.as_written) for m in matches] == [("Bromley", "London Borough of Bromley")]
    assert_offsets(text, matches)


def test_find_in_an_address_block() -> None:
    text = "Director of Children's Services\nLondon Borough of Westminster\n13th Floor West\nCity Hall"
    matches = find_authorities(text)
    assert [m.as_written for m in matches] == ["London Borough of Westminster"]
    assert matches[0].start == text.index("London")
    assert_offsets(text, matches)


def test_find_across_a_line_break_and_with_punctuation_variants() -> None:
    text = "Brighton and\nHove; Telford & Wrekin; St. Helens; Stockton-on-Tees; County Durham."
    matches = find_authorities(text)
    assert [m.authority.name for m in matches] == [
        "Brighton and Hove", "Telford and Wrekin", "St. Helens", "Stockton-on-Tees", "Durham",
    ]
    assert_offsets(text, matches)


def test_find_prefers_the_longest_name() -> None:
    text = (
        "Officers from North East Lincolnshire and Lincolnshire met colleagues from "
        "Kingston upon Hull City Council and the Royal Borough of Kingston upon Thames."
    )
    matches = find_authorities(text)
    assert [(m.authority.name, m.as_written) for m in matches] == [
        ("North East Lincolnshire", "North East Lincolnshire"),
        ("Lincolnshire", "Lincolnshire"),
        ("Kingston upon Hull", "Kingston upon Hull City Council"),
        ("Kingston upon Thames", "Royal Borough of Kingston upon Thames"),
    ]
    assert_offsets(text, matches)


def test_find_returns_every_mention() -> None:
    text = "London Borough of Bromley\nCivic Centre\nBromley BR1 3UH\n\nChildren's services in Bromley perform well."
    matches = find_authorities(text)
    assert [m.authority.name for m in matches] == ["Bromley"] * 3
    assert_offsets(text, matches)


def test_one_word_names_must_be_capitalised() -> None:
    assert find_authorities("Attainment in reading and writing is good.") == []
    text = "Reading Borough Council and Reading"
    assert [m.as_written for m in find_authorities(text)] == ["Reading Borough Council", "Reading"]


def test_find_nothing_in_non_authority_text() -> None:
    text = (
        "Aviation House 125 Kingsway London WC2B 6SE. Ofsted guidance published in May 2009 "
        "explained the National Indicator Set (NIS). Every Child Matters."
    )
    assert find_authorities(text) == []
    assert find_authorities("") == []


def test_find_does_not_match_inside_words() -> None:
    assert find_authorities("Kentish Bromleys Suttonian") == []


def test_find_is_fast_on_a_letter_sized_text() -> None:
    paragraph = (
        "Children's services in the London Borough of Westminster perform well. The overall "
        "effectiveness of the large majority of inspected services and settings is good or better. "
        "A higher than average proportion of primary schools is good or outstanding. However, too much "
        "secondary and sixth form school provision is satisfactory.\n"
    )
    text = paragraph * (6000 // len(paragraph) + 1)
    find_authorities(text)
    timings = []
    for _ in range(20):
        t0 = time.perf_counter()
        find_authorities(text)
        timings.append(time.perf_counter() - t0)
    assert statistics.median(timings) < 0.005


# --- fuzzy_find_authority ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "as_written"),
    [
        (
            "Children's services in the London Borough of Brornley perform well.",
            "Bromley",
            "London Borough of Brornley",
        ),
        (
            "Mr Michael O'Connor\nDirector of Children's Services\nLondon Borough of Westrninster\n13th Floor West",
            "Westminster",
            "London Borough of Westrninster",
        ),
        ("Director of Children's Services\n8romley Council\nCivic Centre", "Bromley", "8romley Council"),
        ("Children's services in Bir mingham perform adequately.", "Birmingham", "Bir mingham"),
        ("Dear Director, Lancashlre County Council has", "Lancashire", "Lancashlre County Council"),
    ],
)
def test_fuzzy_find_in_damaged_text(text: str, expected: str, as_written: str) -> None:
    assert find_authorities(text) == []
    match = fuzzy_find_authority(text)
    assert match is not None
    assert match.authority.name == expected
    assert match.as_written == as_written
    assert text[match.start:match.end] == match.as_written
    assert match.method == "gazetteer-fuzzy"


def test_fuzzy_find_returns_none_without_an_authority() -> None:
    text = (
        "Ofsted, Aviation House, 125 Kingsway, London. This profile includes findings for which the "
        "council has strategic or operational responsibilities. Children's services in the area perform well."
    )
    assert fuzzy_find_authority(text) is None


def test_ocr_fold_is_applied_to_both_sides() -> None:
    assert _fold(tuple(_tokens("Brornley"))) == _fold(tuple(_tokens("Bromley")))
    for genuine_rn in ("Cornwall", "Barnet", "Bournemouth", "Barnsley"):
        match = lookup_authority(genuine_rn.replace("rn", "m"))
        assert match is not None and match.authority.name == genuine_rn


def test_find_does_not_join_names_across_commas() -> None:
    text = "Kingston upon Hull, City of York and Bristol, City of Bath"
    assert [m.as_written for m in find_authorities(text)] == ["Kingston upon Hull", "City of York", "Bristol"]
