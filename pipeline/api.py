"""The pipeline from Python: a notebook or a script gets what the command line gets.

    from pipeline import read_letter, read_letters, ingest_folder, load_dataset

    record = read_letter("corpus/000_fab9377e44d3ba9b.txt")      # one letter -> LetterRecord
    records = read_letters("foi-release.pdf")                     # a file holding several -> one each
    summary = ingest_folder("corpus/", "outputs/")                 # a folder -> the dataset files
    data = load_dataset("outputs/")                                # the dataset -> typed DataFrames
    data.letters.groupby("rating_score").size()

The same functions the commands call, so the values are the same; errors are the exceptions of
pipeline.errors (UsageError, DataError), with a message and a hint.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pandas as pd

from pipeline.dataset import read_table, require_letters
from pipeline.ingest import RunSummary, ingest
from pipeline.process import process_document, process_file
from pipeline.records import LetterRecord
from pipeline.rows import record_rows
from pipeline.schema import TABLES, to_frame

PathLike = str | Path


def read_letter(path: PathLike, *, ocr: str = "auto", layout: str = "auto") -> LetterRecord:
    """One letter file (.txt or .pdf) read, segmented, extracted and validated, without writing anything.

    Never raises for a bad file: it comes back with status `failed` and the reason in `issues`
    and `errors`. ocr is auto, off or force; layout is auto, fast or full (as for `ingest`).
    """
    return process_document(Path(path), ocr=ocr, layout=layout)


def read_letters(path: PathLike, *, ocr: str = "auto", layout: str = "auto") -> list[LetterRecord]:
    """Every letter of a file, as read_letter reads one: one record for most files, one per part for a
    file holding several letters (a bundle), each with its `part` (which, of how many, its pages or lines)."""
    return process_file(Path(path), ocr=ocr, layout=layout)


def letter_frames(record: LetterRecord) -> dict[str, pd.DataFrame]:
    """One letter's rows as the dataset's tables would hold them, typed by the schema."""
    return {name: to_frame(name, rows) for name, rows in record_rows(record).items()}


def ingest_folder(
    paths: PathLike | Iterable[PathLike],
    out: PathLike = "outputs",
    *,
    workers: int | None = None,
    formats: tuple[str, ...] = ("csv", "parquet"),
    force: bool = False,
    ocr: str = "auto",
    layout: str = "auto",
) -> RunSummary:
    """Read every letter under paths (files or folders, searched recursively) and write the dataset to out.

    As `ofsted-letters ingest`: documents already processed are reused from out/.cache unless
    force; workers defaults to every core. Returns counts by status, duplicates and timings.

    Raises what makes the command exit with a code, with the same message: UsageError (exit 2)
    for a path that does not exist, paths holding no letters, an empty or unknown format, or out
    naming a file; OutputBusy (exit 5) when another ingest is writing to out.
    """
    given = [paths] if isinstance(paths, (str, Path)) else list(paths)
    return ingest([Path(p) for p in given], Path(out), workers=workers, formats=formats, force=force, ocr=ocr, layout=layout)


@dataclass
class Dataset:
    """A dataset folder's tables as DataFrames with the schema's types: nullable integers (Int64),
    floats (Float64), strings and dates (date32[pyarrow], as pd.read_parquet gives them). Each table is an attribute: data.letters, data.statistics..."""

    folder: Path
    tables: dict[str, pd.DataFrame]

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(f"no table {name!r}; the tables are {', '.join(tables)}")

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *self.tables]

    def letter(self, letter_id: str) -> dict[str, pd.DataFrame]:
        """Every table's rows for one letter."""
        return {name: frame[frame["letter_id"] == letter_id].reset_index(drop=True) for name, frame in self.tables.items()}


def load_dataset(folder: PathLike = "outputs") -> Dataset:
    """The dataset `ingest` wrote to folder (Parquet, else CSV, else JSON lines), every table typed
    as plain pd.read_parquet types it (Int64, Float64, string, dates as date32[pyarrow]).

    Raises NotADataset when folder holds no letters table, DataError when a table cannot be read.
    """
    folder = Path(folder)
    require_letters(folder)
    return Dataset(folder, {name: _as_read_parquet_types(name, read_table(folder, name)) for name in TABLES})


def _as_read_parquet_types(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Dates as `date32[pyarrow]`, as plain pd.read_parquet gives them, whichever format was read
    (a missing date is <NA>; each value is still a datetime.date)."""
    for column in TABLES[name].columns:
        if column.type == "date":
            frame[column.name] = pd.Series(list(frame[column.name]), index=frame.index, dtype="object").astype("date32[pyarrow]")
    return frame
