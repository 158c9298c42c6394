"""Review letters at the keyboard and save what a person checked as gold files.

Corrections never touch the extracted dataset: they live in one gold JSON per letter (the
format `evaluate` and ../shared/tools/score.py read), so the extractor can be measured against them.
A gold file is named by the letter_id, and its "file" is the letter's path below the folder given
to `ingest`, so 2009/bromley.txt and 2010/bromley.txt get a gold file each.
"""
from __future__ import annotations

import datetime as dt
import glob
import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Callable, Iterable

import pandas as pd
from rich.console import Console
from rich.text import Text

from pipeline.config import patterns
from pipeline.dataset import read_table
from pipeline.errors import PipelineError
from pipeline.evaluate import find_letter_row, read_gold_file
from pipeline.gazetteer import load_authorities
from pipeline.records import LETTER_FIELDS, STATUSES
from pipeline.rows import part_phrase
from pipeline.schema import column
from pipeline.show import LetterView, read_dataset, show_letter, view_from_dataset

GOLD_FIELDS = [f for f in LETTER_FIELDS if f != "salutation"]
INTEGER_FIELDS = {"rating_year", "rating_score"}
ACTIONS = {
    "a": "accept and save",
    "f": "fix a field",
    "e": "edit a statistic",
    "+": "add a statistic",
    "-": "remove a statistic",
    "s": "skip",
    "q": "quit",
}
MENU = "  ".join(f"[{key}] {what}" for key, what in ACTIONS.items())
KEEP = "Enter keeps it"
CLEAR = "none"  # typed for a value: the letter has none

Ask = Callable[[str], str]


class EndOfInput(Exception):
    """The keyboard input ended (Ctrl-D, or a closed pipe): the session stops as if on quit."""


@dataclass
class ReviewCounts:
    saved: int = 0
    skipped: int = 0
    already_reviewed: int = 0
    quit: bool = False

    def summary(self) -> str:
        return f"saved {self.saved}, skipped {self.skipped}, already reviewed {self.already_reviewed}" + (" (quit)" if self.quit else "")


def terminal_ask(console: Console) -> Ask:
    """Read one line from the keyboard; the question is printed as plain text, never as markup."""

    def ask(question: str) -> str:
        try:
            return console.input(Text(f"{question}: "))
        except EOFError as exc:
            raise EndOfInput() from exc

    return ask


class Prompter:
    """Asks again, saying why, until the answer is one the gold format accepts."""

    def __init__(self, ask: Ask, console: Console) -> None:
        self.ask = ask
        self.console = console

    def say(self, message: str) -> None:
        self.console.print(message, markup=False, highlight=False, soft_wrap=True)

    def until(self, question: str, parse: Callable[[str], object]) -> object:
        """parse returns the value or raises ValueError with the reason to ask again."""
        while True:
            answer = self.ask(question).strip()
            try:
                return parse(answer)
            except ValueError as exc:
                self.say(f"  {exc}; try again")

    def choice(self, question: str, choices: Iterable[str], current: str | None = None) -> str:
        """One of choices (a unique beginning is enough); with a current value, Enter keeps it."""
        options = list(choices)

        def parse(answer: str) -> str:
            if not answer and current is not None:
                return current
            starting = [o for o in options if o.startswith(answer)] if answer else []
            if answer in options or len(starting) == 1:  # a unique beginning is enough
                return answer if answer in options else starting[0]
            raise ValueError(f"{answer!r} is not one of {', '.join(options)}" if answer else f"type one of {', '.join(options)}")

        keep = f"; now {current!r}, {KEEP}" if current is not None else ""
        return self.until(f"{question} ({', '.join(options)}{keep})", parse)  # type: ignore[return-value]

    def value(self, question: str, current: object, parse: Callable[[str], object], optional: bool = True) -> object:
        """A new value, the current one on a bare Enter, or None on `none` when optional."""
        clear = f", '{CLEAR}' if the letter has none" if optional else ""
        hint = f"now {current!r}; {KEEP}{clear}" if current is not None else ("Enter or 'none' if the letter has none" if optional else "required")

        def checked(answer: str) -> object:
            if answer == "":
                if current is None and not optional:
                    raise ValueError("a value is needed")
                return current
            if answer.casefold() == CLEAR and optional:
                return None
            return parse(answer)

        return self.until(f"{question} ({hint})", checked)


def number(text: str) -> int | float:
    """A count or percentage as gold stores it: 3, not 3.0."""
    try:
        value = float(text.rstrip("%").replace(",", ""))
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    return int(value) if value.is_integer() else value


def _optional_number(value: object) -> int | float | None:
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return None
    return number(str(value))


def _field_parser(name: str) -> Callable[[str], object]:
    """How a typed value of each letters field is checked: against the gazetteer, the rating
    scale and the formats of dates and codes, so a typo cannot become gold."""
    authorities = load_authorities()
    by_name = {a.name.casefold(): a.name for a in authorities}
    labels = {label.casefold(): label for label in patterns()["scale"]["labels"]}

    def one_of(known: dict[str, str], what: str) -> Callable[[str], str]:
        def parse(text: str) -> str:
            if text.casefold() in known:
                return known[text.casefold()]
            raise ValueError(f"{text!r} is not {what}")
        return parse

    def integer(low: int, high: int) -> Callable[[str], int]:
        def parse(text: str) -> int:
            if not text.isdigit() or not low <= int(text) <= high:
                raise ValueError(f"{text!r} is not a whole number from {low} to {high}")
            return int(text)
        return parse

    def date(text: str) -> str:
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError(f"{text!r} is not a date written YYYY-MM-DD") from None

    special: dict[str, Callable[[str], object]] = {
        "authority_name": one_of(by_name, "an authority's DfE short name (e.g. Bromley)"),
        "authority_la_code": one_of({a.la_code: a.la_code for a in authorities}, "a DfE local authority code (e.g. 305)"),
        "authority_gss_code": one_of({a.gss_code.casefold(): a.gss_code for a in authorities}, "an authority's GSS code (e.g. E09000006)"),
        "letter_date": date,
        "rating_year": integer(1990, 2100),
        "rating_score": integer(1, 4),
        "rating_label": one_of(labels, f"a label of the scale ({', '.join(labels.values())})"),
    }
    return special.get(name, lambda text: text)


def gold_file_names(letters: pd.DataFrame, inputs: list[str]) -> dict[str, str]:
    """Each letter's gold "file": its path below the input folder given to ingest (its name, for a
    file given by itself), lengthened by parent folders while another letter's path ends the same."""
    paths = {str(r["letter_id"]): PurePath(str(r["source_path"]).replace("\\", "/")) for r in letters.to_dict("records")}
    folders = [PurePath(p.replace("\\", "/")) for p in inputs]
    tails = [tuple(p.parts) for p in set(paths.values())]  # a file holding several letters counts once
    names: dict[str, str] = {}
    for letter_id, path in paths.items():
        below = [len(path.relative_to(f).parts) for f in folders if path.is_relative_to(f) and path != f]
        n = min(below) if below else 1
        while n < len(path.parts) and sum(t[-n:] == path.parts[-n:] for t in tails) > 1:
            n += 1
        names[letter_id] = "/".join(path.parts[-n:]).lstrip("/")
    return names


def _run_inputs(out_dir: Path) -> list[str]:
    run = Path(out_dir) / "run.json"
    try:
        return [str(p) for p in json.loads(run.read_text(encoding="utf-8")).get("inputs", [])]
    except (OSError, ValueError):  # a dataset written by another tool: names are made unique all the same
        return []


def reviewed_letters(gold_dir: Path, letters: pd.DataFrame) -> dict[str, Path]:
    """letter_id -> the gold file that already describes it (by its "letter_id", else by its "file")."""
    records = letters.to_dict("records")
    by_file = {os.path.basename(str(r["source_path"])): r for r in records}
    ids = {str(r["letter_id"]) for r in records}
    found: dict[str, Path] = {}
    for name in sorted(glob.glob(os.path.join(str(gold_dir), "*.json"))):
        gold = read_gold_file(Path(name))
        letter_id = gold.get("letter_id")
        if letter_id not in ids:
            row = find_letter_row(records, by_file, gold["file"], gold.get("part"))
            letter_id = None if row is None else str(row["letter_id"])
        if letter_id is not None:
            found[letter_id] = Path(name)
    return found


def gold_from_view(view: LetterView, scale: list[dict] | None = None, file: str | None = None) -> dict:
    """A gold record that says exactly what the extractor said, for a person to correct."""
    fields = {}
    for name in GOLD_FIELDS:
        value = view.letter.get(name)
        if value is None:
            continue
        fields[name] = _optional_number(value) if name in INTEGER_FIELDS else str(value)[:10] if name == "letter_date" else str(value)
    parts = _optional_number(view.letter.get("parts"))
    return {
        "file": file or Path(str(view.letter["source_path"])).name,
        # which letter of a file holding several (evaluate and review find it by file and part)
        **({"part": _optional_number(view.letter.get("part"))} if parts is not None and parts > 1 else {}),
        "letter_id": view.letter["letter_id"],
        "status": view.letter["status"],
        "fields": fields,
        "scale": [[int(r["score"]), r["label"], r["description"]] for r in (scale or [])],
        "statistics": [
            {
                "text": s["text"], "kind": s["kind"], "value": _optional_number(s["value"]), "denominator": _optional_number(s.get("denominator")),
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


def check_writable(gold_dir: Path) -> None:
    """Make the gold folder if missing and check a file can be written in it, so that a folder
    review cannot write to stops it before the first letter, not after the person corrected it."""
    try:
        gold_dir.mkdir(parents=True, exist_ok=True)
        probe = gold_dir / f".review-{os.getpid()}.tmp"
        probe.write_text("", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        raise PipelineError(f"cannot write gold files in {gold_dir}: {exc.strerror or exc}",
                            "give --gold a folder you may write to") from exc


def review_order(letters: pd.DataFrame) -> list[str]:
    """letter_ids to review: needs_review (on either side, fields or statistics) first, then the rest, each in source order."""
    rank = {status: i for i, status in enumerate(("needs_review", "ok", "not_rating_letter", "failed"))}

    def key(r: dict) -> tuple:
        status = "needs_review" if r["status"] == "ok" and r.get("statistics_status") == "needs_review" else r["status"]
        return rank.get(status, len(rank)), str(r["source_path"])

    ordered = sorted(letters.to_dict("records"), key=key)
    return [str(r["letter_id"]) for r in ordered]


def describe_statistic(i: int, s: dict) -> str:
    den = f"/{s['denominator']}" if s.get("denominator") is not None else ""
    qualifier = f" ({s['qualifier']})" if s.get("qualifier") else ""
    return f"  {i}: {s['text']!r} {s['kind']} {s['value']}{den}{qualifier} | {s.get('subject_keyword') or '?'} | {s.get('judgement') or '?'}"


def _statistic_index(gold: dict, ask: Prompter, verb: str) -> int | None:
    statistics = gold["statistics"]
    if not statistics:
        ask.say("  this letter has no statistics")
        return None
    for i, s in enumerate(statistics):
        ask.say(describe_statistic(i, s))

    def parse(answer: str) -> int | None:
        if answer == "":
            return None
        if answer.isdigit() and int(answer) < len(statistics):
            return int(answer)
        raise ValueError(f"{answer!r} is not a number from 0 to {len(statistics) - 1}")

    return ask.until(f"number of the statistic to {verb} (Enter: none)", parse)  # type: ignore[return-value]


def _squeeze(text: str) -> str:
    return " ".join(text.split())


def in_letter(text: str, letter_text: str) -> bool:
    """Whether a statistic's text stands in the letter as written (line breaks and runs of spaces
    count as one space)."""
    return bool(text) and _squeeze(text) in _squeeze(letter_text)


def _statistic(ask: Prompter, current: dict, letter_text: str) -> dict:
    """A statistic's attributes, each prompted with its current value kept on Enter; its text must
    stand in the letter, since evaluate and a reader look it up there."""
    kinds = column("statistics", "kind").enum

    def kind(text: str) -> str:
        if text in kinds:
            return text
        raise ValueError(f"{text!r} is not one of {', '.join(kinds)}")

    def text(value: str) -> str:
        return value

    def as_written(value: str) -> str:
        if not in_letter(value, letter_text):
            raise ValueError(f"{value!r} is not in the letter (type the statistic exactly as the letter writes it)")
        return value

    out = {
        "text": ask.value("text as written", current.get("text"), as_written, optional=False),
        "kind": ask.value(f"kind ({', '.join(kinds)})", current.get("kind"), kind, optional=False),
        "value": ask.value("value", current.get("value"), number, optional=False),
        "denominator": ask.value("denominator", current.get("denominator"), number),
    }
    qualifier = ask.value("qualifier (e.g. over, almost, all)", current.get("qualifier"), text)
    if qualifier:
        out["qualifier"] = qualifier
    out["subject_keyword"] = ask.value("subject keyword (e.g. special school)", current.get("subject_keyword") or None, text) or ""
    out["judgement"] = ask.value("judgement (e.g. good or outstanding)", current.get("judgement") or None, text) or ""
    return out


def scale_labels() -> dict[int, str]:
    """The four-point scale: score -> label (pipeline/data/patterns.toml)."""
    scale = patterns()["scale"]
    return dict(zip(scale["scores"], scale["labels"]))


def gold_problems(gold: dict, letter_text: str) -> list[str]:
    """Why a gold record cannot be saved as it stands: a rating label that does not go with its
    score, a statistic whose text is not in the letter."""
    problems = []
    labels = scale_labels()
    score, label = gold["fields"].get("rating_score"), gold["fields"].get("rating_label")
    if score is not None and label is not None and labels.get(score, "").casefold() != str(label).casefold():
        right = f" (the scale: {score} = {labels[score]})" if score in labels else ""
        problems.append(f"rating_label {label!r} does not go with rating_score {score}{right}: fix one of them")
    for i, s in enumerate(gold.get("statistics", [])):
        if not in_letter(str(s.get("text") or ""), letter_text):
            problems.append(f"statistic {i} {s.get('text')!r} is not in the letter: edit its text or remove it")
    return problems


def fix_field(gold: dict, ask: Prompter) -> None:
    name = ask.choice("field", GOLD_FIELDS + ["status"])
    if name == "status":
        gold["status"] = ask.choice("status", STATUSES, current=gold.get("status"))
        ask.say(f"  status = {gold['status']!r}")
        return
    value = ask.value(f"correct value of {name}", gold["fields"].get(name), _field_parser(name))
    if value is None:
        gold["fields"].pop(name, None)
        ask.say(f"  {name}: the letter has none")
    else:
        gold["fields"][name] = value
        ask.say(f"  {name} = {value!r}")
        _match_rating(gold, name, value, ask)


def _match_rating(gold: dict, name: str, value: object, ask: Prompter) -> None:
    """A score and its label go together on the scale: fixing one fixes the other, and says so."""
    labels = scale_labels()
    if name == "rating_score" and value in labels:
        other, wanted = "rating_label", labels[value]  # type: ignore[index]
    elif name == "rating_label":
        other, wanted = "rating_score", next((k for k, v in labels.items() if v.casefold() == str(value).casefold()), None)
    else:
        return
    if wanted is not None and gold["fields"].get(other) not in (None, wanted):
        gold["fields"][other] = wanted
        ask.say(f"  {other} = {wanted!r} (the scale's, to go with {name} {value!r})")


def add_statistic(gold: dict, ask: Prompter, letter_text: str = "") -> None:
    gold["statistics"].append(_statistic(ask, {}, letter_text))
    ask.say(describe_statistic(len(gold["statistics"]) - 1, gold["statistics"][-1]))


def edit_statistic(gold: dict, ask: Prompter, letter_text: str = "") -> None:
    i = _statistic_index(gold, ask, "edit")
    if i is not None:
        gold["statistics"][i] = _statistic(ask, gold["statistics"][i], letter_text)
        ask.say(describe_statistic(i, gold["statistics"][i]))


def remove_statistic(gold: dict, ask: Prompter, letter_text: str = "") -> None:
    i = _statistic_index(gold, ask, "remove")
    if i is not None:
        removed = gold["statistics"].pop(i)
        ask.say(f"  removed {removed['text']!r}")


EDITS = {"f": fix_field, "e": edit_statistic, "+": add_statistic, "-": remove_statistic}


def _review_letter(gold: dict, ask: Prompter, letter_text: str = "") -> str:
    """Edits until the person accepts (gold that holds together), skips or quits; returns which."""
    while True:
        ask.say(MENU)
        action = ask.ask("action").strip().lower()
        if action == "a":
            problems = gold_problems(gold, letter_text)
            if not problems:
                return action
            ask.say("  not saved:")
            for problem in problems:
                ask.say(f"  - {problem}")
            continue
        if action in ("s", "q"):
            return action
        if action == "f":
            fix_field(gold, ask)
        elif action in EDITS:
            EDITS[action](gold, ask, letter_text)  # type: ignore[call-arg]
        elif action:
            ask.say(f"  {action!r} is not an action; type one of {', '.join(ACTIONS)}")


def review(out_dir: Path, gold_dir: Path, console: Console, ask: Ask | None = None, redo: bool = False) -> ReviewCounts:
    """Walk the letters, needs_review first; each accepted letter is saved at once, so the walk
    can stop anywhere and resume where it stopped (letters with a gold file are passed over)."""
    tables = read_dataset(out_dir)
    letters = tables["letters"]
    check_writable(Path(gold_dir))  # before the first letter, not at its save
    prompter = Prompter(ask or terminal_ask(console), console)
    order = review_order(letters)
    existing = reviewed_letters(gold_dir, letters)
    names = gold_file_names(letters, _run_inputs(out_dir))
    scale = read_table(out_dir, "scale")
    counts = ReviewCounts()
    for position, letter_id in enumerate(order, start=1):
        if letter_id in existing and not redo:
            counts.already_reviewed += 1
            continue
        view = view_from_dataset(tables, letter_id)
        target = existing.get(letter_id, Path(gold_dir) / f"{letter_id}.json")
        if letter_id in existing:
            gold = read_gold_file(target)
        else:
            gold = gold_from_view(view, scale[scale["letter_id"] == letter_id].to_dict("records"), names[letter_id])
        show_letter(view, console)
        statistics_status = f", statistics {view.letter['statistics_status']}" if view.letter.get("statistics_status") else ""
        where = ", ".join(filter(None, [names[letter_id], part_phrase(view.letter)]))
        prompter.say(f"letter {position} of {len(order)}: {where} ({view.letter['status']}{statistics_status})")
        try:
            action = _review_letter(gold, prompter, view.text)
        except EndOfInput:
            action = "q"
        if action == "a":
            gold["reviewed_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
            save_gold(target, gold)
            prompter.say(f"saved {target}")
            counts.saved += 1
        elif action == "s":
            counts.skipped += 1
        else:
            prompter.say("quit: this letter was not saved; run review again to resume")
            counts.quit = True
            break
    return counts
