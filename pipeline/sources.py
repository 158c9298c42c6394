"""Find the documents a run reads: files, folders searched recursively, and .zip / .tar(.gz) archives
read as folders (archives inside them too, to a depth limit), narrowed by --include and --exclude globs.

An archive's letters are copied out to a staging folder for the workers to read, each under a name
of our own (never the member's path), and their source_path is `archive.zip/inner/path.pdf`.
What an archive must not do is refused with a row saying why, and the run goes on: a member whose
path climbs out of the archive (`../`, an absolute path) or is a link, and an archive (or member)
that would expand past the limits below, judged both by the sizes it declares and by the bytes it
actually gives (a zip bomb lies in its headers or packs many entries onto one compressed stream).
"""
from __future__ import annotations

import fnmatch
import os
import shutil
import stat
import tarfile
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterator

LETTER_SUFFIXES = {".txt", ".pdf"}
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ArchiveLimits:
    """How far an archive may expand. A member of at least min_ratio_bytes may expand at most
    max_ratio times its compressed size (letters compress 1-5 times; bombs a thousand)."""

    max_member_bytes: int = 256 * 1024 * 1024
    max_total_bytes: int = 8 * 1024 * 1024 * 1024
    max_ratio: float = 100.0
    min_ratio_bytes: int = 1024 * 1024
    max_members: int = 200_000
    max_depth: int = 4  # archives inside archives, counting the outermost


@dataclass(frozen=True)
class Input:
    """One document of the run: the path users see, where its bytes are, or why it is not read."""

    source: str
    path: Path | None = None
    error: str | None = None  # set when refused: a short kind, as in the errors table
    message: str | None = None

    @property
    def refused(self) -> bool:
        return self.error is not None


class ArchiveRefused(Exception):
    """The whole archive is refused; no member of it is read."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message


@dataclass
class Selection:
    """--include and --exclude globs. A glob matches the end of a path at a folder boundary, so
    `2009/*.pdf` takes the PDFs of any folder named 2009 and `*draft*` any path with `draft` in it;
    with includes, a file must match one; it must match no exclude."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @staticmethod
    def _matches(relative: str, pattern: str) -> bool:
        return fnmatch.fnmatchcase(relative, pattern) or fnmatch.fnmatchcase(relative, "*/" + pattern.lstrip("/"))

    def excluded(self, relative: str) -> bool:
        return any(self._matches(relative, p) for p in self.exclude)

    def wanted(self, relative: str) -> bool:
        """Whether a file, by its path below the folder given, is taken."""
        if self.excluded(relative):
            return False
        return not self.include or any(self._matches(relative, p) for p in self.include)


def is_archive(path: Path | str) -> bool:
    return str(path).lower().endswith(ARCHIVE_SUFFIXES)


def _is_letter(name: str) -> bool:
    return PurePosixPath(name.lower()).suffix in LETTER_SUFFIXES


def walk(folder: Path, skipped: Counter | None = None) -> Iterator[Path]:
    """Letter files and archives under a folder, recursively; hidden files and folders skipped.
    Other files are counted in skipped by their extension (".qdf", "" for none), when given."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            if _is_letter(name) or is_archive(name):
                yield Path(root) / name
            elif skipped is not None:
                skipped[PurePosixPath(name.lower()).suffix] += 1


@dataclass
class _Staging:
    """The folder an archive's letters are copied to, one numbered folder per member."""

    root: Path
    count: int = 0

    def new_path(self, member_name: str) -> Path:
        self.count += 1
        folder = self.root / str(self.count)
        folder.mkdir(parents=True)
        # the member's last name only, and only its safe characters: its path never reaches the disk
        base = member_name.replace("\\", "/").rsplit("/", 1)[-1]
        base = "".join(c if c.isalnum() or c in "._- " else "_" for c in base).strip(" .") or "member"
        return folder / base


def find_inputs(paths: list[Path], staging: Path, selection: Selection | None = None,
                limits: ArchiveLimits | None = None, skipped: Counter | None = None) -> list[Input]:
    """Every document under paths, sorted by source path; archives' letters copied under staging.

    A file named directly is read whatever its type (and the run says if it cannot be); in folders
    only .txt and .pdf files and archives are taken (the others are counted in skipped, by extension). Globs are matched against the path below the
    folder given (a file's name, for a file given directly).
    """
    selection = selection or Selection()
    limits = limits or ArchiveLimits()
    stage = _Staging(Path(staging))
    found: list[Input] = []
    seen: set[Path] = set()
    for path in paths:
        path = Path(path)
        candidates = walk(path, skipped) if path.is_dir() else [path]
        for candidate in candidates:
            real = _resolved(candidate)
            if real in seen:
                continue
            seen.add(real)
            relative = candidate.relative_to(path).as_posix() if path.is_dir() else candidate.name
            if is_archive(candidate) and not _regular_file(candidate):
                # a FIFO named x.zip would block the read for ever; ingest gives it (or a broken link) its row
                if selection.wanted(relative):
                    found.append(Input(str(candidate), candidate))
            elif is_archive(candidate):
                if not selection.excluded(relative):
                    found += read_archive(candidate, stage, selection, limits, relative if path.is_dir() else "")
            elif selection.wanted(relative):
                found.append(Input(str(candidate), candidate))
    return sorted(found, key=lambda i: i.source)


def _resolved(path: Path) -> Path:
    """The real path a candidate names, to take each file once; a loop of links is its own path."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop, before Python 3.13
        return path.absolute()


def _regular_file(path: Path) -> bool:
    """Whether path is (a link to) a regular file, by stat alone: nothing else is opened."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def read_archive(archive: Path, stage: _Staging, selection: Selection, limits: ArchiveLimits, relative: str = "",
                 source: str | None = None, depth: int = 1, budget: list[int] | None = None) -> list[Input]:
    """The letters of one archive, copied out; refused members as rows; the archive itself as one
    refused row when it cannot be opened or would expand past the limits. relative is the
    archive's path below the folder it was found in, which globs see before its members' paths.

    An archive inside it is read the same way, its members' source paths under the inner
    archive's (`outer.zip/2009.zip/bromley.pdf`): depth counts the archives around it, and budget
    (the bytes copied out so far) is shared with them, so nesting neither escapes the size limits
    nor goes deeper than max_depth."""
    source = source or str(archive)
    first = stage.count
    scan = _Scan(source, relative, stage, selection, limits, depth=depth, budget=budget if budget is not None else [0])
    try:
        name = source.rsplit("/", 1)[-1] if depth > 1 else archive.name
        if name.lower().endswith(".zip"):
            return list(scan.zip(archive))
        return list(scan.tar(archive))
    except ArchiveRefused as refused:
        _discard(stage, first)
        return [Input(source, error=refused.error, message=refused.message)]
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile, tarfile.TarError) as exc:
        _discard(stage, first)
        return [Input(source, error="corrupt_archive", message=f"the archive cannot be read (damaged, truncated or not an archive): {exc}")]


def _discard(stage: _Staging, first: int) -> None:
    """Remove what a refused archive had copied out before it was found out."""
    for n in range(first + 1, stage.count + 1):
        shutil.rmtree(stage.root / str(n), ignore_errors=True)


def _member_problem(name: str) -> str | None:
    """Why a member's path is unsafe to take, if it is: absolute, a drive, or climbing with `..`."""
    normal = name.replace("\\", "/")
    if normal.startswith("/") or (len(normal) > 1 and normal[1] == ":"):
        return "its path is absolute"
    if ".." in normal.split("/"):
        return "its path climbs out of the archive (..)"
    return None


def _inner(name: str) -> str:
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    return "/".join(parts)


def _hidden(inner: str) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in inner.split("/"))


def _bomb(source: str, what: str) -> ArchiveRefused:
    return ArchiveRefused("archive_bomb", f"refused as a possible zip bomb: {what}; nothing in {source} was read")


def _copy(stream: BinaryIO, target: Path, declared: int, budget: list[int], limits: ArchiveLimits) -> str | None:
    """Copy a member out, counting the bytes it really gives; why it was stopped, if it was."""
    written = 0
    with open(target, "wb") as out:
        while True:
            block = stream.read(_CHUNK)
            if not block:
                return None
            written += len(block)
            budget[0] += len(block)
            if written > declared:
                return f"it expands past the {declared:,} bytes its header declares"
            if written > limits.max_member_bytes or budget[0] > limits.max_total_bytes:
                return "it expands past the size limits"
            out.write(block)


@dataclass
class _Scan:
    """One archive being read: its members checked, the letters among them copied out."""

    source: str
    relative: str
    stage: _Staging
    selection: Selection
    limits: ArchiveLimits
    depth: int = 1
    budget: list[int] = field(default_factory=lambda: [0])  # bytes copied out so far, shared with the archives around

    def _path(self, inner: str) -> str:
        return f"{self.relative}/{inner}" if self.relative else inner

    def _wanted(self, inner: str) -> bool:
        if _hidden(inner) or not _is_letter(inner):
            return False
        return self.selection.wanted(self._path(inner))

    def _nested(self, inner: str) -> bool:
        """Whether a member is an archive to read in turn (unless --exclude leaves it out, as in a folder)."""
        return not _hidden(inner) and is_archive(inner) and not self.selection.excluded(self._path(inner))

    def _read_nested(self, member: str, inner: str, copied: Path) -> list[Input]:
        """The letters of an archive inside this one, copied out to `copied`, which is removed once read."""
        try:
            if self.depth >= self.limits.max_depth:
                return [Input(member, error="archive_bomb", message=(
                    f"refused as a possible zip bomb: archives nested more than {self.limits.max_depth} deep; nothing in it was read"))]
            return read_archive(copied, self.stage, self.selection, self.limits, self._path(inner), source=member,
                                depth=self.depth + 1, budget=self.budget)
        finally:
            copied.unlink(missing_ok=True)

    def _unsafe(self, name: str) -> Input | None:
        problem = _member_problem(name)
        if problem is None:
            return None
        return Input(f"{self.source}/{name}", error="unsafe_path", message=f"archive member refused: {problem}; it was not extracted")

    def zip(self, archive: Path) -> Iterator[Input]:
        source, stage, limits, budget = self.source, self.stage, self.limits, self.budget
        with zipfile.ZipFile(archive) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            if len(infos) > limits.max_members:
                raise _bomb(source, f"it holds {len(infos):,} members, over the limit of {limits.max_members:,}")
            declared = sum(i.file_size for i in infos)
            if declared > limits.max_total_bytes:
                raise _bomb(source, f"its members declare {declared:,} bytes, over the limit of {limits.max_total_bytes:,}")
            packed = archive.stat().st_size
            if declared >= limits.min_ratio_bytes and declared > limits.max_ratio * max(packed, 1):
                # many entries sharing one compressed stream: each looks modest, the archive does not
                raise _bomb(source, f"its members declare {declared / max(packed, 1):,.0f} times the archive's size")
            for info in infos:
                inner = _inner(info.filename)
                member = f"{source}/{inner}"
                unsafe = self._unsafe(info.filename)
                if unsafe:
                    yield unsafe
                    continue
                nested = self._nested(inner)
                if not nested and not self._wanted(inner):
                    continue
                if stat.S_ISLNK(info.external_attr >> 16):
                    yield Input(member, error="unsafe_path", message="archive member refused: it is a symbolic link; it was not extracted")
                    continue
                if info.flag_bits & 0x1:
                    yield Input(member, error="encrypted", message="the archive member is encrypted: extract it with its password and read it again")
                    continue
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > limits.max_member_bytes or (info.file_size >= limits.min_ratio_bytes and ratio > limits.max_ratio):
                    yield Input(member, error="archive_bomb", message=(
                        f"archive member refused as a possible zip bomb: it declares {info.file_size:,} bytes "
                        f"({ratio:,.0f} times its compressed size); it was not extracted"))
                    continue
                target = stage.new_path(inner)
                try:
                    with zf.open(info) as stream:
                        stopped = _copy(stream, target, info.file_size, budget, limits)
                except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
                    target.unlink(missing_ok=True)
                    yield Input(member, error="corrupt_archive", message=f"the archive member cannot be extracted: {exc}")
                    continue
                if stopped:
                    target.unlink(missing_ok=True)
                    if budget[0] > limits.max_total_bytes:
                        raise _bomb(source, f"it expands past {limits.max_total_bytes:,} bytes")
                    yield Input(member, error="archive_bomb", message=f"archive member refused as a possible zip bomb: {stopped}")
                    continue
                if nested:
                    yield from self._read_nested(member, inner, target)
                    continue
                yield Input(member, target)

    def tar(self, archive: Path) -> Iterator[Input]:
        """A tar archive read as a stream, in one pass: each header is checked as it comes, and
        the bytes expanded so far are measured against the compressed bytes read so far."""
        source, stage, limits, budget = self.source, self.stage, self.limits, self.budget
        with open(archive, "rb") as raw, tarfile.open(fileobj=raw, mode="r|*") as tf:
            members = 0
            for info in tf:
                members += 1
                if members > limits.max_members:
                    raise _bomb(source, f"it holds over {limits.max_members:,} members")
                if info.offset >= limits.min_ratio_bytes and info.offset > limits.max_ratio * max(raw.tell(), 1):
                    raise _bomb(source, f"it expands to over {limits.max_ratio:,.0f} times its compressed size")
                if info.offset_data + info.size > limits.max_total_bytes:
                    raise _bomb(source, f"it declares over {limits.max_total_bytes:,} bytes")
                if info.isdir():
                    continue
                inner = _inner(info.name)
                member = f"{source}/{inner}"
                unsafe = self._unsafe(info.name)
                if unsafe:
                    yield unsafe
                    continue
                nested = self._nested(inner)
                if not nested and not self._wanted(inner):
                    continue
                if not info.isreg():
                    kind = "a link" if info.issym() or info.islnk() else "not a regular file"
                    yield Input(member, error="unsafe_path", message=f"archive member refused: it is {kind}; it was not extracted")
                    continue
                if info.size > limits.max_member_bytes:
                    yield Input(member, error="archive_bomb", message=(
                        f"archive member refused: it declares {info.size:,} bytes, over the limit of "
                        f"{limits.max_member_bytes:,}; it was not extracted"))
                    continue
                stream = tf.extractfile(info)
                if stream is None:
                    continue
                target = stage.new_path(inner)
                stopped = _copy(stream, target, info.size, budget, limits)
                if stopped:
                    target.unlink(missing_ok=True)
                    raise _bomb(source, stopped)
                if nested:
                    yield from self._read_nested(member, inner, target)
                    continue
                yield Input(member, target)
