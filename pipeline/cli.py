"""The `ofsted-letters` command: parses arguments and calls the library, nothing more.

Exit codes: 0 the run finished (even if some documents failed); 1 the run itself could not
finish (e.g. the output folder is not writable); 2 a bad invocation; 3 with --strict, some
document failed or needs review; 4 another ingest is writing to the same output folder.
"""
from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from pipeline import __version__
from pipeline.limits import default_limits

EXIT_OK, EXIT_RUN_FAILED, EXIT_USAGE, EXIT_STRICT, EXIT_BUSY = 0, 1, 2, 3, 4
LIMITS = default_limits()  # the defaults of data/limits.toml, shown in --help

app = typer.Typer(
    name="ofsted-letters",
    help="Turn folders of Ofsted children's services rating letters (text or PDF) into a documented dataset.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
err = Console(stderr=True)


class OcrMode(str, Enum):
    auto = "auto"
    off = "off"
    force = "force"


class LayoutMode(str, Enum):
    auto = "auto"
    fast = "fast"
    full = "full"


def _version(value: bool) -> None:
    if value:
        print(f"ofsted-letters {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit.")) -> None:
    """Turn folders of Ofsted children's services rating letters (text or PDF) into a documented dataset."""


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(..., exists=True, help="Letter files (.txt, .pdf) and folders to search recursively."),
    out: Path = typer.Option(Path("outputs"), "--out", "-o", help="Folder to write the dataset to."),
    fmt: list[str] = typer.Option(["csv", "parquet"], "--format", "-f", help="Table formats: csv, parquet, jsonl, sqlite (repeat the option, or separate with commas). sqlite also writes parquet, which it is built from."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1, help="Processes to use (default: the machine's cores); the pages of a long scan are OCR'd across them."),
    force: bool = typer.Option(False, "--force", help="Redo every document, even those already processed with this extractor version."),
    ocr: OcrMode = typer.Option(OcrMode.auto, help="OCR scanned pages: auto (pages with no text layer), off, or force (every page)."),
    layout: LayoutMode = typer.Option(LayoutMode.auto, help="PDF text: auto (fast PDFium, full pdfplumber layout where needed), fast, or full."),
    strict: bool = typer.Option(False, "--strict", help=f"Exit with code {EXIT_STRICT} if any document failed or needs review."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
    max_file_mib: float = typer.Option(LIMITS.max_file_mib, min=0.001, help="Larger files are not read (error too_large); MiB = 1,048,576 bytes.", rich_help_panel="Limits per document"),
    max_pages: int = typer.Option(LIMITS.max_pages, min=1, help="PDFs with more pages are not read or OCR'd (error too_many_pages); a rating letter has 1-4.", rich_help_panel="Limits per document"),
    max_seconds: float = typer.Option(LIMITS.max_seconds, min=0.1, help="Wall-clock seconds one document (or one page of a long scan) may take in a worker (error time_limit).", rich_help_panel="Limits per document"),
    max_page_megapixels: float = typer.Option(LIMITS.max_page_megapixels, min=0.01, help="Largest image a page is rendered to for OCR: a larger page is OCR'd at a lower DPI, and its row says so.", rich_help_panel="Limits per document"),
    render_memory_mib: float = typer.Option(LIMITS.render_memory_mib, min=1, help="Memory rendering and cleaning one page for OCR may take (estimated from its pixels): the DPI is lowered to fit.", rich_help_panel="Limits per document"),
    min_ocr_dpi: float = typer.Option(LIMITS.min_ocr_dpi, min=1, help="The DPI is not lowered below this: a page that would need it fails (error page_too_large).", rich_help_panel="Limits per document"),
) -> None:
    """Read letters and write the dataset (letters, statistics, segments, scale, fields, documents, errors).

    Exit codes: 0 finished (some documents may have failed: see the status column), 1 the run could not
    finish, 2 bad invocation, 3 with --strict when any document failed or needs review, 4 another ingest
    is writing to the same --out (wait for it, or choose another folder).

    Example:

        ofsted-letters ingest corpus/ --out outputs/ --format csv --format parquet
    """
    from pipeline.ingest import OutputLocked, ingest as run_ingest
    from pipeline.limits import limits_with
    from pipeline.progress import ProgressReporter, print_summary

    from pipeline.write import FORMATS

    formats = tuple(dict.fromkeys(f.strip().lower() for item in fmt for f in item.split(",") if f.strip()))
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        err.print(f"[red]error:[/red] unknown format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
        raise typer.Exit(EXIT_USAGE)
    try:
        with ProgressReporter(err, enabled=not quiet) as reporter:
            limits = limits_with(max_file_mib=max_file_mib, max_pages=max_pages, max_seconds=max_seconds, max_page_megapixels=max_page_megapixels,
                                 render_memory_mib=render_memory_mib, min_ocr_dpi=min_ocr_dpi)
            summary = run_ingest(paths, out, workers=workers, formats=formats, force=force, ocr=ocr.value, layout=layout.value, progress=reporter.update, limits=limits)
    except OutputLocked as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_BUSY)
    except (OSError, ValueError) as exc:
        err.print(f"[red]error:[/red] the run could not finish: {exc}")
        raise typer.Exit(EXIT_RUN_FAILED)
    if not quiet:
        print_summary(err, summary)
    if strict and summary.any_problem:
        raise typer.Exit(EXIT_STRICT)


@app.command()
def evaluate(
    out_dir: Path = typer.Argument(Path("outputs"), exists=True, file_okay=False, help="A dataset folder written by ingest."),
    gold: list[Path] = typer.Option(..., "--gold", "-g", exists=True, file_okay=False, help="Folder of gold JSON files (repeatable)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the figures and every disagreement to this JSON file."),
) -> None:
    """Measure a dataset against gold files: field accuracy, statistics P/R/F1, judgements, segments, status.

    Example:

        ofsted-letters evaluate --gold ../shared/gold outputs/
    """
    from pipeline.evaluate import evaluate as run_evaluate
    from pipeline.evaluate import render_evaluation, write_evaluation_json

    result = run_evaluate(list(gold), out_dir)
    render_evaluation(result, Console())
    if json_out:
        write_evaluation_json(result, json_out)


@app.command()
def report(
    out_dir: Path = typer.Argument(Path("outputs"), exists=True, file_okay=False, help="A dataset folder written by ingest."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Where to write the HTML (default OUT_DIR/report.html)."),
) -> None:
    """Write one self-contained HTML report: ratings by grade and region, authorities, each letter highlighted.

    Example:

        ofsted-letters report outputs/ && xdg-open outputs/report.html
    """
    from pipeline.report import build_report

    path = build_report(out_dir, output)
    err.print(f"wrote {path}")


@app.command()
def show(
    doc: str = typer.Argument(..., help="A letter file (ingested or not), a letter_id (or its first 6+ characters) or an authority name."),
    out: Path = typer.Option(Path("outputs"), "--out", "-o", help="Dataset folder to look the letter up in."),
    field: Optional[str] = typer.Option(None, "--field", help="Show only one kind of value: authority, letter_date, rating, recipient, signatory, statistic, or a field name."),
) -> None:
    """Print a letter with each extracted value highlighted in place, then its fields and issues.

    Example:

        ofsted-letters show Bromley --out outputs/ --field statistic
    """
    from pipeline.show import LetterNotFound, find_letter, show_letter

    try:
        view = find_letter(doc, out)
    except (LetterNotFound, FileNotFoundError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_USAGE)
    show_letter(view, Console(), field)


@app.command()
def sample(
    n: int = typer.Argument(5, min=1, help="How many letters to show."),
    out: Path = typer.Option(Path("outputs"), "--out", "-o", help="Dataset folder to pick from."),
    status: Optional[str] = typer.Option(None, "--status", help="Only letters with this status, e.g. needs_review."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed, to pick the same letters again."),
    field: Optional[str] = typer.Option(None, "--field", help="Show only one kind of value (as in show)."),
) -> None:
    """Pick letters at random from a dataset and show each, for spot-checking.

    Example:

        ofsted-letters sample 3 --status needs_review --seed 1 --out outputs/
    """
    from pipeline.show import sample_letters, show_letter

    try:
        views = sample_letters(out, n, status, seed)
    except FileNotFoundError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_USAGE)
    console = Console()
    for view in views:
        show_letter(view, console, field)
    if not views:
        err.print("no letters match")


@app.command()
def review(
    out_dir: Path = typer.Argument(Path("outputs"), exists=True, file_okay=False, help="A dataset folder written by ingest."),
    gold: Optional[Path] = typer.Option(None, "--gold", "-g", help="Folder for the gold files (default OUT_DIR/gold)."),
    redo: bool = typer.Option(False, "--redo", help="Review letters that already have a gold file too."),
) -> None:
    """Walk the letters (needs_review first) and accept or correct each; saves one gold JSON per letter.

    Resumable: letters with a gold file are passed over. The dataset itself is never changed.

    Example:

        ofsted-letters review outputs/ --gold checked/ && ofsted-letters evaluate --gold checked/ outputs/
    """
    from rich.prompt import Prompt

    from pipeline.review import review as run_review

    console = Console()
    counts = run_review(out_dir, gold or out_dir / "gold", console, lambda q: Prompt.ask(q, console=console, default=""))
    err.print(f"saved {counts['saved']}, skipped {counts['skipped']}, already reviewed {counts['already_reviewed']}")


def run() -> None:
    app()


if __name__ == "__main__":
    sys.exit(app())
