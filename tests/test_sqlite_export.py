"""The SQLite export: the schema's tables and keys, every row, full-text search, and an atomic write."""
from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections import Counter
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


def _search(conn: sqlite3.Connection, table: str, query: str, column: str) -> list:
    """Rows of the table the linked full-text index finds, as Datasette's search box asks for them."""
    return [r[0] for r in conn.execute(
        f'SELECT {column} FROM "{table}" WHERE rowid IN (SELECT rowid FROM "{table}_fts" WHERE "{table}_fts" MATCH ?) ORDER BY 1',
        (query,),
    )]


def test_full_text_indexes_are_linked_to_their_tables(sample_db: tuple[Path, Path]) -> None:
    _, db = sample_db
    with connect(db) as conn:
        for table in TABLES.values():
            sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (f"{table.name}_fts",)).fetchone()
            if not table.search:
                assert sql is None
                continue
            assert "fts5" in sql[0].lower() and (f"content=[{table.name}]" in sql[0] or f'content="{table.name}"' in sql[0]), sql
            assert conn.execute(f'SELECT count(*) FROM "{table.name}_fts"').fetchone() == conn.execute(f'SELECT count(*) FROM "{table.name}"').fetchone()
            triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table.name,))}
            assert triggers == {f"{table.name}_ai", f"{table.name}_ad", f"{table.name}_au"}
        assert _search(conn, "letters", "Pearson", "authority_name") == ["Bromley"]
        assert _search(conn, "letters", "Bromley", "authority_name") == ["Bromley"]
        found = _search(conn, "documents", "fostering", "letter_id")
        names = [conn.execute("SELECT authority_name FROM letters WHERE letter_id = ?", (lid,)).fetchone()[0] for lid in found]
        assert sorted(names) == ["Bromley", "Cumbria", "Westminster"]
        narrative = conn.execute(
            "SELECT l.authority_name FROM segments s JOIN letters l USING (letter_id) WHERE s.segment = 'narrative' "
            "AND s.rowid IN (SELECT rowid FROM segments_fts WHERE segments_fts MATCH '\"pupil referral units\"')"
        ).fetchall()
        assert narrative == [("Westminster",)]
        assert _search(conn, "documents", "zeppelin", "letter_id") == []
        assert _search(conn, "errors", "truncated OR damaged OR corrupt", "error") != []


def test_full_text_index_follows_edits(tmp_path: Path) -> None:
    """The triggers keep an index right when someone edits the database afterwards."""
    db = write_sqlite(write_output(tmp_path / "out"))
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE letters SET recipient_name = 'Ms Zanzibar Quell' WHERE authority_name = 'Bromley'")
        assert _search(conn, "letters", "Zanzibar", "authority_name") == ["Bromley"]
        assert _search(conn, "letters", "Pearson", "authority_name") == []
        conn.execute("DELETE FROM fields")
        conn.execute("DELETE FROM errors")
        conn.execute("DELETE FROM scale")
        conn.execute("DELETE FROM statistics")
        conn.execute("DELETE FROM segments")
        conn.execute("DELETE FROM documents")
        conn.execute("DELETE FROM letters WHERE authority_name = 'Bromley'")
        assert _search(conn, "letters", "Zanzibar", "authority_name") == []


def test_indexes_from_the_schema(sample_db: tuple[Path, Path]) -> None:
    _, db = sample_db
    with connect(db) as conn:
        for table in TABLES.values():
            indexed = {conn.execute(f'PRAGMA index_info("{name}")').fetchone()[2]
                       for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (table.name,))}
            assert set(table.indexes) <= indexed, table.name
        assert {"status", "authority_name", "rating_year"} <= set(TABLES["letters"].indexes)
        assert conn.execute("SELECT count(*) FROM letters INDEXED BY letters_status WHERE status = 'failed'").fetchone() == (1,)


def test_datasette_metadata_from_the_schema(sample_db: tuple[Path, Path]) -> None:
    out, db = sample_db
    metadata = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    tables = metadata["databases"]["letters"]["tables"]
    for table in TABLES.values():
        assert tables[table.name]["description"] == table.description
        assert tables[table.name]["columns"] == {c.name: c.description for c in table.columns}
        assert tables[table.name].get("fts_table") == (f"{table.name}_fts" if table.search else None)
    assert tables["letters"]["facets"] == [c.name for c in TABLES["letters"].columns if c.enum] and "status" in tables["letters"]["facets"] and tables["letters"]["label_column"] == "authority_name"
    assert metadata["license"] and metadata["license_url"].startswith("https://") and metadata["source"]


def test_column_descriptions(sample_db: tuple[Path, Path]) -> None:
    _, db = sample_db
    with connect(db) as conn:
        rows = {(t, c): (ty, d) for t, c, ty, d in conn.execute('SELECT "table", "column", "type", "description" FROM _columns')}
        tables = dict(conn.execute('SELECT "table", "description" FROM _tables').fetchall())
    for table in TABLES.values():
        assert tables[table.name] == table.description
        for column in table.columns:
            assert rows[(table.name, column.name)] == (column.type, column.description)
    assert ("documents_fts", "text") in rows and ("letters_fts", "recipient_name") in rows
    assert "MATCH" in tables["letters_fts"]


class _NoFts5(sqlite3.Connection):
    """A connection to an SQLite built without FTS5."""

    def executescript(self, sql: str) -> sqlite3.Cursor:  # type: ignore[override]
        if "USING FTS5" in sql.upper():
            raise sqlite3.OperationalError("no such module: fts5")
        return super().executescript(sql)


def test_falls_back_to_fts4(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = sqlite3.connect
    monkeypatch.setattr(sqlite_export.sqlite3, "connect", lambda path: real_connect(path, factory=_NoFts5))
    db = write_sqlite(write_output(tmp_path / "out"), tmp_path / "db" / "fts4.sqlite")
    monkeypatch.undo()
    with connect(db) as conn:
        assert "fts4" in conn.execute("SELECT sql FROM sqlite_master WHERE name = 'documents_fts'").fetchone()[0].lower()
        assert len(_search(conn, "documents", "fostering", "letter_id")) == 3
    assert "fts4.sqlite" not in (tmp_path / "db" / "metadata.json").read_text() and '"fts4"' in (tmp_path / "db" / "metadata.json").read_text()


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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read().decode("utf-8"))


def test_datasette_search_box_finds_letters(sample_db: tuple[Path, Path], tmp_path: Path) -> None:
    """A real Datasette process on the file: ?_search= on letters and documents, and the metadata shown."""
    datasette = Path(sys.executable).with_name("datasette")
    if not datasette.exists():
        pytest.skip("datasette is not installed (it is in the test extras: pip install -e '.[test]')")
    out, db = sample_db
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "datasette.log", "w+b")
    server = subprocess.Popen([str(datasette), "serve", "-m", str(out / "metadata.json"), "--host", "127.0.0.1",
                               "--port", str(port), "--immutable", str(db)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get_json(f"{base}/-/versions.json")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"datasette did not start: {log.read().decode(errors='replace')[-2000:]}")
                time.sleep(0.2)
        found = _get_json(f"{base}/letters/letters.json?_search=Pearson&_shape=objects")
        assert [row["authority_name"] for row in found["rows"]] == ["Bromley"]
        assert _get_json(f"{base}/letters/letters.json?_search=zeppelin&_shape=objects")["rows"] == []
        texts = _get_json(f"{base}/letters/documents.json?_search=fostering&_shape=objects&_labels=on")
        assert sorted(row["letter_id"]["label"] for row in texts["rows"]) == ["Bromley", "Cumbria", "Westminster"]
        table = _get_json(f"{base}/letters/letters.json?_facet=status&_size=0")
        assert {f["value"]: f["count"] for f in table["facet_results"]["status"]["results"]} == Counter(r["status"] for r in sample_tables()["letters"])
        with urllib.request.urlopen(f"{base}/letters/letters", timeout=10) as page:
            html = page.read().decode("utf-8")
        assert 'name="_search"' in html and TABLES["letters"].description in html
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
