"""Which way up a scanned page lies (pipeline/read/orientation.py), told by its ink before it is
read: on its side by where its ink runs, upside down by its ascenders and descenders; and a turned
page read once, as an upright one is."""
from __future__ import annotations

import functools
import random

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from rapidfuzz.distance import Levenshtein

from fixtures import scans
from pipeline.read import ocr, ocr_available, orientation, tesseract
from pipeline.read.pdf_text import open_pdf

needs_ocr = pytest.mark.skipif(not ocr_available(), reason="Tesseract is not installed: apt-get install tesseract-ocr tesseract-ocr-eng")


def prepared(image: Image.Image, dpi: int) -> ocr.Prepared:
    return ocr.prepare_scan(image, dpi)


def scanned_page(seed: int, dpi: int, kind: str, page: int = 0) -> Image.Image:
    return scans.scanned(scans.clean_pages(scans.letter(seed)[0], dpi)[page], random.Random(seed), kind)


def test_a_page_on_its_side_is_told_from_an_upright_one_by_its_ink():
    page = scanned_page(3, 100, "grey")
    assert not orientation.on_its_side(page)
    assert orientation.on_its_side(scans.turned(page, 1)) and orientation.on_its_side(scans.turned(page, 3))


@pytest.mark.parametrize("seed,dpi,kind,page", [(3, 150, "grey", 0), (4, 200, "bilevel", 0), (5, 300, "jpeg", 1), (6, 200, "grey", 1)])
def test_an_upside_down_page_is_told_by_its_ascenders_and_descenders(seed, dpi, kind, page):
    image = scanned_page(seed, dpi, kind, page)
    upright = prepared(image, dpi)
    balance = orientation.ink_balance(np.asarray(upright.image), dpi, upright.ink)
    assert balance.lines >= 10 and balance.score > 2 * orientation.settings()["ink_verdict"]
    assert orientation.upside_down(np.asarray(upright.image), dpi, upright.ink) is False
    turned = prepared(scans.turned(image, 2), dpi)
    assert orientation.upside_down(np.asarray(turned.image), dpi, turned.ink) is True


def capitals_page(dpi: int = 150) -> Image.Image:
    """A page of lines in capitals: no ascender or descender stands out of the band."""
    image = Image.new("L", (int(8.27 * dpi), int(11.7 * dpi)), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=dpi // 6)
    for row in range(20):
        draw.text((dpi, dpi + row * dpi // 3), "CHILDREN'S SERVICES ASSESSMENT 2009", fill=0, font=font)
    return image


@pytest.mark.parametrize("image", [capitals_page(), Image.new("L", (1240, 1754), 255)], ids=["capitals", "blank"])
def test_the_ink_cannot_tell_a_page_of_capitals_or_a_blank_one(image):
    page = prepared(image, 150)
    assert orientation.upside_down(np.asarray(page.image), 150, page.ink) is None
    turned = prepared(scans.turned(image, 2), 150)
    assert orientation.upside_down(np.asarray(turned.image), 150, turned.ink) is None


def reads(monkeypatch) -> list[int]:
    """The page segmentation modes Tesseract is asked to read with, in turn; orientation detection
    must not be asked."""
    calls: list[int] = []
    real = tesseract.run_tesseract

    def counted(image, psm, timeout, dpi=300):
        calls.append(psm)
        return real(image, psm, timeout, dpi)

    def no_osd(*args, **kwargs):
        raise AssertionError("the page went to orientation detection")

    monkeypatch.setattr(tesseract, "run_tesseract", counted)
    monkeypatch.setattr(tesseract, "orientation", no_osd)
    return calls


@needs_ocr
@pytest.mark.ocr
@pytest.mark.parametrize("quarter_turns", [2, 1, 3])
def test_a_turned_page_is_turned_before_it_is_read_and_read_once(monkeypatch, quarter_turns):
    pdf = scans.letter(5)[0]
    page = scans.turned_page(pdf, random.Random("turned"), 150, quarter_turns)
    calls = reads(monkeypatch)
    text = ocr.ocr_page(open_pdf(scans.images_pdf([page.image], 150))[0])[0]
    assert calls.count(3) == 1
    assert "Performs" in text and "Children" in text


@functools.lru_cache(maxsize=1)
def bilevel_page_read_upright() -> tuple[Image.Image, str]:
    image = scanned_page(6, 150, "bilevel")
    return image, ocr.ocr_page(open_pdf(scans.images_pdf([image], 150, "bilevel"))[0])[0]


@needs_ocr
@pytest.mark.ocr
@pytest.mark.parametrize("quarter_turns", [1, 2, 3])
def test_a_page_reads_the_same_turned_as_upright(quarter_turns):
    """Metamorphic: turning a page on the glass does not change what is read from it."""
    image, upright = bilevel_page_read_upright()
    turned = ocr.ocr_page(open_pdf(scans.images_pdf([scans.turned(image, quarter_turns)], 150, "bilevel"))[0])[0]
    # the same reading but for a word or two: straightened by a twentieth of a degree more or less,
    # a pixel here and there falls otherwise
    assert Levenshtein.normalized_distance(turned.split(), upright.split()) <= 0.03
