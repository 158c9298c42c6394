"""Copies and conflicts among the letters of one run.

A document is a duplicate (`duplicate_of`) of an earlier one only when it has the same bytes or the
same normalised text. Two documents for the same authority and year that are not duplicates are
either agreeing copies of one letter (a text export and a PDF of it, say), left as they are, or a
conflict: their values differ, so both go to review, each naming the other and the values that differ.
A value a letter already doubts (its own issues name the field, or doubt its whole text) is no evidence
of a conflict.
"""
from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass

from pipeline.config import compiled, patterns
from pipeline.records import WHOLE_TEXT
from pipeline.rows import ISSUE_SEPARATOR

# the values that make a letter what it is: two letters for one authority and year differing in any are a conflict
CONFLICT_FIELDS = ("letter_date", "rating_score", "rating_label", "recipient_name", "signatory_name")
READ_AS_LETTER = ("ok", "needs_review")


def text_key(text: str | None) -> str | None:
    """A key for a letter's normalised text, the same however it is spaced; None for no text (a failed read)."""
    if not text or not text.strip():
        return None
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


def _doubted(letter: dict, field: str) -> bool:
    issues = letter.get("issues") or ""
    return any(issue.startswith((field, f"{WHOLE_TEXT}:")) for issue in issues.split(ISSUE_SEPARATOR))


_NOT_WORD = re.compile(r"[\W_]+")


def _same(a: object, b: object) -> bool:
    """The same value however it is punctuated or spaced ("Mr. Christopher Lane" is "Mr Christopher Lane")."""
    return _NOT_WORD.sub("", str(a)).casefold() == _NOT_WORD.sub("", str(b)).casefold()


def differences(a: dict, b: dict) -> list[tuple[str, object, object]]:
    """The values two letters for one authority and year disagree on: (field, a's, b's). A field
    either lacks, or either doubts, is not compared."""
    found = []
    for field in CONFLICT_FIELDS:
        va, vb = a.get(field), b.get(field)
        if va in (None, "") or vb in (None, "") or _doubted(a, field) or _doubted(b, field):
            continue
        if not _same(va, vb):
            found.append((field, va, vb))
    return found


# Issues (validate.py) in which a letter's own values disagree with each other: its rating line with its
# scale or its narrative, its heading's year with its rating year, its date with its year, its wording
# with its year's scheme, its address with its subject line.
_CONTRADICTION = re.compile(
    r"^(?:rating: (?:label .* does not go with|the letter's own scale gives|the rating line says)|rating_year: the rating heading says"
    r"|letter_date \S+ does not fit|wording: |authority: the address names)")
# the fields whose confidence is a letter's evidence for the values a conflict is about
EVIDENCE_FIELDS = ("authority_name", "rating_year", *CONFLICT_FIELDS)


@dataclass(frozen=True)
class Evidence:
    """How well a letter's own text supports its values: whether its rating line and its "services perform
    ..." sentence say the same rating, and the lowest confidence of its values (fields.confidence)."""

    rating_confirmed: bool
    min_confidence: float


def _own_issues(letter: dict) -> list[str]:
    """The letter's issues about itself: not the conflict issues, which are about another letter."""
    return [i for i in (letter.get("issues") or "").split(ISSUE_SEPARATOR) if i and not i.startswith("conflict:")]


def contradicts_itself(letter: dict) -> bool:
    """Whether the letter's own values disagree with each other (its rating line and narrative, say)."""
    return any(_CONTRADICTION.match(issue) for issue in _own_issues(letter))


def evidence(letter: dict, fields: list[dict], text: str | None) -> Evidence:
    """A letter's evidence from its fields rows and its text: a rating read from the rating line whose label
    the narrative's perform sentence repeats is confirmed twice over."""
    by_field = {f["field"]: f for f in fields}
    label = by_field.get("rating_label")
    scale = patterns()["scale"]
    confirmed = False
    if label is not None and label.get("method") != "perform-sentence" and text and not contradicts_itself(letter):
        perform = compiled("segment", "perform_sentence").search(text)
        confirmed = bool(perform) and dict(zip(scale["verbs"], scale["labels"])).get(perform["verb"].lower()) == label.get("value")
    confidences = [float(by_field[name]["confidence"]) for name in EVIDENCE_FIELDS if by_field.get(name, {}).get("confidence") is not None]
    return Evidence(confirmed, min(confidences, default=0.0))


def preference(letter: dict, found: Evidence | None = None) -> tuple:
    """How letters for one authority and year are ordered when one must stand for them (coverage, the
    report): a letter vouched for (`ok`) first; then one that does not contradict itself; then one whose
    rating its rating line and narrative both give, fewer issues of its own, more confident values
    (given its Evidence); and only then path order, which says nothing about which copy is right."""
    confirmed = found.rating_confirmed if found is not None else False
    confidence = found.min_confidence if found is not None else 0.0
    return (letter.get("status") != "ok", contradicts_itself(letter), not confirmed, len(_own_issues(letter)), -round(confidence, 3),
            str(letter.get("source_path") or ""))


def group_key(letter: dict) -> tuple | None:
    """The authority and year a rating letter is for; None for what is not one, or is a duplicate."""
    if letter.get("status") not in READ_AS_LETTER or letter.get("duplicate_of"):
        return None
    la, year = letter.get("authority_la_code"), letter.get("rating_year")
    if la in (None, "") or year in (None, ""):
        return None
    return (str(la), int(year))


def mark_conflicts(letters: list[dict]) -> int:
    """Flag every letter that disagrees with another for the same authority and year: status
    needs_review, and an issue naming the other letter and both values of each field that differs.
    Returns how many letters were flagged."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for letter in letters:
        key = group_key(letter)
        if key is not None:
            groups[key].append(letter)
    flagged = 0
    for group in groups.values():
        for letter in group:
            reasons = []
            for other in group:
                if other is letter:
                    continue
                diff = differences(letter, other)
                if diff:
                    said = "; ".join(f"{field} {theirs!r} there, {ours!r} here" for field, ours, theirs in diff)
                    reasons.append(f"conflict: {other['letter_id']} ({other.get('source_path')}) is for the same authority and year but differs: {said}")
            if reasons:
                issues = [i for i in (letter.get("issues") or "").split(ISSUE_SEPARATOR) if i]
                letter["issues"] = ISSUE_SEPARATOR.join(issues + [r for r in reasons if r not in issues])
                letter["status"] = "needs_review"
                flagged += 1
    return flagged
