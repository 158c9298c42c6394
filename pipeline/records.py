"""The records that flow between the pipeline's stages.

read -> SourceDocument -> normalise -> LetterText -> segment -> [Segment]
     -> extract -> LetterRecord (fields, scale, statistics, provenance) -> validate -> write
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path


class ReadError(Exception):
    """A document could not be turned into text; the message tells the user why."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message


@dataclass
class Page:
    """The text of one page (a text file is one page) and how it was obtained."""

    number: int
    text: str
    method: str = "text"  # text | pdfium | pdfplumber | ocr | blank (a page that draws nothing: not OCR'd)
    ocr_confidence: float | None = None  # mean Tesseract word confidence, 0-100
    # OCR pages: each word read (punctuation stripped) and the best confidence it was read with anywhere on the page
    word_confidences: dict[str, float] = field(default_factory=dict)
    # text pages: what Tesseract read from pictures of the letter's parts on the page (read/ocr_image.py)
    image_text: str = ""


@dataclass(frozen=True)
class TextEncoding:
    """How a text file was written, as the reader found it (the documents table says so)."""

    encoding: str  # ascii | utf-8 | utf-16-le | utf-16-be | utf-32-le | utf-32-be | cp1252 | latin-1 | mac-roman
    byte_order_mark: bool
    line_endings: str | None  # LF | CRLF | CR | mixed; None for a text of one line


@dataclass(frozen=True)
class Quoting:
    """The quoting prefixes ("> ", "| ", "> > ") taken off the lines of a forwarded letter before it was read."""

    prefix: str  # the deepest prefix taken off, as written
    lines: int  # how many lines of the file carried one


@dataclass
class SourceDocument:
    path: Path
    source_format: str  # txt | pdf | pdf-ocr | pdf-ocr-layer
    sha256: str
    pages: list[Page]
    warnings: list[str] = field(default_factory=list)
    # a PDF's pages before running heads and page numbers were dropped across all of them: a file holding
    # several letters (pipeline.bundles) drops them letter by letter, since its letters share their edges
    # (a date in December, one signatory) that no running head of one letter would
    pages_as_read: list[Page] = field(default_factory=list)
    encoding: TextEncoding | None = None  # text files only

    @property
    def letter_id(self) -> str:
        return self.sha256[:16]


@dataclass
class LetterText:
    """The normalised text every reported offset points into, and where each page starts."""

    text: str
    page_starts: list[int] = field(default_factory=lambda: [0])
    page_methods: list[str] = field(default_factory=lambda: ["text"])
    page_confidences: list[float | None] = field(default_factory=lambda: [None])
    page_word_confidences: list[dict[str, float]] = field(default_factory=lambda: [{}])
    # where the text read from pictures of the letter's parts stands (start, end)
    image_spans: list[tuple[int, int]] = field(default_factory=list)
    # the file's number of the first page: a letter of a bundle may start on page 5
    first_page: int = 1

    def read_from_image(self, offset: int) -> bool:
        return any(start <= offset < end for start, end in self.image_spans)
    encoding: TextEncoding | None = None  # the file's, for a text file
    quoting: Quoting | None = None  # what was taken off the lines of a quoted (forwarded) letter

    def page_at(self, offset: int) -> int:
        """Which of this text's pages holds offset, from 1 (see page_number_at for the file's page)."""
        return bisect.bisect_right(self.page_starts, offset)

    def page_number_at(self, offset: int) -> int:
        """The file's page that holds offset."""
        return self.page_at(offset) + self.first_page - 1

    def ocr_confidence_at(self, offset: int) -> float | None:
        return self.page_confidences[self.page_at(offset) - 1]

    def ocr_word_confidence(self, word: str, offset: int) -> float | None:
        """How sure OCR was of this word on the page at offset; None for text that was not OCR'd."""
        words = self.page_word_confidences[self.page_at(offset) - 1] if self.page_word_confidences else {}
        return words.get(word) if words else None


@dataclass
class Segment:
    segment: str  # header | preamble | scale_table | rating | narrative | closing
    start: int
    end: int
    text: str


@dataclass
class ScaleRow:
    score: int
    label: str
    description: str
    method: str = "text"  # text: the page's text (a scan's OCR included) | ocr-image: a picture of the table on a text page


@dataclass
class FieldValue:
    """One extracted value and its provenance."""

    field: str
    value: object
    start: int | None = None
    end: int | None = None
    page: int | None = None
    method: str = ""
    confidence: float = 1.0


@dataclass
class Statistic:
    text: str
    start: int
    end: int
    sentence: str
    kind: str  # count | percentage | fraction | ratio | indicator
    value: float
    denominator: float | None = None
    qualifier: str | None = None
    subject: str | None = None
    judgement: str | None = None
    stat_index: int = 0
    value_high: float | None = None  # the upper end of a range ("between 60% and 70%")
    form: str = "count"  # the grammar's form: count, partitive, fronted, refer_back, percentage, fraction, ratio, range
    problem: str | None = None  # why a person should check it; None when the finder understood it
    confidence: float = 1.0
    measure: str | None = None  # an outcome indicator's measure ("achieved Level 2 by the age of 19")
    previous_value: float | None = None  # a trend's earlier value (14 in "fell from 14% to 11%")
    comparator_value: float | None = None  # another's figure it is set against (59 in "compared with 59% in similar areas")
    comparator_scope: str | None = None  # whose that figure is: "similar areas", "national"
    # the second reading, from the sentence's parse (pipeline.structure): what it says, and whether it agrees
    agreement: str | None = None  # confirmed | one_reading | disputed
    parse_subject: str | None = None
    parse_judgement: str | None = None

    @property
    def share(self) -> float | None:
        """The statistic as a proportion 0-1, when it states one (a percentage, or a count out of a base)."""
        if self.kind == "percentage" or self.form == "percentage":
            return round(self.value / 100, 4)
        if self.denominator:
            return round(self.value / self.denominator, 4)
        return None


# the grammar's forms of statistic (pipeline.statistic_finder) and the roles of a narrative's numbers
STATISTIC_KINDS = ("count", "percentage", "fraction", "ratio", "indicator")
STATISTIC_FORMS = ("count", "partitive", "fronted", "refer_back", "percentage", "fraction", "ratio", "range")
NUMBER_ROLES = ("statistic", "distractor", "unexplained")


@dataclass
class NumberSpan:
    """A number-like span of the narrative and where it went: a statistic, a named distractor, or unexplained."""

    start: int
    end: int
    text: str
    role: str  # statistic | distractor | unexplained
    rule: str  # statistic: value | denominator | quantifier; distractor: year, key_stage, age ...
    statistic: Statistic | None = None


@dataclass(frozen=True)
class FilePart:
    """Where a letter stands in its file: which part of how many, and its pages (a PDF) or lines (a
    text file), from 1 and inclusive. A file holding one letter is part 1 of 1, all of it."""

    index: int
    count: int
    page_start: int | None = None
    page_end: int | None = None
    line_start: int | None = None
    line_end: int | None = None


LETTER_FIELDS = [
    "authority_name",
    "authority_as_written",
    "authority_la_code",
    "authority_gss_code",
    "letter_date",
    "rating_year",
    "rating_score",
    "rating_label",
    "recipient_name",
    "recipient_title",
    "recipient_postcode",
    "salutation",
    "signatory_name",
    "signatory_title",
    "signatory_signed_by",
]
STATUSES = ("ok", "needs_review", "failed", "not_rating_letter")
STATISTICS_STATUSES = ("ok", "needs_review")
# the subject of an issue that doubts a letter's whole text (another program's OCR of a scan), and so every value read from it
WHOLE_TEXT = "text"
SOURCE_FORMATS = ("txt", "pdf", "pdf-ocr", "pdf-ocr-layer")
# what the reader finds a text file written in (read.encodings), as the documents table names it
ENCODINGS = ("ascii", "utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "cp1252", "latin-1", "mac-roman")
LINE_ENDINGS = ("LF", "CRLF", "CR", "mixed")
# what `show --field` takes: a group of values shown in one colour, or one column of letters
FIELD_GROUPS = ("authority", "letter_date", "rating", "recipient", "salutation", "signatory", "statistic")
FIELD_CHOICES = (*FIELD_GROUPS, "statistics", *(f for f in LETTER_FIELDS + ["authority_region"] if f not in FIELD_GROUPS))


@dataclass
class LetterRecord:
    """Everything the pipeline knows about one input document."""

    letter_id: str
    source_path: str
    source_format: str = ""
    sha256: str = ""
    status: str = "ok"  # ok | needs_review | failed | not_rating_letter: vouches for the fields
    issues: list[str] = field(default_factory=list)
    # the statistics are vouched for apart, so one doubtful statistic leaves a trustworthy rating row;
    # None for a document that is not read as a letter (failed, not_rating_letter)
    statistics_status: str | None = None  # ok | needs_review
    statistics_issues: list[str] = field(default_factory=list)
    duplicate_of: str | None = None
    letter_type: str | None = None  # annual rating | annual assessment
    part: FilePart | None = None  # where in its file the letter stands; None for a file not read
    text: LetterText | None = None
    pages: int = 0
    fields: dict[str, FieldValue] = field(default_factory=dict)
    scale: list[ScaleRow] = field(default_factory=list)
    statistics: list[Statistic] = field(default_factory=list)
    numbers: list[NumberSpan] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    improvements: list[str] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)

    def value(self, name: str) -> object:
        fv = self.fields.get(name)
        return None if fv is None else fv.value

    def set(self, fv: FieldValue) -> None:
        if fv.value is None or fv.value == "":
            return
        if self.text is not None and fv.start is not None and fv.page is None:
            fv.page = self.text.page_number_at(fv.start)
        self.fields[fv.field] = fv

    def flag(self, reason: str) -> None:
        if reason not in self.issues:
            self.issues.append(reason)

    def flag_statistics(self, reason: str) -> None:
        """A doubt about the statistics: it sends statistics_status, not status, to needs_review."""
        if reason not in self.statistics_issues:
            self.statistics_issues.append(reason)

    def fail(self, stage: str, error: str, message: str) -> LetterRecord:
        """Mark the document failed at a stage, with an error code and a message a person can act on."""
        self.status = "failed"
        self.flag(f"{stage}: {message}")
        self.errors.append({"stage": stage, "error": error, "message": message})
        return self
