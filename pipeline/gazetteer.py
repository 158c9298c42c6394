"""The gazetteer: the 152 English local authorities with children's services duties, 2009-2011.

Letters name their authority in many ways ("London Borough of Bromley", "Bromley Council",
"Kingston upon Hull City Council", OCR-damaged "Brornley"); the dataset needs one canonical
name and codes that other statistics can be joined on. The data live in
`data/authorities.csv`; this module resolves phrases to rows of it.

Choices made in the data, so that users can join on them knowingly:

* `la_code` is the DfE three-digit local authority code, kept as text. The Isles of Scilly
  is 420 in DfE statistics.
* `gss_code` is the ONS code as it stood in 2011, the period of the letters. Gateshead and
  Northumberland were recoded in 2013 after a boundary change (E08000020 -> E08000037,
  E06000048 -> E06000057); the 2011 codes are kept. Bournemouth (E06000028), Poole
  (E06000029), Dorset (E10000009), Buckinghamshire (E10000002), Northamptonshire
  (E10000021), Cumbria (E10000006), North Yorkshire (E10000023) and Somerset (E10000027)
  were abolished or reorganised later; their 2011 codes are kept too.
* `type` is one of "London borough", "metropolitan district", "county", "unitary" and
  "City of London corporation". The City of London is a sui generis corporation, not a
  London borough, although ONS codes it E09. The Council of the Isles of Scilly is also
  sui generis; it is typed "unitary" because it exercises unitary functions and ONS codes
  it as a unitary authority (E06).
* `region` is one of the nine English regions as at 2011.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process

DATA_PATH = Path(__file__).with_name("data") / "authorities.csv"

# Fuzzy matches must beat the runner-up (another authority) by this much, so that near
# names such as East Sussex / West Sussex are never guessed between.
FUZZY_MARGIN = 0.05
# A fuzzy match never claims the certainty of an exact one.
FUZZY_CEILING = 0.99

_TOKEN_RE = re.compile(r"[^\W_]+|&")
# What may sit between the words of one authority name in running text.
_JOIN_RE = re.compile(r"[\s\-.'\u2019]*")

# Words around a name that say what kind of council it is, not which one.
_PREFIXES: tuple[tuple[str, ...], ...] = (
    ("city", "and", "county", "of"),
    ("london", "borough", "of"),
    ("royal", "borough", "of"),
    ("metropolitan", "borough", "of"),
    ("council", "of", "the"),
    ("corporation", "of", "the"),
    ("council", "of"),
    ("corporation", "of"),
    ("borough", "of"),
    ("county", "of"),
    ("city", "of"),
)
_SUFFIXES: tuple[tuple[str, ...], ...] = (
    ("metropolitan", "borough", "council"),
    ("metropolitan", "district", "council"),
    ("london", "borough", "council"),
    ("county", "borough", "council"),
    ("borough", "council"),
    ("district", "council"),
    ("county", "council"),
    ("city", "council"),
    ("council",),
    ("corporation",),
)

# Common OCR confusions, applied identically to queries and to gazetteer keys.
_OCR_SEQUENCES = (("rn", "m"), ("vv", "w"))
_OCR_CHARS = str.maketrans({"0": "o", "1": "l", "8": "b", "5": "s"})

# Phrases in which a letter names its authority, for text too damaged for exact matching.
_WORD = r"[^\s,;:()]+"
_WORDS = rf"{_WORD}(?:[ \t]+{_WORD}){{0,4}}"
_CONTEXT_PATTERNS = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        rf"(?:(?:London|Royal|Metropolitan)[ \t]+)?Borough[ \t]+of[ \t]+{_WORDS}",
        rf"(?:Council|Corporation)[ \t]+of[ \t]+{_WORDS}",
        rf"(?:City|County)[ \t]+of[ \t]+{_WORDS}",
        rf"(?:{_WORD}[ \t]+){{1,4}}(?:(?:Metropolitan[ \t]+)?(?:City|County|Borough|District)[ \t]+)?Council\b",
        r"Children['\u2019]?s[ \t]+services[ \t]+in[ \t]+(?:the[ \t]+)?(?P<x>[^\n]{2,80}?)[ \t]+perform",
    )
)
_SPAN_WORD_RE = re.compile(r"[^\s,;:()]+")
_MAX_SPAN_WORDS = 7


@dataclass(frozen=True)
class Authority:
    """One local authority: canonical DfE short name, codes, type, region and known aliases."""

    name: str
    la_code: str
    gss_code: str
    type: str
    region: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class AuthorityMatch:
    """An authority found in text, with where and how it was found."""

    authority: Authority
    as_written: str
    start: int
    end: int
    score: float
    method: str  # "gazetteer" (exact name or alias) | "gazetteer-fuzzy"


@dataclass(frozen=True)
class _Index:
    exact: dict[str, Authority]
    phrases: dict[tuple[str, ...], Authority]
    longest_from: dict[str, int]
    fuzzy_keys: tuple[str, ...]
    fuzzy_owners: tuple[Authority, ...]


def _norm_token(token: str) -> str:
    token = token.lower()
    if token == "&":
        return "and"
    if token == "saint":
        return "st"
    return token


def _tokens(text: str) -> list[str]:
    return [_norm_token(m.group()) for m in _TOKEN_RE.finditer(text)]


def _drop_article(tokens: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    tokens = tuple(tokens)
    while tokens and tokens[0] == "the":
        tokens = tokens[1:]
    return tokens


def _strip_affixes(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """Remove "London Borough of", "City Council" and the like, never emptying the phrase."""
    changed = True
    while changed:
        changed = False
        tokens = _drop_article(tokens)
        for prefix in _PREFIXES:
            if len(tokens) > len(prefix) and tokens[: len(prefix)] == prefix:
                tokens = tokens[len(prefix):]
                changed = True
                break
        for suffix in _SUFFIXES:
            if len(tokens) > len(suffix) and tokens[-len(suffix):] == suffix:
                tokens = tokens[: -len(suffix)]
                changed = True
                break
    return tokens


def _fold(tokens: tuple[str, ...]) -> str:
    """A spelling-insensitive key: OCR confusions undone and spaces removed ("Bir mingham")."""
    text = "".join(tokens).translate(_OCR_CHARS)
    for wrong, right in _OCR_SEQUENCES:
        text = text.replace(wrong, right)
    return text


@lru_cache(maxsize=1)
def _load() -> tuple[Authority, ...]:
    with DATA_PATH.open(encoding="utf-8", newline="") as f:
        return tuple(
            Authority(
                name=row["name"],
                la_code=row["la_code"],
                gss_code=row["gss_code"],
                type=row["type"],
                region=row["region"],
                aliases=tuple(a.strip() for a in row["aliases"].split(";") if a.strip()),
            )
            for row in csv.DictReader(f)
        )


def load_authorities() -> list[Authority]:
    """All authorities, in the CSV's order (read from disk once per process)."""
    return list(_load())


@lru_cache(maxsize=1)
def _index() -> _Index:
    exact: dict[str, Authority] = {}
    phrases: dict[tuple[str, ...], Authority] = {}
    longest_from: dict[str, int] = {}
    fuzzy_keys: list[str] = []
    fuzzy_owners: list[Authority] = []
    for authority in _load():
        for written in (authority.name, *authority.aliases):
            tokens = _drop_article(_tokens(written))
            if not tokens:
                continue
            key = " ".join(tokens)
            owner = exact.setdefault(key, authority)
            if owner is not authority:
                raise ValueError(f"{written!r} names both {owner.name} and {authority.name}")
            phrases[tokens] = authority
            longest_from[tokens[0]] = max(longest_from.get(tokens[0], 0), len(tokens))
            fuzzy_keys.append(_fold(tokens))
            fuzzy_owners.append(authority)
    return _Index(exact, phrases, longest_from, tuple(fuzzy_keys), tuple(fuzzy_owners))


def _fuzzy_best(variants: list[tuple[str, ...]], min_score: float) -> tuple[Authority, float] | None:
    """Best authority by fuzzy score, or None if too weak or too close to the runner-up."""
    index = _index()
    cutoff = max(0.0, (min_score - FUZZY_MARGIN) * 100)
    best: dict[str, tuple[Authority, float]] = {}
    for variant in variants:
        query = _fold(variant)
        if not query:
            continue
        for _, score, i in process.extract(
            query, index.fuzzy_keys, scorer=fuzz.ratio, score_cutoff=cutoff, limit=40
        ):
            authority = index.fuzzy_owners[i]
            if score > best.get(authority.la_code, (authority, -1.0))[1]:
                best[authority.la_code] = (authority, score)
    ranked = sorted(best.values(), key=lambda pair: pair[1], reverse=True)
    if not ranked or ranked[0][1] < min_score * 100:
        return None
    if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < FUZZY_MARGIN * 100:
        return None
    return ranked[0][0], ranked[0][1] / 100


def lookup_authority(name: str, min_score: float = 0.85) -> AuthorityMatch | None:
    """Resolve one phrase naming an authority, exactly if possible, else by fuzzy matching.

    Returns None when nothing scores at least `min_score`, or when the best candidate does not
    clearly beat the next authority (ambiguity is left for a human rather than guessed).
    """
    as_written = name.strip()
    if not as_written:
        return None
    start = name.index(as_written)
    end = start + len(as_written)
    tokens = _drop_article(_tokens(as_written))
    if not tokens:
        return None
    variants = list(dict.fromkeys((tokens, _strip_affixes(tokens))))
    index = _index()
    for variant in variants:
        authority = index.exact.get(" ".join(variant))
        if authority is not None:
            return AuthorityMatch(authority, as_written, start, end, 1.0, "gazetteer")
    found = _fuzzy_best(variants, min_score)
    if found is None:
        return None
    authority, score = found
    return AuthorityMatch(authority, as_written, start, end, min(score, FUZZY_CEILING), "gazetteer-fuzzy")


def find_authorities(text: str) -> list[AuthorityMatch]:
    """Every exact mention of an authority name or alias in `text`, leftmost-longest.

    Works on word tokens so that line breaks, hyphens, "&"/"and" and "St"/"St." inside a
    name do not matter. A one-word match must be capitalised in the text, so that the noun
    "reading" is not taken for Reading; longer names match in any case. All mentions are
    returned; the caller decides which one is the letter's authority.
    """
    index = _index()
    spans = [(m.start(), m.end(), _norm_token(m.group())) for m in _TOKEN_RE.finditer(text)]
    matches: list[AuthorityMatch] = []
    i = 0
    while i < len(spans):
        longest = min(index.longest_from.get(spans[i][2], 0), len(spans) - i)
        for length in range(longest, 0, -1):
            authority = index.phrases.get(tuple(s[2] for s in spans[i : i + length]))
            if authority is None:
                continue
            start, end = spans[i][0], spans[i + length - 1][1]
            joined = all(
                _JOIN_RE.fullmatch(text, spans[k][1], spans[k + 1][0]) for k in range(i, i + length - 1)
            )
            if not joined or (length == 1 and not text[start].isupper()):
                continue
            matches.append(AuthorityMatch(authority, text[start:end], start, end, 1.0, "gazetteer"))
            i += length
            break
        else:
            i += 1
    return matches


def fuzzy_find_authority(text: str, min_score: float = 0.85) -> AuthorityMatch | None:
    """The authority named in OCR-damaged text, found through the phrases letters use.

    For when `find_authorities` finds nothing: looks at "London Borough of <X>",
    "<X> City Council", "Council of <X>", "Children's services in <X> perform" and similar,
    tries every run of words there with `lookup_authority`, and keeps the best-scoring run
    (the longer run on a tie, then the earlier).
    """
    cache: dict[str, AuthorityMatch | None] = {}
    best: AuthorityMatch | None = None
    for pattern in _CONTEXT_PATTERNS:
        for m in pattern.finditer(text):
            lo, hi = m.span("x") if "x" in pattern.groupindex else m.span()
            words = [
                (w.start(), w.start() + len(w.group().rstrip(".")))
                for w in _SPAN_WORD_RE.finditer(text, lo, hi)
                if w.group().rstrip(".")
            ]
            for a in range(len(words)):
                for b in range(a, min(len(words), a + _MAX_SPAN_WORDS)):
                    start, end = words[a][0], words[b][1]
                    phrase = text[start:end]
                    if phrase not in cache:
                        cache[phrase] = lookup_authority(phrase, min_score)
                    found = cache[phrase]
                    if found is None:
                        continue
                    candidate = AuthorityMatch(found.authority, phrase, start, end, found.score, found.method)
                    if best is None or (candidate.score, end - start, -start) > (
                        best.score,
                        best.end - best.start,
                        -best.start,
                    ):
                        best = candidate
    return best
