"""Text files in every encoding and line end an archive of Windows, Mac and web exports holds: each is
read to the same text, and what was detected is told."""
from __future__ import annotations

import codecs

import pytest

from pipeline.read.encodings import eight_bit_encoding, line_endings, read_text
from pipeline.records import ReadError

LETTER = "Dear Mr O\u2019Connor\n\nChildren\u2019s services in Kent perform well \u2013 \u201cgood\u201d.\n"
LATIN = "Dear Mr Jos\u00e9 Pe\u00f1a\n\nThe caf\u00e9 provision is good.\n"

# (codec to write with, the text, the encoding detected, whether a byte-order mark is written)
WRITTEN = [
    ("utf-8", LETTER, "utf-8", False),
    ("utf-8-sig", LETTER, "utf-8", True),
    ("utf-16", LETTER, "utf-16-le", True),
    ("utf-16-le", LETTER, "utf-16-le", False),
    ("utf-16-be", LETTER, "utf-16-be", False),
    ("utf-32", LETTER, "utf-32-le", True),
    ("cp1252", LETTER, "cp1252", False),
    ("latin-1", LATIN, "latin-1", False),
    ("mac_roman", LETTER, "mac-roman", False),
    ("ascii", "Dear Mrs Smith\n\nChildren's services in Kent perform well.\n", "ascii", False),
]


@pytest.mark.parametrize("newline, ends", [("\n", "LF"), ("\r\n", "CRLF"), ("\r", "CR")])
@pytest.mark.parametrize("codec, text, encoding, bom", WRITTEN)
def test_every_encoding_and_line_end_reads_to_the_same_text(codec, text, encoding, bom, newline, ends):
    decoded = read_text(text.replace("\n", newline).encode(codec))
    assert decoded.text == text
    assert (decoded.encoding.encoding, decoded.encoding.byte_order_mark, decoded.encoding.line_endings) == (encoding, bom, ends)


def test_utf16_without_a_mark_and_with_few_letters_beyond_ascii_is_found():
    assert read_text(LETTER.encode("utf-16-be")).encoding.encoding == "utf-16-be"
    assert read_text(codecs.BOM_UTF16_BE + LETTER.encode("utf-16-be")).text == LETTER


def test_windows_1252_is_told_from_latin_1_by_the_bytes_only_it_prints():
    assert eight_bit_encoding("O\u2019Connor".encode("cp1252")) == "cp1252"
    assert eight_bit_encoding("Jos\u00e9".encode("latin-1")) == "latin-1"
    # an accented name in Mac Roman reads as other letters in Windows-1252 ("Jos\u017d")
    assert eight_bit_encoding("Jos\u00e9 Pe\u00f1a".encode("mac_roman")) == "mac-roman"


def test_line_ends_mixed_or_none():
    assert line_endings("a\r\nb\nc") == "mixed"
    assert line_endings("one line") is None


def test_binary_is_still_binary():
    with pytest.raises(ReadError):
        read_text(bytes(range(256)) * 8)
