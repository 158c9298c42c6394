"""Loading of the data files under pipeline/data/ (patterns, vocabularies, gazetteer)."""
from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any

import regex

DATA = resources.files("pipeline") / "data"


@lru_cache(maxsize=None)
def load_toml(name: str) -> dict[str, Any]:
    with (DATA / name).open("rb") as fh:
        return tomllib.load(fh)


def patterns() -> dict[str, Any]:
    return load_toml("patterns.toml")


def vocab() -> dict[str, Any]:
    return load_toml("statistics.toml")


@lru_cache(maxsize=None)
def compiled(section: str, key: str, flags: int = regex.IGNORECASE | regex.MULTILINE) -> regex.Pattern:
    """A pattern from patterns.toml, compiled once per process."""
    return regex.compile(patterns()[section][key], flags)


def alternation(phrases: list[str]) -> str:
    """A regex alternation of phrases, longest first, tolerant of any whitespace between words."""
    ordered = sorted(set(phrases), key=len, reverse=True)
    return "|".join(r"\s+".join(regex.escape(w) for w in p.split()) for p in ordered)
