"""Sign-offs as letters have them, made by the generator and read end to end: a signature made on the
signatory's behalf ("pp", "for", "signed in her absence by"), sign-off variants, and a copy list and
enclosures after the signature, in text exports and PDFs."""
from __future__ import annotations

import json

import pytest

from fixtures.generate import generate_pdf_letters, generate_text_letters
from pipeline.api import read_letter

PERSON_FIELDS = ("signatory_name", "signatory_title", "signatory_signed_by", "recipient_name", "authority_name", "rating_score")


@pytest.fixture(scope="module")
def letters(tmp_path_factory):
    out = tmp_path_factory.mktemp("sign_offs")
    generate_text_letters(out, 40, seed=6)
    generate_pdf_letters(out, 12, seed=6)
    found = []
    for gold_file in sorted((out / "gold").glob("*.json")):
        gold = json.loads(gold_file.read_text())
        path = out / "letters" / gold["file"]
        found.append((path, gold, path.read_bytes().decode("utf-8", "ignore") if path.suffix == ".txt" else ""))
    return found


def _with(letters, *needles):
    return [(p, g) for p, g, text in letters if any(n in text for n in needles)]


def test_the_generator_makes_every_convention(letters):
    signed_for = [g for _, g, _ in letters if g["fields"].get("signatory_signed_by")]
    assert len(signed_for) >= 3
    for needles in (("\npp ", " pp "), ("\np.p. ",), ("\nfor ",), ("absence by",), ("\ncc", "Copy to:"), ("\nEnc",),
                    ("Kind regards", "With best wishes", "Yours sincerely,", "Yours faithfully,", "Yours Sincerely")):
        assert _with(letters, *needles), needles


def test_every_generated_sign_off_reads_to_its_gold(letters):
    for path, gold, _ in letters:
        record = read_letter(path)
        # the fields are vouched for (the statistics have a status of their own)
        assert record.status == "ok", (path.name, record.issues)
        for name in PERSON_FIELDS:
            assert record.value(name) == gold["fields"].get(name), (path.name, name)
        if any(s.segment in ("copies", "enclosures") for s in record.segments):
            closing = next(s for s in record.segments if s.segment == "closing")
            assert gold["fields"]["signatory_title"].split(",")[0] in closing.text
