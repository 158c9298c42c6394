"""A small but realistic output folder, built from in-memory rows, for tests of the modules that read one.

Three letters modelled on real ones (two 2009 annual ratings and a 2010 annual assessment) plus a
document that could not be read. Their text is assembled from segments so every offset in the
fields, statistics and segments rows points at the right characters of documents.text.
"""
from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.schema import TABLES, to_frame

SCALE = [
    (4, "Performs excellently", "An organisation that significantly exceeds minimum requirements"),
    (3, "Performs well", "An organisation that exceeds minimum requirements"),
    (2, "Performs adequately", "An organisation that meets only minimum requirements"),
    (1, "Performs poorly", "An organisation that does not meet minimum requirements"),
]


@dataclass
class SampleLetter:
    file: str
    authority_name: str
    as_written: str
    la_code: str
    gss_code: str
    region: str
    date_iso: str
    date_text: str
    rating_year: int
    rating_score: int
    recipient_name: str
    recipient_title: str
    address: str
    postcode: str
    signatory_name: str
    signatory_title: str
    letter_type: str
    narrative: str
    statistics: list[dict]  # row values, plus the gold's subject "keyword" and "optional"
    status: str = "ok"
    issues: list[str] = field(default_factory=list)

    @property
    def rating_label(self) -> str:
        return next(label for score, label, _ in SCALE if score == self.rating_score)

    @property
    def salutation(self) -> str:
        title, *_, surname = self.recipient_name.split()
        return f"Dear {title} {surname}"


BROMLEY = SampleLetter(
    file="000_fab9377e44d3ba9b.txt",
    authority_name="Bromley",
    as_written="London Borough of Bromley",
    la_code="305",
    gss_code="E09000006",
    region="London",
    date_iso="2009-12-09",
    date_text="9 December 2009",
    rating_year=2009,
    rating_score=3,
    recipient_name="Mrs Gillian Pearson",
    recipient_title="Director of Children and Young People's Services",
    address="Civic Centre Stockwell Close Bromley London",
    postcode="BR1 3UH",
    signatory_name="Juliet Winstanley",
    signatory_title="Divisional Manager, CAA",
    letter_type="annual rating",
    narrative=(
        "Children's services in the London Borough of Bromley perform well.\n\n"
        "Children make a good start in life: an above average proportion of childminding and childcare "
        "provision, over 70%, is good or outstanding. A higher than average proportion of primary, secondary "
        "and sixth form schools is good or outstanding and no secondary schools are in Ofsted categories of concern.\n\n"
        "However, provision is only satisfactory for pupils in the pupil referral unit and one of the four special "
        "schools. The other three special schools are outstanding. The fostering agency is good. All three serious "
        "case reviews conducted between 1 April 2007 and 15 July 2009 have been evaluated by Ofsted as adequate.\n\n"
        "The inequality gap for Key Stage 2 pupils in receipt of free school meals is wider than average. However, "
        "good progress is being made in improving the attainment of Black pupils."
    ),
    statistics=[
        {"text": "over 70%", "kind": "percentage", "value": 70.0, "qualifier": "over", "subject": "childminding and childcare provision", "judgement": "good or outstanding", "keyword": "childminding"},
        {"text": "no secondary schools", "kind": "count", "value": 0.0, "qualifier": "no", "subject": "secondary schools", "judgement": None, "keyword": "secondary school", "optional": True},
        {"text": "one of the four special schools", "kind": "count", "value": 1.0, "denominator": 4.0, "subject": "special schools", "judgement": "satisfactory", "keyword": "special school"},
        {"text": "three special schools", "kind": "count", "value": 3.0, "subject": "special schools", "judgement": "outstanding", "keyword": "special schools"},
        {"text": "three serious case reviews", "kind": "count", "value": 3.0, "qualifier": "all", "subject": "serious case reviews", "judgement": "adequate", "keyword": "serious case review"},
    ],
)

WESTMINSTER = SampleLetter(
    file="002_c8e38d5c7059abd6.txt",
    authority_name="Westminster",
    as_written="London Borough of Westminster",
    la_code="213",
    gss_code="E09000033",
    region="London",
    date_iso="2009-12-09",
    date_text="9 December 2009",
    rating_year=2009,
    rating_score=3,
    recipient_name="Mr Michael O'Connor",
    recipient_title="Director of Children's Services & Families",
    address="Westminster City Hall 64 Victoria Street London",
    postcode="SW1E 6QP",
    signatory_name="Juliet Winstanley",
    signatory_title="Divisional Manager, CAA",
    letter_type="annual rating",
    narrative=(
        "Children's services in the London Borough of Westminster perform well.\n\n"
        "Only three of the eight secondary schools in Westminster are good or outstanding. Provision in nursery "
        "schools is very good, with 13 out of 14 inspected being good or better. There is less good quality "
        "childminding provision than found nationally, despite almost 60% being good or outstanding.\n\n"
        "The two special schools are good, as are two of the three pupil referral units, with one being satisfactory. "
        "The fostering agency and the adoption agency are good. Two serious case reviews have been evaluated "
        "between 1 April 2007 and 15 July 2009 and Ofsted has evaluated them as good.\n\n"
        "The \"Team Around the Child\" & <Early Help> approach means gaps are narrower at level 2 and 3 by the age of 19."
    ),
    statistics=[
        {"text": "three of the eight secondary schools", "kind": "count", "value": 3.0, "denominator": 8.0, "qualifier": "only", "subject": "secondary schools", "judgement": "good or outstanding", "keyword": "secondary school"},
        {"text": "13 out of 14", "kind": "count", "value": 13.0, "denominator": 14.0, "subject": "nursery schools", "judgement": "good or better", "keyword": "nursery"},
        {"text": "almost 60%", "kind": "percentage", "value": 60.0, "qualifier": "almost", "subject": "childminding provision", "judgement": "good or outstanding", "keyword": "childminding"},
        {"text": "two special schools", "kind": "count", "value": 2.0, "subject": "special schools", "judgement": "good", "keyword": "special school"},
        {"text": "two of the three pupil referral units", "kind": "count", "value": 2.0, "denominator": 3.0, "subject": "pupil referral units", "judgement": "good", "keyword": "pupil referral unit"},
        {"text": "one being satisfactory", "kind": "count", "value": 1.0, "subject": "pupil referral units", "judgement": "satisfactory", "keyword": "pupil referral unit", "optional": True},
        {"text": "Two serious case reviews", "kind": "count", "value": 2.0, "subject": "serious case reviews", "judgement": "good", "keyword": "serious case review"},
    ],
    status="needs_review",
    issues=["recipient_title: unusual <format> & punctuation", "scale: printed order differs"],
)

CUMBRIA = SampleLetter(
    file="117_3e1f0c9a5b2d7e44.txt",
    authority_name="Cumbria",
    as_written="Cumbria County Council",
    la_code="909",
    gss_code="E10000006",
    region="North West",
    date_iso="2010-12-08",
    date_text="8 December 2010",
    rating_year=2010,
    rating_score=2,
    recipient_name="Mr John Macilwraith",
    recipient_title="Corporate Director Children's Services",
    address="5 Portland Square Carlisle",
    postcode="CA1 1PU",
    signatory_name="John Goldup",
    signatory_title="Deputy Chief Inspector",
    letter_type="annual assessment",
    narrative=(
        "Children's services in Cumbria County Council perform adequately.\n\n"
        "Only four of the 10 children's homes are good or better, and 45% of childminders are good or outstanding. "
        "The fostering service is adequate."
    ),
    statistics=[
        {"text": "four of the 10 children's homes", "kind": "count", "value": 4.0, "denominator": 10.0, "qualifier": "only", "subject": "children's homes", "judgement": "good or better", "keyword": "children's home"},
        {"text": "45%", "kind": "percentage", "value": 45.0, "subject": "childminders", "judgement": "good or outstanding", "keyword": "childminder"},
    ],
)

SAMPLE_LETTERS = [BROMLEY, WESTMINSTER, CUMBRIA]
FAILED_FILE = "scans/unreadable letter.pdf"


def _segments(letter: SampleLetter) -> list[tuple[str, str]]:
    scale = "".join(f"{score}{label}{description}" for score, label, description in SCALE)
    kind = "rating" if letter.letter_type == "annual rating" else "assessment"
    return [
        ("header", (
            "Aviation House 125 Kingsway London WC2B 6SE T 08456 40 40 40 enquiries@ofsted.gov.uk\n\n"
            f"{letter.date_text}\n\n"
            f"{letter.recipient_name} {letter.recipient_title} {letter.as_written} {letter.address} {letter.postcode}\n\n"
            f"{letter.salutation}"
        )),
        ("preamble", (
            f"Children's services annual {kind}\n\n"
            "Ofsted guidance published in May 2009 explained that the annual rating would derive from a new "
            "performance profile of the quality of services and outcomes for children and young people."
        )),
        ("scale_table", f"The annual rating derives from a four point scale:\n\n{scale}"),
        ("rating", (
            f"Children's services {kind} {letter.rating_year}\n\n"
            f"Children's services {kind}\t{letter.rating_label} ({letter.rating_score})"
        )),
        ("narrative", letter.narrative),
        ("closing", (
            "The children's services rating is provided for the purpose of section 138 of the Education and "
            "Inspections Act 2006.\n\n"
            f"{letter.signatory_name}\n{letter.signatory_title}"
        )),
    ]


def _sentence(text: str, start: int, end: int) -> str:
    left = max(text.rfind(". ", 0, start) + 2, text.rfind("\n", 0, start) + 1, 0)
    match = re.search(r"\.(\s|$)", text[end:])
    right = end + match.start() + 1 if match else len(text)
    return text[left:right]


def _letter_tables(letter: SampleLetter) -> dict[str, list[dict]]:
    parts = _segments(letter)
    text = ""
    segments = []
    for name, part in parts:
        if text:
            text += "\n\n"
        segments.append({"segment": name, "part": 0, "start": len(text), "end": len(text) + len(part), "text": part})
        text += part
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    lid = sha[:16]
    for s in segments:
        s["letter_id"] = lid
    seg = {s["segment"]: s for s in segments}

    def span(needle: str, segment: str) -> tuple[int, int]:
        start = text.index(needle, seg[segment]["start"])
        return start, start + len(needle)

    values: dict[str, tuple[object, tuple[int, int] | None, str, float]] = {
        "authority_name": (letter.authority_name, None, "gazetteer", 1.0),
        "authority_as_written": (letter.as_written, span(letter.as_written, "header"), "regex", 1.0),
        "authority_la_code": (letter.la_code, None, "gazetteer", 1.0),
        "authority_gss_code": (letter.gss_code, None, "gazetteer", 1.0),
        "authority_region": (letter.region, None, "gazetteer", 1.0),
        "letter_date": (letter.date_iso, span(letter.date_text, "header"), "regex", 1.0),
        "rating_year": (letter.rating_year, span(str(letter.rating_year), "rating"), "regex", 1.0),
        "rating_score": (letter.rating_score, span(f"({letter.rating_score})", "rating"), "regex", 1.0),
        "rating_label": (letter.rating_label, span(f"\t{letter.rating_label}", "rating"), "regex", 1.0),
        "recipient_name": (letter.recipient_name, span(letter.recipient_name, "header"), "spacy", 0.9),
        "recipient_title": (letter.recipient_title, span(letter.recipient_title, "header"), "regex", 0.6),
        "recipient_postcode": (letter.postcode, span(letter.postcode, "header"), "regex", 1.0),
        "salutation": (letter.salutation, span(letter.salutation, "header"), "regex", 1.0),
        "signatory_name": (letter.signatory_name, span(letter.signatory_name, "closing"), "layout", 0.95),
        "signatory_title": (letter.signatory_title, span(letter.signatory_title, "closing"), "layout", 0.95),
    }
    fields = []
    for name, (value, where, method, confidence) in values.items():
        start, end = where if where else (None, None)
        if name == "rating_label" and where:
            start += 1
        fields.append({"letter_id": lid, "field": name, "value": str(value), "start": start, "end": end,
                       "page": 1, "method": method, "confidence": confidence})

    statistics = []
    for i, st in enumerate(letter.statistics):
        start, end = span(st["text"], "narrative")
        statistics.append({
            "letter_id": lid, "stat_index": i, "text": st["text"], "start": start, "end": end,
            "sentence": _sentence(text, start, end), "kind": st["kind"], "value": st["value"],
            "denominator": st.get("denominator"), "qualifier": st.get("qualifier"),
            "subject": st.get("subject"), "judgement": st.get("judgement"),
        })

    row = {"letter_id": lid, "source_path": f"seeds/{letter.file}", "source_format": "txt", "status": letter.status,
           "letter_type": letter.letter_type, "n_statistics": len(statistics), "duplicate_of": None,
           "issues": " | ".join(letter.issues) or None,
           "statistics_status": "ok" if letter.status in ("ok", "needs_review") else None}
    row.update({name: value for name, (value, *_rest) in values.items()})
    return {
        "letters": [row],
        "statistics": statistics,
        "segments": segments,
        "scale": [{"letter_id": lid, "score": s, "label": label, "description": d, "method": "text"} for s, label, d in SCALE],
        "fields": fields,
        "documents": [{"letter_id": lid, "source_path": row["source_path"], "sha256": sha, "pages": 1,
                       "n_chars": len(text), "text": text}],
        "errors": [],
    }


def _failed_tables() -> dict[str, list[dict]]:
    lid = hashlib.sha256(b"%PDF-1.4 truncated").hexdigest()[:16]
    return {
        "letters": [{"letter_id": lid, "source_path": FAILED_FILE, "source_format": "pdf", "status": "failed",
                     "n_statistics": 0, "issues": "could not read the PDF: file is truncated"}],
        "errors": [{"letter_id": lid, "source_path": FAILED_FILE, "stage": "read", "error": "corrupt_pdf",
                    "message": "The PDF is truncated <EOF missing>; re-download it."}],
    }


def sample_tables() -> dict[str, list[dict]]:
    """Fresh rows for every table (safe to modify): three letters and one failed document."""
    tables: dict[str, list[dict]] = {name: [] for name in TABLES}
    for part in [*(_letter_tables(letter) for letter in SAMPLE_LETTERS), _failed_tables()]:
        for name, rows in part.items():
            tables[name].extend(copy.deepcopy(rows))
    return tables


def letter_id_of(tables: dict[str, list[dict]], file_name: str) -> str:
    """The letter_id of the row whose source_path ends with file_name."""
    return next(r["letter_id"] for r in tables["letters"] if r["source_path"].endswith(file_name))


def write_output(out_dir: Path, tables: dict[str, list[dict]] | None = None,
                 formats: tuple[str, ...] = ("csv", "parquet")) -> Path:
    """Write every table (the sample when tables is None) as the ingest command does: CSV and Parquet."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = sample_tables() if tables is None else tables
    for name in TABLES:
        frame = to_frame(name, tables.get(name, []))
        if "csv" in formats:
            frame.to_csv(out_dir / f"{name}.csv", index=False)
        if "parquet" in formats:
            frame.to_parquet(out_dir / f"{name}.parquet", index=False)
    return out_dir


def sample_gold() -> list[dict]:
    """Gold files in the shape of shared/gold/*.json for the sample letters (all correct for the sample)."""
    gold = []
    for letter in SAMPLE_LETTERS:
        g: dict = {
            "file": letter.file,
            "status": "ok",
            "fields": {
                "authority_name": letter.authority_name,
                "authority_as_written": letter.as_written,
                "authority_la_code": letter.la_code,
                "authority_gss_code": letter.gss_code,
                "letter_date": letter.date_iso,
                "rating_year": letter.rating_year,
                "rating_score": letter.rating_score,
                "rating_label": letter.rating_label,
                "recipient_name": letter.recipient_name,
                "recipient_title": letter.recipient_title.replace("&", "and"),
                "recipient_postcode": letter.postcode,
                "signatory_name": letter.signatory_name,
                "signatory_title": letter.signatory_title,
            },
            "scale": [list(s) for s in SCALE],
            "segments_contain": {
                "header": [letter.date_text, letter.salutation],
                "scale_table": ["Performs excellently", "does not meet minimum requirements"],
                "rating": [f"{letter.rating_label} ({letter.rating_score})"],
                "narrative": [letter.statistics[0]["text"]],
                "closing": ["section 138", letter.signatory_title],
            },
            "statistics": [],
            "optional_statistics": [],
            "not_statistics": ["Key Stage 2", "section 138", "1 April 2007", "15 July 2009", "level 2 and 3"],
        }
        if letter.status != "ok":
            g["status_also_accepted"] = [letter.status]
        for st in letter.statistics:
            gs = {"text": st["text"], "kind": st["kind"], "value": int(st["value"]),
                  "denominator": None if st.get("denominator") is None else int(st["denominator"]),
                  "subject_keyword": st["keyword"]}
            if st.get("judgement"):
                gs["judgement"] = st["judgement"]
            g["optional_statistics" if st.get("optional") else "statistics"].append(gs)
        gold.append(g)
    gold.append({"file": Path(FAILED_FILE).name, "status": "failed", "fields": {}, "statistics": []})
    return gold


def archive_tables(n: int, seed: int = 0) -> dict[str, list[dict]]:
    """Rows of an archive of n documents, made from the sample letters without ingesting any: each
    152 authorities' letters for 2009 and 2010 in turn, every rating, a few duplicates (the same
    letter filed twice), failed documents and non-letters."""
    import csv
    import dataclasses
    import random

    from pipeline.config import DATA

    rng = random.Random(seed)
    with (DATA / "authorities.csv").open(encoding="utf-8") as fh:
        authorities = list(csv.DictReader(fh))
    tables: dict[str, list[dict]] = {name: [] for name in TABLES}
    letters: list[dict] = []
    for k in range(n):
        kind = rng.random()
        if kind < 0.02 and letters:
            original = rng.choice(letters)
            copy_rows = {name: [dict(r) for r in rows if r.get("letter_id") == original["letter_id"]] for name, rows in tables.items()}
            new_id = f"{original['letter_id']}-{k}"
            for rows in copy_rows.values():
                for r in rows:
                    r["letter_id"] = new_id
            copy_rows["letters"][0].update(duplicate_of=original["letter_id"], source_path=f"archive/copies/{k}.pdf")
            part = copy_rows
        elif kind < 0.04:
            lid = hashlib.sha256(f"failed {k}".encode()).hexdigest()[:16]
            part = {"letters": [{"letter_id": lid, "source_path": f"archive/scans/{k}.pdf", "source_format": "pdf", "status": "failed",
                                 "n_statistics": 0, "issues": "the PDF cannot be opened"}],
                    "errors": [{"letter_id": lid, "source_path": f"archive/scans/{k}.pdf", "stage": "read", "error": "corrupt_pdf",
                                "message": "the PDF cannot be opened (damaged or truncated)"}]}
        elif kind < 0.06:
            lid = hashlib.sha256(f"other {k}".encode()).hexdigest()[:16]
            text = "Minutes of the meeting of the schools forum.\n\n" + "Item noted. " * 400
            part = {"letters": [{"letter_id": lid, "source_path": f"archive/other/{k}.txt", "source_format": "txt",
                                 "status": "not_rating_letter", "n_statistics": 0}],
                    "documents": [{"letter_id": lid, "source_path": f"archive/other/{k}.txt", "sha256": lid * 4, "pages": 1,
                                   "n_chars": len(text), "text": text}]}
        else:
            authority = authorities[k % len(authorities)]
            year = 2009 + (k // len(authorities)) % 2
            template = (BROMLEY, WESTMINSTER, CUMBRIA)[k % 3]
            letter = dataclasses.replace(
                template, file=f"{year}/{authority['name']}.pdf", authority_name=authority["name"],
                as_written=authority["aliases"].split(";")[0] or authority["name"], la_code=authority["la_code"],
                gss_code=authority["gss_code"], region=authority["region"], rating_year=year,
                date_iso=f"{year}-12-0{1 + k % 9}", date_text=f"{1 + k % 9} December {year}", rating_score=rng.randint(1, 4),
                narrative=template.narrative.replace(template.as_written, authority["name"]) + f"\n\nReference {k}.",
                status=rng.choice(["ok"] * 4 + ["needs_review"]), issues=[],
            )
            part = _letter_tables(letter)
            part["letters"][0]["source_path"] = f"archive/{letter.file}"
            if letter.status == "needs_review":
                part["letters"][0]["issues"] = "recipient_name: low OCR confidence"
        for name, rows in part.items():
            tables[name].extend(rows)
        letters.append(part["letters"][0])
    return tables
