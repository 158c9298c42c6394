"""Files that hold several letters, as archives have them: a freedom-of-information release, a bound
volume scanned in one go, a council's pack. Each letter becomes a part of its own, read as a file
holding only that letter would be; so does what stands before or between the letters and is none
(a covering note, an index page), which then reads as `not_rating_letter`.

Letters are found by their own structure, never by page counts. A letter begins with its header
(letterhead, date, address) before its salutation, and ends with its closing paragraph, sign-off and
signature. A second salutation starts a second letter only once the first has ended, so a letter
running over several pages, running heads and all, stays whole. A PDF is parted between pages, a text
file between lines. And a file is parted only when two or more of its parts read as rating letters on
their own: a letter with a covering note or an e-mail around it, or a report quoting letters inside
prose of its own, stays one document.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, replace
from functools import lru_cache

import regex

from pipeline.config import compiled, patterns
from pipeline.normalise import normalise_characters, normalise_document
from pipeline.read import drop_running_furniture
from pipeline.read.pdf import pdf_source_format
from pipeline.records import FilePart, Page, SourceDocument
from pipeline.validate import is_rating_letter, prose_chars


@dataclass(frozen=True)
class _Units:
    """A file's pages (PDF) or lines (text) as one text to look for landmarks in, and where each starts."""

    texts: list[str]
    starts: list[int]
    text: str

    @classmethod
    def of(cls, texts: list[str], joint: str) -> _Units:
        starts, at = [], 0
        for t in texts:
            starts.append(at)
            at += len(t) + len(joint)
        return cls(texts, starts, joint.join(texts))

    def at(self, offset: int) -> int:
        """The unit (from 0) that holds offset."""
        return bisect.bisect_right(self.starts, offset) - 1


@dataclass(frozen=True)
class _Letter:
    """A stretch shaped like a letter: where its salutation stands, and its last closing or sign-off before the next one's."""

    salutation: int
    end: int | None


def split_bundle(document: SourceDocument) -> list[tuple[FilePart, SourceDocument]]:
    """The file's parts, each with the document to read it from: one part, the document itself, for a
    file holding one letter (most files); one per letter, and per stretch of other matter, for a bundle."""
    whole = _whole(document)
    if len(_DEAR.findall("\n".join(p.text for p in document.pages_as_read or document.pages))) < 2:
        return [(whole, document)]  # most files: one salutation at most, so one letter at most
    lines = _file_lines(document.pages[0].text) if document.source_format == "txt" else None
    starts = _text_starts(lines) if lines is not None else _pdf_starts(document.pages_as_read or document.pages)
    if len(starts) < 2:
        return [(whole, document)]
    parts = [_part_document(document, lines, a, b) for a, b in zip(starts, [*starts[1:], None])]
    if sum(is_rating_letter(normalise_document(part).text) for part in parts) < 2:
        return [(whole, document)]
    count = len(parts)
    placed = []
    for index, (part, a, b) in enumerate(zip(parts, starts, [*starts[1:], None]), start=1):
        if lines is not None:  # the lines between two letters (blank, a rule) end the first's range
            where = FilePart(index, count, line_start=a + 1, line_end=b if b is not None else len(lines))
        else:
            where = FilePart(index, count, page_start=part.pages[0].number, page_end=part.pages[-1].number)
        placed.append((where, part))
    return placed


# what every salutation holds, looked for before anything else: a file with fewer than two is one part
_DEAR = regex.compile(r"\bdear\b", regex.IGNORECASE)


def _whole(document: SourceDocument) -> FilePart:
    """All of a file as its only part."""
    if document.source_format == "txt":
        return FilePart(1, 1, line_start=1, line_end=max(len(_file_lines(document.pages[0].text)), 1))
    numbers = [p.number for p in document.pages] or [1]
    return FilePart(1, 1, page_start=numbers[0], page_end=numbers[-1])


def _file_lines(text: str) -> list[str]:
    """A text file's lines as an editor numbers them (its line ends are already made LF)."""
    lines = text.split("\n")
    return lines[:-1] if len(lines) > 1 and lines[-1] == "" else lines


def _letters(text: str) -> list[_Letter]:
    """The letter-shaped stretches of a text, in order. A salutation before which the stretch begun
    by the last one has not ended (no closing paragraph or sign-off) belongs to that stretch."""
    salutations = [m.start() for m in compiled("segment", "salutation").finditer(text)]
    if len(salutations) < 2:
        return []
    ends = sorted({m.start() for m in compiled("segment", "closing").finditer(text)} | {m.start() for m in compiled("people", "sign_off").finditer(text)})
    begun: list[int] = []
    for s in salutations:
        if not begun or any(begun[-1] < e < s for e in ends):
            begun.append(s)
    letters = []
    for s, following in zip(begun, [*begun[1:], len(text)]):
        inside = [e for e in ends if s < e < following]
        letters.append(_Letter(s, inside[-1] if inside else None))
    return letters


# ----------------------------------------------------------------------------------------- PDFs


def _pdf_starts(pages: list[Page]) -> list[int]:
    """The index (from 0) of each part's first page. A letter starts on the page of its salutation, or
    on a cover sheet just before it; pages of prose after a letter has signed off, and pages before
    the first letter, are parts of their own."""
    units = _Units.of([normalise_characters(p.text) for p in pages], "\n\n")
    letters = _letters(units.text)
    if len(letters) < 2:
        return []
    starts: list[int] = []
    ended = -1  # the page on which the letter before ended
    for letter in letters:
        page = units.at(letter.salutation)
        if page <= ended:  # on the page the letter before ends on: there is no page to part them at
            ended = max(ended, units.at(letter.end) if letter.end is not None else page)
            continue
        while page - 1 > ended and compiled("cover", "marker").search(units.texts[page - 1]):
            page -= 1
        if starts and ended >= 0:
            starts += _prose_after(units, ended, page)
        starts.append(page)
        ended = units.at(letter.end) if letter.end is not None else page
    if len(starts) > 1 and ended >= 0:
        starts += _prose_after(units, ended, len(pages))
    if starts and starts[0] > 0 and any(t.strip() for t in units.texts[: starts[0]]):
        starts.insert(0, 0)
    elif starts:
        starts[0] = 0
    return sorted(set(starts))


def _prose_after(units: _Units, ended: int, before: int) -> list[int]:
    """The first page after a letter's sign-off, before the next letter, that holds prose of its own
    (a report, a note): none of the letter's, whose signature, copy list and enclosures are short lines."""
    least = patterns()["letter"]["quoting_min_prose_chars"]
    return next(([page] for page in range(ended + 1, before) if prose_chars(units.texts[page]) >= least), [])


# ----------------------------------------------------------------------------------------- text files


def _text_starts(lines: list[str]) -> list[int]:
    """The index (from 0) of each part's first line: where each letter's header begins. What stands
    before the first letter is its own only when a page break or rule parts it from the letter."""
    clean = [normalise_characters(line.replace("\f", "").replace("\v", "")).strip() for line in lines]
    units = _Units.of(clean, "\n")
    letters = _letters(units.text)
    if len(letters) < 2:
        return []
    starts = [0]
    first = _after_separator(lines, clean, -1, units.at(letters[0].salutation))
    if first is not None and _matter_of_its_own(clean[:first]):
        starts.append(first)
    ended = units.at(letters[0].end) if letters[0].end is not None else units.at(letters[0].salutation)
    for letter in letters[1:]:
        starts.append(_header_start(lines, clean, ended, units.at(letter.salutation)))
        ended = units.at(letter.end) if letter.end is not None else units.at(letter.salutation)
    return sorted(set(starts))


def _matter_of_its_own(lines: list[str]) -> bool:
    """Whether the lines before a page break or rule above the first letter are a part of their own (a
    covering note, an index): not if blank, nor if only letterhead or cover sheet blocks."""
    blocks, block = [], []
    for line in [*lines, ""]:
        if line:
            block.append(line)
        elif block:
            blocks.append(block)
            block = []
    return any(not _letterhead_block(b) for b in blocks)


_DATES = ("day_month_year", "month_day_year", "numeric")
_LETTER_ENDS = (("segment", "copy_list"), ("segment", "enclosures"), ("people", "sign_off"))
_DATE_LINE_CHARS = 40


def _header_start(raw: list[str], clean: list[str], ended: int, salutation: int) -> int:
    """The first line of the header of the letter whose salutation is on line salutation, the letter
    before having ended on line ended: after the last page break or rule between them; else the date
    line, with the letterhead and cover blocks above it; else the address block above the salutation."""
    after = _after_separator(raw, clean, ended, salutation)
    if after is not None:
        return after
    date = next((i for i in range(salutation - 1, ended, -1) if _date_line(clean[i])), None)
    start = max(date if date is not None else _block_start(clean, salutation - 1, ended), ended + 1)
    while True:
        above = _previous_block(clean, start, ended)
        if above is None or not _letterhead_block(clean[above[0]:above[1]]):
            return start
        start = above[0]


def _after_separator(raw: list[str], clean: list[str], ended: int, salutation: int) -> int | None:
    """The first line of text after the last page break or rule between lines ended and salutation; None without one."""
    for i in range(salutation - 1, ended, -1):
        if _separator(raw[i]):
            # a page break before a line's text starts the page with that line ("\fAviation House")
            starts_page = "\f" in raw[i] and bool(raw[i].split("\f")[-1].strip())
            return _first_content(clean, i if starts_page else i + 1, salutation)
    return None


def _date_line(line: str) -> bool:
    """A line that is a letter's date: the date alone, or a short line holding one ("Date: 9 December 2009")."""
    if compiled("web", "date_line").match(line):
        return True
    return len(line) <= _DATE_LINE_CHARS and any(compiled("dates", key).search(line) for key in _DATES)


def _first_content(clean: list[str], start: int, limit: int) -> int:
    """The first line from start (before limit) that holds text."""
    return next((i for i in range(start, limit) if clean[i]), limit)


def _block_start(clean: list[str], i: int, ended: int) -> int:
    """The first line of the block of lines (no blank line among them) that holds line i."""
    while i > ended + 1 and i > 0 and not clean[i]:
        i -= 1
    while i - 1 > ended and clean[i - 1]:
        i -= 1
    return i


def _previous_block(clean: list[str], start: int, ended: int) -> tuple[int, int] | None:
    """The block of lines above the one starting on line start, if it comes after line ended."""
    end = start
    while end - 1 > ended and not clean[end - 1]:
        end -= 1
    if end - 1 <= ended:
        return None
    return _block_start(clean, end - 1, ended), end


def _letterhead_block(block: list[str]) -> bool:
    """Lines mostly a letterhead's (Ofsted, a postcode, numbers, addresses), or a cover sheet's; never
    the copy list, enclosures or sign-off of the letter before ("Copy to: Ofsted Regional Director")."""
    lines = [line for line in block if line]
    if any(compiled(*key).search(line) for line in lines for key in _LETTER_ENDS):
        return False
    if any(compiled("cover", "marker").search(line) for line in lines):
        return True
    heads = sum(bool(compiled("bundle", "letterhead_line").search(line)) for line in lines)
    return bool(lines) and 2 * heads >= len(lines)


# ----------------------------------------------------------------------------------------- parts


def _part_document(document: SourceDocument, lines: list[str] | None, start: int, end: int | None) -> SourceDocument:
    """The part of the file from unit start to unit end (exclusive; None: the end), as a document of its
    own: its lines of a text file, or its pages of a PDF with their running heads dropped anew."""
    if lines is not None:
        own = lines[start:end]
        while own and _between_letters(own[-1]):  # a rule or page break before the next letter is neither's
            own.pop()
        return replace(document, pages=[replace(document.pages[0], text="\n".join(own))], pages_as_read=[])
    if not document.pages_as_read:  # a salvaged PDF: its pages as they are
        pages = document.pages[start:end]
    else:
        pages = _without_running_heads(document.pages_as_read[start:end])
    return replace(document, source_format=pdf_source_format(pages), pages=pages, pages_as_read=[])


def _between_letters(line: str) -> bool:
    """A blank line, a rule or a form feed alone on its line: what parts two letters of a text file."""
    rest = line.replace("\f", "").strip()
    return not rest or compiled("bundle", "rule").search(rest) is not None


@lru_cache(maxsize=1)
def _page_mark() -> regex.Pattern:
    return regex.compile("|".join(f"(?:{p})" for p in patterns()["normalise"]["page_marks"]), regex.IGNORECASE)


def _separator(line: str) -> bool:
    """A page break in a text file: a form feed, a rule standing alone, a page number line."""
    return compiled("bundle", "rule").search(line) is not None or _page_mark().match(line) is not None


def _without_running_heads(pages: list[Page]) -> list[Page]:
    """A letter's pages with the heads, footers and page numbers that repeat on them dropped, as in a
    file of its own (its first page counted as page 1), keeping the file's page numbers."""
    dropped = drop_running_furniture([replace(p, number=k) for k, p in enumerate(pages, start=1)])
    return [replace(d, number=p.number) for d, p in zip(dropped, pages)]
