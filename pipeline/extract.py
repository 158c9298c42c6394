"""Extract the letter's values from its segments: authority, date, rating, scale, people, statistics.

Every value comes back as a FieldValue that says where in the normalised text it was found
and how, so the dataset can show its provenance.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from functools import lru_cache

import regex
from rapidfuzz import fuzz, process

from pipeline.config import compiled, patterns, vocab
from pipeline.gazetteer import AuthorityMatch, find_authorities, fuzzy_find_authority
from pipeline.nlp import load_pipeline
from pipeline.parse import load_parser
from pipeline.normalise import WORD_EDGES
from pipeline.quantities import QuantityGrammar
from pipeline.records import FieldValue, LetterRecord, NumberSpan, ScaleRow, Segment, Statistic
from pipeline.read.reread import disputed_word, method_suffix, notes_for, other_reading
from pipeline.segment import find_scale_rows, rating_value_score, rating_values_apart
from pipeline.structure import StructureReading, compare_reading, parse_for_structure, read_structure, settled_rules, unread_statistic

_MONTHS = {m[:3]: i for i, m in enumerate(patterns()["dates"]["months"], start=1)}
_OCR_DIGITS = str.maketrans({"l": "1", "I": "1", "|": "1", "O": "0", "o": "0"})
# letters OCR reads in place of a postcode's digits
_OCR_POSTCODE_DIGITS = str.maketrans("IlO|oSBZG", "110015826")
_SPACES = regex.compile(r"\s+")
_YEAR = regex.compile(r"\b(19|20)\d\d\b")
# the first line of words: not a mark a scan left before it (".\nMr A Person")
_FIRST_LINE = regex.compile(r"[^\s\p{P}\p{S}].*")
_SALUTATION_SURNAME = regex.compile(r"dear\s+(?:\S+\s+)?(?P<surname>[\p{Lu}][\p{L}'\-]+)\s*[,:;.]?\s*$", regex.IGNORECASE)
_AUTHORITY_FORM_WORD = regex.compile(r"council|borough|county|city\s+of|metropolitan|royal", regex.IGNORECASE)
_INITIAL_AT_END = regex.compile(r"\b\p{Lu}\.$")
_CONTACT_DETAIL = regex.compile(r"[\d@]|www\.")
_TRAILING_LINK_WORDS = regex.compile(r"(?:\s+(?:of|for|the|and|in|to))+$", regex.IGNORECASE)
# the grammar's own number words, so a statistic's OCR doubt looks at the words the finder read as numbers
_QUANTITIES = QuantityGrammar(vocab()["numbers"])
_NAME_WORD = regex.compile(r"[\p{Lu}][\p{L}'\-.]*$")
_LOWER_WORD = regex.compile(r"(?<![\p{L}'])\p{Ll}{2,}")


def _segments(segments: list[Segment], name: str) -> list[Segment]:
    return [s for s in segments if s.segment == name]


def _first(segments: list[Segment], name: str) -> Segment | None:
    found = _segments(segments, name)
    return found[0] if found else None


def parse_date(text: str) -> tuple[dt.date, int, int] | None:
    """The first date written in text, read as British day/month, with its offsets."""
    best: tuple[dt.date, int, int] | None = None
    for key in ("day_month_year", "month_day_year", "numeric", "iso"):
        for m in compiled("dates", key).finditer(text):
            month = m["month"]
            month_no = int(month) if month.isdigit() else _MONTHS.get(month[:3].lower())
            try:
                date = dt.date(int(m["year"]), month_no or 0, int(m["day"]))
            except (TypeError, ValueError):
                continue
            if best is None or m.start() < best[1]:
                best = (date, m.start(), m.end())
            break
    return best


def letter_date_in(text: str) -> tuple[dt.date, int, int] | None:
    """The letter's own date in its header: the first date not on a line that dates the copy rather
    than the letter ("Published: 19 December 2009", "Last updated ...")."""
    not_letter = compiled("dates", "not_letter_date")
    pos = 0
    while pos < len(text):
        found = parse_date(text[pos:])
        if found is None:
            return None
        date, s, e = found
        line_start = text.rfind("\n", 0, pos + s) + 1
        if not not_letter.search(text, line_start, pos + s):
            return date, pos + s, pos + e
        pos += e
    return None


def extract_date(record: LetterRecord, text: str, segments: list[Segment]) -> None:
    header = _first(segments, "header")
    start, end = (header.start, header.end) if header else (0, min(len(text), 1500))
    found = letter_date_in(text[start:end])
    if found is None:
        if _YEAR.search(text[start:end]):
            record.flag("letter_date: a date is written in the header but could not be read")
        return
    date, s, e = found
    record.set(FieldValue("letter_date", date.isoformat(), start + s, start + e, method="regex", confidence=1.0))


def extract_scale(record: LetterRecord, text: str, segments: list[Segment] | None = None) -> None:
    labels = patterns()["scale"]["labels"]
    scores = patterns()["scale"]["scores"]
    # the rows were found once to place the scale_table segment: read them there, not in the whole letter
    table = _segments(segments or [], "scale_table")
    offset = table[0].start if table else 0
    for row in find_scale_rows(table[0].text if table else text):
        label, score_label = _canonical_label(row["label"])
        score_text = (row["score"] or "").translate(_OCR_DIGITS)
        score = int(score_text) if score_text.isdigit() else scores[labels.index(label)]
        if row["description"]:
            description = _SPACES.sub(" ", row["description"]).strip()
            if not description.lower().startswith("an "):
                description = "An " + description
        else:
            # the scale's wording is fixed; a row whose description the scan lost takes the standard one
            description = patterns()["scale"]["descriptions"][labels.index(label)]
        method = "ocr-image" if record.text is not None and record.text.read_from_image(offset + row.start()) else "text"
        record.scale.append(ScaleRow(score, label, description, method))
        if score != scores[labels.index(label)]:
            record.flag(f"scale: row {score} is labelled {label!r}, which the scale gives score {scores[labels.index(label)]}")


def _canonical_label(written: str) -> tuple[str, float]:
    """The scale label a (possibly OCR-damaged) label stands for, and how close it was."""
    labels = patterns()["scale"]["labels"]
    match = process.extractOne(written, labels, scorer=fuzz.ratio, processor=str.lower)
    return match[0], match[1] / 100


def extract_rating(record: LetterRecord, text: str, segments: list[Segment]) -> None:
    rating = _first(segments, "rating")
    start = rating.start if rating else 0
    end = rating.end if rating else len(text)
    line = compiled("segment", "rating_line").search(text, start, end)
    loose = line is None
    if loose and rating:
        line = compiled("segment", "rating_value").search(text, start, end)
    if line:
        label, closeness = _canonical_label(line["label"])
        score_text = line["score"].translate(_OCR_DIGITS)
        method = ("regex" if closeness == 1.0 else "regex-fuzzy") + ("-loose" if loose else "")
        closeness = min(closeness, 0.9) if loose else closeness
        record.set(FieldValue("rating_label", label, line.start("label"), line.end("label"), method=method, confidence=round(closeness, 3)))
        record.set(FieldValue("rating_score", int(score_text), line.start("score"), line.end("score"), method="regex", confidence=1.0 if line["score"].isdigit() else 0.8))
    elif not _rating_from_value_line(record, text, segments):
        _rating_from_perform_sentence(record, text, segments)
    heading = compiled("segment", "rating_heading").search(text, start, end) or compiled("segment", "rating_heading").search(text)
    if heading:
        record.set(FieldValue("rating_year", int(heading["year"]), heading.start("year"), heading.end("year"), method="regex"))
    record.letter_type = "annual assessment" if compiled("letter", "annual_assessment").search(text) else "annual rating"


def _rating_from_value_line(record: LetterRecord, text: str, segments: list[Segment]) -> bool:
    """No rating line beside its heading: a scan's table read column by column can leave the rating cell
    ("Performs well (3)") on a line of its own further down. The one such line outside the scale table
    gives the rating, and the letter goes to review, since the value stands apart from its heading."""
    scale = [(s.start, s.end) for s in segments if s.segment in ("scale_table", "preamble")]
    body_from = max((end for _, end in scale), default=0)
    found = rating_values_apart(text, body_from)
    readings = {(_canonical_label(m["label"])[0], rating_value_score(m)) for m in found}
    if len(readings) != 1:
        return False
    line = found[0]
    label, closeness = _canonical_label(line["label"])
    record.set(FieldValue("rating_label", label, line.start("label"), line.end("label"), method="regex-fuzzy-apart", confidence=round(min(closeness, 0.7), 3)))
    record.set(FieldValue("rating_score", rating_value_score(line), line.start("score"), line.end("score"), method="regex-apart", confidence=0.7))
    record.flag(f"rating: no rating line found; {label!r} is read from a line of its own ({_SPACES.sub(' ', line.group()).strip()!r}) away from the rating heading")
    return True


def _rating_from_perform_sentence(record: LetterRecord, text: str, segments: list[Segment]) -> None:
    """No rating line could be read (a scan lost it): the narrative's "Children's services in X perform
    well" gives the rating a person can confirm; the letter goes to review, since only one place says it."""
    narrative = _first(segments, "narrative")
    perform = compiled("segment", "perform_sentence").search(text, narrative.start if narrative else 0)
    if not perform:
        return
    scale = patterns()["scale"]
    label = dict(zip(scale["verbs"], scale["labels"]))[perform["verb"].lower()]
    score = dict(zip(scale["labels"], scale["scores"]))[label]
    start, end = perform.start("verb"), perform.end("verb")
    record.set(FieldValue("rating_label", label, start, end, method="perform-sentence", confidence=0.5))
    record.set(FieldValue("rating_score", score, start, end, method="perform-sentence", confidence=0.5))
    record.flag(f"rating: no rating line found; {label!r} is read from the sentence saying services perform {perform['verb'].lower()}")


_LONE_MARK_AT_END = regex.compile(r"\s+[.,;:'\"|~_-]+\s*$")
_LONE_SPECK_IN_TITLE = regex.compile(r"(?<=\p{L}) [^\p{L}\s&,] (?=\p{L})")
# a scan's speck read as a stop inside an authority's name ("Oxfordshire. Council"); "St. Helens" keeps its stop
_STOP_IN_NAME = regex.compile(r"(?<=\p{L}{4})\.(?=[ \t]+\p{Lu})")
# marks before a signature line's first word: a scan's specks, a rule drawn for the signature
_LEADING_MARKS = regex.compile(r"[^\p{L}\d(\s]+[ \t]*")
# what may stand around a title and is not part of it: spaces, line ends, a comma, a scan's specks
_TITLE_EDGES = " ,\n.:;'\"|~_-"
# a line of the address block from its first word
_NAME_LINE = regex.compile(r"^[^\S\n]*\K[^\s\p{P}\p{S}][^\n]*", regex.MULTILINE)


def _person_line(line: str) -> tuple[str, str]:
    """Split 'Mrs Gillian Pearson Director of ...' into the name and what follows it."""
    people = patterns()["people"]
    title_words = set(people["title_words"])
    words = line.split()
    for i, word in enumerate(words[1:], start=1):
        if word.strip(",") in title_words:
            return " ".join(words[:i]).rstrip(","), " ".join(words[i:])
    return line.strip().rstrip(","), ""


@lru_cache(maxsize=1)
def _honorific_name_pattern() -> regex.Pattern:
    honorifics = "|".join(patterns()["people"]["honorifics"])
    return regex.compile(rf"\b(?:{honorifics})\.?(?:\s+[\p{{Lu}}][\p{{L}}'\-]+\.?){{1,3}}")


def _honorific_name(text: str) -> regex.Match | None:
    return _honorific_name_pattern().search(text)


def extract_recipient(record: LetterRecord, text: str, segments: list[Segment]) -> None:
    header = _first(segments, "header")
    if header is None:
        return
    salutation = compiled("segment", "salutation").search(text, header.start, header.end)
    if salutation:
        record.set(FieldValue("salutation", _SPACES.sub(" ", salutation.group()).strip(), salutation.start(), salutation.end(), method="regex"))
    date = record.fields.get("letter_date")
    block_start = date.end if date and date.end and date.end <= header.end else header.start
    block_end = salutation.start() if salutation else header.end
    block = text[block_start:block_end]
    _recipient_postcode(record, block, block_start)
    name = _recipient_name(block, salutation.group() if salutation else "")
    if name is None:
        return
    n_start, n_end = name
    record.set(FieldValue("recipient_name", _SPACES.sub(" ", block[n_start:n_end]).strip(" ,"), block_start + n_start, block_start + n_end, method="regex"))
    _recipient_title(record, text, block_start, block[n_end:], n_end)


def _recipient_postcode(record: LetterRecord, block: str, offset: int) -> None:
    """The last postcode in the address; one OCR misread a digit in (CAI1 8NZ) is put right and marked."""
    found = list(compiled("people", "postcode", 0).finditer(block))
    if found:
        pc = found[-1]
        value, method = restore_postcode_space(_SPACES.sub(" ", pc["postcode"]).upper())
        record.set(FieldValue("recipient_postcode", value, offset + pc.start("postcode"), offset + pc.end("postcode"), method=method))
        return
    loose = list(compiled("people", "postcode_ocr", 0).finditer(block))
    for pc in reversed(loose):
        outward = pc["area"].upper().replace("$", "S") + pc["district"].translate(_OCR_POSTCODE_DIGITS).upper()
        candidate = f"{outward} {pc['sector'].translate(_OCR_POSTCODE_DIGITS)}{pc['unit'].upper()}"
        if compiled("people", "postcode_strict", 0).match(candidate):
            record.set(FieldValue("recipient_postcode", candidate, offset + pc.start(), offset + pc.end(), method="regex-ocr-corrected", confidence=0.85))
            return
    shaped = compiled("people", "postcode_shape", 0).search(block)
    if shaped:
        # an empty postcode must not pass for "the address has none"
        record.flag(f"recipient_postcode: {shaped.group(0)!r} looks like a postcode but cannot be read as one")
    elif _read_by_ocr(record, offset) and block.strip():
        record.flag("recipient_postcode: the scanned address has no postcode that could be read (OCR may have lost it): check it against the scan")


def _read_by_ocr(record: LetterRecord, offset: int) -> bool:
    """Whether the page holding offset was read by OCR (ours or another program's text layer)."""
    if record.text is None or not record.text.page_methods:
        return False
    return record.text.page_methods[record.text.page_at(offset) - 1].startswith("ocr")


def restore_postcode_space(postcode: str) -> tuple[str, str]:
    """A postcode written without its space ("B11BB", as OCR and some exports give it) with the space
    put back before the inward code, when that makes a valid postcode; and the method to record."""
    if " " in postcode or compiled("people", "postcode_strict", 0).match(postcode):
        return postcode, "regex"
    spaced = f"{postcode[:-3]} {postcode[-3:]}"
    if compiled("people", "postcode_strict", 0).match(spaced):
        return spaced, "regex+space-restored"
    return postcode, "regex"


def _recipient_name(block: str, salutation: str) -> tuple[int, int] | None:
    """The addressee's name: up to the surname the salutation uses, else an honorific and capitalised words."""
    surname = _SALUTATION_SURNAME.search(salutation)
    first_line = _FIRST_LINE.search(block)
    if first_line is None:
        return None
    honorifics = {h.lower() for h in patterns()["people"]["honorifics"]}
    if surname and surname["surname"].lower() not in {"sir", "madam", "colleague"} | honorifics:
        # OCR may have split the surname in two ("Sm ith"): rejoin_split_name puts it together again
        written = r"[ ]?".join(regex.escape(ch) for ch in surname["surname"])
        hit = regex.search(rf"\b{written}\b", block[first_line.start():first_line.start() + 120])
        if hit:
            return first_line.start(), first_line.start() + hit.end()
        # OCR misread a letter of the surname in the salutation or the address ("Dear Councillor Tavene"
        # to "Helen Tavener"), or an unread date left the letterhead before the address: the one line of
        # the block that names the same surname, one letter apart, from its first word
        if len(surname["surname"]) >= 5:
            lines = list(_NAME_LINE.finditer(block))
            hits = [(line, regex.search(rf"\b(?:{regex.escape(surname['surname'])}){{e<=1}}\b", line.group(), regex.IGNORECASE)) for line in lines]
            hits = [(line, hit) for line, hit in hits if hit]
            if len(hits) == 1:
                line, hit = hits[0]
                return line.start(), line.start() + hit.end()
    honorific = _honorific_name(block[first_line.start():first_line.start() + 120])
    if honorific:
        name, _ = _person_line(honorific.group())
        return first_line.start() + honorific.start(), first_line.start() + honorific.start() + len(name)
    return None


def _recipient_title(record: LetterRecord, text: str, offset: int, rest_block: str, rest_offset: int) -> None:
    """The job title: what stands between the name and the authority (or the next line)."""
    authority = record.fields.get("authority_as_written")
    rest = rest_block
    stop = len(rest)
    at_authority = False
    if authority and authority.start is not None:
        local = authority.start - (offset + rest_offset)
        # the title takes a line or two before the authority (blank lines and a scan's specks aside)
        between = [line for line in rest[:local].split("\n") if line.strip(_TITLE_EDGES)]
        if 0 < local <= len(rest) and len(between) <= 2:
            stop, at_authority = local, True
    if stop == len(rest):
        lines = [ln for ln in rest.split("\n") if ln.strip(_TITLE_EDGES)]
        if not lines:
            return
        first = rest.index(lines[0])
        stop = first + len(lines[0])
    chunk = rest[:stop]
    # text beside the address block (a letterhead column) follows a TAB on the same line
    chunk = "\n".join(line.split("\t")[0] for line in chunk.split("\n"))
    # a speck OCR read as a full stop standing after the title ("Services .")
    chunk = _LONE_MARK_AT_END.sub("", chunk)
    if at_authority:
        # "...Services\nof Bournemouth" (a scan lost "Borough"), "...Services for the\nCity of X":
        # the linking words belong with the authority, not the title
        chunk = _TRAILING_LINK_WORDS.sub("", chunk.rstrip(" ,\n"))
    lead = len(chunk) - len(chunk.lstrip(_TITLE_EDGES))
    title = _SPACES.sub(" ", chunk[lead:]).strip(" ,")
    if _read_by_ocr(record, offset + rest_offset):
        # a job title has no numbers: a lone digit or mark between its words is a scan's speck
        title = _LONE_SPECK_IN_TITLE.sub(" ", title)
    if title and len(title) < 150:
        start = offset + rest_offset + lead
        record.set(FieldValue("recipient_title", title, start, start + len(chunk.strip(_TITLE_EDGES)), method="regex"))


def _set_authority(record: LetterRecord, match: AuthorityMatch, method_suffix: str = "") -> None:
    a = match.authority
    conf = round(match.score, 3)
    method = match.method + method_suffix
    as_written, written_by = match.as_written, method
    if _read_by_ocr(record, match.start) and _STOP_IN_NAME.search(as_written):
        # the name matched without its marks; the speck a scan put in it is no part of how it is written
        as_written, written_by = _STOP_IN_NAME.sub("", as_written), method + "+speck-removed"
    record.set(FieldValue("authority_as_written", as_written, match.start, match.end, method=written_by, confidence=conf))
    for name, value in (("authority_name", a.name), ("authority_la_code", a.la_code), ("authority_gss_code", a.gss_code), ("authority_region", a.region)):
        record.set(FieldValue(name, value, match.start, match.end, method=method, confidence=conf))


def _recipient_block(text: str, segments: list[Segment], record: LetterRecord) -> tuple[int, int] | None:
    """Where the addressee's block stands: after the date, before the salutation (not the letterhead)."""
    header = _first(segments, "header")
    if header is None:
        return None
    salutation = compiled("segment", "salutation").search(text, header.start, header.end)
    date = record.fields.get("letter_date")
    start = date.end if date and date.end and header.start <= date.end <= header.end else header.start
    end = salutation.start() if salutation else header.end
    return (start, end) if end > start else None


def _authority_form(match: AuthorityMatch) -> bool:
    """Written the way councils name themselves ("Kent County Council"), not a bare town name."""
    return bool(_AUTHORITY_FORM_WORD.search(match.as_written))


def extract_authority(record: LetterRecord, text: str, segments: list[Segment]) -> None:
    """The authority from the address block, checked against the 'Children's services in X perform' sentence."""
    block = _recipient_block(text, segments, record)
    address_matches: list[AuthorityMatch] = []
    if block is not None:
        address_matches = [_shift(m, block[0]) for m in find_authorities(text[block[0]:block[1]])]
        if not address_matches:
            fuzzy = fuzzy_find_authority(text[block[0]:block[1]])
            address_matches = [_shift(fuzzy, block[0])] if fuzzy else []
    narrative = _first(segments, "narrative")
    perform = compiled("segment", "perform_sentence").search(text, narrative.start if narrative else 0)
    narrative_match: AuthorityMatch | None = None
    if perform:
        found = find_authorities(text[perform.start("authority"):perform.end("authority")])
        if found:
            narrative_match = _shift(found[0], perform.start("authority"))
        else:
            fuzzy = fuzzy_find_authority(text[perform.start():perform.end()])
            narrative_match = _shift(fuzzy, perform.start()) if fuzzy else None
    ranked = sorted(address_matches, key=lambda m: (not _authority_form(m), m.start))
    agreeing = [m for m in ranked if narrative_match and m.authority.la_code == narrative_match.authority.la_code]
    chosen = (agreeing or ranked or [narrative_match])[0]
    if chosen is None:
        return
    _set_authority(record, _without_building(chosen, text))
    if narrative_match and ranked and not agreeing:
        record.flag(
            f"authority: the address names {ranked[0].authority.name!r} but the narrative names {narrative_match.authority.name!r}"
        )


_COUNCIL_AT_END = regex.compile(r"\s+Council$")


def _without_building(match: AuthorityMatch, text: str) -> AuthorityMatch:
    """"City of Wolverhampton Council Offices" on one line: the "Council" is the building's, when the
    authority is named as well without it."""
    following = text[match.end:match.end + 30].split()
    written = match.as_written
    council = _COUNCIL_AT_END.search(written)  # "City of York\nCouncil Offices" in an address block too
    if not (following and following[0] in patterns()["people"]["council_buildings"] and council):
        return match
    shorter = written[: council.start()]
    again = find_authorities(shorter)
    if not again or again[0].authority.la_code != match.authority.la_code or again[0].as_written != shorter:
        return match
    return AuthorityMatch(match.authority, shorter, match.start, match.start + len(shorter), match.score, match.method)


def _shift(match: AuthorityMatch, by: int) -> AuthorityMatch:
    return AuthorityMatch(match.authority, match.as_written, match.start + by, match.end + by, match.score, match.method)


def extract_signatory(record: LetterRecord, text: str, segments: list[Segment]) -> None:
    """The person named under the signature, their title, and who signed for them ("pp", "for").

    The signature block is the lines after the sign-off ("Yours sincerely"), or where a letter has
    none, the short lines after its last paragraph; a copy list or enclosures after it are segments
    of their own, so they never end or replace it, and a person the letter's body names is never in it."""
    closing = _first(segments, "closing")
    if closing is None:
        return
    image_line = compiled("people", "signature_image")
    sign_off = compiled("people", "sign_off")
    lines: list[tuple[int, str]] = []
    pos = closing.start
    for line in closing.text.split("\n"):
        # a scanner's speck read as a mark standing after the name ("Juliet Winstanley ;") or before it ("--Alan Mercer")
        kept = _LONE_MARK_AT_END.sub("", line.strip())
        lead = _LEADING_MARKS.match(kept)
        kept = kept[lead.end():] if lead else kept
        if kept:
            lines.append((pos + len(line) - len(line.lstrip()) + (lead.end() if lead else 0), kept))
        pos += len(line) + 1
    signed_off = [i for i, (_, line) in enumerate(lines) if sign_off.match(line)]
    tail: list[tuple[int, str]] = []
    if signed_off:
        tail = lines[signed_off[-1] + 1:]
    else:
        # the signature area: the short lines after the last long paragraph, or after the last line that
        # ends a sentence (a hard-wrapped closing paragraph has short lines too)
        for start, line in reversed(lines):
            ends_sentence = line.endswith((".", "?", "!")) and (len(line) > 60 or _LOWER_WORD.search(line))
            if len(line) > 90 or ends_sentence and not image_line.search(line):
                break
            tail.insert(0, (start, line))
    tail, signer = _signed_on_behalf(record, tail)
    tail = [(s, ln) for s, ln in tail if not sign_off.match(ln) and not image_line.search(ln)]
    if not tail:
        return
    name_at, title_at = _signature_lines(tail)
    if name_at is None:
        return
    start, line = tail[name_at]
    name, after = _person_line(line)
    # a full stop after a surname is a scanner's speck or a typing slip; after an initial it belongs
    if name.endswith(".") and not _INITIAL_AT_END.search(name):
        name = name[:-1]
    record.set(FieldValue("signatory_name", name, start, start + len(name), method="regex"))
    if signer is not None:
        record.set(signer)
    title = after.strip()
    title_start = start + line.index(after) if after else None
    if not title and title_at is not None:
        title_start, title = tail[title_at]
        # a title set over two lines ("Divisional Manager" / "Comprehensive Area Assessment")
        if len(tail) - title_at == 2 and not _CONTACT_DETAIL.search(tail[title_at + 1][1]):
            title = f"{title.rstrip(' ,')}, {tail[title_at + 1][1]}"
    # OCR specks at the edges ("'Regional Director"); a title never opens with a quote mark
    stripped = title.strip(" ,.-_|~").lstrip("'\"`\u2018\u2019\u201c\u201d ").rstrip("\"\u201c\u201d ")
    if stripped:
        title_start += title.index(stripped)
        record.set(FieldValue("signatory_title", stripped, title_start, title_start + len(stripped), method="regex"))


def _signed_on_behalf(record: LetterRecord, tail: list[tuple[int, str]]) -> tuple[list[tuple[int, str]], FieldValue | None]:
    """A signature made for someone else: the signature lines with the signer taken out and the "pp"
    (or "for") taken off the signatory's name, and the signer as a signatory_signed_by value (None when
    the letter does not name them, or the signature is the signatory's own).

    "John Smith / pp Juliet Winstanley / Divisional Manager", "pp / Juliet Winstanley", "John Smith pp
    Juliet Winstanley", and "Juliet Winstanley / ... / Signed in her absence by John Smith" all make
    Juliet Winstanley the signatory."""
    signed_for = compiled("people", "signed_for")
    for i, (start, line) in enumerate(tail):
        m = signed_for.match(line)
        if m is None:
            continue
        rest = [(start + m.start("rest"), m["rest"])] if m["rest"] else tail[i + 1:i + 2]
        if not rest or not _looks_like_person(rest[0][1]):
            continue
        kept = tail[:i] + rest + tail[i + 1 + (0 if m["rest"] else 1):]
        signer: tuple[int, str] | None = None
        if m["signer"]:
            if not _looks_like_person(m["signer"]):
                continue
            signer = (start + m.start("signer"), m["signer"])
        elif i > 0 and _looks_like_person(tail[i - 1][1]) and not _person_line(tail[i - 1][1])[1]:
            signer = tail[i - 1]
            kept = tail[:i - 1] + kept[i:]
        return kept, _signer_value(signer)
    signed_by = compiled("people", "signed_by")
    for i, (start, line) in enumerate(tail):
        m = signed_by.match(line)
        if m and _looks_like_person(m["name"]):
            return tail[:i] + tail[i + 1:], _signer_value((start + m.start("name"), m["name"]))
    return tail, None


def _signer_value(signer: tuple[int, str] | None) -> FieldValue | None:
    if signer is None:
        return None
    start, line = signer
    name = _person_line(line)[0].strip(" ,.")
    return FieldValue("signatory_signed_by", name, start, start + len(name), method="regex")


def _looks_like_person(line: str) -> bool:
    """A name, not a title or a body's name ("Her Majesty's Chief Inspector", "Ofsted"): it reads as a
    name and does not open with a word that begins job titles."""
    words = line.split()
    people = patterns()["people"]
    # the acronyms of titles (CAA, HMI) are no part of a name: a line holding one is a title a scan damaged
    acronyms = {w for w in people["title_vocabulary"] if len(w) > 1 and w.isupper()}
    if any(w.strip(",.") in acronyms for w in _person_line(line)[0].split()):
        return False
    return bool(words) and words[0].strip(",") not in set(people["title_words"]) and _looks_like_name(line)


def _looks_like_name(line: str) -> bool:
    words = _person_line(line)[0].split()
    # a word OCR split after its capital ("J uliet") counts as one word here; rejoin_split_name decides on it
    whole = [w for i, w in enumerate(words) if not (i and _SPLIT_TAIL.match(w) and len(words[i - 1]) == 1)]
    return 2 <= len(whole) <= 4 and all(_NAME_WORD.match(w) for w in whole)


def _signature_lines(tail: list[tuple[int, str]]) -> tuple[int | None, int | None]:
    """Which of the last short lines is the signatory's name and which the title.

    A line that reads as a person's name and has a job title on it or right under it wins
    ("Juliet Winstanley" / "Divisional Manager, CAA"); failing that, the first name-like line.
    A one-word line above it is the signature itself (often an OCR misreading) and is passed over.
    """
    title_words = set(patterns()["people"]["title_words"])
    names = [i for i, (_, line) in enumerate(tail) if _looks_like_person(line)]
    for i in names:
        same_line = _person_line(tail[i][1])[1]
        below = tail[i + 1][1].split() if i + 1 < len(tail) else []
        if same_line or (below and below[0].strip(",") in title_words):
            return i, (i + 1 if i + 1 < len(tail) else None)
    if names:
        i = names[0]
        return i, (i + 1 if i + 1 < len(tail) else None)
    return None, None


def read_statistics(text: str) -> tuple[list[Statistic], list[NumberSpan], list[tuple[NumberSpan, str]]]:
    """Both readings of a text read whole as a narrative: what `extract_statistics` gives for a letter."""
    return extract_statistics(text, [Segment("narrative", 0, len(text), text)])


def extract_statistics(text: str, segments: list[Segment]) -> tuple[list[Statistic], list[NumberSpan], list[tuple[NumberSpan, str]]]:
    """Every statistic the narrative (and any areas for improvement) cites, where each of its numbers
    went, and the doubts the second reading raised; offsets into text."""
    nlp = load_pipeline()
    stats: list[Statistic] = []
    numbers: list[NumberSpan] = []
    sentences: list[tuple[int, str]] = []  # (offset, text) of each sentence holding a number
    for seg in _segments(segments, "narrative") + _segments(segments, "improvements"):
        # line breaks inside a paragraph must not split "nursery\nschools"; same length keeps offsets
        doc = nlp(seg.text.replace("\n", " "))
        for item in [*doc._.statistics, *doc._.numbers]:
            item.start += seg.start
            item.end += seg.start
        stats.extend(doc._.statistics)
        numbers.extend(doc._.numbers)
        held = [n.start - seg.start for n in doc._.numbers if n.role == "statistic" or n.rule not in settled_rules()]
        sentences += [(seg.start + sent.start_char, sent.text) for sent in doc.sents if any(sent.start_char <= h < sent.end_char for h in held)]
    for i, s in enumerate(stats):
        s.stat_index = i
    return stats, numbers, second_reading(stats, numbers, sentences)


def second_reading(stats: list[Statistic], numbers: list[NumberSpan], sentences: list[tuple[int, str]]) -> list[tuple[NumberSpan, str]]:
    """Read each sentence holding a number again from its parse (pipeline.structure) and compare: a
    statistic both readings agree on is confirmed; one they disagree on is flagged with both; a number
    only the parse reads as a judged statistic is a doubt. Only sentences with numbers are parsed."""
    parser = load_parser()
    readings: list[StructureReading] = []
    for (offset, _), doc in zip(sentences, parse_for_structure([t for _, t in sentences], parser)):
        readings += [replace(r, start=r.start + offset, end=r.end + offset) for r in read_structure(doc, parser)]

    def reading_at(start: int, end: int) -> StructureReading | None:
        return next((r for r in readings if r.start < end and start < r.end), None)

    for stat in stats:
        value = next((n for n in numbers if n.statistic is stat and n.rule == "value"), None)
        comparison = compare_reading(stat.subject, stat.judgement, stat.kind, reading_at(value.start, value.end) if value else None, parser)
        stat.agreement = comparison.agreement
        if comparison.reading is not None:
            stat.parse_subject, stat.parse_judgement = comparison.reading.subject, _judgement_text(comparison.reading)
        if comparison.problem:
            stat.problem = stat.problem or comparison.problem
    doubts = []
    for number in numbers:
        if number.role == "statistic":
            continue
        reading = reading_at(number.start, number.end)
        if reading is not None and unread_statistic(reading, parser):
            doubts.append((number, f"number {number.text!r}: the sentence's structure reads it as a count of {reading.subject!r} "
                                   f"judged {_judgement_text(reading)!r}, the finder as {number.rule or number.role}"))
    return doubts


def _judgement_text(reading: StructureReading) -> str | None:
    if reading.judgement is None:
        return None
    return f"not {reading.judgement}" if reading.negated else reading.judgement


def extract_letter(record: LetterRecord, segments: list[Segment]) -> None:
    """Fill the record's fields, scale and statistics from its text and segments."""
    assert record.text is not None
    text = record.text.text
    extract_date(record, text, segments)
    extract_authority(record, text, segments)
    extract_recipient(record, text, segments)
    extract_rating(record, text, segments)
    extract_scale(record, text, segments)
    extract_signatory(record, text, segments)
    record.statistics, record.numbers, doubts = extract_statistics(text, segments)
    for _, doubt in doubts:
        record.flag_statistics(doubt)
    for fv in record.fields.values():
        rejoin_split_name(record, fv)
        _apply_reader(record, fv)
        _apply_ocr_confidence(record, fv)
        check_ocr_words(record, fv)
    for stat in record.statistics:
        check_ocr_statistic(record, stat)


_NAME_FIELDS = ("recipient_name", "signatory_name", "signatory_signed_by")
_SPLIT_TAIL = regex.compile(r"\p{Ll}{2,}$")


def rejoin_split_name(record: LetterRecord, fv: FieldValue) -> None:
    """Join a name word OCR split in two ("J uliet Winstanley") when the letter confirms the whole
    word elsewhere: written out as a word ("Dear Ms Winstanley") or as part of an e-mail address
    ("juliet.winstanley@..."). An initial ("J Smith") is left alone unless the letter says otherwise."""
    if fv.field not in _NAME_FIELDS or not isinstance(fv.value, str) or record.text is None or fv.start is None:
        return
    text = record.text.text
    outside = text[: fv.start] + " " + text[fv.end:]
    words = fv.value.split()
    i, joined = 0, False
    while i + 1 < len(words):
        first, second = words[i], words[i + 1]
        whole = first + second
        if first[:1].isupper() and second[:1].islower() and second.isalpha() and _confirmed(whole, outside):
            words[i:i + 2] = [whole]
            joined = True
            continue
        i += 1
    if joined:
        fv.value = " ".join(words)
        fv.method += "+rejoined"
    split = [f"{a} {b}" for a, b in zip(words, words[1:]) if a[:1].isupper() and _SPLIT_TAIL.match(b)]
    if split:
        fv.confidence = min(fv.confidence, 0.5)
        record.flag(f"{fv.field}: {split[0]!r} reads as a word OCR split in two, and the letter does not confirm it joined: check it")


def _confirmed(word: str, text: str) -> bool:
    """Whether text has the word as a word of its own or as a dot-separated part of an e-mail address."""
    if len(word) < 3:
        return False
    as_word = regex.compile(rf"(?<![\p{{L}}.@]){regex.escape(word)}(?![\p{{L}}])")
    # an OCR'd address may have lost its dots or gained spaces ("juliet winstanley@ ofsted.gov.uk")
    part = r"[\p{L}\-']+"
    in_address = regex.compile(rf"(?<![\p{{L}}])(?:{part}[.\s]{{1,2}}){{0,2}}{regex.escape(word.lower())}(?:[.\s]{{1,2}}{part}){{0,2}}[ ]?@", regex.IGNORECASE)
    return bool(as_word.search(text) or in_address.search(text))


def _apply_reader(record: LetterRecord, fv: FieldValue) -> None:
    """Say which reader gave the page a value was read from, where it was not the usual one (pdfplumber
    for a page PDFium read badly, another program's OCR text layer); an OCR layer's words are OCR, and a
    value read from one is held no surer than OCR_LAYER_CONFIDENCE."""
    if fv.start is None or record.text is None or not record.text.page_methods:
        return
    reader = record.text.page_methods[record.text.page_at(fv.start) - 1]
    if reader in ("pdfplumber", "ocr-layer", "ocr-layer-reread"):
        fv.method = f"{reader}+{fv.method}"
    if record.text.read_from_image(fv.start):
        # Tesseract read it from a picture of the part on a text page: held no surer than another OCR's text
        fv.method = f"{fv.method}+ocr-image"
        fv.confidence = round(min(fv.confidence, patterns()["people"]["ocr_layer_confidence"]), 3)
    if reader == "ocr-layer":
        fv.confidence = round(min(fv.confidence, patterns()["people"]["ocr_layer_confidence"]), 3)


# names and titles have no gazetteer behind them: their OCR'd words are checked one by one
_OCR_CHECKED_FIELDS = ("recipient_name", "recipient_title", "signatory_name", "signatory_title", "signatory_signed_by")


def check_ocr_words(record: LetterRecord, fv: FieldValue) -> None:
    """Correct an OCR'd title word that is one known word misread, and flag any other word of a name
    or title that Tesseract was unsure of: a misread name must not pass as a clean value."""
    if fv.field not in _OCR_CHECKED_FIELDS or fv.start is None or record.text is None or not isinstance(fv.value, str):
        return
    people = patterns()["people"]
    words = fv.value.split()
    corrected = False
    for i, word in enumerate(words):
        key = word.strip(WORD_EDGES)
        confidence = record.text.ocr_word_confidence(key, fv.start)
        if confidence is None or confidence >= people["ocr_unsure_word"]:
            continue
        known = people["title_vocabulary"] if fv.field.endswith("title") else (people["honorifics"] if i == 0 else [])
        fix = _one_known_word(key, known)
        if fix == key:
            continue
        if fix is not None:
            words[i] = word.replace(key, fix)
            corrected = True
            continue
        if _read_elsewhere(record.text.text, key, fv.start, fv.end):
            continue
        fv.confidence = round(min(fv.confidence, confidence / 100), 3)
        record.flag(f"{fv.field}: {_unsure(record, key, fv.start, confidence)}: check it against the scan")
    if corrected:
        fv.value = " ".join(words)
        fv.method += "+vocabulary"


def _unsure(record: LetterRecord, word: str, offset: int, confidence: float) -> str:
    """Why an OCR'd word is doubted: Tesseract was unsure of it, or two readings of the scan disagree on it."""
    assert record.text is not None
    disputed = disputed_word(record.text, word, offset)
    if disputed is not None:
        return f"OCR read {disputed[0]!r} or {disputed[1]!r} (two readings of the scan disagree; confidence {confidence:.0f}/100)"
    return f"OCR was unsure of {word!r} (confidence {confidence:.0f}/100)"


def _read_elsewhere(text: str, word: str, start: int, end: int) -> bool:
    """Whether the letter has the word again outside the value ("Dear Ms O'Connor", "frances.oduya@..."):
    two reads of it that agree are not a misreading."""
    if len(word) < 3:
        return False
    pattern = regex.compile(rf"(?<!\p{{L}}){regex.escape(word)}(?!\p{{L}})", regex.IGNORECASE)
    return bool(pattern.search(text, 0, start) or pattern.search(text, end))


def _one_known_word(word: str, known: list[str]) -> str | None:
    """The known word this one is, or is one misread letter or two from; None when not exactly one fits."""
    if word in known:
        return word
    if len(word) < 4:
        return None
    close = process.extract(word, known, scorer=fuzz.ratio, score_cutoff=86, limit=2)
    if len(close) == 1 or (len(close) == 2 and close[0][1] - close[1][1] >= 8):
        return close[0][0]
    # short words ("Clir" for "Cllr"): the same length and one letter different
    same = [k for k in known if len(k) == len(word) and sum(a != b for a, b in zip(k, word)) == 1]
    return same[0] if len(same) == 1 else None


def _ocr_confidence_of(record: LetterRecord, start: int, end: int, numbers_only: bool = False) -> tuple[float, str] | None:
    """How sure OCR was of the words in text[start:end]: the least sure word and its confidence (0-100);
    None for text that was not OCR'd. A value is only as sure as the words it rests on (for a statistic,
    its numbers: its subject and judgement were matched against vocabularies already)."""
    assert record.text is not None
    page = record.text.ocr_confidence_at(start)
    if page is None:
        return None
    scores = []
    for word in record.text.text[start:end].split():
        key = word.strip(WORD_EDGES)
        if numbers_only and not _QUANTITIES.writes_a_number(key):
            continue
        confidence = record.text.ocr_word_confidence(key, start) if key else None
        if confidence is not None:
            scores.append((confidence, key))
    return min(scores) if scores else (page, "")


def _apply_ocr_confidence(record: LetterRecord, fv: FieldValue) -> None:
    """A value read from an OCR'd page is only as sure as the OCR was of its words."""
    if fv.start is None or record.text is None:
        return
    end = fv.end if fv.end is not None else fv.start
    read = _ocr_confidence_of(record, fv.start, end)
    if read is not None:
        # a second reading of the scan confirmed a word of it, or found the line it stands in
        fv.method = f"ocr+{fv.method}{method_suffix(record.text, fv.start, end)}"
        fv.confidence = round(min(fv.confidence, read[0] / 100), 3)
        _postcode_grammar_decides(record, fv, end)


def _postcode_grammar_decides(record: LetterRecord, fv: FieldValue, end: int) -> None:
    """Two readings of a scanned postcode that disagree ("BS1 5TR" or "BS1 STR") where only one is a
    postcode at all: the postcode's grammar (an inward code is a digit and two letters) settles it.
    It settles only the word in dispute: the postcode stays no surer than its other words
    ("{P1" read at 28 beside a disputed "2BX" is still unsure)."""
    if fv.field != "recipient_postcode" or fv.start is None:
        return
    other = other_reading(record.text, str(fv.value), fv.start, end)
    strict = compiled("people", "postcode_strict", 0)
    if other and strict.match(str(fv.value)) and not strict.match(other):
        disputed = {key for key, note in notes_for(record.text, fv.start, end) if note.kind == "disputed"}
        rest = [record.text.ocr_word_confidence(key, fv.start) for key in (w.strip(WORD_EDGES) for w in record.text.text[fv.start:end].split())
                if key and key not in disputed]
        surest = min((c / 100 for c in rest if c is not None), default=1.0)
        fv.method += "+postcode-grammar"
        fv.confidence = max(fv.confidence, min(patterns()["people"]["postcode_grammar_confidence"], surest))


def check_ocr_statistic(record: LetterRecord, stat: Statistic) -> None:
    """A statistic read by OCR is doubted when a word it rests on was read unsurely, or when a character
    Tesseract confuses with a digit stands in or beside it ("only | of the 5 colleges", "1O schools")."""
    if record.text is None:
        return
    read = _ocr_confidence_of(record, stat.start, stat.end, numbers_only=True)
    if read is None:
        return
    confidence, word = read
    stat.confidence = round(min(stat.confidence, confidence / 100), 3)
    if word and confidence < patterns()["people"]["ocr_unsure_word"]:
        stat.problem = stat.problem or f"{_unsure(record, word, stat.start, confidence)}: check it against the scan"
    text = record.text.text
    window = text[max(0, stat.start - 12):stat.end + 4]
    confusable = compiled("people", "ocr_confusable_digit", 0).search(window)
    if confusable:
        stat.problem = stat.problem or f"OCR may have misread a digit as {confusable.group(0)!r} near it: check it against the scan"
    # its sentence, where its subject and judgement are read: a line the page break left inside it
    at = stat.sentence.find(stat.text)
    if at >= 0:
        sentence_start = stat.start - at
        inside = compiled("people", "ocr_interrupted_sentence", 0).search(text, max(sentence_start, 0), sentence_start + len(stat.sentence))
        if inside:
            stat.problem = stat.problem or f"a line stands inside its sentence on the scan ({inside['line']!r}, a running head?), which may cut its subject or judgement short: check it against the scan"
    # the rest of its sentence, where its judgement is read: a speck read as a stop can cut it short
    paragraph_end = text.find("\n\n", stat.end)
    rest = text[stat.start:min(stat.end + 160, len(text) if paragraph_end < 0 else paragraph_end)]
    broken = compiled("people", "ocr_broken_link", 0).search(rest)
    if broken and broken.start() <= rest.find(".", stat.end - stat.start) + 1:
        stat.problem = stat.problem or f"OCR may have read a speck as {broken.group(0)!r} in its sentence, which may cut its judgement short: check it against the scan"
