"""The errors a user can act on, and the exit code each command ends with.

Library functions raise these with a message saying what went wrong and a hint saying what to
do; the command line prints the two lines and exits with the code, without a traceback (unless
--debug). Anything else that escapes a command is a bug or the machine (a full disk), exit 1.
"""
from __future__ import annotations

EXIT_OK = 0
EXIT_RUN_FAILED = 1
EXIT_USAGE = 2
EXIT_STRICT = 3
EXIT_DATA = 4
EXIT_BUSY = 5
EXIT_INTERRUPTED = 130

# The README's exit-code table is checked against this, so the two cannot drift apart.
EXIT_CODES: dict[int, str] = {
    EXIT_OK: "Success.",
    EXIT_RUN_FAILED: "The command could not finish: an output could not be written (permissions, a full disk) or an unexpected internal error (rerun with `--debug` and report it).",
    EXIT_USAGE: "Bad invocation: an unknown option or value, an input that does not exist or holds no letters, an empty `--format`, `--out` naming a file, a folder that is not a dataset, a letter `show` cannot find or that matches several.",
    EXIT_STRICT: "`ingest --strict` only: the dataset was written, but some document failed or needs review.",
    EXIT_DATA: "A file the command reads is malformed: a gold JSON file that is not valid JSON or lacks its keys, a dataset table that cannot be read.",
    EXIT_BUSY: "`ingest` only: another `ingest` is writing to the same `--out` (it holds `OUT/.lock`); nothing was written. Wait for it, or choose another folder.",
    EXIT_INTERRUPTED: "Interrupted (Ctrl-C, or SIGTERM: `kill`, a service manager, `timeout`). The previous dataset, if any, is left whole.",
}


class PipelineError(Exception):
    """An error with a message (what went wrong) and a hint (what to do about it)."""

    exit_code = EXIT_RUN_FAILED

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(PipelineError):
    """The command was given something it cannot work with: fix the invocation."""

    exit_code = EXIT_USAGE


class DataError(PipelineError):
    """A file the command reads is malformed: fix or remove the file."""

    exit_code = EXIT_DATA


class NotADataset(UsageError, FileNotFoundError):
    """A folder holds no dataset written by `ingest`."""


class OutputBusy(PipelineError):
    """Another run is writing to the same output folder."""

    exit_code = EXIT_BUSY
