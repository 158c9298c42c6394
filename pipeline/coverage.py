"""What an archive holds and lacks: for each rating year, the authorities with no letter, the letters
for one authority and year that disagree with each other, and the archive beside what Ofsted published.

A letter counts for its authority and year when it was read as a rating letter (status `ok` or
`needs_review`), is not a duplicate (`duplicate_of`), and names its authority (`authority_la_code`)
and year (`rating_year`): `dedup.group_key`. Every authority in the gazetteer is expected every
year. Letters for one authority and year that differ (`dedup.differences`, the test `ingest` flags
with `conflict: ...`) are a conflict, listed with the values of each field that differs and the copy
`dedup.preference` puts first, given each letter's evidence (`dedup.evidence`).

The archive's totals by rating count each authority once, by its preferred letter's rating, beside
Ofsted's national totals as published (pipeline/data/published_ratings.toml, pipeline/published.py);
every counted letter whose rating a published list of authorities performing excellently or poorly
contradicts is listed with the list's source.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from pipeline.config import patterns
from pipeline.dataset import read_table, require_letters
from pipeline.dedup import READ_AS_LETTER, Evidence, differences, evidence, group_key, preference
from pipeline.gazetteer import Authority, load_authorities
from pipeline.published import PublishedYear, Source, load_published

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

GAZETTEER_NOTE = (
    "The gazetteer (pipeline/data/authorities.csv) lists the 152 authorities with children's services "
    "as they stood from 1 April 2009 (Bedford, Central Bedfordshire, Cheshire East and Cheshire West and "
    "Chester among them; not the Bedfordshire and Cheshire county councils they replaced) and records no "
    "start or end dates, so every year is checked against all 152."
)
PUBLISHED_NOTE = (
    "Beside Ofsted's published national totals (pipeline/data/published_ratings.toml, each figure with its source), "
    "the archive's totals count each authority once, by the rating of its preferred letter. The published totals are "
    "those of the day the outcomes came out: outcomes Ofsted withheld then and published later are in no published "
    "total, so an authority with no letter in the archive cannot be told from one whose outcome was withheld. A letter "
    "is contradicted when a published list of authorities performing excellently or poorly names its authority with "
    "another rating, or when it gives a rating whose list is complete and does not name its authority; no list of "
    "authorities performing well or adequately is known, so a letter rated 3 or 2 whose authority no list names is checked only where every list of its year is complete."
)
LIST_WORDS = {4: "performing excellently", 3: "performing well", 2: "performing adequately", 1: "performing poorly"}


def _list_notes(published: dict[int, PublishedYear], years: list[int]) -> list[str]:
    """Which published lists are known for the years shown, and how complete each is."""
    notes = []
    for year in years:
        found = published.get(year)
        if found is None:
            notes.append(f"{year}: no published totals or lists are in the data file, so the year is not compared.")
            continue
        lists = [f"{LIST_WORDS[s]}: {len(found.lists[s].la_codes)} of {found.totals[s].count if s in found.totals else '?'} named"
                 f"{' (complete)' if found.lists[s].complete else ''}" for s in sorted(found.lists, reverse=True)]
        unknown = [LIST_WORDS[s] for s in (4, 1) if s not in found.lists]
        notes.append(f"{year}: published lists of authorities " + ("; ".join(lists) if lists else "none known")
                     + (f"; not known: {', '.join(unknown)}" if unknown else "") + ".")
    return notes


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
class RatingTotal:
    """For one year and rating: how many authorities the archive has with it, and how many Ofsted published."""

    score: int | None  # None: the archive's authorities whose letter gives no rating, and the outcomes not published
    label: str
    archive: int
    published: int | None  # None where the year's published totals are not known
    source: str | None  # key of CoverageReport.sources


@dataclass(frozen=True)
class PublishedList:
    """A published list of the authorities with one rating, as the coverage view shows it."""

    score: int
    named: int
    total: int | None  # the published total for the rating
    complete: bool
    source: str  # key of CoverageReport.sources


@dataclass(frozen=True)
class PublishedDisagreement:
    """A letter whose rating a published list contradicts: the list names its authority with another rating
    (listed_score), or a complete list of the letter's own rating leaves its authority out (listed_score None)."""

    year: int
    authority: AuthorityRef
    letter: LetterRef
    rating_score: int
    listed_score: int | None
    list_score: int  # the rating of the list the letter disagrees with
    source: str  # key of CoverageReport.sources
    reason: str


@dataclass(frozen=True)
class YearCoverage:
    """One rating year: how many authorities have a letter, which have none, which have several, and the
    archive's totals by rating beside the published ones."""

    year: int
    expected: int  # authorities in the gazetteer
    found: int  # authorities with at least one letter
    letters: int  # letters counted (duplicates are not)
    duplicates: int  # duplicates for the year, left out
    missing: list[AuthorityRef]
    agreeing: list[AuthorityRef]  # more than one letter, and they agree
    conflicting: list[AuthorityRef]  # more than one letter, and they differ (see CoverageReport.conflicts)
    ratings: list[RatingTotal] = field(default_factory=list)  # 4, 3, 2, 1, then None (no rating / not published)
    published_lists: list[PublishedList] = field(default_factory=list)
    checked: int = 0  # letters whose rating the year's published lists settle (see _checked)


@dataclass(frozen=True)
class CoverageReport:
    """The coverage of a dataset: each year asked for, every conflict, the letters a published list
    contradicts, the letters that could not be placed, and the sources of the published figures."""

    dataset: str
    years: list[YearCoverage]
    conflicts: list[Conflict]
    unplaced: list[LetterRef]  # read as letters, but with no authority code or rating year (or a code not in the gazetteer)
    disagreements: list[PublishedDisagreement] = field(default_factory=list)
    sources: dict[str, Source] = field(default_factory=dict)
    notes: list[str] = field(default_factory=lambda: [GAZETTEER_NOTE, PUBLISHED_NOTE])

    def to_json(self) -> dict:
        return asdict(self)


def _records(letters: pd.DataFrame) -> list[dict]:
    """Rows of letters as dicts, with None (not NA) where a value is missing, as dedup expects."""
    frame = letters.astype(object)
    return frame.where(frame.notna(), None).to_dict("records")


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _score(value: object) -> int | None:
    return None if value in (None, "") else int(value)  # type: ignore[call-overload]


def _ref(letter: dict) -> LetterRef:
    return LetterRef(letter["letter_id"], letter.get("source_path"), letter.get("status"))


def _duplicate_year(letter: dict) -> int | None:
    """The rating year of a duplicate that would otherwise count, for the year's count of duplicates."""
    if letter.get("status") not in READ_AS_LETTER or not letter.get("duplicate_of") or letter.get("rating_year") is None:
        return None
    return int(letter["rating_year"])


def _evidence(out_dir: Path, letter_ids: set[str]) -> dict[str, Evidence]:
    """Each letter's evidence (dedup.evidence), read only for the letters that share an authority and year."""
    if not letter_ids:
        return {}
    fields = read_table(out_dir, "fields")
    fields = _records(fields[fields["letter_id"].isin(letter_ids)])
    documents = read_table(out_dir, "documents")
    texts = {row["letter_id"]: row["text"] for row in _records(documents[documents["letter_id"].isin(letter_ids)][["letter_id", "text"]])}
    by_letter: dict[str, list[dict]] = defaultdict(list)
    for row in fields:
        by_letter[row["letter_id"]].append(row)
    return {lid: evidence({"letter_id": lid}, by_letter.get(lid, []), texts.get(lid)) for lid in letter_ids}


def _ordered(group: list[dict], found: dict[str, Evidence]) -> list[dict]:
    """The letters for one authority and year, the one to stand for them first (dedup.preference)."""
    return sorted(group, key=lambda letter: preference(letter, found.get(letter["letter_id"])))


def _conflict(year: int, authority: AuthorityRef, ordered: list[dict]) -> Conflict | None:
    differing: dict[str, None] = {}  # the fields any two letters of the group differ on, as first found
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            differing.update((name, None) for name, _, _ in differences(a, b))
    if not differing:
        return None
    found = [Difference(name, {letter["letter_id"]: _text(letter.get(name)) for letter in ordered}) for name in differing]
    return Conflict(year, authority, [_ref(letter) for letter in ordered], found, ordered[0]["letter_id"])


def _labels() -> dict[int, str]:
    scale = patterns()["scale"]
    return dict(zip(scale["scores"], scale["labels"]))


def _rating_totals(preferred: list[dict], published: PublishedYear | None) -> list[RatingTotal]:
    """The archive's authorities by the rating of their preferred letter, beside the published totals."""
    counts = Counter(_score(letter.get("rating_score")) for letter in preferred)
    rows = []
    for score, label in _labels().items():
        figure = published.totals.get(score) if published else None
        rows.append(RatingTotal(score, label, counts.get(score, 0), figure.count if figure else None, figure.source.key if figure else None))
    withheld = published.not_published if published else None
    rows.append(RatingTotal(None, "no rating in the letter / outcome not published", counts.get(None, 0),
                            withheld.count if withheld else None, withheld.source.key if withheld else None))
    return rows


def _disagreement(year: int, authority: AuthorityRef, letter: dict, published: PublishedYear) -> PublishedDisagreement | None:
    """How a published list of the year contradicts the letter's rating, if one does."""
    score = _score(letter.get("rating_score"))
    if score is None:
        return None
    listed = published.rating_of(authority.la_code)
    if listed is not None:
        if listed == score:
            return None
        source = published.lists[listed].source
        reason = (f"the {year} list of authorities {LIST_WORDS[listed]} ({source.publisher}, {source.date}) names {authority.name}; "
                  f"the letter says {_labels()[score]} ({score})")
        return PublishedDisagreement(year, authority, _ref(letter), score, listed, listed, source.key, reason)
    own = published.lists.get(score)
    if own is not None and own.complete:
        reason = (f"the letter says {_labels()[score]} ({score}), but the complete {year} list of authorities {LIST_WORDS[score]} "
                  f"({own.source.publisher}, {own.source.date}) does not name {authority.name}")
        return PublishedDisagreement(year, authority, _ref(letter), score, None, score, own.source.key, reason)
    return None


def _checked(published: PublishedYear, la_code: str, score: int | None) -> bool:
    """Whether the year's published lists settle whether this rating for this authority agrees with them: a
    list names the authority, or the rating's own list is complete, or (for a rating with no list) every
    list of the year is complete, so an authority none names had none of their ratings."""
    if score is None:
        return False
    if published.rating_of(la_code) is not None:
        return True
    if score in published.lists:
        return published.lists[score].complete
    return bool(published.lists) and all(found.complete for found in published.lists.values())


def coverage(out_dir: Path, years: list[int] | None = None, published: dict[int, PublishedYear] | None = None) -> CoverageReport:
    """Which authorities have no letter for each year (the years given, else every rating year of the
    dataset's letters), which letters for one authority and year disagree, and how the archive compares
    with what Ofsted published (published: the years of data/published_ratings.toml unless given).

    Raises NotADataset for a folder with no dataset, DataError for a letters table that cannot be read.
    """
    out_dir = Path(out_dir)
    require_letters(out_dir)
    published = load_published() if published is None else published
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
    found_evidence = _evidence(out_dir, {letter["letter_id"] for (_, year), group in groups.items() if year in wanted and len(group) > 1
                                         for letter in group})
    report_years: list[YearCoverage] = []
    conflicts: list[Conflict] = []
    disagreements: list[PublishedDisagreement] = []
    sources: dict[str, Source] = {}
    for year in wanted:
        missing, agreeing, conflicting, preferred, n_letters, checked = [], [], [], [], 0, 0
        year_published = published.get(year)
        for code, authority in authorities.items():
            group = groups.get((code, year), [])
            n_letters += len(group)
            if not group:
                missing.append(authority)
                continue
            ordered = _ordered(group, found_evidence)
            preferred.append(ordered[0])
            if len(group) > 1:
                found = _conflict(year, authority, ordered)
                (agreeing if found is None else conflicting).append(authority)
                if found is not None:
                    conflicts.append(found)
            if year_published is not None:
                for letter in ordered:
                    checked += _checked(year_published, code, _score(letter.get("rating_score")))
                    if (wrong := _disagreement(year, authority, letter, year_published)) is not None:
                        disagreements.append(wrong)
        lists = []
        if year_published is not None:
            sources.update((f.source.key, f.source) for f in (*year_published.totals.values(), year_published.not_published))
            for score in sorted(year_published.lists, reverse=True):
                found_list = year_published.lists[score]
                sources[found_list.source.key] = found_list.source
                total = year_published.totals.get(score)
                lists.append(PublishedList(score, len(found_list.la_codes), total.count if total else None, found_list.complete, found_list.source.key))
        expected = len(authorities)
        report_years.append(YearCoverage(year, expected, expected - len(missing), n_letters, duplicates.get(year, 0),
                                         missing, agreeing, conflicting, _rating_totals(preferred, year_published), lists, checked))
    notes = [GAZETTEER_NOTE, PUBLISHED_NOTE, *_list_notes(published, wanted)]
    return CoverageReport(str(out_dir), report_years, conflicts, unplaced, disagreements, sources, notes)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _ratings_table(year: YearCoverage, report: CoverageReport) -> "Table":
    """The archive's authorities by rating beside Ofsted's published totals, each with its source."""
    from rich.table import Table

    table = Table(title=f"Ratings for {year.year}: the archive's authorities beside Ofsted's published totals", title_justify="left")
    table.add_column("rating")
    table.add_column("archive", justify="right")
    table.add_column("published", justify="right")
    table.add_column("source of the published figure", overflow="fold")
    for row in year.ratings:
        source = report.sources.get(row.source) if row.source else None
        table.add_row(f"{row.score} {row.label}" if row.score is not None else row.label, str(row.archive),
                      "not known" if row.published is None else str(row.published),
                      f"{source.publisher}, {source.date}" if source else "")
    table.add_row("all", str(sum(r.archive for r in year.ratings)),
                  "" if any(r.published is None for r in year.ratings) else str(sum(r.published or 0 for r in year.ratings)), "")
    return table


def render_coverage(report: CoverageReport, console: "Console") -> None:
    """The report for a terminal: per year, the counts, the archive's ratings beside the published ones and
    a table of the missing authorities; then the conflicting groups, the letters a published list
    contradicts, the letters that could not be placed, the sources and the notes."""
    from rich.table import Table

    def say(*lines: str) -> None:
        console.print(*lines, sep="\n", markup=False, highlight=False)

    if not report.years:
        say(f"no rating letters with an authority and a year in {report.dataset}")
    for year in report.years:
        left_out = f", {_n(year.duplicates, 'duplicate')} left out" if year.duplicates else ""
        line = (f"{year.year}: letters for {year.found} of {year.expected} authorities ({_n(year.letters, 'letter')}{left_out}); "
                f"{len(year.missing)} missing")
        several = [f"{len(year.agreeing)} with agreeing copies" if year.agreeing else "",
                   f"{len(year.conflicting)} with conflicting letters" if year.conflicting else ""]
        say(line + "".join(f", {s}" for s in several if s))
        console.print(_ratings_table(year, report))
        if year.missing:
            table = Table(title=f"Missing for {year.year}", title_justify="left")
            for name in ("authority", "LA code", "region"):
                table.add_column(name)
            for authority in year.missing:
                table.add_row(authority.name, authority.la_code, authority.region)
            console.print(table)
    if report.conflicts:
        say(f"\nConflicting letters ({_n(len(report.conflicts), 'authority-year')}):")
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
        say("\nno conflicting letters")
    checked = sum(year.checked for year in report.years)
    if report.disagreements:
        table = Table(title=f"Letters a published list contradicts ({len(report.disagreements)} of {_n(checked, 'letter')} checked against the lists)",
                      title_justify="left")
        for name in ("year", "authority", "letter_id", "file", "letter says", "published list", "source"):
            table.add_column(name, overflow="fold", no_wrap=name == "letter_id")
        for wrong in report.disagreements:
            source = report.sources[wrong.source]
            listed = f"names it {wrong.listed_score}" if wrong.listed_score is not None else f"complete list of {wrong.list_score} leaves it out"
            table.add_row(str(wrong.year), wrong.authority.name, wrong.letter.letter_id, wrong.letter.source_path or "", str(wrong.rating_score),
                          listed, f"{source.publisher}, {source.date}")
        say("")
        console.print(table)
    else:
        say(f"\nno letter's rating is contradicted by a published list ({_n(checked, 'letter')} checked against the lists)")
    if report.unplaced:
        say(f"\n{_n(len(report.unplaced), 'letter')} read as rating letters but with no rating year or no authority of the gazetteer (not counted):")
        for letter in report.unplaced:
            say(f"  {letter.letter_id}  {letter.source_path or ''}  {letter.status or ''}")
    if report.sources:
        say("", "sources of the published figures:")
        for key, source in report.sources.items():
            say(f"  {key}: {source.publisher}, \"{source.title}\" ({source.kind}), {source.date}, {source.url}")
    say("", *(f"note: {note}" for note in report.notes))
