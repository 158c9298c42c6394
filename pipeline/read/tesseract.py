"""One reading by Tesseract: a page image in, its words (image_to_data's columns) or its orientation
out, on one thread and within the document's time limit.

Tesseract runs inside the worker through tesserocr, the engine loaded once per process and the page
handed over as raw pixels. The `tesseract` program, run through pytesseract, costs more for the same
reading (README, "Speed"): given a PIL image pytesseract writes a PNG, and compressing a grainy scan
took 1.4 s for a 300 dpi page, a third of the page's OCR; each call starts the program and loads the
model again (0.07 s of CPU, twice a page with the second reading); and the program reads the image
file back. tesserocr's wheels (pinned in constraints.txt) carry their own libtesseract (5.5) and use
the tessdata the apt packages install. Python's signals cancel its recognition cooperatively, so
the time limit's alarm still stops a page, and the worker's watchdog covers a call it cannot.

Where tesserocr is not installed (a platform without its wheel) or cannot load, the program is run
instead, given an uncompressed PGM, which is written in milliseconds.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterator

from pipeline.limits import timed_out
from pipeline.records import ReadError

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

# image_to_data's columns, as the `tsv` output of Tesseract gives them
COLUMNS = ("level", "page_num", "block_num", "par_num", "line_num", "word_num", "left", "top", "width", "height", "conf", "text")
_MISSING = "Tesseract is not installed: apt-get install tesseract-ocr tesseract-ocr-eng"

# Tesseract's OpenMP threads fight the pipeline's own workers for the cores; one thread is faster here
os.environ.setdefault("OMP_THREAD_LIMIT", "1")


@lru_cache(maxsize=1)
def tessdata() -> str | None:
    """The folder of Tesseract's trained data: TESSDATA_PREFIX, else where the program says it is,
    else the Debian packages' folders; None when there is none with English in it."""
    candidates = [os.environ.get("TESSDATA_PREFIX", "")]
    program = shutil.which("tesseract")
    if program:
        try:
            said = subprocess.run([program, "--list-langs"], capture_output=True, text=True, timeout=30).stdout
            candidates += [line.split('"')[1] for line in said.splitlines() if line.count('"') >= 2]
        except (OSError, subprocess.SubprocessError):
            pass
    candidates += ["/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata", "/usr/share/tessdata"]
    for folder in candidates:
        if folder and os.path.isfile(os.path.join(folder, "eng.traineddata")):
            return folder.rstrip("/") + "/"
    return None


_ENGINES: dict[tuple[int, str], Any] = {}


def engine(lang: str = "eng") -> Any:
    """This process's tesserocr engine for lang (eng, or osd for orientation), loaded on first use
    (after a worker forks, never inherited); None when tesserocr or the trained data is missing."""
    key = (os.getpid(), lang)
    if key not in _ENGINES:
        _ENGINES[key] = None
        folder = tessdata()
        try:
            import tesserocr
        except ImportError:
            return None
        if folder is None or not os.path.isfile(os.path.join(folder, f"{lang}.traineddata")):
            return None
        try:
            _ENGINES[key] = tesserocr.PyTessBaseAPI(path=folder, lang=lang)
        except RuntimeError:
            return None
    return _ENGINES[key]


def available() -> bool:
    """Whether a page can be OCR'd: tesserocr with English data, or the `tesseract` program."""
    return engine() is not None or shutil.which("tesseract") is not None


def _grey_array(image: "Image.Image | np.ndarray") -> "np.ndarray":
    import numpy as np
    from PIL import Image

    if isinstance(image, Image.Image):
        image = np.asarray(image if image.mode == "L" else image.convert("L"))
    return np.ascontiguousarray(image, dtype=np.uint8)


def run_tesseract(image: "Image.Image | np.ndarray", psm: int, timeout: float | None, dpi: float = 300) -> dict[str, list]:
    """Tesseract's reading of a grey image with page segmentation mode psm: image_to_data's columns.
    Raises ReadError when Tesseract is missing, DocumentTimeout past the time limit."""
    pixels = _grey_array(image)
    api = engine()
    if api is None:
        return _program_data(pixels, psm, timeout, dpi)
    api.SetPageSegMode(psm)
    api.SetImageBytes(pixels.tobytes(), pixels.shape[1], pixels.shape[0], 1, pixels.shape[1])
    api.SetSourceResolution(int(round(dpi)))
    try:
        done = api.Recognize(timeout=int(_seconds(timeout) * 1000))
        if not done:
            if timeout is not None:
                raise timed_out()
            raise RuntimeError("Tesseract could not read the page")
        return parse_tsv(api.GetTSVText(0))
    finally:
        api.Clear()


def parse_tsv(tsv: str) -> dict[str, list]:
    """Tesseract's TSV (no header line) as image_to_data's columns: numbers as int, conf as float."""
    data: dict[str, list] = {c: [] for c in COLUMNS}
    for line in tsv.splitlines():
        parts = line.split("\t", 11)
        if len(parts) < 11:
            continue
        for column, value in zip(COLUMNS[:10], parts[:10]):
            data[column].append(int(value))
        data["conf"].append(float(parts[10]))
        data["text"].append(parts[11] if len(parts) > 11 else "")
    return data


def _program_data(pixels: "np.ndarray", psm: int, timeout: float | None, dpi: float) -> dict[str, list]:
    """The `tesseract` program's reading of the image, handed over as a PGM."""
    import pytesseract

    with _program_image(pixels, timeout) as path:
        return pytesseract.image_to_data(path, lang="eng", config=f"--psm {psm} --dpi {int(round(dpi))}",
                                         output_type=pytesseract.Output.DICT, timeout=_seconds(timeout))


@contextmanager
def _program_image(pixels: "np.ndarray", timeout: float | None) -> Iterator[str]:
    """The image as a PGM for the `tesseract` program, removed after; the program's failures in our
    terms: not installed (ReadError), past the time limit (DocumentTimeout)."""
    import pytesseract

    path = write_image(pixels)
    try:
        yield path
    except pytesseract.TesseractNotFoundError as exc:
        raise ReadError("ocr_unavailable", _MISSING) from exc
    except RuntimeError as exc:
        if timeout is not None and "timeout" in str(exc).lower():
            raise timed_out() from exc
        raise
    finally:
        os.unlink(path)


def _seconds(timeout: float | None) -> float:
    """pytesseract's timeout for the time left: 0 is none; never under half a second."""
    return 0 if timeout is None else max(timeout, 0.5)


def write_image(pixels: "np.ndarray") -> str:
    """The grey image as a PGM in a temporary file."""
    import tempfile

    from PIL import Image

    fd, path = tempfile.mkstemp(prefix="ofsted-ocr-", suffix=".pgm")
    with os.fdopen(fd, "wb") as fh:
        Image.fromarray(pixels).save(fh, "PPM")
    return path


def orientation(image: "Image.Image | np.ndarray", timeout: float | None) -> tuple[int, float] | None:
    """How far the page must be turned clockwise to stand upright (0, 90, 180, 270), and Tesseract's
    confidence in that (its orientation detection, OSD); None when it cannot tell (too few letters,
    no osd.traineddata)."""
    pixels = _grey_array(image)
    api = engine("osd")
    if api is not None:
        import tesserocr

        api.SetPageSegMode(tesserocr.PSM.OSD_ONLY)
        api.SetImageBytes(pixels.tobytes(), pixels.shape[1], pixels.shape[0], 1, pixels.shape[1])
        try:
            found = api.DetectOrientationScript()
        finally:
            api.Clear()
        # tesserocr gives the page's clockwise rotation; turning it back is the rest of the circle
        return ((360 - int(found["orient_deg"])) % 360, float(found["orient_conf"])) if found else None
    return _program_orientation(pixels, timeout)


def _program_orientation(pixels: "np.ndarray", timeout: float | None) -> tuple[int, float] | None:
    import pytesseract

    with _program_image(pixels, timeout) as path:
        try:
            report = pytesseract.image_to_osd(path, config="--psm 0", output_type=pytesseract.Output.DICT, timeout=_seconds(timeout))
        except pytesseract.TesseractError:
            return None
    return int(report.get("rotate", 0)) % 360, float(report.get("orientation_conf", 0.0))
