"""The writer: rows appended at every flush, tables published whole, nothing left behind."""
from __future__ import annotations

import datetime as dt
import io
import json
import os
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


# One run, one dataset: a re-run with fewer formats leaves nothing of the earlier run, and every
# reader reads only files of the run run.json describes.

@pytest.fixture(scope="module")
def rerun_fewer_formats(seed_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Three documents ingested to every format (and a report written), then one letter ingested
    into the same folder as CSV only."""
    from pipeline.ingest import ingest
    from pipeline.report import build_report

    letters = sorted(Path(seed_dir).glob("*.txt"))
    first = tmp_path_factory.mktemp("first-inputs")
    for letter in letters:
        shutil.copy(letter, first / letter.name)
    (first / "memo.txt").write_text("Dear colleague,\n\nThe car park will be closed on Friday.\n\nFacilities team\n", encoding="utf-8")
    second = tmp_path_factory.mktemp("second-inputs")
    shutil.copy(letters[0], second / letters[0].name)
    out = tmp_path_factory.mktemp("rerun")
    ingest([first], out, workers=1, formats=("csv", "parquet", "jsonl", "sqlite"))
    build_report(out)
    before = sorted(p.name for p in out.iterdir())
    ingest([second], out, workers=1, formats=("csv",))
    return {"out": out, "before": before, "letter": letters[0].name}


def test_a_rerun_with_fewer_formats_leaves_only_its_own_files(rerun_fewer_formats: dict) -> None:
    out = rerun_fewer_formats["out"]
    assert {"letters.parquet", "letters.jsonl", "letters.sqlite", "metadata.json", "report.html"} <= set(rerun_fewer_formats["before"])
    visible = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert visible == sorted([f"{t}.csv" for t in TABLES] + ["datapackage.json", "run.json"])
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert set(run["files"]) == set(visible) and run["formats"] == ["csv"] and len(run["run_id"]) == 32
    package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert {r["path"].rsplit(".", 1)[1] for r in package["resources"]} == {"csv"}


def test_every_reader_reads_the_run_s_one_letter(rerun_fewer_formats: dict, tmp_path: Path) -> None:
    import warnings

    from pipeline.api import load_dataset
    from pipeline.evaluate import evaluate
    from pipeline.report import build_report
    from pipeline.review import review
    from pipeline.show import find_letter, sample_letters
    from rich.console import Console

    out = rerun_fewer_formats["out"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing stale to pass over: the run removed it
        assert len(load_dataset(out).letters) == 1
        assert len(sample_letters(out, 45)) == 1
        assert find_letter(rerun_fewer_formats["letter"], out).letter["status"] == "ok"
        build_report(out, tmp_path / "report.html")
        gold = tmp_path / "gold"
        counts = review(out, gold, Console(file=io.StringIO()), ask=lambda question: "a")
        assert counts.saved == 1
        assert evaluate([gold], out).docs_found == 1


def _legacy(out: Path, rerun: dict, tmp_path: Path) -> Path:
    """The folder as an older version left it: the earlier run's Parquet files still there, and a
    run.json without run_id or the list of files."""
    legacy = tmp_path / "legacy"
    shutil.copytree(out, legacy)
    run = json.loads((legacy / "run.json").read_text(encoding="utf-8"))
    for key in ("run_id", "started", "files", "formats"):
        run.pop(key)
    (legacy / "run.json").write_text(json.dumps(run), encoding="utf-8")
    return legacy


def test_a_stale_table_of_an_older_version_is_passed_over_with_a_warning(rerun_fewer_formats: dict, tmp_path: Path, seed_dir: Path) -> None:
    from pipeline.api import load_dataset
    from pipeline.dataset import StaleTableWarning, _warned
    from pipeline.write import DatasetWriter

    legacy = _legacy(rerun_fewer_formats["out"], rerun_fewer_formats, tmp_path)
    older = tmp_path / "older"
    writer = DatasetWriter(older, ("parquet",))
    for rows in _rows(seed_dir):
        writer.add(rows)
    writer.close({})
    run = json.loads((legacy / "run.json").read_text(encoding="utf-8"))
    started = dt.datetime.fromisoformat(run["started_at"]).timestamp()
    for table in TABLES:
        shutil.copy(older / f"{table}.parquet", legacy / f"{table}.parquet")
        os.utime(legacy / f"{table}.parquet", (started - 60, started - 60))
    _warned.clear()
    with pytest.warns(StaleTableWarning, match=r"letters.parquet, .*errors.parquet \(older than the last run\)"):
        data = load_dataset(legacy)
    assert len(data.letters) == 1


def test_a_parquet_file_of_another_run_is_not_read_even_when_listed(rerun_fewer_formats: dict, tmp_path: Path, seed_dir: Path) -> None:
    """What a run stopped between its renames would leave: a Parquet file stamped by another run."""
    from pipeline.dataset import StaleTableWarning, _warned, read_table
    from pipeline.errors import DataError
    from pipeline.write import DatasetWriter

    folder = tmp_path / "mixed"
    shutil.copytree(rerun_fewer_formats["out"], folder)
    other = tmp_path / "other"
    writer = DatasetWriter(other, ("parquet",))
    for rows in _rows(seed_dir):
        writer.add(rows)
    writer.close({})
    shutil.copy(other / "letters.parquet", folder / "letters.parquet")
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    run["files"]["letters.parquet"] = {}
    (folder / "run.json").write_text(json.dumps(run), encoding="utf-8")
    _warned.clear()
    with pytest.warns(StaleTableWarning, match="stamped by another run"):
        assert len(read_table(folder, "letters")) == 1
    (folder / "letters.csv").unlink()
    with pytest.raises(DataError, match="no letters table from the run"):
        read_table(folder, "letters")


def test_a_run_that_fails_before_the_swap_leaves_the_previous_dataset_whole(seed_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.write

    writer = DatasetWriter(tmp_path, ("csv", "parquet", "jsonl"))
    for rows in _rows(seed_dir):
        writer.add(rows)
    writer.close({"run": 1})
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}

    def broken(**_: object) -> dict:
        raise OSError("disk full")

    monkeypatch.setattr(pipeline.write, "datapackage", broken)
    writer = DatasetWriter(tmp_path, ("csv",))
    writer.add(_rows(seed_dir)[0])
    with pytest.raises(OSError):
        writer.close({"run": 2})
    writer.discard()
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


def test_parquet_files_carry_the_run_id_of_run_json(every_format: Path) -> None:
    from pipeline.dataset import parquet_run_id

    run_id = json.loads((every_format / "run.json").read_text(encoding="utf-8"))["run_id"]
    assert {parquet_run_id(every_format / f"{t}.parquet") for t in TABLES} == {run_id}
