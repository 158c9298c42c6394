"""Normalise what text extraction leaves behind into one clean text per letter.

Every offset the pipeline reports points into the text this stage returns, so it runs
before anything else looks at the letter.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

import regex

from pipeline.config import alternation, compiled, patterns
from pipeline.read.ocr_dump import OCR_DUMP_METHOD, clear_line_specks
from pipeline.read.wrappers import unquote
from pipeline.records import LetterText, Quoting, SourceDocument

_CHARACTERS = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
        "\u2013": "-", "\u2014": "-", "\u2012": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
        "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ", "\u200a": " ", "\u3000": " ",
        "\u00ad": None, "\u200b": None, "\u200c": None, "\u200d": None, "\ufeff": None,
        "\u2022": "-", "\u25cf": "-", "\u25aa": "-", "\uf0b7": "-", "\u2026": "...",
        "\r": None, "\f": "\n\n", "\v": "\n",
        # ligatures
        "\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st",
    }
)
_HYPHEN_BREAK = regex.compile(r"(?<=\p{Ll})-\n(?=\p{Ll})")
_SPACES = regex.compile(r"[ \p{Zs}]{2,}")
_TRAILING = regex.compile(r"[ \t]+$", regex.MULTILINE)
_LEADING = regex.compile(r"^[ ]+", regex.MULTILINE)
_BLANK_RUNS = regex.compile(r"\n{3,}")
_WRAPPED_CELL = regex.compile(r"^([^\n]*\t[^\n]*[\p{L},])\n(\p{Ll}[^\n\t.]{0,30})$", regex.MULTILINE)
# Words that stay hyphenated when a line break falls after their hyphen.
_KEEP_HYPHEN = {"sixth", "non", "well", "self", "cross", "multi", "under", "over", "long", "short", "full", "part", "co", "pre", "post", "low", "high", "above", "below", "one", "two", "three", "four", "five"}


# some PDF producers write a word's hyphen as U+FFFE, often with the line break after it ("Forty\ufffe one",
# "Re\ufffe referrals"): the hyphen of a compound word, so the word is joined with a hyphen
_BROKEN_HYPHEN = regex.compile(r"(?<=\p{L})\ufffe[ \t]*\n?[ \t]*(?=\p{L})")


def normalise_characters(text: str) -> str:
    """Straighten quotes and dashes, expand ligatures, drop invisible characters."""
    if "\ufffe" in text:
        text = _BROKEN_HYPHEN.sub("-", text).replace("\ufffe", "")
    text = text.translate(_CHARACTERS)  # "\r\n" becomes "\n": the table drops "\r"
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def _join_hyphenation(text: str) -> str:
    def join(match: regex.Match) -> str:
        word = _WORD_AT_END.search(text[: match.start()])
        return "-" if word and word.group().lower() in _KEEP_HYPHEN else ""

    return _HYPHEN_BREAK.sub(join, text)


@lru_cache(maxsize=1)
def _glued_scale_row() -> regex.Pattern:
    labels = alternation(patterns()["scale"]["labels"])
    return regex.compile(
        rf"(?<![\d.])(?P<score>[1-4])[ \t]*(?P<label>{labels})[ \t]*(?P<desc>An\s+organisation\s+that\s.*?requirements)(?=\s*[1-4]?\s*(?:{labels})|\s*$)",
        regex.IGNORECASE | regex.MULTILINE,
    )


@lru_cache(maxsize=1)
def _line_rules() -> tuple[regex.Pattern, regex.Pattern]:
    """The page-mark and furniture rules as one alternation whose named group says which kind of line
    matched (the browser's margin lines are both), and the furniture-only rules on their own."""
    rules = patterns()["normalise"]
    margin, marks, furniture = rules["browser_furniture"], rules["page_marks"], rules["furniture"]
    groups = {
        "margin": margin,
        "both": [p for p in marks if p in furniture],
        "mark": [p for p in marks if p not in furniture],
        "furniture": [p for p in furniture if p not in marks],
    }
    combined = "|".join(f"(?P<{name}>{'|'.join(f'(?:{p})' for p in group)})" for name, group in groups.items() if group)
    furniture_only = "|".join(f"(?:{p})" for p in groups["furniture"]) or "(?!)"
    return regex.compile(combined, regex.IGNORECASE), regex.compile(furniture_only, regex.IGNORECASE)


@lru_cache(maxsize=8192)
def _line_kind(line: str) -> tuple[bool, bool]:
    """Whether a line is a page mark, and whether it is furniture; each line is matched once, since
    both page-break removal and furniture removal ask of every line (and footers repeat from letter
    to letter)."""
    rule, furniture_only = _line_rules()
    match = rule.match(line)
    kind = match.lastgroup if match else None
    mark = kind in ("margin", "both", "mark")
    furniture = kind in ("margin", "both", "furniture") or (kind == "mark" and furniture_only.match(line) is not None)
    return mark, furniture


def _is_page_mark(line: str) -> bool:
    return _line_kind(line)[0]


_SENTENCE_GOES_ON = regex.compile(r"[\p{L}\d,;)'\"]$|\p{Ll}-$")
_CONTINUATION = regex.compile(r"^[\p{Ll}\d(]")
_PUNCTUATION_AT_END = regex.compile(r"[.,;:!?]$")


def remove_page_breaks(text: str) -> str:
    """Take out the page breaks of a text export, wherever they fall: the page number line, a browser's
    URL-and-timestamp line, and the running title standing alone beside them, with the blank lines
    around. A sentence the break cut is joined again, and a word hyphenated across it made whole."""
    lines = text.split("\n")
    anchors = [i for i, ln in enumerate(lines) if ln.strip() and _is_page_mark(ln)]
    if not anchors:
        return text
    drop: set[int] = set()
    joins: list[tuple[int, int]] = []
    for i in anchors:
        if i in drop:
            continue
        top, bottom = i, i
        while True:
            grown = False
            for step in (-1, 1):
                edge = top if step < 0 else bottom
                k = edge + step
                while 0 <= k < len(lines) and not lines[k].strip():
                    k += step
                if not 0 <= k < len(lines):
                    continue
                # a lone line beside a break is a running title only between two pages, not at the
                # letter's very end (a signature) or start (a letterhead)
                beyond = lines[:k] if step < 0 else lines[k + 1:]
                other_side = lines[bottom + 1:] if step < 0 else lines[:top]
                between = any(ln.strip() for ln in beyond) and any(ln.strip() for ln in other_side)
                if _is_page_mark(lines[k]) or (between and _running_line(lines, k, step)):
                    top, bottom = (k, bottom) if step < 0 else (top, k)
                    grown = True
            if not grown:
                break
        while top > 0 and not lines[top - 1].strip():
            top -= 1
        while bottom + 1 < len(lines) and not lines[bottom + 1].strip():
            bottom += 1
        drop.update(range(top, bottom + 1))
        joins.append((top, bottom))
    out: list[str] = []
    k = 0
    for top, bottom in sorted(joins):
        out.extend(lines[k:top])
        after = bottom + 1
        before = out[-1] if out else ""
        if after < len(lines) and before and _SENTENCE_GOES_ON.search(before) and _CONTINUATION.match(lines[after]):
            word = _WORD_AT_END.search(before[:-1]) if before.endswith("-") else None
            if word and word.group().lower() not in _KEEP_HYPHEN:
                out[-1] = before[:-1] + lines[after]
            else:
                out[-1] = before + ("" if before.endswith("-") else " ") + lines[after]
            k = after + 1
        else:
            if out:
                out.extend(["", ""] if after < len(lines) else [])
            k = after
    out.extend(lines[k:])
    return "\n".join(out)


def _running_line(lines: list[str], k: int, step: int) -> bool:
    """A running title beside a page number: a short line standing alone (blank on its far side), not
    prose: it neither ends in punctuation nor starts in lower case."""
    line = lines[k].strip()
    far = k + step
    alone = not (0 <= far < len(lines)) or not lines[far].strip()
    return (alone and len(line) <= 100 and not _PUNCTUATION_AT_END.search(line) and not line.endswith("-")
            and not _CONTINUATION.match(line) and not _is_heading(line))


_LIST_ITEM = regex.compile(r"\s*([-*]|\d+[.)])\s")
_LINE = regex.compile(r"^.*$", regex.MULTILINE)
_WORD_AT_END = regex.compile(r"\p{L}+$")
# a page that ends mid-sentence and a next page that starts in lower case
_RUNS_ON = regex.compile(r"[\p{L},;]$")
_LOWER_START = regex.compile(r"\p{Ll}")


def split_scale_cells(text: str) -> str:
    """Put a scale table whose cells ran together back into one row per line, cells tab-separated.

    PDF-to-text tools often glue the table into "4Performs excellentlyAn organisation...3Performs well...".
    """
    row = _glued_scale_row()

    def fix_line(line_match: regex.Match) -> str:
        line = line_match.group()
        rows = list(row.finditer(line))
        # one row to a line, its cells glued ("3Performs wellAn organisation that ..."), as a web copy gives it
        whole_row = len(rows) == 1 and rows[0].start() == 0 and rows[0].end() == len(line.rstrip())
        if (len(rows) < 2 and not whole_row) or "\t" in line:
            return line
        return "\n".join(f"{m['score']}\t{m['label']}\t{m['desc']}" for m in rows)

    return _LINE.sub(fix_line, text)


def _is_heading(line: str) -> bool:
    """Lines that stand alone in every letter: the rating heading, subject line, list heading, sign-off; and
    the header lines of an e-mail around a forwarded letter ("Date: ...", "To: ...")."""
    return any(compiled(section, key).match(line) for section, key in (("segment", "rating_heading"), ("segment", "subject_line"), ("segment", "improvements"),
                                                                      ("people", "sign_off"), ("wrapper", "header")))


def _unwrap(text: str) -> str:
    """Join the hard-wrapped lines of prose paragraphs; keep address blocks, table rows and headings as lines."""
    out: list[str] = []
    for block in text.split("\n\n"):
        lines = block.split("\n")
        if len(lines) < 2 or any("\t" in ln for ln in lines):
            out.append(block)
            continue
        long_lines = sum(len(ln) >= 55 for ln in lines[:-1])
        if long_lines < max(1, (len(lines) - 1) // 2):
            out.append(block)
            continue
        joined = lines[0]
        for prev, line in zip(lines, lines[1:]):
            wrapped = len(prev) >= 40 and not _LIST_ITEM.match(line) and not _is_heading(line)
            joined += (" " if wrapped else "\n") + line
        out.append(joined)
    return "\n\n".join(out)


def _drop_furniture(text: str) -> str:
    return "\n".join(ln for ln in text.split("\n") if not _line_kind(ln)[1])


def normalise_text(text: str) -> str:
    """One page of extracted text, normalised."""
    text = normalise_characters(text)
    text = _TRAILING.sub("", text)
    text = _LEADING.sub("", text)
    text = _SPACES.sub(" ", text)
    text = remove_page_breaks(text)
    text = _drop_furniture(text)
    text = _join_hyphenation(text)
    text = split_scale_cells(text)
    # a table row whose last cell wrapped onto a short line of its own ("minimum\nrequirements")
    text = _WRAPPED_CELL.sub(r"\1 \2", text)
    text = _BLANK_RUNS.sub("\n\n", text)
    text = _unwrap(text)
    return text.strip("\n ")


# what is stripped off a word's ends before it is looked up (OCR confidences, vocabularies)
WORD_EDGES = ".,;:!?()[]{}\"'`\u00b4|"

# a scanner's speck read as punctuation standing alone between two words ("has . evaluated")
_OCR_SPECK = regex.compile(r"(?<=\p{Ll}) [.,:;'`\u00b4~] (?=\p{Ll})")
# the same speck at the end of a line whose sentence goes on, in lower case, on the next
_OCR_SPECK_AT_LINE_END = regex.compile(r"(?<=\p{Ll}) [.,:;'`\u00b4~](?=\n\p{Ll})")
# a space OCR read as a full stop between two words ("secondary schools.are well regarded");
# web and e-mail addresses ("www.ofsted.gov.uk", "enquiries@ofsted.gov.uk") have more than one part
_OCR_GLUED_STOP = regex.compile(r"(?<![\w.@/])(\p{L}+'s|\p{Ll}{2,}|\d+)\.(?!(?:uk|com|org|net|gov)\b)(\p{Ll}{2,}|(?:19|20)\d\d)(?![\w.@/])")
# a speck read as a full stop at the end of a word, where the sentence goes on in lower case ("secondary schools. are good")
_OCR_STOP_BEFORE_LOWER = regex.compile(r"(?<=\p{Ll}{2})\.(?= \p{Ll}{2})")
# a number OCR glued to the "of" after it ("4of the 5 nursery schools")
_OCR_GLUED_OF = regex.compile(r"(?<![\w.,])(\d+)(?=of\b)")
# an apostrophe OCR read in place of the space between two words ("Divisional'Manager"); not O'Connor
_OCR_GLUED_APOSTROPHE = regex.compile(r"(?<=\p{Ll}{2})'(?=\p{Lu}\p{Ll})")
# a first name and surname OCR read without the space between them ("AlanMercer"); not a name whose
# prefix is capitalised inside it ("MacLeod", "McDonald", "DeVries")
_OCR_GLUED_NAME = regex.compile(r"\b(?!(?:Mac|Mc|Fitz|De|Di|Da|Du|La|Le|Van|Von)\p{Lu})(\p{Lu}\p{Ll}{2,})(\p{Lu}\p{Ll}{2,})\b")
# a speck read as an apostrophe after a capitalised word, before the next ("Plymouth City' Council"); a
# plural possessive ("Parents' Council") ends in s
_OCR_SPECK_APOSTROPHE = regex.compile(r"(?<=\b\p{Lu}\p{Ll}+(?<!s))'(?= \p{Lu}\p{Ll})")


def repair_ocr_specks(text: str) -> str:
    """Undo what scanner specks do to an OCR'd page: lone marks between words or at a line's end
    where the sentence goes on, and full stops read in place of a space."""
    text = _OCR_SPECK_AT_LINE_END.sub("", _OCR_SPECK.sub(" ", text))
    text = _OCR_GLUED_APOSTROPHE.sub(" ", text)
    text = _OCR_SPECK_APOSTROPHE.sub("", text)
    text = _OCR_GLUED_NAME.sub(r"\1 \2", text)
    text = _OCR_GLUED_OF.sub(r"\1 ", text)
    text = _OCR_STOP_BEFORE_LOWER.sub("", text)
    return _OCR_GLUED_STOP.sub(r"\1 \2", text)


def normalise_document(document: SourceDocument) -> LetterText:
    """All pages normalised and joined by a blank line, remembering where each page starts. The quoting
    prefixes of a forwarded letter are taken off first (not on a scan's page: OCR reads table borders as bars)."""
    starts: list[int] = []
    image_spans: list[tuple[int, int]] = []
    text = ""
    quotings: list[Quoting] = []
    for page in document.pages:
        page_text = page.text
        if page.method == OCR_DUMP_METHOD:
            page_text = clear_line_specks(page_text)
        elif not page.method.startswith("ocr"):
            unquoted = unquote(page_text)
            page_text = unquoted.text
            quotings += [unquoted.quoting] if unquoted.quoting else []
        page_text = normalise_text(page_text)
        if page.method.startswith("ocr"):
            page_text = repair_ocr_specks(page_text)
        if text:
            # a sentence running over the page break stays one paragraph, a word hyphenated over it one word
            word = _WORD_AT_END.search(text[:-1]) if text.endswith("-") else None
            if word and _LOWER_START.match(page_text) and word.group().lower() not in _KEEP_HYPHEN:
                text = text[:-1]
            else:
                text += "\n" if _RUNS_ON.search(text) and _LOWER_START.match(page_text) else "\n\n"
        starts.append(len(text))
        image_spans.extend((len(text) + a, len(text) + b) for a, b in _spans_of(normalise_text(page.image_text), page_text))
        text += page_text
    return LetterText(
        text=text,
        page_starts=starts or [0],
        page_methods=[p.method for p in document.pages] or ["text"],
        page_confidences=[p.ocr_confidence for p in document.pages] or [None],
        page_word_confidences=[p.word_confidences for p in document.pages] or [{}],
        image_spans=image_spans,
        encoding=document.encoding,
        quoting=_deepest(quotings),
    )


def _deepest(quotings: list[Quoting]) -> Quoting | None:
    """The pages' quoting as one: the deepest prefix, every quoted line."""
    if not quotings:
        return None
    deepest = max(quotings, key=lambda q: (sum(ch in ">|" for ch in q.prefix), q.lines)).prefix
    return Quoting(deepest, sum(q.lines for q in quotings))


def _spans_of(part: str, text: str) -> list[tuple[int, int]]:
    """Where each line of part stands in text (both normalised), found in order."""
    spans, at = [], 0
    for line in filter(None, (ln.strip() for ln in part.split("\n"))):
        found = text.find(line, at)
        if found >= 0:
            spans.append((found, found + len(line)))
            at = found + len(line)
    return spans
