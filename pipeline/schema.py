"""The one definition of the dataset's tables.

The CSV/Parquet column types, datapackage.json and the README's data dictionary are all
generated from TABLES, so they cannot drift apart.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd
import pyarrow as pa

from pipeline.records import ENCODINGS, LINE_ENDINGS, NUMBER_ROLES, SOURCE_FORMATS, STATISTIC_FORMS, STATISTIC_KINDS, STATISTICS_STATUSES, STATUSES
from pipeline import EXTRACTOR_VERSION, __version__
from pipeline.config import load_toml

EMPTY_MEANS = (
    "An empty cell (CSV) or null (Parquet) means the value was not found in the letter, "
    "or does not apply; it never means zero."
)


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # string | integer | number | date | boolean | datetime
    description: str
    required: bool = False
    enum: tuple[str, ...] = ()  # the only values allowed, when the column has a closed set


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: list[Column]
    primary_key: list[str]
    foreign_keys: list[tuple[list[str], str, list[str]]] = field(default_factory=list)
    # SQLite: columns users filter by (one index each), and text columns for full-text search
    indexes: list[str] = field(default_factory=list)
    search: list[str] = field(default_factory=list)
    label: str | None = None  # the column that names a row, shown by Datasette beside keys pointing at it

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name: str, type_: str, description: str, required: bool = False, enum: tuple[str, ...] = ()) -> Column:
    return Column(name, type_, description, required, enum)


LETTER_ID = _c("letter_id", "string", "Stable identifier of the letter: the first 16 hex digits of the SHA-256 of its file's bytes; for a "
               "letter of a file holding several (a bundle), those digits, `-p` and its part's number (`c7a15615fcdc9a66-p3`). A second "
               "copy of a file's bytes has `-2` after the digits (`-3` for a third ...).", True)
_LETTER_FK = [(["letter_id"], "letters", ["letter_id"])]

TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "letters",
            "One row per letter: per input document, or per part of a document holding several letters (see `part`), with the values extracted from it and its validation status.",
            [
                LETTER_ID,
                _c("source_path", "string", "Path of the input file as given on the command line.", True),
                _c("source_format", "string", "How the text was obtained: `txt`, `pdf` (text layer), `pdf-ocr` (at least one page read by OCR) or `pdf-ocr-layer` (a scan with another program's OCR text layer); empty for a file of another kind.", enum=SOURCE_FORMATS),
                _c("part", "integer", "Which part of its file the row is, from 1: a file holding several letters (a bundle: a "
                   "freedom-of-information release, a bound volume scanned in one go, a council's pack) gives one row per letter, and one per "
                   "stretch of other matter (a covering note, an index page: `not_rating_letter`); 1 for a file holding one letter; empty for a "
                   "file that could not be read."),
                _c("parts", "integer", "How many parts (rows) its file gave: 1 for a file holding one letter."),
                _c("page_start", "integer", "First page of the file the row's letter stands on (PDF); 1 for a PDF holding one letter."),
                _c("page_end", "integer", "Last page of the file the row's letter stands on (PDF), inclusive."),
                _c("line_start", "integer", "First line of the file the row's letter stands on (text file, lines counted from 1 as an editor counts them)."),
                _c("line_end", "integer", "Last line of the file the row's letter stands on (text file), inclusive."),
                _c("status", "string", "Vouches for the letter's fields (authority, date, rating, recipient, signatory): `ok`, `needs_review` "
                   "(see issues), `failed` (could not be read) or `not_rating_letter`.", True, STATUSES),
                _c("statistics_status", "string", "Vouches for the letter's statistics apart from its fields: `ok` (every number of the narrative "
                   "explained, every statistic understood and confirmed) or `needs_review` (see statistics_issues); empty for a document "
                   "not read as a letter (`failed`, `not_rating_letter`).", enum=STATISTICS_STATUSES),
                _c("authority_name", "string", "Canonical short name of the local authority, as in DfE statistics (e.g. `Bromley`)."),
                _c("authority_as_written", "string", "The authority as the letter writes it (e.g. `London Borough of Bromley`)."),
                _c("authority_la_code", "string", "Three-digit DfE local authority code (e.g. `305`); text, to keep leading zeros safe."),
                _c("authority_gss_code", "string", "ONS GSS code of the authority (e.g. `E09000006`)."),
                _c("authority_region", "string", "Government office region of the authority."),
                _c("letter_date", "date", "Date the letter was written, ISO 8601."),
                _c("rating_year", "integer", "Year the rating or assessment is for, as the letter states it."),
                _c("rating_score", "integer", "Rating on the four-point scale: 4 performs excellently ... 1 performs poorly."),
                _c("rating_label", "string", "Label of the rating, e.g. `Performs well`."),
                _c("recipient_name", "string", "Addressee with honorific, e.g. `Mrs Gillian Pearson`."),
                _c("recipient_title", "string", "Addressee's job title."),
                _c("recipient_postcode", "string", "Postcode of the addressee."),
                _c("salutation", "string", "The salutation line, e.g. `Dear Mrs Pearson`."),
                _c("signatory_name", "string", "Name of the Ofsted officer the letter is from: the person named under the signature (for a letter signed `pp`, the one signed for)."),
                _c("signatory_title", "string", "Job title of the signatory."),
                _c("signatory_signed_by", "string", "Who signed the letter on the signatory's behalf, where the signature says so (`John Smith` over "
                   "`pp Juliet Winstanley`, `for ...`, `signed in her absence by ...`); empty when the signatory signed it, or the letter does not "
                   "name who did. The signatory is always the person named under the signature."),
                _c("letter_type", "string", "`annual rating` (2009 family) or `annual assessment` (2010 family).", enum=("annual rating", "annual assessment")),
                _c("n_statistics", "integer", "Number of rows for this letter in the statistics table."),
                _c("duplicate_of", "string", "letter_id of an earlier document with the same bytes or the same normalised text, if any: only these are duplicates. "
                   "Two documents for the same authority and year whose text differs are not: where their values agree (a text export and a PDF "
                   "of one letter) both stand; where they differ (date, rating, recipient, signatory) both are `needs_review`, each naming the "
                   "other and the values that differ in `issues` (`conflict: ...`)."),
                _c("issues", "string", "Why the status is not `ok`: reasons separated by ` | `."),
                _c("statistics_issues", "string", "Why the statistics_status is not `ok`: reasons separated by ` | `."),
            ],
            ["letter_id"],
            indexes=["status", "statistics_status", "authority_name", "rating_year", "authority_la_code", "authority_region"],
            search=["authority_name", "authority_as_written", "recipient_name", "recipient_title", "signatory_name",
                    "signatory_title", "signatory_signed_by", "rating_label", "issues", "statistics_issues", "source_path"],
            label="authority_name",
        ),
        Table(
            "statistics",
            "One row per quantitative claim the narrative cites about services, settings, reviews or groups.",
            [
                LETTER_ID,
                _c("stat_index", "integer", "Order of the statistic within its letter, from 0.", True),
                _c("text", "string", "The statistic exactly as written, e.g. `13 out of 14`."),
                _c("start", "integer", "Start offset (characters) in documents.text."),
                _c("end", "integer", "End offset (exclusive) in documents.text."),
                _c("sentence", "string", "The sentence the statistic stands in."),
                _c("kind", "string", "What the number is: `count` (3 in `three of the eight`), `percentage` (70 in `over 70%`), "
                   "`fraction` (2 out of 3 in `two thirds`), `ratio` (9 in 10 in `nine in ten`) or `indicator`: an outcome "
                   "measure with no inspection judgement (56 in `56% of pupils attained five or more GCSEs`; its unit is in `form`, "
                   "what it measures in `measure`).", enum=STATISTIC_KINDS),
                _c("form", "string", "How it is written (the grammar's form): `count`, `partitive` (`two of the four`), `fronted` "
                   "(`Of the 12 homes, nine`), `refer_back` (`nine of them`, `..., three are good`), `percentage`, `fraction`, `ratio`, "
                   "`range` (`between 60% and 70%`).", enum=STATISTIC_FORMS),
                _c("value", "number", "The number: 70 for `over 70%`, 3 for `three of the eight`, 2 for `two thirds`, 0 for `none of the eight`; "
                   "for a range, its lower end."),
                _c("value_high", "number", "The upper end of a range (70 in `between 60% and 70%`); empty for a single value."),
                _c("denominator", "number", "The total it is out of (8 in `three of the eight`, 3 in `two thirds`, 10 in `nine in ten`); "
                   "empty when none is stated."),
                _c("share", "number", "The statistic as a proportion from 0 to 1 (0.7 for `70%`, 0.375 for `three of the eight`), "
                   "when it states one; filter on this to compare counts and percentages."),
                _c("qualifier", "string", "Hedge or quantifier before the number: `over`, `almost`, `only`, `all`, `none`, `every one` ..."),
                _c("subject", "string", "The services or settings counted, e.g. `secondary schools`."),
                _c("judgement", "string", "The grade phrase the statistic is about, e.g. `good or outstanding`; empty for an `indicator`."),
                _c("previous_value", "number", "A trend's earlier value, in the same unit as value (14 in `fell from 14% to 11%`, whose value is 11); "
                   "empty when no trend is stated."),
                _c("comparator_value", "number", "A figure the letter sets the statistic against that is not this authority's "
                   "(59 in `65%, compared with 59% in similar areas`); empty when none."),
                _c("comparator_scope", "string", "Whose the comparator is: `similar areas`, `national`, `statistical neighbours` ..."),
                _c("measure", "string", "For an `indicator`: what is measured of its subject, e.g. `attained five or more GCSEs` or "
                   "`not in education, employment or training`; empty otherwise."),
                _c("confidence", "number", "0-1: how sure the extractor is of the value (OCR word confidence on scans, 1 otherwise)."),
                _c("problem", "string", "Why a person should check this statistic (its letter is then `needs_review`); empty when it was understood."),
                _c("agreement", "string", "How the second reading, from the sentence's dependency parse, compares with the finder's: `confirmed` "
                   "(same subject and judgement), `one_reading` (the parse says nothing of it) or `disputed` (they differ: see problem).",
                   enum=("confirmed", "one_reading", "disputed")),
                _c("parse_subject", "string", "What the parse reads the number as counting, e.g. `primary schools`; empty when it cannot tell."),
                _c("parse_judgement", "string", "The grade the parse reads its clause as giving, e.g. `good or better`, `not good`; empty when none."),
            ],
            ["letter_id", "stat_index"],
            _LETTER_FK,
            indexes=["kind", "subject"],
            search=["text", "sentence", "subject", "judgement"],
        ),
        Table(
            "numbers",
            "Every number-like span of the narrative and what became of it, so a user can audit why a number was or was not counted.",
            [
                LETTER_ID,
                _c("start", "integer", "Start offset in documents.text.", True),
                _c("end", "integer", "End offset (exclusive) in documents.text."),
                _c("text", "string", "The number as written: `nine`, `70%`, `2007`, `none`."),
                _c("role", "string", "`statistic` (part of a statistic), `distractor` (not a statistic, for the reason in `rule`) or "
                   "`unexplained` (the extractor could not tell: the letter is `needs_review`).", True, NUMBER_ROLES),
                _c("rule", "string", "For a statistic: `value`, `denominator` or `quantifier`. For a distractor, the rule that explains it: "
                   "`date`, `year`, `key_stage`, `level`, `age`, `section`, `act`, `ni_indicator`, `telephone`, `duration`, `ordinal`, "
                   "`scale_point`, `qualification`, `base` (the whole a later statistic counts part of), `vague_partitive` "
                   "(`most of the 12`), `not_judged` (nothing in its clause is graded), `pronoun_one` ..."),
                _c("stat_index", "integer", "The statistic it belongs to (statistics.stat_index), for role `statistic`."),
            ],
            ["letter_id", "start"],
            _LETTER_FK,
            indexes=["role", "rule"],
        ),
        Table(
            "segments",
            "The parts of each letter: header, preamble, scale_table, rating, narrative, closing (and improvements in 2010 letters; "
            "copies and enclosures for a copy list or enclosures after the signature; cover for a covering note, cover sheet or fax header "
            "sent before the letter; wrapper for the e-mail a letter was forwarded in, its headers and note before the letter and its "
            "footer after it; furniture for a web page's or print's own lines).",
            [
                LETTER_ID,
                _c("segment", "string", "Name of the part.", True),
                _c("part", "integer", "0 for the first stretch of text with this name, 1 for the next (a preamble split by the scale table has two).", True),
                _c("start", "integer", "Start offset in documents.text."),
                _c("end", "integer", "End offset (exclusive) in documents.text."),
                _c("text", "string", "The text of the part."),
            ],
            ["letter_id", "segment", "part"],
            _LETTER_FK,
            indexes=["segment"],
            search=["text"],
        ),
        Table(
            "scale",
            "The four-point scale as each letter prints it.",
            [
                LETTER_ID,
                _c("score", "integer", "Score, 1 to 4.", True),
                _c("label", "string", "Label, e.g. `Performs well`."),
                _c("description", "string", "Description, e.g. `An organisation that exceeds minimum requirements`."),
                _c("method", "string", "How the row was read: `text` (the page's text, a scan's OCR included) or `ocr-image` "
                   "(Tesseract on a picture of the table in a text PDF; see `fields.method` `+ocr-image`).", True, ("text", "ocr-image")),
            ],
            ["letter_id", "score"],
            _LETTER_FK,
        ),
        Table(
            "fields",
            "Provenance: one row per extracted value, saying where in the letter it came from and how.",
            [
                LETTER_ID,
                _c("field", "string", "Column of letters the value fills.", True),
                _c("value", "string", "The value, as text."),
                _c("start", "integer", "Start offset of the evidence in documents.text; empty when derived (e.g. codes from the gazetteer)."),
                _c("end", "integer", "End offset (exclusive) of the evidence."),
                _c("page", "integer", "Page of the evidence (1-based); 1 for text files."),
                _c("method", "string", "How the value was found: `regex`, `spacy`, `gazetteer`, `gazetteer-fuzzy`, `layout`, `ocr` ...; a prefix names the page's reader where it was not the usual one (`ocr+`, `ocr-layer+`, `pdfplumber+`), a suffix a repair (`+vocabulary`, `+rejoined`, `+space-restored`) or a second reading of a scan (`+reread`: two readings agreed; `+line-found`: from a line the page reading lost); `+ocr-image`: Tesseract read it from a picture of the part (the scale table, the rating row) on a text page; `-apart`: a rating value on a line of its own, away from its heading."),
                _c("confidence", "number", "0-1: how sure the extractor is (fuzzy match score, OCR confidence)."),
            ],
            ["letter_id", "field"],
            _LETTER_FK,
            indexes=["field", "method"],
        ),
        Table(
            "documents",
            "The normalised text of each letter (of its part of the file, for a file holding several), into which every offset points.",
            [
                LETTER_ID,
                _c("source_path", "string", "Path of the input file."),
                _c("sha256", "string", "SHA-256 of the file's bytes."),
                _c("pages", "integer", "Number of pages of the letter's part of the file (all of them for a file holding one letter; 1 for text files)."),
                _c("n_chars", "integer", "Length of text."),
                _c("text", "string", "The normalised text."),
                _c("encoding", "string", "The encoding a text file was read in, as the reader detected it (`ascii`, `utf-8`, `utf-16-le`, "
                   "`utf-16-be`, `utf-32-le`, `utf-32-be`, `cp1252` for Windows-1252, `latin-1`, `mac-roman`); empty for a PDF.", enum=ENCODINGS),
                _c("byte_order_mark", "boolean", "Whether the text file begins with a byte-order mark; empty for a PDF."),
                _c("line_endings", "string", "The text file's line ends: `LF` (Unix, web), `CRLF` (Windows), `CR` (old Mac) or `mixed`; "
                   "empty for a PDF or a text of one line.", enum=LINE_ENDINGS),
                _c("quote_prefix", "string", "The quoting prefix taken off the lines of a letter forwarded by e-mail (`> `, `| `, `> > ` "
                   "where quoting is nested) before it was read; text holds the lines without it. Empty when there was none."),
                _c("quoted_lines", "integer", "How many lines of the file carried a quoting prefix; empty when none did."),
            ],
            ["letter_id"],
            _LETTER_FK,
            search=["text"],
        ),
        Table(
            "errors",
            "One row per problem met while reading or processing a document.",
            [
                LETTER_ID,
                _c("source_path", "string", "Path of the input file."),
                _c("stage", "string", "Stage that met the problem: read, normalise, segment, extract, validate."),
                _c("error", "string", "Short machine-readable kind, e.g. `empty`, `encrypted`, `corrupt_pdf`, `binary`, `ocr_unavailable`, `worker_crashed`, `internal_error`, `not_a_regular_file`, `unreadable`, `too_large`, `too_many_pages`, `page_too_large`, `time_limit`, `no_text`."),
                _c("message", "string", "What was wrong, for a person."),
            ],
            [],
            _LETTER_FK,
            indexes=["error"],
            search=["message"],
        ),
    ]
}

_ARROW = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "date": pa.date32(),
    "boolean": pa.bool_(),
}
_PANDAS = {"string": "string", "integer": "Int64", "number": "Float64", "boolean": "boolean", "date": "object"}
# what plain pd.read_parquet makes of each type, through the pandas metadata in every Parquet file
_PANDAS_ON_READ = {**_PANDAS, "date": "date32[pyarrow]"}


def _field_metadata(column: Column) -> dict[str, str]:
    """A column's documentation, carried in its Parquet field so it travels with the file."""
    meta = {"description": column.description, "type": column.type}
    if column.enum:
        meta["enum"] = json.dumps(list(column.enum))
    return meta


@lru_cache(maxsize=None)
def pandas_metadata(table: str) -> bytes:
    """The `pandas` schema metadata pyarrow writes for a frame of this table's declared dtypes, so
    that pd.read_parquet gives nullable integers, floats and strings and typed dates, not floats
    and objects. No index is stored: the frame read back has a plain RangeIndex."""
    cols = TABLES[table].columns
    empty = pd.DataFrame({c.name: pd.Series([], dtype=_PANDAS_ON_READ[c.type]) for c in cols})
    return pa.Schema.from_pandas(empty, preserve_index=False).metadata[b"pandas"]


def arrow_schema(table: str) -> pa.Schema:
    fields = [pa.field(c.name, _ARROW[c.type], nullable=not c.required, metadata=_field_metadata(c)) for c in TABLES[table].columns]
    return pa.schema(fields, metadata={"pandas": pandas_metadata(table), "description": TABLES[table].description})


def to_arrow(table: str, rows: list[dict]) -> pa.Table:
    """Rows as an Arrow table of the declared schema; faster than going through pandas."""
    schema = arrow_schema(table)
    dates = [c.name for c in TABLES[table].columns if c.type == "date"]
    if dates:
        rows = [{**r, **{d: _as_date(r.get(d)) for d in dates}} for r in rows]
    return pa.Table.from_pylist(rows, schema=schema)


def _as_date(value: object) -> object:
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return value or None


def to_frame(table: str, rows: list[dict]) -> pd.DataFrame:
    """Rows as a DataFrame with exactly the table's columns, in order, with their declared types."""
    cols = TABLES[table].columns
    frame = pd.DataFrame(rows, columns=[c.name for c in cols])
    for c in cols:
        if c.type == "date":
            frame[c.name] = pd.to_datetime(frame[c.name], errors="coerce").dt.date
        else:
            frame[c.name] = frame[c.name].astype(_PANDAS[c.type])
    return frame


def _constraints(column: Column) -> dict:
    constraints: dict = {}
    if column.required:
        constraints["required"] = True
    if column.enum:
        constraints["enum"] = list(column.enum)
    return {"constraints": constraints} if constraints else {}



def column(table: str, name: str) -> Column:
    """One column's definition, e.g. to validate a filter value against its enum."""
    return next(c for c in TABLES[table].columns if c.name == name)


def datapackage(formats: tuple[str, ...] = ("csv",), created: dt.datetime | None = None) -> dict:
    """A Frictionless Data Package descriptor for the dataset: one resource per table and format.

    The descriptive part (licence, sources) is pipeline/data/datapackage.toml; the version is the
    tool's with the extractor's, since either changing can change the values.
    """
    about = load_toml("datapackage.toml")
    resources = []
    for fmt in formats:
        for t in TABLES.values():
            schema: dict = {
                "fields": [{"name": c.name, "type": c.type, "description": c.description, **_constraints(c)} for c in t.columns],
                "missingValues": [""],
            }
            if t.primary_key:
                schema["primaryKey"] = t.primary_key
            if t.foreign_keys:
                schema["foreignKeys"] = [
                    {"fields": f, "reference": {"resource": r if fmt == "csv" else f"{r}-{fmt}", "fields": rf}}
                    for f, r, rf in t.foreign_keys
                    if r != t.name
                ]
            resources.append(
                {
                    "name": t.name if fmt == "csv" else f"{t.name}-{fmt}",
                    "path": f"{t.name}.{fmt}",
                    "format": fmt,
                    "profile": "tabular-data-resource",
                    "description": t.description,
                    "schema": schema,
                }
            )
    created = created or dt.datetime.now(dt.timezone.utc)
    return {
        "profile": "tabular-data-package",
        "name": about["name"],
        "title": about["title"],
        "description": f"{about['description']} {EMPTY_MEANS}",
        "version": f"{__version__}+extractor.{EXTRACTOR_VERSION}",
        "created": created.astimezone(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "keywords": about.get("keywords", []),
        "licenses": about["licenses"],
        "sources": about["sources"],
        "resources": resources,
    }


def data_dictionary_markdown() -> str:
    """The README's data dictionary."""
    lines = [EMPTY_MEANS, ""]
    for t in TABLES.values():
        key = ", ".join(t.primary_key) if t.primary_key else "none"
        lines += [f"#### `{t.name}`", "", t.description + f" Primary key: {key}.", "", "| column | type | description |", "| --- | --- | --- |"]
        lines += [f"| `{c.name}` | {c.type} | {c.description} |" for c in t.columns]
        lines.append("")
    return "\n".join(lines)


DICTIONARY_START = "<!-- data-dictionary:start (generated by `python -m pipeline.schema README.md`) -->"
DICTIONARY_END = "<!-- data-dictionary:end -->"


def update_readme(readme_text: str) -> str:
    """The README with its data dictionary section regenerated from TABLES."""
    head, _, rest = readme_text.partition(DICTIONARY_START)
    _, _, tail = rest.partition(DICTIONARY_END)
    return f"{head}{DICTIONARY_START}\n{data_dictionary_markdown()}\n{DICTIONARY_END}{tail}"


if __name__ == "__main__":
    import sys
    from pathlib import Path

    readme = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    readme.write_text(update_readme(readme.read_text(encoding="utf-8")), encoding="utf-8")
