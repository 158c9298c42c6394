"""Export an output folder to one SQLite file, for SQL queries, full-text search and Datasette.

Tables, column types, keys, indexes and full-text indexes are generated from
pipeline.schema.TABLES, like the CSV/Parquet files, so the database cannot drift from the
documented dataset. Each full-text index is linked to its table as sqlite-utils' `enable-fts`
links it (an external-content FTS table kept up to date by triggers), which is what Datasette
looks for to put a search box on the table.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import os
import sqlite3
from pathlib import Path

import pandas as pd
import sqlite_utils

from pipeline.config import load_toml
from pipeline.dataset import read_table, require_letters
from pipeline.schema import TABLES, Table

SQL_TYPES = {"string": "TEXT", "integer": "INTEGER", "number": "REAL", "date": "TEXT", "boolean": "INTEGER", "datetime": "TEXT"}
FTS_VERSIONS = ("FTS5", "FTS4")
METADATA_NAME = "metadata.json"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def fts_table_name(table: Table) -> str:
    """The name sqlite-utils and Datasette expect for a table's full-text index."""
    return f"{table.name}_fts"


def create_table_sql(table: Table) -> str:
    """CREATE TABLE for one schema table: mapped types, NOT NULL for required columns, primary and foreign keys."""
    lines = [
        f"  {_quote(c.name)} {SQL_TYPES[c.type]}" + (" NOT NULL" if c.required else "")
        for c in table.columns
    ]
    if table.primary_key:
        lines.append(f"  PRIMARY KEY ({', '.join(map(_quote, table.primary_key))})")
    for columns, ref_table, ref_columns in table.foreign_keys:
        lines.append(
            f"  FOREIGN KEY ({', '.join(map(_quote, columns))}) "
            f"REFERENCES {_quote(ref_table)} ({', '.join(map(_quote, ref_columns))})"
        )
    return f"CREATE TABLE {_quote(table.name)} (\n" + ",\n".join(lines) + "\n)"


def index_columns(table: Table) -> list[str]:
    """Columns that get an index of their own: the schema's, and letter_id where the primary key does not start with it."""
    columns = list(table.indexes)
    if "letter_id" in table.column_names and table.primary_key[:1] != ["letter_id"]:
        columns.insert(0, "letter_id")
    return columns


def _create_indexes(conn: sqlite3.Connection, table: Table) -> None:
    for column in index_columns(table):
        conn.execute(f"CREATE INDEX {_quote(f'{table.name}_{column}')} ON {_quote(table.name)} ({_quote(column)})")


def _sql_value(value: object) -> object:
    """A pandas cell as a value sqlite3 stores natively (NA/NaT as NULL, dates as ISO text)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def _insert(conn: sqlite3.Connection, table: Table, frame: pd.DataFrame) -> None:
    columns = table.column_names
    sql = f"INSERT INTO {_quote(table.name)} ({', '.join(map(_quote, columns))}) VALUES ({', '.join('?' * len(columns))})"
    rows = ([_sql_value(v) for v in row] for row in frame[columns].itertuples(index=False, name=None))
    try:
        conn.executemany(sql, rows)
    except sqlite3.IntegrityError as e:
        raise ValueError(f"table {table.name} breaks its schema: {e}") from e


def _enable_fts(db: sqlite_utils.Database, table: Table, versions: tuple[str, ...]) -> str:
    """Index the table's search columns with the first FTS version this SQLite has; return it."""
    for version in versions:
        try:
            db[table.name].enable_fts(table.search, fts_version=version, create_triggers=True)
        except sqlite3.OperationalError:
            db.conn.execute(f"DROP TABLE IF EXISTS {_quote(fts_table_name(table))}")
            continue
        return version
    raise RuntimeError(f"this SQLite ({sqlite3.sqlite_version}) has none of the full-text modules {', '.join(versions)}")


def _write_docs(conn: sqlite3.Connection, fts_version: str) -> None:
    """The data dictionary as tables, so a Datasette user can read what each column means."""
    conn.execute('CREATE TABLE "_tables" ("table" TEXT PRIMARY KEY, "description" TEXT, "primary_key" TEXT)')
    conn.execute(
        'CREATE TABLE "_columns" ("table" TEXT NOT NULL, "column" TEXT NOT NULL, "type" TEXT, "description" TEXT, '
        'PRIMARY KEY ("table", "column"))'
    )
    searched = [t for t in TABLES.values() if t.search]
    conn.executemany(
        'INSERT INTO "_tables" VALUES (?, ?, ?)',
        [(t.name, t.description, ", ".join(t.primary_key) or None) for t in TABLES.values()]
        + [(fts_table_name(t), _fts_description(t, fts_version), None) for t in searched],
    )
    conn.executemany(
        'INSERT INTO "_columns" VALUES (?, ?, ?, ?)',
        [(t.name, c.name, c.type, c.description) for t in TABLES.values() for c in t.columns]
        + [(fts_table_name(t), name, "string", f"Indexed for search: {t.name}.{name}.") for t in searched for name in t.search],
    )


def _fts_description(table: Table, fts_version: str) -> str:
    fts = fts_table_name(table)
    return (
        f"Full-text index ({fts_version}) of {table.name} ({', '.join(table.search)}), linked to it by rowid: "
        f"SELECT * FROM {_quote(table.name)} WHERE rowid IN (SELECT rowid FROM {fts} WHERE {fts} MATCH 'fostering'), "
        f"or Datasette's search box on {table.name}."
    )


def datasette_metadata(database: str, fts_version: str = "FTS5") -> dict:
    """Datasette's metadata for the database, from the schema: titles, licence and source, each
    table's and column's description, facets on closed vocabularies, and label columns."""
    about = load_toml("datapackage.toml")
    licence, source = about["licenses"][0], about["sources"][0]
    tables: dict[str, dict] = {}
    for t in TABLES.values():
        entry: dict = {"description": t.description, "columns": {c.name: c.description for c in t.columns}}
        facets = [c.name for c in t.columns if c.enum]
        if facets:
            entry["facets"] = facets
        if t.label:
            entry["label_column"] = t.label
        if t.search:
            entry["fts_table"] = fts_table_name(t)
        tables[t.name] = entry
    tables["_tables"] = {"description": "The data dictionary: what each table holds."}
    tables["_columns"] = {"description": "The data dictionary: what each column means."}
    for t in TABLES.values():
        if t.search:
            tables[fts_table_name(t)] = {"description": _fts_description(t, fts_version)}
    return {
        "title": about["title"],
        "description": about["description"],
        "license": licence.get("title", licence["name"]),
        "license_url": licence.get("path"),
        "source": source["title"],
        "source_url": source.get("path"),
        "databases": {database: {"description": about["description"], "tables": tables}},
    }


def _foreign_key_problems(conn: sqlite3.Connection) -> list[str]:
    return [f"{table} row {rowid} -> {parent}" for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check")]


def write_sqlite(out_dir: Path, db_path: Path | None = None, *, fts_versions: tuple[str, ...] = FTS_VERSIONS,
                 check_foreign_keys: bool = True) -> Path:
    """Build OUT_DIR/letters.sqlite (or db_path) and its Datasette metadata.json; return the database's path.

    Every schema table becomes a table with its keys and indexes; each table with search columns
    gets `TABLE_fts` (FTS5, else FTS4) linked to it; `_tables` and `_columns` hold the data
    dictionary. `metadata.json` beside the database gives Datasette the same documentation
    (`datasette letters.sqlite -m metadata.json`). Both are built under temporary names and
    renamed, so readers never see a half-written file. Raises FileNotFoundError without a
    letters table, and ValueError when the rows break the schema's primary or foreign keys
    (unless check_foreign_keys is False for the latter).
    """
    out_dir = Path(out_dir)
    require_letters(out_dir)
    db_path = Path(db_path) if db_path is not None else out_dir / "letters.sqlite"
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = db_path.with_name(f".{db_path.name}.{os.getpid()}.tmp")
    metadata_path = db_path.with_name(METADATA_NAME)
    tmp_metadata = metadata_path.with_name(f".{metadata_path.name}.{os.getpid()}.tmp")
    tmp_path.unlink(missing_ok=True)
    try:
        conn = sqlite3.connect(tmp_path)
        try:
            with conn:
                for table in TABLES.values():
                    conn.execute(create_table_sql(table))
                    _insert(conn, table, read_table(out_dir, table.name))
                    _create_indexes(conn, table)
            db = sqlite_utils.Database(conn)
            versions = {_enable_fts(db, t, fts_versions) for t in TABLES.values() if t.search}
            fts_version = "/".join(sorted(versions)) or fts_versions[0]
            with conn:
                _write_docs(conn, fts_version)
            conn.execute("ANALYZE")
            problems = _foreign_key_problems(conn) if check_foreign_keys else []
            if problems:
                raise ValueError(f"rows refer to letters that are not in the letters table: {'; '.join(problems[:10])}")
        finally:
            conn.close()
        metadata = datasette_metadata(db_path.stem, fts_version)
        tmp_metadata.write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp_path, db_path)
        os.replace(tmp_metadata, metadata_path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        tmp_metadata.unlink(missing_ok=True)
        raise
    return db_path
