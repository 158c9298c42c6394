"""Tests of the synthetic letter generator: its gold files must be right, or every score built on them is wrong."""
from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from pathlib import Path

import pdfplumber
import pypdfium2 as pdfium
import pytest

from conftest import SHARED
from fixtures import generate as gen

SEED_FIELDS = [
    "authority_name", "authority_as_written", "authority_la_code", "authority_gss_code", "letter_date", "rating_year",
    "rating_score", "rating_label", "recipient_name", "recipient_title", "recipient_postcode", "signatory_name", "signatory_title",
]
# fields a letter's gold has only where the letter has them: who signed on the signatory's behalf
OPTIONAL_FIELDS = ["signatory_signed_by"]
GOLD_KEYS = {"file", "status", "fields", "scale", "segments_contain", "statistics", "optional_statistics", "not_statistics"}
JUDGEMENTS = {"good or outstanding", "good or better", "at least good", "outstanding", "good", "satisfactory", "adequate", "inadequate"}
POSTCODE = re.compile(r"^[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? \d[ABD-HJLNP-UW-Z]{2}$")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("generated")
    return out, gen.generate_corpus(out, count=24, seed=0)


@pytest.fixture(scope="module")
def golds(corpus) -> dict[str, dict]:
    out, manifest = corpus
    return {f["name"]: json.loads((out / f["gold"]).read_text(encoding="utf-8")) for f in manifest["files"] if f["gold"]}


def _files(manifest: dict, *kinds: str, fmt: str | None = None) -> list[dict]:
    return [f for f in manifest["files"] if f["kind"] in kinds and (fmt is None or f["format"] == fmt)]


def _letter_text(path: Path, entry: dict) -> str:
    encoding = entry["variant"].get("encoding", "utf-8")
    return path.read_bytes().decode("utf-8-sig" if encoding.startswith("utf-8") else encoding)


def _pdf_text(path: Path, furniture: bool = True) -> str:
    """The text layer in reading order; without furniture, running headers and footers are left out as a reader would."""
    with pdfplumber.open(path) as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    if furniture:
        return text
    return "\n".join(ln for ln in text.split("\n") if "\u00b7" not in ln and not re.fullmatch(r"Page \d+ of \d+", ln.strip()))


def _norm(text: str) -> str:
    return gen.normalise_for_search(text).casefold()


def _assert_gold_in(text: str, gold: dict, where: str) -> None:
    """Everything the gold says a reader sees is in the text the reader sees."""
    seen = _norm(text)
    for stat in gold["statistics"] + gold["optional_statistics"]:
        assert _norm(stat["text"]) in seen, (where, stat["text"])
        if "judgement" in stat:
            assert _norm(stat["judgement"]) in seen, (where, stat["judgement"])
    for phrases in gold["segments_contain"].values():
        for phrase in phrases:
            assert _norm(phrase) in seen, (where, phrase)
    for field in ("authority_as_written", "recipient_name", "recipient_title", "recipient_postcode", "signatory_name", "signatory_title"):
        assert _norm(gold["fields"][field]) in seen, (where, field)


def test_corpus_has_every_kind_and_a_manifest(corpus):
    out, manifest = corpus
    assert manifest["summary"] == {"text": 12, "pdf": 12, "scan": 3, "bad": 12, "duplicate": 7, "browser": 1, "ghostscript": 1, "ocr_layer": 1, "web": 1}
    stored = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert stored["files"] == manifest["files"]
    for f in manifest["files"]:
        assert (out / f["file"]).is_file(), f["file"]
        assert f["expected_status"] in {"ok", "failed", "not_rating_letter"} or f["reason"].startswith("conflict")
        for ref in (f["twin_of"], f["duplicate_of"]):
            assert ref is None or any(g["name"] == ref for g in manifest["files"])
    # Chromium and Tesseract take a few seconds a letter
    assert manifest["seconds"] < 120


def test_every_gold_file_is_valid_and_names_its_letter(corpus, golds):
    out, manifest = corpus
    by_name = {f["name"]: f for f in manifest["files"]}
    for name, gold in golds.items():
        assert gold["file"] == name and (out / "letters" / name).is_file()
        assert GOLD_KEYS <= set(gold)
        assert gold["status"] == by_name[name]["expected_status"]
        conflict = (by_name[name]["reason"] or "").startswith("conflict")
        if gold["status"] != "ok" and not conflict:
            assert gold["fields"] == {} and gold["statistics"] == []
            continue
        fields = gold["fields"]
        assert [f for f in fields if f not in OPTIONAL_FIELDS] == SEED_FIELDS
        assert re.fullmatch(r"\d{3}", fields["authority_la_code"]) and re.fullmatch(r"E\d{8}", fields["authority_gss_code"])
        assert fields["letter_date"].startswith(str(fields["rating_year"]))
        assert [fields["rating_score"], fields["rating_label"]] == next([r[0], r[1]] for r in gold["scale"] if r[0] == fields["rating_score"])
        assert POSTCODE.match(fields["recipient_postcode"]), fields["recipient_postcode"]
        assert gold["segments_contain"]["rating"] == [f"{fields['rating_label']} ({fields['rating_score']})"]
        assert gold["statistics"], name
        for stat in gold["statistics"] + gold["optional_statistics"]:
            assert stat["kind"] in {"percentage", "count"}
            assert isinstance(stat["value"], int) and stat["subject_keyword"]
            assert stat["denominator"] is None or stat["denominator"] >= stat["value"]  # "every one of the five" is 5 of 5
            assert stat["kind"] == "count" or stat["denominator"] is None
            assert "judgement" not in stat or stat["judgement"] in JUDGEMENTS
        for stat in gold["statistics"]:
            assert "judgement" in stat


def test_gold_has_the_shape_of_the_real_gold(golds):
    real = sorted((SHARED / "gold").glob("*.json"))
    if not real:
        pytest.skip("../shared/gold is not present")
    seed = json.loads(real[0].read_text(encoding="utf-8"))
    ok = [g for g in golds.values() if g["status"] == "ok"]
    for gold in ok:
        assert set(seed) <= set(gold)
        assert [f for f in gold["fields"] if f not in OPTIONAL_FIELDS] == list(seed["fields"])
        assert gold["scale"] == seed["scale"]
        assert set(seed["statistics"][0]) - {"qualifier"} <= set(gold["statistics"][0])


def test_text_letters_contain_what_their_gold_says(corpus, golds):
    out, manifest = corpus
    for entry in _files(manifest, "text", "duplicate", fmt="txt"):
        _assert_gold_in(_without_page_break(_letter_text(out / entry["file"], entry)), golds[entry["name"]], entry["name"])


def _without_page_break(text: str) -> str:
    """The text with a page break inside a sentence taken out, as a reader skips it."""
    text = text.replace("\r\n", "\n")
    block = r"\n\nfile:///[^\n]*\nPage 1 of 2\n\f[^\n]*\n\n"
    return re.sub(block, " ", re.sub(r"(?<=[a-z])-" + block + r"(?=[a-z])", "", text))


def test_pdfs_have_a_text_layer_with_what_their_gold_says(corpus, golds):
    out, manifest = corpus
    producers = Counter()
    for entry in _files(manifest, "pdf", "duplicate", fmt="pdf"):
        path = out / entry["file"]
        with pdfplumber.open(path) as pdf:
            producers[pdf.metadata.get("Producer", "")[:6]] += 1
        text = _pdf_text(path, furniture=False)
        assert _norm(golds[entry["name"]]["fields"]["authority_as_written"]) in _norm(text)
        _assert_gold_in(text, golds[entry["name"]], entry["name"])
    assert {"Report", "PyFPDF"} <= set(producers), producers


def test_pdf_layouts_cover_the_variants(corpus):
    _, manifest = corpus
    variants = [f["variant"] for f in _files(manifest, "pdf")]
    assert {v["producer"] for v in variants} == {"reportlab", "fpdf2", "platypus"}
    assert {"Helvetica", "Times", "Courier"} <= {v["font"] for v in variants}
    assert {1, 2} <= {v["pages"] for v in variants}
    assert {"natural", "reversed", "shuffled"} <= {v["order"] for v in variants}
    assert {True, False} == {v["scale_border"] for v in variants}
    assert "image" in {v["signature"] for v in variants}


def test_content_stream_order_differs_from_reading_order(corpus):
    out, manifest = corpus
    entry = next(f for f in _files(manifest, "pdf") if f["variant"]["order"] == "shuffled")
    path = out / entry["file"]
    doc = pdfium.PdfDocument(path)
    try:
        stream_order = doc[0].get_textpage().get_text_range()
    finally:
        doc.close()
    reading_order = _pdf_text(path)
    assert _norm(stream_order)[:300] != _norm(reading_order)[:300]
    assert sorted(_norm(stream_order).split()) != _norm(stream_order).split()


def test_scans_have_no_text_layer_and_their_twins_gold(corpus, golds):
    out, manifest = corpus
    scans = _files(manifest, "scan")
    assert len(scans) == 3
    for entry in scans:
        with pdfplumber.open(out / entry["file"]) as pdf:
            assert all(not page.chars for page in pdf.pages)
            assert all(page.images for page in pdf.pages)
            assert len(pdf.pages) == entry["variant"]["pages"]
        twin = golds[entry["twin_of"]]
        scan_gold = {**golds[entry["name"]], "file": twin["file"]}
        assert scan_gold.pop("status_also_accepted") == ["needs_review"]
        assert scan_gold == twin


def test_text_renderings_vary(corpus):
    out, manifest = corpus
    variants = [f["variant"] for f in _files(manifest, "text")]
    assert {"utf-8", "utf-8-sig", "cp1252"} <= {v["encoding"] for v in variants}
    assert {"LF", "CRLF"} <= {v["newline"] for v in variants}
    assert {"tab", "runon_before", "runon_after"} <= {v["scale"] for v in variants}
    assert {"ocr", "described", "none"} <= {v["signature"] for v in variants}
    raw = {f["name"]: (out / f["file"]).read_bytes() for f in _files(manifest, "text")}
    assert any(b.startswith(b"\xef\xbb\xbf") for b in raw.values())
    assert any(b"\r\n" in b for b in raw.values())
    assert any("\u00a0" in b.decode("utf-8", "ignore") for b in raw.values())
    assert any(re.search(r"[a-z]-\r?\n[a-z]", b.decode("utf-8", "ignore")) for b in raw.values())
    assert any(re.search(rb"^4Performs excellentlyAn organisation", b, re.M) for b in raw.values())


def test_statistics_vary_in_shape(golds):
    stats = [s for g in golds.values() for s in g["statistics"]]
    optional = [s for g in golds.values() for s in g["optional_statistics"]]
    assert {"percentage", "count"} == {s["kind"] for s in stats}
    assert len({s["qualifier"] for s in stats if "qualifier" in s}) >= 3
    assert any(s["denominator"] for s in stats) and any(s["denominator"] is None and s["kind"] == "count" for s in stats)
    assert len({s["subject_keyword"] for s in stats}) >= 8
    assert len({s["judgement"] for s in stats}) >= 5
    assert any(s["value"] == 0 for s in optional) or any(s["text"].endswith(("being satisfactory", "being inadequate")) for s in optional)
    scores = {g["fields"]["rating_score"] for g in golds.values() if g["fields"]}
    years = {g["fields"]["rating_year"] for g in golds.values() if g["fields"]}
    assert scores == {1, 2, 3, 4} and years == {2009, 2010}
    nots = {n for g in golds.values() for n in g["not_statistics"]}
    assert {"section 138", "four point scale"} <= nots and any("Key Stage" in n for n in nots)


def test_bad_inputs_are_bad_in_the_way_the_manifest_says(corpus):
    out, manifest = corpus
    bad = {f["reason"]: f for f in _files(manifest, "bad")}
    assert set(bad) == {"empty", "whitespace", "binary", "truncated", "corrupt", "encrypted", "press_release", "school_inspection", "unrelated", "oversized",
                        "apa_2008", "unannounced_cra"}
    data = {reason: (out / f["file"]).read_bytes() for reason, f in bad.items()}
    assert data["empty"] == b"" and data["whitespace"].strip() == b""
    assert b"\x00" in data["binary"]
    assert len(data["oversized"]) > 2_000_000
    for reason in ("truncated", "corrupt", "encrypted"):
        assert bad[reason]["expected_status"] == "failed"
        with pytest.raises(pdfium.PdfiumError):
            pdfium.PdfDocument(data[reason])
    doc = pdfium.PdfDocument(data["encrypted"], password="user-secret")
    assert "perform" in doc[0].get_textpage().get_text_range()
    doc.close()
    for reason in ("press_release", "school_inspection", "unrelated", "apa_2008", "unannounced_cra"):
        assert bad[reason]["expected_status"] == "not_rating_letter"
    assert b"Grade 4" in data["apa_2008"] and b"Dear " in data["apa_2008"]
    doc = pdfium.PdfDocument(data["unannounced_cra"])
    assert "contact, referral and assessment" in doc[0].get_textpage().get_text_range()
    doc.close()


def test_duplicates_point_at_their_originals(corpus, golds):
    out, manifest = corpus
    dups = {f["name"]: f for f in _files(manifest, "duplicate")}
    same_bytes = next(f for f in dups.values() if f["reason"] == "same_bytes")
    original = out / "letters" / same_bytes["duplicate_of"]
    assert (out / same_bytes["file"]).read_bytes() == original.read_bytes()
    same_text = next(f for f in dups.values() if f["reason"] == "same_text")
    assert (out / same_text["file"]).read_bytes() != (out / "letters" / same_text["duplicate_of"]).read_bytes()
    # the same letter printed another way is an agreeing copy (twin), not a duplicate
    other_format = next(f for f in dups.values() if f["reason"] == "same_letter_other_format")
    assert other_format["format"] == "pdf" and dups[other_format["twin_of"]]["format"] == "txt" and not other_format["duplicate_of"]
    assert golds[other_format["name"]]["fields"] == golds[other_format["twin_of"]]["fields"]
    # two versions of a letter whose ratings differ: both need review, neither is a duplicate
    first, second = (next(f for f in dups.values() if f["reason"] == r) for r in ("conflict_first", "conflict_second"))
    a, b = golds[first["name"]]["fields"], golds[second["name"]]["fields"]
    assert a["rating_score"] != b["rating_score"] and {k: v for k, v in a.items() if not k.startswith("rating_")} == {k: v for k, v in b.items() if not k.startswith("rating_")}
    assert first["expected_status"] == second["expected_status"] == "needs_review" and not first["duplicate_of"] and not second["duplicate_of"]
    assert all(f["expected_status"] == "ok" for f in dups.values() if not f["reason"].startswith("conflict"))


def first_difference(a: bytes, b: bytes) -> str:
    """Where two generations of a file part, with the bytes around it: what a producer put in that varies."""
    at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return f"lengths {len(a)} and {len(b)}, first difference at {at}: {a[max(0, at - 60):at + 40]!r} / {b[max(0, at - 60):at + 40]!r}"


def test_same_seed_same_bytes_other_seed_other_letters(corpus, tmp_path):
    out, manifest = corpus
    again = gen.generate_corpus(tmp_path / "again", count=24, seed=0)
    for entry in again["files"]:
        first, second = (out / entry["file"]).read_bytes(), (tmp_path / "again" / entry["file"]).read_bytes()
        assert second == first, f"{entry['name']}: {first_difference(first, second)}"
        if entry["gold"]:
            assert (tmp_path / "again" / entry["gold"]).read_bytes() == (out / entry["gold"]).read_bytes()
    other = gen.generate_corpus(tmp_path / "other", count=4, seed=1, kinds={"text"})
    first = (tmp_path / "other" / other["files"][0]["file"]).read_bytes()
    assert first != (out / manifest["files"][0]["file"]).read_bytes()


def test_reference_scorer_gives_full_marks_to_the_gold_itself(corpus, golds, tmp_path):
    """Output rows made from the gold must score 1.0, so the gold is in a shape score.py understands."""
    score_py = SHARED / "tools" / "score.py"
    if not score_py.exists():
        pytest.skip("../shared/tools/score.py is not present")
    pd = pytest.importorskip("pandas")
    spec = importlib.util.spec_from_file_location("reference_score", score_py)
    score = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(score)
    letters, stats = [], []
    for i, (name, gold) in enumerate(golds.items()):
        letter_id = f"id{i}"
        letters.append({"letter_id": letter_id, "source_path": f"letters/{name}", "status": gold["status"], **gold["fields"]})
        for k, s in enumerate(gold["statistics"]):
            stats.append({"letter_id": letter_id, "stat_index": k, "text": s["text"], "value": s["value"], "denominator": s["denominator"],
                          "subject": s["text"] + " " + s["subject_keyword"], "judgement": s.get("judgement", "")})
    pd.DataFrame(letters).to_csv(tmp_path / "letters.csv", index=False)
    pd.DataFrame(stats).to_csv(tmp_path / "statistics.csv", index=False)
    result = score.score([str(corpus[0] / "gold")], str(tmp_path))
    assert result["fields"] == 1.0 and result["status"] == 1.0, result["disagreements"][:5]
    assert result["stats_f1"] == 1.0 and result["judgement"] == 1.0, result["disagreements"][:5]
    assert result["docs_found"] == result["docs_gold"] == len(golds)


def test_benchmark_helpers_write_letters_and_gold(tmp_path):
    texts = gen.generate_text_letters(tmp_path / "t", 6, seed=3)
    pdfs = gen.generate_pdf_letters(tmp_path / "p", 4, seed=3)
    assert [e["name"] for e in texts] == [f"t3_{i:05d}.txt" for i in range(6)]
    assert all((tmp_path / "t" / e["file"]).is_file() and (tmp_path / "t" / e["gold"]).is_file() for e in texts)
    for e in pdfs:
        assert e["variant"]["producer"] in {"reportlab", "fpdf2"} and e["variant"]["pages"] in {1, 2}
        gold = json.loads((tmp_path / "p" / e["gold"]).read_text(encoding="utf-8"))
        _assert_gold_in(_pdf_text(tmp_path / "p" / e["file"], furniture=False), gold, e["name"])
    keys = [(g["fields"]["authority_la_code"], g["fields"]["letter_date"]) for g in
            (json.loads((tmp_path / "t" / e["gold"]).read_text(encoding="utf-8")) for e in texts)]
    assert len(set(keys)) == len(keys)
    again = gen.generate_text_letters(tmp_path / "t2", 6, seed=3)
    assert all((tmp_path / "t" / a["file"]).read_bytes() == (tmp_path / "t2" / b["file"]).read_bytes() for a, b in zip(texts, again))


def test_command_line(tmp_path, capsys):
    assert gen.main([str(tmp_path / "cli"), "--count", "2", "--seed", "5", "--kinds", "text,bad"]) == 0
    manifest = json.loads((tmp_path / "cli" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["summary"] == {"text": 1, "bad": 12}
    assert "wrote 13 files" in capsys.readouterr().err
    with pytest.raises(ValueError):
        gen.generate_corpus(tmp_path / "x", kinds={"nonsense"})


def test_scan_alone_needs_no_pdf_files(tmp_path):
    manifest = gen.generate_corpus(tmp_path, count=2, seed=2, kinds={"scan"})
    assert [f["kind"] for f in manifest["files"]] == ["scan"]
    assert manifest["files"][0]["twin_of"] is None
    assert sorted(p.name for p in (tmp_path / "letters").iterdir()) == [manifest["files"][0]["name"]]
    assert not (tmp_path / ".scratch").exists()


def test_other_producers_and_web_copies_contain_what_their_gold_says(corpus, golds):
    out, manifest = corpus
    producers = {"browser": "Skia/PDF", "ghostscript": "GPL Ghostscript", "ocr_layer": "Tesseract"}
    for entry in _files(manifest, *producers, "web"):
        path = out / entry["file"]
        if entry["kind"] == "web":
            text = _letter_text(path, entry)
            assert text.index(golds[entry["name"]]["segments_contain"]["furniture"][0]) < text.index(golds[entry["name"]]["fields"]["recipient_name"])
            _assert_gold_in(text, golds[entry["name"]], entry["name"])
            continue
        with pdfplumber.open(path) as pdf:
            assert producers[entry["kind"]] in (pdf.metadata.get("Producer", "") + pdf.metadata.get("Creator", "")), entry["name"]
            if entry["kind"] == "ocr_layer":
                assert pdf.pages[0].images and all(c.get("text_render_mode", 3) == 3 for c in pdf.pages[0].chars[:50])
                continue
        _assert_gold_in(_pdf_text(path), golds[entry["name"]], entry["name"])


def test_a_page_break_inside_a_sentence_is_in_some_text_letters(corpus):
    out, manifest = corpus
    broken = [e for e in _files(manifest, "text") if e["variant"].get("page_break")]
    assert broken
    for entry in broken:
        text = _letter_text(out / entry["file"], entry)
        assert "\f" in text and "file:///" in text
        before = text[: text.index("file:///")].rstrip().split("\n")
        # the last line of the letter before the footer does not end its sentence
        prose = [ln for ln in before if ln.strip()]
        assert not prose[-1].rstrip().endswith((".", ":")), prose[-1]
