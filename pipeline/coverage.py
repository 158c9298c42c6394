"""What an archive holds and lacks: for each rating year, the authorities with no letter, and the
letters for one authority and year that disagree with each other.

A letter counts for its authority and year when it was read as a rating letter (status `ok` or
`needs_review`), is not a duplicate (`duplicate_of`), and names its authority (`authority_la_code`)
and year (`rating_year`): `dedup.group_key`. Every authority in the gazetteer is expected every
year. Letters for one authority and year that differ (`dedup.differences`, the test `ingest` flags
with `conflict: ...`) are a conflict, listed with the values of each field that differs and the copy
`dedup.preference` puts first. Ofsted's published tables are not in the repository, so the archive
is not compared with them.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from pipeline.dataset import read_table, require_letters
from pipeline.dedup import READ_AS_LETTER, differences, group_key, preference
from pipeline.gazetteer import Authority, load_authorities

if TYPE_CHECKING:
    from rich.console import Console

NOTES = (
    "The gazetteer (pipeline/data/authorities.csv) lists the 152 authorities with children's services "
    "as they stood from 1 April 2009 (Bedford, Central Bedfordshire, Cheshire East and Cheshire West and "
    "Chester among them; not the Bedfordshire and Cheshire county councils they replaced) and records no "
    "start or end dates, so every year is checked against all 152.",
    "Ofsted's published national tables are not in the repository, so a letter missing from the archive "
    "cannot be told from a rating Ofsted did not publish, and ratings are not compared with the published ones.",
)


@dataclass(frozen=True)
class AuthorityRef:
    """An authority of the gazetteer, as the coverage view names it."""

    name: str
    la_code: str
    region: str

    @classmethod
    def of(cls, authority: Authority) -> "AuthorityRef":
        return cls(authority.name, authority.la_code, authority.region)


@dataclass(frozen=True)
class LetterRef:
    """One letter of the dataset, by id and file."""

    letter_id: str
    source_path: str | None
    status: str | None


@dataclass(frozen=True)
class Difference:
    """One field letters for the same authority and year disagree on: each letter's value, by letter_id."""

    field: str
    values: dict[str, str | None]


@dataclass(frozen=True)
class Conflict:
    """Letters for one authority and year whose values differ, and the copy preferred to stand for them."""

    year: int
    authority: AuthorityRef
    letters: list[LetterRef]
    differences: list[Difference]
    preferred: str  # letter_id


@dataclass(frozen=True)
class YearCoverage:
    """One rating year: how many authorities have a letter, which have none, which have several."""

    year: int
    expected: int  # authorities in the gazetteer
    found: int  # authorities with at least one letter
    letters: int  # letters counted (duplicates are not)
    duplicates: int  # duplicates for the year, left out
    missing: list[AuthorityRef]
    agreeing: list[AuthorityRef]  # more than one letter, and they agree
    conflicting: list[AuthorityRef]  # more than one letter, and they differ (see CoverageReport.conflicts)


@dataclass(frozen=True)
class CoverageReport:
    """The coverage of a dataset: each year asked for, every conflict, and the letters that could not be placed."""

    dataset: str
    years: list[YearCoverage]
    conflicts: list[Conflict]
    unplaced: list[LetterRef]  # read as letters, but with no authority code or rating year (or a code not in the gazetteer)
    notes: list[str] = field(default_factory=lambda: list(NOTES))

    def to_json(self) -> dict:
        return asdict(self)


def _records(letters: pd.DataFrame) -> list[dict]:
    """Rows of letters as dicts, with None (not NA) where a value is missing, as dedup expects."""
    frame = letters.astype(object)
    return frame.where(frame.notna(), None).to_dict("records")


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _ref(letter: dict) -> LetterRef:
    return LetterRef(letter["letter_id"], letter.get("source_path"), letter.get("status"))


def _duplicate_year(letter: dict) -> int | None:
    """The rating year of a duplicate that would otherwise count, for the year's count of duplicates."""
    if letter.get("status") not in READ_AS_LETTER or not letter.get("duplicate_of") or letter.get("rating_year") is None:
        return None
    return int(letter["rating_year"])


def _conflict(year: int, authority: AuthorityRef, group: list[dict]) -> Conflict | None:
    differing: dict[str, None] = {}  # the fields any two letters of the group differ on, as first found
    for i, a in enumerate(group):
        for b in group[i + 1:]:
            differing.update((name, None) for name, _, _ in differences(a, b))
    if not differing:
        return None
    ordered = sorted(group, key=preference)
    found = [Difference(name, {letter["letter_id"]: _text(letter.get(name)) for letter in ordered}) for name in differing]
    return Conflict(year, authority, [_ref(letter) for letter in ordered], found, ordered[0]["letter_id"])


def coverage(out_dir: Path, years: list[int] | None = None) -> CoverageReport:
    """Which authorities have no letter for each year (the years given, else every rating year of the
    dataset's letters), and which letters for one authority and year disagree.

    Raises NotADataset for a folder with no dataset, DataError for a letters table that cannot be read.
    """
    out_dir = Path(out_dir)
    require_letters(out_dir)
    letters = _records(read_table(out_dir, "letters"))
    authorities = {a.la_code: AuthorityRef.of(a) for a in load_authorities()}

    groups: dict[tuple[str, int], list[dict]] = defaultdict(list)
    unplaced: list[LetterRef] = []
    duplicates: dict[int, int] = defaultdict(int)
    for letter in letters:
        key = group_key(letter)
        if key is not None and key[0] in authorities:
            groups[key].append(letter)
        elif key is not None or (letter.get("status") in READ_AS_LETTER and not letter.get("duplicate_of")):
            unplaced.append(_ref(letter))
        elif (year := _duplicate_year(letter)) is not None:
            duplicates[year] += 1

    wanted = sorted(set(years)) if years else sorted({year for _, year in groups})
    report_years: list[YearCoverage] = []
    conflicts: list[Conflict] = []
    for year in wanted:
        missing, agreeing, conflicting, n_letters = [], [], [], 0
        for code, authority in authorities.items():
            group = groups.get((code, year), [])
            n_letters += len(group)
            if not group:
                missing.append(authority)
            elif len(group) > 1:
                found = _conflict(year, authority, group)
                (agreeing if found is None else conflicting).append(authority)
                if found is not None:
                    conflicts.append(found)
        expected = len(authorities)
        report_years.append(YearCoverage(year, expected, expected - len(missing), n_letters, duplicates.get(year, 0),
                                         missing, agreeing, conflicting))
    return CoverageReport(str(out_dir), report_years, conflicts, unplaced)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def render_coverage(report: CoverageReport, console: "Console") -> None:
    """The report for a terminal: per year, the counts and a table of the missing authorities; then the
    conflicting groups, the letters that could not be placed, and the notes."""
    from rich.table import Table

    if not report.years:
        console.print(f"no rating letters with an authority and a year in {report.dataset}", markup=False, highlight=False)
    for year in report.years:
        left_out = f", {_n(year.duplicates, 'duplicate')} left out" if year.duplicates else ""
        line = (f"{year.year}: letters for {year.found} of {year.expected} authorities ({_n(year.letters, 'letter')}{left_out}); "
                f"{len(year.missing)} missing")
        several = [f"{len(year.agreeing)} with agreeing copies" if year.agreeing else "",
                   f"{len(year.conflicting)} with conflicting letters" if year.conflicting else ""]
        console.print(line + "".join(f", {s}" for s in several if s), markup=False, highlight=False)
        if year.missing:
            table = Table(title=f"Missing for {year.year}", title_justify="left")
            for name in ("authority", "LA code", "region"):
                table.add_column(name)
            for authority in year.missing:
                table.add_row(authority.name, authority.la_code, authority.region)
            console.print(table)
    if report.conflicts:
        console.print(f"\nConflicting letters ({_n(len(report.conflicts), 'authority-year')}):", markup=False, highlight=False)
        for conflict in report.conflicts:
            table = Table(title=f"{conflict.authority.name} ({conflict.authority.la_code}) {conflict.year}", title_justify="left")
            table.add_column("letter_id", no_wrap=True)
            table.add_column("preferred")
            table.add_column("file", overflow="fold")
            table.add_column("status")
            for difference in conflict.differences:
                table.add_column(difference.field)
            for letter in conflict.letters:
                table.add_row(letter.letter_id, "yes" if letter.letter_id == conflict.preferred else "", letter.source_path or "", letter.status or "",
                              *(difference.values.get(letter.letter_id) or "" for difference in conflict.differences))
            console.print(table)
    else:
        console.print("\nno conflicting letters", markup=False, highlight=False)
    if report.unplaced:
        console.print(f"\n{_n(len(report.unplaced), 'letter')} read as rating letters but with no rating year or no authority of the gazetteer (not counted):",
                      markup=False, highlight=False)
        for letter in report.unplaced:
            console.print(f"  {letter.letter_id}  {letter.source_path or ''}  {letter.status or ''}", markup=False, highlight=False)
    console.print("", *(f"note: {note}" for note in report.notes), sep="\n", markup=False, highlight=False)
