"""Run the pipeline over many documents: discover, skip what is cached, process in parallel, write.

Results are the same whatever the number of workers: documents are processed in sorted path
order and their rows written in that order.
"""
from __future__ import annotations

import copy
import datetime as dt
import hashlib
import multiprocessing as mp
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
import logging
import os
import pickle
import re
import shutil
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping

from pipeline import EXTRACTOR_VERSION, __version__
from pipeline.dedup import mark_conflicts, text_key
from pipeline.errors import OutputBusy, UsageError
from pipeline.limits import DocumentTimeout, Limits, default_limits, enable_hard_stop, time_limit
from pipeline.read import OcrResult, check_regular_file, file_sha256
from pipeline.records import ReadError
from pipeline.sources import ARCHIVE_SUFFIXES, Input, Selection, find_inputs

log = logging.getLogger("ofsted_letters")
log.addHandler(logging.NullHandler())  # nothing on stderr unless --verbose or --log asks (not Python's last-resort handler)

@dataclass
class RunSummary:
    out_dir: Path
    n_documents: int = 0
    n_letters: int = 0  # rows of letters: more than documents when a file holds several letters
    by_status: Counter = field(default_factory=Counter)
    duplicates: int = 0
    conflicts: int = 0  # letters flagged for disagreeing with another for the same authority and year
    from_cache: int = 0
    processed: int = 0  # documents run through the pipeline (copies of one file are run once)
    seconds: float = 0.0
    workers: int = 1
    files: dict[str, Path] = field(default_factory=dict)
    skipped: Counter = field(default_factory=Counter)  # files in the folders given not read, by extension

    @property
    def letters_per_second(self) -> float:
        return self.n_documents / self.seconds if self.seconds else 0.0

    @property
    def any_problem(self) -> bool:
        return any(self.by_status[s] for s in ("failed", "needs_review"))


def _find_inputs(paths: list[Path], out_dir: Path, include: tuple[str, ...], exclude: tuple[str, ...],
                 skipped: Counter | None = None) -> tuple[list[Input], Path]:
    """The run's documents (archives read as folders, their letters copied to a staging folder in
    out_dir that the run removes at the end) and that staging folder."""
    staging = out_dir / f".archives-{uuid.uuid4().hex[:8]}"
    return find_inputs(paths, staging, Selection(tuple(include), tuple(exclude)), skipped=skipped), staging


def _refused_rows(item: Input, key: str) -> Rows:
    """The failed row of an input not read at all: an archive member refused, or a refused archive."""
    from pipeline.records import LetterRecord
    from pipeline.rows import record_rows

    suffix = next((s for s in ARCHIVE_SUFFIXES if item.source.lower().endswith(s)), Path(item.source).suffix.lower())
    record = LetterRecord(letter_id=key[:16], source_path=item.source, source_format=suffix.lstrip("."))
    return record_rows(record.fail("read", item.error or "refused", item.message or "refused"))


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _cache_path(out_dir: Path, sha: str, options: str) -> Path:
    return out_dir / ".cache" / f"v{EXTRACTOR_VERSION}-{options}" / sha[:2] / f"{sha}.pickle"


# one document to process: its path, content hash, OCR and layout options, cache file and limits
Task = tuple[str, str, str, str, str, Limits]
Rows = dict[str, list[dict]]


def _work(task: Task, ocr_pages: Mapping[int, OcrResult] | None = None, defer_ocr: bool = False) -> Rows | list[int]:
    """One document's rows, cached here so the writer process stays light; or, with defer_ocr,
    the numbers of a long scan's pages for the caller to OCR in parallel first. The rows carry
    the seconds each stage took under TIMING (not cached), for --verbose and --log.

    The document has limits.max_seconds: past it, it gets a failed row (not cached, since the
    time depends on the machine as much as on the file)."""
    from pipeline.process import process_file
    from pipeline.read import OcrDeferred
    from pipeline.rows import file_rows

    path, sha, ocr, layout, cache, limits = task
    timings: dict[str, float] = {}
    try:
        with time_limit(limits.max_seconds):
            records = process_file(Path(path), ocr=ocr, layout=layout, sha256=sha or None, ocr_pages=ocr_pages, defer_ocr=defer_ocr,
                                   timings=timings, limits=limits)
    except OcrDeferred as deferred:
        return deferred.pages
    except DocumentTimeout as stopped:
        return _timeout_rows(task, stopped.seconds)
    finally:
        if path.lower().endswith(".pdf"):
            release_memory()
    rows = file_rows(records)
    if cache:
        _store(Path(cache), rows)
    rows[TIMING] = [timings]
    return rows


# the key under which a worker's rows carry its stage timings to the main process
TIMING = "_timing"


def _work_batch(tasks: list[Task]) -> list[Rows | list[int]]:
    return [_work(task, defer_ocr=True) for task in tasks]


class _PageTimedOut(Exception):
    """A page of a long scan ran past the document's time limit (an Exception, unlike DocumentTimeout, so it travels back as a result)."""


def _ocr_page(path: str, number: int, limits: Limits) -> tuple[OcrResult, float]:
    """One page of a scan OCR'd, and the seconds it took; it has the document's time limit."""
    from pipeline.read import ocr_pdf_page

    started = time.perf_counter()
    try:
        with time_limit(limits.max_seconds):
            return ocr_pdf_page(Path(path), number, limits), time.perf_counter() - started
    except DocumentTimeout as stopped:
        raise _PageTimedOut(stopped.seconds) from None
    finally:
        release_memory()


_LOCK_FD: int | None = None  # the output folder's lock, held by the main process only


def _lock_stays_with_the_run() -> None:
    """In every forked child, at once: the lock must end with the main process, not with a worker (or any
    copy of the run) that a SIGKILL of the run caught before it was set up."""
    global _LOCK_FD
    if _LOCK_FD is not None:
        with suppress(OSError):
            os.close(_LOCK_FD)
        _LOCK_FD = None


os.register_at_fork(after_in_child=_lock_stays_with_the_run)


def _ignore_signal(signum: int, frame: object) -> None:
    """A worker's Ctrl-C: the main process stops it."""


def _init_worker(parent: int | None = None) -> None:
    # Ctrl-C reaches every process of the terminal: the main process stops the workers, which
    # would otherwise each print a traceback. A handler that does nothing, not SIG_IGN, which
    # Tesseract would inherit: it should stop on Ctrl-C too.
    signal.signal(signal.SIGINT, _ignore_signal)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the run's handler (forked) is the main process's, not ours
    route_library_logs()
    _steady_allocator()
    if parent is not None:
        _die_with_parent(parent)
        _tesseract_dies_with_worker()
        enable_hard_stop()
    # only now the spaCy import (a second or two): a worker must be tied to the run before it
    from pipeline.nlp import load_pipeline

    try:
        load_pipeline()
    except Exception:  # not here, where it would break the pool: each document then fails with the reason
        pass


# the libraries whose warnings about a damaged file ("Could not get FontBBox ...") would reach stderr
LIBRARY_LOGGERS = ("pdfminer", "pdfplumber", "pypdfium2", "PIL", "py.warnings")


class _ToRunLog(logging.Handler):
    """A library's log record, passed on to the run's log (--log, --verbose)."""

    def emit(self, record: logging.LogRecord) -> None:
        with suppress(Exception):
            log.info("%s: %s", record.name, record.getMessage())


def route_library_logs() -> None:
    """Send the PDF libraries' warnings and Python warnings to the run's log instead of stderr,
    where a damaged file's noise would bury the run's own lines."""
    logging.captureWarnings(True)
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(h, _ToRunLog) for h in logger.handlers):
            logger.addHandler(_ToRunLog())
        logger.propagate = False


_LIBC = None


def _libc():
    global _LIBC
    if _LIBC is None and sys.platform.startswith("linux"):
        import ctypes

        with suppress(OSError):
            _LIBC = ctypes.CDLL(None)
    return _LIBC


def _steady_allocator() -> None:
    """Keep a worker's memory floor from creeping (glibc): large blocks (a page image, its numpy
    copies) are always mapped on their own and given back when freed. By default glibc raises that
    threshold each time such a block is freed, after which the next page's images come from the heap
    and are kept: a worker's floor rose from 190 to 260-340 MB over a run of scans."""
    libc = _libc()
    if libc is not None:
        with suppress(AttributeError):
            libc.mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD: fixed, which also fixes M_TRIM_THRESHOLD


def release_memory() -> None:
    """Give the heap's free memory back to the system after a document or page that rendered images."""
    libc = _libc()
    if libc is not None:
        with suppress(AttributeError):
            libc.malloc_trim(0)


def _tesseract_dies_with_worker() -> None:
    """Tesseract, started by pytesseract, gets the kernel's parent-death signal too (Linux), so a
    worker killed mid-page does not leave its Tesseract running until the page ends."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        import pytesseract.pytesseract as tess

        libc = ctypes.CDLL(None, use_errno=True)
    except (ImportError, OSError):
        return
    original = getattr(tess.subprocess_args, "__wrapped__", tess.subprocess_args)
    kill = int(signal.SIGKILL)

    def arm() -> None:  # runs in the child between fork and exec
        libc.prctl(1, kill, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG

    def subprocess_args(include_stdout: bool = True) -> dict:
        kwargs = original(include_stdout)
        kwargs["preexec_fn"] = arm
        return kwargs

    subprocess_args.__wrapped__ = original  # type: ignore[attr-defined]
    tess.subprocess_args = subprocess_args


def _die_with_parent(parent: int) -> None:
    """End this worker when the run's main process ends, even by SIGKILL: the kernel's parent-death
    signal on Linux (prctl PR_SET_PDEATHSIG), and elsewhere a thread that watches the parent."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(1, int(signal.SIGKILL), 0, 0, 0) == 0  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            armed = False
        if armed:
            if os.getppid() != parent:  # the parent died before the signal was armed
                os._exit(1)
            return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()




def _pool_size(workers: int, tasks: list[Task]) -> int:
    """How many worker processes are worth starting: a single PDF still gets every worker, since
    if it is a scan its pages are OCR'd in parallel."""
    if not tasks:
        return 0
    return workers if any(t[0].lower().endswith(".pdf") for t in tasks) else min(workers, len(tasks))


@dataclass
class _Scan:
    """A long scan whose pages are out being OCR'd, one task a page."""

    waiting: int
    pages: dict[int, OcrResult] = field(default_factory=dict)
    failed: bool = False
    timed_out: float | None = None  # the limit a page ran past: the document's row says so


class ParallelRun:
    """Documents processed by a pool of workers, their rows handed back in input order.

    Documents go out in batches. A batch hands back a long scan's page numbers instead of its
    rows; its pages then go out one task each, so every worker OCRs, and the document is read
    again with them. A bounded number of documents is in flight or held, so memory stays flat.

    A worker that dies (a fault in PDFium or Tesseract on a damaged file, or the system killing
    it) breaks the pool. A new pool then runs the documents that were in flight one at a time,
    so the one that kills its worker again is known: it gets a failed row and the run goes on.
    """

    def __init__(self, tasks: list[Task], workers: int, on_page: Callable[[int, int, float], None] | None = None,
                 on_done: Callable[[int, Rows], None] | None = None) -> None:
        self.tasks = tasks
        self.workers = workers
        self.on_page = on_page  # told of each page of a long scan OCR'd: task index, page number, seconds
        self.pool = self._new_pool()
        self.batch = max(1, min(16, len(tasks) // (workers * 8)))
        self.ahead = max(self.batch * workers * 4, 64)
        self.pending: dict[Future, tuple[str, object]] = {}
        self.ready: dict[int, Rows] = _Ready(on_done)  # told of each document as it finishes, before its turn to be written
        self.scans: dict[int, _Scan] = {}
        self.suspects: list[int] = []  # documents in flight when a worker died, to run one at a time
        self.alone: int | None = None
        self.submitted = 0
        self.delivered = 0
        self.submit_ahead()

    def _new_pool(self) -> ProcessPoolExecutor:
        fork = "fork" in mp.get_all_start_methods() and sys.platform == "linux"
        ctx = mp.get_context("fork" if fork else "spawn")
        return ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_init_worker, initargs=(os.getpid(),))

    def close(self, cancel: bool = False) -> None:
        """Wait for the workers; or, cancelling (an error or Ctrl-C), stop them at once rather than
        let them finish what they hold (a page of OCR can take seconds)."""
        if cancel:
            for process in list((getattr(self.pool, "_processes", None) or {}).values()):
                process.terminate()
        self.pool.shutdown(wait=not cancel, cancel_futures=cancel)

    def submit_ahead(self) -> None:
        try:
            self._submit_ahead()
        except BrokenProcessPool:  # the pool broke since the last results came in; the next wait sees it
            pass

    def _submit_ahead(self) -> None:
        if self.suspects or self.alone is not None:
            if self.alone is None:
                self.pending[self.pool.submit(_work, self.tasks[self.suspects[0]])] = ("alone", self.suspects[0])
                self.alone = self.suspects.pop(0)
            return
        while self.submitted < len(self.tasks) and self.submitted - self.delivered < self.ahead:
            # smaller batches near the end, so no worker is left idle while another finishes a long one
            size = max(1, min(self.batch, (len(self.tasks) - self.submitted) // (self.workers * 2)))
            chunk = self.tasks[self.submitted:self.submitted + size]
            self.pending[self.pool.submit(_work_batch, chunk)] = ("batch", self.submitted)
            self.submitted += len(chunk)

    def __iter__(self) -> Iterator[Rows]:
        while self.delivered < len(self.tasks):
            if self.delivered in self.ready:
                yield self.ready.pop(self.delivered)
                self.delivered += 1
                self.submit_ahead()
                continue
            if not self.pending:  # the pool broke with nothing in flight
                self._recover()
                self.submit_ahead()
                continue
            done, _ = wait(self.pending, return_when=FIRST_COMPLETED)
            try:
                for future in done:
                    kind, key = self.pending.pop(future)
                    getattr(self, f"_on_{kind}")(future, key)
            except BrokenProcessPool:
                self._recover()
            self.submit_ahead()

    def _recover(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._new_pool()
        if self.alone is not None:
            self.ready[self.alone] = _crashed_rows(self.tasks[self.alone])
            self.alone = None
        in_flight = {i for i in range(self.delivered, self.submitted) if i not in self.ready}
        self.suspects = sorted(in_flight | set(self.suspects))
        self.pending.clear()
        self.scans.clear()

    def _on_batch(self, future: Future, first: int) -> None:
        for i, outcome in enumerate(future.result(), start=first):
            if isinstance(outcome, dict):
                self.ready[i] = outcome
                continue
            self.scans[i] = _Scan(waiting=len(outcome))
            for number in outcome:
                self.pending[self.pool.submit(_ocr_page, self.tasks[i][0], number, self.tasks[i][5])] = ("page", (i, number))

    def _on_page(self, future: Future, key: tuple[int, int]) -> None:
        i, number = key
        scan = self.scans[i]
        try:
            scan.pages[number], seconds = future.result()
            if self.on_page is not None:
                self.on_page(i, number, seconds)
        except BrokenProcessPool:
            raise
        except _PageTimedOut as stopped:
            scan.timed_out = stopped.args[0]
        except Exception:  # the document is read again whole, in one worker, and fails there with its own message
            scan.failed = True
        scan.waiting -= 1
        if scan.waiting == 0:
            del self.scans[i]
            if scan.timed_out is not None:
                self.ready[i] = _timeout_rows(self.tasks[i], scan.timed_out)
                return
            self.pending[self.pool.submit(_work, self.tasks[i], None if scan.failed else scan.pages)] = ("document", i)

    def _on_document(self, future: Future, i: int) -> None:
        self.ready[i] = future.result()

    def _on_alone(self, future: Future, i: int) -> None:
        self.ready[i] = future.result()
        self.alone = None


class _Ready(dict):
    """Documents finished and waiting for their turn to be written, in input order; on_done hears of
    each as it finishes, so progress counts it then rather than when it is written."""

    def __init__(self, on_done: Callable[[int, Rows], None] | None) -> None:
        super().__init__()
        self.on_done = on_done

    def __setitem__(self, task: int, rows: Rows) -> None:
        super().__setitem__(task, rows)
        if self.on_done is not None:
            self.on_done(task, rows)


def _crashed_rows(task: Task) -> Rows:
    """The failed row of a document whose worker died while it ran alone (it is not cached: the
    cause may have been the machine, such as memory, rather than the file)."""
    message = (
        "the worker reading this file died (a fault in PDFium or Tesseract, which a damaged file can cause, the system ran out "
        f"of memory, or it was stuck in a library call past the {task[5].max_seconds:g} s time limit, --max-seconds); please report it with this file"
    )
    return _failed_rows(task[0], task[1], "worker_crashed", message)


def _timeout_rows(task: Task, seconds: float) -> Rows:
    return _failed_rows(task[0], task[1], "time_limit", f"reading stopped after {seconds:g} s, the time limit for one document (--max-seconds)")


def _failed_rows(path: str, sha: str, error: str, message: str) -> Rows:
    """The rows of a document that failed outside process_file: keyed on its content, or on its
    path when it could not be read (as process_file keys it)."""
    from pipeline.process import path_letter_id, source_format_of
    from pipeline.records import LetterRecord
    from pipeline.rows import record_rows

    letter_id = sha[:16] or path_letter_id(path)
    record = LetterRecord(letter_id=letter_id, source_path=path, sha256=sha, source_format=source_format_of(path))
    return record_rows(record.fail("read", error, message))


def _mark_duplicate(rows: dict[str, list[dict]], seen_bytes: dict[str, list[str]], seen_texts: dict[str, str], sha: str) -> int:
    """Give a repeated document its own letter_ids and point each letter's duplicate_of at the first
    copy's: the same bytes, or the same normalised text (pipeline.dedup; letters that only agree are
    not duplicates). The letters of one file (a bundle's parts) are never copies of each other by its
    bytes, only by their text. Returns how many letters are duplicates."""
    letters = rows["letters"]
    if not sha:  # a file that could not be read is not a copy of anything
        return 0
    originals = seen_bytes.get(sha)
    if originals is not None:
        n = sum(1 for k in seen_bytes if k.startswith(sha + "#")) + 2
        seen_bytes[f"{sha}#{n}"] = originals
        for table_rows in rows.values():
            for row in table_rows:
                row["letter_id"] = f"{sha[:16]}-{n}{row['letter_id'][16:]}"
        for letter, original in zip(letters, originals):
            letter["duplicate_of"] = original
        return len(letters)
    seen_bytes[sha] = [letter["letter_id"] for letter in letters]
    texts = {document["letter_id"]: document.get("text") for document in rows.get("documents") or []}
    duplicates = 0
    for letter in letters:
        key = text_key(texts.get(letter["letter_id"])) if letter["status"] != "failed" else None
        if key is None:
            continue
        if key in seen_texts:
            letter["duplicate_of"] = seen_texts[key]
            duplicates += 1
        else:
            seen_texts[key] = letter["letter_id"]
    return duplicates


def check_arguments(paths: list[Path], out_dir: Path, formats: tuple[str, ...]) -> None:
    """The mistakes the command line exits 2 for, raised as the same UsageError from the API too:
    an input that does not exist, an empty or unknown format, an output folder that is a file."""
    from pipeline.rows import FORMATS

    for path in paths:
        if not os.path.lexists(path):
            raise UsageError(f"{path} does not exist", "give the folders, files or archives that hold the letters")
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not formats:
        raise UsageError(f"unknown format(s) {', '.join(unknown)}" if unknown else "no format given to --format", f"choose from {', '.join(FORMATS)}, e.g. --format csv,parquet")
    for folder in (out_dir, *out_dir.parents):
        if folder.exists():
            if not folder.is_dir():
                what = "is a file" if folder == out_dir else f"is inside {folder}, which is a file"
                raise UsageError(f"the output folder {out_dir} {what}, not a folder", "give --out a folder (it is made if missing)")
            break


def ingest(
    paths: list[Path],
    out_dir: Path,
    *,
    workers: int | None = None,
    formats: tuple[str, ...] = ("csv", "parquet"),
    force: bool = False,
    ocr: str = "auto",
    layout: str = "auto",
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    progress: Callable[[RunProgress], None] | None = None,
    limits: Limits | None = None,
) -> RunSummary:
    """Turn the documents under paths (files, folders, .zip and .tar.gz archives) into the dataset
    in out_dir; include and exclude are globs that narrow the files taken (see pipeline.sources).

    progress is called with a RunProgress after every document and every page of a long scan
    OCR'd; each document's stages and timings are logged to the `ofsted_letters` logger.
    limits bound each document's work (defaults in data/limits.toml).

    One run at a time writes to an out_dir: a second one raises OutputLocked. What a run killed
    outright left behind (its staging folders, cache and OCR temporaries) is removed first."""
    out_dir = Path(out_dir)
    check_arguments(paths, out_dir, formats)
    with output_lock(out_dir), scratch_space(out_dir), _terminate_as_interrupt():
        skipped: Counter = Counter()
        inputs, staging = _find_inputs(paths, out_dir, include, exclude, skipped)
        if skipped:
            log.info("%d file(s) in the folders given are not .txt, .pdf or archives and were skipped: %s", sum(skipped.values()),
                     ", ".join(f"{n} {ext or '(no extension)'}" for ext, n in sorted(skipped.items())))
        if not inputs and (include or exclude):  # say which globs left nothing, not only where
            shutil.rmtree(staging, ignore_errors=True)
            globs = " ".join([*(f"--include {g!r}" for g in include), *(f"--exclude {g!r}" for g in exclude)])
            raise UsageError(f"no letters in {', '.join(map(str, paths))} match {globs}",
                             "globs match the path below the folder or archive given, e.g. --include '2009/*' (see --help)")
        try:
            summary = _ingest_inputs(inputs, paths, out_dir, workers=workers, formats=formats, force=force, ocr=ocr, layout=layout,
                                     progress=progress, limits=limits or default_limits())
            summary.skipped = skipped
            return summary
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _ingest_inputs(
    inputs: list[Input],
    paths: list[Path],
    out_dir: Path,
    *,
    workers: int | None,
    formats: tuple[str, ...],
    force: bool,
    ocr: str,
    layout: str,
    progress: Callable[[RunProgress], None] | None,
    limits: Limits,
) -> RunSummary:
    started = time.perf_counter()
    started_at = dt.datetime.now(dt.timezone.utc)
    files = [item.path for item in inputs]
    if not inputs:
        raise UsageError(f"no letters (.txt or .pdf files, or archives of them) in {', '.join(map(str, paths))}", "give the folders, files or archives that hold the letters")
    workers = workers or default_workers()
    summary = RunSummary(out_dir=out_dir, n_documents=len(files), workers=workers)
    options = f"{ocr}-{layout}-{limits.key()}"
    hashes, unreadable = hash_inputs(files)
    refused: dict[int, Rows] = {}
    for i, path in enumerate(files):
        if path is None:
            # keyed on the source path, so that two refused members are not taken for one document
            hashes[i] = hashlib.sha256(inputs[i].source.encode()).hexdigest()
            refused[i] = _refused_rows(inputs[i], hashes[i])
        elif i in unreadable:  # not a regular file, or cannot be opened: a failed row made here
            refused[i] = _failed_rows(inputs[i].source, "", unreadable[i].error, unreadable[i].message)
    copy_of = first_copies([sha if i not in refused else "" for i, sha in enumerate(hashes)])
    cached: dict[int, Path] = {}
    todo: list[int] = []
    for i, sha in enumerate(hashes):
        if i in refused or i in copy_of:  # copies share the first one's rows
            continue
        cache = _cache_path(out_dir, sha, options)
        if not force and cache.exists():
            cached[i] = cache
        else:
            todo.append(i)
    # a copy of a cached document is reused from the cache too
    summary.from_cache = len(cached) + sum(first in cached for first in copy_of.values())

    def task_of(i: int) -> Task:
        return (str(files[i]), hashes[i], ocr, layout, str(_cache_path(out_dir, hashes[i], options)), limits)

    tasks = [task_of(i) for i in todo]
    summary.processed = len(tasks)
    watch = _Watch(inputs, todo, progress)
    log.info("%d documents (%d reused from the cache, %d refused), %d to read: about %d pages", len(files), len(cached), len(refused), len(todo), watch.state.pages)
    size = _pool_size(workers, tasks)
    watch.state.workers = max(size, 1)
    # documents are read in worker processes even with one worker: a fault in PDFium or Tesseract
    # then costs that document's row, not the run
    run = ParallelRun(tasks, size, watch.page, watch.finished) if size else None
    try:
        # the first documents go out (and the workers start) before the writer imports pandas and pyarrow
        fresh = iter(run) if run is not None else iter(())
        from pipeline.write import DatasetWriter

        writer = DatasetWriter(out_dir, formats)
    except BaseException:
        if run is not None:
            run.close(cancel=True)
        raise
    try:
        seen_bytes: dict[str, list[str]] = {}
        seen_texts: dict[str, str] = {}
        # letters rows are held to the end, where letters that disagree with another are flagged on both sides
        held_letters: list[dict] = []
        copies_left = Counter(hashes[j] for j in copy_of)
        shared: dict[str, Rows] = {}  # rows of a document whose copies are still to come
        for i, path in enumerate(files):
            sha = hashes[i] if i not in refused else ""
            if i in refused:
                rows = refused[i]
            elif i in copy_of:
                copies_left[sha] -= 1
                rows = shared.pop(sha) if copies_left[sha] == 0 else copy.deepcopy(shared[sha])
            elif i in cached:
                rows = _load_cached(cached[i])
                if rows is None:  # an unreadable cache entry costs that entry: the document is run again here
                    rows = _work(task_of(i))
                    summary.from_cache -= 1
                    summary.processed += 1
            else:
                rows = next(fresh)
            if copies_left.get(sha) and sha not in shared:
                shared[sha] = copy.deepcopy({k: v for k, v in rows.items() if k != TIMING})
            timing = rows.pop(TIMING, [None])[0]
            for table_rows in rows.values():
                for row in table_rows:
                    if "source_path" in row:
                        row["source_path"] = inputs[i].source
            summary.duplicates += _mark_duplicate(rows, seen_bytes, seen_texts, sha)
            held_letters += rows["letters"]
            writer.add({k: v for k, v in rows.items() if k != "letters"})
            watch.document(i, rows, timing, cached=i in cached, copy_of=inputs[copy_of[i]].source if i in copy_of else None)
        summary.conflicts = mark_conflicts(held_letters)
        summary.by_status.update(letter["status"] for letter in held_letters)
        summary.n_letters = len(held_letters)
        writer.add({"letters": held_letters})
        summary.seconds = time.perf_counter() - started
        run_info = {
            "started_at": started_at.isoformat(timespec="seconds"),
            "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "version": __version__,
            "extractor_version": EXTRACTOR_VERSION,
            "inputs": [str(p) for p in paths],
            "n_documents": len(files),
            "n_letters": summary.n_letters,
            "counts_by_status": dict(sorted(summary.by_status.items())),
            "duplicates": summary.duplicates,
            "conflicts": summary.conflicts,
            "reused_from_cache": summary.from_cache,
            "processed": summary.processed,
            "workers": workers,
            "options": {"ocr": ocr, "layout": layout, "formats": list(formats), "limits": asdict(limits)},
            "seconds": round(summary.seconds, 3),
            "letters_per_second": round(summary.letters_per_second, 2),
        }
        summary.files = writer.close(run_info)
        log.info("finished: %d documents in %.1f s (%s)", len(files), summary.seconds, ", ".join(f"{k} {v}" for k, v in run_info["counts_by_status"].items()))
    except BaseException:
        writer.discard()
        if run is not None:
            run.close(cancel=True)
        raise
    if run is not None:
        run.close()
    return summary


@dataclass
class RunProgress:
    """Where a run stands: what the progress callback is given after each document and each page
    of a long scan OCR'd. pages counts the documents still to read (not those from the cache):
    estimated from each PDF's bytes at the start, then corrected as each is read."""

    documents: int
    pages: int
    documents_done: int = 0  # counted as each finishes, whatever the order they are written in
    pages_done: int = 0
    current: str = ""  # what is being read: a file, or a page of a scan
    ocr_pages_done: int = 0  # pages of long scans OCR'd on their own (counted in pages_done too)
    ocr_seconds: float = 0.0  # the worker seconds those pages took
    ocr_pages_pending: int = 0  # pages of the scans being OCR'd still to do
    workers: int = 1


_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
_PDF_COUNT = re.compile(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)|/Count\s+(\d+)[^>]*?/Type\s*/Pages\b")


def estimate_pages(path: Path | None) -> int:
    """About how many pages a document has, from its bytes: a PDF's page objects (or its page
    tree's count, where the objects are compressed), else 1. Not opened with PDFium here: a file
    that crashes PDFium must cost a worker, not the run."""
    if path is None or path.suffix.lower() != ".pdf":
        return 1
    try:
        data = path.read_bytes()
    except OSError:
        return 1
    pages = len(_PDF_PAGE.findall(data))
    if not pages:
        counts = [int(a or b) for a, b in _PDF_COUNT.findall(data)]
        pages = max(counts, default=1)
    return max(pages, 1)


class _Watch:
    """Counts pages and documents as they finish, tells the progress callback, and logs each
    document's stages and timings (the `ofsted_letters` logger: --verbose, --log)."""

    def __init__(self, inputs: list[Input], todo: list[int], progress: Callable[[RunProgress], None] | None) -> None:
        self.inputs = inputs
        self.todo = todo  # task index -> input index
        self.pages = {i: estimate_pages(inputs[i].path) for i in todo}
        self.state = RunProgress(len(inputs), sum(self.pages.values()))
        self.ocr: dict[int, list[float]] = {}  # seconds of each page of a long scan OCR'd on its own
        self.done: set[int] = set()  # documents counted as finished (input indices)
        self.progress = progress
        self._current(0)

    def _current(self, i: int) -> None:
        self.state.current = self.inputs[i].source if i < len(self.inputs) else ""

    def _tell(self) -> None:
        if self.progress is not None:
            self.progress(self.state)

    def page(self, task: int, number: int, seconds: float) -> None:
        i = self.todo[task]
        done = self.ocr.setdefault(i, [])
        done.append(seconds)
        if len(done) > self.pages[i]:  # more pages than the estimate
            self.state.pages += 1
            self.pages[i] += 1
        self.state.pages_done += 1
        self.state.ocr_pages_done += 1
        self.state.ocr_seconds += seconds
        self._pending_ocr()
        self.state.current = f"{self.inputs[i].source} (OCR, page {number} of {max(self.pages[i], len(done))})"
        log.info("%s: page %d OCR'd in %.1f s", self.inputs[i].source, number, seconds)
        self._tell()

    def finished(self, task: int, rows: Rows) -> None:
        """A document a worker finished, told at once (it is written later, in input order)."""
        self._count(self.todo[task], rows)
        self._tell()

    def _count(self, i: int, rows: Rows) -> None:
        if i in self.done:
            return
        self.done.add(i)
        if i in self.pages:
            pages = max(sum(int(document.get("pages") or 0) for document in rows.get("documents") or []), 1)
            self.state.pages += pages - self.pages[i]
            self.state.pages_done += pages - len(self.ocr.get(i, []))
        self.state.documents_done += 1
        self._pending_ocr()

    def _pending_ocr(self) -> None:
        self.state.ocr_pages_pending = sum(max(self.pages[j] - len(done), 0) for j, done in self.ocr.items() if j not in self.done)

    def document(self, i: int, rows: Rows, timing: dict[str, float] | None, cached: bool, copy_of: str | None = None) -> None:
        letters = rows["letters"]
        pages = sum(int(document.get("pages") or 0) for document in rows.get("documents") or [])
        self._count(i, rows)
        self._current(i + 1)
        source = self.inputs[i].source
        status = letters[0]["status"]
        if len(letters) > 1:
            status = f"{len(letters)} letters (" + ", ".join(f"{n} {s}" for s, n in Counter(letter["status"] for letter in letters).items()) + ")"
        what = f"{status}, {letters[0].get('source_format') or '?'}, {pages} page(s)"
        if cached:
            log.info("%s: %s, reused from the cache", source, what)
        elif copy_of is not None:
            log.info("%s: %s, the same bytes as %s (read once)", source, what, copy_of)
        elif timing is None:
            log.info("%s: %s, not read: %s", source, what, letters[0].get("issues"))
        else:
            stages = dict(timing)
            ocr = self.ocr.pop(i, [])
            if ocr:
                stages["ocr"] = sum(ocr)
            detail = ", ".join(f"{stage} {seconds:.3f}" for stage, seconds in stages.items())
            log.info("%s: %s, %.3f s (%s)", source, what, sum(stages.values()), detail)
        self._tell()


def _store(path: Path, rows: dict) -> None:
    """Cache one document's rows; written then renamed so an interrupted run never leaves half a file.

    Pickle, not JSON: a re-run of 1,000 unchanged letters spends most of its time loading these.
    The temporary name is this writer's own, so writers never share one; a failure to write (disk
    full, permissions) costs this cache entry only.
    """
    tmp = path.with_name(f"{path.stem}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    data = pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        try:
            tmp.write_bytes(data)
        except FileNotFoundError:  # the folder is made when first missing, not asked after for every letter
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        with suppress(OSError):
            tmp.unlink(missing_ok=True)


def _load_cached(path: Path) -> Rows | None:
    """A cached document's rows, or None when the entry cannot be read back (damaged, or gone)."""
    try:
        rows = pickle.loads(path.read_bytes())
    except Exception:  # a truncated or foreign file unpickles to any error
        return None
    return rows if isinstance(rows, dict) and rows.get("letters") else None


def hash_inputs(files: list[Path | None]) -> tuple[list[str], dict[int, ReadError]]:
    """Each file's content hash; for a path that is not a readable regular file, "" and the reason.
    FIFOs, sockets and devices are found by stat and never opened. (None, an input with no file of
    its own, gets "".)"""
    hashes: list[str] = []
    unreadable: dict[int, ReadError] = {}
    for i, path in enumerate(files):
        if path is None:
            hashes.append("")
            continue
        try:
            check_regular_file(path)
            hashes.append(file_sha256(path))
        except ReadError as exc:
            hashes.append("")
            unreadable[i] = exc
        except OSError as exc:
            hashes.append("")
            unreadable[i] = ReadError("unreadable", f"cannot open the file: {exc.strerror or exc}")
    return hashes, unreadable


def first_copies(hashes: list[str]) -> dict[int, int]:
    """For each file whose bytes an earlier file already has, the index of that earlier file: it
    is processed once and its copies take its rows (then marked duplicate_of)."""
    first: dict[str, int] = {}
    copies: dict[int, int] = {}
    for i, sha in enumerate(hashes):
        if not sha:
            continue
        if sha in first:
            copies[i] = first[sha]
        else:
            first[sha] = i
    return copies


class OutputLocked(OutputBusy):
    """Another ingest is writing to the same output folder."""


@contextmanager
def output_lock(out_dir: Path) -> Iterator[None]:
    """Hold OUT/.lock for the run (an flock, so the kernel frees it when the process dies, however);
    raise OutputLocked at once if another run holds it."""
    global _LOCK_FD
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # no flock on this system: runs are not guarded against each other
        yield
        return
    fd = os.open(out_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
        os.close(fd)
        who = f" (process {holder})" if holder.isdigit() else ""
        raise OutputLocked(f"another ingest{who} is writing to {out_dir}", "wait for it to finish, or give another --out") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    _LOCK_FD = fd
    try:
        yield
    finally:
        _LOCK_FD = None
        os.ftruncate(fd, 0)  # the holder's pid goes with it: the folder's files are the same as before the run
        os.close(fd)


class Terminated(KeyboardInterrupt):
    """SIGTERM (a `kill`, a service manager stopping the run): handled as Ctrl-C is, so the workers
    are stopped, the previous dataset is left whole, and the command says `interrupted`."""


def _on_terminate(signum: int, frame: object) -> None:
    raise Terminated()


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM raises Terminated in the run's main thread while the block runs (signals can only be
    handled there: a run started from another thread keeps the default)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _on_terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


SCRATCH = ".scratch"


@contextmanager
def scratch_space(out_dir: Path) -> Iterator[Path]:
    """Temporary files of the run (Tesseract's images) in OUT/.scratch rather than the system's
    temporary folder, so that what a killed run leaves there is found and removed by the next."""
    import tempfile

    remove_stale_files(out_dir)
    scratch = out_dir / SCRATCH
    scratch.mkdir(exist_ok=True)
    previous = tempfile.tempdir
    tempfile.tempdir = str(scratch)  # forked workers inherit it
    try:
        yield scratch
    finally:
        tempfile.tempdir = previous
        shutil.rmtree(scratch, ignore_errors=True)


def remove_stale_files(out_dir: Path) -> None:
    """Staging folders and temporaries left by a run that was killed outright; the caller holds the
    output lock, so no live run owns any of them."""
    for parts in [*out_dir.glob(".parts-*"), *out_dir.glob(".archives-*"), out_dir / SCRATCH]:
        shutil.rmtree(parts, ignore_errors=True)
    for tmp in (out_dir / ".cache").glob("*/*/*.tmp"):
        tmp.unlink(missing_ok=True)
