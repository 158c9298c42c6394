"""Accuracy benchmark: `make accuracy` (or `python benchmarks/accuracy.py`).

Runs `ingest` and `evaluate` on every set of letters with gold answers that is at hand and prints
one line of figures per set, `silent` included (documents marked `ok` that still hold a wrong
value: it must be 0):
- the real seed letters (corpus/, gold in ../shared/gold),
- ../shared/dev-set, letters written and printed by others (when present beside the repository),
- generated corpora (tests/fixtures/generate.py, scans included) for each --seed,
- generated bundles, files holding several letters (tests/fixtures/bundles.py: text, text PDF, a scan).
- the shapes around letters (tests/fixtures/wrappers.py: e-mail and fax wrappers, side columns, encodings).
- generated scans turned on the glass and photographed on a desk (tests/fixtures/scans.py), --scans letters.
Writes .bench/accuracy.json.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from pipeline.evaluate import EvaluationResult, evaluate, find_letter_row, load_gold, normalise, statistic_matches  # noqa: E402
from pipeline.ingest import ingest  # noqa: E402
from tests.fixtures.generate import generate_corpus  # noqa: E402
from tests.fixtures.scans import generate_scans  # noqa: E402
from tests.fixtures.wrappers import generate_shapes  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
from fixtures.bundles import main as bundles_main  # noqa: E402


def measure(name: str, letters: Path, gold: Path, work: Path, workers: int) -> tuple[str, EvaluationResult, dict]:
    out = work / name.replace(" ", "-")
    ingest([letters], out, workers=workers)
    return name, evaluate([gold], out), readings(gold, out)


def readings(gold_dir: Path, out: Path) -> dict:
    """How often each reading alone is right, over the gold statistics the output found (value, base and
    subject matched): the finder's judgement, and the parse's subject and judgement where it gives one;
    and how the statistics were vouched for (confirmed by both, one reading, disputed)."""
    import pandas as pd

    letters = pd.read_csv(out / "letters.csv", dtype=str, keep_default_na=False)
    stats = pd.read_csv(out / "statistics.csv", dtype=str, keep_default_na=False)
    records = letters.to_dict("records")
    by_file = {Path(r["source_path"]).name: r for r in records}
    counts = dict.fromkeys(("matched", "finder_right", "parse_spoke", "parse_right", "confirmed", "confirmed_wrong",
                            "one_reading", "disputed", "disputed_finder_wrong"), 0)
    for g in load_gold([gold_dir]).values():
        row = find_letter_row(records, by_file, g["file"], g.get("part"))
        if row is None:
            continue
        preds = stats[stats["letter_id"] == row["letter_id"]].to_dict("records")
        for gs in g.get("statistics", []):
            p = next((p for p in preds if statistic_matches(gs, p)), None)
            if p is None or "judgement" not in gs:
                continue
            counts["matched"] += 1
            finder_right = normalise(p.get("judgement")) == normalise(gs["judgement"])
            counts["finder_right"] += finder_right
            if p.get("parse_judgement"):
                counts["parse_spoke"] += 1
                keyword = normalise(gs.get("subject_keyword")).rstrip("s")
                counts["parse_right"] += keyword in normalise(p.get("parse_subject")) and normalise(p["parse_judgement"]) == normalise(gs["judgement"])
            agreement = p.get("agreement") or "one_reading"
            counts[agreement] += 1
            counts["confirmed_wrong"] += agreement == "confirmed" and not finder_right
            counts["disputed_finder_wrong"] += agreement == "disputed" and not finder_right
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="5,11,12", help="seeds of the generated corpora (comma-separated)")
    ap.add_argument("--count", type=int, default=40, help="letters per generated corpus")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--bundle-letters", type=int, default=6, help="letters in each generated bundle")
    ap.add_argument("--scans", type=int, default=3, help="letters scanned turned and photographed (two documents each); 0 = none")
    args = ap.parse_args(argv)
    results: list[tuple[str, EvaluationResult, dict]] = []
    with tempfile.TemporaryDirectory(prefix="accuracy-") as tmp:
        work = Path(tmp)
        if (SHARED / "gold").is_dir():
            seeds = SHARED / "seeds" if (SHARED / "seeds").is_dir() else ROOT / "corpus"
            results.append(measure("seeds", seeds, SHARED / "gold", work, args.workers))
        if (SHARED / "dev-set" / "gold").is_dir():
            results.append(measure("dev-set", SHARED / "dev-set" / "docs", SHARED / "dev-set" / "gold", work, args.workers))
        for seed in [int(s) for s in args.seeds.split(",") if s]:
            corpus = work / f"generated-{seed}"
            generate_corpus(corpus, count=args.count, seed=seed)
            results.append(measure(f"generated seed {seed}", corpus / "letters", corpus / "gold", work, args.workers))
        bundles = work / "bundles"
        bundles_main([str(bundles), "--letters", str(args.bundle_letters)])
        results.append(measure("generated bundles", bundles / "letters", bundles / "gold", work, args.workers))
        generate_shapes(work / "shapes", seed=0)
        results.append(measure("wrappers, side columns, encodings", work / "shapes" / "letters", work / "shapes" / "gold", work, args.workers))
        if args.scans:
            generate_scans(work / "scans", seed=5, count=args.scans)
            results.append(measure("generated scans, turned and photographed", work / "scans" / "letters", work / "scans" / "gold", work, args.workers))
    table = Table(title="Accuracy against gold files (ofsted-letters evaluate)")
    for column in ("letters", "docs", "fields", "status", "statistics F1", "judgement", "segments", "silent", "yield"):
        table.add_column(column, justify="left" if column == "letters" else "right")
    for name, r, _ in results:
        table.add_row(name, str(r.docs_gold), f"{r.fields:.3f}", f"{r.status:.3f}", f"{r.stats_f1:.3f}", f"{r.judgement:.3f}",
                      f"{r.segments:.3f}", f"{r.silent_docs}/{r.ok_docs}", f"{r.yield_docs}/{r.gold_ok_docs}",
                      style="red" if r.silent_docs else None)
    console = Console(width=150)
    console.print(table)
    two = Table(title="Two readings of the statistics found (gold statistics with a judgement)")
    for column in ("letters", "found", "finder right", "parse gives a judgement", "parse right (of those)", "confirmed",
                   "confirmed but wrong", "one reading", "disputed", "disputed, finder wrong"):
        two.add_column(column, justify="left" if column == "letters" else "right")
    for name, _, c in results:
        two.add_row(name, *(str(c[k]) for k in ("matched", "finder_right", "parse_spoke", "parse_right", "confirmed",
                                                "confirmed_wrong", "one_reading", "disputed", "disputed_finder_wrong")))
    console.print(two)
    for name, r, _ in results:
        console.print(f"{name}: {r.summary_line()}", markup=False, highlight=False, soft_wrap=True)
    report = {name: {**{k: v for k, v in r.as_score_dict().items() if k != "disagreements"}, "readings": c} for name, r, c in results}
    (ROOT / ".bench").mkdir(exist_ok=True)
    (ROOT / ".bench" / "accuracy.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 1 if any(r.silent_docs for _, r, _ in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
