"""One document through every stage: read, split (a file holding several letters), normalise,
segment, extract, validate.

A document that fails at any stage still comes back as a LetterRecord (status `failed`, with
the stage and the reason), so a bad file never stops a run or loses another file's row.
"""
from __future__ import annotations

import hashlib
import logging
import time
import traceback
from pathlib import Path
from typing import Any, Mapping

from pipeline.bundles import split_bundle
from pipeline.extract import extract_letter
from pipeline.normalise import normalise_document
from pipeline.read import file_sha256
from pipeline.limits import Limits
from pipeline.read import InternalError, OcrDeferred, OcrResult, check_regular_file, read_document
from pipeline.records import FilePart, LetterRecord, ReadError, SourceDocument
from pipeline.segment import segment_letter
from pipeline.validate import validate_letter

log = logging.getLogger("ofsted_letters")


def process_file(
    path: Path,
    *,
    ocr: str = "auto",
    layout: str = "auto",
    sha256: str | None = None,
    ocr_pages: Mapping[int, OcrResult] | None = None,
    defer_ocr: bool = False,
    limits: Limits | None = None,
    timings: dict[str, float] | None = None,
) -> list[LetterRecord]:
    """The complete record of each letter an input file holds: one for most files, one per part for a
    file holding several letters (pipeline.bundles); never raises for bad input.

    ocr_pages and defer_ocr are passed to read_document: with defer_ocr, a long scan raises
    OcrDeferred so that ingest can spread its pages over the workers. limits bound the work.
    timings, when given, gets the seconds each stage took (read, split, normalise, segment,
    extract, validate), for --verbose.
    """
    lap = _Laps(timings)
    path = Path(path)
    try:
        check_regular_file(path)  # before hashing: reading a FIFO would block for ever
        sha = sha256 or file_sha256(path)
    except (ReadError, OSError) as exc:
        error, message = (exc.error, exc.message) if isinstance(exc, ReadError) else ("unreadable", f"cannot open the file: {exc.strerror or exc}")
        record = LetterRecord(letter_id=path_letter_id(path), source_path=str(path), source_format=source_format_of(path))
        return [record.fail("read", error, message)]
    record = LetterRecord(letter_id=sha[:16], source_path=str(path), sha256=sha)
    try:
        document = read_document(path, ocr=ocr, layout=layout, ocr_pages=ocr_pages, defer_ocr=defer_ocr, limits=limits)
        lap("read")
    except ReadError as exc:
        lap("read")
        record.source_format = source_format_of(path)
        return [record.fail("read", exc.error, exc.message)]
    except OcrDeferred:
        raise
    except Exception as exc:  # our own bug while reading (InternalError), never the file's fault
        lap("read")
        record.source_format = source_format_of(path)
        return [_internal_error(record, "read", exc.original if isinstance(exc, InternalError) else exc, path)]
    try:
        parts = split_bundle(document)
        lap("split")
    except Exception as exc:  # a bug must cost this file's rows, not the run
        lap("split")
        record.source_format = document.source_format
        return [_internal_error(record, "split", exc, path)]
    return [_process_part(path, sha, part, part_document, lap) for part, part_document in parts]


def process_document(path: Path, **options: Any) -> LetterRecord:
    """The complete record of a file holding one letter (for a file holding several, its first part:
    process_file gives them all); never raises for bad input. Takes process_file's options."""
    return process_file(path, **options)[0]


def part_letter_id(sha: str, part: FilePart) -> str:
    """A letter's stable identifier: the first 16 hex digits of its file's SHA-256, and for a letter
    of a file holding several, `-p` and its part's number (`c7a15615fcdc9a66-p3`)."""
    return sha[:16] if part.count == 1 else f"{sha[:16]}-p{part.index}"


def _process_part(path: Path, sha: str, part: FilePart, document: SourceDocument, lap: _Laps) -> LetterRecord:
    """One letter of the file (all of it, for most files) through normalise, segment, extract and validate."""
    record = LetterRecord(letter_id=part_letter_id(sha, part), source_path=str(path), sha256=sha, part=part)
    record.source_format = document.source_format
    record.pages = len(document.pages)
    for warning in document.warnings:
        record.flag(f"read: {warning}")
    stage = "normalise"
    try:
        record.text = normalise_document(document)
        record.text.first_page = document.pages[0].number if document.pages else 1
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
