"""Field extraction on small named letters that each carry one hard case."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pipeline.extract import extract_letter, parse_date
from pipeline.normalise import normalise_document
from pipeline.records import LetterRecord, Page, SourceDocument
from pipeline.segment import segment_letter
from pipeline.validate import validate_letter

SCALE = (
    "The annual rating derives from a four point scale:\n\n"
    "4\tPerforms excellently\tAn organisation that significantly exceeds minimum requirements\n"
    "3\tPerforms well\tAn organisation that exceeds minimum requirements\n"
    "2\tPerforms adequately\tAn organisation that meets only minimum requirements\n"
    "1\tPerforms poorly\tAn organisation that does not meet minimum requirements\n\n"
)
CLOSING = (
    "The children's services rating is provided for the purpose of section 138 of the Education and Inspections Act 2006.\n\n"
)


def letter(date="9 December 2009", address="Mrs Jane Smith\nDirector of Children's Services\nKent County Council\nSessions House\nMaidstone\nME14 1XQ",
           salutation="Dear Mrs Smith", rating_line="Children's services rating\tPerforms well (3)",
           perform="Children's services in Kent County Council perform well.", narrative="Nine of the ten special schools are good.",
           signature="Yours sincerely\n\nJuliet Winstanley\nDivisional Manager, CAA", year="2009") -> str:
    return (f"{date}\n\n{address}\n\n{salutation}\n\nChildren's services annual rating\n\nOfsted guidance explains the rating.\n\n{SCALE}"
            f"Children's services rating {year}\n\n{rating_line}\n\n{perform}\n\n{narrative}\n\n{CLOSING}{signature}")


def run(text: str, page: Page | None = None) -> LetterRecord:
    """The record of a one-page letter: typed text, or the page given (an OCR'd one, say)."""
    page = page or Page(1, text)
    doc = SourceDocument(Path("t.txt"), "txt", hashlib.sha256(text.encode()).hexdigest(), [page])
    record = LetterRecord(doc.letter_id, "t.txt")
    record.text = normalise_document(doc)
    record.segments = segment_letter(record.text.text)
    extract_letter(record, record.segments)
    validate_letter(record)
    return record


def test_clean_letter_is_ok_with_every_field():
    r = run(letter())
    assert r.status == "ok", r.issues
    assert r.value("authority_name") == "Kent" and r.value("authority_la_code") == "886"
    assert r.value("recipient_name") == "Mrs Jane Smith"
    assert r.value("recipient_title") == "Director of Children's Services"
    assert r.value("recipient_postcode") == "ME14 1XQ"
    assert r.value("rating_score") == 3 and r.value("rating_label") == "Performs well"
    assert r.value("signatory_name") == "Juliet Winstanley"
    assert [s.value for s in r.statistics] == [9]


@pytest.mark.parametrize("written, iso", [
    ("9 December 2009", "2009-12-09"), ("9th December 2009", "2009-12-09"), ("09/12/2009", "2009-12-09"),
    ("December 9, 2009", "2009-12-09"), ("1 Dec 2010", "2010-12-01"), ("2010-12-01", "2010-12-01"),
])
def test_date_forms(written, iso):
    assert parse_date(written)[0].isoformat() == iso


def test_address_on_one_line():
    r = run(letter(address="Mrs Jane Smith Director of Children's Services Kent County Council Sessions House Maidstone ME14 1XQ"))
    assert r.value("recipient_name") == "Mrs Jane Smith"
    assert r.value("recipient_title") == "Director of Children's Services"
    assert r.value("authority_as_written") == "Kent County Council"


def test_signature_ocr_misreading_and_image_description_are_passed_over():
    assert run(letter(signature="Winstarley\n\nJuliet Winstanley Divisional Manager, CAA")).value("signatory_name") == "Juliet Winstanley"
    r = run(letter(signature='A handwritten signature in black ink that reads "Juliet Winstanley".\n\nJuliet Winstanley\nDivisional Manager, CAA'))
    assert r.value("signatory_name") == "Juliet Winstanley" and r.value("signatory_title") == "Divisional Manager, CAA"


def test_letterhead_column_beside_the_address_is_left_out():
    r = run(letter(address="Mrs Jane Smith\tDirect T 020 7421 6716\nDirector of Children's Services\tenquiries@ofsted.gov.uk\nKent County Council\nSessions House\nMaidstone\nME14 1XQ"))
    assert r.value("recipient_name") == "Mrs Jane Smith"
    assert r.value("recipient_title") == "Director of Children's Services"
    assert r.value("authority_name") == "Kent"


def test_signatory_title_over_two_lines():
    r = run(letter(signature="Yours sincerely\n\nJuliet Winstanley\nDivisional Manager\nComprehensive Area Assessment"))
    assert r.value("signatory_name") == "Juliet Winstanley"
    assert r.value("signatory_title") == "Divisional Manager, Comprehensive Area Assessment"


def test_rating_line_disagreeing_with_narrative_needs_review():
    r = run(letter(perform="Children's services in Kent County Council perform adequately."))
    assert r.status == "needs_review"
    assert any("perform adequately" in i for i in r.issues)


def test_label_disagreeing_with_score_needs_review():
    r = run(letter(rating_line="Children's services rating\tPerforms well (2)"))
    assert r.status == "needs_review"
    assert any("does not go with score" in i for i in r.issues)


def test_authority_in_address_and_narrative_disagree():
    r = run(letter(perform="Children's services in Surrey County Council perform well."))
    assert r.status == "needs_review"
    assert any("Surrey" in i for i in r.issues)


def test_rating_year_far_from_letter_date_needs_review():
    r = run(letter(date="9 December 2012"))
    assert any("does not fit rating_year" in i for i in r.issues)


def test_bad_postcode_is_not_taken_silently():
    r = run(letter(address="Mrs Jane Smith\nDirector of Children's Services\nKent County Council\nMaidstone\nQQ1 1ZZ"))
    assert r.value("recipient_postcode") is None or r.status == "needs_review"


def test_ocr_damaged_authority_is_matched_fuzzily_with_its_score():
    r = run(letter(address="Mrs Jane Smith\nDirector of Children's Services\nLondon Borough of Brornley\nCivic Centre\nBR1 3UH",
                   perform="Children's services in the London Borough of Brornley perform well."))
    assert r.value("authority_name") == "Bromley"
    fv = r.fields["authority_name"]
    assert fv.method == "gazetteer-fuzzy" and fv.confidence < 1.0


def test_ocr_damaged_rating_label_is_read_and_marked():
    r = run(letter(rating_line="Children's services rating\tPerfonns weII (3)"))
    assert r.value("rating_label") == "Performs well"
    assert r.fields["rating_label"].method == "regex-fuzzy"


def test_missing_rating_line_needs_review():
    r = run(letter(rating_line="", perform="Services are inspected every year."))
    assert r.status == "needs_review"
    assert any("rating_score: not found" in i for i in r.issues)


def test_missing_rating_line_is_read_from_the_perform_sentence_for_review():
    r = run(letter(rating_line=""))
    assert (r.value("rating_score"), r.value("rating_label")) == (3, "Performs well")
    assert r.fields["rating_score"].method == "perform-sentence"
    assert r.status == "needs_review" and any("no rating line found" in i for i in r.issues)


def run_ocr(text: str, word_confidences: dict[str, float]) -> LetterRecord:
    """A one-page scan: every word read at 96 except those given."""
    words = {w.strip(".,:;()'\""): 96.0 for w in text.split()} | word_confidences
    return run(text, Page(1, text, "ocr", 94.0, words))


def test_misread_title_word_is_corrected_from_the_vocabulary():
    r = run_ocr(letter(address="Mrs Jane Smith\nStrateyic Director of Children's Seivices .\nKent County Council\nME14 1XQ"),
                {"Strateyic": 88.0, "Seivices": 89.0})
    assert r.value("recipient_title") == "Strategic Director of Children's Services"
    assert r.fields["recipient_title"].method.endswith("+vocabulary")
    assert r.status == "ok", r.issues


def test_unsure_name_word_is_flagged_unless_read_again_elsewhere():
    r = run_ocr(letter(address="Clir Aridrew Smith\nDirector of Children's Services\nKent County Council\nME14 1XQ", salutation="Dear Cllr Smith"),
                {"Clir": 87.0, "Aridrew": 89.0, "Smith": 85.0})
    assert r.value("recipient_name") == "Cllr Aridrew Smith"
    assert r.status == "needs_review"
    assert any("'Aridrew'" in issue for issue in r.issues)
    assert not any("'Smith'" in issue for issue in r.issues)  # "Dear Cllr Smith" reads it a second time
    assert r.fields["recipient_name"].confidence <= 0.89


def test_the_same_words_typed_are_not_checked():
    r = run(letter(address="Mrs Jane Smith\nStrateyic Director\nKent County Council\nME14 1XQ"))
    assert r.value("recipient_title") == "Strateyic Director"


def test_signatory_name_loses_a_stray_full_stop_but_keeps_an_initial():
    assert run(letter(signature="Yours sincerely\n\nHelen Marsden.\nDivisional Manager, CAA")).value("signatory_name") == "Helen Marsden"
    assert run(letter(signature="Yours sincerely\n\nHelen J.\nDivisional Manager, CAA")).value("signatory_name") == "Helen J."


def test_linking_words_before_the_authority_are_not_part_of_the_title():
    lost = run_ocr(letter(address="Dr Deborah Whitfield\nDirector of Children and Young People's Services\nof Bournemouth\nCivic Centre\nBH2 6DY"), {})
    assert lost.value("recipient_title") == "Director of Children and Young People's Services"
    assert lost.value("authority_name") == "Bournemouth"
    typed = run(letter(address="Mrs Jane Smith\nDirector of Children's Services for the\nLondon Borough of Barnet\nNW4 4BG"))
    assert typed.value("recipient_title") == "Director of Children's Services"


WEB_BEFORE = ("Home > Inspection reports > Local authority children's services\nChildren's services annual rating: Kent\n"
              "Published: 21 January 2010\nDownload (PDF, 96 KB)\n\n")
WEB_AFTER = "\n\nWas this page useful? Yes No\nContact us: 0300 123 1231\nCrown copyright"


def test_a_web_copy_keeps_the_site_text_out_of_the_fields():
    r = run(WEB_BEFORE + letter() + WEB_AFTER)
    assert r.status == "ok", r.issues
    furniture = [s.text for s in r.segments if s.segment == "furniture"]
    assert len(furniture) == 2 and furniture[0].startswith("Home >") and furniture[0].endswith("Download (PDF, 96 KB)")
    assert furniture[1].startswith("Was this page useful?") and furniture[1].endswith("Crown copyright")
    assert r.value("letter_date") == "2009-12-09" and r.value("recipient_name") == "Mrs Jane Smith"
    assert r.value("signatory_name") == "Juliet Winstanley" and r.value("signatory_title") == "Divisional Manager, CAA"
    closing = next(s for s in r.segments if s.segment == "closing")
    assert "Crown copyright" not in closing.text


def test_the_letters_own_date_wins_over_a_published_date():
    r = run("Published: 21 January 2010\n\n" + letter())
    assert r.value("letter_date") == "2009-12-09"
    # with no date of its own, the letter's date is missing rather than the page's
    r = run(letter(date="Last updated 3 February 2010"))
    assert r.value("letter_date") is None and r.status == "needs_review"


def test_a_postcode_that_lost_its_space_is_repaired_and_marked():
    r = run(letter(address="Mrs Jane Smith\nDirector of Children's Services\nKent County Council\nSessions House\nMaidstone\nME141XQ"))
    fv = r.fields["recipient_postcode"]
    assert fv.value == "ME14 1XQ" and fv.method == "regex+space-restored" and r.status == "ok"


def test_a_name_ocr_split_is_rejoined_when_the_letter_confirms_it():
    signature = "Yours sincerely\n\nJ uliet Winstanley\nDivisional Manager, CAA"
    confirmed = run(letter(signature=signature).replace("Children's services annual rating\n", "juliet.winstanley@ofsted.gov.uk\n\nChildren's services annual rating\n", 1))
    assert confirmed.value("signatory_name") == "Juliet Winstanley"
    assert confirmed.fields["signatory_name"].method.endswith("+rejoined")
    # an address OCR read with its dot lost and a space before the @ still confirms it
    ocr_address = run(letter(signature=signature).replace("Children's services annual rating\n", "juliet winstanley@ ofsted.gov.uk\n\nChildren's services annual rating\n", 1))
    assert ocr_address.value("signatory_name") == "Juliet Winstanley"
    # the salutation confirms a recipient's surname
    recipient = run(letter(address="Mrs Jane Sm ith\nDirector of Children's Services\nKent County Council\nSessions House\nMaidstone\nME14 1XQ"))
    assert recipient.value("recipient_name") == "Mrs Jane Smith"
    # nothing confirms it: left as read; an initial is not joined to the surname
    unconfirmed = run(letter(signature=signature))
    assert unconfirmed.value("signatory_name") == "J uliet Winstanley" and unconfirmed.status == "needs_review"
    assert run(letter(signature="Yours sincerely\n\nJ Winstanley\nDivisional Manager, CAA")).value("signatory_name") == "J Winstanley"


def test_a_2011_letter_reads_its_year_and_type_from_the_letter():
    import random

    from fixtures import generate as gen

    kent = next(a for a in gen.load_authorities() if a["name"] == "Kent")
    built = gen.build_letter(random.Random("2011"), kent, "2011", __import__("datetime").date(2011, 11, 30), 3, "kent_2011")
    data, _ = gen.render_text(built, gen.TextStyle(), random.Random(1))
    r = run(data.decode("utf-8"))
    assert r.status == "ok", r.issues
    assert r.value("rating_year") == 2011 and r.value("letter_date") == "2011-11-30"
    assert r.letter_type == "annual assessment"
    assert {k: r.value(k) for k in built.fields} == built.fields


def test_a_scanned_address_with_no_readable_postcode_needs_review():
    address = "Mrs Jane Smith\nDirector of Children's Services\nKent County Council\nSessions House\nMaidstone"
    typed = run(letter(address=address))
    assert typed.status == "ok" and typed.value("recipient_postcode") is None
    text = letter(address=address)
    scanned = run(text, Page(1, text, "ocr", 96.0))
    assert scanned.status == "needs_review" and any("no postcode" in i for i in scanned.issues)


def test_council_that_names_the_building_is_not_part_of_the_authority():
    """An address on one line: "... City of Wolverhampton Council Offices ..." names the building "Council Offices"."""
    r = run(letter(address="Mrs Jane Smith Director of Children's Services City of Wolverhampton Council Offices King Street Wolverhampton WV1 1RG",
                   perform="Children's services in the City of Wolverhampton perform well."))
    assert (r.value("authority_name"), r.value("authority_as_written")) == ("Wolverhampton", "City of Wolverhampton")
    r = run(letter(address="Mrs Jane Smith\nDirector of Children's Services\nKent County Council\nSessions House\nMaidstone\nME14 1XQ"))
    assert r.value("authority_as_written") == "Kent County Council"
    # the building on the line under the authority's name: "City of York" / "Council Offices"
    r = run(letter(address="Mrs Jane Smith\nDirector of Children's Services\nCity of York\nCouncil Offices\nStockwell Close\nYork\nYO6 7RE",
                   perform="Children's services in the City of York perform well."))
    assert (r.value("authority_name"), r.value("authority_as_written")) == ("York", "City of York")


def test_partitive_with_its_count_lost_by_ocr_is_flagged():
    r = run(letter(narrative="Provision is good, but only | of the 5 sixth form colleges are good."))
    assert r.status == "ok" and r.statistics_status == "needs_review"
    assert any("could not be read" in i or "misread a digit" in i for i in r.statistics_issues)


def test_unexplained_number_flags_the_letter_and_names_it():
    r = run(letter(narrative="Nine of the ten special schools are good. Across the borough three are outstanding."))
    assert r.status == "ok" and r.statistics_status == "needs_review"
    assert any("number 'three'" in i and "three are outstanding" in i for i in r.statistics_issues)
    assert {n.role for n in r.numbers} >= {"statistic", "unexplained"}


# ---- sign-offs as letters have them: the signatory is the person named under the signature


def test_pp_signature_makes_the_named_person_the_signatory_and_records_the_signer():
    r = run(letter(signature="Yours sincerely\n\nPeter Okafor\npp Helen Marsden\nRegional Director, Ofsted"))
    assert r.status == "ok", r.issues
    assert r.value("signatory_name") == "Helen Marsden"
    assert r.value("signatory_title") == "Regional Director, Ofsted"
    assert r.value("signatory_signed_by") == "Peter Okafor"
    fv = r.fields["signatory_name"]
    assert r.text.text[fv.start:fv.end] == "Helen Marsden"


@pytest.mark.parametrize("block", [
    "Yours faithfully\n\np.p. Helen Marsden\nRegional Director, Ofsted",
    "Yours sincerely,\n\npp\nHelen Marsden\nRegional Director, Ofsted",
    "Kind regards\n\nfor Helen Marsden\nRegional Director, Ofsted",
    "Yours sincerely\n\nPeter Okafor pp Helen Marsden\nRegional Director, Ofsted",
    "With best wishes\n\nPeter Okafor\nFor and on behalf of Helen Marsden\nRegional Director, Ofsted",
])
def test_signatures_on_anothers_behalf_in_their_usual_forms(block):
    r = run(letter(signature=block))
    assert r.value("signatory_name") == "Helen Marsden", block
    assert r.value("signatory_title") == "Regional Director, Ofsted", block
    signer = "Peter Okafor" if "Peter" in block else None
    assert r.value("signatory_signed_by") == signer, block


def test_signed_in_absence_note_under_the_title_names_the_signer():
    r = run(letter(signature="Yours sincerely\n\nHelen Marsden\nRegional Director, Ofsted\n(Signed in her absence by Peter Okafor)"))
    assert r.value("signatory_name") == "Helen Marsden" and r.value("signatory_title") == "Regional Director, Ofsted"
    assert r.value("signatory_signed_by") == "Peter Okafor"


def test_a_title_line_with_for_in_it_is_not_a_proxy_signature():
    r = run(letter(signature="Yours sincerely\n\nHelen Marsden\nDirector for Children's Services Assessment"))
    assert r.value("signatory_name") == "Helen Marsden"
    assert r.value("signatory_title") == "Director for Children's Services Assessment"
    assert r.value("signatory_signed_by") is None


@pytest.mark.parametrize("after", [
    "cc: Cllr Mary Dunne, Lead Member for Children's Services\n    Mr Alan Reeve, Chief Executive, Kent County Council",
    "Copy to:\nCllr Mary Dunne\nLead Member for Children's Services\nMr Alan Reeve\nChief Executive",
    "Enc. Performance profile for Kent County Council\n\ncc Cllr Mary Dunne, Lead Member for Children's Services, who will want to see the profile before the council's scrutiny committee meets in January.",
])
def test_copy_lists_and_enclosures_after_the_signature_are_their_own_segments(after):
    r = run(letter(signature="Yours sincerely\n\nHelen Marsden\nRegional Director, Ofsted\n\n" + after))
    assert r.status == "ok", r.issues
    assert r.value("signatory_name") == "Helen Marsden" and r.value("signatory_title") == "Regional Director, Ofsted"
    closing = next(s for s in r.segments if s.segment == "closing")
    assert closing.text.endswith("Regional Director, Ofsted")
    kinds = {s.segment for s in r.segments}
    assert ("copies" in kinds) == ("cc" in after.lower() or "copy" in after.lower())
    assert ("enclosures" in kinds) == after.startswith("Enc")


def test_a_person_named_in_the_closing_paragraph_is_not_the_signatory():
    # no sign-off, the closing paragraph hard-wrapped so its lines are short, one naming a person
    body = ("If you have any questions about the rating, please\ncontact Her Majesty's Chief Inspector\n"
            "Christine Gilbert\nDeputy Chief Inspector Miriam Rosen\nor your regional office before January.")
    r = run(letter(signature=body + "\n\nHelen Marsden\nRegional Director, Ofsted"))
    assert r.value("signatory_name") == "Helen Marsden"
    r = run(letter(signature="Yours sincerely\n\nHelen Marsden\nRegional Director, Ofsted").replace(
        CLOSING, CLOSING.rstrip() + " Her Majesty's Chief Inspector, Christine Gilbert, will write separately.\n\n"))
    assert r.value("signatory_name") == "Helen Marsden"


def test_a_doubtful_statistic_leaves_the_fields_vouched_for():
    r = run(letter(narrative="Nine of the ten special schools are good. Across the borough three are outstanding."))
    assert r.status == "ok" and r.statistics_status == "needs_review" and not r.issues


def test_numbers_that_count_nothing_judged_are_distractors():
    r = run(letter(narrative="In the three-tier system there are 1,350 registered childminders. Nine of the ten special schools are good."))
    assert [s.value for s in r.statistics] == [9]
    assert {n.text: n.rule for n in r.numbers if n.role == "distractor"} == {"three": "compound_modifier", "1,350": "not_judged"}
    assert r.statistics_status == "ok"


def test_a_number_glued_to_a_word_is_unexplained():
    r = run(letter(narrative="Nine of the ten special schools are good and 4of the 5 nursery schools are outstanding."))
    assert r.statistics_status == "needs_review"
    assert any(n.text == "4of" and n.role == "unexplained" for n in r.numbers)


@pytest.mark.parametrize("rating_line", [
    "| Children's services rating\tPerforms well (3)\t|",
    "Children's services rating\tPerforms well (3 (3)",
])
def test_a_rating_row_as_scans_read_its_table_cell(rating_line):
    r = run(letter(rating_line=rating_line))
    assert r.value("rating_label") == "Performs well" and r.value("rating_score") == 3 and r.status == "ok", r.issues


# --------------------------------------------------------------------------- a scan's damage around landmarks


@pytest.mark.parametrize("salutation", [": ~ Dear Mrs Smith", "bee 'Dear Mrs Smith", "_ Dear Mrs Smith :"])
def test_a_salutation_behind_a_scan_s_specks_is_found_and_the_specks_are_not_in_it(salutation):
    r = run(letter(salutation=salutation))
    assert r.status != "not_rating_letter"
    assert r.value("salutation").startswith("Dear Mrs Smith") and r.value("recipient_name") == "Mrs Jane Smith"


def test_a_rating_cell_read_apart_from_its_heading_gives_the_rating_and_sends_the_letter_to_review():
    """A scan's table read column by column: the heading stands above the narrative and the value after it."""
    narrative = "Nine of the ten special schools are good. " + "The fostering service and the adoption agency are good. " * 6
    text = letter(rating_line="", narrative=f"{narrative}\n\nPerforms well (3) ee")
    r = run(text)
    assert (r.value("rating_label"), r.value("rating_score")) == ("Performs well", 3)
    assert r.fields["rating_score"].method == "regex-apart" and r.status == "needs_review"
    assert any("away from the rating heading" in issue for issue in r.issues)


def test_two_rating_values_that_disagree_never_pass():
    """Beside the heading or apart from it, a second rating value that differs sends the letter to
    review; two values apart that differ give no rating at all."""
    near = run(letter(rating_line="", perform="", narrative="Performs well (3)\n\nNine of the ten special schools are good.\n\nPerforms poorly (1)"))
    assert near.value("rating_score") == 3 and near.status == "needs_review"
    assert any("'Performs poorly (1)' on a line of its own, which differs from score 3" in issue for issue in near.issues)
    narrative = "Nine of the ten special schools are good. " + "The fostering service and the adoption agency are good. " * 6
    apart = run(letter(rating_line="", perform="", narrative=f"{narrative}\n\nPerforms well (3)\n\n{narrative}\n\nPerforms poorly (1)"))
    assert apart.value("rating_score") is None and apart.status == "needs_review"


@pytest.mark.parametrize("address, salutation", [
    # the salutation lost the surname's last letter, and its colon is a speck
    ("Councillor Helen Tavener\nExecutive Member for Children\nKent County Council\nSessions House\nMaidstone\nME14 1XQ", "Dear Councillor Tavene:"),
    # no date was read, so the letterhead stands before the address
    ("Aviation House\n125 Kingsway\nLondon\nWC2B 6SE\nT 08456 404040\nwww.ofsted.gov.uk\nDirect T 0300 013 1247\n\nCouncillor Helen Tavener\nExecutive Member for Children\nKent County Council\nMaidstone\nME14 1XQ", "Dear Councillor Tavener"),
])
def test_the_addressee_is_found_by_the_salutation_s_surname_one_letter_apart(address, salutation):
    r = run(letter(date="", address=address, salutation=salutation))
    assert r.value("recipient_name") == "Councillor Helen Tavener"


def test_a_scan_s_specks_around_the_title_are_not_part_of_it():
    page = Page(1, letter(address="Mrs Jane Smith :\n\nDirector of Children 2 and Young People's Services\n'Kent County Council\nMaidstone\nME14 1XQ"), "ocr", 90.0, {})
    r = run("", page)
    assert r.value("recipient_title") == "Director of Children and Young People's Services"


def test_title_acronyms_are_never_a_signatory_s_name():
    r = run(letter(signature="Yours sincerely\n\nS ate Wowie a an\nDrona CAA"))
    assert r.value("signatory_name") is None
