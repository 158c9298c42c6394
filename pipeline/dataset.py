"""Read an output folder back: the tables `show`, `review`, `report` and the SQLite export start from."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.schema import TABLES, to_frame

TABLE_FORMATS = ("parquet", "csv", "jsonl")


def read_table(out_dir: Path, name: str) -> pd.DataFrame:
    """One table of an output folder with its schema's columns and types.

    Parquet if present, else CSV, else JSON lines, else an empty table. CSV cells are read as
    text first so codes such as la_code keep their leading zeros.
    """
    out_dir = Path(out_dir)
    parquet, csv, jsonl = (out_dir / f"{name}.{ext}" for ext in TABLE_FORMATS)
    if parquet.exists():
        raw = pd.read_parquet(parquet)
    elif csv.exists():
        raw = pd.read_csv(csv, dtype=str, keep_default_na=False).replace("", None)
    elif jsonl.exists() and jsonl.stat().st_size:
        raw = pd.read_json(jsonl, lines=True, dtype=False)
    else:
        return to_frame(name, [])
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
        raise FileNotFoundError(f"{out_dir} holds no letters table (letters.parquet, letters.csv or letters.jsonl): run `ofsted-letters ingest ... --out {out_dir}` first")
