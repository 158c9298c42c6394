"""Write the dataset: rows stream into the tables' files as letters finish.

Every few hundred letters the rows held are appended (a Parquet row group, CSV and JSON lines),
so memory stays flat however large the archive. Every file of the dataset (tables, SQLite,
datapackage.json, run.json) is written in a staging folder and renamed into place at the end, so a
crash or Ctrl-C mid-run leaves the previous outputs whole.

One run, one dataset: run.json names the run (run_id), its formats and every file it wrote; each
Parquet file carries the run_id in its schema metadata; and the files an earlier run wrote that this
one did not (a format left out this time, its SQLite database, report.html) are removed once this
run's files are in place. Readers (pipeline.dataset) take only files of the run run.json describes.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pipeline.dataset import RUN_FILE, RUN_ID_KEY, TABLE_FORMATS
from pipeline.rows import FORMATS
from pipeline.schema import TABLES, arrow_schema, datapackage, to_arrow

# Files a run writes beside the tables, or that are made from them (`report` writes report.html):
# an earlier run's are removed when a run does not write them again.
DERIVED_FILES = ("letters.sqlite", "metadata.json", "report.html")


def dataset_file_names() -> list[str]:
    """Every file name a dataset folder's run may have written (not the cache, the lock or gold files)."""
    return [f"{t}.{ext}" for t in TABLES for ext in TABLE_FORMATS] + list(DERIVED_FILES) + ["datapackage.json", RUN_FILE]


class TableSink:
    """One table's files in the staging folder, appended to at every flush: a Parquet row group,
    CSV lines, JSON lines. Nothing is read back or merged at the end."""

    def __init__(self, folder: Path, table: str, formats: tuple[str, ...], run_id: str = "") -> None:
        self.table = table
        self.schema = arrow_schema(table)
        if run_id:  # the stamp that ties the file to its run's run.json
            self.schema = self.schema.with_metadata({**(self.schema.metadata or {}), RUN_ID_KEY: run_id.encode()})
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
        self.run_id = uuid.uuid4().hex
        self.started = time.time()  # before any file of the run is made: readers check files are not older
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.parts_dir = self.out_dir / f".parts-{uuid.uuid4().hex[:8]}"
        self.parts_dir.mkdir()
        self.sinks: dict[str, TableSink] = {}
        try:
            for table in TABLES:
                self.sinks[table] = TableSink(self.parts_dir, table, self.formats, self.run_id)
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
        """Write the last rows, the SQLite database, run.json and datapackage.json in the staging
        folder, move every file into place, and remove what an earlier run left that this one did
        not write. run.json goes first: a run stopped between the renames leaves older tables that
        readers see are not of the run it describes, never a silent mix of two runs."""
        self.flush()
        for sink in self.sinks.values():
            sink.close()
        if "sqlite" in self.formats:
            from pipeline.sqlite_export import write_sqlite

            write_sqlite(self.parts_dir)  # from the staged Parquet tables; metadata.json beside it
        formats = tuple(f for f in ("csv", "parquet", "jsonl") if f in self.formats)
        (self.parts_dir / "datapackage.json").write_text(json.dumps(datapackage(formats=formats), indent=2, default=str) + "\n", encoding="utf-8")
        staged = sorted(p for p in self.parts_dir.iterdir() if p.is_file() and not p.name.startswith("."))
        files = {p.name: {"bytes": p.stat().st_size} for p in staged}
        files[RUN_FILE] = {}
        info = {**run_info, "run_id": self.run_id, "started": round(self.started, 3), "formats": list(self.formats), "files": files}
        run_tmp = self.parts_dir / RUN_FILE
        run_tmp.write_text(json.dumps(info, indent=2, default=str) + "\n", encoding="utf-8")
        previous = _previous_files(self.out_dir / RUN_FILE)
        written: dict[str, Path] = {}
        with _signals_held():  # Ctrl-C waits the few milliseconds of the swap
            for tmp in [run_tmp, *staged]:
                final = self.out_dir / tmp.name
                os.replace(tmp, final)
                written[final.name] = final
            for name in sorted((set(dataset_file_names()) | previous) - set(written)):
                stale = self.out_dir / name
                if "/" not in name and stale.is_file():
                    stale.unlink(missing_ok=True)
        self.discard()
        return written

    def discard(self) -> None:
        for sink in self.sinks.values():
            sink.close()
        shutil.rmtree(self.parts_dir, ignore_errors=True)


def _previous_files(run_json: Path) -> set[str]:
    """The files the run before this one says it wrote (a name this version no longer writes included)."""
    try:
        files = json.loads(run_json.read_text(encoding="utf-8")).get("files")
    except (OSError, ValueError, AttributeError):
        return set()
    return {str(name) for name in files} if isinstance(files, (dict, list)) else set()


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while the dataset's files are swapped; they arrive when it is done."""
    hold = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    if hold:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        if hold:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
