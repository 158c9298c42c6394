"""The command line: every command documented with an example, exit codes, clean stdout."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.errors import EXIT_CODES, EXIT_DATA, EXIT_RUN_FAILED, EXIT_STRICT, EXIT_USAGE

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def command_names() -> list[str]:
    return sorted(typer.main.get_command(app).commands)


@pytest.mark.parametrize("name", command_names())
def test_every_command_has_help_that_ends_in_an_example(name):
    result = runner.invoke(app, [name, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and f"ofsted-letters {name}" in result.output
    paragraphs = typer.main.get_command(app).commands[name].help.strip().split("\n\n")
    assert paragraphs[-2].strip() == "Example:" and paragraphs[-1].strip().startswith(f"ofsted-letters {name} ")


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


def test_report_into_a_missing_folder_makes_it_and_says_so(tmp_path, seed_out):
    target = tmp_path / "reports" / "2026" / "report.html"
    result = runner.invoke(app, ["report", "--out", str(seed_out), "--html", str(target)])
    assert result.exit_code == 0, result.output
    assert target.is_file() and result.stdout == ""
    assert result.stderr.strip() == f"wrote {target} (made the folder {target.parent}, which did not exist)"
    again = runner.invoke(app, ["report", "--out", str(seed_out), "--html", str(target)])
    assert again.stderr.strip() == f"wrote {target}"


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory, seed_dir) -> dict[str, Path]:
    """What the bad invocations point at: an empty folder, a plain file, broken gold and dataset files,
    and a dataset with the same file name in two year folders."""
    root = tmp_path_factory.mktemp("bad")
    (root / "empty").mkdir()
    (root / "a-file.txt").write_text("not a folder")
    (root / "gold").mkdir()
    (root / "gold" / "broken.json").write_text('{"file": "a.txt", "fields": {', encoding="utf-8")
    texts = sorted(Path(seed_dir).glob("*.txt"))
    for year, text in zip(("2009", "2010"), texts):
        (root / "letters" / year).mkdir(parents=True)
        (root / "letters" / year / "letter.txt").write_bytes(text.read_bytes())
        (root / "letters" / year / "copy.txt").write_bytes(texts[0].read_bytes())
    ingest_folder = runner.invoke(app, ["ingest", str(root / "letters"), "--out", str(root / "out"), "--workers", "1", "-q"])
    assert ingest_folder.exit_code == 0, ingest_folder.output
    (root / "corrupt").mkdir()
    (root / "corrupt" / "letters.parquet").write_bytes(b"PAR1 this is not parquet")
    return {"root": root}


BAD_INVOCATIONS = [
    # (arguments, exit code, what the message must say); {root} is the bad_inputs folder
    (["ingest", "{root}/empty", "--out", "{root}/o1"], EXIT_USAGE, "no letters (.txt or .pdf files, or archives of them) in"),
    (["ingest", "{root}/letters", "--format", "", "--out", "{root}/o2"], EXIT_USAGE, "no format given to --format"),
    (["ingest", "{root}/letters", "--format", "xls", "--out", "{root}/o3"], EXIT_USAGE, "unknown format(s) xls"),
    (["ingest", "{root}/letters", "--out", "{root}/a-file.txt"], EXIT_USAGE, "is a file"),
    (["ingest", "{root}/missing"], EXIT_USAGE, "does not exist"),
    (["ingest", "{root}/letters", "--include", "2011/*", "--out", "{root}/o4"], EXIT_USAGE, "match --include '2011/*'"),
    (["ingest", "{root}/letters", "--out", "{root}/a-file.txt/sub", "-q", "-w", "1"], EXIT_USAGE, "is inside {root}/a-file.txt, which is a file"),
    (["show", "Bromley", "--out", "{root}/out", "--field", "bogus"], EXIT_USAGE, "'bogus' is not one of"),
    (["show", "Bromley", "--out", "{root}/out", "--source-format", "docx"], EXIT_USAGE, "'docx' is not one of"),
    (["show", "Bromley", "--out", "{root}/out", "--year", "last"], EXIT_USAGE, "Invalid value for '--year'"),
    (["show", "Atlantis", "--out", "{root}/out"], EXIT_USAGE, "no letter in"),
    (["show", "Bromley", "--out", "{root}/empty"], EXIT_USAGE, "there is no dataset in"),
    (["sample", "--out", "{root}/out", "--status", "bogus"], EXIT_USAGE, "'bogus' is not one of"),
    (["sample", "--out", "{root}/out", "--max-confidence", "2"], EXIT_USAGE, "--max-confidence"),
    (["sample", "--out", "{root}/corrupt"], EXIT_DATA, "letters.parquet cannot be read"),
    (["evaluate", "--gold", "{root}/gold", "--out", "{root}/out"], EXIT_DATA, "broken.json is not valid JSON"),
    (["evaluate", "--gold", "{root}/empty", "--out", "{root}/out"], EXIT_USAGE, "no gold files"),
    (["evaluate", "--gold", "{root}/gold", "--out", "{root}/empty"], EXIT_USAGE, "is not a dataset folder"),
    (["evaluate", "--gold", "{root}/gold", "--out", "{root}/out", "--json", "{root}/e.json"], EXIT_USAGE, "--json takes no file name now"),
    (["report", "--out", "{root}/empty"], EXIT_USAGE, "is not a dataset folder"),
    (["report", "--out", "{root}/out", "--html", "{root}/a-file.txt/report.html"], EXIT_RUN_FAILED, "a-file.txt"),
    (["review", "--out", "{root}/missing"], EXIT_USAGE, "is not a dataset folder"),
    (["review", "--out", "{root}/out", "--gold", "{root}/gold"], EXIT_DATA, "broken.json is not valid JSON"),
]


@pytest.mark.parametrize("args, code, message", BAD_INVOCATIONS, ids=[" ".join(a[:2]) + f" -> {c}" for a, c, _ in BAD_INVOCATIONS])
def test_every_bad_invocation_exits_with_its_code_and_one_clear_message(bad_inputs, args, code, message):
    result = runner.invoke(app, [a.format(root=bad_inputs["root"]) for a in args])
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and message.format(root=bad_inputs["root"]) in lines[0], result.stderr
    assert len(lines) == 2, result.stderr  # what went wrong, what to do
    assert "Traceback" not in result.stderr


def test_ambiguous_name_lists_the_candidates_and_a_filter_narrows_it(bad_inputs):
    out = str(bad_inputs["root"] / "out")
    result = runner.invoke(app, ["show", "Bromley", "--out", out])
    assert result.exit_code == EXIT_USAGE
    assert "'Bromley' matches 3 letters:" in result.stderr
    assert result.stderr.count("letters/2009/") == 2 and result.stderr.count("letters/2010/copy.txt") == 1
    assert "narrow with --year" in result.stderr
    one = runner.invoke(app, ["show", "2010/copy.txt", "--out", out])  # the end of a path names one letter
    assert one.exit_code == 0, one.output and "letters/2010/copy.txt" in one.stdout
    bare = runner.invoke(app, ["show", "copy.txt", "--out", out, "--json"])
    assert bare.exit_code == EXIT_USAGE and "'copy.txt' matches 2 letters" in bare.stderr
    westminster = runner.invoke(app, ["show", "letter.txt", "--out", out, "--json", "--status", "ok"])
    assert westminster.exit_code == EXIT_USAGE  # both letter.txt letters are ok
    none = runner.invoke(app, ["show", "Bromley", "--out", out, "--year", "2031"])
    assert none.exit_code == EXIT_USAGE and "that passes the filters given" in none.stderr


def test_debug_shows_the_traceback(bad_inputs):
    result = runner.invoke(app, ["report", "--out", str(bad_inputs["root"] / "empty"), "--debug"])
    assert result.exit_code == EXIT_USAGE
    assert "Traceback" in result.stderr and "error: " in result.stderr


def test_readme_exit_code_table_matches_the_code():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code, meaning in EXIT_CODES.items():
        assert f"| `{code}` | {meaning} |" in readme


def test_ctrl_c_stops_soon_says_interrupted_keeps_the_previous_dataset_and_exits_130(tmp_path, seed_dir):
    """Ctrl-C as a terminal sends it: SIGINT to every process of the run, workers included."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    first = runner.invoke(app, ["ingest", str(seed_dir), "--out", str(out), "--workers", "1", "-q"])
    assert first.exit_code == 0, first.output
    previous = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    letters = tmp_path / "many"
    letters.mkdir()
    texts = [p.read_text(encoding="utf-8") for p in sorted(Path(seed_dir).glob("*.txt"))]
    for i in range(600):  # distinct letters (a line of their own), so none is a cached or duplicate copy
        (letters / f"letter-{i:04d}.txt").write_text(texts[i % len(texts)] + f"\nReference {i}\n", encoding="utf-8")
    cached = lambda: sum(1 for _ in (out / ".cache").rglob("*.pickle"))  # noqa: E731
    already = cached()
    run = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "ingest", str(letters), "--out", str(out), "--workers", "2", "-q"],
                           cwd=ROOT, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while cached() < already + 10 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run.poll() is None, "the run ended before it could be interrupted"
    os.killpg(run.pid, signal.SIGINT)
    _, stderr = run.communicate(timeout=30)  # a bound against a hang; it takes about half a second
    assert run.returncode == 130
    assert stderr.strip() == "interrupted"
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == previous
    assert not list(out.glob(".parts-*"))


def test_a_positional_dataset_folder_still_works_with_a_note(seed_out, tmp_path):
    result = runner.invoke(app, ["report", str(seed_out), "--html", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert "deprecated; use --out" in result.stderr and (tmp_path / "r.html").exists()
    clash = runner.invoke(app, ["report", str(seed_out), "--out", str(tmp_path)])
    assert clash.exit_code == EXIT_USAGE and "two dataset folders given" in clash.stderr
