from pipeline.normalise import normalise_text
from pipeline.segment import segment_letter


def names(segments):
    return [s.segment for s in segments]


def test_both_seeds_have_every_part_in_order(seed_texts):
    for name, raw in seed_texts.items():
        segments = segment_letter(normalise_text(raw))
        order = [n for n in names(segments) if n != "preamble"]
        assert order == ["header", "scale_table", "rating", "narrative", "closing"], name
        for s in segments:
            assert s.text.strip() == s.text and s.text


def test_segment_offsets_point_into_the_text(seed_texts):
    for raw in seed_texts.values():
        text = normalise_text(raw)
        for s in segment_letter(text):
            assert text[s.start:s.end] == s.text


def test_scale_before_its_lead_in_sentence_still_found(seed_texts):
    text = normalise_text(seed_texts["000_fab9377e44d3ba9b.txt"])
    segments = segment_letter(text)
    scale = next(s for s in segments if s.segment == "scale_table")
    assert scale.text.startswith("4\tPerforms excellently")
    assert "four point scale" in [s for s in segments if s.segment == "preamble"][1].text


def test_2010_letter_with_areas_for_improvement():
    text = normalise_text(
        "1 December 2010\n\nMs A Jones\nDirector of Children's Services\nKent County Council\n\nDear Ms Jones\n\n"
        "Annual children's services assessment\n\nOfsted guidance explains the assessment.\n\n"
        "4\tPerforms excellently\tAn organisation that significantly exceeds minimum requirements\n"
        "3\tPerforms well\tAn organisation that exceeds minimum requirements\n"
        "2\tPerforms adequately\tAn organisation that meets only minimum requirements\n"
        "1\tPerforms poorly\tAn organisation that does not meet minimum requirements\n\n"
        "Children's services assessment 2010\n\nChildren's services assessment\tPerforms adequately (2)\n\n"
        "Children's services in Kent County Council perform adequately.\n\nThree of the five special schools are good.\n\n"
        "Areas for improvement\n\n- Improve the quality of childminding.\n\n"
        "The children's services assessment is provided for the purpose of section 138 of the Education and Inspections Act 2006.\n\n"
        "Yours sincerely\n\nJohn Goldup\nDeputy Chief Inspector"
    )
    segments = {s.segment: s for s in segment_letter(text)}
    assert "Performs adequately (2)" in segments["rating"].text
    assert "Three of the five" in segments["narrative"].text
    assert segments["improvements"].text.startswith("Areas for improvement")
    assert segments["closing"].text.endswith("Deputy Chief Inspector")


def test_text_without_landmarks_has_no_segments():
    assert segment_letter("Dear resident,\n\nYour bins will be collected on Tuesday.") == []


def test_closing_begins_at_its_sentence_when_the_paragraph_break_was_lost():
    text = (
        "Dear Ms Jones\n\nChildren's services rating 2009\n\nChildren's services rating\tPerforms well (3)\n\n"
        "Children's services in Kent perform well.\n\n"
        "Inspections found that four children's homes are inadequate. The joint area review in 2008 judged services as good. "
        "This children's services rating is provided for the. purpose of section 138 of the Education and Inspections Act 2006.\n\n"
        "Gareth Llewellyn\nHMI, Divisional Manager"
    )
    segments = {s.segment: s for s in segment_letter(text)}
    assert segments["narrative"].text.endswith("judged services as good.")
    assert segments["closing"].text.startswith("This children's services rating is provided")


def test_a_covering_note_is_a_segment_of_its_own_and_its_dates_are_not_the_letters():
    cover = ("Ofsted - Children's services assessment - Kent County Council - Covering note\nTo: Mrs Jane Smith\n"
             "Date sent: 16 December 2010\nNumber of pages including this sheet: 3\n\n"
             "Please find enclosed the annual children's services assessment letter. This covering note is not part of it.\n\n")
    letter = ("9 December 2010\n\nMrs Jane Smith\nKent County Council\n\nDear Mrs Smith\n\nAnnual children's services assessment\n\n"
              "Children's services assessment\tPerforms well (3)\n\nChildren's services in Kent perform well.\n\nYours sincerely\n\nA Person")
    text = normalise_text(cover + letter)
    segments = segment_letter(text)
    assert names(segments)[:2] == ["cover", "header"]
    assert "Date sent" in segments[0].text and "Please find enclosed" in segments[0].text
    assert segments[1].text.startswith("9 December 2010")


def test_a_lost_rating_line_leaves_the_narrative_from_the_perform_sentence():
    text = normalise_text("9 December 2009\n\nMrs Jane Smith\nKent County Council\n\nDear Mrs Smith\n\nChildren's services annual rating\n\n"
                          "Ofsted guidance explains the rating.\n\nChildren's services in Kent perform well. Nine of the ten special schools are good.\n\n"
                          "Yours sincerely\n\nA Person")
    narrative = [s for s in segment_letter(text) if s.segment == "narrative"]
    assert narrative and narrative[0].text.startswith("Children's services in Kent perform well.")
