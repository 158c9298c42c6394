"""Split a letter into header, preamble, scale_table, rating, narrative, improvements and closing, and
the document around it into furniture (a web page's), wrapper (an e-mail's) and cover (a cover sheet).

The parts are found from anchors every letter of the family has (the salutation, the scale
rows, the rating line, the statutory closing paragraph), not from line counts, so the order
of paragraphs and the letterhead's shape do not matter.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import regex

from pipeline.config import compiled, patterns
from pipeline.records import Segment

_FIRST_LINE = regex.compile(r"\s*(.*)")

SEGMENT_ORDER = ["furniture", "wrapper", "cover", "header", "preamble", "scale_table", "rating", "narrative", "improvements", "closing", "copies", "enclosures"]

# One row of the scale: score (which OCR may lose or garble), label, description. Written to survive
# run-together cells, OCR'd borders ("|") and a description lost to the scanner.
SCALE_ROW = regex.compile(
    r"^[ \t\"'|]*(?:(?P<score>[1-4lI|])[.,)]?|[^\t\n]{0,4}?)[ \t|]*"
    r"(?P<label>(?:performs){e<=2}[ \t]*(?P<verb>(?:excellently){e<=2}|(?:well){e<=1}|(?:adequately){e<=2}|(?:poorly){e<=1}))"
    r"(?:[ \t|:;,_~-]*(?:\t|\s{2,}|[ \t|:;,_~-](?=An)|[ \t]+(?=an\s))[ \t|:;,_~-]*(?P<description>(?:an\s+)?organisation\s+that\s.*?))?[ \t|:;,_~-]*$",
    regex.IGNORECASE | regex.MULTILINE,
)


@dataclass
class Anchors:
    """Where the landmarks of a letter stand; -1 where one is missing."""

    header_end: int = -1
    scale_start: int = -1
    scale_end: int = -1
    rating_start: int = -1
    rating_end: int = -1
    improvements_start: int = -1
    closing_start: int = -1
    # where no rating line could be read (a scan lost it), the narrative starts at the paragraph saying
    # "Children's services in X perform ...", so its statistics are still read
    narrative_start: int = -1


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def _paragraph_start(text: str, pos: int) -> int:
    start = text.rfind("\n\n", 0, pos)
    return 0 if start < 0 else start + 2


SENTENCE_END = regex.compile(r"[.!?][\"'\u2019)]?\s+(?=[\"'\u2018(]?\p{Lu})")


def _sentence_start(text: str, pos: int) -> int:
    """Where the sentence holding pos begins, never before its paragraph: a paragraph break the
    reader could not see must not pull the judgements before it into the closing."""
    start = _paragraph_start(text, pos)
    ends = list(SENTENCE_END.finditer(text, start, pos))
    return ends[-1].end() if ends else start


def rating_values_apart(text: str, start: int = 0) -> list[regex.Match]:
    """The lines after start that are a rating value and nothing else ("Performs well (3)", a speck or two
    after it): a scan's rating cell read apart from its heading, or a second rating a letter gives."""
    return list(_standalone_value().finditer(text, start))


def rating_value_score(match: regex.Match) -> int:
    """The score of a rating value as written, OCR's letters for a 1 read as 1."""
    return int(match["score"].translate(_OCR_ONE))


_OCR_ONE = str.maketrans({"l": "1", "I": "1", "|": "1"})


@lru_cache(maxsize=1)
def _standalone_value() -> regex.Pattern:
    value = patterns()["segment"]["rating_value"]
    return regex.compile(rf"^[^\S\n]*{value}[^\n\p{{L}}]{{0,12}}(?:\p{{Ll}}{{1,2}}[^\n\p{{L}}]{{0,6}})*$", regex.IGNORECASE | regex.MULTILINE)


def find_scale_rows(text: str) -> list[regex.Match]:
    """The rows of the scale table, in order; empty when the letter has no recognisable scale."""
    rows = list(SCALE_ROW.finditer(text))
    if not rows:
        return []
    # keep the first run of rows that stand together (one table)
    run = [rows[0]]
    for row in rows[1:]:
        between = text[run[-1].end():row.start()].strip()
        # rows stand together, or are parted by one short line (a wrapped or damaged cell)
        if not between or (len(between) < 80 and "\n" not in between and not between.endswith(".")):
            run.append(row)
        else:
            break
    return run


def find_letter_bounds(text: str) -> tuple[int, int]:
    """Where the letter stands inside a copied web page: after the site's own lines (breadcrumb,
    "Published" date, download links) that come before the letter's date line, and before the site
    lines (feedback, contact numbers, copyright) that follow the signature. (0, len(text)) when the
    text is only the letter."""
    start, end = 0, len(text)
    salutation = compiled("segment", "salutation").search(text)
    if salutation:
        site = [m for m in compiled("web", "site_before").finditer(text, 0, salutation.start())]
        if site:
            dates = [m for m in compiled("web", "date_line").finditer(text, site[-1].end(), salutation.start())]
            if dates:
                start = _line_end(text, site[-1].end())
    closing = compiled("segment", "closing").search(text, salutation.end() if salutation else 0)
    if closing:
        sign_off = compiled("people", "sign_off").search(text, closing.end())
        after = sign_off.end() if sign_off else _line_end(text, closing.end())
        site_after = compiled("web", "site_after").search(text, after)
        if site_after:
            end = site_after.start()
    return start, end


def find_cover_end(text: str, start: int = 0) -> int:
    """Where a covering note or cover sheet sent before the letter ends (its "Date sent", "To:" and page
    count are not the letter's), or start when there is none. Only text before the salutation is looked at."""
    salutation = compiled("segment", "salutation").search(text, start)
    limit = salutation.start() if salutation else min(len(text), start + 3000)
    markers = list(compiled("cover", "marker").finditer(text, start, limit))
    if not markers:
        return start
    end = text.find("\n\n", markers[-1].end(), limit)
    if end < 0:
        return _line_end(text, markers[-1].end())
    following = text.find("\n\n", end + 2, limit)
    paragraph_end = following if following >= 0 else end
    if compiled("cover", "note").search(text, end, paragraph_end):
        end = paragraph_end
    return end


def _body_start(text: str, start: int) -> int:
    """Where the letter's body shows itself: its rating heading or line, scale table, subject line or
    "perform" sentence, whichever comes first; the end of the text when none does."""
    found = [m.start() for m in (compiled("segment", key).search(text, start) for key in ("rating_heading", "rating_line", "subject_line", "perform_sentence")) if m]
    rows = find_scale_rows(text[start:])
    found += [start + rows[0].start()] if rows else []
    return min(found, default=len(text))


def _email_headers(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The e-mail header blocks between start and end, as (start, end): runs of header lines ("From:",
    "Sent:", "To:", "Subject:") with a Subject, or a From and its date; a To/From/"Date sent" cover sheet is no e-mail."""
    rules = patterns()["wrapper"]
    blocks: list[tuple[int, int, set[str]]] = []
    for line in compiled("wrapper", "header").finditer(text, start, end):
        key = line["key"].lower()
        if blocks and text[blocks[-1][1]:line.start()].strip() == "":
            first, _, keys = blocks[-1]
            blocks[-1] = (first, line.end(), keys | {key})
        else:
            blocks.append((line.start(), line.end(), {key}))
    return [(a, b) for a, b, keys in blocks
            if len(keys) >= 2 and (keys & set(rules["header_keys"]) or any(set(pair) <= keys for pair in rules["header_pairs"]))]


def find_wrapper_end(text: str, start: int = 0) -> int:
    """Where the e-mail a letter was forwarded in ends and the letter begins: after the last header block or
    forwarding line ("-----Original Message-----", "... wrote:") before the letter's body; start when the
    letter came in no e-mail. The forwarder's note and its "Dear all" lie inside the wrapper."""
    limit = _body_start(text, start)
    ends = [b for _, b in _email_headers(text, start, limit)]
    ends += [m.end() for m in compiled("wrapper", "separator").finditer(text, start, limit)]
    return max(ends, default=start)


def find_wrapper_tail(text: str, start: int, end: int) -> int:
    """Where the e-mail's own lines after the letter begin ("Sent from my iPhone", a signature separator, a
    disclaimer), looked for after the letter's sign-off; end when there are none."""
    closing = compiled("segment", "closing").search(text, start, end)
    if closing is None:
        return end
    sign_offs = list(compiled("people", "sign_off").finditer(text, closing.start(), end))
    footer = compiled("wrapper", "footer").search(text, sign_offs[-1].end() if sign_offs else _line_end(text, closing.end()), end)
    return footer.start() if footer else end


def find_anchors(text: str, start: int = 0) -> Anchors:
    a = Anchors()
    salutation = compiled("segment", "salutation").search(text, start)
    subject = compiled("segment", "subject_line").search(text)
    if salutation:
        a.header_end = salutation.end()
        after = text[salutation.end():salutation.end() + 200]
        first_line = _FIRST_LINE.match(after)
        if subject and subject.start() >= salutation.end() and first_line and subject.start() <= salutation.end() + first_line.end():
            a.header_end = subject.end()
    elif subject:
        a.header_end = subject.end()

    rows = find_scale_rows(text)
    if rows:
        a.scale_start, a.scale_end = rows[0].start(), rows[-1].end()

    search_from = max(a.header_end, 0)
    rating_line = compiled("segment", "rating_line").search(text, search_from)
    heading = compiled("segment", "rating_heading").search(text, search_from)
    if rating_line:
        a.rating_end = rating_line.end()
        a.rating_start = rating_line.start()
        if heading and heading.start() < rating_line.start() and rating_line.start() - heading.end() < 200:
            a.rating_start = heading.start()
    elif heading:
        a.rating_start, a.rating_end = heading.start(), heading.end()
        loose = compiled("segment", "rating_value").search(text, heading.end(), heading.end() + 300)
        if loose:
            a.rating_end = loose.end()

    body_from = max(a.rating_end, a.scale_end, a.header_end, 0)
    closing = compiled("segment", "closing").search(text, body_from)
    if closing:
        a.closing_start = _sentence_start(text, closing.start())
    if a.rating_start < 0:
        perform = compiled("segment", "perform_sentence").search(text, body_from, a.closing_start if a.closing_start > 0 else len(text))
        if perform:
            a.narrative_start = text.rfind("\n\n", body_from, perform.start()) + 1 or perform.start()
            a.narrative_start = max(a.narrative_start, body_from)
    improvements = compiled("segment", "improvements").search(text, body_from, a.closing_start if a.closing_start > 0 else len(text))
    if improvements and (a.rating_end >= 0 or a.narrative_start >= 0):
        a.improvements_start = improvements.start()
    return a


def after_signature(text: str, closing_start: int, end: int) -> list[tuple[str, int, int]]:
    """The copy list ("cc:", "Copy to:") and enclosures ("Enc.") that follow a letter's sign-off, as
    (segment name, start, end): each runs to the next one or to the end of the letter. They are looked
    for after the sign-off ("Yours sincerely"), or failing one after the closing sentence's line, so a
    line of the closing paragraph is never taken for one."""
    sign_offs = list(compiled("people", "sign_off").finditer(text, closing_start, end))
    search_from = sign_offs[-1].end() if sign_offs else _line_end(text, closing_start)
    found = sorted(
        [("copies", m.start()) for m in compiled("segment", "copy_list").finditer(text, search_from, end)]
        + [("enclosures", m.start()) for m in compiled("segment", "enclosures").finditer(text, search_from, end)],
        key=lambda item: item[1],
    )
    return [(name, start, found[i + 1][1] if i + 1 < len(found) else end) for i, (name, start) in enumerate(found)]


def _span(text: str, name: str, start: int, end: int) -> Segment | None:
    """A segment with surrounding white space trimmed off; None when nothing is left."""
    if start < 0 or end <= start:
        return None
    chunk = text[start:end]
    lead = len(chunk) - len(chunk.lstrip())
    trail = len(chunk) - len(chunk.rstrip())
    start, end = start + lead, end - trail
    if end <= start:
        return None
    return Segment(name, start, end, text[start:end])


def segment_letter(text: str) -> list[Segment]:
    """The letter's parts in reading order; a part the letter lacks is left out.

    A preamble split by the scale table (lead-in sentence before or after it) gives two
    `preamble` rows.
    """
    letter_start, site_end = find_letter_bounds(text)
    wrapper_end = find_wrapper_end(text[:site_end], letter_start)
    letter_end = find_wrapper_tail(text, wrapper_end, site_end)
    cover_end = find_cover_end(text[:letter_end], wrapper_end)
    a = find_anchors(text[:letter_end], cover_end)
    if a.rating_start < 0 and a.scale_start < 0 and a.closing_start < 0:
        return []
    segments: list[Segment | None] = [_span(text, "furniture", 0, letter_start), _span(text, "wrapper", letter_start, wrapper_end),
                                      _span(text, "cover", wrapper_end, cover_end)]
    letter_start = cover_end
    header_end = max(a.header_end, letter_start)
    segments.append(_span(text, "header", letter_start, header_end))
    preamble_end = next((p for p in (a.rating_start, a.narrative_start, a.closing_start) if p >= 0), letter_end)
    if a.scale_start >= header_end and a.scale_end <= preamble_end:
        segments.append(_span(text, "preamble", header_end, a.scale_start))
        segments.append(_span(text, "scale_table", a.scale_start, a.scale_end))
        segments.append(_span(text, "preamble", a.scale_end, preamble_end))
    else:
        segments.append(_span(text, "preamble", header_end, preamble_end))
    narrative_start = a.rating_end if a.rating_start >= 0 else a.narrative_start
    if a.rating_start >= 0:
        segments.append(_span(text, "rating", a.rating_start, a.rating_end))
    if narrative_start >= 0:
        narrative_end = next((p for p in (a.improvements_start, a.closing_start) if p >= 0), letter_end)
        segments.append(_span(text, "narrative", narrative_start, narrative_end))
        if a.improvements_start >= 0:
            segments.append(_span(text, "improvements", a.improvements_start, a.closing_start if a.closing_start >= 0 else letter_end))
    if a.closing_start >= 0:
        after = after_signature(text, a.closing_start, letter_end)
        segments.append(_span(text, "closing", a.closing_start, after[0][1] if after else letter_end))
        segments += [_span(text, name, start, end) for name, start, end in after]
    segments.append(_span(text, "wrapper", letter_end, site_end))
    segments.append(_span(text, "furniture", site_end, len(text)))
    return [s for s in segments if s is not None]


def segment_text(segments: list[Segment], name: str) -> list[Segment]:
    return [s for s in segments if s.segment == name]
