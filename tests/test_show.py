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
