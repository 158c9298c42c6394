from pipeline.normalise import normalise_characters, normalise_document, normalise_text, split_scale_cells
from pipeline.records import Page, SourceDocument
from pathlib import Path


def test_quotes_ligatures_spaces_are_made_plain():
    assert normalise_characters("Children\u2019s \ufb01ndings\u00a0\u201cgood\u201d \u2013 ok\r\n") == "Children's findings \"good\" - ok\n"


def test_line_end_hyphenation_is_joined_but_real_hyphens_kept():
    text = normalise_text("The perfor-\nmance of sixth-\nform schools is good.")
    assert "performance" in text
    assert "sixth-form" in text


def test_run_together_scale_cells_become_rows():
    glued = ("4Performs excellentlyAn organisation that significantly exceeds minimum requirements"
             "3Performs wellAn organisation that exceeds minimum requirements"
             "2Performs adequatelyAn organisation that meets only minimum requirements"
             "1Performs poorlyAn organisation that does not meet minimum requirements")
    rows = split_scale_cells(glued).split("\n")
    assert rows[1] == "3\tPerforms well\tAn organisation that exceeds minimum requirements"
    assert len(rows) == 4


def test_wrapped_prose_is_unwrapped_and_address_lines_kept():
    text = normalise_text(
        "Mr A Person\nDirector of Children's Services\nKent County Council\n\n"
        "The overall effectiveness of the large majority of inspected services and\n"
        "settings is good or better across the whole of the local area, and it is\n"
        "improving."
    )
    assert "Mr A Person\nDirector of Children's Services\nKent County Council" in text
    assert "services and settings is good" in text


def test_page_furniture_is_dropped():
    assert "Page 1 of 2" not in normalise_text("First line.\nPage 1 of 2\nSecond line.")


def test_pages_are_joined_and_offsets_map_back_to_pages():
    doc = SourceDocument(Path("x.pdf"), "pdf", "0" * 64, [Page(1, "One."), Page(2, "Two.", "ocr", 80.0)])
    letter = normalise_document(doc)
    assert letter.text == "One.\n\nTwo."
    assert letter.page_at(letter.text.index("Two")) == 2
    assert letter.ocr_confidence_at(letter.text.index("Two")) == 80.0
    assert letter.page_at(0) == 1


def test_sentence_running_over_a_page_break_stays_one_paragraph():
    doc = SourceDocument(Path("x.pdf"), "pdf", "0" * 64, [Page(1, "Provision in early"), Page(2, "years settings is good.")])
    letter = normalise_document(doc)
    assert letter.text == "Provision in early\nyears settings is good."
    assert letter.page_at(letter.text.index("years")) == 2


def test_ocr_page_numbers_and_specks_are_cleaned():
    assert "Page" not in normalise_text("First line.\nPage | of 2\nSecond line.")
    doc = SourceDocument(Path("x.pdf"), "pdf-ocr", "0" * 64, [Page(1, "Ofsted has . evaluated them as adequate.", "ocr", 90.0)])
    assert normalise_document(doc).text == "Ofsted has evaluated them as adequate."
    typed = SourceDocument(Path("x.pdf"), "pdf", "0" * 64, [Page(1, "Ofsted has . evaluated them.")])
    assert normalise_document(typed).text == "Ofsted has . evaluated them."


def test_a_speck_at_the_end_of_an_ocr_line_does_not_end_the_sentence():
    page = Page(1, "61% of secondary schools .\nare good or outstanding.\tNo special schools are in a category.", "ocr", 85.0)
    text = normalise_document(SourceDocument(Path("x.pdf"), "pdf-ocr", "0" * 64, [page])).text
    assert "schools\nare good" in text
    ended = Page(1, "Most schools are good .\nThe rest are not.", "ocr", 85.0)
    assert "good .\nThe rest" in normalise_document(SourceDocument(Path("x.pdf"), "pdf-ocr", "0" * 64, [ended])).text


def test_a_running_footer_with_a_title_before_its_page_number_is_dropped_mid_sentence():
    pages = [
        Page(1, "The majority of settings are good or better. Nursery\n\nOfsted - Children's services annual rating 2009 - Page 1 of 2", "ocr", 80.0),
        Page(2, "schools are a strength, with 7 of the 10 inspected judged good or better.", "ocr", 80.0),
    ]
    text = normalise_document(SourceDocument(Path("x.pdf"), "pdf-ocr", "0" * 64, pages)).text
    assert "Nursery\nschools are a strength" in text and "Page" not in text
    assert "read page 2 of the report" in normalise_text("Please read page 2 of the report for details.")


def test_a_full_stop_ocr_read_between_two_words_is_a_space_but_addresses_keep_theirs():
    page = Page(1, "The council's secondary schools.are well regarded.\nwww.ofsted.gov.uk enquiries@ofsted.gov.uk ofsted.gov", "ocr", 85.0)
    text = normalise_document(SourceDocument(Path("x.pdf"), "pdf-ocr", "0" * 64, [page])).text
    assert "secondary schools are well regarded" in text
    assert "www.ofsted.gov.uk enquiries@ofsted.gov.uk ofsted.gov" in text
    typed = Page(1, "The council's secondary schools.are well regarded.")
    assert "schools.are" in normalise_document(SourceDocument(Path("x.pdf"), "pdf", "0" * 64, [typed])).text


def test_a_page_break_inside_a_sentence_is_taken_out_and_the_word_hyphenated_across_it_made_whole():
    text = ("Seven of the ten nur-\n\nfile:///C:/Documents/Letters/kent.htm 03/12/2010 10:31\nPage 1 of 2\n\f"
            "Kent County Council - Annual children's services assessment 2010\n\nsery schools are good or outstanding.")
    assert normalise_text(text) == "Seven of the ten nursery schools are good or outstanding."
    browser = ("Children make\n\n03/12/2010, 10:31 Annual children's services assessment\n\n"
               "https://www.example.gov.uk/letters/kent.html 2/3\n\na good start in life.")
    assert normalise_text(browser) == "Children make a good start in life."
    # a break between paragraphs stays a paragraph break; a word hyphenated for good keeps its hyphen
    assert normalise_text("Schools are good.\n\nPage 1 of 2\n\nThe rest are not.") == "Schools are good.\n\nThe rest are not."
    assert normalise_text("The sixth-\nPage 1 of 2\nform college is good.") == "The sixth-form college is good."


def test_a_page_break_keeps_the_lines_beside_it_that_are_the_letter():
    # a heading before the break, and the signature above the last page's number, are not running titles
    text = "Schools are good.\n\nAreas for improvement\n\nPage 1 of 2\n\nImprove attendance."
    assert "Areas for improvement" in normalise_text(text)
    signed = "Yours sincerely\n\nJuliet Winstanley\n\nPage 2 of 2"
    assert normalise_text(signed) == "Yours sincerely\n\nJuliet Winstanley"


def test_a_word_hyphenated_across_two_pdf_pages_is_made_whole():
    pages = [Page(1, "Seven of the ten nur-"), Page(2, "sery schools are good.")]
    letter = normalise_document(SourceDocument(Path("x.pdf"), "pdf", "0" * 64, pages))
    assert letter.text == "Seven of the ten nursery schools are good."
    assert letter.page_at(letter.text.index("schools")) == 2


def test_ocr_repairs_a_stop_or_apostrophe_read_in_place_of_a_space():
    page = Page(1, "Children's.services assessment.2010\n23.of the 25 schools, 2.5 per cent\nDivisional'Manager, Ms O'Connor", "ocr-layer")
    text = normalise_document(SourceDocument(Path("x.pdf"), "pdf-ocr-layer", "0" * 64, [page])).text
    assert text == "Children's services assessment 2010\n23 of the 25 schools, 2.5 per cent\nDivisional Manager, Ms O'Connor"


def test_scale_rows_glued_one_to_a_line_are_split_into_cells():
    text = normalise_text("4Performs excellentlyAn organisation that significantly exceeds minimum requirements\n"
                          "3Performs wellAn organisation that exceeds minimum requirements")
    assert text.split("\n")[1] == "3\tPerforms well\tAn organisation that exceeds minimum requirements"


def test_a_producers_broken_hyphen_joins_the_word():
    from pipeline.normalise import normalise_characters

    assert normalise_characters("Forty\ufffe one of the schools; Re\ufffe\nreferrals") == "Forty-one of the schools; Re-referrals"


def test_ocr_glued_numbers_and_stray_stops_are_repaired():
    from pipeline.normalise import repair_ocr_specks

    assert repair_ocr_specks("4of the 5 nursery schools. are good") == "4 of the 5 nursery schools are good"
