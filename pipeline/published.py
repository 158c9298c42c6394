"""What Ofsted published of each year's ratings (pipeline/data/published_ratings.toml): the national
totals by rating and the authorities named as performing excellently or poorly, each with its source,
so that an archive can be set beside them.

A published list is evidence about the authorities it names; a complete list (as many names as the
published total for its rating) is evidence about the others too: an authority it does not name did
not have that rating. A partial list says nothing of the authorities it leaves out.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import load_toml
from pipeline.gazetteer import lookup_authority

DATA_FILE = "published_ratings.toml"
SCORES = (4, 3, 2, 1)


@dataclass(frozen=True)
class Source:
    """Where a published figure or list comes from."""

    key: str
    publisher: str
    title: str
    kind: str
    date: str
    url: str
    says: str


@dataclass(frozen=True)
class Figure:
    """One published count of authorities, with its source."""

    count: int
    source: Source


@dataclass(frozen=True)
class PublishedList:
    """The authorities a source names as having one rating (la_codes, and the names as the source writes them)."""

    score: int
    la_codes: tuple[str, ...]
    names: tuple[str, ...]
    complete: bool
    source: Source


@dataclass(frozen=True)
class PublishedYear:
    """One year's published outcomes: totals by rating score, the outcomes withheld, and the known lists."""

    year: int
    authorities: Figure
    totals: dict[int, Figure]
    not_published: Figure
    lists: dict[int, PublishedList]

    def rating_of(self, la_code: str) -> int | None:
        """The rating a published list names the authority with, if any does."""
        return next((score for score, found in self.lists.items() if la_code in found.la_codes), None)


class PublishedDataError(ValueError):
    """The published ratings file is inconsistent: a name the gazetteer cannot resolve, an unknown source,
    or totals that do not add up."""


def _resolve(name: str, year: int) -> str:
    match = lookup_authority(name)
    if match is None or match.method != "gazetteer":
        raise PublishedDataError(f"{DATA_FILE}: {year}: {name!r} is not an authority of the gazetteer")
    return match.authority.la_code


def _source(sources: dict[str, Source], key: str, where: str) -> Source:
    if key not in sources:
        raise PublishedDataError(f"{DATA_FILE}: {where} names source {key!r}, which [sources] does not have")
    return sources[key]


def _figure(sources: dict[str, Source], value: dict, where: str) -> Figure:
    return Figure(int(value["count"]), _source(sources, value["source"], where))


def _list(sources: dict[str, Source], year: int, score: int, found: dict, totals: dict[int, Figure]) -> PublishedList:
    names = tuple(found["authorities"])
    codes = tuple(_resolve(n, year) for n in names)
    if len(set(codes)) != len(codes):
        raise PublishedDataError(f"{DATA_FILE}: {year} list {score} names an authority twice")
    total = totals.get(score)
    if found["complete"] and (total is None or total.count != len(codes)):
        raise PublishedDataError(f"{DATA_FILE}: {year} list {score} is marked complete but does not name as many authorities as its total")
    return PublishedList(score, codes, names, bool(found["complete"]), _source(sources, found["source"], f"{year} list {score}"))


def parse_published(data: dict) -> dict[int, PublishedYear]:
    """The years of a published-ratings document (the shape of data/published_ratings.toml), checked."""
    sources = {key: Source(key, s["publisher"], s["title"], s.get("kind", ""), str(s["date"]), s.get("url", ""), s.get("says", ""))
               for key, s in data.get("sources", {}).items()}
    years: dict[int, PublishedYear] = {}
    for name, entry in data.get("years", {}).items():
        year = int(name)
        totals = {int(score): _figure(sources, value, f"{year} totals.{score}") for score, value in entry.get("totals", {}).items()}
        if set(totals) - set(SCORES):
            raise PublishedDataError(f"{DATA_FILE}: {year} has a total for a score not on the four-point scale")
        lists = {int(score): _list(sources, year, int(score), found, totals) for score, found in entry.get("lists", {}).items()}
        named = [code for found in lists.values() for code in found.la_codes]
        if len(set(named)) != len(named):
            raise PublishedDataError(f"{DATA_FILE}: {year}: an authority is named in two lists")
        published = PublishedYear(year, _figure(sources, entry["authorities"], f"{year} authorities"), totals,
                                  _figure(sources, entry["not_published"], f"{year} not_published"), lists)
        if sum(f.count for f in totals.values()) + published.not_published.count != published.authorities.count:
            raise PublishedDataError(f"{DATA_FILE}: {year}: the totals and the outcomes not published do not add up to {published.authorities.count}")
        years[year] = published
    return years


def load_published(path: Path | None = None) -> dict[int, PublishedYear]:
    """The published outcomes by year: from the package's data file, or from path (a file of the same shape)."""
    if path is None:
        return parse_published(load_toml(DATA_FILE))
    with Path(path).open("rb") as fh:
        return parse_published(tomllib.load(fh))
