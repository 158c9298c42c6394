"""Finding a run's documents: folders, .zip and .tar.gz archives read as folders, globs, and the
archives that must be refused (paths that climb out, links, zip bombs), all built here in code."""
from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from pipeline.sources import ArchiveLimits, Input, Selection, find_inputs

LETTER = "Dear Mrs Pearson\n\nAnnual rating of children's services.\n"
MIB = 1024 * 1024


def _zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2010, 1, 1, 0, 0, 0)), data, compress_type=compression)
    return path


def _tar(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tf.addfile(info)
    return path


def _by_source(inputs: list[Input]) -> dict[str, Input]:
    return {i.source: i for i in inputs}


FOLDER_OF_LETTERS = {
    "letters/2009/bromley.txt": LETTER.encode(),
    "letters/2010/bromley.txt": (LETTER + "2010\n").encode(),
    "letters/2010/draft bromley.pdf": b"%PDF-1.4 not really",
    "letters/readme.md": b"not a letter",
    "__MACOSX/letters/._bromley.txt": b"resource fork",
    "letters/.hidden.txt": b"hidden",
}


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_an_archive_is_read_as_a_folder(tmp_path: Path, kind: str) -> None:
    archive = tmp_path / f"archive.{kind}"
    (_zip if kind == "zip" else _tar)(archive, FOLDER_OF_LETTERS)
    inputs = find_inputs([archive], tmp_path / "staging")
    assert [i.source for i in inputs] == [f"{archive}/letters/2009/bromley.txt", f"{archive}/letters/2010/bromley.txt",
                                          f"{archive}/letters/2010/draft bromley.pdf"]
    for item in inputs:
        assert not item.refused and item.path is not None and item.path.is_relative_to(tmp_path / "staging")
        assert item.path.name == Path(item.source).name
        assert item.path.read_bytes() == FOLDER_OF_LETTERS[item.source.split(f"archive.{kind}/", 1)[1]]


def test_archives_inside_folders_and_globs(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "2009").mkdir(parents=True)
    (folder / "2009" / "cumbria.txt").write_text(LETTER)
    (folder / "2009" / "cumbria draft.txt").write_text(LETTER)
    _zip(folder / "more.zip", FOLDER_OF_LETTERS)
    names = lambda inputs: sorted(i.source.replace(str(folder) + "/", "") for i in inputs)  # noqa: E731
    everything = find_inputs([folder], tmp_path / "s1")
    assert names(everything) == ["2009/cumbria draft.txt", "2009/cumbria.txt", "more.zip/letters/2009/bromley.txt",
                                 "more.zip/letters/2010/bromley.txt", "more.zip/letters/2010/draft bromley.pdf"]
    only_2009 = find_inputs([folder], tmp_path / "s2", Selection(include=("2009/*",)))
    assert names(only_2009) == ["2009/cumbria draft.txt", "2009/cumbria.txt", "more.zip/letters/2009/bromley.txt"]
    no_drafts = find_inputs([folder], tmp_path / "s3", Selection(include=("*.txt",), exclude=("*draft*",)))
    assert names(no_drafts) == ["2009/cumbria.txt", "more.zip/letters/2009/bromley.txt", "more.zip/letters/2010/bromley.txt"]
    no_archives = find_inputs([folder], tmp_path / "s4", Selection(exclude=("*.zip",)))
    assert names(no_archives) == ["2009/cumbria draft.txt", "2009/cumbria.txt"]
    # the folder's own path is not matched: a glob sees only what lies below it
    assert len(find_inputs([folder], tmp_path / "s5", Selection(exclude=("in/*",)))) == 5


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_members_that_climb_out_are_refused_with_a_row(tmp_path: Path, kind: str) -> None:
    archive = tmp_path / f"evil.{kind}"
    members = {"ok.txt": LETTER.encode(), "../escaped.txt": b"x", "a/../../up.txt": b"x", "/etc/absolute.txt": b"x"}
    (_zip if kind == "zip" else _tar)(archive, members)
    found = _by_source(find_inputs([archive], tmp_path / "staging"))
    assert not found[f"{archive}/ok.txt"].refused
    for name, why in (("../escaped.txt", "climbs out"), ("a/../../up.txt", "climbs out"), ("/etc/absolute.txt", "absolute")):
        item = found[f"{archive}/{name}"]
        assert item.error == "unsafe_path" and why in item.message and item.path is None
    staged = [p for p in (tmp_path / "staging").rglob("*") if p.is_file()]
    assert [p.read_bytes() for p in staged] == [LETTER.encode()]
    assert not (tmp_path / "escaped.txt").exists() and not Path("/etc/absolute.txt").exists()


def test_a_link_in_a_tar_is_refused(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "links.tar.gz", {"ok.txt": LETTER.encode()}, links={"passwd.txt": "/etc/passwd"})
    found = _by_source(find_inputs([archive], tmp_path / "staging"))
    assert found[f"{archive}/passwd.txt"].error == "unsafe_path" and "link" in found[f"{archive}/passwd.txt"].message
    assert not found[f"{archive}/ok.txt"].refused


def test_a_member_that_expands_a_thousand_times_is_refused(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "bomb.zip", {"letter.txt": LETTER.encode(), "bomb.txt": b"\0" * (4 * MIB), "photo.jpg": os.urandom(MIB)})
    found = _by_source(find_inputs([archive], tmp_path / "staging"))
    bomb = found[f"{archive}/bomb.txt"]
    assert bomb.error == "archive_bomb" and "zip bomb" in bomb.message and "times its compressed size" in bomb.message
    assert not found[f"{archive}/letter.txt"].refused
    assert sum(p.stat().st_size for p in (tmp_path / "staging").rglob("*") if p.is_file()) == len(LETTER)


def test_an_archive_declaring_far_more_than_it_holds_is_refused_whole(tmp_path: Path) -> None:
    """Many modest members packed onto almost nothing: the archive as a whole expands too far."""
    members = {f"letter{n}.txt": b" " * (MIB // 2) for n in range(8)}
    archive = _zip(tmp_path / "many.zip", members)
    inputs = find_inputs([archive], tmp_path / "staging")
    assert [(i.source, i.error) for i in inputs] == [(str(archive), "archive_bomb")]
    assert "times the archive's size" in inputs[0].message


def test_total_and_count_limits(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "big.zip", {f"l{n}.txt": os.urandom(1000) for n in range(5)}, zipfile.ZIP_STORED)
    limits = ArchiveLimits(max_total_bytes=4000)
    assert [i.error for i in find_inputs([archive], tmp_path / "s1", limits=limits)] == ["archive_bomb"]
    assert [i.error for i in find_inputs([archive], tmp_path / "s2", limits=ArchiveLimits(max_members=4))] == ["archive_bomb"]
    assert [i.error for i in find_inputs([archive], tmp_path / "s3")] == [None] * 5


def test_a_tar_whose_stream_expands_too_far_is_refused_whole(tmp_path: Path) -> None:
    """The ratio is measured on the bytes the stream really gives, before the letter after them."""
    archive = _tar(tmp_path / "zeros.tar.gz", {"a.txt": LETTER.encode(), "padding.bin": b"\0" * (8 * MIB), "z.txt": LETTER.encode()})
    inputs = find_inputs([archive], tmp_path / "staging")
    assert [(i.source, i.error) for i in inputs] == [(str(archive), "archive_bomb")]
    assert not [p for p in (tmp_path / "staging").rglob("*") if p.is_file()]


def test_a_damaged_archive_is_one_failed_row(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "cut.zip", {"a.txt": LETTER.encode()})
    archive.write_bytes(archive.read_bytes()[:40])
    (tmp_path / "cut.tar.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    inputs = find_inputs([archive, tmp_path / "cut.tar.gz"], tmp_path / "staging")
    assert [(Path(i.source).name, i.error) for i in inputs] == [("cut.tar.gz", "corrupt_archive"), ("cut.zip", "corrupt_archive")]


def test_an_encrypted_member_says_so(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "locked.zip", {"a.txt": LETTER.encode()}, zipfile.ZIP_STORED)
    data = bytearray(archive.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.index(signature) + flag_at
        data[at] |= 0x1
    archive.write_bytes(bytes(data))
    [item] = find_inputs([archive], tmp_path / "staging")
    assert item.error == "encrypted" and "password" in item.message


def test_the_command_line_takes_archives_and_globs(tmp_path: Path, seed_dir: Path) -> None:
    import pandas as pd
    from typer.testing import CliRunner

    from pipeline.cli import app

    seeds = sorted(Path(seed_dir).glob("*.txt"))
    archive = _tar(tmp_path / "letters.tar.gz", {"2009/a.txt": seeds[0].read_bytes(), "2010/b.txt": seeds[1].read_bytes()})
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["ingest", str(archive), "--out", str(out), "-w", "1", "-q", "--include", "2010/*"])
    assert result.exit_code == 0, result.output
    letters = pd.read_csv(out / "letters.csv", dtype=str)
    assert list(letters["source_path"]) == [f"{archive}/2010/b.txt"] and list(letters["status"]) == ["ok"]


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2010, 1, 1, 0, 0, 0)), data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def test_archives_inside_archives_are_read_with_their_paths(tmp_path: Path) -> None:
    tar = _tar(tmp_path / "t.tar.gz", {"2010/b.txt": LETTER.encode()}).read_bytes()
    inner = _zip_bytes({"2009/a.txt": LETTER.encode(), "../climb.txt": b"x", "notes.md": b"not a letter"})
    outer = _zip(tmp_path / "outer.zip", {"inner.zip": inner, "more/letters.tar.gz": tar, "c.txt": LETTER.encode(),
                                          "broken.zip": b"PK\x03\x04 not really"})
    found = _by_source(find_inputs([outer], tmp_path / "staging"))
    assert sorted((source[len(str(outer)) + 1:], item.error) for source, item in found.items()) == [
        ("broken.zip", "corrupt_archive"), ("c.txt", None), ("inner.zip/../climb.txt", "unsafe_path"),
        ("inner.zip/2009/a.txt", None), ("more/letters.tar.gz/2010/b.txt", None)]
    assert found[f"{outer}/inner.zip/2009/a.txt"].path.read_text() == LETTER
    # the inner archives themselves are not left in the staging folder
    assert sorted(p.name for p in (tmp_path / "staging").rglob("*") if p.is_file()) == ["a.txt", "b.txt", "c.txt"]


def test_nesting_is_bounded_and_an_inner_bomb_is_refused_with_a_row(tmp_path: Path) -> None:
    data = _zip_bytes({"a.txt": LETTER.encode()})
    for level in range(5):
        data = _zip_bytes({f"level{level}.zip": data})
    deep = tmp_path / "deep.zip"
    deep.write_bytes(data)
    [item] = find_inputs([deep], tmp_path / "s1")
    assert item.error == "archive_bomb" and "nested more than 4 deep" in item.message
    assert item.source == f"{deep}/level4.zip/level3.zip/level2.zip/level1.zip"
    bomb = _zip(tmp_path / "bomb.zip", {"inner.zip": _zip_bytes({"zeros.txt": b"\0" * (4 * MIB), "ok.txt": LETTER.encode()})})
    inputs = find_inputs([bomb], tmp_path / "s2")
    assert [(i.source, i.error) for i in inputs] == [(f"{bomb}/inner.zip", "archive_bomb")]
    assert "times the archive's size" in inputs[0].message
    # the total limit counts what the inner archives give too
    assert [i.error for i in find_inputs([_zip(tmp_path / "big.zip", {"in.zip": _zip_bytes({f"l{n}.txt": os.urandom(3000) for n in range(3)})})],
                                         tmp_path / "s3", limits=ArchiveLimits(max_total_bytes=15000))] == ["archive_bomb"]


def test_globs_see_the_path_through_inner_archives(tmp_path: Path) -> None:
    outer = _zip(tmp_path / "outer.zip", {"2009.zip": _zip_bytes({"a.txt": LETTER.encode()}),
                                          "2010.zip": _zip_bytes({"b.txt": LETTER.encode(), "draft.txt": LETTER.encode()})})
    sources = [i.source for i in find_inputs([outer], tmp_path / "s", Selection(exclude=("2009.zip", "*draft*")))]
    assert sources == [f"{outer}/2010.zip/b.txt"]


def test_files_skipped_by_their_extension_are_counted(tmp_path: Path) -> None:
    from collections import Counter

    (tmp_path / "in").mkdir()
    for name in ("a.txt", "b.qdf", "c.out", "d.qdf", "README", ".hidden.pdf"):
        (tmp_path / "in" / name).write_text(LETTER)
    skipped: Counter = Counter()
    inputs = find_inputs([tmp_path / "in"], tmp_path / "staging", skipped=skipped)
    assert [Path(i.source).name for i in inputs] == ["a.txt"]
    assert skipped == {".qdf": 2, ".out": 1, "": 1}
