"""Read a letter file into pages of text in reading order: text files, PDFs, scanned PDFs.

One module per kind of reading, each with the functions the others call:

- `document`: the file itself (regular file, size, hash) and which reader it goes to;
- `encodings`: text files in the encodings and line ends archives hold, and which they were;
- `pdf`: a PDF's pages, each from its text layer, OCR, or another program's OCR layer;
- `pdf_text`: PDFium's text runs with boxes, pdfplumber's word layout where PDFium's reads badly;
- `layout`: positioned pieces rebuilt into lines, cells and paragraphs, side columns read apart; running
  furniture removed;
- `quality`: how well a reading reads, to choose between two;
- `ocr`: Tesseract on rendered scans; `reread`: second readings of lost lines and unsure words;
  `orientation`: which way up a scanned page lies, told before it is read; `tesseract`: one reading;
- `ocr_layer`: scans with someone else's OCR under them;
- `salvage`: PDFs PDFium cannot open;
- `wrappers`: the quoting prefixes of a letter forwarded by e-mail, taken off before it is read;
- `failures`: a damaged file told from a bug of ours.

Every failure becomes a ReadError whose message a person can act on.
"""
from pipeline.read.document import TEXT_SUFFIXES, check_regular_file, file_sha256, read_document
from pipeline.read.encodings import decode_text, read_text, wide_encoding
from pipeline.read.failures import InternalError, raised_in_library
from pipeline.read.layout import Piece, drop_running_furniture, pieces_to_text, reading_blocks
from pipeline.read.ocr import OCR_DPI, OcrDeferred, OcrResult, ocr_available, ocr_page, ocr_pdf_page
from pipeline.read.ocr_layer import is_ocr_layer, read_ocr_layer
from pipeline.read.pdf import read_pdf
from pipeline.read.pdf_text import best_reading, open_pdf, pdfium_pieces, pdfplumber_pieces
from pipeline.read.quality import TextQuality, text_quality
from pipeline.read.salvage import salvage_pdf
from pipeline.read.wrappers import unquote

__all__ = [
    "OCR_DPI", "TEXT_SUFFIXES", "InternalError", "OcrDeferred", "OcrResult", "Piece", "TextQuality", "best_reading",
    "check_regular_file", "decode_text", "drop_running_furniture", "file_sha256", "is_ocr_layer", "ocr_available",
    "ocr_page", "ocr_pdf_page", "open_pdf", "pdfium_pieces", "pdfplumber_pieces", "pieces_to_text", "raised_in_library",
    "read_document", "read_ocr_layer", "read_pdf", "read_text", "reading_blocks", "salvage_pdf", "text_quality", "unquote",
    "wide_encoding",
]
