"""The `ofsted-letters` command: parses arguments and calls the library, nothing more.

Every command keeps one error contract (the `Commands` group below): a mistake is one or two
plain lines on stderr, what went wrong and what to do, and an exit code from pipeline.errors
(the README's table); a traceback only with --debug. Every command takes the dataset folder the
same way: `-o/--out DIR`, the folder `ingest --out` wrote (default `outputs`).
"""
from __future__ import annotations

import json
import sys
import traceback
import warnings
from enum import Enum
from pathlib import Path
from typing import Any, Optional, Sequence

import typer
from rich.console import Console
from typer.core import TyperGroup

from pipeline import __version__
from pipeline.errors import EXIT_INTERRUPTED, EXIT_RUN_FAILED, EXIT_STRICT, PipelineError, UsageError
from pipeline.limits import default_limits
from pipeline.records import FIELD_CHOICES, SOURCE_FORMATS, STATISTICS_STATUSES, STATUSES

DEFAULT_DATASET = Path("outputs")
LIMITS = default_limits()  # the defaults of data/limits.toml, shown in --help


class Commands(TyperGroup):
    """The group every command runs in: turns each way a command can end into its exit code and
    message, so no command handles errors itself."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        args = list(sys.argv[1:] if args is None else args)
        _tidy_help(self)
        cut = args.index("--") if "--" in args else len(args)
        debug = "--debug" in args[:cut]
        if debug:  # accepted anywhere before "--", parsed by the top-level option
            args = ["--debug"] + [a for i, a in enumerate(args) if i >= cut or a != "--debug"]
        code = self._run(args, prog_name or "ofsted-letters", complete_var, debug, **extra)
        if standalone_mode:
            sys.exit(code)
        return code

    def _run(self, args: list[str], prog_name: str, complete_var: str | None, debug: bool, **extra: Any) -> int:
        with warnings.catch_warnings():
            warnings.showwarning = _note  # a warning for the user (a stale table passed over) is one line on stderr
            return self._run_command(args, prog_name, complete_var, debug, **extra)

    def _run_command(self, args: list[str], prog_name: str, complete_var: str | None, debug: bool, **extra: Any) -> int:
        try:
            result = super().main(args=args, prog_name=prog_name, complete_var=complete_var, standalone_mode=False, **extra)
        except typer.Exit as exc:
            return exc.exit_code
        except (typer.Abort, KeyboardInterrupt):
            return _interrupted()
        except PipelineError as exc:
            return _fail(exc.message, exc.hint, exc.exit_code, debug)
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            return _fail(f"{exc.strerror or exc}{where}", "check that the path exists and that you may read or write it", EXIT_RUN_FAILED, debug)
        except Exception as exc:
            if hasattr(exc, "format_message") and isinstance(getattr(exc, "exit_code", None), int):
                return _click_error(exc, prog_name)
            # a bug: one line, and the traceback on request
            return _fail(f"unexpected error: {type(exc).__name__}: {exc}", "run again with --debug for the traceback, and please report it", EXIT_RUN_FAILED, debug)
        # typer turns Ctrl-C into exit code 130 without a word
        return _interrupted() if result == EXIT_INTERRUPTED else result if isinstance(result, int) else 0


def _reflow(doc: str | None) -> str | None:
    """A docstring's paragraphs each on one line, so the help screen wraps them at its own width,
    never at the source's line breaks; indented lines (the examples) are kept as they are."""
    if not doc:
        return doc
    import inspect

    paragraphs = inspect.cleandoc(doc).split("\n\n")
    return "\n\n".join(p if p.startswith(" ") else " ".join(line.strip() for line in p.splitlines()) for p in paragraphs)


def _tidy_help(group: Any) -> None:
    """What the help screen shows beside each option: nothing for a flag (not `<bool>`), and the
    option's own name for a long choice (the help text lists the choices, wrapped between words)."""
    def tidy(param: Any) -> Any:
        descriptor = getattr(param, "type_descriptor", None)
        if getattr(param, "is_flag", False) or getattr(param, "count", False):
            param.display_type_rich = lambda ctx: None
        elif descriptor is not None and getattr(descriptor, "is_choice", False) and len("|".join(map(str, descriptor.choices or ()))) > 20:
            param.display_type_rich = lambda ctx, name=param.name: f"<{name}>"
        return param

    for command in [group, *getattr(group, "commands", {}).values()]:
        for param in command.params:
            tidy(param)
        if not getattr(command, "_help_tidied", False):  # --help / -h is made anew for each run
            made = command.get_help_option
            command.get_help_option = lambda ctx, made=made: None if (option := made(ctx)) is None else tidy(option)
            command._help_tidied = True


def _click_error(exc: Any, prog_name: str) -> int:
    """A usage error found while parsing (click's, or the copy of click typer carries): its one
    line, and where to read more. The help screen shown for no arguments at all says it all."""
    message = exc.format_message()
    if not message:
        return exc.exit_code
    path = getattr(getattr(exc, "ctx", None), "command_path", "") or prog_name
    command = f" {path.split(' ', 1)[1]}" if " " in path else ""
    return _fail(message.replace("Value error, ", ""), f"see `{prog_name}{command} --help`", exc.exit_code)


def _note(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None, line: str | None = None) -> None:
    print(f"note: {message}", file=sys.stderr)


def _fail(message: str, hint: str, code: int, debug: bool = False) -> int:
    if debug:
        traceback.print_exc()
    print(f"error: {message}", file=sys.stderr)
    if hint:
        print(hint, file=sys.stderr)
    return code


def _interrupted() -> int:
    print("interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED


app = typer.Typer(
    name="ofsted-letters",
    cls=Commands,
    help="Turn folders of Ofsted children's services rating letters (text or PDF) into a documented dataset.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
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


def dataset_option(help_text: str = "Dataset folder, as written by `ingest --out` (default: outputs).") -> Any:
    """The one way every command names the dataset folder."""
    return typer.Option(None, "--out", "-o", file_okay=False, help=help_text, show_default=False)


def deprecated_dataset_argument() -> Any:
    return typer.Argument(None, file_okay=False, show_default=False, metavar="DATASET", help="Deprecated: the dataset folder; use --out.")


def _dataset(out: Optional[Path], positional: Optional[Path] = None) -> Path:
    if positional is not None:
        if out is not None and out != positional:
            raise UsageError(f"two dataset folders given ({positional} and --out {out})", "give the folder once, with --out")
        print(f"note: a dataset folder given without --out is deprecated; use --out {positional}", file=sys.stderr)
        return positional
    return out if out is not None else DEFAULT_DATASET


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _choices(name: str, values: Sequence[str]) -> type[Enum]:
    """An Enum typer shows and checks as a choice, from one of the schema's closed sets of values."""
    return Enum(name, {v: v for v in values}, type=str)  # type: ignore[return-value]


Status = _choices("Status", STATUSES)
StatisticsStatus = _choices("StatisticsStatus", STATISTICS_STATUSES)
SourceFormat = _choices("SourceFormat", SOURCE_FORMATS)
# what --field takes: the groups and fields of records.FIELD_CHOICES, then every other column of
# letters (pipeline.show.show_fields() says the same from the schema; a test keeps them equal)
SHOW_FIELDS = (*FIELD_CHOICES, *(c for c in ("letter_id", "source_path", "source_format", "part", "parts", "page_start", "page_end", "line_start",
                                             "line_end", "status", "statistics_status", "letter_type", "n_statistics", "duplicate_of", "issues",
                                             "statistics_issues") if c not in FIELD_CHOICES))
Field = _choices("Field", SHOW_FIELDS)


def _value(choice: Optional[Enum]) -> Optional[str]:
    return None if choice is None else str(choice.value)


def _filters(status: Optional[Enum], source_format: Optional[Enum], year: Optional[int], max_confidence: Optional[float],
             statistics_status: Optional[Enum] = None, part: Optional[int] = None) -> Any:
    from pipeline.show import LetterFilter

    return LetterFilter(status=_value(status), source_format=_value(source_format), year=year, max_confidence=max_confidence,
                        statistics_status=_value(statistics_status), part=part)


def status_option() -> Any:
    return typer.Option(None, "--status", help=f"Only letters with this status: {', '.join(STATUSES)}.")


def statistics_status_option() -> Any:
    return typer.Option(None, "--statistics-status", help=f"Only letters whose statistics have this status: {', '.join(STATISTICS_STATUSES)}.")


def source_format_option() -> Any:
    return typer.Option(None, "--source-format", help=f"Only letters read this way: {', '.join(SOURCE_FORMATS)} (scans).")


def year_option() -> Any:
    return typer.Option(None, "--year", min=1990, max=2100, help="Only letters for this rating year (the letter date's year where none is stated).")


def max_confidence_option() -> Any:
    return typer.Option(None, "--max-confidence", min=0.0, max=1.0, help="Only letters with a value whose confidence (fields.confidence or statistics.confidence) is at most this, e.g. 0.9.")


def field_option() -> Any:
    return typer.Option(None, "--field", help=f"Show only one kind of value: {', '.join(SHOW_FIELDS)}.")


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="On an error, print the traceback too (accepted after the command name as well)."),
) -> None:
    """Turn folders of Ofsted children's services rating letters (text or PDF) into a documented dataset.

    Exit codes: 0 success, 1 the command could not finish, 2 bad invocation, 3 ingest --strict found
    problems, 4 a malformed input file (gold JSON, dataset table), 130 interrupted.

    Example:

        ofsted-letters ingest corpus/ --out outputs/ && ofsted-letters show Bromley
    """


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(..., help="Letter files (.txt, .pdf), folders to search recursively, and .zip / .tar.gz archives (read as folders)."),
    out: Path = typer.Option(DEFAULT_DATASET, "--out", "-o", help="Folder to write the dataset to."),
    fmt: list[str] = typer.Option(["csv", "parquet"], "--format", "-f", help="Table formats: csv, parquet, jsonl, sqlite (repeat the option, or separate with commas). sqlite also writes parquet, which it is built from."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1, help="Processes to use (default: the machine's cores); the pages of a long scan are OCR'd across them."),
    force: bool = typer.Option(False, "--force", help="Redo every document, even those already processed with this extractor version."),
    ocr: OcrMode = typer.Option(OcrMode.auto, help="OCR scanned pages: auto (pages with no text layer), off, or force (every page)."),
    layout: LayoutMode = typer.Option(LayoutMode.auto, help="PDF text: auto (fast PDFium, full pdfplumber layout where needed), fast, or full."),
    strict: bool = typer.Option(False, "--strict", help=f"Exit with code {EXIT_STRICT} if any document failed or needs review."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
    include: list[str] = typer.Option([], "--include", help="Only files whose path (below the folder or archive given) matches this glob, e.g. '2009/*.pdf' (repeatable)."),
    exclude: list[str] = typer.Option([], "--exclude", help="Leave out files (or archives) whose path matches this glob, e.g. '*draft*' (repeatable)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log each document as it finishes (status, pages, seconds per stage) and each page of a scan OCR'd, on stderr."),
    log_file: Optional[Path] = typer.Option(None, "--log", help="Append the same log, with timestamps, to this file."),
    max_file_mib: float = typer.Option(LIMITS.max_file_mib, min=0.001, help="Larger files are not read (error too_large); MiB = 1,048,576 bytes.", rich_help_panel="Limits per document"),
    max_pages: int = typer.Option(LIMITS.max_pages, min=1, help="PDFs with more pages are not read or OCR'd (error too_many_pages); a rating letter has 1-4.", rich_help_panel="Limits per document"),
    max_seconds: float = typer.Option(LIMITS.max_seconds, min=0.1, help="Wall-clock seconds one document (or one page of a long scan) may take in a worker (error time_limit).", rich_help_panel="Limits per document"),
    max_page_megapixels: float = typer.Option(LIMITS.max_page_megapixels, min=0.01, help="Largest image a page is rendered to for OCR: a larger page is OCR'd at a lower DPI, and its row says so.", rich_help_panel="Limits per document"),
    render_memory_mib: float = typer.Option(LIMITS.render_memory_mib, min=1, help="Memory rendering and cleaning one page for OCR may take (estimated from its pixels): the DPI is lowered to fit.", rich_help_panel="Limits per document"),
    min_ocr_dpi: float = typer.Option(LIMITS.min_ocr_dpi, min=1, help="The DPI is not lowered below this: a page that would need it fails (error page_too_large).", rich_help_panel="Limits per document"),
) -> None:
    """Read letters and write the dataset (letters, statistics, segments, scale, fields, documents, errors).

    Exit codes: 0 finished (some documents may have failed: see the status column), 1 the run could not
    finish, 2 bad invocation (also: no letters found, an empty --format, --out naming a file), 3 with
    --strict when any document failed or needs review, 5 another ingest is writing to the same --out,
    130 interrupted (the previous dataset is kept).

    Archives (.zip, .tar.gz) are read as folders; --include and --exclude take globs, e.g.
    letters.zip --include '2010/*' --exclude '*draft*'.

    Example:

        ofsted-letters ingest corpus/ --out outputs/ --format csv --format parquet
    """
    from pipeline.ingest import ingest as run_ingest
    from pipeline.limits import limits_with
    from pipeline.progress import ProgressReporter, print_summary, start_logging, stop_logging

    # checked, with every other argument the API takes too, by pipeline.ingest.check_arguments
    formats = tuple(dict.fromkeys(f.strip().lower() for item in fmt for f in item.split(",") if f.strip()))
    limits = limits_with(max_file_mib=max_file_mib, max_pages=max_pages, max_seconds=max_seconds, max_page_megapixels=max_page_megapixels,
                         render_memory_mib=render_memory_mib, min_ocr_dpi=min_ocr_dpi)
    handlers: list = []
    try:
        handlers = start_logging(err, verbose, log_file)
        with ProgressReporter(err, enabled=not quiet) as reporter:
            summary = run_ingest(paths, out, workers=workers, formats=formats, force=force, ocr=ocr.value, layout=layout.value,
                                 include=tuple(include), exclude=tuple(exclude), progress=reporter.update, limits=limits)
    finally:
        stop_logging(handlers)
    if not quiet:
        print_summary(err, summary)
    if strict and summary.any_problem:
        raise typer.Exit(EXIT_STRICT)


@app.command()
def evaluate(
    positional: Optional[Path] = deprecated_dataset_argument(),
    out: Optional[Path] = dataset_option(),
    gold: list[Path] = typer.Option(..., "--gold", "-g", exists=True, file_okay=False, help="Folder of gold JSON files (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures and every disagreement as JSON on stdout (the shape of score.py --json, plus disagreement_records)."),
) -> None:
    """Measure a dataset against gold files: field accuracy, statistics P/R/F1, judgements, segments, status.

    Example:

        ofsted-letters evaluate --gold ../shared/gold --out outputs/
    """
    from pipeline.evaluate import evaluate as run_evaluate
    from pipeline.evaluate import evaluation_json, render_evaluation

    if as_json and positional is not None and positional.suffix == ".json":  # the old `--json FILE`
        raise UsageError(f"--json takes no file name now ({positional}): it prints the JSON on stdout", f"redirect it: --json > {positional}")
    result = run_evaluate(list(gold), _dataset(out, positional))
    if as_json:
        _print_json(evaluation_json(result))
    else:
        render_evaluation(result, Console())


@app.command()
def report(
    positional: Optional[Path] = deprecated_dataset_argument(),
    out: Optional[Path] = dataset_option(),
    html: Optional[Path] = typer.Option(None, "--html", "--output", dir_okay=False, help="Where to write the HTML (default: DATASET/report.html); a missing folder is made, and the command says so. --output is the old name."),
) -> None:
    """Write one self-contained HTML report: ratings by grade and region, authorities, each letter highlighted.

    Example:

        ofsted-letters report --out outputs/ && xdg-open outputs/report.html
    """
    from pipeline.report import build_report

    missing = next((p for p in reversed(html.parents) if not p.exists()), None) if html is not None else None
    path = build_report(_dataset(out, positional), html)
    made = f" (made the folder {html.parent}, which did not exist)" if missing is not None else ""  # type: ignore[union-attr]
    err.print(f"wrote {path}{made}", markup=False, highlight=False, soft_wrap=True)


@app.command()
def show(
    doc: str = typer.Argument(..., help="A letter file (ingested or not), a letter_id (or its first 6+ characters), a file name (or the end of its path) or an authority name."),
    out: Optional[Path] = dataset_option("Dataset folder to look the letter up in (default: outputs)."),
    field: Optional[Field] = field_option(),
    status: Optional[Status] = status_option(),
    statistics_status: Optional[StatisticsStatus] = statistics_status_option(),
    source_format: Optional[SourceFormat] = source_format_option(),
    year: Optional[int] = year_option(),
    max_confidence: Optional[float] = max_confidence_option(),
    part: Optional[int] = typer.Option(None, "--part", min=1, help="Which letter of a file holding several (letters.part), e.g. --part 3 for the third."),
    as_json: bool = typer.Option(False, "--json", help="Print the letter's row, issues, fields, statistics, segments and text as JSON on stdout."),
) -> None:
    """Print a letter with each extracted value highlighted in place, then its fields and issues.

    A name that matches several letters (or a file holding several) lists them and exits 2: narrow it
    with the filters, or --part.

    Example:

        ofsted-letters show Surrey --year 2010 --out outputs/ --field statistic
        ofsted-letters show foi-release.pdf --part 3
    """
    from pipeline.show import find_letter, show_letter, view_json

    with err.status("looking the letter up", spinner="dots") as spinner:  # shown on a terminal only
        view = find_letter(doc, _dataset(out), _filters(status, source_format, year, max_confidence, statistics_status, part), tell=spinner.update)
    if as_json:
        _print_json(view_json(view, _value(field)))
    else:
        show_letter(view, Console(), _value(field))


@app.command()
def sample(
    n: int = typer.Argument(5, min=1, help="How many letters to show."),
    out: Optional[Path] = dataset_option("Dataset folder to pick from (default: outputs)."),
    status: Optional[Status] = status_option(),
    statistics_status: Optional[StatisticsStatus] = statistics_status_option(),
    source_format: Optional[SourceFormat] = source_format_option(),
    year: Optional[int] = year_option(),
    max_confidence: Optional[float] = max_confidence_option(),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed, to pick the same letters again."),
    field: Optional[Field] = field_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the letters as a JSON array on stdout (each as show --json prints it)."),
) -> None:
    """Pick letters at random from a dataset and show each, for spot-checking.

    Example:

        ofsted-letters sample 3 --status needs_review --source-format pdf-ocr --max-confidence 0.9 --seed 1 --out outputs/
    """
    from pipeline.show import sample_letters, show_letter, view_json

    views = sample_letters(_dataset(out), n, _filters(status, source_format, year, max_confidence, statistics_status), seed)
    if as_json:
        _print_json([view_json(view, _value(field)) for view in views])
        return
    console = Console()
    for view in views:
        show_letter(view, console, _value(field))
    if not views:
        err.print("no letters match")


@app.command()
def coverage(
    out: Optional[Path] = dataset_option(),
    year: list[int] = typer.Option([], "--year", min=1990, max=2100, help="A rating year to check (repeatable; default: every rating year of the dataset's letters)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout: years (counts, missing, agreeing, conflicting), conflicts, unplaced letters, notes."),
) -> None:
    """Show which authorities have no rating letter for each year, and which letters for one authority and year disagree.

    Every authority in the gazetteer is expected every year; a letter counts when its status is ok or
    needs_review and it is not a duplicate. Conflicts list each field that differs and the preferred copy.

    Example:

        ofsted-letters coverage --out outputs/ --year 2009
    """
    from pipeline.coverage import coverage as run_coverage
    from pipeline.coverage import render_coverage

    report = run_coverage(_dataset(out), list(year) or None)
    if as_json:
        _print_json(report.to_json())
    else:
        render_coverage(report, Console())


@app.command()
def review(
    positional: Optional[Path] = deprecated_dataset_argument(),
    out: Optional[Path] = dataset_option(),
    gold: Optional[Path] = typer.Option(None, "--gold", "-g", file_okay=False, help="Folder for the gold files (default: DATASET/gold)."),
    redo: bool = typer.Option(False, "--redo", help="Review letters that already have a gold file too, starting from it."),
) -> None:
    """Walk the letters (needs_review first) and accept or correct each; saves one gold JSON per letter.

    Keys: a accept and save, f fix a field, e edit a statistic, + add one, - remove one, s skip, q quit.
    Resumable: letters with a gold file are passed over. The dataset itself is never changed.

    Example:

        ofsted-letters review --out outputs/ --gold checked/ && ofsted-letters evaluate --gold checked/ --out outputs/
    """
    from pipeline.review import review as run_review

    dataset = _dataset(out, positional)
    counts = run_review(dataset, gold or dataset / "gold", Console(), redo=redo)
    err.print(counts.summary(), markup=False, highlight=False)


for _info in [*app.registered_commands, app.registered_callback]:
    if _info is not None and _info.callback is not None:
        _info.callback.__doc__ = _reflow(_info.callback.__doc__)


def run() -> None:
    app()


if __name__ == "__main__":
    app()
