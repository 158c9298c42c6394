"""Export an output folder to one SQLite file, for SQL queries, full-text search and Datasette.

Tables, column types and keys are generated from pipeline.schema.TABLES, like the CSV/Parquet
files, so the database cannot drift from the documented dataset.
"""
from __future__ import annotations

import datetime as dt
import math
import os
import sqlite3
from pathlib import Path

import pandas as pd

from pipeline.dataset import read_table, require_letters
from pipeline.schema import TABLES, Table

SQL_TYPES = {"string": "TEXT", "integer": "INTEGER", "number": "REAL", "date": "TEXT", "boolean": "INTEGER", "datetime": "TEXT"}
FTS_TABLE = "narrative_fts"
FTS_COLUMNS = [
    ("letter_id", "string", "The letter the narrative belongs to (letters.letter_id); not indexed for search."),
    ("authority_name", "string", "Canonical short name of the local authority."),
    ("text", "string", "The narrative part of the letter (segments where segment = 'narrative'), indexed for full-text search."),
]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


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


def _create_fts(conn: sqlite3.Connection, modules: tuple[str, ...]) -> str:
    """Create the narrative search table with the first FTS module this SQLite has; return its name."""
    for module in modules:
        if module == "fts5":
            sql = f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(letter_id UNINDEXED, authority_name, text)"
        elif module == "fts4":
            sql = f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts4(letter_id, authority_name, text, notindexed=letter_id)"
        else:
            raise ValueError(f"unknown full-text module {module!r}")
        try:
            conn.execute(sql)
        except sqlite3.OperationalError:
            continue
        conn.execute(
            f"INSERT INTO {FTS_TABLE} (letter_id, authority_name, text) "
            "SELECT s.letter_id, l.authority_name, s.text FROM segments s "
            "LEFT JOIN letters l ON l.letter_id = s.letter_id "
            "WHERE s.segment = 'narrative' AND s.text IS NOT NULL ORDER BY s.letter_id"
        )
        return module
    raise RuntimeError(f"this SQLite ({sqlite3.sqlite_version}) has none of the full-text modules {', '.join(modules)}")


def _write_docs(conn: sqlite3.Connection, fts_module: str) -> None:
    """The data dictionary as tables, so a Datasette user can read what each column means."""
    conn.execute('CREATE TABLE "_tables" ("table" TEXT PRIMARY KEY, "description" TEXT, "primary_key" TEXT)')
    conn.execute(
        'CREATE TABLE "_columns" ("table" TEXT NOT NULL, "column" TEXT NOT NULL, "type" TEXT, "description" TEXT, '
        'PRIMARY KEY ("table", "column"))'
    )
    conn.executemany(
        'INSERT INTO "_tables" VALUES (?, ?, ?)',
        [(t.name, t.description, ", ".join(t.primary_key) or None) for t in TABLES.values()]
        + [(FTS_TABLE, f"Full-text index ({fts_module}) of each letter's narrative: "
                       f"SELECT letter_id, authority_name FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH 'fostering'.", None)],
    )
    conn.executemany(
        'INSERT INTO "_columns" VALUES (?, ?, ?, ?)',
        [(t.name, c.name, c.type, c.description) for t in TABLES.values() for c in t.columns]
        + [(FTS_TABLE, name, type_, description) for name, type_, description in FTS_COLUMNS],
    )


def _foreign_key_problems(conn: sqlite3.Connection) -> list[str]:
    return [f"{table} row {rowid} -> {parent}" for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check")]


def write_sqlite(out_dir: Path, db_path: Path | None = None, *, fts_modules: tuple[str, ...] = ("fts5", "fts4"),
                 check_foreign_keys: bool = True) -> Path:
    """Build OUT_DIR/letters.sqlite (or db_path) from the output folder's tables and return its path.

    Every schema table becomes a table with its keys; `narrative_fts` indexes the narratives for
    MATCH queries (FTS5, else FTS4); `_tables` and `_columns` hold the data dictionary. The file
    is built under a temporary name and renamed, so readers never see a half-written database.
    Raises FileNotFoundError without a letters table, and ValueError when the rows break the
    schema's primary or foreign keys (unless check_foreign_keys is False for the latter).
    """
    out_dir = Path(out_dir)
    require_letters(out_dir)
    db_path = Path(db_path) if db_path is not None else out_dir / "letters.sqlite"
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = db_path.with_name(f".{db_path.name}.{os.getpid()}.tmp")
    tmp_path.unlink(missing_ok=True)
    try:
        conn = sqlite3.connect(tmp_path)
        try:
            with conn:
                for table in TABLES.values():
                    conn.execute(create_table_sql(table))
                    if "letter_id" in table.column_names and table.primary_key[:1] != ["letter_id"]:
                        conn.execute(f"CREATE INDEX {_quote(table.name + '_letter_id')} ON {_quote(table.name)} (letter_id)")
                    _insert(conn, table, read_table(out_dir, table.name))
                fts_module = _create_fts(conn, fts_modules)
                _write_docs(conn, fts_module)
            problems = _foreign_key_problems(conn) if check_foreign_keys else []
            if problems:
                raise ValueError(f"rows refer to letters that are not in the letters table: {'; '.join(problems[:10])}")
        finally:
            conn.close()
        os.replace(tmp_path, db_path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return db_path
