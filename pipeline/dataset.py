"""Read an output folder back: the tables `show`, `review`, `report` and the SQLite export start from."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.errors import DataError, NotADataset
from pipeline.schema import TABLES, to_frame

TABLE_FORMATS = ("parquet", "csv", "jsonl")


def read_table(out_dir: Path, name: str) -> pd.DataFrame:
    """One table of an output folder with its schema's columns and types.

    Parquet if present, else CSV, else JSON lines, else an empty table. CSV cells are read as
    text first so codes such as la_code keep their leading zeros.
    """
    out_dir = Path(out_dir)
    parquet, csv, jsonl = (out_dir / f"{name}.{ext}" for ext in TABLE_FORMATS)
    path = next((p for p in (parquet, csv) if p.exists()), jsonl if jsonl.exists() and jsonl.stat().st_size else None)
    if path is None:
        return to_frame(name, [])
    try:
        if path == parquet:
            raw = pd.read_parquet(parquet)
        elif path == csv:
            raw = pd.read_csv(csv, dtype=str, keep_default_na=False).replace("", None)
        else:
            raw = pd.read_json(jsonl, lines=True, dtype=False)
    except ValueError as exc:  # pyarrow's and pandas' parse errors are ValueErrors
        raise DataError(f"{path} cannot be read: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", f"write the dataset again with `ofsted-letters ingest ... --out {out_dir}`") from exc
    for column in TABLES[name].columns:
        if column.type in ("integer", "number") and column.name in raw and not pd.api.types.is_numeric_dtype(raw[column.name]):
            raw[column.name] = pd.to_numeric(raw[column.name], errors="coerce")
    return to_frame(name, raw.to_dict("records"))


def has_table(out_dir: Path, name: str) -> bool:
    """Whether the output folder holds the table in either format."""
    return any((Path(out_dir) / f"{name}.{ext}").exists() for ext in TABLE_FORMATS)


def require_letters(out_dir: Path) -> None:
    """Stop with a message a user can act on when out_dir is not a dataset folder."""
    if not has_table(out_dir, "letters"):
        where = "does not exist" if not Path(out_dir).exists() else "holds no letters table (letters.parquet, letters.csv or letters.jsonl)"
        raise NotADataset(f"{out_dir} is not a dataset folder: it {where}", f"give the folder written by `ofsted-letters ingest ... --out DIR`, or run ingest first")
