"""Text files as archives hold them: UTF-32 and UTF-16 (Windows "Unicode"), UTF-8 with or without a
byte-order mark, Windows-1252 and Latin-1; Windows, old Mac and Unix line ends."""
from __future__ import annotations

import codecs

from pipeline.records import ReadError


def wide_encoding(data: bytes) -> str | None:
    """UTF-32 or UTF-16, as Windows tools save "Unicode" text: by its byte-order mark, or, without one,
    by NUL bytes standing in every other place of a text that is mostly ASCII."""
    for bom, encoding in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return encoding
    sample = data[:4096]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def decode_text(data: bytes) -> str:
    """Text in UTF-32 or UTF-16 (with a byte-order mark, or recognised without one), UTF-8 (BOM or not),
    else cp1252, else latin-1; line ends (Windows, old Mac, Unix) made LF."""
    wide = wide_encoding(data)
    if wide is not None:
        try:
            data = data.decode(wide).lstrip("\ufeff").encode("utf-8")
        except UnicodeDecodeError:
            raise ReadError("binary", f"the file starts like {wide} text but does not decode as it") from None
    if b"\x00" in data[:65536]:
        raise ReadError("binary", "the file is binary (it holds NUL bytes), not text")
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\t\n\r\f" or 0x7F <= ord(ch) < 0xA0)
    if controls > 0.02 * min(len(text), 65536):
        raise ReadError("binary", "the file is not text: it is full of control characters (binary data named .txt?)")
    return text.replace("\r\n", "\n").replace("\r", "\n")
