"""Write the dataset: rows stream into part files as letters finish, merged into the tables at the end.

Parts make memory flat however large the archive; the final files are written under a
temporary name and renamed, so a crash or Ctrl-C mid-run leaves the previous outputs whole.
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

from pipeline.schema import TABLES, arrow_schema, datapackage, to_arrow

FORMATS = ("csv", "parquet", "jsonl", "sqlite")
class DatasetWriter:
    """Collects rows, spills them to Parquet part files, and publishes the tables atomically."""

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
        self.buffer: dict[str, list[dict]] = {t: [] for t in TABLES}
        self.n_parts = 0
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
            pq.write_table(to_arrow(table, rows), self.parts_dir / f"{table}-{self.n_parts:06d}.parquet")
            rows.clear()
        self.n_parts += 1
        self.pending = 0

    def _parts(self, table: str) -> list[Path]:
        return sorted(self.parts_dir.glob(f"{table}-*.parquet"))

    def close(self, run_info: dict) -> dict[str, Path]:
        """Merge the parts into the final tables and write run.json and datapackage.json."""
        self.flush()
        written: dict[str, Path] = {}
        staged: list[tuple[Path, Path]] = []
        for table in TABLES:
            schema = arrow_schema(table)
            parts = self._parts(table)
            if "parquet" in self.formats:
                tmp = self.parts_dir / f"{table}.parquet"
                with pq.ParquetWriter(tmp, schema) as writer:
                    for part in parts:
                        writer.write_table(pq.read_table(part, schema=schema))
                staged.append((tmp, self.out_dir / f"{table}.parquet"))
            if "csv" in self.formats:
                tmp = self.parts_dir / f"{table}.csv"
                _write_csv(parts, schema, tmp)
                staged.append((tmp, self.out_dir / f"{table}.csv"))
            if "jsonl" in self.formats:
                tmp = self.parts_dir / f"{table}.jsonl"
                _write_jsonl(parts, schema, tmp)
                staged.append((tmp, self.out_dir / f"{table}.jsonl"))
        formats = tuple(f for f in ("csv", "parquet", "jsonl") if f in self.formats)
        for name, content in (("datapackage.json", datapackage(formats=formats)), ("run.json", run_info)):
            tmp = self.parts_dir / name
            tmp.write_text(json.dumps(content, indent=2, default=str) + "\n", encoding="utf-8")
            staged.append((tmp, self.out_dir / name))
        for tmp, final in staged:
            os.replace(tmp, final)
            written[final.name] = final
        if "sqlite" in self.formats:
            from pipeline.sqlite_export import write_sqlite

            written["letters.sqlite"] = write_sqlite(self.out_dir)
        self.discard()
        return written

    def discard(self) -> None:
        shutil.rmtree(self.parts_dir, ignore_errors=True)


def _write_csv(parts: list[Path], schema: pa.Schema, target: Path) -> None:
    """CSV in one pass over the parts: header once, dates as ISO, empty cells for nulls."""
    with open(target, "wb") as fh:
        # column names are plain identifiers: an unquoted header reads better in a spreadsheet
        fh.write((",".join(schema.names) + "\n").encode())
        for part in parts:
            table = pq.read_table(part, schema=schema)
            if table.num_rows == 0:
                continue
            buf = pa.BufferOutputStream()
            pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
            fh.write(buf.getvalue().to_pybytes())


def _write_jsonl(parts: list[Path], schema: pa.Schema, target: Path) -> None:
    with open(target, "w", encoding="utf-8") as fh:
        for part in parts:
            for row in pq.read_table(part, schema=schema).to_pylist():
                fh.write(json.dumps(row, default=str, ensure_ascii=False) + "\n")
