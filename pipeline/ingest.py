"""Run the pipeline over many documents: discover, skip what is cached, process in parallel, write.

Results are the same whatever the number of workers: documents are processed in sorted path
order and their rows written in that order.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing as mp
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
import os
import pickle
import shutil
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping

from pipeline import EXTRACTOR_VERSION, __version__
from pipeline.read import OcrResult
from pipeline.sources import ARCHIVE_SUFFIXES, Input, Selection, find_inputs

@dataclass
class RunSummary:
    out_dir: Path
    n_documents: int = 0
    by_status: Counter = field(default_factory=Counter)
    duplicates: int = 0
    from_cache: int = 0
    seconds: float = 0.0
    workers: int = 1
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def letters_per_second(self) -> float:
        return self.n_documents / self.seconds if self.seconds else 0.0

    @property
    def any_problem(self) -> bool:
        return any(self.by_status[s] for s in ("failed", "needs_review"))


def _find_inputs(paths: list[Path], out_dir: Path, include: tuple[str, ...], exclude: tuple[str, ...]) -> tuple[list[Input], Path]:
    """The run's documents (archives read as folders, their letters copied to a staging folder in
    out_dir that the run removes at the end) and that staging folder."""
    staging = out_dir / f".archives-{uuid.uuid4().hex[:8]}"
    return find_inputs(paths, staging, Selection(tuple(include), tuple(exclude))), staging


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


def file_sha256(path: Path) -> str:
    """The content hash letter_ids and the cache are keyed on."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# one document to process: its path, content hash, OCR and layout options, and cache file
Task = tuple[str, str, str, str, str]
Rows = dict[str, list[dict]]


def _work(task: Task, ocr_pages: Mapping[int, OcrResult] | None = None, defer_ocr: bool = False) -> Rows | list[int]:
    """One document's rows, cached here so the writer process stays light; or, with defer_ocr,
    the numbers of a long scan's pages for the caller to OCR in parallel first."""
    from pipeline.process import process_document
    from pipeline.read import OcrDeferred
    from pipeline.rows import record_rows

    path, sha, ocr, layout, cache = task
    try:
        record = process_document(Path(path), ocr=ocr, layout=layout, sha256=sha or None, ocr_pages=ocr_pages, defer_ocr=defer_ocr)
    except OcrDeferred as deferred:
        return deferred.pages
    rows = record_rows(record)
    if cache:
        _store(Path(cache), rows)
    return rows


def _work_batch(tasks: list[Task]) -> list[Rows | list[int]]:
    return [_work(task, defer_ocr=True) for task in tasks]


def _ocr_page(path: str, number: int) -> OcrResult:
    from pipeline.read import ocr_pdf_page

    return ocr_pdf_page(Path(path), number)


def _init_worker() -> None:
    from pipeline.nlp import load_pipeline

    try:
        load_pipeline()
    except Exception:  # not here, where it would break the pool: each document then fails with the reason
        pass


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


class ParallelRun:
    """Documents processed by a pool of workers, their rows handed back in input order.

    Documents go out in batches. A batch hands back a long scan's page numbers instead of its
    rows; its pages then go out one task each, so every worker OCRs, and the document is read
    again with them. A bounded number of documents is in flight or held, so memory stays flat.

    A worker that dies (a fault in PDFium or Tesseract on a damaged file, or the system killing
    it) breaks the pool. A new pool then runs the documents that were in flight one at a time,
    so the one that kills its worker again is known: it gets a failed row and the run goes on.
    """

    def __init__(self, tasks: list[Task], workers: int) -> None:
        self.tasks = tasks
        self.workers = workers
        self.pool = self._new_pool()
        self.batch = max(1, min(16, len(tasks) // (workers * 8)))
        self.ahead = max(self.batch * workers * 4, 64)
        self.pending: dict[Future, tuple[str, object]] = {}
        self.ready: dict[int, Rows] = {}
        self.scans: dict[int, _Scan] = {}
        self.suspects: list[int] = []  # documents in flight when a worker died, to run one at a time
        self.alone: int | None = None
        self.submitted = 0
        self.delivered = 0
        self.submit_ahead()

    def _new_pool(self) -> ProcessPoolExecutor:
        fork = "fork" in mp.get_all_start_methods() and sys.platform == "linux"
        ctx = mp.get_context("fork" if fork else "spawn")
        return ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_init_worker)

    def close(self, cancel: bool = False) -> None:
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
                self.pending[self.pool.submit(_ocr_page, self.tasks[i][0], number)] = ("page", (i, number))

    def _on_page(self, future: Future, key: tuple[int, int]) -> None:
        i, number = key
        scan = self.scans[i]
        try:
            scan.pages[number] = future.result()
        except BrokenProcessPool:
            raise
        except Exception:  # the document is read again whole, in one worker, and fails there with its own message
            scan.failed = True
        scan.waiting -= 1
        if scan.waiting == 0:
            del self.scans[i]
            self.pending[self.pool.submit(_work, self.tasks[i], None if scan.failed else scan.pages)] = ("document", i)

    def _on_document(self, future: Future, i: int) -> None:
        self.ready[i] = future.result()

    def _on_alone(self, future: Future, i: int) -> None:
        self.ready[i] = future.result()
        self.alone = None


def _crashed_rows(task: Task) -> Rows:
    """The failed row of a document whose worker died while it ran alone (it is not cached: the
    cause may have been the machine, such as memory, rather than the file)."""
    from pipeline.records import LetterRecord
    from pipeline.rows import record_rows

    path, sha, *_ = task
    # an unhashable file is keyed on its path, as process_document keys it
    letter_id = sha[:16] or hashlib.sha256(path.encode()).hexdigest()[:16]
    record = LetterRecord(letter_id=letter_id, source_path=path, sha256=sha, source_format=Path(path).suffix.lower().lstrip("."))
    message = "the worker reading this file died (a fault in PDFium or Tesseract, which a damaged file can cause, or the system ran out of memory); please report it with this file"
    return record_rows(record.fail("read", "worker_crashed", message))


def _mark_duplicate(rows: dict[str, list[dict]], seen_bytes: dict[str, str], seen_letters: dict[tuple, str], sha: str) -> bool:
    """Give a repeated document its own letter_id and point duplicate_of at the first one."""
    letter = rows["letters"][0]
    original = seen_bytes.get(sha)
    if original is not None:
        n = sum(1 for k in seen_bytes if k.startswith(sha + "#")) + 2
        seen_bytes[f"{sha}#{n}"] = original
        new_id = f"{sha[:16]}-{n}"
        for table_rows in rows.values():
            for row in table_rows:
                row["letter_id"] = new_id
        letter["duplicate_of"] = original
        return True
    seen_bytes[sha] = letter["letter_id"]
    key = (letter.get("authority_la_code"), letter.get("rating_year"), letter.get("letter_date"))
    if letter["status"] in ("ok", "needs_review") and all(key):
        if key in seen_letters:
            letter["duplicate_of"] = seen_letters[key]
            return True
        seen_letters[key] = letter["letter_id"]
    return False


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
    progress: Callable[[int, int], None] | None = None,
) -> RunSummary:
    """Turn the documents under paths (files, folders, .zip and .tar.gz archives) into the dataset
    in out_dir; include and exclude are globs that narrow the files taken (see pipeline.sources)."""
    out_dir = Path(out_dir)
    inputs, staging = _find_inputs(paths, out_dir, include, exclude)
    try:
        return _ingest_inputs(inputs, paths, out_dir, workers=workers, formats=formats, force=force, ocr=ocr, layout=layout, progress=progress)
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
    progress: Callable[[int, int], None] | None,
) -> RunSummary:
    started = time.perf_counter()
    started_at = dt.datetime.now(dt.timezone.utc)
    files = [item.path for item in inputs]
    workers = workers or default_workers()
    summary = RunSummary(out_dir=out_dir, n_documents=len(files), workers=workers)
    options = f"{ocr}-{layout}"
    hashes: list[str] = []
    refused: dict[int, Rows] = {}
    for i, path in enumerate(files):
        if path is None:
            # keyed on the source path, so that two refused members are not taken for one document
            hashes.append(hashlib.sha256(inputs[i].source.encode()).hexdigest())
            refused[i] = _refused_rows(inputs[i], hashes[i])
            continue
        try:
            hashes.append(file_sha256(path))
        except OSError:
            hashes.append("")
    cached: dict[int, Path] = {}
    todo: list[int] = []
    for i, sha in enumerate(hashes):
        if i in refused:
            continue
        cache = _cache_path(out_dir, sha, options) if sha else None
        if cache is not None and not force and cache.exists():
            cached[i] = cache
        else:
            todo.append(i)
    summary.from_cache = len(cached)
    tasks = [(str(files[i]), hashes[i], ocr, layout, str(_cache_path(out_dir, hashes[i], options)) if hashes[i] else "") for i in todo]
    size = _pool_size(workers, tasks)
    run = ParallelRun(tasks, size) if size > 1 else None
    try:
        # the first documents go out (and the workers start) before the writer imports pandas and pyarrow
        fresh = iter(run) if run is not None else (_work(task) for task in tasks)
        from pipeline.write import DatasetWriter

        writer = DatasetWriter(out_dir, formats)
    except BaseException:
        if run is not None:
            run.close(cancel=True)
        raise
    try:
        seen_bytes: dict[str, str] = {}
        seen_letters: dict[tuple, str] = {}
        done = 0
        for i, path in enumerate(files):
            if i in cached:
                rows = pickle.loads(cached[i].read_bytes())
            elif i in refused:
                rows = refused[i]
            else:
                rows = next(fresh)
            for table_rows in rows.values():
                for row in table_rows:
                    if "source_path" in row:
                        row["source_path"] = inputs[i].source
            summary.duplicates += _mark_duplicate(rows, seen_bytes, seen_letters, hashes[i])
            summary.by_status[rows["letters"][0]["status"]] += 1
            writer.add(rows)
            done += 1
            if progress:
                progress(done, len(files))
        summary.seconds = time.perf_counter() - started
        run_info = {
            "started_at": started_at.isoformat(timespec="seconds"),
            "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "version": __version__,
            "extractor_version": EXTRACTOR_VERSION,
            "inputs": [str(p) for p in paths],
            "n_documents": len(files),
            "counts_by_status": dict(sorted(summary.by_status.items())),
            "duplicates": summary.duplicates,
            "reused_from_cache": summary.from_cache,
            "workers": workers,
            "options": {"ocr": ocr, "layout": layout, "formats": list(formats)},
            "seconds": round(summary.seconds, 3),
            "letters_per_second": round(summary.letters_per_second, 2),
        }
        summary.files = writer.close(run_info)
    except BaseException:
        writer.discard()
        if run is not None:
            run.close(cancel=True)
        raise
    if run is not None:
        run.close()
    return summary


def _store(path: Path, rows: dict) -> None:
    """Cache one document's rows; written then renamed so an interrupted run never leaves half a file.

    Pickle, not JSON: a re-run of 1,000 unchanged letters spends most of its time loading these.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL))
    os.replace(tmp, path)
