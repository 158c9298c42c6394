"""Files holding several letters (bundles): one row per letter, each as right as the letter alone.

The bundles are made by tests/fixtures/bundles.py from generated letters of several producers (text
exports in every text style, reportlab, fpdf2 and platypus PDFs, a scan), with each letter's gold.
"""
from __future__ import annotations

import hashlib
import json
import random
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from fixtures import bundles as fb
from fixtures import generate as gen
from pipeline.cli import app
from pipeline.evaluate import evaluate
from pipeline.ingest import ingest
from pipeline.process import process_file
from pipeline.read import ocr_available

runner = CliRunner()


def _bundles() -> list[fb.Bundle]:
    letters = fb.bundle_letters(10, seed=18)
    return [
        fb.text_bundle(letters[:2], 1, "page_break"),
        fb.text_bundle(letters[2:7], 2, "blank_line", note=True),
        fb.text_bundle(letters, 3, "rule"),
        fb.text_bundle(letters[5:9], 4, "blank_lines"),
        fb.pdf_bundle(letters[:3], 5, note=True, index=True),
        fb.pdf_bundle(letters[3:5], 6, index=True, compact=True),
        fb.pdf_bundle(letters, 7),
    ]


@pytest.fixture(scope="module")
def bundles(tmp_path_factory) -> dict:
    """The bundles written with their gold and ingested once."""
    root = tmp_path_factory.mktemp("bundles")
    made = _bundles()
    for bundle in made:
        fb.write_bundle(root, bundle)
    out = root / "out"
    summary = ingest([root / "letters"], out, workers=2)
    letters = pd.read_csv(out / "letters.csv", dtype=str, keep_default_na=False)
    return {"root": root, "out": out, "bundles": made, "summary": summary, "letters": letters}


def _rows(letters: pd.DataFrame, name: str) -> pd.DataFrame:
    return letters[letters["source_path"].str.endswith("/" + name)].sort_values("part", key=lambda p: p.astype(int))


def test_every_letter_and_every_other_part_is_a_row_of_its_own(bundles):
    summary = bundles["summary"]
    assert summary.n_documents == len(bundles["bundles"])
    assert summary.n_letters == sum(len(b.golds) for b in bundles["bundles"]) == len(bundles["letters"])
    for bundle in bundles["bundles"]:
        rows = _rows(bundles["letters"], bundle.name)
        sha = hashlib.sha256(bundle.data).hexdigest()[:16]
        n = len(bundle.golds)
        assert list(rows["part"]) == [str(k) for k in range(1, n + 1)], bundle.name
        assert set(rows["parts"]) == {str(n)}
        assert list(rows["letter_id"]) == [f"{sha}-p{k}" for k in range(1, n + 1)]
        assert list(rows["status"]) == [g["status"] for g in bundle.golds], bundle.name
        # the parts of one file are never copies of each other (a letter printed alike in two bundles is)
        assert not set(rows["duplicate_of"]) & set(rows["letter_id"])


def test_parts_cover_their_file_page_by_page_or_line_by_line(bundles):
    for bundle in bundles["bundles"]:
        rows = _rows(bundles["letters"], bundle.name)
        unit = "line" if bundle.name.endswith(".txt") else "page"
        starts, ends = rows[f"{unit}_start"].astype(int).tolist(), rows[f"{unit}_end"].astype(int).tolist()
        total = bundle.data.decode("utf-8").count("\n") if unit == "line" else gen.pdf_page_count(bundle.data)
        assert starts[0] == 1 and ends[-1] == total, bundle.name
        assert all(b == a + 1 for a, b in zip(ends, starts[1:])), (bundle.name, starts, ends)
        other = "page" if unit == "line" else "line"
        assert not rows[f"{other}_start"].any() and not rows[f"{other}_end"].any()


def test_text_parts_start_with_their_letters_header(bundles):
    """The letterhead and date belong to the letter below them, the copy list and enclosures to the letter above."""
    for bundle in bundles["bundles"]:
        if not bundle.name.endswith(".txt"):
            continue
        lines = bundle.data.decode("utf-8").split("\n")
        rows = _rows(bundles["letters"], bundle.name)
        for row, gold, letter in zip(rows.to_dict("records"), bundle.golds, [None] * (len(bundle.golds) - len(bundle.letters)) + bundle.letters):
            first = next(ln for ln in lines[int(row["line_start"]) - 1:] if ln.strip()).lstrip("\f")
            if letter is None:
                assert first == "Ofsted"  # the FOI note's own head
                continue
            assert first.startswith((letter.letterhead[0], letter.date_text)), (bundle.name, row["part"], first)
            last = next(ln for ln in reversed(lines[int(row["line_start"]) - 1:int(row["line_end"])]) if ln.strip() and set(ln.strip()) != {"="})
            expected = letter.after_signature[-1] if letter.after_signature else letter.signatory[1]
            assert last.strip() in (expected, "Page 2 of 2") or last.strip().endswith(expected), (bundle.name, row["part"], last)


def test_each_letter_matches_its_gold(bundles):
    result = evaluate([bundles["root"] / "gold"], bundles["out"])
    assert result.docs_found == result.docs_gold == sum(len(b.golds) for b in bundles["bundles"])
    assert result.status == 1.0, [d.message for d in result.disagreements if d.kind == "status"]
    assert result.fields == 1.0, [d.message for d in result.disagreements if d.kind == "field"]
    assert result.silent_docs == 0
    assert result.stats_f1 >= 0.97, result.disagreements[:20]


def _values(record) -> tuple[dict, list[tuple]]:
    fields = {name: fv.value for name, fv in record.fields.items()}
    stats = [(s.text, s.kind, s.value, s.denominator, s.qualifier, s.subject, s.judgement, s.agreement) for s in record.statistics]
    return fields, stats


def test_a_letter_reads_the_same_inside_a_bundle_as_alone(bundles, tmp_path):
    for bundle in bundles["bundles"]:
        parts = {r.part.index: r for r in process_file(bundles["root"] / "letters" / bundle.name)}
        for index, data in bundle.alone.items():
            alone = tmp_path / f"alone_{index}{Path(bundle.name).suffix}"
            alone.write_bytes(data)
            (record,) = process_file(alone)
            assert record.part.count == 1
            assert parts[index].status == record.status, (bundle.name, index, parts[index].issues, record.issues)
            assert _values(parts[index]) == _values(record), (bundle.name, index)
            assert [(s.segment, s.text) for s in parts[index].segments] == [(s.segment, s.text) for s in record.segments]


def test_provenance_points_into_each_letters_own_text_and_the_files_pages(bundles):
    out = bundles["out"]
    documents = pd.read_parquet(out / "documents.parquet").set_index("letter_id")
    letters = pd.read_parquet(out / "letters.parquet").set_index("letter_id")
    statistics = pd.read_parquet(out / "statistics.parquet")
    assert len(statistics)
    for row in statistics.itertuples():
        assert documents.loc[row.letter_id, "text"][row.start:row.end] == row.text
    fields = pd.read_parquet(out / "fields.parquet").dropna(subset=["start"])
    for row in fields.itertuples():
        letter = letters.loc[row.letter_id]
        assert documents.loc[row.letter_id, "text"][int(row.start):int(row.end)]
        if not pd.isna(letter["page_start"]):
            assert letter["page_start"] <= row.page <= letter["page_end"], (row.letter_id, row.field, row.page)
    later = letters[(letters["page_start"] > 1) & (letters["status"] == "ok")]
    assert len(later) and fields["letter_id"].isin(later.index).any()  # values on page 3 and beyond say so
    assert fields[fields["letter_id"].isin(later.index)]["page"].min() > 1


def test_an_index_page_before_the_letters_is_a_part_of_its_own(bundles):
    bundle = next(b for b in bundles["bundles"] if b.name == "bundle6_pdf.pdf")
    rows = _rows(bundles["letters"], bundle.name)
    assert rows.iloc[0][["status", "page_start", "page_end"]].tolist() == ["not_rating_letter", "1", "1"]
    assert rows.iloc[1][["status", "page_start", "page_end"]].tolist() == ["ok", "2", "2"]


def test_a_file_holding_one_letter_keeps_its_letter_id_and_is_part_1_of_1(seed_out, seed_dir):
    letters = pd.read_csv(seed_out / "letters.csv", dtype=str, keep_default_na=False)
    for path in sorted(seed_dir.glob("*.txt")):
        row = letters[letters["source_path"].str.endswith(path.name)].iloc[0]
        assert row["letter_id"] == hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        lines = path.read_text(encoding="utf-8").count("\n") + (not path.read_text(encoding="utf-8").endswith("\n"))
        assert row[["part", "parts", "line_start", "line_end", "page_start"]].tolist() == ["1", "1", "1", str(lines), ""]


def test_a_letter_over_several_pages_is_never_split(tmp_path):
    """Running heads repeat on page 2 and the letter's own pages break anywhere: still one letter."""
    letter = fb.bundle_letters(1, seed=7)[0]
    for producer in fb.PDF_PRODUCERS:
        data, _ = fb.letter_pdf(letter, producer, seed=7)
        assert gen.pdf_page_count(data) == 2
        path = tmp_path / f"{producer}.pdf"
        path.write_bytes(data)
        (record,) = process_file(path)
        assert record.status == "ok" and (record.part.page_start, record.part.page_end) == (1, 2), (producer, record.issues)
        assert record.letter_id == hashlib.sha256(data).hexdigest()[:16]


def _report_quoting(letters: list[gen.Letter]) -> str:
    prose = ("The committee is asked to note the outcome of the annual assessment of services for children and young "
             "people, which the inspectorate published in December. The assessment draws on inspections of settings, "
             "schools and services over the year, and on national indicators. Officers have prepared an action plan "
             "which is attached to this report, and members are invited to comment on its priorities before it is "
             "agreed by the cabinet member in the new year.")
    body = ["Report to the Children and Young People Scrutiny Committee", "", prose, ""]
    for letter in letters:
        text, _ = gen.render_text(letter, gen.TextStyle(), random.Random(1))
        body += ["The letter from the inspectorate reads as follows.", "", text.decode("utf-8"), "", prose, ""]
    return "\n".join(body)


def test_letters_quoted_inside_a_report_are_not_split_out(tmp_path):
    path = tmp_path / "report.txt"
    path.write_text(_report_quoting(fb.bundle_letters(2, seed=9)), encoding="utf-8")
    records = process_file(path)
    assert len(records) == 1 and records[0].status == "not_rating_letter" and records[0].part.count == 1


def test_a_letter_with_a_covering_note_stays_one_document(tmp_path):
    letter = fb.bundle_letters(1, seed=11)[0]
    data, _ = fb.letter_pdf(letter, "reportlab", seed=11)
    note = fb.note_pdf(fb.FOI_NOTE.format(reference="0001", n=1))
    path = tmp_path / "note_and_letter.pdf"
    path.write_bytes(fb.merge_pdfs([note, data]))
    assert len(process_file(path)) == 1
    text = tmp_path / "note_and_letter.txt"
    text.write_bytes(fb.FOI_NOTE.encode() + b"\n\f" + gen.render_text(letter, gen.TextStyle(), random.Random(1))[0])
    assert len(process_file(text)) == 1


def test_a_copy_of_a_bundle_is_a_duplicate_letter_by_letter_and_the_cache_serves_its_parts(tmp_path):
    bundle = fb.text_bundle(fb.bundle_letters(3, seed=12), 12, "page_break", note=True)
    folder = tmp_path / "letters"
    fb.write_bundle(tmp_path, bundle)
    shutil.copy(folder / bundle.name, folder / f"copy_{bundle.name}")
    first = ingest([folder], tmp_path / "out", workers=1)
    letters = pd.read_csv(tmp_path / "out" / "letters.csv", dtype=str, keep_default_na=False)
    sha = hashlib.sha256(bundle.data).hexdigest()[:16]
    copy = letters[letters["source_path"].str.endswith(f"/copy_{bundle.name}")]
    assert list(copy["letter_id"]) == [f"{sha}-2-p{k}" for k in range(1, 5)]
    assert list(copy["duplicate_of"]) == [f"{sha}-p{k}" for k in range(1, 5)]
    assert first.duplicates == 4 and first.processed == 1
    again = ingest([folder], tmp_path / "out", workers=1)
    assert again.from_cache == 2 and again.processed == 0 and again.n_letters == 8
    assert pd.read_csv(tmp_path / "out" / "letters.csv", dtype=str, keep_default_na=False).equals(letters)


def test_ingest_show_review_and_evaluate_on_a_bundle_from_the_command_line(tmp_path):
    from pipeline.review import gold_from_view
    from pipeline.show import find_letter

    bundle = fb.pdf_bundle(fb.bundle_letters(2, seed=13), 13, note=True)
    fb.write_bundle(tmp_path, bundle)
    path = tmp_path / "letters" / bundle.name
    out = tmp_path / "out"
    result = runner.invoke(app, ["ingest", str(tmp_path / "letters"), "--out", str(out), "--workers", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "run.json").read_text())["n_letters"] == 3
    letters = pd.read_csv(out / "letters.csv", dtype=str, keep_default_na=False)
    second = letters[letters["part"] == "2"].iloc[0]
    pages = f"pages {second['page_start']}-{second['page_end']}"
    assert second["page_start"] == "2"  # after the one page of the FOI note
    listed = runner.invoke(app, ["show", str(path), "--out", str(out)])
    assert listed.exit_code == 2 and "matches 3 letters" in listed.output and f"part 2 of 3, {pages}" in listed.output
    shown = runner.invoke(app, ["show", bundle.name, "--part", "2", "--out", str(out)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0 and f"{path}, part 2 of 3, {pages} (pdf)" in shown.output
    assert bundle.letters[0].fields["authority_name"] in shown.output
    never_ingested = runner.invoke(app, ["show", str(path), "--part", "3", "--out", str(tmp_path / "elsewhere"), "--json"])
    assert never_ingested.exit_code == 0
    assert json.loads(never_ingested.stdout)["letter"]["page_start"] == int(second["page_end"]) + 1
    gold = gold_from_view(find_letter(bundle.name, out, only=_part(2)))
    assert gold["file"] == bundle.name and gold["part"] == 2
    scored = runner.invoke(app, ["evaluate", "--gold", str(tmp_path / "gold"), "--out", str(out)])
    assert scored.exit_code == 0 and "docs=3/3" in scored.output and "fields=1.000 status=1.000" in scored.output


def _part(n: int):
    from pipeline.show import LetterFilter

    return LetterFilter(part=n)


def test_the_report_names_each_letters_part(bundles, tmp_path):
    from pipeline.report import build_report

    html = build_report(bundles["out"], tmp_path / "report.html").read_text(encoding="utf-8")
    assert "bundle5_pdf.pdf, part 1 of 4, pages 1-2" in html  # the FOI note and the index: no authority, so named by file and part


@pytest.mark.ocr
@pytest.mark.skipif(not ocr_available(), reason="Tesseract is not installed")
def test_a_bound_volume_scanned_in_one_go_gives_one_row_per_letter(tmp_path):
    bundle = fb.scan_bundle(fb.bundle_letters(2, seed=14), 14)
    fb.write_bundle(tmp_path, bundle)
    out = tmp_path / "out"
    ingest([tmp_path / "letters"], out, workers=2)
    letters = pd.read_csv(out / "letters.csv", dtype=str, keep_default_na=False)
    assert letters[["part", "page_start", "page_end", "source_format"]].values.tolist() == [["1", "1", "1", "pdf-ocr"], ["2", "2", "2", "pdf-ocr"]]
    result = evaluate([tmp_path / "gold"], out)
    assert result.status == 1.0 and result.silent_docs == 0, result.disagreements
    for letter, row in zip(bundle.letters, letters.to_dict("records")):
        assert {f: row[f] for f in ("authority_name", "rating_score", "letter_date")} == {f: str(letter.fields[f]) for f in ("authority_name", "rating_score", "letter_date")}


def test_review_names_a_bundles_letters_by_their_file_and_part(tmp_path):
    from pipeline.evaluate import read_gold_file
    from pipeline.errors import DataError
    from pipeline.review import gold_file_names

    letters = pd.DataFrame({"letter_id": ["a-p1", "a-p2", "b"], "source_path": ["in/2010/release.pdf", "in/2010/release.pdf", "in/2009/bromley.txt"]})
    assert gold_file_names(letters, ["in"]) == {"a-p1": "2010/release.pdf", "a-p2": "2010/release.pdf", "b": "2009/bromley.txt"}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"file": "release.pdf", "part": "two", "status": "ok", "fields": {}}))
    with pytest.raises(DataError, match='"part" should be a whole number'):
        read_gold_file(bad)
