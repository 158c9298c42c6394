"""show and sample: values highlighted in place, fields table, issues; from a dataset or a fresh file."""
from __future__ import annotations

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
