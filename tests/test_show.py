"""show and sample: values highlighted in place, fields table, issues; from a dataset or a fresh file."""
from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app

runner = CliRunner()


def test_show_by_authority_labels_values_in_place(seed_out):
    result = runner.invoke(app, ["show", "Bromley", "--out", str(seed_out)])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "[London Borough of Bromley]{authority_as_written=London Borough of Bromley}" in text
    assert "[over 70%]{stat#0 percentage 70 | childminding and childcare provision | good or outstanding}" in text
    assert "──── narrative ────" in text
    assert "recipient_postcode" in text and "BR1 3UH" in text
    assert "issues: none" in text


def test_show_a_file_never_ingested(tmp_path, seed_dir):
    path = next(Path(seed_dir).glob("002_*.txt"))
    result = runner.invoke(app, ["show", str(path), "--out", str(tmp_path / "nothing")])
    assert result.exit_code == 0, result.output
    assert "[13 out of 14]{stat#" in result.output
    assert "Westminster" in result.output


def test_show_by_letter_id_and_one_field(seed_out):
    import pandas as pd

    letter_id = pd.read_csv(seed_out / "letters.csv", dtype=str).iloc[0]["letter_id"]
    result = runner.invoke(app, ["show", letter_id[:8], "--out", str(seed_out), "--field", "signatory"])
    assert result.exit_code == 0
    assert "{signatory_name=Juliet Winstanley}" in result.output
    assert "{stat#" not in result.output


def test_show_unknown_letter_is_a_clear_error(seed_out):
    result = runner.invoke(app, ["show", "Atlantis", "--out", str(seed_out)])
    assert result.exit_code == 2
    assert "no letter" in result.output


def test_sample_is_reproducible_and_filters_status(seed_out):
    first = runner.invoke(app, ["sample", "1", "--out", str(seed_out), "--seed", "3"])
    again = runner.invoke(app, ["sample", "1", "--out", str(seed_out), "--seed", "3"])
    assert first.exit_code == 0 and first.output == again.output
    none = runner.invoke(app, ["sample", "2", "--out", str(seed_out), "--status", "failed"])
    assert none.exit_code == 0 and "{stat#" not in none.output


def _json(result) -> object:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_sample_filters_by_source_format_year_and_status(seed_out):
    out = str(seed_out)
    assert len(_json(runner.invoke(app, ["sample", "5", "--out", out, "--json", "--source-format", "txt"]))) == 2
    assert _json(runner.invoke(app, ["sample", "5", "--out", out, "--json", "--source-format", "pdf-ocr"])) == []
    assert len(_json(runner.invoke(app, ["sample", "5", "--out", out, "--json", "--year", "2009", "--status", "ok"]))) == 2
    assert _json(runner.invoke(app, ["sample", "5", "--out", out, "--json", "--year", "2010"])) == []


def test_max_confidence_keeps_letters_with_a_doubtful_value(seed_out, tmp_path):
    import shutil

    import pyarrow.parquet as pq

    from pipeline.dataset import read_table
    from pipeline.schema import to_arrow

    out = tmp_path / "out"
    shutil.copytree(seed_out, out)
    fields = read_table(out, "fields")
    bromley = read_table(out, "letters").set_index("authority_name").loc["Bromley", "letter_id"]
    doubtful = (fields["letter_id"] == bromley) & (fields["field"] == "signatory_name")
    fields["confidence"] = fields["confidence"].mask(doubtful, 0.6)
    pq.write_table(to_arrow("fields", fields.astype(object).where(fields.notna(), None).to_dict("records")), out / "fields.parquet")
    picked = _json(runner.invoke(app, ["sample", "5", "--out", str(out), "--json", "--max-confidence", "0.7"]))
    assert [p["letter"]["authority_name"] for p in picked] == ["Bromley"]
    signatory = [f for f in picked[0]["fields"] if f["field"] == "signatory_name"]
    assert signatory[0]["confidence"] == 0.6
    assert _json(runner.invoke(app, ["sample", "5", "--out", str(out), "--json", "--max-confidence", "0.5"])) == []
    # show takes the same filters: Westminster has no doubtful value
    assert runner.invoke(app, ["show", "Westminster", "--out", str(out), "--max-confidence", "0.7"]).exit_code == 2


def test_show_json_is_the_letter_on_stdout(seed_out):
    data = _json(runner.invoke(app, ["show", "Bromley", "--out", str(seed_out), "--json", "--field", "statistic"]))
    assert set(data) == {"letter", "issues", "statistics_issues", "fields", "statistics", "segments", "text"}
    assert data["letter"]["authority_name"] == "Bromley" and data["letter"]["letter_date"] == "2009-12-09"
    assert data["letter"]["rating_score"] == 3 and data["issues"] == []
    assert [s["text"] for s in data["statistics"]][0] == "over 70%" and data["fields"] == []
    start, end = data["statistics"][0]["start"], data["statistics"][0]["end"]
    assert data["text"][start:end] == "over 70%"


def test_evaluate_json_on_stdout(seed_out, gold_dir):
    data = _json(runner.invoke(app, ["evaluate", "--gold", str(gold_dir), "--out", str(seed_out), "--json"]))
    assert data["docs_found"] == data["docs_gold"] == 2 and "disagreement_records" in data


def test_field_takes_any_column_of_letters_status_included(seed_out):
    from pipeline.cli import SHOW_FIELDS
    from pipeline.show import show_fields

    assert SHOW_FIELDS == show_fields()  # the command line's choices are the schema's columns
    result = runner.invoke(app, ["show", "Bromley", "--out", str(seed_out), "--field", "status"])
    assert result.exit_code == 0, result.output
    assert "status: ok" in result.output and "issues: none" in result.output
    assert "{stat#" not in result.output and "statistics issues" not in result.output
    result = runner.invoke(app, ["show", "Bromley", "--out", str(seed_out), "--field", "statistics_status", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["letter"]["statistics_status"] == "ok"


def test_show_a_failed_letter_prints_the_reason_not_an_empty_table(tmp_path):
    from helpers_output import write_output

    out = write_output(tmp_path / "out")
    result = runner.invoke(app, ["show", "unreadable letter.pdf", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "not read: could not read the PDF: file is truncated" in result.output
    assert "field" not in result.output.replace("fields", "")  # no table of fields, not even its header


def test_show_matches_a_decomposed_file_name(tmp_path, seed_dir):
    """macOS writes names decomposed (NFD); a name typed composed (NFC) finds the letter."""
    import unicodedata

    from pipeline.ingest import ingest

    letters = tmp_path / "letters"
    letters.mkdir()
    name = "Southwark-lettre-été.txt"
    (letters / unicodedata.normalize("NFD", name)).write_bytes(next(Path(seed_dir).glob("000_*.txt")).read_bytes())
    ingest([letters], tmp_path / "out", workers=1)
    for typed in (unicodedata.normalize("NFC", name), unicodedata.normalize("NFD", name)):
        result = runner.invoke(app, ["show", typed, "--out", str(tmp_path / "out"), "--field", "authority"])
        assert result.exit_code == 0, result.output
        assert "Bromley" in result.output


def test_show_a_scan_never_ingested_tells_its_pages_as_they_are_ocrd(tmp_path, monkeypatch):
    import pipeline.process
    import pipeline.read
    from pipeline.records import LetterRecord
    from pipeline.show import read_file

    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4")
    calls: list[object] = []

    def process(path, *, defer_ocr=False, ocr_pages=None, **_):
        calls.append(ocr_pages)
        if defer_ocr:
            raise pipeline.read.OcrDeferred([1, 2, 3])
        return [LetterRecord(letter_id="abc", source_path=str(path), source_format="pdf-ocr")]

    monkeypatch.setattr(pipeline.process, "process_file", process)
    monkeypatch.setattr(pipeline.read, "ocr_pdf_page", lambda path, number, limits: f"page {number}")
    told: list[str] = []
    view = read_file(scan, told.append)
    assert view.letter["source_format"] == "pdf-ocr"
    assert [t for t in told if "OCR" in t] == [f"reading scan.pdf: OCR of page {n} ({n} of 3)" for n in (1, 2, 3)]
    assert calls[-1] == {1: "page 1", 2: "page 2", 3: "page 3"}


def test_help_has_h_no_bool_and_the_field_choices_whole():
    result = runner.invoke(app, ["show", "-h"], env={"COLUMNS": "100"})
    assert result.exit_code == 0
    assert "<bool>" not in result.output and "--json" in result.output
    assert "authority_gss_code," in result.output and "not_rating_letter" in result.output  # no choice cut in two
    ingest = runner.invoke(app, ["ingest", "--help"], env={"COLUMNS": "100"}).output
    assert "1 the run could not finish" in " ".join(ingest.split())  # a paragraph wrapped at the screen's width
    import typer.main

    for command in typer.main.get_command(app).commands.values():  # no line break inside a paragraph
        assert all("\n" not in p for p in command.help.split("\n\n") if not p.startswith(" ")), command.name
