"""One self-contained HTML report of an output folder, for a person to check the extraction.

Everything is inline (CSS, a little JavaScript for sorting, SVG charts), so the file can be
mailed or opened offline. Each extracted value links to its highlighted evidence in the
letter's text, rendered with spaCy's displaCy, so a reader can see why the value was chosen.
"""
from __future__ import annotations

import datetime as dt
import html
import re
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

import pandas as pd
from spacy import displacy

from pipeline.dataset import read_table, require_letters

STATUSES = ["ok", "needs_review", "failed", "not_rating_letter"]
GRADE_LABELS = {4: "Performs excellently", 3: "Performs well", 2: "Performs adequately", 1: "Performs poorly"}
GRADE_COLOURS = {4: "#1a7f37", 3: "#7fc97f", 2: "#f2c14e", 1: "#d1495b", None: "#b8c0c8"}
MARK_COLOURS = {"field": "#cfe2ff", "percentage": "#ffe08a", "count": "#c3f0c8"}
NO_REGION = "Region not known"

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
    return [{k: (None if _missing(v) else v) for k, v in row.items()} for row in frame.to_dict("records")]


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
    return letter.get("authority_name") or Path(str(letter["source_path"])).name


def _letter_anchor(letter: dict) -> str:
    return _anchor("letter", letter["letter_id"])


def _status_badge(status: object) -> str:
    return f'<span class="badge status-{_anchor(status)}">{_esc(status)}</span>'


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


def _grade_chart(letters: list[dict], labels: dict[int, str]) -> str:
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
        f'<svg class="chart" id="chart-grade" role="img" aria-labelledby="chart-grade-title" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        '<title id="chart-grade-title">Letters by rating</title>',
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


def _region_chart(letters: list[dict], labels: dict[int, str]) -> str:
    """Horizontal stacked bars: for each region, how many letters have each rating."""
    by_region: dict[str, Counter] = {}
    for letter in letters:
        by_region.setdefault(letter.get("authority_region") or NO_REGION, Counter())[_int(letter.get("rating_score"))] += 1
    regions = sorted(by_region, key=lambda r: (r == NO_REGION, r))
    grades = [g for g in (4, 3, 2, 1, None) if any(by_region[r][g] for r in regions)]
    label_w, row_h, width, top = 170, 26, 640, 34
    height = top + row_h * max(len(regions), 1) + 10
    peak = max([sum(c.values()) for c in by_region.values()] + [1])
    unit = (width - label_w - 40) / peak
    parts = [
        f'<svg class="chart" id="chart-region" role="img" aria-labelledby="chart-region-title" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        '<title id="chart-region-title">Letters by region and rating</title>',
    ]
    x = label_w
    for grade in grades:
        name = labels.get(grade, "") if grade is not None else "No rating"
        parts += [
            f'<rect x="{x}" y="6" width="12" height="12" fill="{GRADE_COLOURS[grade]}"/>',
            f'<text x="{x + 16}" y="16">{_esc(name)}</text>',
        ]
        x += 24 + 7 * len(name)
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
    return "".join(parts)


# ---------------------------------------------------------------- letter text


def _marks(data: _LetterData) -> list[_Mark]:
    """Every highlightable span whose offsets fall inside the text."""
    n = len(data.text or "")
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
    """The text cut into its segments, in order, plus any text that lies outside every segment."""
    text = data.text or ""
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
        rendered = displacy.render(
            {"text": text[piece.start:piece.end], "ents": ents, "title": None},
            style="ent", manual=True, jupyter=False, options={"template": _ENT_TEMPLATE},
        )
        outside = " segment-outside" if piece.name.startswith(("outside", "text (")) else ""
        blocks.append(
            f'<section class="segment{outside}" id="{piece.anchor}" data-segment="{_esc(piece.name)}">'
            f'<h5 class="segment-name">{_esc(piece.name)}</h5>{rendered}</section>'
        )
        anchors.add(piece.anchor)
    links = "".join(f'<a href="#{p.anchor}">{_esc(p.name)}</a>' for p in pieces)
    return f'<nav class="segment-links">Parts: {links}</nav>' + "".join(blocks), anchors


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
    parts = []
    if issues:
        parts.append('<ul class="issues">' + "".join(f"<li>{_esc(i)}</li>" for i in issues) + "</ul>")
    if data.errors:
        parts.append('<ul class="errors">' + "".join(
            f"<li><b>{_esc(e.get('stage'))}</b> {_esc(e.get('error'))}: {_esc(e.get('message'))}</li>" for e in data.errors
        ) + "</ul>")
    return "".join(parts)


def _letter_section(data: _LetterData) -> str:
    letter = data.letter
    meta = [
        ("source", letter.get("source_path")), ("letter_id", letter.get("letter_id")), ("format", letter.get("source_format")),
        ("type", letter.get("letter_type")), ("authority as written", letter.get("authority_as_written")),
        ("codes", " / ".join(str(c) for c in (letter.get("authority_la_code"), letter.get("authority_gss_code")) if c)),
        ("region", letter.get("authority_region")), ("date", letter.get("letter_date")),
        ("rating", " ".join(str(p) for p in (letter.get("rating_score"), letter.get("rating_label") and f"({letter['rating_label']})") if p)),
        ("duplicate of", letter.get("duplicate_of")),
    ]
    meta_html = "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in meta if v not in (None, ""))
    if data.text:
        text_html, anchors = _render_text(data)
    else:
        text_html, anchors = '<p class="no-text">No text: this document could not be read, so nothing is highlighted.</p>', set()
    issues = _issues_html(data)
    return (
        f'<article class="letter" id="{_letter_anchor(letter)}">'
        f"<h3>{_esc(_display_name(letter))} {_status_badge(letter.get('status'))}</h3>"
        f'<dl class="meta">{meta_html}</dl>'
        + (f"<h4>Issues</h4>{issues}" if issues else "")
        + f"<h4>Extracted values</h4>{_fields_table(data, anchors)}"
        + f"<h4>Statistics</h4>{_statistics_table(data, anchors)}"
        + f'<h4>Text</h4><div class="letter-text">{text_html}</div>'
        + '<p><a href="#authorities">Back to the authorities</a></p></article>'
    )


def _summary_section(letters: list[_LetterData]) -> str:
    statuses = Counter(d.letter.get("status") for d in letters)
    ordered = [s for s in STATUSES if statuses[s]] + sorted(str(s) for s in statuses if s not in STATUSES)
    rows = "".join(f'<tr><td>{_status_badge(s)}</td><td class="num">{statuses[s]}</td></tr>' for s in ordered)
    n_stats = sum(len(d.statistics) for d in letters)
    authorities = {d.letter.get("authority_name") for d in letters if d.letter.get("authority_name")}
    return (
        '<section id="summary"><h2>Summary</h2>'
        f"<p>{len(letters)} document{'s' if len(letters) != 1 else ''}, {len(authorities)} authorit{'ies' if len(authorities) != 1 else 'y'}, "
        f"{n_stats} statistic{'s' if n_stats != 1 else ''}.</p>"
        '<table class="status-summary"><thead><tr><th>status</th><th class="num">letters</th></tr></thead>'
        f'<tbody>{rows}</tbody><tfoot><tr><th>all</th><th class="num">{len(letters)}</th></tr></tfoot></table></section>'
    )


def _charts_section(letters: list[_LetterData]) -> str:
    counted = [d.letter for d in letters if _is_counted(d.letter)]
    labels = _grade_labels(counted)
    note = "Rating letters only; failed documents, other documents and duplicates are left out."
    return (
        '<section id="charts"><h2>Ratings</h2><div class="charts">'
        f"<figure>{_grade_chart(counted, labels)}<figcaption>Letters by rating ({len(counted)}). {note}</figcaption></figure>"
        f"<figure>{_region_chart(counted, labels)}<figcaption>Letters by region and rating (from letters.authority_region).</figcaption></figure>"
        "</div></section>"
    )


def _authorities_section(letters: list[_LetterData]) -> str:
    rows = []
    for d in sorted(letters, key=lambda d: (_display_name(d.letter).casefold(), str(d.letter.get("letter_date") or ""))):
        letter = d.letter
        score = _int(letter.get("rating_score"))
        rating = " ".join(p for p in (str(score) if score is not None else "", _esc(letter.get("rating_label"))) if p)
        date = letter.get("letter_date")
        rows.append(
            f'<tr class="authority-row" data-letter-id="{_esc(letter["letter_id"])}">'
            f'<td><a href="#{_letter_anchor(letter)}">{_esc(_display_name(letter))}</a></td>'
            f'<td>{_esc(letter.get("authority_region"))}</td>'
            f'<td data-sort="{"" if score is None else score}">{rating}</td>'
            f'<td class="num">{_esc(_int(letter.get("rating_year")))}</td>'
            f'<td data-sort="{_esc(date)}">{_esc(date)}</td>'
            f'<td data-sort="{_esc(letter.get("status"))}">{_status_badge(letter.get("status"))}</td>'
            f'<td class="num">{len(d.statistics)}</td></tr>'
        )
    return (
        '<section id="authorities"><h2>Authorities</h2><p class="muted">Click a column heading to sort.</p>'
        '<table class="sortable" id="authorities-table"><thead><tr><th>authority</th><th>region</th>'
        '<th data-numeric>rating</th><th class="num" data-numeric>year</th><th>letter date</th><th>status</th>'
        '<th class="num" data-numeric>statistics</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table></section>"
    )


def _issues_section(letters: list[_LetterData]) -> str:
    items = [
        f'<li><a href="#{_letter_anchor(d.letter)}">{_esc(_display_name(d.letter))}</a> '
        f"{_status_badge(d.letter.get('status'))}{_issues_html(d)}</li>"
        for d in letters
        if d.letter.get("status") != "ok" or d.letter.get("issues") or d.errors
    ]
    body = f"<ul>{''.join(items)}</ul>" if items else "<p>No letter has validation issues or errors.</p>"
    return f'<section id="issues"><h2>Issues</h2>{body}</section>'


def render_report(out_dir: Path) -> str:
    """The report for an output folder, as an HTML string."""
    out_dir = Path(out_dir)
    letters = _load(out_dir)
    body = "".join([
        _summary_section(letters),
        _charts_section(letters),
        _authorities_section(letters),
        _issues_section(letters),
        '<section id="letters"><h2>Letters</h2>' + "".join(_letter_section(d) for d in letters) + "</section>",
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
