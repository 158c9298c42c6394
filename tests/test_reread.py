"""Second readings of scans (pipeline/read/reread.py): lost lines found in the page's ink, unsure words
read again and confirmed or disputed, and what the dataset then says about the values on them."""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from pipeline.read import reread
from pipeline.read import ocr_available
from pipeline.records import LetterRecord, LetterText, Statistic
from pipeline.read.reread import Crop, OcrWords, Reread

needs_ocr = pytest.mark.skipif(not ocr_available(), reason="Tesseract is not installed: apt-get install tesseract-ocr tesseract-ocr-eng")


def tesseract_columns(words: list[tuple[str, float, int, int, int, int, tuple[int, int, int]]]) -> dict[str, list]:
    """image_to_data's columns for (text, conf, left, top, width, height, (block, par, line)) words."""
    data: dict[str, list] = {k: [] for k in ("level", "page_num", "block_num", "par_num", "line_num", "word_num", "left", "top", "width", "height", "conf", "text")}
    for n, (text, conf, left, top, width, height, (block, par, line)) in enumerate(words):
        for key, value in (("level", 5), ("page_num", 1), ("block_num", block), ("par_num", par), ("line_num", line), ("word_num", n), ("left", left),
                           ("top", top), ("width", width), ("height", height), ("conf", conf), ("text", text)):
            data[key].append(value)
    return data


# ------------------------------------------------------------------ band finding on a synthetic page


def synthetic_page() -> tuple[np.ndarray, dict[str, list]]:
    """A grey page with three 'lines' of letter-like strokes (30 px tall), of which the page reading
    covered the first and third; a speck, a thin rule and a solid block (a logo) no word covers."""
    page = np.full((800, 1200), 235, dtype=np.uint8)
    rng = np.random.default_rng(3)

    def text_line(top: int, left: int, n_letters: int) -> None:
        for k in range(n_letters):
            if k % 5 == 4:
                continue  # a word gap
            x = left + k * 22
            page[top:top + 30, x:x + 4] = 50  # a stem
            page[top + int(rng.integers(0, 20)):top + int(rng.integers(22, 30)), x + 4:x + 14] = 50  # a bowl or bar

    text_line(100, 100, 30)
    text_line(160, 100, 12)  # the lost line
    text_line(220, 100, 30)
    page[400:403, 500:503] = 50  # a speck
    page[500:502, 100:1100] = 50  # a thin rule the wipe missed
    page[600:700, 900:1000] = 50  # a solid logo
    words = [("word", 96, 100 + 110 * k, 100, 100, 30, (1, 1, 1)) for k in range(6)]
    words += [("word", 95, 100 + 110 * k, 220, 100, 30, (1, 1, 3)) for k in range(6)]
    return page, tesseract_columns(words)


def test_ink_no_word_covers_is_found_as_a_lost_line_and_specks_rules_and_logos_are_not():
    page, data = synthetic_page()
    kept = list(range(len(data["text"])))
    crops = reread.lost_lines(page, data, kept, height=30.0)
    assert len(crops) == 1
    crop = crops[0]
    assert crop.kind == "lost" and crop.y0 <= 160 and crop.y1 >= 190 and crop.x0 <= 100 and crop.x1 >= 100 + 11 * 22
    assert crop.line is None  # it stands on no line of the page reading


def test_a_word_read_below_the_floor_covers_nothing():
    page, data = synthetic_page()
    data["conf"] = [30 if top == 220 else conf for conf, top in zip(data["conf"], data["top"])]
    crops = reread.lost_lines(page, data, list(range(len(data["text"]))), height=30.0)
    assert sorted(c.y0 // 10 * 10 for c in crops) == [150, 210]


def test_wiped_ruling_lines_are_painted_back_in_from_either_side():
    piece = np.full((20, 20), 235, dtype=np.uint8)
    piece[:, 8:12] = 40  # a letter's stroke ...
    piece[9:11, :] = 255  # ... where a wiped horizontal rule touched it
    wiped = np.zeros((20, 20), dtype=np.uint8)
    wiped[9:11, :] = 1
    healed = reread.heal(piece, wiped)
    assert (healed[9:11, 8:12] < 100).all() and (healed[9:11, :6] > 200).all()
    blank = np.full((20, 20), 235, dtype=np.uint8)
    blank[:, 9:11] = 255  # a wiped vertical rule between blank paper stays blank
    wiped = np.zeros((20, 20), dtype=np.uint8)
    wiped[:, 9:11] = 2
    assert (reread.heal(blank, wiped)[:, 9:11] > 200).all()


# ------------------------------------------------------------------ comparing two readings


def unsure_line(conf: float) -> tuple[dict[str, list], Crop]:
    data = tesseract_columns([("London", 96, 100, 100, 120, 30, (1, 1, 1)), ("TS18", conf, 100, 140, 80, 30, (1, 1, 2)),
                              ("1LD", 95, 200, 140, 60, 30, (1, 1, 2))])
    return data, Crop("unsure", 90, 130, 270, 180, targets=[1], context=[1, 2])


def test_two_readings_that_agree_confirm_the_word_as_independent_evidence():
    data, crop = unsure_line(66)
    notes: dict[int, Reread] = {}
    reread._compare(data, crop, [("TS18", 70.0, 101, 141, 180, 170), ("1LD", 89.0, 201, 141, 260, 170)], notes)
    assert data["conf"][1] == pytest.approx(100 * (1 - 0.34 * 0.30), abs=0.1)
    assert notes[1].kind == "confirmed" and notes[1].first == 66 and notes[1].second == 70


def test_a_word_one_reading_split_in_two_is_compared_whole():
    data, crop = unsure_line(66)
    notes: dict[int, Reread] = {}
    reread._compare(data, crop, [("TS181LD", 80.0, 101, 141, 260, 170)], notes)
    assert notes[1].kind == "confirmed"


def test_two_readings_that_disagree_keep_the_lower_confidence_and_both_readings():
    data, crop = unsure_line(88)
    notes: dict[int, Reread] = {}
    reread._compare(data, crop, [("TS13", 90.0, 101, 141, 180, 170), ("1LD", 95.0, 201, 141, 260, 170)], notes)
    assert notes[1].kind == "disputed" and notes[1].other == "TS13" and notes[1].read == "TS18"
    # under every threshold, however sure each reading was on its own
    assert data["conf"][1] == reread.settings()["disputed_at_most"] < 80


def test_a_word_first_read_below_the_floor_is_never_rescued_and_a_weak_second_reading_is_no_evidence():
    data, crop = unsure_line(40)
    notes: dict[int, Reread] = {}
    reread._compare(data, crop, [("TS18", 99.0, 101, 141, 180, 170)], notes)
    assert data["conf"][1] == 40 and not notes
    data, crop = unsure_line(70)
    reread._compare(data, crop, [("TS13", 30.0, 101, 141, 180, 170)], notes)
    assert data["conf"][1] == 70 and not notes


def test_only_numbers_names_and_postcode_parts_are_read_again():
    assert all(map(reread.worth_rereading, ["TS18", "1LD", "ILD", "Pemberton", "42%", "O'Connor"]))
    assert not any(map(reread.worth_rereading, ["services", "the", "outcomes,"]))


def test_the_page_words_carry_their_notes_through_a_pickle():
    words = OcrWords({"TS18": 89.8}, {"TS18": Reread("confirmed", 70, 66)})
    again = pickle.loads(pickle.dumps(words))
    assert again == {"TS18": 89.8} and again.rereads == words.rereads and isinstance(again, OcrWords)


# ------------------------------------------------------------------ what the dataset says


def ocr_record(text: str, words: OcrWords) -> LetterRecord:
    record = LetterRecord("x", "x.pdf")
    record.text = LetterText(text, page_methods=["ocr"], page_confidences=[90.0], page_word_confidences=[words])
    return record


def test_a_statistic_whose_number_two_readings_disagree_on_stays_flagged_and_names_both():
    from pipeline.extract import check_ocr_statistic

    text = "Of the 18 schools inspected, most are good."
    record = ocr_record(text, OcrWords({"18": 79.0, "schools": 96.0}, {"18": Reread("disputed", 91, 88, "13", "18")}))
    stat = Statistic("18 schools", text.index("18"), text.index("18") + len("18 schools"), text, "count", 18, subject="school")
    check_ocr_statistic(record, stat)
    assert stat.problem and "'18' or '13'" in stat.problem


def read_postcode(text: str, words: OcrWords, postcode: str, start: int, end: int):
    """The record of a scanned address whose postcode stands at start-end, and that postcode's value,
    after its OCR confidence and the letter's checks."""
    from pipeline.extract import _apply_ocr_confidence
    from pipeline.records import FieldValue
    from pipeline.validate import check_confidence

    record = ocr_record(text, words)
    fv = FieldValue("recipient_postcode", postcode, start, end, method="regex")
    _apply_ocr_confidence(record, fv)
    record.set(fv)
    check_confidence(record)
    return record, fv


def test_a_field_two_readings_disagree_on_is_flagged_with_both_readings():
    record, fv = read_postcode("London\nTS18 1LD\n", OcrWords({"London": 96, "TS18": 79.0, "1LD": 95}, {"TS18": Reread("disputed", 90, 88, "TS13", "TS18")}), "TS18 1LD", 7, 15)
    assert any("'TS18 1LD' or 'TS13 1LD'" in issue for issue in record.issues)


def test_a_postcode_reading_that_is_no_postcode_loses_to_the_one_that_is():
    record, fv = read_postcode("Bristol\nBS1 5TR\n", OcrWords({"Bristol": 96, "BS1": 96, "5TR": 79.0}, {"5TR": Reread("disputed", 90, 88, "STR", "5TR")}), "BS1 5TR", 8, 15)
    assert fv.method.endswith("+postcode-grammar") and fv.confidence >= 0.9 and not record.issues


def test_the_postcode_grammar_settles_only_the_word_in_dispute():
    """'IP1 2BX' read '{P1 2BX': the outward code at 28, the inward one disputed ('2BX' or '2Bx').
    The grammar says which inward code is a postcode's; the outward code is as unsure as it was."""
    record, fv = read_postcode("Ipswich\nP1 2BX\n", OcrWords({"Ipswich": 94, "P1": 28.0, "2BX": 65.0}, {"2BX": Reread("disputed", 65, 90, "2Bx", "2BX")}), "P1 2BX", 8, 14)
    assert fv.confidence <= 0.28 and record.issues


def test_a_value_a_second_reading_confirmed_or_found_says_so_in_its_method():
    from pipeline.extract import _apply_ocr_confidence
    from pipeline.records import FieldValue

    text = "London\nTS18 1LD\nNW11BD\n"
    record = ocr_record(text, OcrWords({"London": 96, "TS18": 89.8, "1LD": 95, "NW11BD": 96.2},
                                       {"TS18": Reread("confirmed", 70, 66), "NW11BD": Reread("confirmed", 77, 90, found=True)}))
    confirmed = FieldValue("recipient_postcode", "TS18 1LD", 7, 15, method="regex")
    found = FieldValue("recipient_postcode", "NW1 1BD", 16, 22, method="regex+space-restored")
    _apply_ocr_confidence(record, confirmed)
    _apply_ocr_confidence(record, found)
    assert confirmed.method == "ocr+regex+reread" and confirmed.confidence == pytest.approx(0.898)
    assert found.method == "ocr+regex+space-restored+line-found"


# ------------------------------------------------------------------ generated scans, end to end


@pytest.fixture(scope="module")
def scan(tmp_path_factory) -> tuple[Path, dict]:
    """A generated scan (tests/fixtures/generate.py) whose address the page reading reads, a little unsurely."""
    from fixtures.generate import generate_corpus

    out = tmp_path_factory.mktemp("reread")
    manifest = generate_corpus(out, count=6, seed=2, kinds={"scan"})
    entry = [f for f in manifest["files"] if f["kind"] == "scan"][2]
    gold = json.loads((out / "gold" / (Path(entry["name"]).stem + ".json")).read_text())
    return out / "letters" / entry["name"], gold


def tamper(monkeypatch, page=None, second=None) -> None:
    """Change what Tesseract returns: page(data) for the page reading (--psm 3), second(data) for the
    second reading (--psm 6)."""
    from pipeline.read import tesseract

    real = tesseract.run_tesseract

    def run_tesseract(image, psm, *args, **kwargs):
        data = real(image, psm, *args, **kwargs)
        if psm == 3 and page:
            page(data)
        if psm == 6 and second:
            second(data)
        return data

    monkeypatch.setattr(tesseract, "run_tesseract", run_tesseract)


def postcode_words(data: dict[str, list], postcode: str) -> list[int]:
    return [i for i, t in enumerate(data["text"]) if t.strip(".,") in postcode.split()]


@needs_ocr
@pytest.mark.ocr
def test_an_address_line_the_page_reading_lost_is_found_again(scan, monkeypatch):
    from pipeline.process import process_document

    path, gold = scan
    postcode = gold["fields"]["recipient_postcode"]

    lost = []

    def lose_the_postcode(data):
        for i in postcode_words(data, postcode):
            data["text"][i], data["conf"][i] = "", -1  # as Tesseract does when it sees no word there
            lost.append(i)

    tamper(monkeypatch, page=lose_the_postcode)
    record = process_document(path)
    assert lost, "the page reading should have read the postcode, to lose it here"
    fv = record.fields["recipient_postcode"]
    assert fv.value == postcode and fv.method.endswith("+line-found")
    assert not any("no postcode that could be read" in issue for issue in record.issues)


@needs_ocr
@pytest.mark.ocr
def test_a_postcode_read_unsurely_is_confirmed_by_a_second_reading(scan, monkeypatch):
    from pipeline.process import process_document

    path, gold = scan
    postcode = gold["fields"]["recipient_postcode"]

    def unsure(data):
        for i in postcode_words(data, postcode):
            data["conf"][i] = 66

    tamper(monkeypatch, page=unsure)
    record = process_document(path)
    fv = record.fields["recipient_postcode"]
    assert fv.value == postcode and fv.method.endswith("+reread") and fv.confidence >= 0.8
    assert not any(issue.startswith("recipient_postcode") for issue in record.issues)


@needs_ocr
@pytest.mark.ocr
def test_a_postcode_the_two_readings_disagree_on_stays_flagged_naming_both(scan, monkeypatch):
    from pipeline.process import process_document

    path, gold = scan
    postcode = gold["fields"]["recipient_postcode"]
    outward = postcode.split()[0]
    misread = outward[:-1] + ("3" if outward[-1] != "3" else "8")

    def misread_it(data):
        for i, text in enumerate(data["text"]):
            if text.strip(".,") == outward:
                data["text"][i] = text.replace(outward, misread)

    def unsure(data):
        for i in postcode_words(data, postcode):
            data["conf"][i] = 85  # sure enough on its own, were there no second reading

    tamper(monkeypatch, page=unsure, second=misread_it)
    record = process_document(path)
    assert record.fields["recipient_postcode"].value == postcode
    assert record.status == "needs_review"
    assert any(f"{postcode!r} or {postcode.replace(outward, misread)!r}" in issue for issue in record.issues)


# ------------------------------------------------------------------ what a sure reading can still hide


@pytest.mark.parametrize("text, stat_text, said", [
    # a speck read as a stop cuts the judgement short ("good or" / "outstanding")
    ("Each of the 3 sixth form colleges is good or. outstanding.", "Each of the 3 sixth form colleges", "'or.'"),
    # a running head the page break left inside the sentence
    ("A high share of childminding and childcare\n\nSomewhere Council - 8th December 2009\n\nprovision, about 85 per cent, is good.",
     "about 85 per cent", "'Somewhere Council - 8th December 2009'"),
])
def test_a_statistic_whose_sentence_the_scan_broke_is_flagged_however_sure_its_number(text, stat_text, said):
    from pipeline.extract import check_ocr_statistic

    record = ocr_record(text, OcrWords({w.strip(".,"): 96.0 for w in text.split()}))
    start = text.index(stat_text)
    stat = Statistic(stat_text, start, start + len(stat_text), text.replace("\n", " "), "count", 3, subject="x", judgement="good")
    check_ocr_statistic(record, stat)
    assert stat.problem and said in stat.problem
