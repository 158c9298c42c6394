"""One letter's rows for each table of the dataset: what a worker hands back to the writer.

Kept apart from `write` so that workers never import pandas or pyarrow (half a second each).
"""
from __future__ import annotations

from pipeline.records import LETTER_FIELDS, FilePart, LetterRecord

ISSUE_SEPARATOR = " | "

# the formats a dataset is written in; here, not in `write`, so the CLI can check --format before pandas is imported
FORMATS = ("csv", "parquet", "jsonl", "sqlite")


def _number(value: float) -> float | None:
    """NaN (a quantifier over a base of unknown size) is written as empty, not as a number."""
    return None if value != value else value


def part_columns(part: FilePart | None) -> dict[str, int | None]:
    """Where a letter stands in its file, as the letters table has it (all empty for a file not read)."""
    if part is None:
        return dict.fromkeys(PART_COLUMNS)
    return {"part": part.index, "parts": part.count, "page_start": part.page_start, "page_end": part.page_end,
            "line_start": part.line_start, "line_end": part.line_end}


PART_COLUMNS = ("part", "parts", "page_start", "page_end", "line_start", "line_end")


def part_phrase(letter: dict) -> str:
    """Where a letter of a file holding several stands in it, for a person: "part 3 of 7, pages 5-6"
    ("lines 120-241" in a text file); "" for a file holding one letter."""
    parts, part = letter.get("parts"), letter.get("part")
    if not _known(parts) or int(parts) < 2 or not _known(part):
        return ""
    phrase = f"part {int(part)} of {int(parts)}"
    for unit, start, end in (("page", "page_start", "page_end"), ("line", "line_start", "line_end")):
        a, b = letter.get(start), letter.get(end)
        if _known(a) and _known(b):
            phrase += f", {unit} {int(a)}" if int(a) == int(b) else f", {unit}s {int(a)}-{int(b)}"
    return phrase


def _known(value: object) -> bool:
    """A value present in a row read from any format (not None, NaN or pandas' NA)."""
    try:
        return value is not None and value == value and bool(str(value).strip())
    except TypeError:  # pandas.NA refuses to be compared
        return False


def file_rows(records: list[LetterRecord]) -> dict[str, list[dict]]:
    """The rows a file contributes to each table: one letter's, or each of its letters' in order."""
    rows = record_rows(records[0])
    for record in records[1:]:
        for table, more in record_rows(record).items():
            rows[table].extend(more)
    return rows


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
        **part_columns(record.part),
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
        "scale": [{"letter_id": record.letter_id, "score": r.score, "label": r.label, "description": r.description, "method": r.method} for r in record.scale],
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
