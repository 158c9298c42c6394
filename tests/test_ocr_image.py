"""Parts of a text PDF that are pictures (pipeline/read/ocr_image.py): a scale table or rating row pasted
in as an image is read where it stands, and every value read from it says so."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from fixtures.image_parts import generate_image_part_letters
from pipeline.ingest import ingest
from pipeline.read import ocr_available, read_document

needs_ocr = pytest.mark.skipif(not ocr_available(), reason="Tesseract is not installed")


@pytest.fixture(scope="module")
def pictured(tmp_path_factory):
    """Three letters: the scale pictured, the rating row pictured, both; ingested once."""
    folder = tmp_path_factory.mktemp("image-parts")
    made = generate_image_part_letters(folder, 3, seed=5)
    out = folder / "out"
    ingest([folder / "letters"], out, workers=1)
    letters = pd.read_csv(out / "letters.csv", dtype=str, keep_default_na=False)
    letters["name"] = letters["source_path"].str.rsplit("/", n=1).str[-1]
    return {"made": made, "out": out, "letters": letters.set_index("name"), "folder": folder}


@needs_ocr
def test_each_pictured_part_is_read_and_the_letter_vouched_for(pictured):
    for item in pictured["made"]:
        row = pictured["letters"].loc[item["name"]]
        gold = json.loads((pictured["folder"] / "gold" / item["name"].replace(".pdf", ".json")).read_text())
        assert row["status"] == "ok", row["issues"]
        for field in ("rating_score", "rating_label", "authority_name", "letter_date", "signatory_name"):
            assert str(row[field]) == str(gold["fields"][field]), field


@needs_ocr
def test_values_read_from_a_picture_say_so(pictured):
    ids = {name: pictured["letters"].loc[name, "letter_id"] for name in pictured["letters"].index}
    scale = pd.read_csv(pictured["out"] / "scale.csv", dtype=str)
    fields = pd.read_csv(pictured["out"] / "fields.csv", dtype=str)
    for item in pictured["made"]:
        rows = scale[scale.letter_id == ids[item["name"]]]
        assert len(rows) == 4
        assert set(rows["method"]) == ({"ocr-image"} if "scale" in item["parts"] else {"text"})
        rating = fields[(fields.letter_id == ids[item["name"]]) & (fields.field == "rating_score")].iloc[0]
        assert rating["method"].endswith("+ocr-image") == ("rating" in item["parts"])


def test_a_page_whose_parts_are_all_in_its_text_is_never_sent_to_tesseract(tmp_path, monkeypatch):
    """The scale and rating row are text: no image on the page is read, however wide."""
    from fixtures.image_parts import image_part_pdf
    from fixtures.generate import _letter_rng, _plan, build_letter
    from pipeline.read import ocr_image
    import random

    def no_tesseract(*args, **kwargs):
        raise AssertionError("an image was read though no part was missing")

    monkeypatch.setattr(ocr_image, "read_image_region", no_tesseract)
    authority, family, day, score = _plan(random.Random(1), 1)[0]
    letter = build_letter(_letter_rng(1, "t", 0), authority, family, day, score, "text_parts")
    path = tmp_path / "text_parts.pdf"
    path.write_bytes(image_part_pdf(letter, ()))
    document = read_document(path)
    assert all(not page.image_text for page in document.pages)
