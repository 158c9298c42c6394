"""The command line: every command documented with an example, exit codes, clean stdout."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from pipeline.cli import EXIT_STRICT, EXIT_USAGE, app

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def command_names() -> list[str]:
    return sorted(typer.main.get_command(app).commands)


@pytest.mark.parametrize("name", command_names())
def test_every_command_has_help_with_an_example(name):
    result = runner.invoke(app, [name, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and f"ofsted-letters {name}" in result.output


@pytest.mark.parametrize("name", command_names())
def test_every_command_is_documented_in_the_readme(name):
    assert f"ofsted-letters {name}" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_ingest_writes_dataset_and_keeps_stdout_clean(tmp_path, seed_dir):
    result = runner.invoke(app, ["ingest", str(seed_dir), "--out", str(tmp_path / "out"), "--workers", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert (tmp_path / "out" / "letters.parquet").exists()


def test_bad_invocation_exits_2(tmp_path):
    assert runner.invoke(app, ["ingest", str(tmp_path / "missing")]).exit_code == EXIT_USAGE
    assert runner.invoke(app, ["ingest", str(tmp_path), "--format", "xls"]).exit_code == EXIT_USAGE


def test_strict_exit_code_when_a_document_failed(tmp_path, seed_dir):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "empty.txt").write_text("")
    ok = runner.invoke(app, ["ingest", str(folder), "--out", str(tmp_path / "a"), "--workers", "1", "-q"])
    assert ok.exit_code == 0
    strict = runner.invoke(app, ["ingest", str(folder), "--out", str(tmp_path / "b"), "--workers", "1", "-q", "--strict"])
    assert strict.exit_code == EXIT_STRICT
    run = json.loads((tmp_path / "b" / "run.json").read_text())
    assert run["counts_by_status"] == {"failed": 1}


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and "ofsted-letters" in result.output


def test_every_format_including_sqlite_with_full_text_search(tmp_path, seed_dir):
    import sqlite3

    out = tmp_path / "out"
    result = runner.invoke(app, ["ingest", str(seed_dir), "--out", str(out), "--workers", "1", "-q", "--format", "csv,jsonl,sqlite"])
    assert result.exit_code == 0, result.output
    assert (out / "letters.csv").exists() and (out / "statistics.jsonl").exists()
    with sqlite3.connect(out / "letters.sqlite") as db:
        assert db.execute("select count(*) from letters").fetchone()[0] == 2
        hits = db.execute("select letter_id from documents where rowid in (select rowid from documents_fts where documents_fts match 'fostering')").fetchall()
        assert len(hits) == 2


def test_report_command_writes_html(tmp_path, seed_out):
    target = tmp_path / "report.html"
    result = runner.invoke(app, ["report", str(seed_out), "--output", str(target)])
    assert result.exit_code == 0, result.output
    html = target.read_text(encoding="utf-8")
    assert "Bromley" in html and "Westminster" in html and "<svg" in html
