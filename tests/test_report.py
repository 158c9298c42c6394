"""The HTML report: self-contained, every link lands, text escaped, failed letters handled."""
from __future__ import annotations

import base64
import gzip
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from helpers_output import BROMLEY, CUMBRIA, FAILED_FILE, SAMPLE_LETTERS, WESTMINSTER, archive_tables, letter_id_of, sample_tables, write_output
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


_LETTER_DATA = re.compile(r'<script type="application/octet-stream" id="letter-data" data-encoding="json\+gzip\+base64">(.*?)</script>', re.S)


def _unpack(packed: str) -> dict[str, str]:
    return json.loads(gzip.decompress(base64.b64decode(packed)).decode("utf-8"))


def articles(page: str) -> dict[str, str]:
    """Each letter's article, as the page keeps it (HTML in a packed JSON block, shown when opened)."""
    found = _LETTER_DATA.search(page)
    assert found, "no letter data block"
    return _unpack(found.group(1))


def expanded(page: str) -> str:
    """The page with every letter's article in place of the packed block: what a reader can reach."""
    return _LETTER_DATA.sub(lambda m: "".join(_unpack(m.group(1)).values()), page)


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
    page = expanded(page)
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
    assert parse(page).problems == []
    for article in articles(page).values():
        assert parse(article).problems == [] and parse(article).stack == []
    parsed = parse(expanded(page))
    ids = set(parsed.ids)
    assert len(ids) == len(parsed.ids), "duplicate ids"
    local = [h[1:] for h in parsed.hrefs if h.startswith("#")]
    assert local and all(target in ids for target in local), sorted(set(local) - ids)
    assert parsed.problems == [] and parsed.stack == []


def test_values_link_to_their_highlighted_evidence(sample_report: tuple[Path, str]) -> None:
    _, page = sample_report
    page = expanded(page)
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
    page = expanded(page)
    lid = letter_id_of(sample_tables(), CUMBRIA.file)
    for name in ("header", "preamble", "scale_table", "rating", "narrative", "closing"):
        assert f'id="seg-{lid}-{name}-0"' in page


def test_text_is_escaped(sample_report: tuple[Path, str]) -> None:
    _, raw = sample_report
    assert "<Early Help>" not in raw and raw.count("</script>") == 2
    page = expanded(raw)
    assert "&lt;Early Help&gt;" in page and "<Early Help>" not in page
    assert "unusual &lt;format&gt; &amp; punctuation" in page
    assert "&lt;EOF missing&gt;" in page
    assert "Mr Michael O&#x27;Connor" in page or "Mr Michael O&#39;Connor" in page


def _year_block(page: str, year: str) -> str:
    found = re.search(r'<div class="year-charts" data-year="%s">(.*?)</figure></div></div>' % year, page, re.S)
    assert found, year
    return found.group(1)


def test_charts_one_pair_per_year(sample_report: tuple[Path, str]) -> None:
    """2009 and 2010 are never pooled: Bromley and Westminster (3) in 2009, Cumbria (2) in 2010."""
    _, page = sample_report
    assert '<option value="2009">2009</option>' in page and '<option value="2010">2010</option>' in page
    y2009, y2010 = _year_block(page, "2009"), _year_block(page, "2010")
    assert 'id="chart-grade-2009"' in y2009 and 'id="chart-region-2009"' in y2009
    assert 'data-grade="3" data-count="2"' in y2009 and 'data-grade="2" data-count="0"' in y2009
    assert 'data-grade="3" data-count="0"' in y2010 and 'data-grade="2" data-count="1"' in y2010
    assert 'data-region="London"' in y2009 and 'data-region="North West"' not in y2009
    assert 'data-region="North West"' in y2010


def test_region_legend_is_html_and_labels_have_room(sample_report: tuple[Path, str], tmp_path: Path) -> None:
    _, page = sample_report
    legend = re.search(r'<ul class="legend">(.*?)</ul>', _year_block(page, "2009"), re.S).group(1)
    assert "Performs well" in legend and "Performs adequately" not in legend
    region_svg = re.search(r'<svg class="chart chart-region" id="chart-region-2009".*?</svg>', page, re.S).group(0)
    assert "Performs well" not in re.sub(r"<title>.*?</title>", "", region_svg)
    tables = sample_tables()
    for row in tables["letters"]:
        if row.get("authority_region"):
            row["authority_region"] = "Yorkshire and the Humber"
    long = build_report(write_output(tmp_path / "out", tables)).read_text(encoding="utf-8")
    label = re.search(r'<text x="(\d+)" y="[\d.]+" text-anchor="end">Yorkshire and the Humber</text>', long)
    assert label and int(label.group(1)) >= 7 * len("Yorkshire and the Humber")


def test_duplicates_are_marked_and_left_out_of_the_charts(tmp_path: Path) -> None:
    tables = sample_tables()
    original = letter_id_of(tables, BROMLEY.file)
    copy_id = original + "-2"
    for name, rows in list(tables.items()):
        rows.extend([{**r, "letter_id": copy_id} for r in rows if r.get("letter_id") == original])
    copy = next(r for r in tables["letters"] if r["letter_id"] == copy_id)
    copy.update(duplicate_of=original, source_path="copies/bromley again.txt")
    page = build_report(write_output(tmp_path / "out", tables)).read_text(encoding="utf-8")
    row = re.search(r'<tr class="authority-row" data-letter-id="%s".*?</tr>' % re.escape(copy_id), page, re.S).group(0)
    assert f'duplicate of <a href="#letter-{original}">Bromley 2009</a>' in row and "duplicate" in row
    article = articles(page)[copy_id]
    assert 'class="badge duplicate"' in article and f'<dt>duplicate of</dt><dd><a href="#letter-{original}">' in article
    assert 'class="badge duplicate"' not in articles(page)[original]
    assert 'data-grade="3" data-count="2"' in _year_block(page, "2009")
    assert "1 duplicate." in page


def test_a_non_letters_text_is_capped(tmp_path: Path) -> None:
    tables = sample_tables()
    lid = "a" * 16
    text = "Agenda item. " * 250_000
    tables["letters"].append({"letter_id": lid, "source_path": "minutes.txt", "source_format": "txt", "status": "not_rating_letter", "n_statistics": 0})
    tables["documents"].append({"letter_id": lid, "source_path": "minutes.txt", "sha256": lid * 4, "pages": 1, "n_chars": len(text), "text": text})
    tables["segments"].append({"letter_id": lid, "segment": "header", "part": 0, "start": 0, "end": len(text), "text": text})
    page = build_report(write_output(tmp_path / "out", tables)).read_text(encoding="utf-8")
    assert len(page) < 300_000 and len(text) > 3_000_000
    assert f"Showing the first 5,000 of {len(text):,} characters: this document is not a rating letter" in articles(page)[lid]
    assert articles(page)[lid].count("Agenda item.") < 400


def test_search_text_covers_what_users_look_for(sample_report: tuple[Path, str]) -> None:
    _, page = sample_report
    lid = letter_id_of(sample_tables(), WESTMINSTER.file)
    search = re.search(r'data-letter-id="%s" data-search="([^"]*)"' % lid, page).group(1)
    for word in ("westminster", "london", "2009", "needs_review", "performs well", "002_c8e38d5c7059abd6.txt", "unusual &lt;format&gt;"):
        assert word in search, word


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
    page = expanded(build_report(out, tmp_path / "elsewhere" / "r.html").read_text(encoding="utf-8"))
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
    page = expanded(build_report(out).read_text(encoding="utf-8"))
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


def _dump_dom(url: str, tmp_path: Path, wait_ms: int = 0) -> str:
    """The DOM of a page once headless Chromium has loaded it and run its scripts; with wait_ms,
    once its pending work (unpacking the letters, timers) is done, in virtual time."""
    browser = _chromium()
    if browser is None:
        pytest.skip("no Chromium found (/usr/bin/chromium or chromium on PATH); apt-get install -y chromium to run this")
    args = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1280,900",
        f"--user-data-dir={tmp_path / 'profile'}", *([f"--virtual-time-budget={wait_ms}"] if wait_ms else []), "--dump-dom", url,
    ]
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("headless Chromium did not finish within 120 s")
    assert done.returncode == 0 and done.stdout, done.stderr[-2000:]
    return done.stdout


# Run after the report's own script: uses the page as a reader would and writes what it saw on <html>.
_PROBE = """<script>
(function () {
  var root = document.documentElement, problems = [];
  Array.prototype.forEach.call(document.querySelectorAll("svg.chart-region"), function (svg) {
    Array.prototype.forEach.call(svg.querySelectorAll("text"), function (t) {
      var box = t.getBBox();
      if (box.x < 0 || box.x + box.width > svg.viewBox.baseVal.width) { problems.push("clipped: " + t.textContent); }
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("ul.legend"), function (legend) {
    var box = legend.getBoundingClientRect(), figure = legend.closest("figure").getBoundingClientRect();
    if (box.right > document.documentElement.clientWidth || box.width > figure.width + 1 || box.height > 200) { problems.push("legend does not fit"); }
  });
  root.setAttribute("data-fit", problems.join("; ") || "ok");
  var search = document.getElementById("letter-search");
  search.value = "%(search)s";
  search.dispatchEvent(new Event("input"));
  var visible = document.querySelectorAll("#authorities-table tbody tr:not([hidden])").length;
  root.setAttribute("data-search-found", String(visible));
  root.setAttribute("data-search-count", document.getElementById("search-count").textContent);
  var years = document.getElementById("year-select");
  years.value = "2010";
  years.dispatchEvent(new Event("change"));
  var shown = Array.prototype.filter.call(document.querySelectorAll(".year-charts"), function (b) { return !b.hidden; });
  root.setAttribute("data-years-shown", shown.map(function (b) { return b.getAttribute("data-year"); }).join(","));
  document.querySelector('#authorities-table a[href="#letter-%(open)s"]').click();
  var tries = 0;
  (function opened() {
    var article = document.querySelector("#letter-view article");
    if (!article && tries++ < 100) { setTimeout(opened, 50); return; }
    root.setAttribute("data-opened", article ? article.id : "none");
    var stat = document.querySelector("#letter-view a[href^='#s-']");
    if (stat) { root.setAttribute("data-stat-target", document.getElementById(stat.getAttribute("href").slice(1)) ? "found" : "missing"); }
  })();
})();
</script></body>"""


def _probed(report: Path, tmp_path: Path, search: str, open_id: str) -> str:
    probe = tmp_path / "probed.html"
    probe.write_text(report.read_text(encoding="utf-8").replace("</body>", _PROBE % {"search": search, "open": open_id}), encoding="utf-8")
    return _dump_dom(probe.resolve().as_uri(), tmp_path, wait_ms=20_000)


def _attribute(dom: str, name: str) -> str:
    found = re.search(r'<html[^>]*\s%s="([^"]*)"' % name, dom)
    assert found, f"{name} not set: the page's script or the probe did not run"
    return found.group(1)


@pytest.mark.browser
def test_renders_in_headless_chromium(sample_report: tuple[Path, str], tmp_path: Path) -> None:
    path, _ = sample_report
    lid = letter_id_of(sample_tables(), WESTMINSTER.file)
    dom = _dump_dom(path.resolve().as_uri() + f"#s-{lid}-1", tmp_path, wait_ms=10_000)
    assert 'data-sortable="ready"' in dom, "the inline script did not run"
    assert 'id="chart-grade-2009"' in dom and 'id="chart-region-2010"' in dom
    assert dom.count('class="authority-row"') == 4
    assert 'title="Sort by authority"' in dom
    for letter in (BROMLEY, WESTMINSTER, CUMBRIA):
        assert letter.authority_name in dom
    # a link to a statistic opens its letter
    view = dom[dom.index('id="letter-view"'):]
    assert view.index(f'id="letter-{lid}"') < view.index(f'id="s-{lid}-1"') < view.index("</article>")

    dom = _probed(path, tmp_path, "westminster", letter_id_of(sample_tables(), CUMBRIA.file))
    assert _attribute(dom, "data-fit") == "ok"
    assert _attribute(dom, "data-search-found") == "1" and _attribute(dom, "data-search-count") == "1 of 4 letters match"
    assert _attribute(dom, "data-years-shown") == "2010"
    assert _attribute(dom, "data-opened") == f"letter-{letter_id_of(sample_tables(), CUMBRIA.file)}"
    assert _attribute(dom, "data-stat-target") == "found"


@pytest.mark.browser
def test_a_report_of_1500_letters_opens_in_chromium_in_under_3_seconds(tmp_path: Path) -> None:
    """Measured in the page: from navigation to the end of its script, laid out (data-ready-ms)."""
    if _chromium() is None:
        pytest.skip("no Chromium found")
    tables = archive_tables(1500)
    report = build_report(write_output(tmp_path / "archive", tables, formats=("parquet",)))
    dom = _dump_dom(report.resolve().as_uri(), tmp_path)
    ready_ms = int(_attribute(dom, "data-ready-ms"))
    print(f"1,500-letter report: {report.stat().st_size / 1e6:.1f} MB, ready in Chromium after {ready_ms} ms")
    assert ready_ms < 3000, f"the report took {ready_ms} ms to open"
    assert dom.count('class="authority-row"') == 1500 and dom.count('class="authority-row" ') >= 1500
    assert sum(1 for row in re.findall(r'<tr class="authority-row"[^>]*>', dom) if " hidden" not in row) == 100
    duplicate = next(r for r in tables["letters"] if r.get("duplicate_of"))
    dom = _probed(report, tmp_path, "london 2010 needs_review", duplicate["letter_id"])
    expected = sum(1 for r in tables["letters"] if r.get("authority_region") == "London" and r.get("rating_year") == 2010 and r["status"] == "needs_review")
    assert int(_attribute(dom, "data-search-found")) == min(expected, 100) and f"{expected} of 1500 letters match" in _attribute(dom, "data-search-count")
    assert _attribute(dom, "data-fit") == "ok" and _attribute(dom, "data-years-shown") == "2010"
    assert _attribute(dom, "data-opened") == f"letter-{duplicate['letter_id']}"


def test_the_coverage_section_sets_the_archive_beside_what_ofsted_published(tmp_path: Path) -> None:
    """Per year the archive's ratings beside the published totals, each source named (as text, never a link
    out), the letter a published list contradicts and the conflicting copies, each linked to its letter."""
    tables = sample_tables()
    bromley = letter_id_of(tables, BROMLEY.file)
    copy = {**next(r for r in tables["letters"] if r["letter_id"] == bromley), "letter_id": "b0000000000000c1",
            "source_path": "letters/bromley rated 1.txt", "rating_score": 1, "rating_label": "Performs poorly"}
    tables["letters"].append(copy)
    from pipeline.dedup import mark_conflicts

    assert mark_conflicts(tables["letters"]) == 2
    page = build_report(write_output(tmp_path / "out", tables)).read_text(encoding="utf-8")
    assert '<a href="#coverage">Coverage</a>' in page
    section = page[page.index('<section id="coverage">'):page.index("</section>", page.index('<section id="coverage">'))]
    year = section[section.index('id="coverage-2009"'):section.index('id="coverage-2010"')]
    assert re.search(r'<tr data-score="3"><td>3 Performs well</td><td class="num">2</td><td class="num">93</td><td><a href="#source-bbc-2009">BBC News, 2009-12-09</a>', year)
    assert "Letters for 2 of 152 authorities (3 letters); 150 missing, 1 with conflicting letters." in year
    assert "performs poorly: 9 of 9 named (complete)" in year and "<summary>Missing for 2009 (150)</summary>" in year
    wrong = section[section.index('class="coverage-disagreements"'):]
    assert 'href="#letter-b0000000000000c1"' in wrong and "does not name Bromley" in wrong
    conflicts = section[section.index('class="coverage-conflicts"'):]
    assert f'href="#letter-{bromley}"' in conflicts and "rating_score" in conflicts
    assert '<li id="source-bbc-2009">' in section and "<code>https://www.newssniffer.co.uk/" in section
    assert "2010: published lists of authorities" in section
    parsed = parse(expanded(page))
    assert parsed.problems == [] and all(h[1:] in set(parsed.ids) for h in parsed.hrefs if h.startswith("#"))
    assert not re.search(r"""href\s*=\s*["']?\s*https?:""", page)
