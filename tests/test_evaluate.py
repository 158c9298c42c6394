"""evaluate() must give exactly score.py's figures; these tests run both on the same folders."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from helpers_output import BROMLEY, CUMBRIA, FAILED_FILE, WESTMINSTER, letter_id_of, sample_gold, sample_tables, write_output
from pipeline.errors import DataError, NotADataset, UsageError
from pipeline.evaluate import EvaluationResult, evaluate, evaluation_json, render_evaluation, write_evaluation_json

from conftest import SHARED

SCORE_PY = SHARED / "tools" / "score.py"
SHARED_GOLD = SHARED / "gold"

Tables = dict[str, list[dict]]


def write_gold(directory: Path, gold: list[dict] | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for g in sample_gold() if gold is None else gold:
        (directory / f"{Path(g['file']).stem}.json").write_text(json.dumps(g, indent=2), encoding="utf-8")
    return directory


def run_score_py(gold_dirs: list[Path], out_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    args = [sys.executable, str(SCORE_PY)]
    for d in gold_dirs:
        args += ["--gold", str(d)]
    return subprocess.run([*args, "--out", str(out_dir), *extra], capture_output=True, text=True, timeout=120, check=True)


def score_py_json(gold_dirs: list[Path], out_dir: Path) -> dict:
    return json.loads(run_score_py(gold_dirs, out_dir, "--json").stdout)


def drop_statistic(tables: Tables, file_name: str, text: str) -> None:
    lid = letter_id_of(tables, file_name)
    tables["statistics"] = [s for s in tables["statistics"] if not (s["letter_id"] == lid and s["text"] == text)]


def set_statistic(tables: Tables, text: str, **values: object) -> None:
    next(s for s in tables["statistics"] if s["text"] == text).update(values)


def set_letter(tables: Tables, file_name: str, **values: object) -> None:
    next(r for r in tables["letters"] if r["source_path"].endswith(file_name)).update(values)


def add_statistic(tables: Tables, file_name: str, text: str, value: float, subject: str | None, **more: object) -> None:
    lid = letter_id_of(tables, file_name)
    index = sum(s["letter_id"] == lid for s in tables["statistics"])
    tables["statistics"].append({"letter_id": lid, "stat_index": index, "text": text, "kind": "count",
                                 "value": value, "subject": subject, **more})


def perfect(t: Tables) -> None:
    pass


def missing_letter(t: Tables) -> None:
    t["letters"] = [r for r in t["letters"] if not r["source_path"].endswith(WESTMINSTER.file)]


def wrong_fields(t: Tables) -> None:
    set_letter(t, BROMLEY.file, rating_score=2, authority_name="Bromley LB", recipient_name=None)
    set_letter(t, CUMBRIA.file, letter_date="2010-12-09", rating_year=None, signatory_title="Deputy Chief Inspector.")


def extra_statistics(t: Tables) -> None:
    add_statistic(t, BROMLEY.file, "Key Stage 2", 2, "pupils")
    add_statistic(t, BROMLEY.file, "four special schools", 4, "special schools")
    add_statistic(t, CUMBRIA.file, "the 10 children's homes", 10, "children's homes", denominator=None)
    add_statistic(t, WESTMINSTER.file, "13 out of 14", 13, "nursery schools", denominator=14)


def missing_statistics(t: Tables) -> None:
    drop_statistic(t, WESTMINSTER.file, "13 out of 14")
    drop_statistic(t, BROMLEY.file, "no secondary schools")
    set_statistic(t, "three of the eight secondary schools", denominator=9)
    set_statistic(t, "45%", subject="childcare")


def wrong_judgements(t: Tables) -> None:
    set_statistic(t, "45%", judgement="good")
    set_statistic(t, "over 70%", judgement=None)
    set_statistic(t, "Two serious case reviews", judgement="Good.")
    set_statistic(t, "one being satisfactory", judgement="good")


def wrong_segments(t: Tables) -> None:
    lid = letter_id_of(t, BROMLEY.file)
    for s in t["segments"]:
        if s["letter_id"] == lid and s["segment"] == "narrative":
            s["text"] = s["text"][:40]
        if s["letter_id"] == lid and s["segment"] == "closing":
            s["segment"] = "improvements"
    lid = letter_id_of(t, CUMBRIA.file)
    t["segments"] = [s for s in t["segments"] if not (s["letter_id"] == lid and s["segment"] == "header")]


def wrong_status(t: Tables) -> None:
    set_letter(t, FAILED_FILE, status="ok")
    set_letter(t, BROMLEY.file, status="needs_review")
    set_letter(t, WESTMINSTER.file, status="NEEDS_REVIEW ")


def code_as_float(t: Tables) -> None:
    set_letter(t, BROMLEY.file, authority_la_code="305.0")
    set_letter(t, WESTMINSTER.file, authority_la_code="213.00")
    set_letter(t, CUMBRIA.file, authority_la_code="0909")


def subjects_in_other_number(t: Tables) -> None:
    set_statistic(t, "three serious case reviews", subject="Serious Case Review")
    set_statistic(t, "two special schools", subject="the special school's")
    set_statistic(t, "almost 60%", subject="childminders & childcare")


def improvements_apart(t: Tables) -> None:
    """A 2010 letter's list of improvements as its own segment still counts as narrative."""
    lid = letter_id_of(t, CUMBRIA.file)
    for s in t["segments"]:
        if s["letter_id"] == lid and s["segment"] == "narrative":
            s["segment"] = "improvements"


def silent_wrong_value(t: Tables) -> None:
    """A wrong statistic in a letter marked ok is silent; the same in a needs_review letter is not."""
    set_statistic(t, "over 70%", value=71)
    set_letter(t, CUMBRIA.file, status="needs_review", rating_score=1)


def nothing_found(t: Tables) -> None:
    t["statistics"] = []
    t["letters"] = [r for r in t["letters"] if r["status"] == "failed"]


SCENARIOS: list[Callable[[Tables], None]] = [
    perfect, missing_letter, wrong_fields, extra_statistics, missing_statistics, wrong_judgements,
    wrong_segments, wrong_status, code_as_float, subjects_in_other_number, improvements_apart,
    silent_wrong_value, nothing_found,
]

needs_score_py = pytest.mark.skipif(not SCORE_PY.exists(), reason=f"reference scorer {SCORE_PY} is absent")


@needs_score_py
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
def test_same_metrics_as_score_py(tmp_path: Path, scenario: Callable[[Tables], None]) -> None:
    tables = sample_tables()
    scenario(tables)
    out = write_output(tmp_path / "out", tables)
    gold = write_gold(tmp_path / "gold")
    result = evaluate([gold], out)
    assert result.as_score_dict() == score_py_json([gold], out)
    if scenario not in (perfect, improvements_apart):
        assert result.disagreements


@needs_score_py
def test_perfect_output_scores_one(tmp_path: Path) -> None:
    out = write_output(tmp_path / "out")
    result = evaluate([write_gold(tmp_path / "gold")], out)
    assert result.summary_line() == "fields=1.000 status=1.000 stats_f1=1.000 judgement=1.000 segments=1.000 docs=4/4 silent=0/3 yield=2/2"
    assert result.disagreements == []


@needs_score_py
def test_csv_written_by_other_tools(tmp_path: Path) -> None:
    """Timestamps for dates, codes read as floats, missing optional tables: as score.py treats them."""
    out = write_output(tmp_path / "out", formats=("csv",))
    letters = pd.read_csv(out / "letters.csv", dtype=str, keep_default_na=False)
    letters["letter_date"] = letters["letter_date"].map(lambda d: f"{d}T00:00:00" if d else d)
    letters["authority_la_code"] = letters["authority_la_code"].map(lambda c: f"{c}.0" if c else c)
    letters.to_csv(out / "letters.csv", index=False)
    gold = write_gold(tmp_path / "gold")
    for missing in ["segments.csv", "statistics.csv"]:
        (out / missing).unlink()
        result = evaluate([gold], out)
        assert result.as_score_dict() == score_py_json([gold], out)
    assert result.per_field["letter_date"] == 1.0 and result.per_field["authority_la_code"] == 1.0
    assert result.stats_fn == 12 and result.segments == 0.0


@needs_score_py
def test_several_gold_dirs_and_the_shared_gold(tmp_path: Path) -> None:
    """Real gold files name the sample's first two letters; a later directory overrides an earlier one."""
    if not SHARED_GOLD.is_dir():
        pytest.skip(f"{SHARED_GOLD} is absent")
    tables = sample_tables()
    wrong_judgements(tables)
    out = write_output(tmp_path / "out", tables)
    mine = write_gold(tmp_path / "gold")
    for dirs in ([SHARED_GOLD], [mine, SHARED_GOLD], [SHARED_GOLD, mine]):
        assert evaluate(dirs, out).as_score_dict() == score_py_json(dirs, out)


@needs_score_py
def test_gold_file_with_a_folder_matches_the_end_of_source_path(tmp_path: Path) -> None:
    """Year-per-folder archives: 2009/x.txt and 2010/x.txt are two letters, each with its own gold file."""
    tables = sample_tables()
    row = next(r for r in tables["letters"] if r["source_path"].endswith(BROMLEY.file))
    row["source_path"] = f"archive/2009/{BROMLEY.file}"
    gold = sample_gold()
    for g in gold:
        if g["file"] == BROMLEY.file:
            g["file"] = f"2009/{BROMLEY.file}"
    out = write_output(tmp_path / "out", tables)
    gold_dir = write_gold(tmp_path / "gold", gold)
    result = evaluate([gold_dir], out)
    assert result.as_score_dict() == score_py_json([gold_dir], out)
    assert result.docs_found == 4 and not result.disagreements
    row["source_path"] = f"archive/2010/{BROMLEY.file}"
    out = write_output(tmp_path / "out2", tables)
    assert evaluate([gold_dir], out).docs_found == 3 == score_py_json([gold_dir], out)["docs_found"]


@needs_score_py
def test_summary_and_disagreements_print_like_score_py(tmp_path: Path) -> None:
    tables = sample_tables()
    for scenario in (wrong_fields, extra_statistics, wrong_segments):
        scenario(tables)
    out = write_output(tmp_path / "out", tables)
    gold = write_gold(tmp_path / "gold")
    result = evaluate([gold], out)
    printed = run_score_py([gold], out, "--verbose").stdout.splitlines()
    buffer = io.StringIO()
    render_evaluation(result, Console(file=buffer, width=60, color_system=None))
    rendered = buffer.getvalue().splitlines()
    assert rendered[-1] == printed[-1] == result.summary_line()
    assert [line for line in rendered if line.startswith("  - ")] == [line for line in printed if line.startswith("  - ")]


def test_parquet_only_folder_scores_as_csv(tmp_path: Path) -> None:
    tables = sample_tables()
    for scenario in (wrong_fields, extra_statistics, wrong_judgements, code_as_float):
        scenario(tables)
    gold = write_gold(tmp_path / "gold")
    from_csv = evaluate([gold], write_output(tmp_path / "csv", tables, formats=("csv",)))
    from_parquet = evaluate([gold], write_output(tmp_path / "parquet", tables, formats=("parquet",)))
    assert from_parquet == from_csv


def test_disagreement_records(tmp_path: Path) -> None:
    tables = sample_tables()
    for scenario in (wrong_fields, extra_statistics, missing_statistics, wrong_judgements, wrong_segments, wrong_status, missing_letter):
        scenario(tables)
    result = evaluate([write_gold(tmp_path / "gold")], write_output(tmp_path / "out", tables))
    kinds = {d.kind for d in result.disagreements}
    assert kinds == {"missing_letter", "field", "extra_statistic", "missed_statistic", "judgement", "segment", "status", "silent"}
    score = next(d for d in result.disagreements if d.field == "rating_score")
    assert (score.letter_file, score.expected, score.got) == (BROMLEY.file, 3, "2")
    assert score.letter_id == letter_id_of(tables, BROMLEY.file)
    missing = next(d for d in result.disagreements if d.kind == "missing_letter")
    assert missing.letter_file == WESTMINSTER.file and missing.letter_id is None
    distractor = next(d for d in result.disagreements if d.got == "Key Stage 2")
    assert distractor.message.endswith("(a distractor)")


def test_json_and_rendering(tmp_path: Path) -> None:
    tables = sample_tables()
    wrong_fields(tables)
    result = evaluate([write_gold(tmp_path / "gold")], write_output(tmp_path / "out", tables))
    path = write_evaluation_json(result, tmp_path / "eval" / "evaluation.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert {k: v for k, v in data.items() if k not in ("disagreement_records", "compared")} == result.as_score_dict()
    assert data["compared"] == {"fields": 39, "status": 4, "statistics": 12, "judgement": 12, "segments": 24}
    assert [r["message"] for r in data["disagreement_records"]] == data["disagreements"]
    buffer = io.StringIO()
    render_evaluation(result, Console(file=buffer, width=100, color_system=None))
    text = buffer.getvalue()
    assert "rating_score" in text and "0.667" in text
    assert text.splitlines()[-1] == result.summary_line()
    assert isinstance(result, EvaluationResult)


def test_missing_inputs_raise(tmp_path: Path) -> None:
    gold = write_gold(tmp_path / "gold")
    with pytest.raises(NotADataset):
        evaluate([gold], tmp_path / "nothing-here")
    with pytest.raises(UsageError, match="no gold files"):
        evaluate([tmp_path / "no-gold"], write_output(tmp_path / "out"))


@pytest.mark.parametrize("content, reason", [
    ('{"file": "a.txt", "fields": {', "not valid JSON"),
    ('["a.txt"]', 'no "file"'),
    ('{"file": "a.txt", "statistics": {}}', '"statistics" should be a JSON array'),
])
def test_malformed_gold_is_a_data_error_naming_the_file(tmp_path: Path, content: str, reason: str) -> None:
    gold = tmp_path / "gold"
    gold.mkdir()
    (gold / "broken.json").write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=reason) as caught:
        evaluate([gold], write_output(tmp_path / "out"))
    assert "broken.json" in caught.value.message


@pytest.mark.parametrize("content, reason", [
    ('{"file": "000_fab9377e44d3ba9b.txt"}', 'lacks "status" and "fields"'),
    ('{"file": "000_fab9377e44d3ba9b.txt", "status": "ok"}', 'lacks "fields"'),
    ('{"file": "000_fab9377e44d3ba9b.txt", "fields": {}, "status": 3}', '"status" should be a string'),
])
def test_gold_without_status_or_fields_is_a_data_error(tmp_path: Path, content: str, reason: str) -> None:
    """Such a file has nothing to compare but the status it lacks, which would score 1.000."""
    gold = tmp_path / "gold"
    gold.mkdir()
    (gold / "thin.json").write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=reason):
        evaluate([gold], write_output(tmp_path / "out"))


def test_no_gold_file_matching_a_letter_is_a_data_error(tmp_path: Path) -> None:
    gold = sample_gold()
    for g in gold:
        g["file"] = "2011/" + g["file"]
    with pytest.raises(DataError, match=r"none of the 4 gold files matches a letter in .*2011/000_fab9377e44d3ba9b.txt"):
        evaluate([write_gold(tmp_path / "gold", gold)], write_output(tmp_path / "out"))


@needs_score_py
def test_a_measure_with_nothing_to_compare_is_n_a(tmp_path: Path) -> None:
    """Gold as review writes it has no segments_contain: segments is n/a, not 0.000; every figure
    that was measured is score.py's."""
    gold = sample_gold()
    for g in gold:
        g.pop("segments_contain", None)
        for s in g.get("statistics", []):
            s.pop("judgement", None)
    gold_dir = write_gold(tmp_path / "gold", gold)
    out = write_output(tmp_path / "out")
    result = evaluate([gold_dir], out)
    reference = score_py_json([gold_dir], out)
    assert result.as_score_dict() == reference and reference["segments"] == 0.0 == reference["judgement"]
    assert result.summary_line() == "fields=1.000 status=1.000 stats_f1=1.000 judgement=n/a segments=n/a docs=4/4 silent=0/3 yield=2/2"
    data = evaluation_json(result)
    assert data["segments"] is None and data["judgement"] is None and data["compared"]["segments"] == 0
    assert {k: v for k, v in data.items() if k not in ("segments", "judgement", "compared", "disagreement_records")} == \
        {k: v for k, v in reference.items() if k not in ("segments", "judgement")}
    printed = run_score_py([gold_dir], out).stdout.splitlines()[-1]
    assert printed == result.summary_line().replace("n/a", "0.000")
