"""The SQLite export: the schema's tables and keys, every row, full-text search, and an atomic write."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from helpers_output import BROMLEY, letter_id_of, sample_tables, write_output
from pipeline import sqlite_export
from pipeline.schema import TABLES
from pipeline.sqlite_export import SQL_TYPES, write_sqlite


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = write_output(tmp_path_factory.mktemp("sqlite") / "out")
    return out, write_sqlite(out)


def connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def test_written_to_the_default_place_atomically(sample_db: tuple[Path, Path]) -> None:
    out, db = sample_db
    assert db == out / "letters.sqlite" and db.exists()
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def test_tables_columns_and_keys(sample_db: tuple[Path, Path]) -> None:
    _, db = sample_db
    with connect(db) as conn:
        for table in TABLES.values():
            info = conn.execute(f'PRAGMA table_info("{table.name}")').fetchall()
            assert [(r[1], r[2], bool(r[3])) for r in info] == [(c.name, SQL_TYPES[c.type], c.required) for c in table.columns]
            pk = [name for _, name, *_rest, position in sorted(info, key=lambda r: r[5]) if position]
            assert pk == table.primary_key
            fks = {(r[2], r[3], r[4]) for r in conn.execute(f'PRAGMA foreign_key_list("{table.name}")')}
            assert fks == {(ref, col, ref_col) for cols, ref, ref_cols in table.foreign_keys for col, ref_col in zip(cols, ref_cols)}
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_row_counts_and_values_match_parquet(sample_db: tuple[Path, Path]) -> None:
    out, db = sample_db
    with connect(db) as conn:
        for name in TABLES:
            expected = len(pd.read_parquet(out / f"{name}.parquet"))
            assert conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] == expected, name
        lid = letter_id_of(sample_tables(), BROMLEY.file)
        row = conn.execute(
            "SELECT authority_la_code, typeof(authority_la_code), letter_date, rating_score, typeof(rating_score) "
            "FROM letters WHERE letter_id = ?", (lid,)
        ).fetchone()
        assert row == ("305", "text", "2009-12-09", 3, "integer")
        stat = conn.execute("SELECT value, typeof(value), denominator FROM statistics WHERE letter_id = ? AND stat_index = 2", (lid,)).fetchone()
        assert stat == (1.0, "real", 4.0)
        assert conn.execute("SELECT count(*) FROM letters WHERE status = 'failed' AND authority_name IS NULL").fetchone()[0] == 1


def test_full_text_search_of_narratives(sample_db: tuple[Path, Path]) -> None:
    _, db = sample_db
    with connect(db) as conn:
        module = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'narrative_fts'").fetchone()[0]
        assert "fts5" in module or "fts4" in module
        hits = conn.execute("SELECT letter_id, authority_name FROM narrative_fts WHERE narrative_fts MATCH 'fostering' ORDER BY authority_name").fetchall()
        assert [name for _, name in hits] == ["Bromley", "Cumbria", "Westminster"]
        assert conn.execute("SELECT authority_name FROM narrative_fts WHERE narrative_fts MATCH '\"pupil referral units\"'").fetchall() == [("Westminster",)]
        assert conn.execute("SELECT count(*) FROM narrative_fts WHERE narrative_fts MATCH 'Aviation'").fetchone()[0] == 0
        narratives = conn.execute("SELECT count(*) FROM segments WHERE segment = 'narrative'").fetchone()[0]
        assert conn.execute("SELECT count(*) FROM narrative_fts").fetchone()[0] == narratives


def test_column_descriptions(sample_db: tuple[Path, Path]) -> None:
    _, db = sample_db
    with connect(db) as conn:
        rows = {(t, c): (ty, d) for t, c, ty, d in conn.execute('SELECT "table", "column", "type", "description" FROM _columns')}
        tables = dict(conn.execute('SELECT "table", "description" FROM _tables').fetchall())
    for table in TABLES.values():
        assert tables[table.name] == table.description
        for column in table.columns:
            assert rows[(table.name, column.name)] == (column.type, column.description)
    assert ("narrative_fts", "text") in rows


class _NoFts5(sqlite3.Connection):
    """A connection to an SQLite built without FTS5."""

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:  # type: ignore[override]
        if "USING fts5" in sql:
            raise sqlite3.OperationalError("no such module: fts5")
        return super().execute(sql, *args)


def test_falls_back_to_fts4(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = sqlite3.connect
    monkeypatch.setattr(sqlite_export.sqlite3, "connect", lambda path: real_connect(path, factory=_NoFts5))
    db = write_sqlite(write_output(tmp_path / "out"), tmp_path / "db" / "fts4.sqlite")
    monkeypatch.undo()
    with connect(db) as conn:
        assert "fts4" in conn.execute("SELECT sql FROM sqlite_master WHERE name = 'narrative_fts'").fetchone()[0]
        hits = conn.execute("SELECT authority_name FROM narrative_fts WHERE narrative_fts MATCH 'fostering'").fetchall()
        assert len(hits) == 3


def test_csv_only_folder(tmp_path: Path) -> None:
    out = write_output(tmp_path / "out", formats=("csv",))
    with connect(write_sqlite(out)) as conn:
        for name in TABLES:
            assert conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] == len(pd.read_csv(out / f"{name}.csv")), name
        assert conn.execute("SELECT typeof(authority_la_code), typeof(n_statistics) FROM letters LIMIT 1").fetchone() == ("text", "integer")


def test_broken_keys_leave_the_old_database(tmp_path: Path) -> None:
    out = write_output(tmp_path / "out")
    db = write_sqlite(out)
    before = db.read_bytes()
    tables = sample_tables()
    tables["errors"].append({"letter_id": "ffffffffffffffff", "source_path": "ghost.txt", "stage": "read", "error": "empty", "message": "empty file"})
    write_output(out, tables)
    with pytest.raises(ValueError, match="not in the letters table"):
        write_sqlite(out)
    assert db.read_bytes() == before
    assert sorted(p.name for p in out.iterdir() if "sqlite" in p.name) == ["letters.sqlite"]
    write_sqlite(out, check_foreign_keys=False)
    with connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM errors").fetchone()[0] == 2

    tables["errors"].pop()
    tables["segments"].append(dict(tables["segments"][0]))
    write_output(out, tables)
    with pytest.raises(ValueError, match="segments"):
        write_sqlite(out)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_sqlite(tmp_path)
    assert list(tmp_path.iterdir()) == []
