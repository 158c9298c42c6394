"""Read an output folder back: the tables `show`, `review`, `report` and the SQLite export start from.

One run, one dataset: `ingest` records in OUT/run.json a run_id, the formats it wrote and every
file it wrote (`files`), stamps each Parquet file with the run_id, and removes the files of an
earlier run it did not write again. A reader here takes a table only from a file of that run: a
file run.json does not list, a Parquet file stamped by another run, or a file older than the run
(left by an earlier run that was stopped while its files were being swapped, or by an older
version of the tool) is passed over for the table's next format, with a warning
(StaleTableWarning); when no format of a table is left, the dataset is a DataError (exit 4).
A folder with no run.json (written by hand or by another tool) is read as it stands.
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.errors import DataError, NotADataset
from pipeline.schema import TABLES, to_frame

TABLE_FORMATS = ("parquet", "csv", "jsonl")
RUN_FILE = "run.json"
RUN_ID_KEY = b"ofsted_letters.run_id"  # the key of a Parquet file's stamp in its schema metadata
# A file written more than this long before its run started belongs to an earlier run (a margin
# for file systems that keep modification times to the second or two).
STALE_MARGIN_SECONDS = 2.0


class StaleTableWarning(UserWarning):
    """A table file in a dataset folder that is not from the run run.json describes, and is not read."""


@dataclass(frozen=True)
class RunStamp:
    """What OUT/run.json says about the run that wrote the folder: its id, when it started (seconds
    since the epoch) and the files it wrote; None where an older run.json does not say."""

    run_id: str | None
    started: float | None
    files: frozenset[str] | None


def run_stamp(out_dir: Path) -> RunStamp | None:
    """The run that wrote out_dir, from its run.json; None without one (or one that cannot be read)."""
    try:
        info = json.loads((Path(out_dir) / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict):
        return None
    started = info.get("started")
    if not isinstance(started, (int, float)):
        try:  # run.json before run ids: its ISO start time, to the second
            import datetime as dt

            started = dt.datetime.fromisoformat(str(info["started_at"])).timestamp()
        except (KeyError, ValueError, TypeError):
            started = None
    files = info.get("files")
    return RunStamp(
        run_id=info.get("run_id") if isinstance(info.get("run_id"), str) else None,
        started=float(started) if started is not None else None,
        files=frozenset(files) if isinstance(files, (dict, list)) else None,
    )


def parquet_run_id(path: Path) -> str | None:
    """The run_id a Parquet file was stamped with by the run that wrote it (None: not stamped)."""
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(path).metadata or {}
    except Exception:  # a damaged file: reading it says why
        return None
    value = metadata.get(RUN_ID_KEY)
    return value.decode() if value else None


def not_of_the_run(path: Path, stamp: RunStamp | None) -> str | None:
    """Why the file at path is not from the run run.json describes; None when it is (or cannot be told)."""
    if stamp is None:
        return None
    if stamp.files is not None and path.name not in stamp.files:
        return "the last run did not write it"
    if stamp.run_id is not None and path.suffix == ".parquet":
        stamped = parquet_run_id(path)
        if stamped is not None and stamped != stamp.run_id:
            return "stamped by another run"
    if stamp.started is not None:
        try:
            if path.stat().st_mtime < stamp.started - STALE_MARGIN_SECONDS:
                return "older than the last run"
        except OSError:
            return None
    return None


_warned: set[str] = set()  # folders already warned about, so a command says it once


def _warn_stale(out_dir: Path, stamp: RunStamp | None) -> None:
    """One warning per folder, naming every table file in it that is not of its run and why."""
    if str(out_dir) in _warned:
        return
    _warned.add(str(out_dir))
    reasons: dict[str, list[str]] = {}
    for name in TABLES:
        for ext in TABLE_FORMATS:
            path = out_dir / f"{name}.{ext}"
            why = not_of_the_run(path, stamp) if path.exists() else None
            if why is not None:
                reasons.setdefault(why, []).append(path.name)
    listed = "; ".join(f"{', '.join(names)} ({why})" for why, names in reasons.items())
    warnings.warn(StaleTableWarning(f"ignoring files in {out_dir} that are not from the run its {RUN_FILE} describes: {listed}"), stacklevel=4)


def table_file(out_dir: Path, name: str, prefer: tuple[str, ...] = TABLE_FORMATS) -> Path | None:
    """The file a table is read from: the first format in prefer with a file of the folder's run.

    None when the folder has no file of the table at all; a DataError when it has some, but none
    of the run run.json describes."""
    out_dir = Path(out_dir)
    stamp = run_stamp(out_dir)
    skipped: list[tuple[Path, str]] = []
    for ext in prefer:
        path = out_dir / f"{name}.{ext}"
        if not path.exists() or (ext == "jsonl" and not path.stat().st_size):
            continue
        reason = not_of_the_run(path, stamp)
        if reason is None:
            if skipped:
                _warn_stale(out_dir, stamp)
            return path
        skipped.append((path, reason))
    if skipped:
        listed = "; ".join(f"{p.name}: {why}" for p, why in skipped)
        raise DataError(
            f"{out_dir} holds no {name} table from the run its {RUN_FILE} describes ({listed})",
            f"write the dataset again with `ofsted-letters ingest ... --out {out_dir}`",
        )
    return None


def read_table(out_dir: Path, name: str) -> pd.DataFrame:
    """One table of an output folder with its schema's columns and types.

    Parquet if present, else CSV, else JSON lines (of the folder's run only: see table_file), else
    an empty table. CSV cells are read as text first so codes such as la_code keep their leading zeros.
    """
    out_dir = Path(out_dir)
    path = table_file(out_dir, name)
    if path is None:
        return to_frame(name, [])
    try:
        if path.suffix == ".parquet":
            raw = pd.read_parquet(path)
        elif path.suffix == ".csv":
            raw = pd.read_csv(path, dtype=str, keep_default_na=False).replace("", None)
        else:
            raw = pd.read_json(path, lines=True, dtype=False)
    except ValueError as exc:  # pyarrow's and pandas' parse errors are ValueErrors
        raise DataError(f"{path} cannot be read: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", f"write the dataset again with `ofsted-letters ingest ... --out {out_dir}`") from exc
    for column in TABLES[name].columns:
        if column.type in ("integer", "number") and column.name in raw and not pd.api.types.is_numeric_dtype(raw[column.name]):
            raw[column.name] = pd.to_numeric(raw[column.name], errors="coerce")
        elif column.type == "boolean" and column.name in raw and not pd.api.types.is_bool_dtype(raw[column.name]):
            raw[column.name] = raw[column.name].map(_BOOLEAN_CELLS.get)
    return to_frame(name, raw.to_dict("records"))


# how a boolean cell is written in CSV ("true"), JSON lines (true) and SQLite (1)
_BOOLEAN_CELLS = {"true": True, "false": False, True: True, False: False, 1: True, 0: False}


def has_table(out_dir: Path, name: str) -> bool:
    """Whether the output folder holds a file of the table in any format (of its run or not: see require_letters)."""
    return any((Path(out_dir) / f"{name}.{ext}").exists() for ext in TABLE_FORMATS)


def require_letters(out_dir: Path) -> None:
    """Stop with a message a user can act on when out_dir is not a dataset folder."""
    if not has_table(out_dir, "letters"):
        where = "does not exist" if not Path(out_dir).exists() else "holds no letters table (letters.parquet, letters.csv or letters.jsonl)"
        raise NotADataset(f"{out_dir} is not a dataset folder: it {where}", "give the folder written by `ofsted-letters ingest ... --out DIR`, or run ingest first")
    table_file(out_dir, "letters")  # a DataError when no letters file is of the folder's run
