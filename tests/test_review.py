"""review: keyboard corrections saved as gold files, resumable, dataset untouched."""
from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.evaluate import evaluate
from pipeline.ingest import ingest
from pipeline.show import read_dataset
from test_evaluate import SCORE_PY, score_py_json

ROOT = Path(__file__).resolve().parent.parent

runner = CliRunner()


@pytest.fixture()
def out(tmp_path, seed_dir) -> Path:
    out = tmp_path / "out"
    ingest([seed_dir], out, workers=1)
    return out


def test_accepting_everything_gives_gold_that_scores_full_marks(out, tmp_path):
    gold = tmp_path / "gold"
    result = runner.invoke(app, ["review", "--out", str(out), "--gold", str(gold)], input="a\na\n")
    assert result.exit_code == 0, result.output
    files = sorted(gold.glob("*.json"))
    assert len(files) == 2
    record = json.loads(files[0].read_text())
    assert set(record) >= {"file", "status", "fields", "scale", "statistics"}
    assert evaluate([gold], out).stats_f1 == 1.0


def test_correction_lives_in_gold_and_review_resumes(out, tmp_path):
    gold = tmp_path / "gold"
    before = (out / "letters.csv").read_bytes()
    # fix the first letter's recipient postcode, drop its first statistic, then quit
    result = runner.invoke(app, ["review", "--out", str(out), "--gold", str(gold)], input="f\nrecipient_postcode\nAB1 2CD\n-\n0\na\nq\n")
    assert result.exit_code == 0, result.output
    saved = list(gold.glob("*.json"))
    assert len(saved) == 1
    record = json.loads(saved[0].read_text())
    assert record["fields"]["recipient_postcode"] == "AB1 2CD"
    assert (out / "letters.csv").read_bytes() == before
    again = runner.invoke(app, ["review", "--out", str(out), "--gold", str(gold)], input="s\n")
    assert "already reviewed 1" in again.output
    result = evaluate([gold], out)
    assert result.per_field["recipient_postcode"] == 0.0


@pytest.fixture()
def year_folders(tmp_path, seed_texts) -> tuple[Path, Path]:
    """Two letters with the same file name in two year folders, the usual layout of an archive."""
    texts = iter(seed_texts.values())
    for year in ("2009", "2010"):
        folder = tmp_path / "letters" / year
        folder.mkdir(parents=True)
        (folder / "letter.txt").write_text(next(texts), encoding="utf-8")
    out = tmp_path / "out"
    ingest([tmp_path / "letters"], out, workers=1)
    return out, tmp_path / "checked"


def _spawn_review(out: Path, gold: Path):
    pexpect = pytest.importorskip("pexpect")
    env = {**os.environ, "NO_COLOR": "1", "TERM": "xterm", "COLUMNS": "200"}
    child = pexpect.spawn(sys.executable, ["-m", "pipeline.cli", "review", "--out", str(out), "--gold", str(gold)],
                          env=env, encoding="utf-8", timeout=30, dimensions=(50, 200), cwd=str(ROOT))
    child.logfile_read = open(os.environ["REVIEW_LOG"], "a") if os.environ.get("REVIEW_LOG") else None
    return child, pexpect


def _answer(child, prompt: str, reply: str) -> None:
    child.expect(prompt)
    child.sendline(reply)


def _expect_end(child, pexpect, summary: str) -> None:
    """The session's closing summary, then a clean exit."""
    child.expect(summary)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_review_at_a_terminal_fixes_adds_edits_removes_skips_and_resumes(year_folders):
    out, gold = year_folders
    before = (out / "letters.csv").read_bytes()
    child, pexpect = _spawn_review(out, gold)
    child.expect(r"letter 1 of 2: 2009/letter\.txt")
    child.expect(re.escape("[a] accept and save  [f] fix a field  [e] edit a statistic"))  # the keys are visible
    _answer(child, "action: ", "")  # a bare Enter does nothing but ask again
    _answer(child, "action: ", "x")
    child.expect("'x' is not an action")
    _answer(child, "action: ", "f")
    _answer(child, r"field \(", "rating_scor")  # a unique beginning of a field name is enough
    _answer(child, r"correct value of rating_score \(now 3", "five")
    child.expect("not a whole number from 1 to 4; try again")
    _answer(child, "correct value of rating_score", "2")
    child.expect("rating_score = 2")
    child.expect(re.escape("rating_label = 'Performs adequately' (the scale's, to go with rating_score 2)"))
    _answer(child, "action: ", "f")
    _answer(child, r"field \(", "status")
    _answer(child, re.escape("status (ok, needs_review, failed, not_rating_letter; now 'ok', Enter keeps it)"), "")
    child.expect("status = 'ok'")  # Enter keeps the current value
    _answer(child, "action: ", "+")
    for prompt, reply in [("text as written", "two nursery schools"), ("text as written", "Key Stage 2"),
                          (r"kind \(count, percentage, fraction, ratio, indicator\)", "count"),
                          ("value", "two"), ("value", "2"), ("denominator", ""), ("qualifier", ""),
                          ("subject keyword", "nursery school"), ("judgement", "good")]:
        _answer(child, prompt, reply)
        if reply == "two":
            child.expect("'two' is not a number; try again")
        if reply == "two nursery schools":
            child.expect("'two nursery schools' is not in the letter")
    child.expect(r"5: 'Key Stage 2' count 2 \| nursery school \| good")
    _answer(child, "action: ", "e")
    _answer(child, "number of the statistic to edit", "9")
    child.expect("not a number from 0 to 5; try again")
    _answer(child, "number of the statistic to edit", "2")
    for prompt, reply in [("text as written", ""), ("kind", ""), ("value", ""), ("denominator", "5"),
                          ("qualifier", ""), ("subject keyword", ""), ("judgement", "good")]:
        _answer(child, prompt, reply)
    child.expect(r"2: 'one of the four special schools' count 1/5 \| special schools \| good")
    _answer(child, "action: ", "-")
    _answer(child, "number of the statistic to remove", "1")
    child.expect("removed 'no secondary schools'")
    _answer(child, "action: ", "a")
    child.expect("saved ")
    child.expect(r"letter 2 of 2: 2010/letter\.txt")
    _answer(child, "action: ", "s")
    _expect_end(child, pexpect, "saved 1, skipped 1, already reviewed 0")

    child, pexpect = _spawn_review(out, gold)  # resume: the saved letter is passed over, the skipped one comes back
    child.expect(r"letter 2 of 2: 2010/letter\.txt")
    _answer(child, "action: ", "a")
    _expect_end(child, pexpect, "saved 1, skipped 0, already reviewed 1")

    assert (out / "letters.csv").read_bytes() == before  # the dataset is never changed
    letters = {r["letter_id"]: r for r in read_dataset(out)["letters"].to_dict("records")}
    saved = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in gold.glob("*.json")}
    assert set(saved) == set(letters)  # one gold file per letter, named by its letter_id
    files = {saved[i]["file"]: saved[i] for i in saved}
    assert set(files) == {"2009/letter.txt", "2010/letter.txt"}
    fixed = files["2009/letter.txt"]
    assert fixed["fields"]["rating_score"] == 2
    texts = [s["text"] for s in fixed["statistics"]]
    assert "no secondary schools" not in texts and texts[-1] == "Key Stage 2"
    assert (fixed["fields"]["rating_label"], fixed["status"]) == ("Performs adequately", "ok")
    edited = next(s for s in fixed["statistics"] if s["text"] == "one of the four special schools")
    assert (edited["denominator"], edited["judgement"]) == (5, "good")
    result = evaluate([gold], out)
    assert result.docs_found == 2 == result.docs_gold
    assert result.per_field["rating_score"] == 0.5 == result.per_field["rating_label"]
    assert result.stats_fn == 2  # the statistic added, and the one whose denominator was changed
    if SCORE_PY.exists():  # the project's reference scorer reads the same gold files the same way
        assert score_py_json([gold], out) == result.as_score_dict()


def test_gold_file_is_the_path_below_the_input_folder_and_unique():
    import pandas as pd

    from pipeline.review import gold_file_names

    letters = pd.DataFrame({"letter_id": ["a", "b", "c", "d"], "source_path": [
        "/data/archive/2009/bromley.txt", "/data/archive/2010/bromley.txt", "/data/archive/2010/sub/surrey.pdf", "/elsewhere/kent.txt"]})
    assert gold_file_names(letters, ["/data/archive", "/elsewhere/kent.txt"]) == {
        "a": "2009/bromley.txt", "b": "2010/bromley.txt", "c": "2010/sub/surrey.pdf", "d": "kent.txt"}
    # `ingest 2009/ 2010/`: below each folder both are bromley.txt, so the year folder is kept to tell them apart
    by_year = gold_file_names(letters.iloc[:2], ["/data/archive/2009", "/data/archive/2010"])
    assert by_year == {"a": "2009/bromley.txt", "b": "2010/bromley.txt"}
    assert gold_file_names(letters.iloc[:1], ["/data/archive/2009"]) == {"a": "bromley.txt"}


def test_a_gold_file_named_the_old_way_counts_as_reviewed(out, tmp_path, gold_dir):
    """Gold files named by the letter's file (as ../shared/gold) are recognised by their "file"."""
    import shutil

    gold = tmp_path / "gold"
    shutil.copytree(gold_dir, gold)
    result = runner.invoke(app, ["review", "--out", str(out), "--gold", str(gold)], input="q\n")
    assert result.exit_code == 0, result.output
    assert "already reviewed 2" in result.output


def test_malformed_gold_file_stops_review_with_a_data_error(out, tmp_path):
    gold = tmp_path / "gold"
    gold.mkdir()
    (gold / "x.json").write_text("{not json", encoding="utf-8")
    result = runner.invoke(app, ["review", "--out", str(out), "--gold", str(gold)], input="q\n")
    assert result.exit_code == 4
    assert "x.json is not valid JSON" in result.stderr and "Traceback" not in result.output


def test_review_will_not_save_gold_that_does_not_hold_together(out, tmp_path):
    """A score beside another score's label, a statistic whose text is not in the letter: refused
    at the save with the reason, until fixed."""
    gold = tmp_path / "gold"
    assert runner.invoke(app, ["review", "--out", str(out), "--gold", str(gold)], input="a\nq\n").exit_code == 0
    saved = next(gold.glob("*.json"))
    record = json.loads(saved.read_text(encoding="utf-8"))
    record["fields"]["rating_score"] = 2  # the label stays "Performs well"
    record["statistics"][0]["text"] = "over 90%"
    saved.write_text(json.dumps(record), encoding="utf-8")
    result = runner.invoke(app, ["review", "--out", str(out), "--gold", str(gold), "--redo"],
                           input="a\n-\n0\nf\nrating_score\n3\na\nq\n")
    assert result.exit_code == 0, result.output
    assert "rating_label 'Performs well' does not go with rating_score 2 (the scale: 2 = Performs adequately)" in result.output
    assert "statistic 0 'over 90%' is not in the letter" in result.output
    assert "saved 1" in result.output
    record = json.loads(saved.read_text(encoding="utf-8"))
    assert record["fields"]["rating_score"] == 3 and "over 90%" not in [s["text"] for s in record["statistics"]]


def test_gold_problems_follow_the_scale():
    from pipeline.review import gold_problems

    text = "Bromley performs well. Over 70% of settings are good."
    good = {"fields": {"rating_score": 3, "rating_label": "Performs well"}, "statistics": [{"text": "Over\n70%"}]}
    assert gold_problems(good, text) == []
    for score, label in ((2, "Performs well"), (4, "Performs well"), (9, "Performs well")):
        bad = {"fields": {"rating_score": score, "rating_label": label}, "statistics": []}
        assert gold_problems(bad, text) and "does not go with" in gold_problems(bad, text)[0]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write to a read-only folder")
def test_a_read_only_gold_folder_stops_review_before_the_first_letter(out, tmp_path):
    gold = tmp_path / "gold"
    gold.mkdir()
    gold.chmod(0o500)
    try:
        result = runner.invoke(app, ["review", "--out", str(out), "--gold", str(gold)], input="a\n")
    finally:
        gold.chmod(0o700)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot write gold files in {gold}: Permission denied")
    assert "letter 1 of" not in result.output


def test_a_gold_folder_that_cannot_be_made_stops_review_before_the_first_letter(out, tmp_path):
    """The same check, where it can be seen even as root: --gold inside a file."""
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    result = runner.invoke(app, ["review", "--out", str(out), "--gold", str(a_file / "gold")], input="a\n")
    assert result.exit_code == 1 and result.stderr.startswith(f"error: cannot write gold files in {a_file / 'gold'}")
    assert "letter 1 of" not in result.output
