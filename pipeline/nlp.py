"""The spaCy pipeline that finds cited statistics in a letter's narrative.

models/ofsted_letters is a blank English pipeline: a sentencizer, an entity ruler that marks
SUBJECT (settings and services) and JUDGEMENT (grade phrases) from pipeline/data/statistics.toml,
and `letter_statistics`, our component (`pipeline.statistic_finder` over the grammar of
quantities in `pipeline.quantities`), registered as a spaCy factory (and shipped through the
`spacy_factories` entry point) so `spacy.load()` can build it without importing us first.
Rebuild the model after changing the vocabularies: `python -m pipeline.nlp models/ofsted_letters`.
"""
from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from pipeline.config import vocab
from pipeline.statistic_finder import StatisticFinder

# inside the package when installed from a wheel (pyproject.toml ships models/ there), else the repository's
MODEL_DIR = next(
    (d for d in (Path(__file__).resolve().parent / "models" / "ofsted_letters", Path(__file__).resolve().parent.parent / "models" / "ofsted_letters") if d.is_dir()),
    Path(__file__).resolve().parent.parent / "models" / "ofsted_letters",
)

for _extension in ("statistics", "numbers"):
    if not Doc.has_extension(_extension):
        Doc.set_extension(_extension, default=None)


def ruler_patterns() -> list[dict]:
    """Entity-ruler patterns for subjects and judgements, from the vocabularies."""
    v = vocab()
    out = [{"label": "SUBJECT", "pattern": p} for p in v["subjects"]["phrases"]]
    out += [{"label": "JUDGEMENT", "pattern": p} for p in v["judgements"]["phrases"]]
    return out


def build_pipeline() -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns(ruler_patterns())
    nlp.add_pipe("letter_statistics")
    nlp.meta["name"] = "ofsted_letters"
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = "Finds cited statistics, their subjects and judgements in Ofsted rating letters."
    return nlp


@lru_cache(maxsize=1)
def load_pipeline(path: str | None = None) -> Language:
    """The shipped pipeline via spacy.load(); built from the data files when models/ is absent."""
    model = Path(path) if path else MODEL_DIR
    if (model / "config.cfg").exists():
        return spacy.load(model)
    return build_pipeline()


@Language.factory("letter_statistics")
def make_statistic_finder(nlp: Language, name: str) -> StatisticFinder:
    """The statistic finder over the vocabularies in pipeline/data/statistics.toml."""
    return StatisticFinder(vocab())


def main(argv: list[str]) -> int:
    """Write the pipeline to disk: `python -m pipeline.nlp [DIR]`."""
    target = Path(argv[1]) if len(argv) > 1 else MODEL_DIR
    build_pipeline().to_disk(target)
    print(f"wrote {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
