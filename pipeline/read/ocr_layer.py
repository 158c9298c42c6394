"""Scans that arrive with another program's OCR as an invisible text layer: kept, or read again with
Tesseract when that layer reads badly."""
from __future__ import annotations

import ctypes

from pipeline.limits import Limits
from pipeline.read.ocr import OcrResult, ocr_available, ocr_page
from pipeline.read.quality import text_quality
from pipeline.records import Page


def is_ocr_layer(page) -> bool:
    """Whether the page is a scan under a text layer: text drawn invisibly (render mode 3, as
    Tesseract's and scanning bureaus' PDFs draw it) or hidden under an image that covers the page."""
    import pypdfium2.raw as pdfium_c

    width, height = page.get_width(), page.get_height()
    objects = [pdfium_c.FPDFPage_GetObject(page.raw, i) for i in range(pdfium_c.FPDFPage_CountObjects(page.raw))]
    kinds = [pdfium_c.FPDFPageObj_GetType(obj) for obj in objects]
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    full_image_at = -1
    for i, kind in enumerate(kinds):
        if kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            pdfium_c.FPDFPageObj_GetBounds(objects[i], left, bottom, right, top)
            if (right.value - left.value) * (top.value - bottom.value) >= 0.8 * width * height:
                full_image_at = i
                break
    # most pages have no page-sized image: their text objects need not be asked how they are drawn
    texts = [i for i, kind in enumerate(kinds) if kind == pdfium_c.FPDF_PAGEOBJ_TEXT]
    if full_image_at < 0 or not texts:
        return False
    invisible = sum(pdfium_c.FPDFTextObj_GetTextRenderMode(objects[i]) == pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE for i in texts)
    return invisible >= 0.8 * len(texts) or texts[0] < full_image_at


def read_ocr_layer(page, number: int, text: str, ocr_result: OcrResult | None, limits: Limits | None = None) -> Page:
    """A page whose text another program's OCR made: kept as OCR ("ocr-layer"), or read again with
    Tesseract when it reads badly, keeping whichever of the two reads better ("ocr-layer-reread")."""
    if not text_quality(text).reads_badly or (ocr_result is None and not ocr_available()):
        return Page(number, text, "ocr-layer")
    ocr_text, confidence, words = ocr_result or ocr_page(page, limits=limits, number=number)
    if text_quality(ocr_text).score > text_quality(text).score:
        return Page(number, ocr_text, "ocr-layer-reread", confidence, words)
    return Page(number, text, "ocr-layer")
