"""Review letters at the keyboard and save what a person checked as gold files.

Corrections never touch the extracted dataset: they live in one gold JSON per letter (the
format `evaluate` and ../shared/tools/score.py read), so the extractor can be measured against them.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Callable

from rich.console import Console

from pipeline.records import LETTER_FIELDS
from pipeline.show import LetterView, read_dataset, show_letter, view_from_dataset

GOLD_FIELDS = [f for f in LETTER_FIELDS if f != "salutation"]
INTEGER_FIELDS = {"rating_year", "rating_score"}
HELP = "[a]ccept and save  [f]ix a field  [+] add statistic  [-] remove statistic  [s]kip  [q]uit"


def gold_path(gold_dir: Path, view: LetterView) -> Path:
    return gold_dir / f"{Path(str(view.letter['source_path'])).stem}.json"


def _number(value: object) -> int | float | None:
    if value is None or value == "":
        return None
    number = float(value)  # type: ignore[arg-type]
    return int(number) if number.is_integer() else number


def gold_from_view(view: LetterView, scale: list[dict] | None = None) -> dict:
    """A gold record that says exactly what the extractor said, for a person to correct."""
    fields = {}
    for name in GOLD_FIELDS:
        value = view.letter.get(name)
        if value is None:
            continue
        fields[name] = _number(value) if name in INTEGER_FIELDS else str(value)[:10] if name == "letter_date" else str(value)
    return {
        "file": Path(str(view.letter["source_path"])).name,
        "status": view.letter["status"],
        "fields": fields,
        "scale": [[int(r["score"]), r["label"], r["description"]] for r in (scale or [])],
        "statistics": [
            {
                "text": s["text"], "kind": s["kind"], "value": _number(s["value"]), "denominator": _number(s.get("denominator")),
                **({"qualifier": s["qualifier"]} if s.get("qualifier") else {}),
                "subject_keyword": s.get("subject") or "", "judgement": s.get("judgement") or "",
            }
            for s in view.statistics
        ],
    }


def save_gold(path: Path, gold: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(gold, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def review_order(out_dir: Path) -> list[str]:
    """letter_ids to review: needs_review first, then the rest, each in source order."""
    letters = read_dataset(out_dir)["letters"]
    rank = {"needs_review": 0, "ok": 1, "not_rating_letter": 2, "failed": 3}
    ordered = sorted(letters.to_dict("records"), key=lambda r: (rank.get(r["status"], 4), str(r["source_path"])))
    return [str(r["letter_id"]) for r in ordered]


def _fix_field(gold: dict, ask: Callable[[str], str]) -> None:
    name = ask(f"field ({', '.join(GOLD_FIELDS + ['status'])})").strip()
    if name == "status":
        gold["status"] = ask("status (ok, needs_review, failed, not_rating_letter)").strip()
        return
    if name not in GOLD_FIELDS:
        return
    value = ask(f"correct value of {name} (empty: the letter has none)").strip()
    if not value:
        gold["fields"].pop(name, None)
    else:
        gold["fields"][name] = int(value) if name in INTEGER_FIELDS else value


def _add_statistic(gold: dict, ask: Callable[[str], str]) -> None:
    text = ask("text as written").strip()
    kind = ask("kind (percentage/count)").strip() or "count"
    value = _number(ask("value").strip())
    denominator = _number(ask("denominator (empty: none)").strip())
    subject = ask("subject keyword (e.g. special school)").strip()
    judgement = ask("judgement (e.g. good or outstanding)").strip()
    if value is None:
        return
    gold["statistics"].append({"text": text, "kind": kind, "value": value, "denominator": denominator, "subject_keyword": subject, "judgement": judgement})


def _remove_statistic(gold: dict, ask: Callable[[str], str], console: Console) -> None:
    for i, s in enumerate(gold["statistics"]):
        den = f"/{s['denominator']}" if s["denominator"] is not None else ""
        console.print(f"  {i}: {s['text']!r} {s['value']}{den} {s['subject_keyword']} | {s['judgement']}", markup=False)
    choice = ask("number of the statistic to remove").strip()
    if choice.isdigit() and int(choice) < len(gold["statistics"]):
        gold["statistics"].pop(int(choice))


def review(out_dir: Path, gold_dir: Path, console: Console, ask: Callable[[str], str], redo: bool = False) -> dict[str, int]:
    """Walk the letters; returns counts of saved, skipped and already-reviewed letters. Resumable."""
    tables = read_dataset(out_dir)
    counts = {"saved": 0, "skipped": 0, "already_reviewed": 0}
    for letter_id in review_order(out_dir):
        view = view_from_dataset(tables, letter_id)
        target = gold_path(gold_dir, view)
        if target.exists() and not redo:
            counts["already_reviewed"] += 1
            continue
        scale = []
        if "scale" in tables:
            frame = tables["scale"]
            scale = frame[frame["letter_id"] == letter_id].to_dict("records")
        gold = gold_from_view(view, scale)
        show_letter(view, console)
        while True:
            console.print(HELP)
            action = ask("action").strip().lower()[:1]
            if action == "a":
                gold["reviewed_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
                save_gold(target, gold)
                console.print(f"saved {target}")
                counts["saved"] += 1
                break
            if action == "f":
                _fix_field(gold, ask)
            elif action == "+":
                _add_statistic(gold, ask)
            elif action == "-":
                _remove_statistic(gold, ask, console)
            elif action == "s":
                counts["skipped"] += 1
                break
            elif action in ("q", ""):
                return counts
    return counts
