"""Write the dataset: rows stream into the tables' files as letters finish.

Every few hundred letters the rows held are appended (a Parquet row group, CSV and JSON lines),
so memory stays flat however large the archive. The files are written in a staging folder and
renamed into place at the end, so a crash or Ctrl-C mid-run leaves the previous outputs whole.
"""
from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pipeline.rows import FORMATS
from pipeline.schema import TABLES, arrow_schema, datapackage, to_arrow
class TableSink:
    """One table's files in the staging folder, appended to at every flush: a Parquet row group,
    CSV lines, JSON lines. Nothing is read back or merged at the end."""

    def __init__(self, folder: Path, table: str, formats: tuple[str, ...]) -> None:
        self.table = table
        self.schema = arrow_schema(table)
        self.paths = {fmt: folder / f"{table}.{fmt}" for fmt in ("parquet", "csv", "jsonl") if fmt in formats}
        self.parquet = pq.ParquetWriter(self.paths["parquet"], self.schema) if "parquet" in self.paths else None
        self.csv = open(self.paths["csv"], "wb") if "csv" in self.paths else None
        self.jsonl = open(self.paths["jsonl"], "w", encoding="utf-8") if "jsonl" in self.paths else None
        if self.csv is not None:
            # column names are plain identifiers: an unquoted header reads better in a spreadsheet
            self.csv.write((",".join(self.schema.names) + "\n").encode())

    def write(self, rows: list[dict]) -> None:
        if not rows:
            return
        table = to_arrow(self.table, rows)
        if self.parquet is not None:
            self.parquet.write_table(table)
        if self.csv is not None:
            buf = pa.BufferOutputStream()
            pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
            self.csv.write(buf.getvalue().to_pybytes())
        if self.jsonl is not None:
            for row in table.to_pylist():
                self.jsonl.write(json.dumps(row, default=str, ensure_ascii=False) + "\n")

    def close(self) -> dict[str, Path]:
        for handle in (self.parquet, self.csv, self.jsonl):
            if handle is not None:
                handle.close()
        return self.paths


class DatasetWriter:
    """Collects rows, appends them to the tables' files in a staging folder, and publishes the
    tables atomically (renamed into place at the end)."""

    def __init__(self, out_dir: Path, formats: tuple[str, ...] = ("csv", "parquet"), flush_every: int = 250) -> None:
        unknown = set(formats) - set(FORMATS)
        if unknown:
            raise ValueError(f"unknown format(s): {', '.join(sorted(unknown))}; choose from {', '.join(FORMATS)}")
        self.out_dir = Path(out_dir)
        # the SQLite database is built from the Parquet tables
        self.formats = formats + ("parquet",) if "sqlite" in formats and "parquet" not in formats else formats
        self.flush_every = flush_every
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.parts_dir = self.out_dir / f".parts-{uuid.uuid4().hex[:8]}"
        self.parts_dir.mkdir()
        self.sinks: dict[str, TableSink] = {}
        try:
            for table in TABLES:
                self.sinks[table] = TableSink(self.parts_dir, table, self.formats)
        except BaseException:
            self.discard()
            raise
        self.buffer: dict[str, list[dict]] = {t: [] for t in TABLES}
        self.pending = 0

    def add(self, rows: dict[str, list[dict]]) -> None:
        for table, table_rows in rows.items():
            self.buffer[table].extend(table_rows)
        self.pending += 1
        if self.pending >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        for table, rows in self.buffer.items():
            self.sinks[table].write(rows)
            rows.clear()
        self.pending = 0

    def close(self, run_info: dict) -> dict[str, Path]:
        """Write the last rows, run.json and datapackage.json, and move every file into place."""
        self.flush()
        staged = [(tmp, self.out_dir / tmp.name) for sink in self.sinks.values() for tmp in sink.close().values()]
        formats = tuple(f for f in ("csv", "parquet", "jsonl") if f in self.formats)
        for name, content in (("datapackage.json", datapackage(formats=formats)), ("run.json", run_info)):
            tmp = self.parts_dir / name
            tmp.write_text(json.dumps(content, indent=2, default=str) + "\n", encoding="utf-8")
            staged.append((tmp, self.out_dir / name))
        written: dict[str, Path] = {}
        for tmp, final in staged:
            os.replace(tmp, final)
            written[final.name] = final
        if "sqlite" in self.formats:
            from pipeline.sqlite_export import write_sqlite

            written["letters.sqlite"] = write_sqlite(self.out_dir)
        self.discard()
        return written

    def discard(self) -> None:
        for sink in self.sinks.values():
            sink.close()
        shutil.rmtree(self.parts_dir, ignore_errors=True)
