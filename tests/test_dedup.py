"""Duplicates are the same bytes or the same text only; two versions of a letter whose values differ are a
conflict, flagged on both sides with the other named and both values; agreeing copies stand."""
from __future__ import annotations

import pandas as pd

from test_extract import letter

from pipeline.dedup import Evidence, contradicts_itself, differences, evidence, mark_conflicts, preference
from pipeline.ingest import ingest


def _letters(out):
    return pd.read_csv(out / "letters.csv", dtype=str, keep_default_na=False).set_index(
        pd.read_csv(out / "letters.csv", dtype=str, keep_default_na=False)["source_path"].str.rsplit("/", n=1).str[-1])


def test_two_versions_with_different_ratings_are_a_conflict_never_a_duplicate(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a_kent.txt").write_text(letter(rating_line="Children's services rating\tPerforms adequately (2)",
                                            perform="Children's services in Kent County Council perform adequately."))
    (docs / "b_kent_regraded.txt").write_text(letter())
    (docs / "c_kent_crlf.txt").write_bytes(letter().replace("\n", "\r\n").encode())  # same text as b, other bytes
    out = tmp_path / "out"
    summary = ingest([docs], out, workers=1)
    rows = _letters(out)
    a, b, c = rows.loc["a_kent.txt"], rows.loc["b_kent_regraded.txt"], rows.loc["c_kent_crlf.txt"]
    assert not a["duplicate_of"] and not b["duplicate_of"]
    assert c["duplicate_of"] == b["letter_id"]
    for this, other, ours, theirs in ((a, b, "2", "3"), (b, a, "3", "2")):
        assert this["status"] == "needs_review"
        assert "conflict:" in this["issues"] and other["letter_id"] in this["issues"]
        assert f"rating_score {int(theirs)!r} there, {int(ours)!r} here" in this["issues"], this["issues"]
    assert summary.duplicates == 1 and summary.conflicts >= 2


def test_agreeing_copies_of_one_letter_both_stand(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "kent.txt").write_text(letter())
    # the same letter with another line layout (its address on one line): other text, the same values
    (docs / "kent_export.txt").write_text(letter(address="Mrs Jane Smith, Director of Children's Services, Kent County Council, Sessions House, Maidstone ME14 1XQ"))
    out = tmp_path / "out"
    ingest([docs], out, workers=1)
    rows = _letters(out)
    assert (rows["duplicate_of"] == "").all()
    assert (rows["status"] == "ok").all(), rows["issues"].tolist()


def test_a_value_a_letter_already_doubts_is_no_evidence_of_a_conflict():
    clean = {"letter_id": "a", "status": "ok", "authority_la_code": "886", "rating_year": 2009, "recipient_name": "Mrs Jane Smith",
             "rating_score": 3, "issues": None}
    scan = {**clean, "letter_id": "b", "status": "needs_review", "recipient_name": "Mrs Jane Srnith",
            "issues": "recipient_name: OCR was unsure of 'Srnith' (confidence 71/100): check it against the scan"}
    assert differences(clean, scan) == []
    letters = [clean, scan]
    assert mark_conflicts(letters) == 0 and clean["status"] == "ok"
    # the self-consistent copy is the one preferred, whatever the path order
    assert sorted(letters, key=preference)[0] is clean
    regraded = {**clean, "letter_id": "c", "rating_score": 1, "source_path": "0_first_in_path_order.txt",
                "status": "needs_review", "issues": "rating: the rating line says 'Performs poorly' but the narrative says services perform well"}
    assert sorted([regraded, clean], key=preference)[0] is clean


def test_the_same_name_punctuated_otherwise_is_no_conflict():
    a = {"letter_id": "a", "status": "ok", "authority_la_code": "886", "rating_year": 2010, "recipient_name": "Mr Christopher Lane", "issues": None}
    b = {**a, "letter_id": "b", "recipient_name": "Mr. Christopher  Lane"}
    assert differences(a, b) == [] and mark_conflicts([a, b]) == 0


def test_a_letter_whose_whole_text_is_doubted_casts_no_conflict_on_a_clean_copy():
    """Another program's OCR of the letter misread the signature: its letter doubts every value it read,
    so the clean copy stands and is not sent to review by it."""
    from pipeline.records import WHOLE_TEXT

    clean = {"letter_id": "a", "status": "ok", "authority_la_code": "801", "rating_year": 2009, "signatory_name": "Juliet Winstanley", "issues": None}
    dump = {**clean, "letter_id": "b", "status": "needs_review", "signatory_name": "Drona Wowie",
            "issues": f"{WHOLE_TEXT}: the file is another program's OCR of a scan"}
    assert differences(clean, dump) == []
    assert mark_conflicts([clean, dump]) == 0 and clean["status"] == "ok"


def test_between_copies_equally_in_doubt_the_better_evidence_wins_over_path_order():
    """Both copies flagged only by their conflict: the one whose rating line and narrative agree, then the one
    whose values were read more confidently, stands for them, wherever it is filed."""
    base = {"status": "needs_review", "authority_la_code": "886", "rating_year": 2009, "issues": "conflict: the other copy differs"}
    first = {**base, "letter_id": "a", "source_path": "a.txt"}
    second = {**base, "letter_id": "b", "source_path": "b.txt"}
    assert sorted([second, first], key=preference)[0] is first  # no evidence: path order
    rated = {"field": "rating_label", "value": "Performs well", "method": "regex", "confidence": 1.0}
    text = "Children's services rating\tPerforms well (3)\n\nChildren's services in Kent County Council perform well."
    confirmed = evidence(second, [rated], text)
    unconfirmed = evidence(first, [rated], text.replace("perform well.", "are improving."))
    assert confirmed.rating_confirmed and not unconfirmed.rating_confirmed
    found = {"a": unconfirmed, "b": confirmed}
    assert sorted([first, second], key=lambda x: preference(x, found[x["letter_id"]]))[0] is second
    found = {"a": Evidence(True, 0.62), "b": Evidence(True, 0.97)}  # both confirmed: the surer reading
    assert sorted([first, second], key=lambda x: preference(x, found[x["letter_id"]]))[0] is second


def test_a_rating_the_narrative_contradicts_is_no_evidence():
    letter = {"letter_id": "a", "issues": "rating: the rating line says 'Performs poorly' but the narrative says services perform well"}
    assert contradicts_itself(letter) and not contradicts_itself({"issues": "conflict: x | recipient_name: not found"})
    rated = [{"field": "rating_label", "value": "Performs poorly", "method": "regex", "confidence": 1.0}]
    assert not evidence(letter, rated, "Children's services in Kent perform poorly.").rating_confirmed
    read_from_the_sentence = [{"field": "rating_label", "value": "Performs poorly", "method": "perform-sentence", "confidence": 0.9}]
    assert not evidence({"letter_id": "b"}, read_from_the_sentence, "Children's services in Kent perform poorly.").rating_confirmed
