"""A letter forwarded by e-mail and saved as text carries a quoting prefix ("> ", "| ", "> > ") on every
line. The prefixes are taken off before the letter is read, so its address block, table rows and
hard-wrapped sentences read as they were written; the e-mail's headers and footers around the letter
are found later, as the `wrapper` segment (segment.find_wrapper_end, find_wrapper_tail)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from pipeline.config import compiled, patterns
from pipeline.records import Quoting


@dataclass(frozen=True)
class Unquoted:
    """A text with its quoting prefixes taken off, and what was taken."""

    text: str
    quoting: Quoting | None


def _quoted_runs(prefixes: list[str | None], blank: list[bool]) -> list[tuple[int, int]]:
    """The runs of lines (first, last) that carry a prefix, blank lines inside a run belonging to it."""
    runs: list[tuple[int, int]] = []
    first = last = None
    for i, prefix in enumerate(prefixes):
        if prefix is not None:
            first = i if first is None else first
            last = i
        elif not blank[i] and first is not None:
            runs.append((first, last))
            first = None
    if first is not None:
        runs.append((first, last))
    return runs


def _is_quotation(lines: list[str], prefixes: list[str | None], first: int, last: int) -> bool:
    """Enough prefixed lines to be a quotation, and not a table drawn with bars: a bar that opens a line
    quotes it only when the line does not also close with one ("| 4 | Performs excellently |")."""
    quoted = [i for i in range(first, last + 1) if prefixes[i] is not None]
    if len(quoted) < patterns()["wrapper"]["min_quoted_lines"]:
        return False
    barred = [i for i in quoted if "|" in prefixes[i] and ">" not in prefixes[i]]
    closed = sum(lines[i].rstrip().endswith("|") for i in barred)
    return not barred or closed < 0.5 * len(barred)


def unquote(text: str) -> Unquoted:
    """The text with the quoting prefixes taken off every line of each quoted run."""
    rule = compiled("wrapper", "quote_prefix")
    lines = text.split("\n")
    prefixes: list[str | None] = []
    for line in lines:
        found = rule.match(line)
        prefixes.append(found.group() if found else None)
    blank = [not line.strip() for line in lines]
    taken: Counter[str] = Counter()
    for first, last in _quoted_runs(prefixes, blank):
        if not _is_quotation(lines, prefixes, first, last):
            continue
        for i in range(first, last + 1):
            if prefixes[i] is not None:
                lines[i] = lines[i][len(prefixes[i]):]
                taken[prefixes[i]] += 1
    if not taken:
        return Unquoted(text, None)
    deepest = max(taken, key=lambda p: (sum(ch in ">|" for ch in p), taken[p], p.endswith(" ")))
    return Unquoted("\n".join(lines), Quoting(deepest, sum(taken.values())))
