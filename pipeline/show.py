"""Show one letter with every extracted value highlighted in place, for spot-checking.

Works the same on a letter already in an output folder and on a file never ingested: both
become the rows `rows.record_rows` produces, and are shown from those.
"""
from __future__ import annotations

import datetime as dt
import random
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd
from rich.console import Console
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from pipeline.read import file_sha256
from pipeline.dataset import has_table, read_table, require_letters
from pipeline.errors import UsageError
from pipeline.records import FIELD_CHOICES
from pipeline.rows import ISSUE_SEPARATOR, file_rows, part_phrase, record_rows
from pipeline.schema import TABLES as TABLES_SCHEMA, column

FIELD_STYLES = {
    "authority": "bold magenta",
    "letter_date": "bold cyan",
    "rating": "bold green",
    "recipient": "bold blue",
    "salutation": "blue",
    "signatory": "bold yellow",
    "statistic": "bold black on yellow",
}
TABLES = ("letters", "fields", "statistics", "segments", "documents", "scale")


@dataclass
class LetterView:
    """One letter's rows from every table, as show needs them."""

    letter: dict
    text: str
    fields: list[dict]
    statistics: list[dict]
    segments: list[dict]

    @classmethod
    def from_rows(cls, rows: dict[str, list[dict]]) -> "LetterView":
        documents = rows.get("documents") or [{}]
        return cls(rows["letters"][0], documents[0].get("text") or "", rows.get("fields", []), rows.get("statistics", []), rows.get("segments", []))

    @property
    def issues(self) -> list[str]:
        """Why the fields are not vouched for (status)."""
        return _split_issues(self.letter.get("issues"))

    @property
    def statistics_issues(self) -> list[str]:
        """Why the statistics are not vouched for (statistics_status)."""
        return _split_issues(self.letter.get("statistics_issues"))


def _split_issues(issues: object) -> list[str]:
    return [] if not isinstance(issues, str) or not issues else issues.split(ISSUE_SEPARATOR)


class LetterNotFound(UsageError, LookupError):
    """DOC names no letter in the dataset."""


def _clean(value: object) -> object:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA or value is pd.NaT:
        return None
    return value


def read_dataset(out_dir: Path) -> dict[str, pd.DataFrame]:
    """The output folder's tables, typed by the schema (Parquet when present, else CSV or JSON lines)."""
    require_letters(out_dir)
    return {name: read_table(out_dir, name) for name in TABLES}


def view_from_dataset(tables: dict[str, pd.DataFrame], letter_id: str) -> LetterView:
    rows: dict[str, list[dict]] = {}
    for name, frame in tables.items():
        subset = frame[frame["letter_id"] == letter_id]
        rows[name] = [{k: _clean(v) for k, v in r.items()} for r in subset.to_dict("records")]
    return LetterView.from_rows(rows)


@dataclass(frozen=True)
class LetterFilter:
    """Which letters `show` and `sample` pick from: the ways a person triages an archive by doubt.

    max_confidence keeps letters with at least one value (a row of `fields` or `statistics`) at or below it;
    year is the rating year, or the letter date's year where the letter states no rating year.
    """

    status: str | None = None
    source_format: str | None = None
    year: int | None = None
    max_confidence: float | None = None
    statistics_status: str | None = None
    part: int | None = None  # which letter of a file holding several

    def __post_init__(self) -> None:
        for name in ("status", "source_format", "statistics_status"):
            allowed = column("letters", name).enum
            value = getattr(self, name)
            if value is not None and value not in allowed:
                raise UsageError(f"unknown {name} {value!r}", f"choose from {', '.join(allowed)}")
        if self.max_confidence is not None and not 0 <= self.max_confidence <= 1:
            raise UsageError(f"max_confidence {self.max_confidence} is not between 0 and 1", "give a confidence such as 0.9")
        if self.part is not None and self.part < 1:
            raise UsageError(f"part {self.part} is not a part of a file", "parts are counted from 1: --part 1 is a file's first letter")

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.status, self.source_format, self.year, self.max_confidence, self.statistics_status, self.part))

    def select(self, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
        """The rows of letters that pass every filter given."""
        letters = tables["letters"]
        keep = pd.Series(True, index=letters.index)
        if self.status is not None:
            keep &= letters["status"] == self.status
        if self.source_format is not None:
            keep &= letters["source_format"] == self.source_format
        if self.statistics_status is not None:
            keep &= letters["statistics_status"] == self.statistics_status
        if self.part is not None:
            keep &= letters["part"] == self.part
        if self.year is not None:
            dated = pd.to_datetime(letters["letter_date"], errors="coerce").dt.year.astype("Int64")
            keep &= letters["rating_year"].fillna(dated) == self.year
        if self.max_confidence is not None:
            doubtful: set[str] = set()
            for name in ("fields", "statistics"):
                frame = tables[name]
                if "confidence" in frame:
                    doubtful |= set(frame.loc[(frame["confidence"] <= self.max_confidence).fillna(False), "letter_id"])
            keep &= letters["letter_id"].isin(doubtful)
        return letters[keep.fillna(False).astype(bool)]


class AmbiguousLetter(UsageError):
    """DOC names several letters: the message lists them, so the user can pick one."""

    def __init__(self, doc: str, candidates: pd.DataFrame) -> None:
        lines = [f"{doc!r} matches {len(candidates)} letters:"]
        for r in candidates.to_dict("records"):
            where = ", ".join(filter(None, [str(r["source_path"]), part_phrase({k: _clean(v) for k, v in r.items()})]))
            lines.append(f"  {r['letter_id']}  {_clean(r['authority_name']) or '?'}  {_clean(r['letter_date']) or '?'}  {r['status']}  {where}")
        super().__init__("\n".join(lines), "give one letter_id (or its first 6+ characters) or a file path, or narrow with --year, --status, "
                                          "--source-format or (a file holding several letters) --part")
        self.candidates = candidates


def _posix(path: object) -> str:
    """A path to compare: forward slashes, and NFC, so a name macOS wrote decomposed (NFD) matches."""
    return "/" + unicodedata.normalize("NFC", str(path)).replace("\\", "/").lstrip("/")


def _candidates(doc: str, letters: pd.DataFrame) -> pd.DataFrame:
    """The letters DOC names, by the first way of naming that finds any: letter_id, its prefix,
    file name or the end of the source path, authority name, part of an authority name."""
    ids = letters["letter_id"].astype(str)
    doc = unicodedata.normalize("NFC", doc)
    wanted = doc.casefold()
    none = pd.Series(False, index=letters.index)
    authority = letters["authority_name"].fillna("").astype(str).str.normalize("NFC").str.casefold()
    written = letters["authority_as_written"].fillna("").astype(str).str.normalize("NFC").str.casefold()
    tiers = [
        ids == doc,
        ids.str.startswith(doc) if len(doc) >= 6 else none,
        pd.Series([_posix(p).endswith(_posix(doc)) for p in letters["source_path"]], index=letters.index, dtype=bool),
        (authority == wanted) | (written == wanted),
        authority.str.contains(wanted, regex=False) if wanted else none,
    ]
    for tier in tiers:
        if tier.any():
            return letters[tier]
    return letters.iloc[0:0]


def read_file(path: Path, tell: Callable[[str], None] | None = None, part: int | None = None) -> LetterView:
    """A letter file never ingested, read here; tell hears what is being done, page by page while
    a scan of several pages is OCR'd (seconds a page), so a person is not left waiting blind.
    Of a file holding several letters, part says which (AmbiguousLetter lists them without it)."""
    from pipeline.limits import default_limits
    from pipeline.process import process_file  # spaCy: loaded only for a letter not yet ingested
    from pipeline.read import OcrDeferred, ocr_pdf_page

    tell = tell or (lambda message: None)
    tell(f"reading {path.name}")
    try:
        records = process_file(path, defer_ocr=True)
    except OcrDeferred as deferred:
        limits = default_limits()
        pages: dict | None = {}
        for k, number in enumerate(deferred.pages, start=1):
            tell(f"reading {path.name}: OCR of page {number} ({k} of {len(deferred.pages)})")
            try:
                pages[number] = ocr_pdf_page(path, number, limits)  # type: ignore[index]
            except Exception:  # read again whole below, where the page fails with its own message
                pages = None
                break
        tell(f"reading {path.name}")
        records = process_file(path, ocr_pages=pages)
    if part is not None:
        records = [r for r in records if r.part is not None and r.part.index == part]
        if not records:
            raise LetterNotFound(f"{path} has no part {part}", "give a part the file has (`show FILE` without --part lists them)")
    if len(records) > 1:
        raise AmbiguousLetter(str(path), pd.DataFrame(file_rows(records)["letters"]))
    return LetterView.from_rows(record_rows(records[0]))


def find_letter(doc: str, out_dir: Path | None, only: LetterFilter = LetterFilter(), tell: Callable[[str], None] | None = None) -> LetterView:
    """DOC as a file path, a letter_id (or its prefix), a file name (or the end of its path) or an
    authority name. Raises LetterNotFound, or AmbiguousLetter when it names several letters.
    A file not in the dataset is read here (see read_file: tell hears of its progress)."""
    tables = None
    if out_dir is not None and has_table(out_dir, "letters"):
        tables = read_dataset(out_dir)
    path = Path(doc)
    if path.is_file():
        if tables is not None:
            letters = tables["letters"]
            sha = file_sha256(path)[:16]
            ids = letters["letter_id"].astype(str)
            hit = letters[(ids == sha) | ids.str.startswith(f"{sha}-p") | (letters["source_path"] == str(path))]
            if only.part is not None:
                hit = hit[(hit["part"] == only.part).fillna(False).astype(bool)]
            if hit["part"].dropna().nunique() > 1:  # the letters of a file holding several
                raise AmbiguousLetter(doc, hit)
            if len(hit):
                return view_from_dataset(tables, hit.iloc[0]["letter_id"])
        return read_file(path, tell, only.part)
    if tables is None:
        raise LetterNotFound(f"{doc!r} is not a file, and there is no dataset in {out_dir} to look it up in", "give a letter file, or the dataset folder with --out")
    letters = only.select(tables)
    found = _candidates(doc, letters)
    if len(found) > 1:
        raise AmbiguousLetter(doc, found)
    if len(found) == 1:
        return view_from_dataset(tables, found.iloc[0]["letter_id"])
    narrowed = " that passes the filters given" if only and len(_candidates(doc, tables["letters"])) else ""
    raise LetterNotFound(f"no letter in {out_dir}{narrowed} matches {doc!r}", "give a file path, a letter_id, a file name or an authority name (`ofsted-letters sample` lists some)")


def show_fields() -> tuple[str, ...]:
    """What --field takes: a group of values shown in one colour, a field, or any column of letters."""
    return (*FIELD_CHOICES, *(c.name for c in TABLES_SCHEMA["letters"].columns if c.name not in FIELD_CHOICES))


def check_field(only: str | None) -> None:
    """Refuse a --field that names nothing, rather than showing nothing without a word."""
    if only is not None and only not in show_fields():
        raise UsageError(f"unknown field {only!r}", f"choose from {', '.join(show_fields())}")


def _column_only(only: str | None) -> bool:
    """Whether --field names a column of letters that no row of fields holds (status, issues ...)."""
    return only is not None and only not in FIELD_CHOICES


def _field_group(field: str) -> str:
    for group in ("authority", "rating", "recipient", "signatory"):
        if field.startswith(group):
            return group
    return field


def _spans(view: LetterView, only: str | None) -> list[tuple[int, int, str, str]]:
    """(start, end, style, label) for every value that points at text."""
    spans = []
    for f in view.fields:
        if f.get("start") is None or f.get("end") is None:
            continue
        if only and only not in (f["field"], _field_group(f["field"])):
            continue
        if f["field"] in ("authority_name", "authority_la_code", "authority_gss_code", "authority_region"):
            continue
        group = _field_group(f["field"])
        spans.append((int(f["start"]), int(f["end"]), FIELD_STYLES.get(group, "bold"), f"{f['field']}={f['value']}"))
    if only in (None, "statistic", "statistics"):
        for s in view.statistics:
            den = f"/{_num(s.get('denominator'))}" if s.get("denominator") is not None else ""
            label = f"stat#{s['stat_index']} {s['kind']} {_num(s['value'])}{den} | {s.get('subject') or '?'} | {s.get('judgement') or '?'}"
            spans.append((int(s["start"]), int(s["end"]), FIELD_STYLES["statistic"], label))
    spans.sort(key=lambda s: (s[0], -s[1]))
    kept: list[tuple[int, int, str, str]] = []
    for span in spans:
        if kept and span[0] < kept[-1][1]:
            prev = kept[-1]
            kept[-1] = (prev[0], max(prev[1], span[1]), prev[2], prev[3] + "; " + span[3])
            continue
        kept.append(span)
    return kept


def _num(value: object) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    return str(int(number)) if number.is_integer() else str(number)


def render_text(view: LetterView, only: str | None = None) -> Text:
    """The letter with values in [brackets] followed by their label, and segment boundaries marked."""
    text = view.text
    out = Text()
    spans = _spans(view, only)
    boundaries = {int(s["start"]): s["segment"] for s in view.segments if s.get("start") is not None}
    cursor = 0
    events = sorted(set(boundaries) | {s[0] for s in spans})
    span_at = {s[0]: s for s in spans}
    for pos in events:
        if pos < cursor:
            continue
        out.append(text[cursor:pos])
        cursor = pos
        if pos in boundaries:
            out.append(f"\n──── {boundaries[pos]} ────\n", style="dim cyan")
        if pos in span_at:
            start, end, style, label = span_at[pos]
            out.append("[", style="dim")
            out.append(text[start:end], style=style)
            out.append("]", style="dim")
            out.append(f"{{{label}}}", style="italic dim")
            cursor = end
    out.append(text[cursor:])
    return out


def fields_table(view: LetterView, only: str | None = None) -> Table:
    table = Table(title="fields", show_lines=False)
    for heading in ("field", "value", "page", "method", "confidence"):
        table.add_column(heading)
    for f in view.fields:
        if only and only not in (f["field"], _field_group(f["field"])):
            continue
        conf = f.get("confidence")
        table.add_row(f["field"], str(f.get("value")), "" if f.get("page") is None else str(f["page"]), str(f.get("method") or ""), "" if conf is None else f"{float(conf):.2f}")
    return table


def show_letter(view: LetterView, console: Console, only: str | None = None) -> None:
    check_field(only)
    letter = view.letter
    statistics_status = f" · statistics {letter['statistics_status']}" if letter.get("statistics_status") else ""
    console.print(Rule(f"{letter.get('authority_name') or '?'} · {letter.get('letter_date') or '?'} · {letter['status']}{statistics_status} · {letter['letter_id']}"))
    where = ", ".join(filter(None, [str(letter.get("source_path")), part_phrase(letter)]))
    console.print(f"source: {where} ({letter.get('source_format') or '?'})")
    lists = (("issues", view.issues), ("statistics issues", view.statistics_issues))
    if _column_only(only):  # one column of letters: its value, and the reasons behind a status
        value = letter.get(only)
        console.print(f"{only}: {'(empty)' if value is None or value == '' else value}", markup=False, highlight=False)
        lists = tuple(pair for pair in lists if only in ("status", "issues") and pair[0] == "issues"
                      or only in ("statistics_status", "statistics_issues") and pair[0] == "statistics issues")
    elif letter["status"] == "failed":  # nothing was read: the reason, not an empty table of fields
        console.print(f"[bold red]not read[/bold red]: {view.issues[0] if view.issues else 'no reason recorded'}", highlight=False)
        lists = (("issues", view.issues[1:]),) if len(view.issues) > 1 else ()
    else:
        if view.text:
            console.print(render_text(view, only), soft_wrap=True)
        if any(not only or only in (f["field"], _field_group(f["field"])) for f in view.fields):
            console.print(fields_table(view, only))
        elif letter["status"] == "not_rating_letter":
            console.print("fields: none (not a rating letter, so none are extracted)")
        else:
            console.print(f"fields: none{' of ' + only if only else ''} found")
    for title, issues in lists:
        if issues:
            console.print(f"[bold red]{title}[/bold red]")
            for issue in issues:
                console.print(f"  - {issue}", markup=False)
        else:
            console.print(f"{title}: none")


def sample_letters(out_dir: Path, n: int, only: LetterFilter = LetterFilter(), seed: int | None = None) -> list[LetterView]:
    """n letters picked at random (reproducibly with a seed) among those passing the filters, for a person to check."""
    tables = read_dataset(out_dir)
    ids = sorted(only.select(tables)["letter_id"].astype(str))
    picked = random.Random(seed).sample(ids, min(n, len(ids)))
    return [view_from_dataset(tables, letter_id) for letter_id in picked]


def _jsonable(value: object) -> object:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def view_json(view: LetterView, only: str | None = None) -> dict:
    """One letter as JSON-ready data: its letters row, issues, fields, statistics, segments and text."""
    check_field(only)
    fields = [f for f in view.fields if not only or only in (f["field"], _field_group(f["field"]))]
    statistics = view.statistics if only in (None, "statistic", "statistics") else []
    return {
        "letter": {k: _jsonable(v) for k, v in view.letter.items()},
        "issues": view.issues,
        "statistics_issues": view.statistics_issues,
        "fields": [{k: _jsonable(v) for k, v in f.items()} for f in fields],
        "statistics": [{k: _jsonable(v) for k, v in s.items()} for s in statistics],
        "segments": [{k: _jsonable(v) for k, v in s.items() if k != "text"} for s in view.segments],
        "text": view.text,
    }
