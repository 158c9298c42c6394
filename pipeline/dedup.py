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

from pipeline.records import WHOLE_TEXT
from pipeline.rows import ISSUE_SEPARATOR

# the values that make a letter what it is: two letters for one authority and year differing in any are a conflict
CONFLICT_FIELDS = ("letter_date", "rating_score", "rating_label", "recipient_name", "signatory_name")
READ_AS_LETTER = ("ok", "needs_review")


def text_key(rows: dict[str, list[dict]]) -> str | None:
    """A key for the document's normalised text; None for a document with no text (a failed read)."""
    documents = rows.get("documents") or []
    text = documents[0].get("text") if documents else None
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


def preference(letter: dict) -> tuple:
    """How letters for one authority and year are ordered when one must stand for them (coverage, the
    report): a self-consistent copy (`ok`) before one with issues, fewer issues first, then path order."""
    issues = letter.get("issues") or ""
    return (letter.get("status") != "ok", len(issues.split(ISSUE_SEPARATOR)) if issues else 0, str(letter.get("source_path") or ""))


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
