"""One letter's rows for each table of the dataset: what a worker hands back to the writer.

Kept apart from `write` so that workers never import pandas or pyarrow (half a second each).
"""
from __future__ import annotations

from pipeline.records import LETTER_FIELDS, LetterRecord

ISSUE_SEPARATOR = " | "

# the formats a dataset is written in; here, not in `write`, so the CLI can check --format before pandas is imported
FORMATS = ("csv", "parquet", "jsonl", "sqlite")


def _number(value: float) -> float | None:
    """NaN (a quantifier over a base of unknown size) is written as empty, not as a number."""
    return None if value != value else value


def record_rows(record: LetterRecord) -> dict[str, list[dict]]:
    """The rows one letter contributes to each table."""
    text = record.text.text if record.text else ""
    letter = {
        "letter_id": record.letter_id,
        "source_path": record.source_path,
        "source_format": record.source_format or None,
        "status": record.status,
        "letter_type": record.letter_type,
        "n_statistics": len(record.statistics),
        "duplicate_of": record.duplicate_of,
        "issues": ISSUE_SEPARATOR.join(record.issues) or None,
        "statistics_status": record.statistics_status,
        "statistics_issues": ISSUE_SEPARATOR.join(record.statistics_issues) or None,
    }
    for name in LETTER_FIELDS + ["authority_region"]:
        letter[name] = record.value(name)
    parts: dict[str, int] = {}
    segments = []
    for s in record.segments:
        segments.append({"letter_id": record.letter_id, "segment": s.segment, "part": parts.get(s.segment, 0), "start": s.start, "end": s.end, "text": s.text})
        parts[s.segment] = parts.get(s.segment, 0) + 1
    return {
        "letters": [letter],
        "statistics": [
            {
                "letter_id": record.letter_id, "stat_index": s.stat_index, "text": s.text, "start": s.start, "end": s.end,
                "sentence": s.sentence, "kind": s.kind, "form": s.form, "value": _number(s.value), "value_high": s.value_high,
                "denominator": s.denominator, "share": s.share, "qualifier": s.qualifier, "subject": s.subject,
                "judgement": s.judgement, "measure": s.measure, "previous_value": s.previous_value,
                "comparator_value": s.comparator_value, "comparator_scope": s.comparator_scope, "confidence": s.confidence, "problem": s.problem,
                "agreement": s.agreement, "parse_subject": s.parse_subject, "parse_judgement": s.parse_judgement,
            }
            for s in record.statistics
        ],
        "numbers": [
            {
                "letter_id": record.letter_id, "start": n.start, "end": n.end, "text": n.text, "role": n.role, "rule": n.rule or None,
                "stat_index": n.statistic.stat_index if n.statistic is not None else None,
            }
            for n in record.numbers
        ],
        "segments": segments,
        "scale": [{"letter_id": record.letter_id, "score": r.score, "label": r.label, "description": r.description} for r in record.scale],
        "fields": [
            {
                "letter_id": record.letter_id, "field": f.field, "value": str(f.value), "start": f.start, "end": f.end,
                "page": f.page, "method": f.method, "confidence": f.confidence,
            }
            for f in record.fields.values()
        ],
        "documents": [
            {"letter_id": record.letter_id, "source_path": record.source_path, "sha256": record.sha256, "pages": record.pages, "n_chars": len(text), "text": text,
             **_file_form(record)}
        ],
        "errors": [{"letter_id": record.letter_id, "source_path": record.source_path, **e} for e in record.errors],
    }


def _file_form(record: LetterRecord) -> dict[str, object]:
    """What the reader found a text file written in, and the quoting it took off its lines."""
    encoding = record.text.encoding if record.text else None
    quoting = record.text.quoting if record.text else None
    return {
        "encoding": encoding.encoding if encoding else None,
        "byte_order_mark": encoding.byte_order_mark if encoding else None,
        "line_endings": encoding.line_endings if encoding else None,
        "quote_prefix": quoting.prefix if quoting else None,
        "quoted_lines": quoting.lines if quoting else None,
    }
