"""Where a letter file starts being read: check it is a regular file within the limits, hash it,
and hand its bytes to the PDF or text reader."""
from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path
from typing import Mapping

from pipeline.limits import MIB, Limits, default_limits
from pipeline.read.encodings import read_text
from pipeline.read.ocr import OcrResult
from pipeline.read.ocr_dump import OCR_DUMP_METHOD, is_ocr_dump
from pipeline.read.pdf import pdf_source_format, read_pdf
from pipeline.read.pdf_text import PDF_HEADER_WINDOW, pdf_header_offset
from pipeline.read.wrappers import unquote
from pipeline.records import Page, ReadError, SourceDocument


def file_sha256(path: Path) -> str:
    """The file's SHA-256, read in blocks: the identity of a letter file across runs (the cache key, `letter_id`)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


TEXT_SUFFIXES = {".txt", ".text", ""}


_SPECIAL_FILES = [(stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                  (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder")]


def check_regular_file(path: Path) -> None:
    """ReadError unless path is a regular file (or a link to one), found with stat alone: a FIFO,
    socket or device is never opened, since reading one can block for ever."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise _unreadable(Path(path), exc) from exc
    for test, what in _SPECIAL_FILES:
        if test(info.st_mode):
            raise ReadError("not_a_regular_file", f"the path is {what}, not a regular file: it was not opened")


def _unreadable(path: Path, exc: OSError) -> ReadError:
    """The reason a path cannot be opened, in words: a dangling link, a loop of links, no permission."""
    if path.is_symlink():
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        if isinstance(exc, FileNotFoundError):
            return ReadError("unreadable", f"the path is a symbolic link to {target!r}, which does not exist")
        if exc.errno == errno.ELOOP:
            return ReadError("unreadable", f"the path is a loop of symbolic links (it points to {target!r})")
    return ReadError("unreadable", f"cannot open the file: {exc.strerror or exc}")


def read_document(
    path: Path,
    *,
    ocr: str = "auto",
    layout: str = "auto",
    max_bytes: int | None = None,
    ocr_pages: Mapping[int, OcrResult] | None = None,
    defer_ocr: bool = False,
    limits: Limits | None = None,
) -> SourceDocument:
    """The document's pages of text; raises ReadError for input it cannot read.

    ocr_pages holds pages already OCR'd elsewhere (by page number). With defer_ocr, a PDF with
    two or more scanned pages not in ocr_pages raises OcrDeferred instead of OCR-ing them here.
    limits bound the work (defaults in data/limits.toml); max_bytes, if given, overrides the file size limit.
    """
    path = Path(path)
    limits = limits or default_limits()
    max_bytes = max_bytes if max_bytes is not None else limits.max_bytes
    check_regular_file(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ReadError("too_large", f"the file is {size / MIB:.1f} MiB, over the limit of {max_bytes / MIB:g} MiB for one letter (--max-file-mib)")
        data = path.read_bytes()
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    sha = hashlib.sha256(data).hexdigest()
    if not data.strip():
        raise ReadError("empty", "the file is empty" if not data else "the file holds only white space")
    header = pdf_header_offset(data, path.suffix.lower() == ".pdf")
    if header is not None:
        warnings: list[str] = []
        if data[:header].strip():
            warnings.append(f"repaired: {header:,} bytes of junk before the %PDF header were skipped")
        as_read: list[Page] = []
        pages = read_pdf(data[header:], ocr=ocr, layout=layout, ocr_pages=ocr_pages, defer_ocr=defer_ocr, limits=limits, warnings=warnings, as_read=as_read)
        source_format = pdf_source_format(pages)
        return SourceDocument(path, source_format, sha, pages, warnings, as_read)
    if path.suffix.lower() == ".pdf":
        raise ReadError("corrupt_pdf", f"the file is named .pdf but is not a PDF (no %PDF header in its first {PDF_HEADER_WINDOW // 1024} KiB)")
    if path.suffix.lower() not in TEXT_SUFFIXES:
        raise ReadError("unsupported", f"files of type {path.suffix!r} are not read: give .txt or .pdf files")
    decoded = read_text(data)
    # a forwarded letter's quoting prefixes ("> ") stand at every line's edge as a scan's specks do
    method = OCR_DUMP_METHOD if is_ocr_dump(unquote(decoded.text).text) else "text"
    return SourceDocument(path, "txt", sha, [Page(1, decoded.text, method)], encoding=decoded.encoding)
