"""Convert UD_English-EWT to the spaCy DocBin files the parser is trained on.

`make model` trains from the committed `training/ud-english-ewt/*.spacy`, so this script is only
needed to redo the conversion (for instance from a newer treebank commit):

    python training/build_treebank.py [--treebank DIR] [--out training/ud-english-ewt]

DIR is a checkout of UD_English-EWT, or a bare git directory (read with `git show`). If the big
`en_ewt-ud-train.conllu` is absent (a snapshot without large files), it is rebuilt the way the
treebank's own `not-to-release/tools/build.py` does: the documents in
`not-to-release/sources/`, concatenated in the order of `not-to-release/file-lists/files.train`.
The rebuilt file is checked before it is used: byte-identical to the git blob the treebank's tree
names for it (when a git directory gives that id), the treebank's own sentence/token/word counts
(stats.xml), and every sentence well-formed CoNLL-U (see `check_conllu`). The same rebuild is
also run for dev and test and compared with their shipped files, to show the method is right.

The conversion is format conversion only: one Doc per 10 sentences (sentence boundaries kept),
tokens are EWT's syntactic words, which for the treebank's multi-word tokens ("don't" = do + n't,
"cannot" = can + not, "gonna" = gon + na) are substrings of the surface form, as spaCy's English
tokenizer splits them; where a multi-word token's words do not spell its surface form (a
handful of typo'd contractions), the surface form is cut into pieces of the same lengths so that
the Doc's text is still the sentence's text.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

DEFAULT_TREEBANK = Path("/work/.mirror/UniversalDependencies+UD_English-EWT/repo")
DEFAULT_OUT = Path(__file__).resolve().parent / "ud-english-ewt"
SPLITS = ("train", "dev", "test")
SENTS_PER_DOC = 10
REWRITTEN: list[str] = []  # multi-word tokens whose words did not spell the surface form


class Treebank:
    """Read files from a checkout or from a bare git directory (at HEAD)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.git = (path / "HEAD").exists() and (path / "objects").is_dir() or (path / ".git").exists()

    def commit(self) -> str:
        if not self.git:
            return "unknown"
        return subprocess.run(["git", "-C", str(self.path), "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()

    def blob_id(self, name: str) -> str | None:
        """The git blob id the tree records for `name` (what the file's bytes must hash to)."""
        if not self.git:
            return None
        out = subprocess.run(["git", "-C", str(self.path), "ls-tree", "HEAD", name], check=True, capture_output=True, text=True).stdout.split()
        return out[2] if len(out) >= 3 else None

    def read(self, name: str) -> str | None:
        if not self.git:
            p = self.path / name
            return p.read_text(encoding="utf-8") if p.is_file() else None
        r = subprocess.run(["git", "-C", str(self.path), "show", f"HEAD:{name}"], capture_output=True)
        if r.returncode != 0:
            return None
        return r.stdout.decode("utf-8")


def git_blob_id(text: str) -> str:
    data = text.encode("utf-8")
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def rebuild(tb: Treebank, split: str) -> str:
    """The split's CoNLL-U, concatenated from the source documents (as tools/build.py does)."""
    flist = tb.read(f"not-to-release/file-lists/files.{split}")
    if flist is None:
        raise SystemExit(f"no file list for {split} in {tb.path}")
    parts = []
    for line in flist.splitlines():
        name = line.strip()
        if not name:
            continue
        doc = tb.read(f"not-to-release/sources/{name}")
        if doc is None:
            raise SystemExit(f"source document missing: {name}")
        parts.append(doc)
    return "".join(parts)


def sentences(text: str) -> list[list[str]]:
    """Sentence blocks (comment and token lines) of a CoNLL-U file."""
    return [block.split("\n") for block in text.strip("\n").split("\n\n") if block.strip()]


def check_conllu(text: str) -> dict[str, int]:
    """Check every sentence is well-formed CoNLL-U; return the counts stats.xml gives.

    Checked: ten tab-separated columns; word ids 1..n in order; multi-word ranges well placed;
    heads in 0..n; exactly one root, attached to 0 with deprel `root`; no cycles; a `sent_id`
    and a `text` comment; the text comment equals the tokens joined by their SpaceAfter
    (whitespace compared loosely).
    """
    counts = {"sentences": 0, "tokens": 0, "words": 0, "fused": 0}
    sent_ids: set[str] = set()
    for block in sentences(text):
        comments = [line for line in block if line.startswith("#")]
        rows = [line.split("\t") for line in block if not line.startswith("#")]
        sid = next((c.split("=", 1)[1].strip() for c in comments if c.startswith("# sent_id =")), None)
        stext = next((c.split("=", 1)[1].strip() for c in comments if c.startswith("# text =")), None)
        where = f"sentence {sid or counts['sentences'] + 1}"
        assert sid and stext is not None, f"{where}: no sent_id or text comment"
        assert sid not in sent_ids, f"{where}: duplicate sent_id"
        sent_ids.add(sid)
        assert all(len(r) == 10 for r in rows), f"{where}: a line without 10 columns"
        words = [r for r in rows if re.fullmatch(r"\d+", r[0])]
        assert [int(r[0]) for r in words] == list(range(1, len(words) + 1)), f"{where}: word ids not 1..n"
        n = len(words)
        heads = {int(r[0]): int(r[6]) for r in words}
        assert all(0 <= h <= n for h in heads.values()), f"{where}: head out of range"
        roots = [r for r in words if r[6] == "0"]
        assert len(roots) == 1 and roots[0][7] == "root", f"{where}: not exactly one root"
        assert all((r[6] == "0") == (r[7] == "root") for r in words), f"{where}: root deprel on a non-root"
        for start in heads:
            seen, node = set(), start
            while node != 0:
                assert node not in seen, f"{where}: cycle through word {start}"
                seen.add(node)
                node = heads[node]
        # surface text from tokens: multi-word token lines replace their words
        surface, covered_to, fused = [], 0, 0
        for r in rows:
            if "." in r[0]:
                continue
            if "-" in r[0]:
                a, b = (int(x) for x in r[0].split("-"))
                assert a == covered_to + 1 and b > a, f"{where}: bad multi-word range {r[0]}"
                covered_to, fused = b, fused + 1
                surface.append(r[1] + ("" if "SpaceAfter=No" in r[9] else " "))
            elif int(r[0]) > covered_to:
                covered_to = int(r[0])
                surface.append(r[1] + ("" if "SpaceAfter=No" in r[9] else " "))
        # whitespace compared loosely: a few sentences carry SpacesAfter= (a no-break space)
        norm = lambda t: re.sub(r"\s+", " ", t).strip()  # noqa: E731
        assert norm("".join(surface)) == norm(stext), f"{where}: tokens do not spell the text comment"
        counts["sentences"] += 1
        counts["words"] += n
        counts["fused"] += fused
        counts["tokens"] += n - sum(int(r[0].split("-")[1]) - int(r[0].split("-")[0]) for r in rows if "-" in r[0])
    return counts


def stats_counts(tb: Treebank, split: str) -> dict[str, int] | None:
    xml = tb.read("stats.xml")
    if xml is None:
        return None
    node = ET.fromstring(xml).find(f"size/{split}")
    return None if node is None else {child.tag: int(child.text or 0) for child in node}


def surface_words(block: list[str]) -> list[str]:
    """Rewrite one sentence so each multi-word token's words spell its surface form."""
    out, i = [], 0
    while i < len(block):
        line = block[i]
        cols = line.split("\t")
        if line.startswith("#") or "-" not in cols[0]:
            out.append(line)
            i += 1
            continue
        a, b = (int(x) for x in cols[0].split("-"))
        word_lines = [block[j].split("\t") for j in range(i + 1, i + 1 + (b - a + 1))]
        forms = [w[1] for w in word_lines]
        surface = cols[1]
        if "".join(forms) != surface:
            REWRITTEN.append(f"{surface} = {' + '.join(forms)}")
            # keep the lengths of the words, last piece takes the remainder
            pieces, pos = [], 0
            for k, f in enumerate(forms):
                end = len(surface) if k == len(forms) - 1 else min(len(surface), pos + len(f))
                pieces.append(surface[pos:end])
                pos = end
            if all(pieces):
                for w, p in zip(word_lines, pieces):
                    w[1] = p
        out.append(line)
        out.extend("\t".join(w) for w in word_lines)
        i += 1 + len(word_lines)
    return out


def to_docbin(text: str, path: Path) -> tuple[int, int, int]:
    """Write the CoNLL-U as a DocBin; return (docs, sentences, tokens)."""
    from spacy.tokens import Doc, DocBin
    from spacy.training.converters.conllu_to_docs import read_conllx

    blocks = ["\n".join(surface_words(b)) for b in sentences(text)]
    # a pattern that never matches: EWT has no NER in MISC, and the default "" would match everything
    sent_docs = list(read_conllx("\n\n".join(blocks) + "\n", ner_tag_pattern=r"(?!)"))
    docs = [Doc.from_docs(sent_docs[i : i + SENTS_PER_DOC]) for i in range(0, len(sent_docs), SENTS_PER_DOC)]
    for d in docs:
        d.user_data.clear()  # the converter's scratch extensions; not training data
    db = DocBin(attrs=["ORTH", "TAG", "POS", "MORPH", "LEMMA", "HEAD", "DEP", "SENT_START", "SPACY"], store_user_data=False, docs=docs)
    path.parent.mkdir(parents=True, exist_ok=True)
    db.to_disk(path)
    return len(docs), len(sent_docs), sum(len(d) for d in docs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--treebank", type=Path, default=DEFAULT_TREEBANK)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--keep-conllu", action="store_true", help="also write the (rebuilt) .conllu files to OUT/conllu/ (not committed)")
    args = ap.parse_args(argv)
    tb = Treebank(args.treebank)
    source: dict = {
        "name": "UD_English-EWT",
        "url": "https://github.com/UniversalDependencies/UD_English-EWT",
        "commit": tb.commit(),
        "license": "CC BY-SA 4.0",
        "changes": "format conversion only (CoNLL-U to spaCy DocBin, 10 sentences a Doc)",
        "splits": {},
    }
    print(f"UD_English-EWT at {tb.path}, commit {tb.commit()}", file=sys.stderr)
    for split in SPLITS:
        name = f"en_ewt-ud-{split}.conllu"
        shipped = tb.read(name)
        rebuilt = rebuild(tb, split)
        blob = tb.blob_id(name)
        if shipped is not None:
            same = shipped == rebuilt
            print(f"{split}: shipped file present; rebuilt from sources {'identical' if same else 'DIFFERENT'}", file=sys.stderr)
            text = shipped
        else:
            print(f"{split}: shipped file absent; rebuilt from {len(rebuilt):,} characters of sources", file=sys.stderr)
            text = rebuilt
        if blob is not None:
            ok = git_blob_id(text) == blob
            print(f"{split}: git blob id {'matches' if ok else 'DOES NOT match'} the tree's {blob}", file=sys.stderr)
            if not ok:
                raise SystemExit(f"{split}: the text is not the treebank's file")
        counts = check_conllu(text)
        expected = stats_counts(tb, split)
        print(f"{split}: well-formed; {counts}; stats.xml says {expected}", file=sys.stderr)
        if expected and any(counts[k] != expected.get(k, counts[k]) for k in counts):
            raise SystemExit(f"{split}: counts differ from stats.xml")
        if args.keep_conllu:
            (args.out / "conllu").mkdir(parents=True, exist_ok=True)
            (args.out / "conllu" / name).write_text(text, encoding="utf-8")
        REWRITTEN.clear()
        n_docs, n_sents, n_toks = to_docbin(text, args.out / f"{split}.spacy")
        source["splits"][split] = {"file": name, "git_blob": git_blob_id(text), "rebuilt_from_sources": shipped is None, **counts, "spacy_docs": n_docs}
        if REWRITTEN:
            print(f"{split}: {len(REWRITTEN)} multi-word tokens cut from their surface form: {sorted(set(REWRITTEN))[:12]}", file=sys.stderr)
        print(f"{split}: wrote {args.out / f'{split}.spacy'} ({n_docs} docs, {n_sents} sentences, {n_toks} tokens)", file=sys.stderr)
    (args.out / "source.json").write_text(json.dumps(source, indent=2) + "\n", encoding="utf-8")
    for extra in ("LICENSE.txt",):
        content = tb.read(extra)
        if content is not None:
            (args.out / extra).write_text(content, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
