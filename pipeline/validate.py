"""Decide each letter's status and say why: a value is right, or its row says needs_review."""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

import regex

from pipeline.config import compiled, patterns
from pipeline.gazetteer import find_authorities
from pipeline.read.ocr_dump import OCR_DUMP_METHOD
from pipeline.read.reread import other_reading
from pipeline.records import WHOLE_TEXT, LetterRecord, Segment
from pipeline.segment import find_scale_rows, rating_value_score, rating_values_apart

REQUIRED_FIELDS = [
    "authority_name",
    "letter_date",
    "rating_year",
    "rating_score",
    "rating_label",
    "recipient_name",
    "signatory_name",
]
# Below this, a fuzzy or OCR-read value is flagged for a person to check.
MIN_CONFIDENCE = 0.80


@lru_cache(maxsize=1)
def _letter_signals() -> list[regex.Pattern]:
    return [regex.compile(p, regex.IGNORECASE) for p in patterns()["letter"]["signals"]]


def is_rating_letter(text: str) -> bool:
    """Whether the text reads as an Ofsted children's services rating/assessment letter."""
    letter = patterns()["letter"]
    hits = sum(bool(p.search(text)) for p in _letter_signals())
    # a press release or web page can use every phrase; only a letter is addressed to someone or rates one authority
    shaped = bool(compiled("segment", "salutation").search(text) or compiled("segment", "rating_line").search(text) or find_scale_rows(text))
    return hits >= letter["min_signals"] and shaped and not_rating_reason(text) is None


@lru_cache(maxsize=1)
def _required_evidence() -> list[regex.Pattern]:
    return [regex.compile(p, regex.IGNORECASE) for p in patterns()["letter"]["required"]]


def not_rating_reason(text: str) -> str | None:
    """Why a text that uses the letters' wording is still not a rating letter, or None when it is one:
    Ofsted's children's services rating or assessment must be named, the letter must not be another
    body's (CQC, the Audit Commission: named in its head or signature where Ofsted is not), and the
    text must not be a council's committee report quoting the letter."""
    if not all(p.search(text) for p in _required_evidence()):
        return "Ofsted's children's services rating or assessment is not named"
    other = compiled("letter", "other_bodies")
    ofsted = _required_evidence()[0]
    salutation = compiled("segment", "salutation").search(text)
    head = text[: salutation.start()] if salutation else text[:800]
    sign_off = list(compiled("people", "sign_off").finditer(text))
    signature = text[sign_off[-1].end():] if sign_off else text[-400:]
    for part in (head, signature):
        found = other.search(part)
        if found and not ofsted.search(part):
            return f"the letter is from {found.group()!r}, not Ofsted"
    scheme = _other_scheme(text, salutation)
    if scheme:
        return f"it is a letter of another of Ofsted's schemes: its heading names the {scheme!r}, and it has no rating line"
    if len(compiled("letter", "committee_report").findall(text)) >= patterns()["letter"]["committee_min_headings"]:
        return "it is a committee report (report headings), which may quote a letter but is not one"
    quoting = _quoting_prose(text, salutation, sign_off)
    if quoting:
        return f"it quotes a letter inside prose of its own ({quoting}), as a report, minutes or an article does"
    return None


def _other_scheme(text: str, salutation: regex.Match | None) -> str | None:
    """The neighbouring scheme (the 2008 annual performance assessment, an unannounced inspection of contact,
    referral and assessment) that a letter's head or subject line names, where the subject line does not
    name the children's services rating or assessment and the letter has no rating line of its own."""
    if salutation is None or compiled("segment", "rating_line").search(text) or compiled("segment", "rating_value").search(text):
        return None
    subject = _SUBJECT_LINE.search(text, salutation.end())
    subject_text = subject.group() if subject else ""
    if compiled("schemes", "named").search(subject_text):
        return None
    found = compiled("letter", "other_schemes").search(text[: salutation.start()]) or compiled("letter", "other_schemes").search(subject_text)
    return " ".join(found.group().split()) if found else None


_PARAGRAPH_BREAK = regex.compile(r"\n[ \t]*\n")
_SENTENCE_END = regex.compile(r"[.!?][\"'\u2019)]?\s+(?=[\"'\u2018(]?\p{Lu})")
_WORD = regex.compile(r"\p{L}[\p{L}'\u2019-]*")


def _prose(paragraph: str) -> int:
    """How many characters of running prose a paragraph is: sentences of mostly lower-case words; 0 for a
    letterhead, an address, a heading or a list of short lines."""
    flat = " ".join(paragraph.split())
    words = _WORD.findall(flat)
    if len(words) < 25 or not _SENTENCE_END.search(flat + " X"):
        return 0
    lower = sum(w[0].islower() for w in words)
    return len(flat) if lower >= 0.6 * len(words) else 0


def prose_chars(text: str) -> int:
    """How many characters of running prose a stretch of text holds, paragraph by paragraph."""
    return sum(_prose(p) for p in _PARAGRAPH_BREAK.split(text))


def _quoting_prose(text: str, salutation: regex.Match | None, sign_off: list[regex.Match]) -> str | None:
    """Where a document has prose of its own around the letter it quotes: before the salutation, or after
    the last sign-off and the signature under it."""
    least = patterns()["letter"]["quoting_min_prose_chars"]
    if salutation is not None:
        before = prose_chars(text[: salutation.start()])
        if before >= least:
            return f"{before} characters of prose before the salutation"
    if sign_off:
        after = prose_chars(text[sign_off[-1].end():])
        if after >= least:
            return f"{after} characters of prose after the sign-off"
    return None


def check_rating(record: LetterRecord, text: str) -> None:
    """Rating line vs the scale, and vs the 'Children's services in X perform ...' sentence."""
    scale = patterns()["scale"]
    score, label = record.value("rating_score"), record.value("rating_label")
    if score is not None and label is not None:
        expected = dict(zip(scale["labels"], scale["scores"])).get(str(label))
        printed = {row.label: row.score for row in record.scale}
        if expected != score:
            record.flag(f"rating: label {label!r} does not go with score {score} on the four-point scale")
        elif printed and printed.get(str(label), score) != score:
            record.flag(f"rating: the letter's own scale gives {label!r} score {printed[str(label)]}, the rating line says {score}")
    perform = compiled("segment", "perform_sentence").search(text)
    if perform and label is not None:
        verb = perform["verb"].lower()
        said = dict(zip(scale["verbs"], scale["labels"]))[verb]
        if said != label:
            record.flag(f"rating: the rating line says {label!r} but the narrative says services perform {verb}")
    elif perform and label is None:
        record.flag(f"rating: no rating line found; the narrative says services perform {perform['verb'].lower()}")
    if score is not None:
        # a second rating the letter gives on a line of its own, outside its scale table
        after_scale = max((seg.end for seg in record.segments if seg.segment in ("scale_table", "preamble")), default=0)
        for value in rating_values_apart(text, after_scale):
            if rating_value_score(value) != score and value.start("score") != record.fields["rating_score"].start:
                record.flag(f"rating: the letter also gives {' '.join(value.group().split())!r} on a line of its own, which differs from score {score}")


def _rating_confirmed(record: LetterRecord, text: str) -> bool:
    """Whether the rating line's label and score agree with each other on the standard scale and with the
    narrative's "services perform ..." sentence."""
    scale = patterns()["scale"]
    score, label = record.value("rating_score"), record.value("rating_label")
    perform = compiled("segment", "perform_sentence").search(text)
    if score is None or label is None or perform is None or record.fields["rating_label"].confidence < MIN_CONFIDENCE:
        return False
    said = dict(zip(scale["verbs"], scale["labels"])).get(perform["verb"].lower())
    return said == label and dict(zip(scale["labels"], scale["scores"])).get(str(label)) == score


def check_dates(record: LetterRecord) -> None:
    """The letter date against the assessment's December: each year's letters were sent in December of
    the year rated, give or take a month (patterns.toml [schemes])."""
    date, year = record.value("letter_date"), record.value("rating_year")
    if date is None or year is None:
        return
    day = dt.date.fromisoformat(str(date))
    schemes = patterns()["schemes"]
    month, slack = schemes["letter_month"], schemes["letter_month_slack"]
    months_off = (day.year - int(year)) * 12 + day.month - month
    if abs(months_off) > slack:
        sent = dt.date(int(year), month, 1).strftime("%B %Y")
        record.flag(f"letter_date {date} does not fit rating_year {year}: the {year} letters were sent in {sent}")


def check_scheme(record: LetterRecord, text: str) -> None:
    """The heading's year against the rating year, and the letter's wording against its year's scheme
    (2009 a rating, 2010-2011 an assessment), where the header and rating parts name the scheme."""
    year = record.value("rating_year")
    if year is None:
        return
    year = int(year)
    wording = {int(k): v for k, v in patterns()["schemes"]["wording"].items()}
    if year not in wording:
        years = ", ".join(str(y) for y in sorted(wording))
        record.flag(f"rating_year {year} is not a year of the children's services rating scheme ({years})")
        return
    heading = record.fields["rating_year"]
    named = compiled("schemes", "named")
    said_year: dict[int, str] = {}
    said_word: dict[str, str] = {}
    for seg in record.segments:
        if seg.segment not in ("header", "rating"):
            continue
        for m in named.finditer(text, seg.start, seg.end):
            written = " ".join(m.group().split())
            if m["year"] and m.start("year") != heading.start:
                said_year.setdefault(int(m["year"]), written)
            said_word.setdefault(m["word"].lower(), written)
    for other, written in said_year.items():
        if other != year:
            record.flag(f"rating_year: the rating heading says {year} but {written!r} says {other}")
    expected = wording[year]
    for word, written in said_word.items():
        if word != expected:
            record.flag(f"wording: {written!r} calls it a {word}, but the {year} letters are an annual {expected} (rating_year {year})")


def check_authority_mentions(record: LetterRecord, text: str) -> None:
    """The authority of the address against one named in the subject line (the line under the
    salutation that names the rating or assessment) or the rating part; the narrative's perform
    sentence is checked where the authority is read."""
    name = record.value("authority_name")
    authority = record.fields.get("authority_name")
    if name is None or authority is None:
        return
    places: list[tuple[str, int, int]] = []
    salutation = record.fields.get("salutation")
    if salutation is not None and salutation.end is not None:
        line = _SUBJECT_LINE.search(text, salutation.end)
        if line and len(line.group()) < 160 and compiled("schemes", "named").search(line.group()):
            places.append(("subject line", line.start(), line.end()))
    places += [("rating heading", s.start, s.end) for s in record.segments if s.segment == "rating"]
    for where, start, end in places:
        for match in find_authorities(text[start:end]):
            if match.authority.name != name and start + match.start != authority.start:
                record.flag(f"authority: the address names {name!r} but the {where} names {match.authority.name!r}")
                return


_SUBJECT_LINE = regex.compile(r"(?<=\n)[ \t]*\S[^\n]*")


def check_postcode(record: LetterRecord) -> None:
    postcode = record.value("recipient_postcode")
    if postcode is not None and not compiled("people", "postcode_strict", 0).match(str(postcode)):
        record.flag(f"recipient_postcode {postcode!r} is not a valid UK postcode")


def check_name_lines(record: LetterRecord) -> None:
    """A person's name is written on one line: one read over several lines of the address block or signature
    has taken in what stands beside it (a side column, a letterhead set level with the address)."""
    text = record.text.text if record.text else ""
    for name in ("recipient_name", "signatory_name"):
        fv = record.fields.get(name)
        if fv is not None and fv.start is not None and fv.end is not None and "\n" in text[fv.start:fv.end]:
            lines = text[fv.start:fv.end].count("\n") + 1
            record.flag(f"{name}: {fv.value!r} is read over {lines} lines; a side column or letterhead beside the address may be joined to it")


def check_confidence(record: LetterRecord) -> None:
    for fv in record.fields.values():
        if fv.confidence < MIN_CONFIDENCE:
            # where two readings of a scan disagree on the value, the flag names both ("'TS18 1LD' or 'TS13 1LD'")
            other = other_reading(record.text, str(fv.value), fv.start, fv.end) if record.text and fv.start is not None and fv.end is not None else None
            shown = f"{fv.value!r} or {other!r} (two readings of the scan disagree)" if other else repr(fv.value)
            record.flag(f"{fv.field}: {shown} was read with low confidence ({fv.confidence:.2f}, {fv.method})")


def check_ocr_dump(record: LetterRecord) -> None:
    """A text file that is another program's OCR of a scan has no word confidences to say which readings
    are sure, and its specks and misread letters reach every value: both sides go to a person."""
    if record.text is None or OCR_DUMP_METHOD not in record.text.page_methods:
        return
    why = "the file is another program's OCR of a scan (scanner specks at the edges of its lines), with no confidences to say which words were read right"
    record.flag(f"{WHOLE_TEXT}: {why}: check the fields against the paper")
    record.flag_statistics(f"{WHOLE_TEXT}: {why}: check the statistics against the paper")


def check_statistics(record: LetterRecord) -> None:
    """A statistic the finder did not fully understand, or a number it could not place, goes to a person."""
    for stat in record.statistics:
        if stat.problem:
            record.flag_statistics(f"statistic {stat.text!r}: {stat.problem}")
        elif not stat.subject:
            record.flag_statistics(f"statistic {stat.text!r}: no service or setting is named for it")
        elif stat.judgement is None and stat.form != "count" and stat.kind != "indicator":
            # a share of settings is cited for how they were judged; without a grade word it is not understood
            record.flag_statistics(f"statistic {stat.text!r}: no grade word goes with it")
    for number in record.numbers:
        if number.role == "unexplained":
            sentence = _sentence_around(record, number.start, number.end)
            record.flag_statistics(f"number {number.text!r} is neither a statistic nor a known kind of other number, in: {sentence!r}")


def _sentence_around(record: LetterRecord, start: int, end: int) -> str:
    text = record.text.text if record.text else ""
    a = max(text.rfind(". ", 0, start) + 2, text.rfind("\n\n", 0, start) + 2, 0)
    b = min(x for x in (text.find(". ", end), text.find("\n\n", end), len(text)) if x >= 0)
    return " ".join(text[a:b + 1].split())


def without_wrappers(text: str, segments: list[Segment]) -> str:
    """The text with the e-mail around a forwarded letter blanked out (offsets kept): the forwarder's note
    and the sender's disclaimer are prose of the e-mail's, not of a report quoting the letter."""
    for s in segments:
        if s.segment == "wrapper":
            text = text[:s.start] + " " * (s.end - s.start) + text[s.end:]
    return text


def validate_letter(record: LetterRecord) -> str:
    """Set and return the record's status (its fields) and set its statistics_status; reasons go into
    record.issues and record.statistics_issues."""
    if record.status == "failed":
        return record.status
    text = without_wrappers(record.text.text if record.text else "", record.segments)
    if not is_rating_letter(text):
        record.status = "not_rating_letter"
        reason = not_rating_reason(text) or "no rating line, scale or Ofsted rating wording found"
        record.flag(f"not a children's services rating letter: {reason}")
        return record.status
    for name in REQUIRED_FIELDS:
        if record.value(name) is None:
            record.flag(f"{name}: not found")
    check_rating(record, text)
    check_dates(record)
    check_scheme(record, text)
    check_authority_mentions(record, text)
    check_postcode(record)
    check_name_lines(record)
    check_confidence(record)
    check_ocr_dump(record)
    check_statistics(record)
    if not any(seg.segment == "narrative" for seg in record.segments):
        record.flag_statistics("narrative: not found, so the letter's statistics could not be read")
    if not record.scale and not _rating_confirmed(record, text):
        # the scale is boilerplate (an image in some letters): its absence matters only when nothing else confirms the rating
        record.flag("scale: the four-point scale table was not found")
    record.status = "needs_review" if record.issues else "ok"
    record.statistics_status = "needs_review" if record.statistics_issues else "ok"
    return record.status
