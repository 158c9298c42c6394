"""Parts of a text PDF that are pictures: a scale table or rating row pasted in as an image.

The page's text names the part (the scale's lead-in, the rating heading) but does not hold it, and an
image stands just below: that image, and only that one, is rendered and read with Tesseract, and its
words join the page's pieces where the image stands, so the page reads in order. The text read from
images is kept beside the page (`Page.image_text`) so that values read from it can say so.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import regex

from pipeline.config import compiled, patterns
from pipeline.limits import seconds_left
from pipeline.read.layout import Piece, pieces_to_text
from pipeline.read import tesseract
from pipeline.read.ocr import OCR_DPI, wipe_rules
from pipeline.segment import find_scale_rows

if TYPE_CHECKING:
    from PIL import Image

# white pixels added around a rendered region: Tesseract loses words that touch an image's edge
IMAGE_MARGIN = 20
SAME_LINE = 3.0


def missing_part_images(page, text: str, pieces: list[Piece], carried: bool = False) -> tuple[list[tuple[float, float, float, float]], bool]:
    """The boxes (left, top, right, bottom; points, top-left origin) of the images that stand where a part
    the page names is missing from its text; and whether the page ends on a line naming a part that no
    image follows (its picture may open the next page). carried: the page before ended so."""
    import pypdfium2.raw as pdfium_c

    settings = patterns()["ocr_image"]
    anchors = []
    lead_in = regex.search(settings["scale_lead_in"], text, regex.IGNORECASE)
    if lead_in and not find_scale_rows(text):
        anchors.append(_line_of(lead_in.group(), pieces))
    heading = compiled("segment", "rating_heading").search(text)
    if heading and not compiled("segment", "rating_line").search(text) and not compiled("segment", "rating_value").search(text, heading.end()):
        anchors.append(_line_of(heading.group(), pieces))
    anchors = [a for a in anchors if a is not None]
    if not anchors and not carried:
        return [], False
    width, height = page.get_width(), page.get_height()
    first_line = min((p.top for p in pieces), default=height)
    boxes, answered = [], set()
    for obj in page.get_objects(max_depth=1):
        if obj.type != pdfium_c.FPDF_PAGEOBJ_IMAGE:
            continue
        left, bottom, right, top = obj.get_bounds()
        box = (left, height - top, right, height - bottom)
        if right - left < settings["min_width_share"] * width:
            continue
        # the picture starts under the line that names it (a point or two of overlap allowed), or opens
        # the page when the page before ended naming it
        under = {a for a in anchors if -SAME_LINE <= box[1] - a <= settings["max_gap_points"]}
        if under or (carried and box[1] <= first_line + SAME_LINE):
            boxes.append(box)
            answered |= under
    last_line = max((p.top for p in pieces), default=0.0)
    carry = any(a not in answered and a >= last_line for a in anchors)
    return boxes, carry


def _line_of(words: str, pieces: list[Piece]) -> float | None:
    """The bottom of the piece that holds words whole (the lead-in or heading), as the page places it."""
    wanted = " ".join(words.split()).lower()
    for piece in pieces:
        if wanted in " ".join(piece.text.split()).lower():
            return piece.bottom
    return None


def read_image_region(page, box: tuple[float, float, float, float]) -> list[Piece]:
    """Tesseract's words for one region of the page, placed in the page's coordinates."""
    from PIL import ImageOps

    left, top, right, bottom = box
    width, height = page.get_width(), page.get_height()
    scale = OCR_DPI / 72
    image = page.render(scale=scale, crop=(left, height - bottom, width - right, top)).to_pil().convert("L")
    # a table's rules read as letters, and words touching the image's edge are lost: rules wiped, a margin added
    image = ImageOps.expand(wipe_table_rules(image), IMAGE_MARGIN, fill=255)
    left_time = seconds_left()
    data = tesseract.run_tesseract(image, 6, None if left_time is None else max(left_time, 0.5), OCR_DPI)
    floor = patterns()["ocr_image"]["min_word_confidence"]
    pieces = []
    for i, word in enumerate(data["text"]):
        if not word.strip() or float(data["conf"][i]) < floor:
            continue
        x, y = (data["left"][i] - IMAGE_MARGIN) / scale, (data["top"][i] - IMAGE_MARGIN) / scale
        w, h = data["width"][i] / scale, data["height"][i] / scale
        pieces.append(Piece(left + x, left + x + w, top + y, top + y + h, word))
    return pieces


def wipe_table_rules(grey: "Image.Image") -> "Image.Image":
    """Whiten a pictured table's rules: in a crop of the table, a rule runs most of the crop's width or
    height, and no stroke of a letter does (a page-wide threshold would take a tall letter's stem for one).
    Only the rules' pixels go, not where a letter's stroke crosses one (ocr.wipe_rules)."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(grey)
    share = patterns()["ocr_image"]["rule_share"]
    wiped, _ = wipe_rules(pixels, OCR_DPI, lengths=(int(share * pixels.shape[1]), int(share * pixels.shape[0])))
    return Image.fromarray(wiped)


def with_image_parts(page, text: str, pieces: list[Piece], carried: bool = False) -> tuple[str, str, bool]:
    """The page's text with the images that stand for its missing parts read in; the text read from
    them alone (empty when there were none); and whether a part it names may be pictured on the next page."""
    boxes, carry = missing_part_images(page, text, pieces, carried)
    read = [piece for box in boxes for piece in read_image_region(page, box)]
    if not read:
        return text, "", carry
    return pieces_to_text(pieces + read), pieces_to_text(read, word_gap=True), carry
