"""The writer: rows appended at every flush, tables published whole, nothing left behind."""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline.process import process_document
from pipeline.rows import record_rows
from pipeline.schema import TABLES
from pipeline.write import DatasetWriter


def _rows(seed_dir: Path) -> list[dict]:
    return [record_rows(process_document(p)) for p in sorted(Path(seed_dir).glob("*.txt"))]


def test_rows_flushed_one_letter_at_a_time_make_the_same_tables_as_one_flush(seed_dir, tmp_path):
    rows = _rows(seed_dir)
    for name, every in (("one", 1000), ("each", 1)):
        writer = DatasetWriter(tmp_path / name, ("csv", "parquet", "jsonl"), flush_every=every)
        for r in rows:
            writer.add(r)
        writer.close({"run": name})
    for table in TABLES:
        for ext in ("csv", "jsonl"):
            assert (tmp_path / "one" / f"{table}.{ext}").read_bytes() == (tmp_path / "each" / f"{table}.{ext}").read_bytes()
        assert pq.read_table(tmp_path / "one" / f"{table}.parquet").equals(pq.read_table(tmp_path / "each" / f"{table}.parquet"))
    letters = pq.ParquetFile(tmp_path / "each" / "letters.parquet")
    assert letters.metadata.num_row_groups == len(rows) and letters.metadata.num_rows == len(rows)


def test_a_table_with_no_rows_is_a_header_and_an_empty_typed_parquet(seed_dir, tmp_path):
    writer = DatasetWriter(tmp_path, ("csv", "parquet"))
    for r in _rows(seed_dir):
        writer.add(r)
    writer.close({})
    assert (tmp_path / "errors.csv").read_text().strip() == ",".join(c.name for c in TABLES["errors"].columns)
    errors = pq.read_table(tmp_path / "errors.parquet")
    assert errors.num_rows == 0 and errors.schema.names == [c.name for c in TABLES["errors"].columns]


def test_discard_leaves_no_staging_folder_and_no_tables(tmp_path):
    writer = DatasetWriter(tmp_path, ("csv", "parquet"))
    writer.discard()
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def every_format(seed_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds, a broken PDF (failed) and a memo (not_rating_letter), ingested to every format."""
    from pipeline.ingest import ingest

    inputs = tmp_path_factory.mktemp("inputs")
    for letter in sorted(Path(seed_dir).glob("*.txt")):
        shutil.copy(letter, inputs / letter.name)
    (inputs / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntruncated")
    (inputs / "memo.txt").write_text("Dear colleague,\n\nThe car park will be closed on Friday for resurfacing.\n\nFacilities team\n", encoding="utf-8")
    out = tmp_path_factory.mktemp("every-format")
    summary = ingest([inputs], out, workers=1, formats=("csv", "parquet", "jsonl", "sqlite"))
    assert summary.by_status["failed"] == 1 and summary.by_status["not_rating_letter"] == 1 and summary.by_status["ok"] == 2
    return out


def test_plain_read_parquet_gives_the_declared_types(every_format: Path) -> None:
    """No dtype arguments: the pandas metadata in each file makes integers nullable and dates dates."""
    expected = {"string": "string", "integer": "Int64", "number": "Float64", "date": "date32[day][pyarrow]", "boolean": "boolean"}
    for table in TABLES.values():
        frame = pd.read_parquet(every_format / f"{table.name}.parquet")
        assert {c: str(t) for c, t in frame.dtypes.items()} == {c.name: expected[c.type] for c in table.columns}, table.name
        assert isinstance(frame.index, pd.RangeIndex)
        fields = pq.read_schema(every_format / f"{table.name}.parquet")
        for column in table.columns:
            assert fields.field(column.name).metadata[b"description"].decode() == column.description
    letters = pd.read_parquet(every_format / "letters.parquet")
    failed = letters[letters["status"] == "failed"].iloc[0]
    assert failed["rating_score"] is pd.NA and failed["letter_date"] is pd.NA
    ok = letters[letters["status"] == "ok"]
    assert set(ok["letter_date"].dt.year) == {2009} and ok["rating_score"].sum() > 0
    assert fields.field("letter_id").metadata[b"type"] == b"string"


def test_frictionless_validates_every_table_in_every_format(every_format: Path) -> None:
    import frictionless

    report = frictionless.validate(every_format / "datapackage.json")
    names = {task.name for task in report.tasks}
    assert names == {f"{t}{suffix}" for t in TABLES for suffix in ("", "-parquet", "-jsonl")}
    assert report.valid, report.flatten(["taskName", "rowNumber", "fieldName", "type", "note"])[:20]
    assert sum(task.stats["rows"] for task in report.tasks if task.name == "letters") == 4


def test_frictionless_catches_a_status_outside_the_enum(every_format: Path, tmp_path: Path) -> None:
    import frictionless

    package = json.loads((every_format / "datapackage.json").read_text(encoding="utf-8"))
    package["resources"] = [r for r in package["resources"] if r["name"] == "letters"]
    (tmp_path / "datapackage.json").write_text(json.dumps(package), encoding="utf-8")
    text = (every_format / "letters.csv").read_text(encoding="utf-8")
    (tmp_path / "letters.csv").write_text(text.replace('"not_rating_letter"', '"unheard_of"'), encoding="utf-8")
    report = frictionless.validate(tmp_path / "datapackage.json")
    assert not report.valid and {e[0] for e in report.flatten(["type"])} == {"constraint-error"}


def test_datapackage_carries_licence_sources_version_and_created(every_format: Path) -> None:
    from pipeline import EXTRACTOR_VERSION, __version__

    package = json.loads((every_format / "datapackage.json").read_text(encoding="utf-8"))
    assert package["licenses"][0]["name"] == "OGL-UK-3.0" and package["licenses"][0]["path"].startswith("https://")
    assert package["sources"] and all(s["title"] for s in package["sources"])
    assert package["version"] == f"{__version__}+extractor.{EXTRACTOR_VERSION}"
    created = dt.datetime.fromisoformat(package["created"].replace("Z", "+00:00"))
    assert abs((dt.datetime.now(dt.timezone.utc) - created).total_seconds()) < 3600
    letters = next(r for r in package["resources"] if r["name"] == "letters")
    status = next(f for f in letters["schema"]["fields"] if f["name"] == "status")
    assert status["constraints"] == {"required": True, "enum": ["ok", "needs_review", "failed", "not_rating_letter"]}
