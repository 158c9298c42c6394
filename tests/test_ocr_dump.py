"""Text files that are another program's OCR of a scan (pipeline/read/ocr_dump.py): told apart by the
specks at the edges of their lines, read through them, and flagged on both sides, never rejected.

The damaged letters are the real seeds with a scanner's specks put in, as `tesseract page.png out txt`
leaves them: marks before a line's first word, a mark or a two-letter non-word after its last, a
speck glued to a name, a first name and surname run together.
"""
from __future__ import annotations

import random

import pytest
import regex

from conftest import CORPUS, SHARED
from pipeline.process import process_document
from pipeline.read.ocr_dump import OCR_DUMP_METHOD, clear_line_specks, is_ocr_dump, line_specks, speck_share
from pipeline.records import WHOLE_TEXT

FIELDS = ("authority_name", "letter_date", "rating_score", "rating_label", "recipient_name", "recipient_title", "signatory_name", "signatory_title")
BEFORE = [": ", "~ ", "_ ", "| ", ". ", ": ~ ", "' "]
AFTER = [" oe", " e", " :", " '", " -", " ee =", " ae"]


@pytest.mark.parametrize("line, kept", [
    ("Chief Executive e", "Chief Executive"),
    (": ~ Dear Mr Treloar", "Dear Mr Treloar"),
    ("Mr Stephen Treloar :", "Mr Stephen Treloar"),
    ("Yours sincerely oe", "Yours sincerely"),
    ("_ Councillor Helen Tavener es '", "Councillor Helen Tavener"),
    ("e Children's services in Plymouth perform well, : : ie", "Children's services in Plymouth perform well,"),
    # a real short word at a line's end or start is the sentence's own
    ("outcomes for children and young people in a", "outcomes for children and young people in a"),
    ("a rating of 'performs well'", "a rating of 'performs well'"),
    ("Performs well (3)", "Performs well (3)"),
])
def test_specks_at_a_line_s_edges_are_told_from_its_words(line, kept):
    start, end = line_specks(line)
    assert line[start:end] == kept


def damaged(text: str, seed: int) -> str:
    """The letter as another program's OCR of its scan gives it (see the module docstring)."""
    rng = random.Random(seed)
    lines = []
    for line in text.split("\n"):
        if line.strip() and rng.random() < 0.6:
            if rng.random() < 0.5:
                line = rng.choice(BEFORE) + line
            else:
                line = line + rng.choice(AFTER)
        lines.append(line)
    # the signatory's first name and surname run together, a rule's speck before them
    for i in range(len(lines) - 1, max(len(lines) - 5, 0), -1):
        glued = regex.sub(r"^([A-Z][a-z]+) ([A-Z][a-z]+)\b", r"--\1\2", lines[i])
        if glued != lines[i]:
            lines[i] = glued
            break
    return "\n".join(lines)


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.txt")))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_seed_letter_as_an_ocr_dump_is_read_through_its_specks_and_flagged(tmp_path, name, seed):
    clean = process_document(CORPUS / name)
    path = tmp_path / name
    path.write_text(damaged((CORPUS / name).read_text(encoding="utf-8"), seed), encoding="utf-8")
    dump = process_document(path)
    assert dump.text.page_methods == [OCR_DUMP_METHOD]
    assert dump.status == "needs_review" and dump.statistics_status == "needs_review"
    assert any(issue.startswith(f"{WHOLE_TEXT}:") for issue in dump.issues)
    assert {f: dump.value(f) for f in FIELDS} == {f: clean.value(f) for f in FIELDS}


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.txt")))
def test_a_clean_letter_is_not_an_ocr_dump(name):
    text = (CORPUS / name).read_text(encoding="utf-8")
    assert not is_ocr_dump(text) and clear_line_specks(text).split() == text.split()


def test_text_files_written_by_others_are_told_apart_with_room_to_spare():
    """Of the dev-set's text files, only the OCR dumps of low-resolution scans reach the threshold, and
    every other stays well under it: a letter whose lines end in short words is not taken for one."""
    docs = SHARED / "dev-set" / "docs"
    if not docs.is_dir():
        pytest.skip("../shared/dev-set is not present beside the repository")
    shares = {p.name: speck_share(p.read_text(encoding="utf-8", errors="replace")) for p in sorted(docs.glob("*.txt"))}
    dumps = {name for name, share in shares.items() if share >= 0.35}
    assert all(share < 0.3 for name, share in shares.items() if name not in dumps)
    assert 1 <= len(dumps) <= 5
