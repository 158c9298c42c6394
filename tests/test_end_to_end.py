"""Ingest the real seed letters and compare every field and statistic with ../shared/gold."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipeline.schema import TABLES

from conftest import SHARED


def test_every_table_is_written_in_csv_and_parquet(seed_out):
    for table in TABLES:
        csv = pd.read_csv(seed_out / f"{table}.csv")
        parquet = pd.read_parquet(seed_out / f"{table}.parquet")
        assert list(csv.columns) == TABLES[table].column_names == list(parquet.columns)
        assert len(csv) == len(parquet)
    package = json.loads((seed_out / "datapackage.json").read_text())
    assert {r["name"] for r in package["resources"]} >= set(TABLES)
    run = json.loads((seed_out / "run.json").read_text())
    assert run["counts_by_status"] == {"ok": 2}


def test_seed_fields_equal_gold(seed_out, gold):
    letters = pd.read_csv(seed_out / "letters.csv", dtype=str, keep_default_na=False)
    for name, g in gold.items():
        row = letters[letters["source_path"].map(lambda p: Path(p).name) == name].iloc[0]
        assert row["status"] == g["status"]
        for field, expected in g["fields"].items():
            assert str(row[field]) == str(expected), (name, field)


def test_seed_scale_equals_gold(seed_out, gold):
    letters = pd.read_csv(seed_out / "letters.csv", dtype=str)
    scale = pd.read_csv(seed_out / "scale.csv")
    for name, g in gold.items():
        letter_id = letters[letters["source_path"].str.endswith(name)].iloc[0]["letter_id"]
        rows = scale[scale["letter_id"] == letter_id][["score", "label", "description"]].values.tolist()
        assert rows == g["scale"]


def test_offsets_point_at_the_values(seed_out):
    documents = pd.read_parquet(seed_out / "documents.parquet").set_index("letter_id")
    stats = pd.read_parquet(seed_out / "statistics.parquet")
    for row in stats.itertuples():
        assert documents.loc[row.letter_id, "text"][row.start:row.end] == row.text
    fields = pd.read_parquet(seed_out / "fields.parquet").dropna(subset=["start"])
    for row in fields[fields["field"].isin(["letter_date", "recipient_postcode", "signatory_name", "authority_as_written"])].itertuples():
        assert documents.loc[row.letter_id, "text"][int(row.start):int(row.end)]


def test_reference_scorer_gives_full_marks(seed_out, gold_dir):
    score = SHARED / "tools" / "score.py"
    if not score.exists():
        pytest.skip("../shared/tools/score.py is not present")
    result = subprocess.run([sys.executable, str(score), "--gold", str(gold_dir), "--out", str(seed_out), "--json"], capture_output=True, text=True, check=True)
    metrics = json.loads(result.stdout)
    assert metrics["fields"] == 1.0, metrics["disagreements"]
    assert metrics["stats_f1"] == 1.0, metrics["disagreements"]
    assert metrics["judgement"] == 1.0, metrics["disagreements"]
    assert metrics["segments"] == 1.0, metrics["disagreements"]
    assert metrics["status"] == 1.0
