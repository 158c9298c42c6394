"""Outcome indicators: figures a letter cites that no inspection judged.

"56% of pupils attained five or more GCSEs", "the proportion of care leavers in suitable accommodation
is 94%", "re-referrals rose to 31.5%": each is about a group of children or a kind of casework (its
subject) and says what was measured of it (its measure). Such a figure has no grade word, and a reader
records it as an indicator, not as a statistic the letter failed to explain. The vocabulary is in
pipeline/data/statistics.toml, [indicators].
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import regex

from pipeline.config import alternation, vocab

# an indicator's number in the NI set ("(NI 59)") is a reference, not part of its measure
_PARENTHESES = regex.compile(r"\s*\([^()]*\)")


@dataclass(frozen=True)
class Indicator:
    subject: str
    measure: str | None


@dataclass(frozen=True)
class _Vocabulary:
    subject: regex.Pattern
    lead: regex.Pattern
    opening: regex.Pattern
    of_subject: regex.Pattern
    verb: regex.Pattern
    state: regex.Pattern



@lru_cache(maxsize=1)
def _vocabulary() -> _Vocabulary:
    v = vocab()["indicators"]
    subjects = alternation(v["subjects"])
    return _Vocabulary(
        subject=regex.compile(rf"(?:{subjects})", regex.IGNORECASE),
        lead=regex.compile(rf"\b(?:{alternation(v['leads'])})\s+of\s+(?:the\s+|all\s+)?(?P<subject>{subjects})\b", regex.IGNORECASE),
        opening=regex.compile(rf"^\W*(?:the\s+)?(?P<subject>{subjects})\b", regex.IGNORECASE),
        of_subject=regex.compile(rf"^\s*of\s+(?:the\s+|all\s+)?(?P<subject>{subjects})\b", regex.IGNORECASE),
        verb=regex.compile(rf"\b(?:{alternation(v['verbs'])})\b", regex.IGNORECASE),
        state=regex.compile(rf"^\s*(?:{alternation(v['states'])})\s+(?!\d)\w", regex.IGNORECASE),
    )


def is_indicator_subject(subject: str | None) -> bool:
    """Whether a statistic's subject is a group or casework an indicator measures (pupils, care leavers ...)."""
    return bool(subject) and bool(_vocabulary().subject.fullmatch(subject.strip()))


def read_indicator(clause: str, before: str, after: str, subject: str | None, adjacent: bool) -> Indicator | None:
    """The indicator a figure states, or None when nothing marks it as one.

    clause is the figure's clause up to the figure, before the sentence up to the figure, after the rest
    of its clause after the statistic; adjacent says the statistic's subject is written with the figure
    ("56% of pupils"), not found elsewhere in the sentence. The subject is, in order: the group a lead
    names ("the proportion of care leavers ... is 94%"), the figure's own group ("56% of pupils
    attained ..."), a group opening the clause ("Re-referrals ... rose to 31.5%"), or the sentence's
    group when a state follows the figure ("care leavers ..., with 88% in education").
    """
    words = _vocabulary()
    lead = indicator_lead(before, stated=False)
    if lead is not None:
        return lead
    if adjacent and is_indicator_subject(subject):
        return Indicator(str(subject), _measure(after, predicate=True))
    of_subject = words.of_subject.match(after)
    if of_subject is not None:
        return Indicator(_clean(of_subject["subject"]), _measure(after[of_subject.end():], predicate=True))
    opening = words.opening.match(clause)
    if opening is not None:
        return Indicator(_clean(opening["subject"]), _measure(clause[opening.end():]))
    if is_indicator_subject(subject) and words.state.match(after):
        # "care leavers ... with 88% in education, employment or training": the group named in the sentence,
        # the state it is measured in written after the figure (not a time: "in 2008-09")
        return Indicator(str(subject), _measure(after, predicate=True))
    return None


# what states a figure right before it: "fell to 312", "is 94", "stood at 277", "a total of 40"
_STATED = regex.compile(r"\b(?:is|was|were|are|has\s+been|had\s+been|stood\s+at|stands\s+at|remains\s+at|remained\s+at|"
                        r"(?:fell|fallen|rose|risen|increased|decreased|dropped|grew|grown|reduced|declined|climbed)\s+to|reached|totalled|of)"
                        r"(?:\s+(?:about|around|over|nearly|almost|some|just|only|under|more\s+than|fewer\s+than|less\s+than))?\s+$", regex.IGNORECASE)


def indicator_lead(before: str, stated: bool = True) -> Indicator | None:
    """The indicator a lead names before a figure ("the number of looked after children has risen to 277"),
    or None. With stated, a verb must state the figure right after the lead's words: a count is an
    indicator only then, not a number inside the measure ("within seven working days"); a share ("at 31%")
    needs no verb."""
    leads = list(_vocabulary().lead.finditer(before))
    if not leads or (stated and not _STATED.search(before[leads[-1].end():])):
        return None
    lead = leads[-1]
    return Indicator(_clean(lead["subject"]), _measure(before[lead.end():]))


def _measure(text: str, predicate: bool = False) -> str | None:
    """The words that say what is measured: after the subject up to the verb stating the figure
    ("in suitable accommodation"), or, after "X% of pupils", the predicate ("attained five or more GCSEs")."""
    text = _PARENTHESES.sub("", text)
    if not predicate:
        verb = _vocabulary().verb.search(text)
        text = text[: verb.start()] if verb else text
    text = " ".join(text.split()).strip(" ,;:.-")
    return text or None


def _clean(text: str) -> str:
    return " ".join(text.split())
