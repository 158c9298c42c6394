"""One schema: the README's data dictionary, datapackage.json and table types all come from it."""
from pathlib import Path

from pipeline.schema import TABLES, arrow_schema, datapackage, to_frame, update_readme

ROOT = Path(__file__).resolve().parent.parent


def test_readme_data_dictionary_is_generated_from_the_schema():
    """Fails when the schema changed without `python -m pipeline.schema README.md`."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert update_readme(readme) == readme


def test_letters_has_at_least_the_columns_users_rely_on():
    required = ("letter_id source_path source_format status authority_name authority_as_written authority_la_code "
                "authority_gss_code letter_date rating_year rating_score rating_label recipient_name recipient_title "
                "recipient_postcode signatory_name signatory_title n_statistics issues").split()
    assert set(required) <= set(TABLES["letters"].column_names)


def test_datapackage_describes_every_table_and_key():
    package = datapackage(formats=("csv", "parquet"))
    names = {r["name"] for r in package["resources"]}
    assert set(TABLES) <= names and {f"{t}-parquet" for t in TABLES} <= names
    stats = next(r for r in package["resources"] if r["name"] == "statistics")
    assert stats["schema"]["primaryKey"] == ["letter_id", "stat_index"]
    assert stats["schema"]["foreignKeys"][0]["reference"]["resource"] == "letters"
    assert all(f["description"] for r in package["resources"] for f in r["schema"]["fields"])


def test_frames_take_the_declared_types():
    frame = to_frame("letters", [{"letter_id": "a", "source_path": "x", "status": "ok", "rating_score": 3, "letter_date": "2009-12-09"}])
    assert list(frame.columns) == TABLES["letters"].column_names
    assert str(frame["rating_score"].dtype) == "Int64"
    assert str(arrow_schema("letters").field("letter_date").type) == "date32[day]"
