"""Install a trained parser as models/ofsted_parser, with its licence, attribution and test scores.

    python training/package_parser.py training/output/model-best models/ofsted_parser

Evaluates the model on EWT test (what `python -m spacy evaluate MODEL training/ud-english-ewt/
test.spacy` prints), fills meta.json (name, version, description, licence, sources, the test
scores as `performance`, the dev scores training chose it by as `performance_dev`), writes the
pipeline with `nlp.to_disk` and copies in the treebank's LICENSE.txt and an attribution README.
The model is a derivative of the CC BY-SA 4.0 treebank, so it carries the same licence.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import spacy
from spacy.cli.evaluate import evaluate

HERE = Path(__file__).resolve().parent
DATA = HERE / "ud-english-ewt"
NAME = "ofsted_parser"
VERSION = "1.0.0"


def main(argv: list[str]) -> int:
    src = Path(argv[1]) if len(argv) > 1 else HERE / "output" / "model-best"
    dest = Path(argv[2]) if len(argv) > 2 else HERE.parent / "models" / NAME
    source = json.loads((DATA / "source.json").read_text(encoding="utf-8"))
    nlp = spacy.load(src)
    dev_scores = dict(nlp.meta.get("performance", {}))
    test = evaluate(str(src), DATA / "test.spacy", silent=True)
    keep = ("token_acc", "tag_acc", "pos_acc", "morph_acc", "dep_uas", "dep_las", "sents_f", "speed")
    seconds_file = HERE / "output" / "train-seconds"
    meta = nlp.meta
    meta["name"] = NAME
    meta["version"] = VERSION
    meta["description"] = (
        "Dependency parser (UD relations), PTB tagger (tag_) and UPOS/morphology (pos_, morph) for English, "
        "trained by ofsted-letters from UD_English-EWT with training/parser.cfg; used to read statistics "
        "from the structure of inspection-letter sentences."
    )
    meta["author"] = "ofsted-letters (model); UD_English-EWT contributors (training data)"
    meta["license"] = "CC BY-SA 4.0"
    meta["sources"] = [
        {
            "name": "UD_English-EWT",
            "url": source["url"],
            "commit": source["commit"],
            "license": source["license"],
            "author": "Silveira et al. (2014); annotations (c) 2013-2021 The Board of Trustees of The Leland Stanford Junior University",
            "changes": source["changes"],
        }
    ]
    meta["performance"] = {k: test[k] for k in keep if k in test}
    meta["performance"]["evaluated_on"] = "UD_English-EWT test (en_ewt-ud-test.conllu, 2,077 sentences, 25,094 words), spaCy's own tokenization aligned to the gold"
    meta["performance"]["dep_las_per_type"] = {k: v for k, v in test.get("dep_las_per_type", {}).items()}
    meta["performance_dev"] = {k: dev_scores[k] for k in keep if k in dev_scores}
    meta["training"] = {
        "config": "training/parser.cfg",
        "seed": 0,
        "threads": 1,
        "wall_seconds": int(seconds_file.read_text()) if seconds_file.exists() else None,
    }
    if dest.exists():
        shutil.rmtree(dest)
    nlp.to_disk(dest)
    shutil.copy(DATA / "LICENSE.txt", dest / "LICENSE.txt")
    shutil.copy(HERE / "MODEL_README.md", dest / "README.md")
    (dest / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    size = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
    shown = {k: round(v * 100, 2) if k != "speed" else round(v) for k, v in meta["performance"].items() if isinstance(v, float)}
    print(f"wrote {dest} ({size / 1e6:.1f} MB); EWT test: {shown}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
