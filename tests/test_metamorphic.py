"""Metamorphic tests: rewrites that must not change any statistic's value, denominator, subject or judgement.

The letters come from corpus/ (the real seeds), ../shared/dev-set (letters written by others, when
present) and the generator. Each letter is read once, then rewritten in a way a different writer or
printer might have done it, and read again: digits and number words swapped, another determiner
after "of", a partitive fronted, lines re-wrapped, quotes curled, a page break with a running
header inside a paragraph, two clauses swapped, the second clause's verb left out ("..., as are B"),
two clauses made a bulleted list. A grammar that only knows the sentences it was tuned on fails here.
"""
from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import regex

from conftest import CORPUS, SHARED
from pipeline.process import process_document
from pipeline.records import LetterRecord

UNITS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
WORD_VALUES = {w: i for i, w in enumerate(UNITS)} | {w: 10 * i for i, w in enumerate(TENS) if w != "_"}


def in_words(n: int) -> str:
    """A whole number under 1,000 as a British writer spells it ("one hundred and twelve", "forty-one")."""
    if n < 20:
        return UNITS[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else "-" + UNITS[n % 10])
    rest = n % 100
    return UNITS[n // 100] + " hundred" + ("" if rest == 0 else " and " + in_words(rest))


def in_digits(words: str) -> str | None:
    parts = regex.split(r"[\s-]+", words.lower())
    if not parts or any(p not in WORD_VALUES for p in parts) or len(parts) > 2:
        return None
    return str(sum(WORD_VALUES[p] for p in parts))


def _letters() -> list[Path]:
    paths = sorted(CORPUS.glob("*.txt"))
    dev = SHARED / "dev-set"
    if (dev / "manifest.csv").exists():
        import csv

        with (dev / "manifest.csv").open(encoding="utf-8") as fh:
            paths += [dev / "docs" / r["file"] for r in csv.DictReader(fh) if r["kind"] == "a-clean-txt"]
    return paths


# A letter of our own with every shape the rewrites change, so each rewrite has something to test
# even where ../shared/dev-set is absent (as in CI).
HANDWRITTEN_NARRATIVE = (
    "Most services are good. Four of the five children's homes are good and 12 of the 15 nursery schools "
    "are good or better. Provision is satisfactory in one of the two pupil referral units, and the "
    "three special schools are outstanding.\n\nOver 70% of childminding is good or outstanding, "
    "and two of the council's four secondary schools are satisfactory. Thirteen out of 14 "
    "primary schools are good, with one being satisfactory. All three adoption agencies are good and two of "
    "the four fostering agencies are good."
)


@pytest.fixture(scope="module")
def generated_letters(tmp_path_factory) -> list[Path]:
    from fixtures.generate import generate_corpus
    from test_extract import letter

    out = tmp_path_factory.mktemp("metamorphic")
    manifest = generate_corpus(out, count=8, seed=29)
    own = out / "handwritten.txt"
    own.write_text(letter(narrative=HANDWRITTEN_NARRATIVE), encoding="utf-8")
    return [own] + [out / "letters" / f["name"] for f in manifest["files"] if f["kind"] == "text" and f["expected_status"] == "ok"][:6]


def read(tmp: Path, name: str, text: str) -> LetterRecord:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return process_document(path)


def signature(record: LetterRecord) -> Counter:
    """The statistics as a reader compares them: value, denominator, subject (singular), judgement."""
    def singular(s: str | None) -> str:
        return " ".join(w[:-1] if w.endswith("s") and len(w) > 3 else w for w in (s or "").lower().split())
    return Counter((s.value, s.denominator, singular(s.subject), s.judgement) for s in record.statistics)


def _replace_spans(text: str, spans: list[tuple[int, int, str]]) -> str:
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def digits_to_words(record: LetterRecord) -> str:
    text = record.text.text
    spans = [(n.start, n.end, in_words(int(n.text))) for n in record.numbers
             if n.role == "statistic" and n.rule in ("value", "denominator") and n.text.isdigit() and int(n.text) < 1000]
    # a number at the start of a sentence is spelt with a capital
    return _replace_spans(text, [(a, b, w.capitalize() if a == 0 or text[a - 2:a] in (". ", "\n\n") or text[a - 1] == "\n" else w)
                                 for a, b, w in spans])


def words_to_digits(record: LetterRecord) -> str:
    spans = []
    for n in record.numbers:
        if n.role == "statistic" and n.rule in ("value", "denominator") and (digits := in_digits(n.text)):
            spans.append((n.start, n.end, digits))
    return _replace_spans(record.text.text, spans)


def _partitive_determiner(new: str) -> Callable[[LetterRecord], str]:
    def rewrite(record: LetterRecord) -> str:
        spans = []
        for s in record.statistics:
            if s.form == "partitive" and s.denominator is not None:
                m = regex.search(rf"\bof\s+the\s+(?=\d|(?:{'|'.join(WORD_VALUES)})\b)", s.text, regex.IGNORECASE)
                if m:
                    spans.append((s.start + m.start(), s.start + m.end(), f"of {new} "))
        return _replace_spans(record.text.text, spans)
    rewrite.__name__ = f"of_{new.replace(' ', '_').replace(chr(39), '')}"
    return rewrite


def front_partitive(record: LetterRecord) -> str:
    """"Four of the five children's homes are good" -> "Of the five children's homes, four are good"."""
    text = record.text.text
    spans = []
    for s in record.statistics:
        m = regex.fullmatch(r"(?P<n>[\w-]+)\s+of\s+(?P<base>(?:the|its)\s+[\w-]+\s+.+)", s.text)
        verb = regex.match(r"\s+(are|is|were|was)\b", text[s.end:])
        if s.form == "partitive" and m and verb and s.subject and s.text.lower().endswith(s.subject.lower()):
            spans.append((s.start, s.end, f"Of {m['base']}, {m['n'].lower()}" if m["n"][0].isupper() else f"of {m['base']}, {m['n']}"))
    return _replace_spans(text, [sp for sp in spans if sp[2].startswith("Of ")])


def rewrap(width: int) -> Callable[[LetterRecord], str]:
    def rewrite(record: LetterRecord) -> str:
        text = record.text.text
        spans = []
        for seg in record.segments:
            if seg.segment == "narrative":
                paragraphs = regex.split(r"\n\s*\n", seg.text)
                wrapped = "\n\n".join(textwrap.fill(" ".join(p.split()), width, break_on_hyphens=False) for p in paragraphs)
                spans.append((seg.start, seg.end, wrapped))
        return _replace_spans(text, spans)
    rewrite.__name__ = f"rewrap_{width}"
    return rewrite


def curly_quotes(record: LetterRecord) -> str:
    return record.text.text.replace("'", "\u2019")


def page_break_in_paragraph(record: LetterRecord) -> str:
    """A page ends in the middle of the narrative's longest paragraph, with a footer and a running header."""
    text = record.text.text
    narrative = next(s for s in record.segments if s.segment == "narrative")
    paragraphs = [(m.start(), m.end()) for m in regex.finditer(r"[^\n]+(?:\n[^\n]+)*", narrative.text)]
    a, b = max(paragraphs, key=lambda p: p[1] - p[0])
    middle = narrative.text.find(". ", a + (b - a) // 2, b)
    if middle < 0:
        return text
    cut = narrative.start + middle + 2
    return text[:cut].rstrip(" ") + "\n\nPage 1 of 2\n\f\n" + text[cut:]


def _two_clauses(record: LetterRecord) -> list[tuple[int, int, str, str, object, object]]:
    """Narrative sentences made of two clauses joined by "and", each opening with a statistic of its own
    ("Four of the five homes are good and 12 of the 15 schools are good or better."): (sentence start,
    end, first clause, second clause, first statistic, second statistic)."""
    text = record.text.text
    found = []
    for seg in record.segments:
        if seg.segment != "narrative":
            continue
        for m in regex.finditer(r"(?<=^|[.!?]\s)[^.!?]+[.]", seg.text):
            start, end = seg.start + m.start(), seg.start + m.end()
            inside = [s for s in record.statistics if start <= s.start and s.end <= end]
            if len(inside) != 2 or not all(s.subject and s.judgement for s in inside):
                continue
            first, second = inside
            glue = regex.search(r",?\s+and\s+$", text[first.end:second.start])
            # each clause names its own setting, so neither leans on the other ("..., and five of the nine are ...")
            own = all(s.subject.lower() in s.text.lower() for s in inside)
            if first.start != start or glue is None or not own or regex.search(r"\b(?:them|these|those|other|rest|remaining)\b", text[second.start:end]):
                continue
            found.append((start, end, text[start:first.end + glue.start()], text[second.start:end - 1], first, second))
    return found


def _sentence_case(clause: str, first: bool) -> str:
    return clause[:1].upper() + clause[1:] if first else (clause[:1].lower() + clause[1:] if clause[:2].istitle() else clause)


def clause_order(record: LetterRecord) -> str:
    """"A and B." -> "B, and A.": the clauses change places."""
    spans = [(a, b, f"{_sentence_case(second, True)}, and {_sentence_case(first, False)}.") for a, b, first, second, *_ in _two_clauses(record)]
    return _replace_spans(record.text.text, spans)


def ellipsis(record: LetterRecord) -> str:
    """"A are good and B are good." -> "A are good, as are B.": the second clause leaves its verb and grade out."""
    spans = []
    for a, b, first, second, s1, s2 in _two_clauses(record):
        m = regex.fullmatch(r"(?P<stat>.+?)\s+(?P<verb>are|is|were|was)\s+(?P<grade>.+)", second)
        if m and s1.judgement == s2.judgement and m["grade"].lower() == s2.judgement and m["stat"] == s2.text:
            spans.append((a, b, f"{first}, as {m['verb']} {m['stat']}."))
    return _replace_spans(record.text.text, spans)


def bulleted_list(record: LetterRecord) -> str:
    """"A and B." -> a lead-in and a bulleted list with a clause a line."""
    spans = [(a, b, f"Inspection outcomes include the following:\n\n- {first};\n- {second}.") for a, b, first, second, *_ in _two_clauses(record)]
    return _replace_spans(record.text.text, spans)


REWRITES = [
    digits_to_words, words_to_digits, _partitive_determiner("its"), _partitive_determiner("the council's"),
    front_partitive, rewrap(52), rewrap(110), curly_quotes, page_break_in_paragraph, clause_order, ellipsis, bulleted_list,
]


@pytest.mark.parametrize("rewrite", REWRITES, ids=lambda f: f.__name__)
def test_rewrites_keep_the_statistics(tmp_path, rewrite, generated_letters):
    letters = _letters() + generated_letters
    changed = 0
    failures = []
    for path in letters:
        original = path.read_bytes().decode("utf-8-sig", errors="replace")
        before = read(tmp_path, "before.txt", original)
        if before.status != "ok":
            continue
        baseline = read(tmp_path, "baseline.txt", before.text.text)
        rewritten = rewrite(baseline)
        if rewritten == baseline.text.text:
            continue
        changed += 1
        after = read(tmp_path, "after.txt", rewritten)
        if signature(after) != signature(baseline) or (after.status, after.statistics_status) != (baseline.status, baseline.statistics_status):
            failures.append((path.name, after.status, after.statistics_status, (after.issues + after.statistics_issues)[:2],
                             signature(baseline) - signature(after), signature(after) - signature(baseline)))
    assert changed > 0, f"{rewrite.__name__} changed no letter: the rewrite tests nothing"
    assert not failures, failures
