"""Fuzz the run: damage generated letters at random, ingest them, check the run's invariants; repeat.

    python tests/fuzz.py --minutes 5 [--seed S] [--per-round 16] [--workers 2] [--failures DIR]
    make fuzz MINUTES=5

Each round writes --per-round files, each a generated letter (text-layer PDF or text) damaged by
one of tests/fixtures/hostile.py's mutations (bit flips, truncation, deleted, inserted or repeated
blocks, junk before the header, zeroed blocks, a broken cross-reference table), runs `ofsted-letters
ingest` on them in a subprocess and checks: exit code 0; no traceback; one row per input with a
unique letter_id and a known status; every failed row has an error kind and message in the errors
table; peak memory of every process under 500 MB; the run within its time bound; no staging or
scratch folder left. A round that breaks one is copied to --failures with what went wrong, and
the exit code is 1. Everything is a function of --seed, so a failure can be made again.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pandas as pd  # noqa: E402

from fixtures import hostile  # noqa: E402

STATUSES = {"ok", "needs_review", "failed", "not_rating_letter"}
PEAK_MEMORY_MB = 500


def base_letters(seed: int) -> list[tuple[str, bytes]]:
    """The undamaged letters mutations start from: text-layer PDFs and text files."""
    return [*((f"letter_{i}.pdf", hostile.letter_pdf(seed * 10 + i)) for i in range(4)),
            *((f"letter_{i}.txt", hostile.letter_text(seed * 10 + i)) for i in range(2))]


def run_problems(folder: Path, out: Path, returncode: int, stderr: str, peak_mb: float, seconds: float, bound: float) -> list[str]:
    """Every invariant the run broke, in words (empty when it kept them all)."""
    problems = []
    if returncode != 0:
        problems.append(f"exit code {returncode}")
    if "Traceback" in stderr:
        problems.append("a traceback on stderr")
    if peak_mb >= PEAK_MEMORY_MB:
        problems.append(f"peak memory {peak_mb:.0f} MB")
    if seconds >= bound:
        problems.append(f"the run took {seconds:.0f} s (bound {bound:.0f} s)")
    if list(out.glob(".parts-*")) or (out / ".scratch").exists():
        problems.append("a staging or scratch folder was left behind")
    if not (out / "letters.csv").exists():
        return problems + ["no letters table"]
    letters = pd.read_csv(out / "letters.csv", dtype=str, keep_default_na=False)
    errors = pd.read_csv(out / "errors.csv", dtype=str, keep_default_na=False)
    inputs = sorted(p.name for p in folder.iterdir())
    names = letters["source_path"].map(lambda p: Path(p).name)
    if sorted(set(names)) != inputs or len(set(names)) != len(inputs):
        problems.append(f"rows for {names.nunique()} of {len(inputs)} inputs")
    # a file read as several letters (a bundle; a damaged file repeating its body) has one row per part, 1..parts
    for name, rows in letters.groupby(names):
        if len(rows) > 1 and (sorted(rows["part"]) != sorted(str(k) for k in range(1, len(rows) + 1))
                              or set(rows["parts"]) != {str(len(rows))}):
            problems.append(f"{name}: {len(rows)} rows that are not its parts 1..{len(rows)}")
    if not letters["letter_id"].is_unique:
        problems.append("letter_ids repeat")
    unknown = set(letters["status"]) - STATUSES
    if unknown:
        problems.append(f"unknown status {sorted(unknown)}")
    for row in letters[letters["status"] == "failed"].itertuples():
        mine = errors[errors["letter_id"] == row.letter_id]
        if mine.empty or (mine["error"] == "").any() or (mine["message"].str.len() < 10).any():
            problems.append(f"{Path(row.source_path).name}: failed without an error kind and message")
    return problems


def fuzz(minutes: float, seed: int, per_round: int, workers: int, failures: Path) -> int:
    rng = random.Random(f"fuzz:{seed}")
    bases = base_letters(seed)
    stop = time.monotonic() + minutes * 60
    rounds = broken = 0
    statuses: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="ofsted-fuzz-") as scratch:
        while time.monotonic() < stop:
            folder, out = Path(scratch) / f"round{rounds}", Path(scratch) / f"out{rounds}"
            folder.mkdir()
            made = {}
            for k in range(per_round):
                name, data = rng.choice(bases)
                damaged, how = hostile.mutate(data, rng)
                target = f"{k:03d}_{how}_{name}"
                (folder / target).write_bytes(damaged)
                made[target] = how
            args = [sys.executable, "-m", "pipeline.cli", "ingest", str(folder), "--out", str(out), "--workers", str(workers), "--quiet"]
            bound = 300.0
            try:
                result, peak_mb, seconds = hostile.run_measured(args, timeout=bound + 60)
                problems = run_problems(folder, out, result.returncode, result.stderr, peak_mb, seconds, bound)
                stderr = result.stderr
            except Exception as exc:  # a hang past the timeout, or the probe itself failing
                problems, stderr, peak_mb, seconds = [f"the run did not finish: {exc}"], "", 0.0, bound
            if (out / "letters.csv").exists():
                for status in pd.read_csv(out / "letters.csv", dtype=str)["status"]:
                    statuses[status] = statuses.get(status, 0) + 1
            print(f"round {rounds}: {per_round} files, {seconds:.1f} s, peak {peak_mb:.0f} MB" + (f"  BROKEN: {'; '.join(problems)}" if problems else ""), flush=True)
            if problems:
                broken += 1
                keep = failures / f"seed{seed}-round{rounds}"
                shutil.copytree(folder, keep / "inputs", dirs_exist_ok=True)
                (keep / "report.json").write_text(json.dumps({"problems": problems, "mutations": made, "stderr": stderr[-4000:]}, indent=2) + "\n")
            shutil.rmtree(folder, ignore_errors=True)
            shutil.rmtree(out, ignore_errors=True)
            rounds += 1
    print(f"{rounds} rounds, {rounds * per_round} damaged files, statuses {dict(sorted(statuses.items()))}; "
          + (f"{broken} rounds broke an invariant: see {failures}" if broken else "every invariant held"))
    return 1 if broken else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=5.0, help="how long to go on (default 5)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-round", type=int, default=16, help="damaged files per run (default 16)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--failures", type=Path, default=Path("fuzz-failures"), help="where rounds that break an invariant are kept")
    args = ap.parse_args(argv)
    return fuzz(args.minutes, args.seed, args.per_round, args.workers, args.failures)


if __name__ == "__main__":
    raise SystemExit(main())
