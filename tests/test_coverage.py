"""coverage: the authorities with no letter for a year, the letters for one authority and year that disagree,
and the archive beside Ofsted's published totals and lists."""
from __future__ import annotations

import copy
import json
import re
from collections import Counter

import pytest
from typer.testing import CliRunner

import pandas as pd
from conftest import SHARED
from helpers_output import archive_tables, letter_id_of, sample_tables, write_output
from test_extract import letter
from pipeline.cli import app
from pipeline.coverage import coverage
from pipeline.dedup import mark_conflicts
from pipeline.errors import EXIT_DATA, EXIT_USAGE, NotADataset
from pipeline.gazetteer import load_authorities
from pipeline.ingest import ingest
from pipeline.published import load_published

runner = CliRunner()
N_AUTHORITIES = len(load_authorities())
BROMLEY_FILE, WESTMINSTER_FILE = "000_fab9377e44d3ba9b.txt", "002_c8e38d5c7059abd6.txt"


def _copy(tables: dict, file_name: str, letter_id: str, source_path: str, **values) -> dict:
    """A second letters row for the letter filed as file_name, with its own id and path, and values changed."""
    row = copy.deepcopy(next(r for r in tables["letters"] if r["source_path"].endswith(file_name)))
    row.update(letter_id=letter_id, source_path=source_path, **values)
    tables["letters"].append(row)
    return row


@pytest.fixture
def archive(tmp_path):
    """The sample (Bromley and Westminster 2009, Cumbria 2010, a failed document), plus: a copy of the
    Bromley letter rated 1 (a conflict, flagged as ingest flags it, with one more issue of its own), an
    agreeing copy of Westminster (a PDF of the same letter), a duplicate of Westminster, and a letter
    with no rating year."""
    tables = sample_tables()
    bromley = letter_id_of(tables, BROMLEY_FILE)
    westminster = letter_id_of(tables, WESTMINSTER_FILE)
    _copy(tables, BROMLEY_FILE, "b0000000000000c1", "letters/bromley rated 1.txt", rating_score=1, rating_label="Performs poorly",
          issues="salutation: not found")
    _copy(tables, WESTMINSTER_FILE, "a0000000000000a1", "letters/westminster.pdf", source_format="pdf")
    _copy(tables, WESTMINSTER_FILE, "d0000000000000d1", "letters/westminster again.txt", duplicate_of=westminster)
    _copy(tables, WESTMINSTER_FILE, "e0000000000000e1", "letters/undated.txt", rating_year=None, letter_date=None)
    assert mark_conflicts(tables["letters"]) == 2
    out = write_output(tmp_path / "out", tables)
    return {"out": out, "bromley": bromley, "westminster": westminster}


def test_missing_authorities_for_each_year(archive):
    report = coverage(archive["out"])
    assert [y.year for y in report.years] == [2009, 2010]
    y2009, y2010 = report.years
    assert y2009.expected == y2010.expected == N_AUTHORITIES == 152
    missing_2009 = {a.la_code for a in y2009.missing}
    assert "305" not in missing_2009 and "213" not in missing_2009 and "909" in missing_2009
    assert y2009.found == 2 and len(y2009.missing) == 150
    assert y2010.found == 1 and {a.la_code for a in y2010.missing} == {a.la_code for a in load_authorities()} - {"909"}
    barnet = next(a for a in y2010.missing if a.la_code == "302")
    assert (barnet.name, barnet.region) == ("Barnet", "London")


def test_years_asked_for_include_a_year_with_no_letters(archive):
    report = coverage(archive["out"], years=[2011, 2009])
    assert [y.year for y in report.years] == [2009, 2011]
    assert report.years[1].found == 0 and len(report.years[1].missing) == N_AUTHORITIES


def test_a_conflicting_pair_is_listed_with_its_differing_fields_and_the_preferred_copy(archive):
    report = coverage(archive["out"])
    (conflict,) = report.conflicts
    assert (conflict.year, conflict.authority.name, conflict.authority.la_code) == (2009, "Bromley", "305")
    fields = {d.field: d.values for d in conflict.differences}
    assert fields["rating_score"] == {archive["bromley"]: "3", "b0000000000000c1": "1"}
    assert set(fields) == {"rating_score", "rating_label"}  # the other values agree
    assert conflict.preferred == archive["bromley"]  # fewer issues than the copy
    assert [letter.letter_id for letter in conflict.letters] == [archive["bromley"], "b0000000000000c1"]
    assert report.years[0].conflicting[0].name == "Bromley"


def test_duplicates_are_not_counted_as_letters_and_agreeing_copies_are_not_conflicts(archive):
    y2009 = coverage(archive["out"]).years[0]
    # Bromley and its conflicting copy, Westminster and its agreeing PDF; the duplicate left out
    assert y2009.letters == 4 and y2009.duplicates == 1
    assert [a.name for a in y2009.agreeing] == ["Westminster"]
    assert [a.name for a in y2009.conflicting] == ["Bromley"]


def test_a_letter_with_no_rating_year_is_listed_as_unplaced_not_dropped(archive):
    report = coverage(archive["out"])
    assert [letter.letter_id for letter in report.unplaced] == ["e0000000000000e1"]


def test_json_shape(archive):
    result = runner.invoke(app, ["coverage", "--out", str(archive["out"]), "--year", "2009", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"dataset", "years", "conflicts", "unplaced", "disagreements", "sources", "notes"}
    (year,) = data["years"]
    assert set(year) == {"year", "expected", "found", "letters", "duplicates", "missing", "agreeing", "conflicting", "ratings",
                         "published_lists", "checked"}
    assert year["ratings"][0] == {"score": 4, "label": "Performs excellently", "archive": 0, "published": 10, "source": "bbc-2009"}
    assert {"score": 3, "label": "Performs well", "archive": 2, "published": 93, "source": "bbc-2009"} in year["ratings"]
    assert year["published_lists"][0] == {"score": 4, "named": 10, "total": 10, "complete": True, "source": "bbc-2009"}
    (wrong,) = data["disagreements"]
    assert set(wrong) == {"year", "authority", "letter", "rating_score", "listed_score", "list_score", "source", "reason"}
    assert set(data["sources"]["bbc-2009"]) == {"key", "publisher", "title", "kind", "date", "url", "says"}
    assert year["year"] == 2009 and year["found"] == 2 and year["expected"] == 152
    assert {"name": "Barnet", "la_code": "302", "region": "London"} in year["missing"]
    (conflict,) = data["conflicts"]
    assert set(conflict) == {"year", "authority", "letters", "differences", "preferred"}
    assert {"field": "rating_score", "values": {archive["bromley"]: "3", "b0000000000000c1": "1"}} in conflict["differences"]
    assert set(conflict["letters"][0]) == {"letter_id", "source_path", "status"}
    assert any("no start or end dates" in note for note in data["notes"])
    assert not any("not in the repository" in note for note in data["notes"])
    assert any(note.startswith("2009: published lists") and "9 of 9 named (complete)" in note for note in data["notes"])


def test_terminal_output_names_missing_authorities_and_the_conflict(archive):
    result = runner.invoke(app, ["coverage", "--out", str(archive["out"])], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "2009: letters for 2 of 152 authorities (4 letters, 1 duplicate left out); 150 missing" in out
    assert "Missing for 2010" in out and "Barking and Dagenham" in out
    assert "Bromley (305) 2009" in out and "rating_score" in out and "preferred" in out
    assert "Ratings for 2009: the archive's authorities beside Ofsted's published totals" in out
    assert re.search(r"3 Performs well\s*│\s*2\s*│\s*93\s*│\s*BBC News, 2009-12-09", out)
    assert "Letters a published list contradicts (1 of 4 letters checked against the lists)" in out
    assert "bbc-2009: BBC News" in out and "https://" in out
    assert result.stderr == ""


def test_a_generated_full_archive_of_152_authorities(tmp_path):
    tables = archive_tables(2 * N_AUTHORITIES, seed=3)
    out = write_output(tmp_path / "out", tables, formats=("parquet",))
    report = coverage(out)
    counted = Counter((r["authority_la_code"], r["rating_year"]) for r in tables["letters"]
                      if r["status"] in ("ok", "needs_review") and not r.get("duplicate_of"))
    for year in report.years:
        have = {code for code, y in counted if y == year.year}
        assert year.found == len(have) and year.found + len(year.missing) == 152
        assert not have & {a.la_code for a in year.missing}
        assert year.letters == sum(n for (_, y), n in counted.items() if y == year.year)
    assert report.conflicts == []


def test_not_a_dataset_exits_2_and_an_unreadable_table_exits_4(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotADataset):
        coverage(tmp_path / "empty")
    result = runner.invoke(app, ["coverage", "--out", str(tmp_path / "empty")])
    assert result.exit_code == EXIT_USAGE and result.stdout == ""
    assert "is not a dataset folder" in result.stderr
    (tmp_path / "corrupt").mkdir()
    (tmp_path / "corrupt" / "letters.parquet").write_bytes(b"PAR1 this is not parquet")
    result = runner.invoke(app, ["coverage", "--out", str(tmp_path / "corrupt")])
    assert result.exit_code == EXIT_DATA and result.stdout == ""
    assert "letters.parquet cannot be read" in result.stderr


def test_a_bad_year_is_a_usage_error(archive):
    result = runner.invoke(app, ["coverage", "--out", str(archive["out"]), "--year", "last"])
    assert result.exit_code == EXIT_USAGE and "Invalid value for '--year'" in result.stderr


# ---- the archive beside what Ofsted published (pipeline/data/published_ratings.toml)


def test_the_published_totals_are_the_ones_ofsted_published_each_with_a_source():
    published = load_published()
    expected = {2009: ([10, 93, 40, 9], 0), 2010: ([20, 77, 37, 12], 6), 2011: ([28, 71, 33, 15], 5)}
    assert sorted(published) == sorted(expected)
    for year, (totals, withheld) in expected.items():
        found = published[year]
        assert [found.totals[score].count for score in (4, 3, 2, 1)] == totals
        assert found.not_published.count == withheld and found.authorities.count == 152
        for figure in (*found.totals.values(), found.not_published, found.authorities):
            assert figure.source.url.startswith("http") and figure.source.date.startswith(str(year)) and figure.source.title
        for score, named in found.lists.items():
            assert named.source.url.startswith("http") and len(named.names) == len(named.la_codes)
            assert named.complete == (len(named.la_codes) == found.totals[score].count)
    assert published[2009].lists[1].complete and published[2009].lists[4].complete and published[2010].lists[1].complete
    assert published[2009].rating_of("309") == 1 and published[2009].rating_of("816") == 4  # Haringey, York
    assert published[2009].rating_of("305") is None  # Bromley: named in neither list


def test_a_bad_published_file_is_refused(tmp_path):
    from pipeline.published import PublishedDataError

    good = _published_file(tmp_path / "good.toml", lists={4: (["Westminster"], True)})
    assert load_published(good)[2009].rating_of("213") == 4
    for name, text in [("unknown authority", _published_text(lists={4: (["Atlantis"], False)})),
                       ("wrong sum", _published_text(totals=(1, 150, 0, 2))),
                       ("complete but short", _published_text(lists={1: ([], True)})),
                       ("in two lists", _published_text(lists={4: (["Westminster"], True), 1: (["Westminster"], True)}))]:
        path = tmp_path / f"{name}.toml"
        path.write_text(text)
        with pytest.raises(PublishedDataError):
            load_published(path)


def _published_text(totals=(1, 150, 0, 1), withheld=0, lists=None, year=2009) -> str:
    """A published-ratings file of one year for tests: totals for 4, 3, 2, 1 and lists {score: (names, complete)}."""
    lines = [f"[years.{year}]", 'authorities = { count = 152, source = "test" }', f'not_published = {{ count = {withheld}, source = "test" }}',
             f"[years.{year}.totals]"]
    lines += [f'{score} = {{ count = {count}, source = "test" }}' for score, count in zip((4, 3, 2, 1), totals)]
    for score, (names, complete) in (lists or {}).items():
        lines += [f"[years.{year}.lists.{score}]", f"complete = {str(complete).lower()}", 'source = "test"', f"authorities = {json.dumps(names)}"]
    lines += ["[sources.test]", 'publisher = "A test"', 'title = "Lists made for a test"', 'date = "2009-12-09"', 'url = "https://example.org/test"']
    return "\n".join(lines) + "\n"


def _published_file(path, **kwargs):
    path.write_text(_published_text(**kwargs))
    return path


def test_the_archive_totals_count_each_authority_once_by_its_preferred_letter(archive):
    (y2009,) = coverage(archive["out"], years=[2009]).years
    ratings = {row.score: row for row in y2009.ratings}
    # Bromley (3, its copy rated 1 not counted: the original is preferred) and Westminster (3, and its agreeing PDF)
    assert {score: row.archive for score, row in ratings.items()} == {4: 0, 3: 2, 2: 0, 1: 0, None: 0}
    assert {score: row.published for score, row in ratings.items()} == {4: 10, 3: 93, 2: 40, 1: 9, None: 0}
    assert ratings[3].source == "bbc-2009" and ratings[1].source == "ofsted-2009"


def test_a_letter_the_published_2009_list_contradicts_is_listed_with_its_source(archive):
    report = coverage(archive["out"])
    # Bromley is in neither complete 2009 list: its letters rated 3 agree; the copy rated 1 does not
    (wrong,) = report.disagreements
    assert (wrong.year, wrong.authority.name, wrong.letter.letter_id, wrong.rating_score) == (2009, "Bromley", "b0000000000000c1", 1)
    assert (wrong.listed_score, wrong.list_score, wrong.source) == (None, 1, "bbc-2009")
    assert "complete 2009 list of authorities performing poorly (BBC News, 2009-12-09) does not name Bromley" in wrong.reason
    assert report.sources["bbc-2009"].url.startswith("https://")
    # 2009's lists are both complete: every letter is checked; 2010's list of the excellent is partial, so Cumbria's 2 is not
    assert [y.checked for y in report.years] == [4, 0]


def test_lists_of_a_test_file_name_and_leave_out_authorities(archive, tmp_path):
    # a list naming Westminster as excellent (so its letters, rated 3, disagree), a complete list of the
    # poorly performing naming Bromley (so its original, rated 3, disagrees and its copy rated 1 agrees)
    path = _published_file(tmp_path / "lists.toml", lists={4: (["City of Westminster"], True), 1: (["Bromley"], True)})
    report = coverage(archive["out"], published=load_published(path))
    found = {(w.letter.letter_id, w.listed_score, w.list_score) for w in report.disagreements}
    assert found == {(archive["westminster"], 4, 4), ("a0000000000000a1", 4, 4), (archive["bromley"], 1, 1)}
    assert report.years[0].checked == 4 and report.years[1].ratings[0].published is None  # no 2010 in the test file
    assert any(note.startswith("2010: no published totals") for note in report.notes)
    partial = _published_file(tmp_path / "partial.toml", totals=(1, 149, 0, 2), lists={1: (["Barnet"], False)})
    # a partial list of the poorly performing says nothing of Bromley's copy rated 1
    assert coverage(archive["out"], published=load_published(partial)).disagreements == []


def test_a_self_contradicting_copy_first_in_path_order_is_not_preferred(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    # first in path order: its rating line says poorly, its own narrative says well
    (docs / "a_kent.txt").write_text(letter(rating_line="Children's services rating\tPerforms poorly (1)"))
    # the other copy agrees with itself, but has more issues of another kind: no recipient or signatory named
    (docs / "b_kent.txt").write_text(letter(address="Director of Children's Services\nKent County Council\nSessions House\nMaidstone\nME14 1XQ",
                                            signature="Yours sincerely"))
    ingest([docs], tmp_path / "out", workers=1)
    letters = {row["source_path"].rsplit("/", 1)[-1]: row for row in pd.read_csv(tmp_path / "out" / "letters.csv", dtype=str).to_dict("records")}
    assert len(letters["a_kent.txt"]["issues"].split(" | ")) < len(letters["b_kent.txt"]["issues"].split(" | "))  # fewer issues: path order and count favour a
    (conflict,) = coverage(tmp_path / "out").conflicts
    ids = {letter.source_path.rsplit("/", 1)[-1]: letter.letter_id for letter in conflict.letters}
    assert conflict.preferred == ids["b_kent.txt"], conflict
    (y2009,) = coverage(tmp_path / "out").years
    assert {row.score: row.archive for row in y2009.ratings}[3] == 1  # Kent counted once, by the consistent copy


# ---- a generated full year of 152 authorities, and the dev-set, end to end


def _expected_disagreements(published, year: int, ratings: dict[str, int]) -> set[tuple[str, int]]:
    """(la_code, letter's rating) of the letters the year's published lists contradict, worked out from the lists."""
    found = published[year]
    wrong = set()
    for code, score in ratings.items():
        listed = next((s for s, named in found.lists.items() if code in named.la_codes), None)
        if (listed is not None and listed != score) or (listed is None and score in found.lists and found.lists[score].complete):
            wrong.add((code, score))
    return wrong


@pytest.fixture(scope="module")
def full_year(tmp_path_factory):
    """Every authority's letter for 2010, made by the generator and ingested."""
    from fixtures.generate import generate_year

    work = tmp_path_factory.mktemp("full_year")
    entries = generate_year(work / "generated", 2010, seed=4)
    ingest([work / "generated" / "letters"], work / "out", workers=2)
    return work / "out", entries


def test_coverage_of_a_generated_full_year(full_year):
    out, entries = full_year
    report = coverage(out)
    (year,) = report.years
    assert (year.year, year.found, year.expected, year.letters, year.missing) == (2010, 152, 152, 152, [])
    assert report.conflicts == [] and report.unplaced == []
    generated = Counter(entry["rating_score"] for entry in entries)
    assert {row.score: row.archive for row in year.ratings} == {**{s: generated.get(s, 0) for s in (4, 3, 2, 1)}, None: 0}
    assert [row.published for row in year.ratings] == [20, 77, 37, 12, 6]
    published = load_published()
    expected = _expected_disagreements(published, 2010, {e["authority_la_code"]: e["rating_score"] for e in entries})
    assert expected  # the generator's random ratings cross the complete 2010 list of the poorly performing
    assert {(w.authority.la_code, w.rating_score) for w in report.disagreements} == expected
    result = runner.invoke(app, ["coverage", "--out", str(out)], env={"COLUMNS": "160"})
    assert result.exit_code == 0 and "2010: letters for 152 of 152 authorities (152 letters); 0 missing" in result.stdout
    assert "Missing for 2010" not in result.stdout and f"Letters a published list contradicts ({len(expected)} of" in result.stdout


DEV_SET = SHARED / "dev-set"


@pytest.fixture(scope="module")
def dev_set_out(tmp_path_factory):
    """The dev-set ingested without OCR (its image-only scans fail, quickly): letters written by others."""
    if not (DEV_SET / "docs").is_dir():
        pytest.skip("../shared/dev-set is not present beside the repository")
    out = tmp_path_factory.mktemp("dev_set") / "out"
    ingest([DEV_SET / "docs"], out, workers=2, ocr="off")
    return out


def test_coverage_of_the_dev_set(dev_set_out):
    report = coverage(dev_set_out)
    letters = pd.read_csv(dev_set_out / "letters.csv", dtype=str, keep_default_na=False)
    counted = letters[letters["status"].isin(["ok", "needs_review"]) & (letters["duplicate_of"] == "") & (letters["authority_la_code"] != "")
                      & (letters["rating_year"] != "")]
    assert [y.year for y in report.years] == sorted({int(y) for y in counted["rating_year"]}) == [2009, 2010, 2011]
    published = load_published()
    expected = set()
    for year in report.years:
        rows = counted[counted["rating_year"] == str(year.year)]
        assert year.found == rows["authority_la_code"].nunique() and year.found + len(year.missing) == 152
        assert year.letters == len(rows)
        assert sum(row.archive for row in year.ratings) == year.found  # each authority once
        assert [row.published for row in year.ratings][:4] == [published[year.year].totals[s].count for s in (4, 3, 2, 1)]
        # each letter's own rating, checked against the lists (the dev-set's letters are fictional: some disagree)
        for row in rows[rows["rating_score"] != ""].itertuples():
            if _expected_disagreements(published, year.year, {row.authority_la_code: int(row.rating_score)}):
                expected.add(row.letter_id)
    assert expected and {w.letter.letter_id for w in report.disagreements} == expected
    result = runner.invoke(app, ["coverage", "--out", str(dev_set_out), "--json"])
    assert result.exit_code == 0 and len(json.loads(result.stdout)["disagreements"]) == len(expected)
