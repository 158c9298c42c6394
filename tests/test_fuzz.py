"""The fuzzer's invariants (tests/fuzz.py): every input gets its rows, and a file read as several letters
(a bundle, or a damaged file repeating its body) gets one row per part, numbered 1..parts."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import fuzz


def run_output(tmp_path: Path, rows: list[tuple[str, str, str]]) -> tuple[Path, Path]:
    """Inputs a.txt and b.txt, and a run's tables holding rows of (file, part, parts)."""
    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    out.mkdir()
    for name in ("a.txt", "b.txt"):
        (inputs / name).write_text("letter", encoding="utf-8")
    letters = pd.DataFrame([{"letter_id": f"id{i}", "source_path": str(inputs / f), "part": p, "parts": n, "status": "needs_review"}
                            for i, (f, p, n) in enumerate(rows)])
    letters.to_csv(out / "letters.csv", index=False)
    pd.DataFrame(columns=["letter_id", "error", "message"]).to_csv(out / "errors.csv", index=False)
    return inputs, out


def problems(tmp_path: Path, rows: list[tuple[str, str, str]]) -> list[str]:
    inputs, out = run_output(tmp_path, rows)
    return [p for p in fuzz.run_problems(inputs, out, 0, "", 100.0, 1.0, 60.0) if "rows" in p]


def test_a_file_read_as_several_letters_has_one_row_per_part(tmp_path):
    assert problems(tmp_path, [("a.txt", "", ""), ("b.txt", "1", "3"), ("b.txt", "2", "3"), ("b.txt", "3", "3")]) == []


@pytest.mark.parametrize("rows, problem", [
    ([("a.txt", "", "")], "rows for 1 of 2 inputs"),
    ([("a.txt", "", ""), ("b.txt", "1", "2"), ("b.txt", "1", "2")], "b.txt: 2 rows that are not its parts 1..2"),
    ([("a.txt", "", ""), ("b.txt", "1", "3"), ("b.txt", "2", "3")], "b.txt: 2 rows that are not its parts 1..2"),
])
def test_a_lost_input_or_rows_that_are_not_its_parts_break_an_invariant(tmp_path, rows, problem):
    assert problem in problems(tmp_path, rows)
