"""The Python API (pipeline.api, exported from pipeline) and the wheel `pip install .` builds."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pipeline import Dataset, ingest_folder, letter_frames, load_dataset, read_letter
from pipeline.errors import NotADataset, UsageError
from pipeline.schema import TABLES

ROOT = Path(__file__).resolve().parent.parent


def test_read_one_letter_to_a_record(seed_dir):
    path = next(Path(seed_dir).glob("000_*.txt"))
    record = read_letter(path)
    assert record.status == "ok" and record.value("authority_name") == "Bromley"
    assert [s.text for s in record.statistics][:1] == ["over 70%"]
    frames = letter_frames(record)
    assert frames["letters"]["rating_score"].dtype == "Int64" and frames["letters"].loc[0, "rating_score"] == 3
    assert len(frames["statistics"]) == len(record.statistics)


def test_a_bad_file_is_a_failed_record_not_an_exception(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert read_letter(empty).status == "failed"


def test_ingest_a_folder_and_load_it_as_typed_frames(tmp_path, seed_dir):
    summary = ingest_folder(str(seed_dir), tmp_path / "out", workers=1, formats=("csv",))
    assert summary.n_documents == 2 and summary.by_status["ok"] == 2
    data = load_dataset(tmp_path / "out")  # from CSV: the types still come from the schema
    assert isinstance(data, Dataset) and set(data.tables) == set(TABLES)
    letters = data.letters
    assert letters["rating_score"].dtype == "Int64" and letters["rating_year"].dtype == "Int64"
    assert letters["authority_la_code"].tolist() == ["305", "213"]  # codes stay text
    assert all(isinstance(d, dt.date) for d in letters["letter_date"])
    assert data.statistics["value"].dtype == "Float64"
    bromley = data.letter(letters.loc[letters["authority_name"] == "Bromley", "letter_id"].item())
    assert len(bromley["statistics"]) == bromley["letters"].loc[0, "n_statistics"]
    with pytest.raises(AttributeError, match="no table 'lettres'"):
        data.lettres


def test_api_errors_carry_a_message_and_a_hint(tmp_path):
    with pytest.raises(NotADataset) as caught:
        load_dataset(tmp_path)
    assert "is not a dataset folder" in caught.value.message and "ingest" in caught.value.hint
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no letters"):
        ingest_folder(tmp_path / "empty", tmp_path / "out")


def test_import_pipeline_stays_light():
    code = "import sys, pipeline; print('pandas' in sys.modules, 'spacy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.split() == ["False", "False"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel `pip install .` would install, built without make from a copy of this checkout's
    sources (so no build/ folder is left in the checkout, and none left there can leak in)."""
    import shutil

    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("pipeline", "models"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(source)],
                   check=True, capture_output=True, text=True, timeout=300)
    return next(out.glob("ofsted_letters-*.whl"))


def test_the_wheel_ships_the_spacy_model_and_the_data_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    model = ROOT / "models" / "ofsted_letters"
    for path in model.rglob("*"):
        if path.is_file():
            assert f"pipeline/models/ofsted_letters/{path.relative_to(model).as_posix()}" in names
    for path in (ROOT / "pipeline" / "data").iterdir():
        assert f"pipeline/data/{path.name}" in names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "letter_statistics = pipeline.nlp:make_statistic_finder" in text and "ofsted-letters = pipeline.cli:app" in text


def test_spacy_loads_the_model_from_the_installed_wheel(wheel, tmp_path, seed_dir):
    """Installed non-editable (the wheel unpacked where site-packages would hold it), the model is
    found inside the package and spacy.load builds our component from it."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    letter = next(Path(seed_dir).glob("000_*.txt"))
    code = (
        "import spacy, pipeline, pipeline.nlp as nlp\n"
        f"assert pipeline.__file__.startswith({str(site)!r}), pipeline.__file__\n"
        f"assert str(nlp.MODEL_DIR).startswith({str(site)!r}), nlp.MODEL_DIR\n"
        "model = spacy.load(nlp.MODEL_DIR)\n"
        "assert model.pipe_names == ['sentencizer', 'entity_ruler', 'letter_statistics'], model.pipe_names\n"
        f"record = pipeline.read_letter({str(letter)!r})\n"
        "print(record.status, len(record.statistics))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ok", "5"]



# One contract for the command line and the API: the same bad input raises the same pipeline.errors
# class from the API as makes the command exit with that class's code, with the same message.

def _bad_ingest(tmp_path: Path, seed_dir: Path) -> dict[str, tuple[list[str], dict]]:
    empty = tmp_path / "empty"
    empty.mkdir()
    a_file = tmp_path / "a-file.txt"
    a_file.write_text("not a folder")
    out = str(tmp_path / "out")
    return {
        "missing input": ([str(tmp_path / "nowhere"), "--out", out], {"paths": tmp_path / "nowhere", "out": out}),
        "no letters": ([str(empty), "--out", out], {"paths": empty, "out": out}),
        "out is a file": ([str(seed_dir), "--out", str(a_file)], {"paths": seed_dir, "out": a_file}),
        "out below a file": ([str(seed_dir), "--out", str(a_file / "sub")], {"paths": seed_dir, "out": a_file / "sub"}),
        "unknown format": ([str(seed_dir), "--out", out, "--format", "xlsx"], {"paths": seed_dir, "out": out, "formats": ("xlsx",)}),
        "empty format": ([str(seed_dir), "--out", out, "--format", ","], {"paths": seed_dir, "out": out, "formats": ()}),
    }


@pytest.mark.parametrize("case", ["missing input", "no letters", "out is a file", "out below a file", "unknown format", "empty format"])
def test_ingest_raises_what_the_command_exits_for(tmp_path, seed_dir, case):
    from typer.testing import CliRunner

    from pipeline.cli import app
    from pipeline.errors import PipelineError

    args, kwargs = _bad_ingest(tmp_path, seed_dir)[case]
    with pytest.raises(PipelineError) as raised:
        ingest_folder(kwargs.pop("paths"), kwargs.pop("out"), workers=1, **kwargs)
    assert type(raised.value) is UsageError
    result = CliRunner().invoke(app, ["ingest", *args, "--workers", "1", "--quiet"])
    assert result.exit_code == raised.value.exit_code == 2
    assert result.stderr.splitlines()[0] == f"error: {raised.value.message}"
    assert not (tmp_path / "out" / "letters.csv").exists()


def test_a_busy_output_folder_is_the_same_error_on_both_sides(tmp_path, seed_dir):
    from typer.testing import CliRunner

    from pipeline.cli import app
    from pipeline.errors import EXIT_BUSY, OutputBusy
    from pipeline.ingest import output_lock

    out = tmp_path / "out"
    with output_lock(out):
        with pytest.raises(OutputBusy) as raised:
            ingest_folder(seed_dir, out, workers=1)
        result = CliRunner().invoke(app, ["ingest", str(seed_dir), "--out", str(out), "--workers", "1", "--quiet"])
    assert result.exit_code == EXIT_BUSY == raised.value.exit_code
    assert result.stderr.splitlines()[0] == f"error: {raised.value.message}"


def test_reading_a_bad_dataset_is_the_same_error_on_both_sides(tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app
    from pipeline.errors import EXIT_DATA, DataError

    for folder, error, code in ((tmp_path / "none", NotADataset, 2), (tmp_path / "broken", DataError, EXIT_DATA)):
        if error is DataError:
            folder.mkdir()
            (folder / "letters.parquet").write_bytes(b"PAR1 not really")
        with pytest.raises(error) as raised:
            load_dataset(folder)
        result = CliRunner().invoke(app, ["sample", "1", "--out", str(folder)])
        assert result.exit_code == code == raised.value.exit_code
        assert result.stderr.splitlines()[0] == f"error: {raised.value.message}"


def test_load_dataset_types_every_table_as_read_parquet_does(tmp_path, seed_dir):
    import pandas as pd

    from pipeline.api import load_dataset

    ingest_folder(seed_dir, tmp_path / "out", workers=1, formats=("csv", "parquet"))
    from_parquet = load_dataset(tmp_path / "out")
    for table in TABLES:
        plain = pd.read_parquet(tmp_path / "out" / f"{table}.parquet")
        assert from_parquet.tables[table].dtypes.to_dict() == plain.dtypes.to_dict(), table
    for ext in ("parquet", "jsonl", "sqlite"):
        for path in (tmp_path / "out").glob(f"*.{ext}"):
            path.unlink()
    run = tmp_path / "out" / "run.json"
    run.unlink()  # a folder of CSV tables alone
    from_csv = load_dataset(tmp_path / "out")
    assert str(from_csv.letters["letter_date"].dtype) == "date32[day][pyarrow]"
    assert from_csv.letters["letter_date"].tolist() == from_parquet.letters["letter_date"].tolist()


def test_the_readme_s_read_csv_recipe_reads_each_table_as_read_parquet_does(tmp_path, seed_dir):
    """The recipe under "Using the data" (plain pandas, no package): codes stay text, dates date32."""
    import re

    import pandas as pd

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    recipe = re.search(r"<!-- read_csv recipe -->\n```python\n(.*?)```", readme, re.S).group(1)
    out = tmp_path / "out"
    ingest_folder(seed_dir, out, workers=1, formats=("csv", "parquet"))
    namespace: dict = {}
    exec(recipe.replace('"outputs"', repr(str(out))), namespace)
    for table in TABLES:
        frame = namespace["read_csv_table"](str(out), table)
        assert frame.dtypes.to_dict() == pd.read_parquet(out / f"{table}.parquet").dtypes.to_dict(), table
    assert namespace["letters"]["authority_la_code"].tolist() == ["305", "213"]
