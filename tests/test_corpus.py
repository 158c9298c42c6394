"""End to end on the generated corpus: every document one row, values right or flagged, scans like their twins."""
from __future__ import annotations

import pandas as pd
import pytest

from pipeline.evaluate import evaluate
from pipeline.ingest import ingest
from pipeline.read import ocr_available


@pytest.fixture(scope="module")
def corpus_out(generated, tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus_out")
    summary = ingest([generated["letters"]], out, workers=2)
    return out, summary


def test_every_document_has_exactly_one_row(generated, corpus_out):
    out, summary = corpus_out
    letters = pd.read_csv(out / "letters.csv", dtype=str, keep_default_na=False)
    assert len(letters) == len(generated["manifest"]["files"]) == summary.n_documents
    assert letters["letter_id"].is_unique


def test_statuses_are_what_each_input_deserves(generated, corpus_out):
    out, _ = corpus_out
    letters = pd.read_csv(out / "letters.csv", dtype=str, keep_default_na=False)
    status = dict(zip(letters["source_path"].str.rsplit("/", n=1).str[-1], letters["status"]))
    wrong = []
    for e in generated["manifest"]["files"]:
        if e["kind"] == "scan" and not ocr_available():
            continue
        if status[e["name"]] not in [e["expected_status"], *e["status_also_accepted"]]:
            wrong.append((e["name"], status[e["name"]], e["expected_status"]))
    assert not wrong


def test_failed_documents_say_why(corpus_out):
    out, _ = corpus_out
    letters = pd.read_csv(out / "letters.csv", dtype=str, keep_default_na=False)
    errors = pd.read_csv(out / "errors.csv", dtype=str, keep_default_na=False)
    failed = letters[letters["status"] == "failed"]
    assert len(failed) and all(failed["issues"].str.len() > 10)
    assert set(failed["letter_id"]) <= set(errors["letter_id"])


def test_duplicates_are_reported(generated, corpus_out):
    out, summary = corpus_out
    letters = pd.read_csv(out / "letters.csv", dtype=str, keep_default_na=False)
    by_name = dict(zip(letters["source_path"].str.rsplit("/", n=1).str[-1], letters["duplicate_of"]))
    for e in generated["manifest"]["files"]:
        if e["kind"] == "duplicate":
            # same bytes or same text only: an agreeing copy in another format, and a conflicting version, are not duplicates
            assert bool(by_name[e["name"]]) == bool(e.get("duplicate_of")), e["name"]
    statuses = dict(zip(letters["source_path"].str.rsplit("/", n=1).str[-1], letters["status"]))
    issues = dict(zip(letters["source_path"].str.rsplit("/", n=1).str[-1], letters["issues"]))
    conflicts = [e["name"] for e in generated["manifest"]["files"] if (e.get("reason") or "").startswith("conflict")]
    assert len(conflicts) == 2
    for name in conflicts:
        other = next(n for n in conflicts if n != name)
        assert statuses[name] == "needs_review" and "conflict:" in issues[name] and other in issues[name] and "rating_score" in issues[name]


def test_accuracy_against_the_generated_gold(generated, corpus_out):
    out, _ = corpus_out
    result = evaluate([generated["gold"]], out)
    assert result.fields >= 0.98, result.disagreements[:20]
    assert result.stats_f1 >= 0.97, result.disagreements[:20]
    assert result.judgement >= 0.97


@pytest.mark.ocr
@pytest.mark.skipif(not ocr_available(), reason="Tesseract is not installed")
def test_scans_give_the_fields_of_their_text_layer_twins(generated, corpus_out):
    out, _ = corpus_out
    letters = pd.read_csv(out / "letters.csv", dtype=str, keep_default_na=False)
    rows = {p.rsplit("/", 1)[-1]: r for p, r in zip(letters["source_path"], letters.to_dict("records"))}
    fields = ["authority_name", "letter_date", "rating_year", "rating_score", "rating_label", "recipient_name", "signatory_name"]
    for e in generated["manifest"]["files"]:
        if e["kind"] == "scan":
            twin = rows[e["twin_of"].rsplit("/", 1)[-1]]
            scan = rows[e["name"]]
            assert scan["source_format"] == "pdf-ocr"
            assert {f: scan[f] for f in fields} == {f: twin[f] for f in fields}, e["name"]
