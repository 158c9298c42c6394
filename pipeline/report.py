"""One self-contained HTML report of an output folder, for a person to check the extraction.

Everything is inline (CSS, a little JavaScript, SVG charts), so the file can be mailed or opened
offline. Each extracted value links to its highlighted evidence in the letter's text, rendered
with spaCy's displaCy, so a reader can see why the value was chosen.

Made to open quickly on an archive of thousands of letters: the page holds the summary, the
charts (one pair per rating year), the table of letters (a page of rows at a time) with its
search box, and the issues; each letter's highlighted article is kept as HTML in one packed
JSON block (gzip, base64) and put on the page only when the letter is opened, so the browser
lays out one letter, not thousands. A document that is not a rating letter shows only the
start of its text.
"""
from __future__ import annotations

import base64
import datetime as dt
import gzip
import html
import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from string import Template

import pandas as pd
import pyarrow as pa
from spacy.displacy.render import EntityRenderer

from pipeline.coverage import CoverageReport, YearCoverage, coverage
from pipeline.dataset import read_table, require_letters
from pipeline.rows import part_phrase

STATUSES = ["ok", "needs_review", "failed", "not_rating_letter"]
GRADE_LABELS = {4: "Performs excellently", 3: "Performs well", 2: "Performs adequately", 1: "Performs poorly"}
GRADE_COLOURS = {4: "#1a7f37", 3: "#7fc97f", 2: "#f2c14e", 1: "#d1495b", None: "#b8c0c8"}
MARK_COLOURS = {"field": "#cfe2ff", "percentage": "#ffe08a", "count": "#c3f0c8", "indicator": "#e6d3f5"}
NO_REGION = "Region not known"
NO_YEAR = "year not known"
# characters of text shown for a document that is not a rating letter, and for any other
TEXT_CAP = {"not_rating_letter": 5_000, None: 100_000}
# rows of the letters table shown at first (and added by each "show more")
TABLE_PAGE = 100

# displaCy's entity template, with room for anchor ids, a class and a tooltip (all escaped by us).
_ENT_TEMPLATE = (
    '<mark class="entity entity-{kind}" id="{anchor}" title="{tooltip}" style="background: {bg}">'
    '{extra_anchors}{text}<span class="entity-label">{label}</span></mark>'
)


def _esc(value: object) -> str:
    """Text for HTML (content or attribute): empty for null, escaped otherwise."""
    if _missing(value):
        return ""
    return html.escape(str(value), quote=True)


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _anchor(*parts: object) -> str:
    """An id safe in HTML and in a URL fragment."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", "-".join(str(p) for p in parts)).strip("-")


def _int(value: object) -> int | None:
    return None if _missing(value) else int(value)  # type: ignore[call-overload]


@dataclass
class _Mark:
    """A stretch of text to highlight: a field's evidence or a statistic."""

    start: int
    end: int
    kind: str  # field | percentage | count
    label: str
    tooltip: str
    anchor: str


@dataclass
class _Piece:
    """A stretch of the letter's text shown under one heading: a segment, or text outside any."""

    name: str
    anchor: str
    start: int
    end: int


@dataclass
class _LetterData:
    letter: dict
    text: str | None
    fields: list[dict]
    statistics: list[dict]
    segments: list[dict]
    errors: list[dict]


def _records(frame: pd.DataFrame) -> list[dict]:
    """The rows as dicts with None for every missing value; through Arrow, many times faster than
    pandas' to_dict on its Arrow-backed columns."""
    return pa.Table.from_pandas(frame, preserve_index=False).to_pylist()


def _group(frame: pd.DataFrame) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for row in _records(frame):
        grouped.setdefault(row["letter_id"], []).append(row)
    return grouped


def _load(out_dir: Path) -> list[_LetterData]:
    letters = _records(read_table(out_dir, "letters"))
    fields = _group(read_table(out_dir, "fields"))
    statistics = _group(read_table(out_dir, "statistics"))
    segments = _group(read_table(out_dir, "segments"))
    errors = _group(read_table(out_dir, "errors"))
    texts = {r["letter_id"]: r["text"] for r in _records(read_table(out_dir, "documents"))}
    return [
        _LetterData(
            letter=row,
            text=texts.get(row["letter_id"]) or None,
            fields=fields.get(row["letter_id"], []),
            statistics=sorted(statistics.get(row["letter_id"], []), key=lambda s: s["stat_index"]),
            segments=segments.get(row["letter_id"], []),
            errors=errors.get(row["letter_id"], []),
        )
        for row in letters
    ]


def _display_name(letter: dict) -> str:
    return letter.get("authority_name") or ", ".join(filter(None, [Path(str(letter["source_path"])).name, part_phrase(letter)]))


def _letter_anchor(letter: dict | str) -> str:
    return _anchor("letter", letter if isinstance(letter, str) else letter["letter_id"])


@lru_cache(maxsize=1)
def _entity_renderer() -> EntityRenderer:
    """displaCy's entity renderer, made once: displacy.render makes one per call, which looks up
    its registry every time (most of the report's time on a large archive)."""
    return EntityRenderer(options={"template": _ENT_TEMPLATE})


def _status_badge(status: object) -> str:
    return f'<span class="badge status-{_anchor(status)}">{_esc(status)}</span>'


def _statistics_badge(letter: dict) -> str:
    """A second badge when the statistics are doubted apart from the fields."""
    if letter.get("statistics_status") != "needs_review":
        return ""
    return ' <span class="badge status-needs_review" title="statistics_status: a statistic needs checking">statistics: needs_review</span>'


def _is_counted(letter: dict) -> bool:
    """Letters counted in the rating charts: rating letters that are not duplicates of another."""
    return letter.get("status") not in ("failed", "not_rating_letter") and not letter.get("duplicate_of")


# ---------------------------------------------------------------- charts


def _grade_labels(letters: list[dict]) -> dict[int, str]:
    """Each score's label as the letters print it (most common), else the standard scale."""
    seen: dict[int, Counter] = {}
    for letter in letters:
        score, label = _int(letter.get("rating_score")), letter.get("rating_label")
        if score is not None and label:
            seen.setdefault(score, Counter())[label] += 1
    return {score: (seen[score].most_common(1)[0][0] if score in seen else label) for score, label in GRADE_LABELS.items()}


def _grade_chart(letters: list[dict], labels: dict[int, str], key: str) -> str:
    """Vertical bars: how many letters have each rating (and how many have none)."""
    counts = Counter(_int(letter.get("rating_score")) for letter in letters)
    bars = [(score, labels.get(score, str(score)) if score is not None else "No rating", counts.get(score, 0)) for score in (4, 3, 2, 1, None)]
    if not counts.get(None):
        bars = bars[:-1]
    width, height, left, bottom, top = 560, 270, 40, 60, 20
    slot = (width - left - 10) / len(bars)
    peak = max([n for *_, n in bars] + [1])
    scale = (height - bottom - top) / peak
    parts = [
        f'<svg class="chart chart-grade" id="chart-grade-{key}" role="img" aria-labelledby="chart-grade-{key}-title" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f'<title id="chart-grade-{key}-title">Letters by rating, {key}</title>',
        f'<line class="axis" x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}"/>',
    ]
    for i, (score, label, n) in enumerate(bars):
        x = left + i * slot + slot * 0.15
        bar_h = n * scale
        y = height - bottom - bar_h
        parts += [
            f'<g class="bar" data-grade="{score if score is not None else "none"}" data-count="{n}">',
            f'<title>{_esc(label)}: {n} letter{"s" if n != 1 else ""}</title>',
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{bar_h:.1f}" fill="{GRADE_COLOURS[score]}"/>',
            f'<text x="{x + slot * 0.35:.1f}" y="{y - 5:.1f}" text-anchor="middle">{n}</text>',
            f'<text x="{x + slot * 0.35:.1f}" y="{height - bottom + 18}" text-anchor="middle">'
            f'{"" if score is None else f"{score} "}{_esc(label.replace("Performs ", ""))}</text>',
            "</g>",
        ]
    parts.append("</svg>")
    return "".join(parts)


def _legend(grades: list[int | None], labels: dict[int, str]) -> str:
    """The colours of the ratings, as HTML beside the chart, so it wraps to the width it has."""
    items = "".join(
        f'<li><span class="swatch" style="background: {GRADE_COLOURS[g]}"></span>'
        f'{_esc(labels.get(g, str(g)) if g is not None else "No rating")}</li>'
        for g in grades
    )
    return f'<ul class="legend">{items}</ul>'


def _region_chart(letters: list[dict], labels: dict[int, str], key: str) -> str:
    """Horizontal stacked bars: for each region, how many letters have each rating; the legend as HTML."""
    by_region: dict[str, Counter] = {}
    for letter in letters:
        by_region.setdefault(letter.get("authority_region") or NO_REGION, Counter())[_int(letter.get("rating_score"))] += 1
    regions = sorted(by_region, key=lambda r: (r == NO_REGION, r))
    grades = [g for g in (4, 3, 2, 1, None) if any(by_region[r][g] for r in regions)]
    # room for the longest region name at about 7 px a character of 12 px type
    label_w = 16 + 7 * max([len(r) for r in regions] + [8])
    row_h, width, top = 26, label_w + 470, 8
    height = top + row_h * max(len(regions), 1) + 10
    peak = max([sum(c.values()) for c in by_region.values()] + [1])
    unit = (width - label_w - 40) / peak
    parts = [
        f'<svg class="chart chart-region" id="chart-region-{key}" role="img" aria-labelledby="chart-region-{key}-title" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f'<title id="chart-region-{key}-title">Letters by region and rating, {key}</title>',
    ]
    for i, region in enumerate(regions):
        y = top + i * row_h
        parts += [
            f'<g class="region" data-region="{_esc(region)}">',
            f'<text x="{label_w - 8}" y="{y + row_h * 0.62:.1f}" text-anchor="end">{_esc(region)}</text>',
        ]
        x = float(label_w)
        for grade in grades:
            n = by_region[region][grade]
            if not n:
                continue
            name = labels.get(grade, "") if grade is not None else "No rating"
            w = n * unit
            parts += [
                f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" fill="{GRADE_COLOURS[grade]}">'
                f'<title>{_esc(region)}, {_esc(name)}: {n}</title></rect>',
                f'<text x="{x + w / 2:.1f}" y="{y + row_h * 0.62:.1f}" text-anchor="middle">{n}</text>' if w >= 14 else "",
            ]
            x += w
        parts += [f'<text x="{x + 6:.1f}" y="{y + row_h * 0.62:.1f}" class="total">{sum(by_region[region].values())}</text>', "</g>"]
    parts.append("</svg>")
    return "".join(parts) + _legend(grades, labels)


# ---------------------------------------------------------------- letter text


def _shown_length(data: _LetterData) -> int:
    """How much of the document's text the report shows: all of a letter's, the start of anything else's."""
    cap = TEXT_CAP.get(data.letter.get("status"), TEXT_CAP[None])
    return min(len(data.text or ""), cap)


def _marks(data: _LetterData) -> list[_Mark]:
    """Every highlightable span whose offsets fall inside the text shown."""
    n = _shown_length(data)
    marks = []
    for f in data.fields:
        start, end = _int(f.get("start")), _int(f.get("end"))
        if start is not None and end is not None and 0 <= start < end <= n:
            marks.append(_Mark(start, end, "field", f["field"], f"{f['field']} = {f.get('value')}",
                               _anchor("f", data.letter["letter_id"], f["field"])))
    for s in data.statistics:
        start, end = _int(s.get("start")), _int(s.get("end"))
        if start is not None and end is not None and 0 <= start < end <= n:
            kind = s.get("kind") if s.get("kind") in MARK_COLOURS else "count"
            label = " · ".join(str(p) for p in (str(s.get("kind") or "statistic").upper(), s.get("subject"), s.get("judgement")) if p)
            tooltip = f"statistic {s['stat_index']}: value {s.get('value')}" + (f" of {s.get('denominator')}" if s.get("denominator") is not None else "")
            marks.append(_Mark(start, end, kind, label, tooltip, _anchor("s", data.letter["letter_id"], s["stat_index"])))
    return sorted(marks, key=lambda m: (m.start, -m.end))


def _pieces(data: _LetterData) -> list[_Piece]:
    """The text shown cut into its segments, in order, plus any text that lies outside every segment."""
    text = (data.text or "")[:_shown_length(data)]
    lid = data.letter["letter_id"]
    placed = sorted(
        (s for s in data.segments if _int(s.get("start")) is not None and _int(s.get("end")) is not None),
        key=lambda s: (int(s["start"]), int(s["end"])),
    )
    pieces: list[_Piece] = []
    cursor = 0
    for s in placed:
        start, end = max(int(s["start"]), cursor), min(int(s["end"]), len(text))
        if start >= end:
            continue
        if text[cursor:start].strip():
            pieces.append(_Piece("outside any segment", _anchor("seg", lid, "outside", len(pieces)), cursor, start))
        part = _int(s.get("part")) or 0
        name = f"{s['segment']} (part {part + 1})" if part else s["segment"]
        pieces.append(_Piece(name, _anchor("seg", lid, s["segment"], part), start, end))
        cursor = end
    if text[cursor:].strip():
        name = "outside any segment" if pieces else "text (no segments found)"
        pieces.append(_Piece(name, _anchor("seg", lid, "outside", len(pieces)), cursor, len(text)))
    return pieces


def _ents(marks: list[_Mark], piece: _Piece) -> list[dict]:
    """displaCy entity dicts for one piece; overlapping marks merge into one, keeping every anchor."""
    inside = [m for m in marks if piece.start <= m.start < piece.end]
    groups: list[list[_Mark]] = []
    for m in inside:
        if groups and m.start < max(g.end for g in groups[-1]):
            groups[-1].append(m)
        else:
            groups.append([m])
    ents = []
    for group in groups:
        first = group[0]
        ents.append({
            "start": first.start - piece.start,
            "end": min(max(m.end for m in group), piece.end) - piece.start,
            "label": html.escape(" + ".join(m.label for m in group)),
            "params": {
                "anchor": first.anchor,
                "extra_anchors": "".join(f'<span id="{m.anchor}"></span>' for m in group[1:]),
                "kind": first.kind,
                "tooltip": html.escape(" | ".join(m.tooltip for m in group), quote=True),
                "bg": MARK_COLOURS[first.kind],
            },
        })
    return ents


def _render_text(data: _LetterData) -> tuple[str, set[str]]:
    """The letter's text, segment by segment, with marks; and the anchor ids it defines."""
    text = data.text or ""
    marks = _marks(data)
    anchors: set[str] = set()
    blocks = []
    pieces = _pieces(data)
    for piece in pieces:
        ents = _ents(marks, piece)
        for ent in ents:
            anchors.add(ent["params"]["anchor"])
            anchors.update(re.findall(r'id="([^"]+)"', ent["params"]["extra_anchors"]))
        rendered = _entity_renderer().render([{"text": text[piece.start:piece.end], "ents": ents, "title": None}], page=False, minify=False).strip()
        outside = " segment-outside" if piece.name.startswith(("outside", "text (")) else ""
        blocks.append(
            f'<section class="segment{outside}" id="{piece.anchor}" data-segment="{_esc(piece.name)}">'
            f'<h5 class="segment-name">{_esc(piece.name)}</h5>{rendered}</section>'
        )
        anchors.add(piece.anchor)
    links = "".join(f'<a href="#{p.anchor}">{_esc(p.name)}</a>' for p in pieces)
    shown = _shown_length(data)
    why = "this document is not a rating letter" if data.letter.get("status") == "not_rating_letter" else "the text is longer than any letter"
    capped = (
        f'<p class="capped">Showing the first {shown:,} of {len(text):,} characters: {why}. '
        "The whole text is in the documents table (documents.text).</p>" if shown < len(text) else ""
    )
    return f'<nav class="segment-links">Parts: {links}</nav>' + capped + "".join(blocks), anchors


# ---------------------------------------------------------------- sections


def _link_or_text(value: object, anchor: str, anchors: set[str]) -> str:
    return f'<a href="#{anchor}">{_esc(value)}</a>' if anchor in anchors else _esc(value)


def _fields_table(data: _LetterData, anchors: set[str]) -> str:
    if not data.fields:
        return '<p class="muted">No values were extracted.</p>'
    rows = []
    for f in data.fields:
        confidence = f.get("confidence")
        rows.append(
            f"<tr><td>{_esc(f['field'])}</td>"
            f"<td>{_link_or_text(f.get('value'), _anchor('f', data.letter['letter_id'], f['field']), anchors)}</td>"
            f'<td class="num">{_esc(_int(f.get("page")))}</td><td>{_esc(f.get("method"))}</td>'
            f'<td class="num">{"" if confidence is None else f"{float(confidence):.2f}"}</td></tr>'
        )
    return (
        '<table class="fields"><thead><tr><th>field</th><th>value</th><th class="num">page</th>'
        '<th>method</th><th class="num">confidence</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>"
    )


def _number(value: object) -> str:
    if value is None:
        return ""
    number = float(value)  # type: ignore[arg-type]
    return str(int(number)) if number.is_integer() else f"{number:g}"


def _statistics_table(data: _LetterData, anchors: set[str]) -> str:
    if not data.statistics:
        return '<p class="muted">No statistics.</p>'
    rows = [
        f'<tr><td class="num">{_esc(s["stat_index"])}</td>'
        f"<td>{_link_or_text(s.get('text'), _anchor('s', data.letter['letter_id'], s['stat_index']), anchors)}</td>"
        f'<td>{_esc(s.get("kind"))}</td><td class="num">{_number(s.get("value"))}</td>'
        f'<td class="num">{_number(s.get("denominator"))}</td><td>{_esc(s.get("qualifier"))}</td>'
        f'<td>{_esc(s.get("subject"))}</td><td>{_esc(s.get("judgement"))}</td></tr>'
        for s in data.statistics
    ]
    return (
        '<table class="statistics"><thead><tr><th class="num">#</th><th>text</th><th>kind</th><th class="num">value</th>'
        '<th class="num">of</th><th>qualifier</th><th>subject</th><th>judgement</th></tr></thead><tbody>'
        + "".join(rows) + "</tbody></table>"
    )


def _issues_html(data: _LetterData) -> str:
    issues = [i for i in str(data.letter.get("issues") or "").split(" | ") if i.strip()]
    issues += [f"statistics: {i}" for i in str(data.letter.get("statistics_issues") or "").split(" | ") if i.strip() and not _missing(i)]
    parts = []
    if issues:
        parts.append('<ul class="issues">' + "".join(f"<li>{_esc(i)}</li>" for i in issues) + "</ul>")
    if data.errors:
        parts.append('<ul class="errors">' + "".join(
            f"<li><b>{_esc(e.get('stage'))}</b> {_esc(e.get('error'))}: {_esc(e.get('message'))}</li>" for e in data.errors
        ) + "</ul>")
    return "".join(parts)


def _letter_section(data: _LetterData, names: dict[str, str]) -> str:
    """One letter's article: what was found, its issues, and its text with every value highlighted."""
    letter = data.letter
    meta = [
        ("source", ", ".join(filter(None, [str(letter.get("source_path") or ""), part_phrase(letter)]))), ("letter_id", letter.get("letter_id")),
        ("format", letter.get("source_format")),
        ("type", letter.get("letter_type")), ("authority as written", letter.get("authority_as_written")),
        ("codes", " / ".join(str(c) for c in (letter.get("authority_la_code"), letter.get("authority_gss_code")) if c)),
        ("region", letter.get("authority_region")), ("date", letter.get("letter_date")),
        ("rating", " ".join(str(p) for p in (letter.get("rating_score"), letter.get("rating_label") and f"({letter['rating_label']})") if p)),
    ]
    meta_html = "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in meta if v not in (None, ""))
    original = letter.get("duplicate_of")
    if original:
        meta_html += f"<dt>duplicate of</dt><dd>{_original_link(original, names)}</dd>"
    if data.text:
        text_html, anchors = _render_text(data)
    else:
        text_html, anchors = '<p class="no-text">No text: this document could not be read, so nothing is highlighted.</p>', set()
    issues = _issues_html(data)
    return (
        f'<article class="letter" id="{_letter_anchor(letter)}">'
        f"<h3>{_esc(_display_name(letter))} {_status_badge(letter.get('status'))}{_statistics_badge(letter)}{_duplicate_badge(letter)}</h3>"
        f'<dl class="meta">{meta_html}</dl>'
        + (f"<h4>Issues</h4>{issues}" if issues else "")
        + f"<h4>Extracted values</h4>{_fields_table(data, anchors)}"
        + f"<h4>Statistics</h4>{_statistics_table(data, anchors)}"
        + f'<h4>Text</h4><div class="letter-text">{text_html}</div>'
        + '<p><a href="#authorities">Back to the letters</a></p></article>'
    )


def _original_link(original: str, names: dict[str, str]) -> str:
    label = names.get(original, original)
    return f'<a href="#{_letter_anchor(original)}">{_esc(label)}</a>' if original in names else _esc(label)


def _duplicate_badge(letter: dict) -> str:
    return ' <span class="badge duplicate" title="the same letter as another document; left out of the charts">duplicate</span>' if letter.get("duplicate_of") else ""


def _summary_section(letters: list[_LetterData]) -> str:
    statuses = Counter(d.letter.get("status") for d in letters)
    ordered = [s for s in STATUSES if statuses[s]] + sorted(str(s) for s in statuses if s not in STATUSES)
    rows = "".join(f'<tr><td>{_status_badge(s)}</td><td class="num">{statuses[s]}</td></tr>' for s in ordered)
    duplicates = sum(1 for d in letters if d.letter.get("duplicate_of"))
    n_stats = sum(len(d.statistics) for d in letters)
    doubted = sum(1 for d in letters if d.letter.get("statistics_status") == "needs_review")
    authorities = {d.letter.get("authority_name") for d in letters if d.letter.get("authority_name")}
    return (
        '<section id="summary"><h2>Summary</h2>'
        f"<p>{len(letters)} document{'s' if len(letters) != 1 else ''}, {len(authorities)} authorit{'ies' if len(authorities) != 1 else 'y'}, "
        f"{n_stats} statistic{'s' if n_stats != 1 else ''}, {duplicates} duplicate{'s' if duplicates != 1 else ''}. "
        f"Statistics to review (statistics_status): {doubted} letter{'s' if doubted != 1 else ''}.</p>"
        '<table class="status-summary"><thead><tr><th>status</th><th class="num">letters</th></tr></thead>'
        f'<tbody>{rows}</tbody><tfoot><tr><th>all</th><th class="num">{len(letters)}</th></tr></tfoot></table></section>'
    )


def _year_key(letter: dict) -> str:
    year = _int(letter.get("rating_year"))
    return str(year) if year is not None else NO_YEAR


def _charts_section(letters: list[_LetterData]) -> str:
    """A grade chart and a region chart for each rating year (the years are never pooled), with a
    selector to show one year."""
    counted = [d.letter for d in letters if _is_counted(d.letter)]
    labels = _grade_labels(counted)
    by_year: dict[str, list[dict]] = {}
    for letter in counted:
        by_year.setdefault(_year_key(letter), []).append(letter)
    years = sorted(by_year, key=lambda y: (y == NO_YEAR, y)) or [NO_YEAR]
    note = "Rating letters only; failed documents, other documents and duplicates are left out."
    options = '<option value="all">every year</option>' + "".join(f'<option value="{_anchor(y)}">{_esc(y)}</option>' for y in years)
    figures = []
    for year in years:
        rows = by_year.get(year, [])
        key = _anchor(year)
        figures.append(
            f'<div class="year-charts" data-year="{key}"><h3>{_esc(year.capitalize())}: {len(rows)} letter{"s" if len(rows) != 1 else ""}</h3>'
            '<div class="charts">'
            f"<figure>{_grade_chart(rows, labels, key)}<figcaption>Letters by rating, {_esc(year)} ({len(rows)}). {note}</figcaption></figure>"
            f"<figure>{_region_chart(rows, labels, key)}<figcaption>Letters by region and rating, {_esc(year)} (from letters.authority_region).</figcaption></figure>"
            "</div></div>"
        )
    return (
        '<section id="charts"><h2>Ratings</h2>'
        f'<p><label for="year-select">Rating year </label><select id="year-select">{options}</select></p>'
        + "".join(figures) + "</section>"
    )


def _search_text(d: _LetterData) -> str:
    """What the search box matches a letter on, lower-cased."""
    letter = d.letter
    parts = [letter.get(k) for k in ("authority_name", "authority_as_written", "authority_region", "rating_year", "rating_label",
                                     "status", "statistics_status", "source_path", "letter_id", "letter_date", "recipient_name",
                                     "signatory_name", "issues", "statistics_issues")]
    if letter.get("duplicate_of"):
        parts.append("duplicate")
    return " ".join(str(p) for p in parts if not _missing(p)).casefold()


def _authorities_section(letters: list[_LetterData], names: dict[str, str]) -> str:
    """The table of every document, with the search box; rows past the first page start hidden."""
    rows = []
    for n, d in enumerate(sorted(letters, key=lambda d: (_display_name(d.letter).casefold(), str(d.letter.get("letter_date") or "")))):
        letter = d.letter
        score = _int(letter.get("rating_score"))
        rating = " ".join(p for p in (str(score) if score is not None else "", _esc(letter.get("rating_label"))) if p)
        date = letter.get("letter_date")
        original = letter.get("duplicate_of")
        duplicate = f'<br><span class="badge duplicate">duplicate of {_original_link(original, names)}</span>' if original else ""
        rows.append(
            f'<tr class="authority-row" data-letter-id="{_esc(letter["letter_id"])}" data-search="{_esc(_search_text(d))}"'
            f'{" hidden" if n >= TABLE_PAGE else ""}>'
            f'<td><a href="#{_letter_anchor(letter)}">{_esc(_display_name(letter))}</a>{duplicate}</td>'
            f'<td>{_esc(letter.get("authority_region"))}</td>'
            f'<td data-sort="{"" if score is None else score}">{rating}</td>'
            f'<td class="num">{_esc(_int(letter.get("rating_year")))}</td>'
            f'<td data-sort="{_esc(date)}">{_esc(date)}</td>'
            f'<td data-sort="{_esc(letter.get("status"))}">{_status_badge(letter.get("status"))}{_statistics_badge(letter)}</td>'
            f'<td class="num">{len(d.statistics)}</td></tr>'
        )
    shown = f", showing {TABLE_PAGE}" if len(letters) > TABLE_PAGE else ""
    return (
        '<section id="authorities"><h2>Letters</h2>'
        '<p class="search"><label for="letter-search">Search </label>'
        '<input type="search" id="letter-search" placeholder="authority, region, year, status, file, issue ..." autocomplete="off"> '
        '<label><input type="checkbox" id="search-text"> the letters\' text too</label> '
        f'<span id="search-count" class="muted">{len(letters)} letters{shown}</span></p>'
        '<p class="muted">Click a letter to read it with its values highlighted; click a column heading to sort.</p>'
        f'<table class="sortable" id="authorities-table" data-page="{TABLE_PAGE}"><thead><tr><th>authority</th><th>region</th>'
        '<th data-numeric>rating</th><th class="num" data-numeric>year</th><th>letter date</th><th>status</th>'
        '<th class="num" data-numeric>statistics</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>"
        f'<p><button type="button" id="show-more"{"" if len(letters) > TABLE_PAGE else " hidden"}>Show {min(TABLE_PAGE, max(len(letters) - TABLE_PAGE, 0))} more</button></p></section>'
    )


def _issues_section(letters: list[_LetterData]) -> str:
    items = [
        f'<li><a href="#{_letter_anchor(d.letter)}">{_esc(_display_name(d.letter))}</a> '
        f"{_status_badge(d.letter.get('status'))}{_statistics_badge(d.letter)}{_issues_html(d)}</li>"
        for d in letters
        if d.letter.get("status") != "ok" or d.letter.get("statistics_status") == "needs_review" or d.letter.get("issues") or d.errors
    ]
    body = f"<ul>{''.join(items)}</ul>" if items else "<p>No letter has validation issues or errors.</p>"
    return f'<section id="issues"><h2>Issues</h2>{body}</section>'


def _source_cell(report: CoverageReport, key: str | None) -> str:
    """A published figure's source: its publisher and date, linked to the full reference under Sources."""
    source = report.sources.get(key) if key else None
    return f'<a href="#{_anchor("source", source.key)}">{_esc(source.publisher)}, {_esc(source.date)}</a>' if source else ""


def _letter_link(letter_id: str, names: dict[str, str]) -> str:
    return f'<a href="#{_letter_anchor(letter_id)}">{_esc(names.get(letter_id, letter_id))}</a>' if letter_id in names else _esc(letter_id)


def _coverage_year(year: YearCoverage, report: CoverageReport) -> str:
    left_out = f", {year.duplicates} duplicate{'s' if year.duplicates != 1 else ''} left out" if year.duplicates else ""
    several = "".join([f", {len(year.agreeing)} with agreeing copies" if year.agreeing else "",
                       f", {len(year.conflicting)} with conflicting letters" if year.conflicting else ""])
    rows = "".join(
        f'<tr data-score="{"" if row.score is None else row.score}"><td>{_esc(f"{row.score} {row.label}" if row.score is not None else row.label)}</td>'
        f'<td class="num">{row.archive}</td><td class="num">{"not known" if row.published is None else row.published}</td>'
        f"<td>{_source_cell(report, row.source)}</td></tr>"
        for row in year.ratings
    )
    published = [row.published for row in year.ratings]
    total = "" if any(p is None for p in published) else str(sum(p or 0 for p in published))
    lists = "; ".join(
        f'{_esc(GRADE_LABELS[found.score].lower())}: {found.named} of {found.total if found.total is not None else "?"} named'
        f'{" (complete)" if found.complete else ""}, {_source_cell(report, found.source)}' for found in year.published_lists
    ) or "none known"
    missing = ", ".join(_esc(a.name) for a in year.missing)
    return (
        f'<div class="coverage-year" id="coverage-{year.year}"><h3>{year.year}</h3>'
        f"<p>Letters for {year.found} of {year.expected} authorities ({year.letters} letter{'s' if year.letters != 1 else ''}{left_out}); "
        f"{len(year.missing)} missing{several}.</p>"
        f'<table class="coverage-ratings"><caption>The archive\'s authorities by rating (each once, by its preferred letter) beside Ofsted\'s published totals, {year.year}</caption>'
        '<thead><tr><th>rating</th><th class="num">archive</th><th class="num">published</th><th>source</th></tr></thead>'
        f'<tbody>{rows}</tbody><tfoot><tr><th>all</th><th class="num">{sum(r.archive for r in year.ratings)}</th><th class="num">{total}</th><th></th></tr></tfoot></table>'
        f"<p>Published lists of authorities: {lists}. {year.checked} letter{'s' if year.checked != 1 else ''} checked against the lists.</p>"
        + (f"<details><summary>Missing for {year.year} ({len(year.missing)})</summary><p>{missing}</p></details>" if year.missing else "")
        + "</div>"
    )


def _coverage_section(report: CoverageReport, names: dict[str, str]) -> str:
    """What the archive holds and lacks, year by year, beside what Ofsted published (as `ofsted-letters coverage`)."""
    years = "".join(_coverage_year(year, report) for year in report.years) or '<p class="muted">No rating letters with an authority and a year.</p>'
    conflicts = "".join(
        f"<tr><td>{_esc(c.authority.name)} {c.year}</td><td>{'<br>'.join(_letter_link(letter.letter_id, names) for letter in c.letters)}</td>"
        f"<td>{_letter_link(c.preferred, names)}</td><td>{'<br>'.join(_esc(d.field) for d in c.differences)}</td></tr>"
        for c in report.conflicts
    )
    conflicts_html = (
        '<table class="coverage-conflicts"><thead><tr><th>authority and year</th><th>letters</th><th>preferred</th><th>fields that differ</th></tr></thead>'
        f"<tbody>{conflicts}</tbody></table>" if conflicts else "<p>No letters for one authority and year disagree.</p>"
    )
    wrong = "".join(
        f'<tr><td class="num">{w.year}</td><td>{_esc(w.authority.name)}</td><td>{_letter_link(w.letter.letter_id, names)}</td>'
        f"<td>{w.rating_score} {_esc(GRADE_LABELS.get(w.rating_score, ''))}</td><td>{_esc(w.reason)}</td><td>{_source_cell(report, w.source)}</td></tr>"
        for w in report.disagreements
    )
    checked = sum(year.checked for year in report.years)
    wrong_html = (
        '<table class="coverage-disagreements"><thead><tr><th class="num">year</th><th>authority</th><th>letter</th><th>letter says</th>'
        f"<th>why</th><th>source</th></tr></thead><tbody>{wrong}</tbody></table>" if wrong
        else f"<p>No letter's rating is contradicted by a published list ({checked} letter{'s' if checked != 1 else ''} checked against the lists).</p>"
    )
    sources = "".join(
        f'<li id="{_anchor("source", s.key)}"><b>{_esc(s.publisher)}</b>, &ldquo;{_esc(s.title)}&rdquo; ({_esc(s.kind)}), {_esc(s.date)}. '
        f"<code>{_esc(s.url)}</code>{f' &mdash; {_esc(s.says)}' if s.says else ''}</li>"
        for s in report.sources.values()
    )
    notes = "".join(f"<li>{_esc(note)}</li>" for note in report.notes)
    return (
        '<section id="coverage"><h2>Coverage</h2>'
        '<p class="muted">Which authorities have a letter each year, the archive\'s ratings beside Ofsted\'s published totals, '
        "letters a published list contradicts, and letters for one authority and year that disagree (the same as <code>ofsted-letters coverage</code>).</p>"
        + years
        + f"<h3>Letters a published list contradicts</h3>{wrong_html}"
        + f"<h3>Conflicting letters</h3>{conflicts_html}"
        + (f'<h3>Sources of the published figures</h3><ul class="sources">{sources}</ul>' if sources else "")
        + f'<h3>Notes</h3><ul class="notes">{notes}</ul></section>'
    )


def _packed(value: object) -> str:
    """JSON, gzipped and in base64: a letter's article is mostly markup, which packs tenfold, so the
    page stays small to mail and quick to open; the page unpacks it with DecompressionStream."""
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(gzip.compress(data, compresslevel=6, mtime=0)).decode("ascii")


def _letters_section(letters: list[_LetterData], names: dict[str, str]) -> str:
    """Where an opened letter is shown, and every letter's article, packed, in one block."""
    articles = {d.letter["letter_id"]: _letter_section(d, names) for d in letters}
    return (
        '<section id="letters"><h2>Letter</h2>'
        '<div id="letter-view"><p class="muted">Open a letter from the table above: its text appears here with every value highlighted.</p></div>'
        '<noscript><p>Showing a letter needs JavaScript; the values are in the dataset\'s tables.</p></noscript>'
        f'<script type="application/octet-stream" id="letter-data" data-encoding="json+gzip+base64">{_packed(articles)}</script></section>'
    )


def render_report(out_dir: Path) -> str:
    """The report for an output folder, as an HTML string."""
    out_dir = Path(out_dir)
    letters = _load(out_dir)
    names = {d.letter["letter_id"]: f"{_display_name(d.letter)} {_year_key(d.letter)}".strip() for d in letters}
    body = "".join([
        _summary_section(letters),
        _charts_section(letters),
        _coverage_section(coverage(out_dir), names),
        _authorities_section(letters, names),
        _issues_section(letters),
        _letters_section(letters, names),
    ])
    template = Template((resources.files("pipeline") / "data" / "report_template.html").read_text(encoding="utf-8"))
    return template.substitute(
        title="Ofsted children's services letters",
        subtitle=_esc(f"Dataset in {out_dir.resolve()}: {len(letters)} documents; report written {dt.date.today().isoformat()}."),
        body=body,
    )


def build_report(out_dir: Path, report_path: Path | None = None) -> Path:
    """Write the self-contained HTML report of OUT_DIR (default OUT_DIR/report.html) and return its path.

    Works from the Parquet tables (CSV when there is no Parquet); letters that failed and have
    no text are listed with their errors. Raises FileNotFoundError when there is no letters table.
    """
    out_dir = Path(out_dir)
    require_letters(out_dir)
    report_path = Path(report_path) if report_path is not None else out_dir / "report.html"
    report_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = report_path.with_name(f".{report_path.name}.tmp")
    tmp.write_text(render_report(out_dir), encoding="utf-8")
    tmp.replace(report_path)
    return report_path
