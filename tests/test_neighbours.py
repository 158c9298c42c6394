"""Ofsted's other letters to the same directors are not rating letters: the 2008 annual performance
assessment (graded 1-4, inadequate to outstanding) and the unannounced inspection of contact, referral and
assessment arrangements. The generator writes them around a rating letter's own letterhead, address,
salutation and signatory, as text and as PDF; read end to end, each is not_rating_letter, and the rating
letter beside them stays a rating letter."""
from __future__ import annotations

import pandas as pd
import pytest

from fixtures.generate import NEIGHBOURS, generate_neighbours
from pipeline.ingest import ingest


@pytest.fixture(scope="module")
def neighbours(tmp_path_factory):
    work = tmp_path_factory.mktemp("neighbours")
    entries = generate_neighbours(work / "generated", 10, seed=2)
    ingest([work / "generated" / "letters"], work / "out", workers=2)
    letters = pd.read_csv(work / "out" / "letters.csv", dtype=str, keep_default_na=False)
    rows = {path.rsplit("/", 1)[-1]: row for path, row in zip(letters["source_path"], letters.to_dict("records"))}
    return entries, rows


def test_the_generator_makes_both_schemes_as_text_and_pdf(neighbours):
    entries, _ = neighbours
    made = {(e["neighbour"], e["format"]) for e in entries if e["neighbour"]}
    assert made == {(kind, fmt) for kind in NEIGHBOURS for fmt in ("txt", "pdf")}


def test_letters_of_the_neighbouring_schemes_are_not_rating_letters(neighbours):
    entries, rows = neighbours
    for entry in entries:
        row = rows[entry["name"]]
        if entry["neighbour"] is None:
            assert row["status"] in ("ok", "needs_review") and row["rating_score"], (entry["name"], row["issues"])
            continue
        assert row["status"] == "not_rating_letter", (entry["name"], row["status"], row["issues"])
        assert row["rating_score"] == "" and row["n_statistics"] in ("", "0")


def test_the_reason_names_the_other_scheme_where_the_letter_uses_the_ratings_words(neighbours):
    """A neighbour that names the children's services rating or assessment and has enough of the rating
    letters' words to pass for one is refused for the scheme its heading names."""
    entries, rows = neighbours
    named = [rows[e["name"]]["issues"] for e in entries if e["neighbour"] and "another of Ofsted's schemes" in rows[e["name"]]["issues"]]
    assert named, "no neighbour used enough of the rating letters' words to test the scheme check"
    assert all("annual performance assessment" in issue.lower() or "contact, referral and assessment" in issue.lower() for issue in named)
