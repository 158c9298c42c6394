"""Telling a damaged file from a bug of ours, and the page cap every reader meets first."""
from __future__ import annotations

from pathlib import Path

from pipeline.limits import Limits
from pipeline.records import ReadError


class InternalError(Exception):
    """An exception raised by this program's own code while reading (a bug), not by a library
    parsing a damaged file: the document's row names it as an internal error, never as a corrupt file."""

    def __init__(self, stage: str, exc: BaseException) -> None:
        super().__init__(f"{type(exc).__name__}: {exc}")
        self.stage = stage
        self.original = exc


# the libraries whose exceptions, raised inside them, mean the file is damaged
_LIBRARY_PACKAGES = ("pypdfium2", "pdfplumber", "pdfminer", "PIL", "charset_normalizer")


def raised_in_library(exc: BaseException) -> bool:
    """Whether exc was raised inside a PDF library's code (it could not parse the file), rather than in ours."""
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:
        return False
    parts = Path(last.tb_frame.f_code.co_filename).parts
    return any(name in parts for name in _LIBRARY_PACKAGES)


def library_failure(exc: Exception, what: str) -> ReadError:
    """A library's failure on a damaged file as a corrupt_pdf ReadError; our own bug as InternalError."""
    if not raised_in_library(exc):
        raise InternalError("read", exc) from exc
    return ReadError("corrupt_pdf", f"{what}: {type(exc).__name__}: {exc}")


def check_page_count(n: int, limits: Limits) -> None:
    """The page cap, met before any page is read or OCR'd."""
    if n > limits.max_pages:
        raise ReadError("too_many_pages", f"the PDF has {n:,} pages, over the limit of {limits.max_pages} pages for one letter (--max-pages); a rating letter has 1-4")


def pages_phrase(n: int) -> str:
    return "1 page" if n == 1 else f"{n:,} pages"
