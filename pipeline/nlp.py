"""The spaCy pipeline that finds cited statistics in a letter's narrative.

models/ofsted_letters is a blank English pipeline: a sentencizer, an entity ruler that marks
SUBJECT (settings and services) and JUDGEMENT (grade phrases) from pipeline/data/statistics.toml,
and `letter_statistics`, our component, registered as a spaCy factory (and shipped through the
`spacy_factories` entry point) so `spacy.load()` can build it without importing us first.
Rebuild the model after changing the vocabularies: `python -m pipeline.nlp models/ofsted_letters`.
"""
from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

import regex
import spacy
from spacy.language import Language
from spacy.tokens import Doc

from pipeline.config import alternation, patterns, vocab
from pipeline.records import Statistic

# inside the package when installed from a wheel (pyproject.toml ships models/ there), else the repository's
MODEL_DIR = next(
    (d for d in (Path(__file__).resolve().parent / "models" / "ofsted_letters", Path(__file__).resolve().parent.parent / "models" / "ofsted_letters") if d.is_dir()),
    Path(__file__).resolve().parent.parent / "models" / "ofsted_letters",
)

if not Doc.has_extension("statistics"):
    Doc.set_extension("statistics", default=None)


def ruler_patterns() -> list[dict]:
    """Entity-ruler patterns for subjects and judgements, from the vocabularies."""
    v = vocab()
    out = [{"label": "SUBJECT", "pattern": p} for p in v["subjects"]["phrases"]]
    out += [{"label": "JUDGEMENT", "pattern": p} for p in v["judgements"]["phrases"]]
    return out


def build_pipeline() -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns(ruler_patterns())
    nlp.add_pipe("letter_statistics")
    nlp.meta["name"] = "ofsted_letters"
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = "Finds cited statistics, their subjects and judgements in Ofsted rating letters."
    return nlp


@lru_cache(maxsize=1)
def load_pipeline(path: str | None = None) -> Language:
    """The shipped pipeline via spacy.load(); built from the data files when models/ is absent."""
    model = Path(path) if path else MODEL_DIR
    if (model / "config.cfg").exists():
        return spacy.load(model)
    return build_pipeline()


class StatisticFinder:
    """Marks every cited statistic in a doc: doc._.statistics, offsets relative to the doc."""

    def __init__(self, nlp: Language, name: str) -> None:
        self.name = name
        v = vocab()
        words = v["numbers"]["words"]
        self.number_words = {k: v for k, v in words.items() if k not in ("no", "none")}
        self.zero_words = {"no": 0, "none": 0}
        self.generic = {g.lower() for g in v["subjects"]["generic"]}
        self.modifiers = {m.lower() for m in v["subjects"]["modifiers"]}
        # a number that follows "aged", "key stage", "section"... or precedes "years", "pm"... is no statistic
        before = "|".join(regex.escape(w.lower()) for w in sorted(v["distractors"]["before"], key=len, reverse=True))
        after = "|".join(regex.escape(w.lower()) for w in sorted(v["distractors"]["after"], key=len, reverse=True))
        self.distractor_before = regex.compile(rf"(?:^|\s)(?:{before})$")
        self.distractor_after = regex.compile(rf"(?:{after})(?:[ .,]|$)")
        self.of_gap = regex.compile(r"\s+of\s+(?:the\s+|all\s+|its\s+)?", regex.IGNORECASE)
        self.blank = regex.compile(r"\s*")
        self.punctuation = regex.compile(r"[,;.]")
        self.year = regex.compile(r"(19|20)\d\d")
        self.being = regex.compile(r"\s+(?:being|is|was|are|were)\b")
        self.inherit = [w.lower() for w in v["clauses"]["inherit"]]
        # digits (with thousands separators, never the tail of a longer number) or a number word
        num = rf"(?:(?<![\d,.])(?:\d{{1,3}}(?:,\d{{3}})+|\d+(?:\.\d+)?)(?![\d\w,])|(?:{'|'.join(sorted(self.number_words, key=len, reverse=True))})\b)"
        qual = alternation(v["qualifiers"]["words"])
        self.pattern = regex.compile(
            rf"(?:(?P<qual>\b(?:{qual}))\s+)?(?:(?:the|other|remaining)\s+)*"
            rf"(?:"
            rf"(?P<of>\bof\s+(?:the|its|all)\s+(?P<ofden>{num})\s+(?P<ofmid>[^,.;:]{{3,60}}?),\s+(?P<ofnum>{num}))\b"
            rf"|(?P<pct>(?<![\d,.])\b\d+(?:\.\d+)?)\s*(?:%|per\s*cent\b|percent\b)"
            rf"|(?P<num>\b{num})\s+(?:out\s+of|of|in)\s+(?:the\s+|all\s+|its\s+)?(?P<den>{num})"
            rf"|(?P<count>\b{num}|\bno\b)"
            rf")",
            regex.IGNORECASE,
        )
        # most sentences cite no number at all: a cheap test skips them
        self.has_number = regex.compile(rf"\d|\b(?:{'|'.join(words)})\b", regex.IGNORECASE)
        dates = patterns()["dates"]
        self.dates = regex.compile("|".join(f"(?:{dates[k]})" for k in ("day_month_year", "month_day_year", "numeric", "iso")), regex.IGNORECASE)
        openers = "|".join(v["clauses"]["openers"])
        self.clause_break = regex.compile(rf"[;:]\s+|,\s+(?=(?:{openers})\b)|\s+-\s+", regex.IGNORECASE)

    def __call__(self, doc: Doc) -> Doc:
        found: list[Statistic] = []
        # character offsets only: building token objects for every sentence costs more than the search
        ents = [(e.start_char, e.end_char, e.label_, e.text) for e in doc.ents]
        text = doc.text  # built from the tokens on every access: once, not once a sentence
        first = 0  # entities and sentences both run in order: walk them together
        for sent in doc.sents:
            start, end = sent.start_char, sent.end_char
            while first < len(ents) and ents[first][0] < start:
                first += 1
            last = first
            while last < len(ents) and ents[last][1] <= end:
                last += 1
            found.extend(self.sentence_statistics(text[start:end], start, ents[first:last]))
        for i, stat in enumerate(found):
            stat.stat_index = i
        doc._.statistics = found
        return doc

    def _value(self, text: str) -> float:
        low = text.lower()
        if low in self.number_words:
            return float(self.number_words[low])
        if low in self.zero_words:
            return 0.0
        return float(text.replace(",", ""))

    def _is_distractor(self, sent_text: str, start: int, end: int, blocked: list[tuple[int, int]]) -> bool:
        if any(s <= start < e for s, e in blocked):
            return True
        if self.distractor_before.search(sent_text[max(0, start - 40):start].lower().rstrip()):
            return True
        return self.distractor_after.match(sent_text[end:end + 80].lower().lstrip()) is not None

    def sentence_statistics(self, text: str, base: int, sent_ents: list[tuple[int, int, str, str]]) -> list[Statistic]:
        """The statistics of one sentence (text starting at base in the doc, with its entities)."""
        if not self.has_number.search(text):
            return []
        blocked = [(m.start(), m.end()) for m in self.dates.finditer(text)]
        ents = [(a - base, b - base, label, t) for a, b, label, t in sent_ents]
        subjects = [e for e in ents if e[2] == "SUBJECT"]
        judgements = [e for e in ents if e[2] == "JUDGEMENT"]
        clauses = self._clauses(text)
        stats: list[Statistic] = []
        for m in self.pattern.finditer(text):
            stat = self._statistic(m, text, subjects, blocked, stats)
            if stat is None:
                continue
            stat.judgement = self._judgement(stat.start, stat.end, judgements, clauses, text)
            stat.sentence = text.strip()
            stats.append(stat)
        for s in stats:
            s.start += base
            s.end += base
        return stats

    def _statistic(self, m: regex.Match, text: str, subjects: list, blocked: list, previous: list[Statistic]) -> Statistic | None:
        qual = (m["qual"] or "").lower() or None
        start = m.start("qual") if m["qual"] else min(m.start(g) for g in ("of", "pct", "num", "count") if m[g])
        if m["of"]:
            # "Of the 22 children's homes inspected, 5 are good": the total first, the count after the comma
            value, den = self._value(m["ofnum"]), self._value(m["ofden"])
            inside = [s for s in subjects if m.start("ofmid") <= s[0] and s[1] <= m.end("ofmid")]
            if not inside or den < value or self._is_distractor(text, m.start("ofden"), m.end("ofden"), blocked):
                return None
            return Statistic(text[m.start("of"):m.end()], m.start("of"), m.end(), "", "count", value, den, qual, inside[0][3])
        if m["pct"]:
            if self._is_distractor(text, m.start("pct"), m.end(), blocked):
                return None
            end = m.end()
            subject, subject_end = self._attached_subject(text, end, subjects, allow_of=True)
            if subject is None:
                subject = self._nearby_subject(start, subjects)
            else:
                end = subject_end
            return Statistic(text[start:end], start, end, "", "percentage", float(m["pct"]), None, qual, subject)
        if m["num"]:
            value, den = self._value(m["num"]), self._value(m["den"])
            if den < value or den == 0 or self._is_distractor(text, m.start("num"), m.end(), blocked):
                return None
            end = m.end()
            subject, subject_end = self._attached_subject(text, end, subjects)
            if subject is not None:
                end = subject_end
            else:
                subject = self._nearby_subject(start, subjects)
            return Statistic(text[start:end], start, end, "", "count", value, den, qual, subject)
        word = m["count"]
        if self._is_distractor(text, m.start("count"), m.end("count"), blocked):
            return None
        if self.year.fullmatch(word):
            return None
        subject, subject_end = self._attached_subject(text, m.end(), subjects)
        if subject is None:
            # ellipsis: "..., with one being satisfactory" counts the subject of the statistic before it
            if previous and word.lower() in self.number_words and self.being.match(text, m.end()):
                prev = previous[-1]
                return Statistic(text[start:m.end()], start, m.end(), "", "count", self._value(word), None, qual, prev.subject)
            return None
        if word.lower() in self.zero_words and subject.lower() in self.generic:
            return None
        return Statistic(text[start:subject_end], start, subject_end, "", "count", self._value(word), None, qual, subject)

    def _attached_subject(self, text: str, end: int, subjects: list, allow_of: bool = False) -> tuple[str | None, int]:
        """The subject written right after the number ("three special schools", "70% of nursery schools")."""
        for s_start, s_end, _, s_text in subjects:
            if s_start < end:
                continue
            gap = text[end:s_start]
            words = gap.split()
            if allow_of:
                if self.of_gap.fullmatch(gap):
                    return s_text, s_end
                return None, end
            if self.blank.fullmatch(gap) or (len(words) <= 2 and all(w.lower().strip(",") in self.modifiers for w in words) and not self.punctuation.search(gap)):
                return s_text, s_end
            return None, end
        return None, end

    def _nearby_subject(self, start: int, subjects: list) -> str | None:
        """The subject of a number that stands apart from it: the nearest named setting before it, else after."""
        before = [s for s in subjects if s[1] <= start]
        after = [s for s in subjects if s[0] >= start]
        for pool in (reversed(before), after):
            pool = list(pool)
            specific = [s for s in pool if s[3].lower() not in self.generic]
            if specific:
                return specific[0][3]
        pool = list(reversed(before)) + after
        return pool[0][3] if pool else None

    def _clauses(self, text: str) -> list[tuple[int, int]]:
        cuts = [0] + [m.start() for m in self.clause_break.finditer(text)] + [len(text)]
        return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]

    def _judgement(self, start: int, end: int, judgements: list, clauses: list[tuple[int, int]], text: str) -> str | None:
        index = next((i for i, (a, b) in enumerate(clauses) if a <= start < b), 0)
        c_start, c_end = clauses[index]
        after = [j for j in judgements if j[0] >= end and j[1] <= c_end]
        if after:
            return after[0][3].lower()
        clause_text = text[c_start:start].lower()
        inherits = any(w in clause_text for w in self.inherit)
        before = [j for j in judgements if j[1] <= start and j[0] >= c_start]
        if before and not inherits:
            return before[-1][3].lower()
        earlier = [j for j in judgements if j[1] <= start]
        if earlier:
            return earlier[-1][3].lower()
        later = [j for j in judgements if j[0] >= end]
        return later[0][3].lower() if later else None


@Language.factory("letter_statistics")
def make_statistic_finder(nlp: Language, name: str) -> StatisticFinder:
    return StatisticFinder(nlp, name)


def main(argv: list[str]) -> int:
    """Write the pipeline to disk: `python -m pipeline.nlp [DIR]`."""
    target = Path(argv[1]) if len(argv) > 1 else MODEL_DIR
    build_pipeline().to_disk(target)
    print(f"wrote {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
