"""Every letter inside its document (#18): e-mail and fax wrappers, side columns and encodings.

Each shape is generated with gold (tests/fixtures/wrappers.py), read by `ofsted-letters ingest` and
scored against its gold; the pieces (unquoting, the wrapper's bounds, the fax line, the reading order of
a side column) are checked on their own as well.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from fixtures import generate as gen
from fixtures.wrappers import generate_shapes, shape_names
from pipeline.evaluate import evaluate
from pipeline.normalise import normalise_text
from pipeline.read.layout import Piece, pieces_to_text, reading_blocks
from pipeline.read.wrappers import unquote
from pipeline.segment import segment_letter

from conftest import ROOT

BROWSER = gen.chromium() is not None
# what the reader must find each file written in: (encoding, byte-order mark) by codec, line ends by name
WRITTEN_IN = {"utf-8": ("utf-8", False), "utf-8-sig": ("utf-8", True), "utf-16": ("utf-16-le", True), "utf-16-le": ("utf-16-le", False),
              "utf-16-be": ("utf-16-be", False), "utf-32": ("utf-32-le", True), "cp1252": ("cp1252", False),
              "latin-1": ("latin-1", False), "mac_roman": ("mac-roman", False)}
LINE_ENDS = {"lf": "LF", "crlf": "CRLF", "cr": "CR"}


@pytest.fixture(scope="module")
def shapes(tmp_path_factory) -> dict:
    """Every shape generated and ingested once, by the command a user runs."""
    work = tmp_path_factory.mktemp("shapes")
    manifest = generate_shapes(work / "in", seed=0, browser=BROWSER)
    out = work / "out"
    subprocess.run([sys.executable, "-m", "pipeline.cli", "ingest", str(work / "in" / "letters"), "--out", str(out), "-q"],
                   cwd=ROOT, check=True, capture_output=True, text=True)
    letters = pd.read_csv(out / "letters.csv", dtype=str, keep_default_na=False)
    letters["name"] = letters["source_path"].map(lambda p: p.rsplit("/", 1)[-1])
    documents = pd.read_parquet(out / "documents.parquet").merge(letters[["letter_id", "name"]], on="letter_id")
    return {
        "files": {f["name"]: f for f in manifest["files"]},
        "result": evaluate([work / "in" / "gold"], out),
        "letters": letters.set_index("name"),
        "documents": documents.set_index("name"),
        "segments": pd.read_parquet(out / "segments.parquet").merge(letters[["letter_id", "name"]], on="letter_id"),
        "statistics": pd.read_parquet(out / "statistics.parquet").merge(letters[["letter_id", "name"]], on="letter_id"),
        "fields": pd.read_parquet(out / "fields.parquet").merge(letters[["letter_id", "name"]], on="letter_id"),
    }


@pytest.mark.parametrize("name", shape_names(browser=BROWSER))
def test_each_shape_reads_to_its_gold_and_is_vouched_for(shapes, name):
    assert name in shapes["files"], "the generator made no such file"
    row = shapes["letters"].loc[name]
    assert (row["status"], row["statistics_status"]) == ("ok", "ok"), row["issues"] or row["statistics_issues"]
    assert [d.message for d in shapes["result"].disagreements if d.letter_file == name] == []


def test_offsets_point_at_the_values_in_every_shape(shapes):
    text = shapes["documents"]["text"]
    for row in shapes["statistics"].itertuples():
        # a statistic's text keeps its offsets with the line breaks inside it made spaces
        assert text[row.name][row.start:row.end].split() == row.text.split(), row.name
    names = shapes["fields"][shapes["fields"]["field"].isin(["recipient_name", "signatory_name", "recipient_postcode", "authority_as_written"])]
    for row in names.itertuples():
        assert text[row.name][int(row.start):int(row.end)] == row.value, (row.name, row.field)


def test_an_email_around_the_letter_is_its_wrapper_and_gives_no_value(shapes):
    segments = shapes["segments"]
    for name in shape_names({"email"}):
        document = shapes["documents"].loc[name, "text"]
        wrapper = segments[(segments["name"] == name) & (segments["segment"] == "wrapper")].sort_values("start")
        first = wrapper.iloc[0]
        assert first["start"] == 0 and first["text"].startswith("From: ") and "Subject:" in first["text"]
        header = segments[(segments["name"] == name) & (segments["segment"] == "header")].iloc[0]
        assert header["start"] >= first["end"] and "Sent:" not in header["text"] and "From:" not in header["text"]
        if shapes["files"][name]["variant"]["footer"] != "none":
            last = wrapper.iloc[-1]
            assert last["end"] == len(document) and last["start"] > header["end"]
            assert last["text"].startswith(("Sent from", "This email")), last["text"]


@pytest.mark.parametrize("name", shape_names({"email"}))
def test_quoting_is_taken_off_and_told(shapes, name):
    prefix = shapes["files"][name]["variant"]["quoting"]
    document = shapes["documents"].loc[name]
    if prefix is None:
        assert pd.isna(document["quote_prefix"]) and pd.isna(document["quoted_lines"])
        return
    assert document["quote_prefix"] == prefix and document["quoted_lines"] >= 40
    assert not any(line.startswith((">", "|")) for line in document["text"].split("\n"))


def test_a_fax_transmit_line_never_reaches_the_letter(shapes):
    for name in shape_names({"fax"}):
        text = shapes["documents"].loc[name, "text"]
        assert not any(mark in text for mark in ("FROM: OFSTED", "FROM:OFSTED", "FAX 020 7421", "P.1/", "PAGE 1/"))


@pytest.mark.parametrize("name", shape_names({"encoding"}))
def test_the_encoding_and_line_ends_are_told(shapes, name):
    variant = shapes["files"][name]["variant"]
    document = shapes["documents"].loc[name]
    assert (document["encoding"], bool(document["byte_order_mark"])) == WRITTEN_IN[variant["codec"]]
    assert document["line_endings"] == LINE_ENDS[variant["newline"]]


def test_a_pdf_tells_no_encoding(shapes):
    document = shapes["documents"].loc["sidebar_reportlab_left.pdf"]
    assert pd.isna(document["encoding"]) and pd.isna(document["line_endings"]) and pd.isna(document["byte_order_mark"])


def test_a_side_column_never_joins_the_address_block(shapes):
    for name in shape_names({"sidebar"}, browser=BROWSER):
        header = shapes["segments"][(shapes["segments"]["name"] == name) & (shapes["segments"]["segment"] == "header")].iloc[0]["text"]
        for line in header.split("\n"):
            assert "\t" not in line, (name, line)
            assert "ofsted.gov.uk" not in line or line.split()[-1].endswith("ofsted.gov.uk") and len(line.split()) == 1, (name, line)


# --------------------------------------------------------------------------- the pieces on their own

LETTER = ("9 December 2009\n\nMrs Jane Smith\nDirector of Children's Services\nKent County Council\nSessions House\nMaidstone\nME14 1XQ\n\n"
          "Dear Mrs Smith\n\nChildren's services annual rating\n\nChildren's services rating 2009\n\n"
          "Children's services rating\tPerforms well (3)\n\nChildren's services in Kent perform well. Nine of the ten special schools\n"
          "are good.\n\nThe children's services rating is provided for the purpose of section 138 of the Education and Inspections Act 2006.\n\n"
          "Yours sincerely\n\nJuliet Winstanley\nDivisional Manager, CAA")


def quoted(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line else prefix.rstrip() for line in text.split("\n"))


def test_nested_quoting_is_taken_off_every_line():
    unquoted = unquote("Forwarded below.\n\n" + quoted(quoted(LETTER, "> "), "> "))
    assert unquoted.text == "Forwarded below.\n\n" + LETTER
    assert unquoted.quoting.prefix == "> > " and unquoted.quoting.lines == len(LETTER.split("\n"))


def test_a_table_drawn_with_bars_and_a_few_quoted_lines_are_left_alone():
    table = "| 4 | Performs excellently |\n| 3 | Performs well |\n| 2 | Performs adequately |\n| 1 | Performs poorly |\n| x | y |\n| z | w |"
    assert unquote(table).quoting is None and unquote(table).text == table
    few = "> one\n> two\n\nThe letter itself."
    assert unquote(few).text == few


def test_the_forwarders_note_and_its_dear_all_stay_in_the_wrapper():
    email = ("From: Caroline Smith <c.smith@kent.gov.uk>\nSent: 14 December 2009 16:02\nTo: Leadership Team\nSubject: FW: rating\n\n"
             "Dear all,\n\nPlease see the letter below.\n\nCaroline\n\n-----Original Message-----\nFrom: CAA\nSent: 10 December 2009 09:14\n"
             "To: Jane Smith\nSubject: Children's services annual rating\n\n")
    segments = segment_letter(normalise_text(email + LETTER + "\n\nSent from my iPhone"))
    names = [s.segment for s in segments]
    assert names[:2] == ["wrapper", "header"] and names[-1] == "wrapper"
    assert segments[1].text.startswith("9 December 2009") and "Dear Mrs Smith" in segments[1].text
    assert segments[-1].text == "Sent from my iPhone"
    closing = next(s for s in segments if s.segment == "closing")
    assert closing.text.endswith("Divisional Manager, CAA")


def test_a_cover_sheets_to_and_from_are_no_email():
    cover = ("Covering note\nTo: Mrs Jane Smith\nFrom: Children's Services Assessment team\nDate sent: 16 December 2009\n"
             "Number of pages including this sheet: 3\n\n")
    assert [s.segment for s in segment_letter(normalise_text(cover + LETTER))][:2] == ["cover", "header"]


def test_a_letters_own_quotation_or_subject_line_makes_no_wrapper():
    own = LETTER.replace("Children's services annual rating\n\n", "Subject: Children's services annual rating\n\n"
                         "On 3 May the Minister wrote:\n\nAs the Chief Inspector wrote:\n\n", 1)
    assert [s.segment for s in segment_letter(normalise_text(own))][0] == "header"


@pytest.mark.parametrize("line", ["12/12/2009 10:14 FROM: OFSTED CAA TO: 01622 694 123 P.2/2",
                                  "DEC-12-2009 10:14 FROM:OFSTED ID:02074215715 PAGE 2/2",
                                  "10/12/2009 09:14 FAX 020 7421 5715 OFSTED CAA   P.002/002"])
def test_a_fax_line_on_a_new_page_is_taken_out_and_the_sentence_rejoined(line):
    text = normalise_text(f"Nine of the ten special schools\n\f{line}\n\nare good.")
    assert text == "Nine of the ten special schools are good."


def test_a_name_read_over_several_lines_is_not_vouched_for(tmp_path):
    """Where a side column is set in the address's own type and spacing, its lines stay level with the address
    and are read across: the name it glues to the recipient's must go to review, never be `ok`."""
    from pipeline.process import process_document

    glued = LETTER.replace("Mrs Jane Smith\n", "Ofsted\nAviation House\nMrs Jane Smith\n", 1)
    assert "Ofsted\nAviation House\nMrs Jane Smith" in glued
    (tmp_path / "glued.txt").write_text(glued, encoding="utf-8")
    record = process_document(tmp_path / "glued.txt")
    assert record.status == "needs_review"
    assert any(issue.startswith("recipient_name:") and "3 lines" in issue for issue in record.issues), record.issues


def _column(x: float, top: float, size: float, pitch: float, lines: list[str]) -> list[Piece]:
    return [Piece(x, x + 5.5 * len(t) * size / 10, top + i * pitch, top + i * pitch + size, t, size) for i, t in enumerate(lines)]


# the date is short, the title long: the gutter the date leaves narrows as the address reaches into it
ADDRESS = ["9 December 2009", "", "Mrs Jane Smith", "Strategic Director for Children, Young People and Families", "Kent County Council",
           "Sessions House", "Maidstone", "ME14 1XQ"]
SIDE = ["Ofsted", "Aviation House", "125 Kingsway", "London WC2B 6SE", "T 08456 404040", "enquiries@ofsted.gov.uk", "www.ofsted.gov.uk"]


@pytest.mark.parametrize("side_x", [62.0, 420.0])
def test_a_side_column_in_smaller_type_is_read_apart_and_first(side_x):
    main_x = 230.0 if side_x < 100 else 62.0
    address = [p for p in _column(main_x, 100, 10.5, 13.65, ADDRESS) if p.text]
    # below the address, a paragraph across the page (beside the side column's foot when it runs down the left)
    paragraph = [Piece(main_x, 570, 220 + 13.65 * i, 230.5 + 13.65 * i, "The overall effectiveness of the services is good.", 10.5) for i in range(2)]
    side = _column(side_x, 98, 7.5, 9.4, SIDE)
    blocks = reading_blocks(address + paragraph + side)
    assert [[p.text for p in b] for b in blocks] == [SIDE, [p.text for p in address + paragraph]]
    text = pieces_to_text(address + paragraph + side)
    assert "\t" not in text and text.index("www.ofsted.gov.uk") < text.index("9 December")
    lines = [line for line in text.split("\n") if line]
    start = lines.index("9 December 2009")
    assert lines[start:start + 7] == [line for line in ADDRESS if line]


def test_a_tables_rows_are_not_a_side_column():
    scores = _column(62, 300, 10, 22, ["4", "3", "2", "1"])
    labels = _column(100, 300, 10, 22, ["Performs excellently", "Performs well", "Performs adequately", "Performs poorly"])
    # the description cells wrap onto a second line; every row's cells still start level
    descriptions = [p for i in range(4) for p in _column(230, 300 + 22 * i, 10, 11, ["An organisation that", "meets requirements"])]
    assert len(reading_blocks(scores + labels + descriptions)) == 1


def test_a_table_in_one_type_with_cells_in_the_middle_of_their_rows_is_not_a_side_column():
    labels = _column(62, 300, 10, 11, ["Performing", "excellently"]) + _column(62, 338, 10, 11, ["Performing well"])
    descriptions = _column(230, 305, 10, 11, ["Overall delivery is well above requirements"]) + _column(230, 333, 10, 11, ["Overall delivery", "is above"])
    assert len(reading_blocks(labels + descriptions)) == 1


def test_the_shapes_are_a_function_of_the_seed(tmp_path):
    first = generate_shapes(tmp_path / "a", seed=3, browser=False)
    generate_shapes(tmp_path / "b", seed=3, browser=False)
    names = [f["name"] for f in first["files"]]
    assert names == shape_names(browser=False)
    for name in names:
        assert (tmp_path / "a" / "letters" / name).read_bytes() == (tmp_path / "b" / "letters" / name).read_bytes(), name
        assert (tmp_path / "a" / "gold" / f"{name.rsplit('.', 1)[0]}.json").read_text() == (tmp_path / "b" / "gold" / f"{name.rsplit('.', 1)[0]}.json").read_text()


@pytest.mark.parametrize("seed", [1, 2])
def test_side_columns_of_other_letters_read_apart_too(tmp_path, seed):
    """Other letters and spacings (seed 2: a recipient's title reaching into the gutter the date leaves)."""
    from pipeline.process import process_document

    manifest = generate_shapes(tmp_path, seed=seed, kinds={"sidebar"}, browser=False)
    for entry in manifest["files"]:
        record = process_document(tmp_path / "letters" / entry["name"])
        gold = json.loads((tmp_path / entry["gold"]).read_text())
        assert record.status == "ok", (entry["name"], record.issues)
        assert {k: record.value(k) for k in gold["fields"]} == gold["fields"], entry["name"]
