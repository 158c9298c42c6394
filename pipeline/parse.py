"""The dependency parser stage: sentences in, spaCy Docs with UD dependency trees out.

Statistics in letters are phrases like "41 of the 56 primary schools are good or better": which
number counts what, and which judgement it earns, is in the sentence's structure (41 is the
subject of "good", "schools" hangs off 41 through "of", 56 counts the schools). This module gives
that structure: heads and Universal Dependencies relations (`token.dep_`, `token.head`), PTB tags
(`token.tag_`) and UPOS (`token.pos_`).

The model, models/ofsted_parser, is trained here from UD_English-EWT (CC BY-SA 4.0) by
`make model`; no pretrained model package is used. It ships in the wheel as pipeline/models, where
it is looked for first, then in the repository (as pipeline.nlp does for models/ofsted_letters).
See training/ and the README section "The parser: provenance, licence and accuracy".
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from pipeline.errors import PipelineError

_HERE = Path(__file__).resolve().parent
# inside the package when installed from a wheel (pyproject.toml ships models/ there), else the repository's
PARSER_DIR = next(
    (d for d in (_HERE / "models" / "ofsted_parser", _HERE.parent / "models" / "ofsted_parser") if d.is_dir()),
    _HERE.parent / "models" / "ofsted_parser",
)


class ParserMissing(PipelineError, FileNotFoundError):
    """The trained parser is not where it should be (a checkout without models/, a broken install)."""


@lru_cache(maxsize=2)
def load_parser(path: str | None = None) -> Language:
    """The trained parser via spacy.load(), loaded once per process (loading takes ~0.5 s).

    `path` is for tests and experiments; by default models/ofsted_parser. Raises ParserMissing
    (a PipelineError with a hint) when the model directory is missing or incomplete, rather than
    spaCy's OSError about a "shortcut link", so the user learns to run `make model`.
    """
    model = Path(path) if path else PARSER_DIR
    if not (model / "config.cfg").is_file() or not (model / "meta.json").is_file():
        raise ParserMissing(
            f"the dependency parser model is missing: {model} has no config.cfg/meta.json",
            "run `make model` in the repository (trains it from training/ud-english-ewt, about 20 minutes), "
            "or reinstall the package: the wheel ships it as pipeline/models/ofsted_parser",
        )
    return spacy.load(model)


def parse_sentences(texts: Sequence[str], batch_size: int = 64) -> list[Doc]:
    """Parse each text with the parser's own tokenizer; exactly one Doc per text, in order.

    Texts are meant to be single sentences (a segment's sentences, as the statistic finder sees
    them), but nothing is split or joined: a text holding two sentences gives one Doc whose
    `doc.sents` are two, and an empty text gives an empty Doc, so results zip with the input.
    Batched through nlp.pipe, which is several times faster than one call per sentence.
    """
    nlp = load_parser()
    return list(nlp.pipe(list(texts), batch_size=batch_size))
