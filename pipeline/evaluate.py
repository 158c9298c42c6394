"""Score an output folder against gold files.

The figures are the same as ../shared/tools/score.py's on the same inputs (same string
normalisation, statistic matching and metric formulas), so a number quoted from either tool
means the same thing; this module adds typed results, structured disagreements and rich output.
"""
from __future__ import annotations

import glob
import io
import json
import os
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from pipeline.dataset import require_letters, table_file
from pipeline.errors import DataError, NotADataset, UsageError

# the measures that are n/a when nothing was compared, and the count each rests on
COMPARED_BY = {"fields": "fields", "status": "status", "stats_precision": "statistics", "stats_recall": "statistics",
               "stats_f1": "statistics", "judgement": "judgement", "segments": "segments"}

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})


@dataclass
class Disagreement:
    """One place where the output and a gold file differ.

    kind is one of: missing_letter, status, field, missed_statistic, extra_statistic,
    judgement, silent (field names the side: fields or statistics), segment. message is the line score.py prints for it.
    """

    letter_file: str
    letter_id: str | None
    kind: str
    field: str | None
    expected: object
    got: object
    message: str


@dataclass
class EvaluationResult:
    """The metrics score.py reports, plus the disagreements as records."""

    per_field: dict[str, float]
    fields: float
    status: float
    stats_precision: float
    stats_recall: float
    stats_f1: float
    stats_tp: int
    stats_fp: int
    stats_fn: int
    judgement: float
    segments: float
    docs_found: int
    docs_gold: int
    ok_docs: int = 0
    silent_docs: int = 0
    gold_ok_docs: int = 0
    yield_docs: int = 0
    yield_fields_docs: int = 0
    yield_statistics_docs: int = 0
    disagreements: list[Disagreement] = field(default_factory=list)
    # how many comparisons each measure rests on (fields and status: values; statistics: tp+fp+fn;
    # judgement: judged statistics; segments: phrases); a measure with none is n/a
    compared: dict[str, int] = field(default_factory=dict)

    def measured(self, name: str) -> bool:
        """Whether the measure rests on at least one comparison (True where it was not counted)."""
        return self.compared.get(COMPARED_BY.get(name, name), 1) > 0

    def _figure(self, name: str) -> str:
        return f"{getattr(self, name):.3f}" if self.measured(name) else "n/a"

    def summary_line(self) -> str:
        """The one-line summary as score.py prints it, character for character whenever every
        measure had something to compare; a measure with nothing to compare (gold without
        segments_contain, no judged statistic) is `n/a` where score.py prints 0.000 (1.000 for
        stats_f1 with no statistic on either side)."""
        return (
            f"fields={self._figure('fields')} status={self._figure('status')} stats_f1={self._figure('stats_f1')} "
            f"judgement={self._figure('judgement')} segments={self._figure('segments')} docs={self.docs_found}/{self.docs_gold} "
            f"silent={self.silent_docs}/{self.ok_docs} yield={self.yield_docs}/{self.gold_ok_docs}"
        )

    def as_score_dict(self) -> dict:
        """The metrics in the shape of `score.py --json`, so the two can be compared or swapped."""
        return {
            "per_field": dict(self.per_field),
            "fields": self.fields,
            "status": self.status,
            "stats_precision": self.stats_precision,
            "stats_recall": self.stats_recall,
            "stats_f1": self.stats_f1,
            "stats_tp_fp_fn": [self.stats_tp, self.stats_fp, self.stats_fn],
            "judgement": self.judgement,
            "segments": self.segments,
            "docs_found": self.docs_found,
            "ok_docs": self.ok_docs,
            "silent_docs": self.silent_docs,
            "gold_ok_docs": self.gold_ok_docs,
            "yield_docs": self.yield_docs,
            "yield_fields_docs": self.yield_fields_docs,
            "yield_statistics_docs": self.yield_statistics_docs,
            "docs_gold": self.docs_gold,
            "disagreements": [d.message for d in self.disagreements],
        }


def normalise(value: object) -> str:
    """Compare strings the way a reader would: case, spacing, quote style, '&' and a final '.' do not matter."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    s = unicodedata.normalize("NFKC", str(value)).translate(_QUOTES).casefold()
    s = s.replace("&", " and ")
    s = re.sub(r"\s+", " ", s).strip()
    return s.rstrip(".")


def _as_number(value: object) -> float | None:
    if value is None or (isinstance(value, float) and value != value) or str(value).strip() == "":
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except ValueError:
        return None


def _numbers_equal(a: float | None, b: float) -> bool:
    return a is not None and abs(a - b) <= 1e-9


def field_matches(field_name: str, gold: object, pred: object) -> bool:
    """Whether a predicted letters value counts as the gold one.

    Numbers compare numerically; la_code tolerates a trailing '.0' (a code read as a float);
    letter_date compares its first ten characters (a timestamp still counts).
    """
    if isinstance(gold, (int, float)) and not isinstance(gold, bool):
        p = _as_number(pred)
        return p is not None and abs(p - float(gold)) < 1e-9
    if field_name == "authority_la_code":
        p = normalise(pred)
        if p.endswith(".0"):
            p = p[:-2]
        return p == normalise(gold)
    if field_name == "letter_date":
        return normalise(pred)[:10] == normalise(gold)
    return normalise(pred) == normalise(gold)


def _singular(text: str) -> str:
    return " ".join(
        w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in normalise(text).split()
    )


def _subject_ok(keyword: str, subject: object) -> bool:
    return _singular(keyword) in _singular(subject or "")  # type: ignore[arg-type]


def statistic_matches(gold: dict, row: dict) -> bool:
    """Same value, same denominator when gold states one, and the gold subject keyword in the subject."""
    if not _numbers_equal(_as_number(row.get("value")), float(gold["value"])):
        return False
    if gold.get("denominator") is not None and not _numbers_equal(_as_number(row.get("denominator")), float(gold["denominator"])):
        return False
    return _subject_ok(gold.get("subject_keyword", ""), row.get("subject"))


def load_gold(gold_dirs: list[Path]) -> dict[str, dict]:
    """Gold files by the document file name they describe; a later directory overrides an earlier one.

    glob.glob, not Path.glob, so hidden files are skipped exactly as score.py skips them.
    """
    gold: dict[str, dict] = {}
    for d in gold_dirs:
        for path in sorted(glob.glob(os.path.join(str(d), "*.json"))):
            g = read_gold_file(Path(path))
            gold[gold_name(g)] = g
    return gold


def gold_name(gold: dict) -> str:
    """What a gold file describes, as messages name it: its "file", and for a letter of a file holding
    several, its "part" ("bundle.pdf (part 3)")."""
    return gold["file"] if gold.get("part") is None else f"{gold['file']} (part {gold['part']})"


def read_gold_file(path: Path) -> dict:
    """One gold file, or a DataError naming the file and what is wrong with it."""
    hint = "fix or remove the file (the format is that of ../shared/gold/*.json)"
    try:
        gold = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"gold file {path} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", hint) from exc
    except UnicodeDecodeError as exc:
        raise DataError(f"gold file {path} is not UTF-8 text", hint) from exc
    if not isinstance(gold, dict) or not isinstance(gold.get("file"), str):
        raise DataError(f"gold file {path} has no \"file\" naming the letter it describes", hint)
    for key, kind in (("fields", dict), ("statistics", list)):
        if not isinstance(gold.get(key, kind()), kind):
            raise DataError(f"gold file {path}: \"{key}\" should be a JSON {'object' if kind is dict else 'array'}", hint)
    # without these a gold file says nothing to compare, and would score a perfect status
    missing = [key for key in ("status", "fields") if key not in gold]
    if missing:
        raise DataError(f"gold file {path} lacks {' and '.join(json.dumps(k) for k in missing)}: it must say the letter's status and its fields", hint)
    if not isinstance(gold["status"], str):
        raise DataError(f"gold file {path}: \"status\" should be a string such as \"ok\"", hint)
    part = gold.get("part")
    if part is not None and (not isinstance(part, int) or isinstance(part, bool) or part < 1):
        raise DataError(f"gold file {path}: \"part\" should be a whole number from 1 (which letter of its file it describes)", hint)
    return gold


def _text_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A typed frame as the all-text frame its CSV would read back as, so both formats score alike."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    buffer.seek(0)
    return pd.read_csv(buffer, dtype=str, keep_default_na=False)


def _read_tables(out_dir: Path) -> dict[str, pd.DataFrame | None]:
    """The tables scoring needs, as text; CSV when letters.csv is of the folder's run (as score.py
    reads it), else Parquet. A table file of another run (see pipeline.dataset) is never read."""
    names = ("letters", "statistics", "segments")
    letters = table_file(out_dir, "letters", prefer=("csv", "parquet"))
    if letters is None:
        return {n: None for n in names}
    tables: dict[str, pd.DataFrame | None] = {}
    for n in names:
        path = table_file(out_dir, n, prefer=(letters.suffix.lstrip("."),)) if n != "letters" else letters
        if path is None:
            tables[n] = None
        elif path.suffix == ".csv":
            tables[n] = pd.read_csv(path, dtype=str, keep_default_na=False)
        else:
            tables[n] = _text_frame(pd.read_parquet(path))
    return tables


class _Scorer:
    """Accumulates hits and disagreements over the gold documents."""

    def __init__(self) -> None:
        self.field_hits: dict[str, list[int]] = {}
        self.status_hits: list[int] = []
        self.tp = self.fp = self.fn = 0
        self.judged = self.judged_ok = 0
        self.segment_hits: list[int] = []
        self.found = 0
        self.ok_docs = self.silent_docs = 0  # letters vouched for on a side, and those of them holding a wrong value there
        # gold-ok letters, and those vouched for on both sides, on the fields side, on the statistics side
        self.gold_ok = self.yielded = self.yield_fields = self.yield_statistics = 0
        self.disagreements: list[Disagreement] = []

    def disagree(self, name: str, letter_id: str | None, kind: str, field_name: str | None, expected: object, got: object, message: str) -> None:
        self.disagreements.append(Disagreement(name, letter_id, kind, field_name, expected, got, f"{name}: {message}"))

    def missing_letter(self, name: str, g: dict) -> None:
        self.disagree(name, None, "missing_letter", None, name, None, "no row in letters.csv")
        self.status_hits.append(0)
        for f in g.get("fields", {}):
            self.field_hits.setdefault(f, []).append(0)
        self.fn += len(g.get("statistics", []))

    def letter(self, name: str, g: dict, row: dict, stats: pd.DataFrame | None, segments: pd.DataFrame | None) -> None:
        self.found += 1
        before = len(self.disagreements)
        lid = row.get("letter_id")
        accepted = [g.get("status", "ok"), *g.get("status_also_accepted", [])]
        ok = normalise(row.get("status")) in {normalise(a) for a in accepted}
        self.status_hits.append(int(ok))
        if not ok:
            self.disagree(name, lid, "status", "status", g.get("status"), row.get("status"),
                          f"status {row.get('status')!r} != {g.get('status')!r}")
        for f, gv in g.get("fields", {}).items():
            hit = field_matches(f, gv, row.get(f))
            self.field_hits.setdefault(f, []).append(int(hit))
            if not hit:
                self.disagree(name, lid, "field", f, gv, row.get(f), f"{f} {row.get(f)!r} != {gv!r}")
        fields_wrong = len(self.disagreements) > before + (not ok)
        stats_before = len(self.disagreements)
        preds = [] if stats is None else stats[stats["letter_id"] == lid].to_dict("records")
        self.statistics(name, lid, g, preds)
        stats_wrong = len(self.disagreements) > stats_before
        self.vouched(name, lid, row, {normalise(a) for a in accepted}, fields_wrong, stats_wrong)
        if segments is not None and g.get("segments_contain"):
            self.segments(name, lid, g["segments_contain"], segments[segments["letter_id"] == lid])

    def vouched(self, name: str, lid: str | None, row: dict, accepted: set[str], fields_wrong: bool, stats_wrong: bool) -> None:
        """Silent and yield, side by side: `status` vouches for the fields, `statistics_status` (when the
        table has it) for the statistics; a wrong value is silent only on a side the tool vouched for."""
        status = normalise(row.get("status"))
        fields_vouched = status == "ok"
        if "statistics_status" in row:  # a statistics side exists only for what the tool reads as a letter
            stats_vouched = status in ("ok", "needs_review") and normalise(row.get("statistics_status")) == "ok"
        else:
            stats_vouched = fields_vouched
        if fields_vouched or stats_vouched:
            # a wrong value in a letter nobody was told to check: the worst kind of error
            self.ok_docs += 1
            fields_silent = fields_vouched and ("ok" not in accepted or fields_wrong)
            stats_silent = stats_vouched and (stats_wrong or not accepted & {"ok", "needs_review"})
            if fields_silent or stats_silent:
                self.silent_docs += 1
                side = "fields" if fields_silent else "statistics"
                self.disagree(name, lid, "silent", side, None, None, f"SILENT: vouched for ({side}) but wrong")
        if accepted == {"ok"}:
            self.gold_ok += 1
            self.yield_fields += fields_vouched
            self.yield_statistics += stats_vouched
            self.yielded += fields_vouched and stats_vouched

    def statistics(self, name: str, lid: str | None, g: dict, preds: list[dict]) -> None:
        optional = list(g.get("optional_statistics", []))
        distractors = [normalise(t) for t in g.get("not_statistics", [])]
        used: set[int] = set()
        for gs in g.get("statistics", []):
            match = next((i for i, p in enumerate(preds) if i not in used and statistic_matches(gs, p)), None)
            if match is None:
                self.fn += 1
                self.disagree(name, lid, "missed_statistic", "statistics", gs["text"], None, f"missed statistic {gs['text']!r}")
                continue
            used.add(match)
            self.tp += 1
            if "judgement" in gs:
                self.judged += 1
                got = preds[match].get("judgement")
                if normalise(gs["judgement"]) == normalise(got):
                    self.judged_ok += 1
                else:
                    self.disagree(name, lid, "judgement", "judgement", gs["judgement"], got,
                                  f"judgement of {gs['text']!r}: {got!r} != {gs['judgement']!r}")
        for i, p in enumerate(preds):
            if i in used or any(statistic_matches(o, p) for o in optional):
                continue
            self.fp += 1
            t = normalise(p.get("text"))
            tag = " (a distractor)" if any(t and (t in d or d in t) for d in distractors) else ""
            self.disagree(name, lid, "extra_statistic", "statistics", None, p.get("text"),
                          f"extra statistic {p.get('text')!r} value={p.get('value')} subject={p.get('subject')!r}{tag}")

    def segments(self, name: str, lid: str | None, contain: dict[str, list[str]], segs: pd.DataFrame) -> None:
        for seg, phrases in contain.items():
            # a 2010 letter's list of improvements may stand as its own segment after the narrative
            names = (seg, "improvements") if seg == "narrative" else (seg,)
            text = normalise(" ".join(segs[segs["segment"].isin(names)]["text"]))
            for phrase in phrases:
                hit = normalise(phrase) in text
                self.segment_hits.append(int(hit))
                if not hit:
                    self.disagree(name, lid, "segment", seg, phrase, None, f"segment {seg} lacks {phrase!r}")

    def result(self, docs_gold: int) -> EvaluationResult:
        all_fields = [h for hits in self.field_hits.values() for h in hits]
        tp, fp, fn = self.tp, self.fp, self.fn
        precision = tp / (tp + fp) if tp + fp else (1.0 if not fn else 0.0)
        recall = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return EvaluationResult(
            per_field={f: sum(h) / len(h) for f, h in sorted(self.field_hits.items())},
            fields=sum(all_fields) / len(all_fields) if all_fields else 0.0,
            status=sum(self.status_hits) / len(self.status_hits) if self.status_hits else 0.0,
            stats_precision=precision,
            stats_recall=recall,
            stats_f1=f1,
            stats_tp=tp,
            stats_fp=fp,
            stats_fn=fn,
            judgement=self.judged_ok / self.judged if self.judged else 0.0,
            segments=sum(self.segment_hits) / len(self.segment_hits) if self.segment_hits else 0.0,
            docs_found=self.found,
            docs_gold=docs_gold,
            ok_docs=self.ok_docs,
            silent_docs=self.silent_docs,
            gold_ok_docs=self.gold_ok,
            yield_docs=self.yielded,
            yield_fields_docs=self.yield_fields,
            yield_statistics_docs=self.yield_statistics,
            disagreements=self.disagreements,
            compared={"fields": len(all_fields), "status": len(self.status_hits), "statistics": tp + fp + fn,
                      "judgement": self.judged, "segments": len(self.segment_hits)},
        )


def find_letter_row(records: list[dict], by_file: dict[str, dict], name: str, part: int | None = None) -> dict | None:
    """The letters row a gold "file" names: by file name, or, when it holds a "/", by the end of
    source_path, so same-named letters in year folders (2009/bromley.txt, 2010/bromley.txt) stay apart.
    A gold "part" names one letter of a file holding several (letters.part)."""
    if part is not None:
        return next((r for r in records if _same_file(r, name) and str(r.get("part")).removesuffix(".0") == str(part)), None)
    if "/" not in name:
        return by_file.get(name)
    return next((r for r in records if _same_file(r, name)), None)


def _same_file(row: dict, name: str) -> bool:
    """Whether a gold "file" names the row's file: its name, or the end of its path when it holds a "/"."""
    path = "/" + str(row["source_path"]).replace("\\", "/").lstrip("/")
    return path.endswith("/" + name.replace("\\", "/").lstrip("/"))


def evaluate(gold_dirs: list[Path], out_dir: Path) -> EvaluationResult:
    """Score OUT_DIR against the gold JSON files in gold_dirs, with score.py's rules and figures.

    Letters are matched to gold by the file name of letters.source_path (or its end, see find_letter_row). The CSV tables are
    read as score.py reads them; an output folder with only Parquet tables is scored from those.
    Raises NotADataset without a letters table, UsageError without gold files, DataError for a malformed one
    (not valid JSON, or without "file", "status" or "fields") and when no gold file matches a letter.
    """
    out_dir = Path(out_dir)
    require_letters(out_dir)
    gold = load_gold([Path(d) for d in gold_dirs])
    if not gold:
        raise UsageError(f"no gold files (*.json) in {', '.join(map(str, gold_dirs))}", "give the folder `ofsted-letters review --gold DIR` saved them in")
    tables = _read_tables(out_dir)
    letters = tables["letters"]
    if letters is None:
        raise NotADataset(f"{out_dir} holds no letters.csv or letters.parquet to score", "write the dataset with `ofsted-letters ingest ... --out DIR --format csv`")
    records = letters.to_dict("records")
    by_file = {os.path.basename(str(r["source_path"])): r for r in records}
    scorer = _Scorer()
    for name, g in gold.items():
        row = find_letter_row(records, by_file, g["file"], g.get("part"))
        if row is None:
            scorer.missing_letter(name, g)
        else:
            scorer.letter(name, g, row, tables["statistics"], tables["segments"])
    if not scorer.found:  # nothing was compared: figures of 0 or 1 would mean nothing
        names = sorted(gold)
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        raise DataError(
            f"none of the {len(gold)} gold files matches a letter in {out_dir} (they name {shown})",
            "a gold \"file\" is matched against the end of letters.source_path: give the gold made for this dataset, or ingest the letters it names",
        )
    return scorer.result(len(gold))


def render_evaluation(result: EvaluationResult, console: Console) -> None:
    """Print per-field accuracy, statistics precision/recall, every disagreement, and last the summary line.

    The summary is printed plain and unwrapped, so `tail -1` gives the same line as score.py.
    """
    table = RichTable(title="Per-field accuracy")
    table.add_column("field")
    table.add_column("accuracy", justify="right")
    for name, accuracy in result.per_field.items():
        style = "green" if accuracy == 1.0 else ("yellow" if accuracy >= 0.8 else "red")
        table.add_row(Text(name), Text(f"{accuracy:.3f}", style=style))
    console.print(table)
    console.print(
        f"vouched for, of {result.gold_ok_docs} documents gold calls ok: fields {result.yield_fields_docs}, "
        f"statistics {result.yield_statistics_docs}, both {result.yield_docs}",
        markup=False, highlight=False, soft_wrap=True,
    )
    console.print(
        f"statistics: P={result._figure('stats_precision')} R={result._figure('stats_recall')} "
        f"(tp={result.stats_tp} fp={result.stats_fp} fn={result.stats_fn})",
        markup=False, highlight=False, soft_wrap=True,
    )
    if result.disagreements:
        console.print(f"{len(result.disagreements)} disagreements:", markup=False, highlight=False)
    for d in result.disagreements:
        console.print("  - " + d.message, markup=False, highlight=False, soft_wrap=True)
    console.print(result.summary_line(), markup=False, highlight=False, soft_wrap=True)


def write_evaluation_json(result: EvaluationResult, path: Path) -> Path:
    """Write the metrics as `score.py --json` does, plus the disagreements as records under "disagreement_records"."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(evaluation_json(result), indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return path


def evaluation_json(result: EvaluationResult) -> dict:
    """The metrics as `score.py --json` gives them, plus the disagreements as records and how many
    comparisons each measure rests on ("compared"); a measure with nothing to compare is null
    (score.py gives 0.0, or 1.0 for the statistics), every other figure is score.py's."""
    payload = result.as_score_dict()
    for name in COMPARED_BY:
        if not result.measured(name):
            payload[name] = None
    payload["compared"] = dict(result.compared)
    payload["disagreement_records"] = [asdict(d) for d in result.disagreements]
    return payload
