"""Shared fixtures: the real seed letters and their gold answers, and a generated corpus."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = ROOT / "corpus"
SEED_NAMES = sorted(p.name for p in CORPUS.glob("*.txt"))


@pytest.fixture(scope="session")
def seed_dir() -> Path:
    """The real letters: shared/seeds when present, else the copies in corpus/."""
    seeds = SHARED / "seeds"
    return seeds if seeds.is_dir() else CORPUS


@pytest.fixture(scope="session")
def gold_dir() -> Path:
    gold = SHARED / "gold"
    if not gold.is_dir():
        pytest.skip("../shared/gold is not present beside the repository")
    return gold


@pytest.fixture(scope="session")
def seed_texts(seed_dir: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(seed_dir.glob("*.txt"))}


@pytest.fixture(scope="session")
def gold(gold_dir: Path) -> dict[str, dict]:
    return {json.loads(p.read_text())["file"]: json.loads(p.read_text()) for p in sorted(gold_dir.glob("*.json"))}


@pytest.fixture(scope="session")
def seed_out(tmp_path_factory, seed_dir: Path) -> Path:
    """The seeds ingested once for every test that only reads the outputs."""
    from pipeline.ingest import ingest

    out = tmp_path_factory.mktemp("seed_out")
    ingest([seed_dir], out, workers=1)
    return out


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> dict:
    """A varied synthetic corpus (text, PDFs, scans, bad inputs, duplicates) with gold answers."""
    from fixtures.generate import generate_corpus

    out = tmp_path_factory.mktemp("generated")
    manifest = generate_corpus(out, count=12, seed=11)
    return {"dir": out, "letters": out / "letters", "gold": out / "gold", "manifest": manifest}
