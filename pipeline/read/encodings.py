"""Text files as archives hold them: UTF-32 and UTF-16 (Windows "Unicode"), UTF-8 with or without a
byte-order mark, Windows-1252, Latin-1 and Mac Roman; Windows, old Mac and Unix line ends.

Detection is by rule, not by a statistical detector. charset-normalizer (already installed, through
pdfminer) reads UTF-16 and UTF-8 as well as these rules do, but on English letters it names the wrong
8-bit code page: a Windows-1252 letter with curly quotes comes back as cp852, a Latin-1 one as cp1250,
and decoding by those turns "O\u2019Connor" and "Jos\u00e9" into other letters. For English text the 8-bit
code pages differ only in where they put a handful of characters (curly quotes, dashes, accented
letters), so the code page that reads those bytes as such characters is the one the file was written in.
"""
from __future__ import annotations

import codecs
from dataclasses import dataclass
from functools import lru_cache

from pipeline.config import patterns
from pipeline.records import ReadError, TextEncoding

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# Python's codec for each name the documents table gives
_CODECS = {"ascii": "ascii", "utf-8": "utf-8", "utf-16-le": "utf-16-le", "utf-16-be": "utf-16-be", "utf-32-le": "utf-32-le",
           "utf-32-be": "utf-32-be", "cp1252": "cp1252", "latin-1": "latin-1", "mac-roman": "mac_roman"}


@dataclass(frozen=True)
class DecodedText:
    """A text file's text with its line ends made LF, and what it was written in."""

    text: str
    encoding: TextEncoding


def wide_encoding(data: bytes) -> str | None:
    """UTF-32 or UTF-16, as Windows tools save "Unicode" text: by its byte-order mark, or, without one,
    by NUL bytes standing in every other place of a text that is mostly ASCII."""
    for bom, encoding in _BOMS:
        if data.startswith(bom) and encoding != "utf-8":
            return encoding
    sample = data[:4096]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    for encoding, zeros, others in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        # a letter's curly quotes and dashes take both bytes, so the NULs stand in most, not all, places
        if zeros.count(0) > 0.6 * len(zeros) and others.count(0) < 0.1 * len(others) and _reads_as_latin(sample, encoding):
            return encoding
    return None


def _reads_as_latin(sample: bytes, encoding: str) -> bool:
    """Whether bytes read in a wide encoding give Latin text (letters, punctuation), not the CJK
    characters that binary data with many NULs gives."""
    text = sample[: len(sample) // 2 * 2].decode(encoding, errors="replace")
    return sum(ord(ch) < 0x250 or 0x2000 <= ord(ch) < 0x2070 for ch in text) > 0.95 * len(text)


@lru_cache(maxsize=1)
def _typical_characters() -> frozenset[str]:
    return frozenset(patterns()["encodings"]["typical_characters"])


def eight_bit_encoding(data: bytes) -> str:
    """The 8-bit code page of a file that is not UTF-8: the one that reads most of its bytes above 127 as
    the characters English letters use (curly quotes, dashes, bullets, pound signs, accented names).
    Windows-1252 and Latin-1 read every byte alike except 128-159, where only Windows-1252 has printable
    characters: a file using them is Windows-1252, one without them is called Latin-1."""
    high = bytes(b for b in data if b >= 0x80)
    typical = _typical_characters()

    def score(codec: str) -> int:
        return sum(ch in typical for ch in high.decode(codec, errors="replace"))

    windows = "cp1252" if any(0x80 <= b < 0xA0 for b in high) else "latin-1"
    try:
        high.decode("cp1252")
    except UnicodeDecodeError:  # 129, 141, 143, 144 or 157: no character in Windows-1252
        windows = "latin-1"
    return "mac-roman" if score("mac_roman") > score(_CODECS[windows]) else windows


def line_endings(text: str) -> str | None:
    """LF (Unix, web), CRLF (Windows) or CR (old Mac) when the text keeps to one, mixed when not."""
    crlf = text.count("\r\n")
    cr, lf = text.count("\r") - crlf, text.count("\n") - crlf
    kinds = [name for name, n in (("CRLF", crlf), ("CR", cr), ("LF", lf)) if n]
    return None if not kinds else kinds[0] if len(kinds) == 1 else "mixed"


def read_text(data: bytes) -> DecodedText:
    """Text in UTF-32 or UTF-16 (with a byte-order mark, or recognised without one), UTF-8 (BOM or not),
    else Windows-1252, Latin-1 or Mac Roman; line ends (Windows, old Mac, Unix) made LF."""
    encoding = wide_encoding(data)
    bom = data.startswith(next(mark for mark, name in _BOMS if name == (encoding or "utf-8")))
    if encoding is not None:
        try:
            data = data.decode(_CODECS[encoding]).lstrip("\ufeff").encode("utf-8")
        except UnicodeDecodeError:
            raise ReadError("binary", f"the file starts like {encoding} text but does not decode as it") from None
    if b"\x00" in data[:65536]:
        raise ReadError("binary", "the file is binary (it holds NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
        encoding = encoding or ("ascii" if data.isascii() else "utf-8")
    except UnicodeDecodeError:
        encoding = eight_bit_encoding(data)
        text = data.decode(_CODECS[encoding])
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\t\n\r\f" or 0x7F <= ord(ch) < 0xA0)
    if controls > 0.02 * min(len(text), 65536):
        raise ReadError("binary", "the file is not text: it is full of control characters (binary data named .txt?)")
    return DecodedText(text.replace("\r\n", "\n").replace("\r", "\n"), TextEncoding(encoding, bom, line_endings(text)))


def decode_text(data: bytes) -> str:
    """The file's text alone (read_text without what was detected)."""
    return read_text(data).text
