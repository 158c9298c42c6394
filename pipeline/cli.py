"""The `ofsted-letters` command: parses arguments and calls the library, nothing more.

Exit codes: 0 the run finished (even if some documents failed); 1 the run itself could not
finish (e.g. the output folder is not writable); 2 a bad invocation; 3 with --strict, some
document failed or needs review.
"""
from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from pipeline import __version__

EXIT_OK, EXIT_RUN_FAILED, EXIT_USAGE, EXIT_STRICT = 0, 1, 2, 3

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
    fmt: list[str] = typer.Option(["csv", "parquet"], "--format", "-f", help="Table formats: csv, parquet, jsonl, sqlite (repeat the option for several)."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1, help="Processes to use (default: the machine's cores)."),
    force: bool = typer.Option(False, "--force", help="Redo every document, even those already processed with this extractor version."),
    ocr: OcrMode = typer.Option(OcrMode.auto, help="OCR scanned pages: auto (pages with no text layer), off, or force (every page)."),
    layout: LayoutMode = typer.Option(LayoutMode.auto, help="PDF text: auto (fast PDFium, full pdfplumber layout where needed), fast, or full."),
    strict: bool = typer.Option(False, "--strict", help=f"Exit with code {EXIT_STRICT} if any document failed or needs review."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
) -> None:
    """Read letters and write the dataset (letters, statistics, segments, scale, fields, documents, errors).

    Exit codes: 0 finished (some documents may have failed: see the status column), 1 the run could not
    finish, 2 bad invocation, 3 with --strict when any document failed or needs review.

    Example:

        ofsted-letters ingest corpus/ --out outputs/ --format csv --format parquet
    """
    from pipeline.ingest import ingest as run_ingest
    from pipeline.progress import ProgressReporter, print_summary

    formats = tuple(dict.fromkeys(f.strip().lower() for item in fmt for f in item.split(",") if f.strip()))
    try:
        with ProgressReporter(err, enabled=not quiet) as reporter:
            summary = run_ingest(paths, out, workers=workers, formats=formats, force=force, ocr=ocr.value, layout=layout.value, progress=reporter.update)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_USAGE)
    except OSError as exc:
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


def run() -> None:
    app()


if __name__ == "__main__":
    sys.exit(app())
