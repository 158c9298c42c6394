"""The writer: rows appended at every flush, tables published whole, nothing left behind."""
from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

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
