"""One document through every stage: read, normalise, segment, extract, validate.

A document that fails at any stage still comes back as a LetterRecord (status `failed`, with
the stage and the reason), so a bad file never stops a run or loses another file's row.
"""
from __future__ import annotations

import hashlib
import logging
import time
import traceback
from pathlib import Path
from typing import Mapping

from pipeline.extract import extract_letter
from pipeline.normalise import normalise_document
from pipeline.read import file_sha256
from pipeline.limits import Limits
from pipeline.read import InternalError, OcrDeferred, OcrResult, check_regular_file, read_document
from pipeline.records import LetterRecord, ReadError
from pipeline.segment import segment_letter
from pipeline.validate import validate_letter

log = logging.getLogger("ofsted_letters")


def process_document(
    path: Path,
    *,
    ocr: str = "auto",
    layout: str = "auto",
    sha256: str | None = None,
    ocr_pages: Mapping[int, OcrResult] | None = None,
    defer_ocr: bool = False,
    limits: Limits | None = None,
    timings: dict[str, float] | None = None,
) -> LetterRecord:
    """The complete record of one input file; never raises for bad input.

    ocr_pages and defer_ocr are passed to read_document: with defer_ocr, a long scan raises
    OcrDeferred so that ingest can spread its pages over the workers. limits bound the work.
    timings, when given, gets the seconds each stage took (read, normalise, segment, extract,
    validate), for --verbose.
    """
    lap = _Laps(timings)
    path = Path(path)
    try:
        check_regular_file(path)  # before hashing: reading a FIFO would block for ever
        sha = sha256 or file_sha256(path)
    except (ReadError, OSError) as exc:
        error, message = (exc.error, exc.message) if isinstance(exc, ReadError) else ("unreadable", f"cannot open the file: {exc.strerror or exc}")
        record = LetterRecord(letter_id=path_letter_id(path), source_path=str(path), source_format=source_format_of(path))
        return record.fail("read", error, message)
    record = LetterRecord(letter_id=sha[:16], source_path=str(path), sha256=sha)
    try:
        document = read_document(path, ocr=ocr, layout=layout, ocr_pages=ocr_pages, defer_ocr=defer_ocr, limits=limits)
        lap("read")
    except ReadError as exc:
        lap("read")
        record.source_format = source_format_of(path)
        return record.fail("read", exc.error, exc.message)
    except OcrDeferred:
        raise
    except Exception as exc:  # our own bug while reading (InternalError), never the file's fault
        lap("read")
        record.source_format = source_format_of(path)
        return _internal_error(record, "read", exc.original if isinstance(exc, InternalError) else exc, path)
    record.source_format = document.source_format
    record.pages = len(document.pages)
    for warning in document.warnings:
        record.flag(f"read: {warning}")
    stage = "normalise"
    try:
        record.text = normalise_document(document)
        lap(stage)
        stage = "segment"
        record.segments = segment_letter(record.text.text)
        lap(stage)
        stage = "extract"
        if record.segments:
            extract_letter(record, record.segments)
        lap(stage)
        stage = "validate"
        validate_letter(record)
        lap(stage)
    except Exception as exc:  # a bug must cost one row, not the run
        lap(stage)
        return _internal_error(record, stage, exc, path)
    return record


def _internal_error(record: LetterRecord, stage: str, exc: BaseException, path: Path) -> LetterRecord:
    """The failed row of a document our own code raised on: `internal_error`, naming the stage and
    the exception; the traceback goes to the log (--log, --verbose) for a bug report."""
    detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
    log.error("%s: internal error in %s: %s\n%s", path, stage, detail, "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip())
    return record.fail(stage, "internal_error", f"internal error in {stage} ({detail}): a bug in ofsted-letters, not a fault of the file; please report it with this file")


def path_letter_id(path: Path | str) -> str:
    """The letter_id of a file that could not be read: from its path, so it is stable from run to run."""
    return hashlib.sha256(str(path).encode()).hexdigest()[:16]


def source_format_of(path: Path | str) -> str:
    """The source format a file's name promises, for a file that could not be read (a closed set: others get none)."""
    return {".pdf": "pdf", ".txt": "txt"}.get(Path(path).suffix.lower(), "")


class _Laps:
    """Seconds per stage, each measured from the end of the one before, into a dict (or nowhere)."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings
        self.mark = time.perf_counter()

    def __call__(self, stage: str) -> None:
        if self.timings is None:
            return
        now = time.perf_counter()
        self.timings[stage] = self.timings.get(stage, 0.0) + now - self.mark
        self.mark = now
