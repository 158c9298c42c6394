"""Bounds on the work one document may cost, so a hostile file costs its own row and never the run.

The defaults live in `data/limits.toml`; `ingest` takes each as an option. The wall-clock limit is
enforced inside the process that runs the document: a timer signal stops Python code and the
Tesseract call, and in pool workers a watchdog ends the process if a library call is stuck past
the limit where no signal reaches it (the run then gives that document a failed row).
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields, replace
from typing import Iterator

from pipeline.config import load_toml

MIB = 1024 * 1024
# memory that rendering a page, greying, despeckling, deskewing and wiping its rules take, per
# pixel (measured: 10-12 bytes over the worker's own memory; Tesseract's process, 210 MiB of its
# own, takes about 8 a pixel more)
RENDER_BYTES_PER_PIXEL = 14
# a document still running this long after its limit is stuck in a call no signal interrupts
HARD_STOP_GRACE_SECONDS = 15.0
# exit status of a worker the watchdog ended
HARD_STOP_EXIT = 75


@dataclass(frozen=True)
class Limits:
    """What one document may cost; the units are in the names (MiB = 1,048,576 bytes)."""

    max_file_mib: float
    max_pages: int
    max_seconds: float
    max_page_megapixels: float
    render_memory_mib: float
    min_ocr_dpi: float

    @property
    def max_bytes(self) -> int:
        return int(self.max_file_mib * MIB)

    @property
    def max_render_pixels(self) -> int:
        """The largest image a page may be rendered to: the pixel limit, or what the memory limit allows."""
        return int(min(self.max_page_megapixels * 1e6, self.render_memory_mib * MIB / RENDER_BYTES_PER_PIXEL))

    def key(self) -> str:
        """A short hash of the limits, part of the cache key: rows made under other limits are redone.
        The time limit is left out: a row that met it is never cached, and no other row depends on it."""
        shaping = {k: v for k, v in asdict(self).items() if k != "max_seconds"}
        return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:8]


def default_limits() -> Limits:
    values = load_toml("limits.toml")["limits"]
    return Limits(**{f.name: values[f.name] for f in fields(Limits)})


def limits_with(**overrides: float | None) -> Limits:
    """The defaults with the given limits changed (None keeps a default); every limit must be positive."""
    chosen = {k: v for k, v in overrides.items() if v is not None}
    unknown = set(chosen) - {f.name for f in fields(Limits)}
    if unknown:
        raise ValueError(f"unknown limit(s): {', '.join(sorted(unknown))}")
    bad = [k for k, v in chosen.items() if not v > 0]
    if bad:
        raise ValueError(f"limits must be positive: {', '.join(bad)}")
    return replace(default_limits(), **chosen)


class DocumentTimeout(BaseException):
    """The document ran past its wall-clock limit. A BaseException, so that the stages' own
    `except Exception` (which turn a library's failure into a corrupt-file row) let it through."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"over the {seconds:g} s limit")
        self.seconds = seconds


_deadline: float | None = None  # time.monotonic() by which the current document must be done
_limit: float = 0.0


def seconds_left() -> float | None:
    """Time the current document has left, or None when no limit is running."""
    return None if _deadline is None else _deadline - time.monotonic()


def timed_out() -> DocumentTimeout:
    """The exception for the limit now running (for a call that noticed it ran out of time itself)."""
    return DocumentTimeout(_limit)


def _on_alarm(signum: int, frame: object) -> None:
    raise timed_out()


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise DocumentTimeout in the block once it has run for seconds (soft: only in the main thread,
    where signals are delivered; the watchdog of enable_hard_stop covers the rest in workers)."""
    global _deadline, _limit
    soft = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    previous = (_deadline, _limit)
    _deadline, _limit = time.monotonic() + seconds, seconds
    old = signal.signal(signal.SIGALRM, _on_alarm) if soft else None
    if soft:
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        if soft:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
        _deadline, _limit = previous


def enable_hard_stop(grace: float | None = None) -> None:
    """In a worker process: end the process if a document is still running `grace` seconds
    (HARD_STOP_GRACE_SECONDS) after its limit: stuck in C code, where the timer signal's handler never runs."""
    grace = HARD_STOP_GRACE_SECONDS if grace is None else grace

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if _deadline is not None and time.monotonic() > _deadline + grace:
                os._exit(HARD_STOP_EXIT)

    threading.Thread(target=watch, name="document-watchdog", daemon=True).start()
