"""review: keyboard corrections saved as gold files, resumable, dataset untouched."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.evaluate import evaluate
from pipeline.ingest import ingest

runner = CliRunner()


@pytest.fixture()
def out(tmp_path, seed_dir) -> Path:
    out = tmp_path / "out"
    ingest([seed_dir], out, workers=1)
    return out


def test_accepting_everything_gives_gold_that_scores_full_marks(out, tmp_path):
    gold = tmp_path / "gold"
    result = runner.invoke(app, ["review", str(out), "--gold", str(gold)], input="a\na\n")
    assert result.exit_code == 0, result.output
    files = sorted(gold.glob("*.json"))
    assert len(files) == 2
    record = json.loads(files[0].read_text())
    assert set(record) >= {"file", "status", "fields", "scale", "statistics"}
    assert evaluate([gold], out).stats_f1 == 1.0


def test_correction_lives_in_gold_and_review_resumes(out, tmp_path):
    gold = tmp_path / "gold"
    before = (out / "letters.csv").read_bytes()
    # fix the first letter's recipient postcode, drop its first statistic, then quit
    result = runner.invoke(app, ["review", str(out), "--gold", str(gold)], input="f\nrecipient_postcode\nAB1 2CD\n-\n0\na\nq\n")
    assert result.exit_code == 0, result.output
    saved = list(gold.glob("*.json"))
    assert len(saved) == 1
    record = json.loads(saved[0].read_text())
    assert record["fields"]["recipient_postcode"] == "AB1 2CD"
    assert (out / "letters.csv").read_bytes() == before
    again = runner.invoke(app, ["review", str(out), "--gold", str(gold)], input="s\n")
    assert "already reviewed 1" in again.output
    result = evaluate([gold], out)
    assert result.per_field["recipient_postcode"] == 0.0
