"""coverage: the authorities with no letter for a year, and the letters for one authority and year that disagree."""
from __future__ import annotations

import copy
import json
from collections import Counter

import pytest
from typer.testing import CliRunner

from helpers_output import archive_tables, letter_id_of, sample_tables, write_output
from pipeline.cli import app
from pipeline.coverage import coverage
from pipeline.dedup import mark_conflicts
from pipeline.errors import EXIT_DATA, EXIT_USAGE, NotADataset
from pipeline.gazetteer import load_authorities

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
    assert set(data) == {"dataset", "years", "conflicts", "unplaced", "notes"}
    (year,) = data["years"]
    assert set(year) == {"year", "expected", "found", "letters", "duplicates", "missing", "agreeing", "conflicting"}
    assert year["year"] == 2009 and year["found"] == 2 and year["expected"] == 152
    assert {"name": "Barnet", "la_code": "302", "region": "London"} in year["missing"]
    (conflict,) = data["conflicts"]
    assert set(conflict) == {"year", "authority", "letters", "differences", "preferred"}
    assert {"field": "rating_score", "values": {archive["bromley"]: "3", "b0000000000000c1": "1"}} in conflict["differences"]
    assert set(conflict["letters"][0]) == {"letter_id", "source_path", "status"}
    assert any("no start or end dates" in note for note in data["notes"])
    assert any("published" in note for note in data["notes"])


def test_terminal_output_names_missing_authorities_and_the_conflict(archive):
    result = runner.invoke(app, ["coverage", "--out", str(archive["out"])], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "2009: letters for 2 of 152 authorities (4 letters, 1 duplicate left out); 150 missing" in out
    assert "Missing for 2010" in out and "Barking and Dagenham" in out
    assert "Bromley (305) 2009" in out and "rating_score" in out and "preferred" in out
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
