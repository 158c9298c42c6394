"""ofsted-letters: Ofsted children's services rating letters into a documented dataset.

From Python: `from pipeline import read_letter, read_letters, ingest_folder, load_dataset` (see pipeline.api).
"""
from __future__ import annotations

from typing import Any

# The API is imported on first use, so that `import pipeline` (every worker does) stays light.
API = ("read_letter", "read_letters", "letter_frames", "ingest_folder", "load_dataset", "Dataset")
__all__ = [*API, "__version__", "EXTRACTOR_VERSION"]


def __getattr__(name: str) -> Any:
    if name in API:
        from pipeline import api

        return getattr(api, name)
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")


__version__ = "0.1.0"
# Bumped whenever extraction changes, so cached results of older extractors are redone.
EXTRACTOR_VERSION = "16"
