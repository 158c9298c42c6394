"""Load time and parse speed of models/ofsted_parser on one core: the README's figures.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 python training/measure_parser.py

Load time: `spacy.load()` in a fresh process after `import spacy` (median of 3). Speed: 2,000
sentences in the shape of inspection prose, about 25 tokens each, through `parse_sentences`
(nlp.pipe: tokenizer, tok2vec, tagger, morphologizer, parser); best of 3 passes, tokens as
spaCy counts them (punctuation included).
"""
from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEMPLATES = [
    "Of the {n} childminders inspected in the borough during the last year, {k} were judged to be good or outstanding, which is above the national average.",
    "{k} of the {n} primary schools in the local authority are good or better, and {m} secondary schools are judged to be outstanding this year.",
    "Inspections of children's homes found that {p} per cent provide good or outstanding care, although {m} homes were judged inadequate at their last inspection.",
    "The authority's {n} nurseries are all good or outstanding, and {k} of its {m} special schools have been judged outstanding at their most recent inspections.",
    "{w} homes received an outstanding grade for overall effectiveness, {k} did well in every judgement and {m} gave only adequate care to the young people.",
    "Only {k} of the {n} pupil referral units are judged good, while the remaining {m} units are satisfactory and none of them is outstanding.",
    "Around {p}% of early years settings were good or better at their last inspection, compared with {q}% of settings in similar authorities across England.",
]
WORDS = ["Eleven", "Nine", "Twelve", "Four", "Seven", "Three"]


def sentences(count: int = 2000, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        t = TEMPLATES[i % len(TEMPLATES)]
        n = rng.randint(20, 600)
        out.append(t.format(n=n, k=rng.randint(1, n), m=rng.randint(1, 90), p=rng.randint(1, 99), q=rng.randint(1, 99), w=rng.choice(WORDS)))
    return out


def load_seconds() -> float:
    code = (
        "import time, spacy; from pipeline.parse import PARSER_DIR; t = time.perf_counter(); "
        "spacy.load(PARSER_DIR); print(time.perf_counter() - t)"
    )
    runs = [float(subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True).stdout) for _ in range(3)]
    return statistics.median(runs)


def main() -> int:
    from pipeline.parse import PARSER_DIR, load_parser, parse_sentences

    load = load_seconds()
    texts = sentences()
    load_parser()
    parse_sentences(texts[:50])  # warm up
    best = None
    for _ in range(3):
        t = time.perf_counter()
        docs = parse_sentences(texts)
        elapsed = time.perf_counter() - t
        best = elapsed if best is None else min(best, elapsed)
    tokens = sum(len(d) for d in docs)
    size = sum(p.stat().st_size for p in PARSER_DIR.rglob("*") if p.is_file())
    figures = {
        "model_dir": str(PARSER_DIR.relative_to(ROOT)),
        "model_bytes": size,
        "load_seconds": round(load, 3),
        "sentences": len(texts),
        "tokens_per_sentence": round(tokens / len(texts), 1),
        "words_per_second": round(tokens / best),
        "sentences_per_second": round(len(texts) / best),
    }
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
