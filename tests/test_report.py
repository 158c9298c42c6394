"""The HTML report: self-contained, every link lands, text escaped, failed letters handled."""
from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from helpers_output import BROMLEY, CUMBRIA, FAILED_FILE, SAMPLE_LETTERS, WESTMINSTER, letter_id_of, sample_tables, write_output
from pipeline.report import build_report

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SVG_SELF_CLOSING = {"line", "rect", "path", "circle"}


class _Page(HTMLParser):
    """Collects ids, hrefs and resource references, and checks that tags nest."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.resources: list[tuple[str, str, str]] = []
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(found["id"])  # type: ignore[arg-type]
        if "href" in found:
            self.hrefs.append(found["href"] or "")
        for name in ("src", "href", "srcset", "data", "poster", "action"):
            if name in found:
                self.resources.append((tag, name, found[name] or ""))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            if tag in self.stack:
                while self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()


def parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = write_output(tmp_path_factory.mktemp("report") / "out")
    path = build_report(out)
    return path, path.read_text(encoding="utf-8")


def test_written_to_the_default_place(sample_report: tuple[Path, str]) -> None:
    path, page = sample_report
    assert path.name == "report.html" and path.parent.name == "out"
    assert page.startswith("<!DOCTYPE html>")
    assert not list(path.parent.glob(".*tmp"))


def test_each_authority_and_letter_is_there(sample_report: tuple[Path, str]) -> None:
    _, page = sample_report
    tables = sample_tables()
    for letter in SAMPLE_LETTERS:
        assert letter.authority_name in page
        assert f'id="letter-{letter_id_of(tables, letter.file)}"' in page
        assert f'href="#letter-{letter_id_of(tables, letter.file)}"' in page
    assert "unreadable letter.pdf" in page
    assert page.count('class="authority-row"') == len(tables["letters"])


def test_no_network_resources(sample_report: tuple[Path, str]) -> None:
    _, page = sample_report
    parsed = parse(page)
    assert all(value.startswith("#") for _, _, value in parsed.resources), parsed.resources
    assert not re.search(r"<(link|iframe|object|embed|img)\b", page, re.I)
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)
    assert not re.search(r"@import|url\(", page, re.I)
    assert not re.search(r"""(src|href|xlink:href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)


def test_anchors_resolve_and_tags_nest(sample_report: tuple[Path, str]) -> None:
    _, page = sample_report
    parsed = parse(page)
    ids = set(parsed.ids)
    assert len(ids) == len(parsed.ids), "duplicate ids"
    local = [h[1:] for h in parsed.hrefs if h.startswith("#")]
    assert local and all(target in ids for target in local), sorted(set(local) - ids)
    assert parsed.problems == [] and parsed.stack == []


def test_values_link_to_their_highlighted_evidence(sample_report: tuple[Path, str]) -> None:
    _, page = sample_report
    tables = sample_tables()
    for f in tables["fields"]:
        anchor = f"f-{f['letter_id']}-{f['field']}"
        assert (f'href="#{anchor}"' in page) == (f["start"] is not None), anchor
    for s in tables["statistics"]:
        anchor = f"s-{s['letter_id']}-{s['stat_index']}"
        assert f'href="#{anchor}"' in page and f'id="{anchor}"' in page
    mark = re.search(r'<mark class="entity[^"]*" id="s-%s-0"[^>]*>(.*?)</mark>' % letter_id_of(tables, BROMLEY.file), page, re.S)
    assert mark and "over 70%" in mark.group(1) and "PERCENTAGE · childminding and childcare provision · good or outstanding" in mark.group(1)
    assert page.count('<mark class="entity') >= len(tables["statistics"])


def test_segments_are_headed(sample_report: tuple[Path, str]) -> None:
    _, page = sample_report
    lid = letter_id_of(sample_tables(), CUMBRIA.file)
    for name in ("header", "preamble", "scale_table", "rating", "narrative", "closing"):
        assert f'id="seg-{lid}-{name}-0"' in page


def test_text_is_escaped(sample_report: tuple[Path, str]) -> None:
    _, page = sample_report
    assert "&lt;Early Help&gt;" in page and "<Early Help>" not in page
    assert "unusual &lt;format&gt; &amp; punctuation" in page
    assert "&lt;EOF missing&gt;" in page
    assert "Mr Michael O&#x27;Connor" in page or "Mr Michael O&#39;Connor" in page


def test_charts(sample_report: tuple[Path, str]) -> None:
    _, page = sample_report
    assert '<svg class="chart" id="chart-grade"' in page and '<svg class="chart" id="chart-region"' in page
    assert 'data-grade="3" data-count="2"' in page and 'data-grade="2" data-count="1"' in page
    assert 'data-region="London"' in page and 'data-region="North West"' in page


def test_failed_letters_and_odd_tables(tmp_path: Path) -> None:
    """Only a failed document; a letter with no segments; overlapping highlights; CSV only."""
    tables = sample_tables()
    lid = letter_id_of(tables, BROMLEY.file)
    tables["segments"] = [s for s in tables["segments"] if s["letter_id"] != lid]
    sentence_start = next(s["start"] for s in tables["statistics"] if s["letter_id"] == lid and s["stat_index"] == 0)
    tables["fields"].append({"letter_id": lid, "field": "rating_label_extra", "value": "overlap", "start": sentence_start - 5,
                             "end": sentence_start + 3, "page": 1, "method": "regex", "confidence": 0.5})
    tables["fields"].append({"letter_id": lid, "field": "outside", "value": "x", "start": 10**6, "end": 10**6 + 3})
    out = write_output(tmp_path / "out", tables, formats=("csv",))
    page = build_report(out, tmp_path / "elsewhere" / "r.html").read_text(encoding="utf-8")
    parsed = parse(page)
    assert all(h[1:] in set(parsed.ids) for h in parsed.hrefs if h.startswith("#"))
    assert f'id="f-{lid}-rating_label_extra"' in page and f'id="s-{lid}-0"' in page
    assert f'href="#f-{lid}-outside"' not in page
    assert "text (no segments found)" in page
    assert parsed.problems == []

    failed = {name: [r for r in rows if r["letter_id"] == letter_id_of(tables, FAILED_FILE)] for name, rows in tables.items()}
    failed["documents"] = []
    out = write_output(tmp_path / "failed", failed)
    (out / "documents.parquet").unlink()
    (out / "documents.csv").unlink()
    page = build_report(out).read_text(encoding="utf-8")
    assert "No text: this document could not be read" in page and "corrupt_pdf" in page
    assert 'data-count="0"' in page


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        build_report(tmp_path)


def _chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(candidate)
        if found:
            return found
    return None


@pytest.mark.browser
def test_renders_in_headless_chromium(sample_report: tuple[Path, str], tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("no Chromium found (/usr/bin/chromium or chromium on PATH); apt-get install -y chromium to run this")
    path, _ = sample_report
    args = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", path.resolve().as_uri(),
    ]
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("headless Chromium did not finish within 120 s")
    dom = done.stdout
    assert done.returncode == 0 and dom, done.stderr[-2000:]
    assert 'data-sortable="ready"' in dom, "the inline script did not run"
    assert 'id="chart-grade"' in dom and 'id="chart-region"' in dom
    assert dom.count('class="authority-row"') == 4
    assert 'title="Sort by authority"' in dom
    for letter in (BROMLEY, WESTMINSTER, CUMBRIA):
        assert letter.authority_name in dom
