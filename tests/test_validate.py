"""Whether a text is a rating letter at all: positive evidence of Ofsted's children's services rating, not a scale alone."""
from __future__ import annotations

from test_extract import letter, run

from pipeline.validate import is_rating_letter, not_rating_reason

CQC = """Care Quality Commission
Finsbury Tower, 103-105 Bunhill Row, London EC1Y 8TG

9 December 2009

Mr John Hughes
Director of Adult Social Services
Kent County Council
Sessions House
Maidstone
ME14 1XQ

Dear Mr Hughes

Annual performance assessment of adult social care services 2009

The assessment is made on a four point scale:

4\tPerforming excellently\tAn organisation that significantly exceeds minimum requirements
3\tPerforms well\tAn organisation that exceeds minimum requirements
2\tPerforms adequately\tAn organisation that meets only minimum requirements
1\tPerforms poorly\tAn organisation that does not meet minimum requirements

Adult social care services in Kent County Council perform well. Ofsted's inspections of children's services are reported separately.

Delivering personalised services\tPerforms well (3)

Yours sincerely

Andrea Gordon
Regional Director, Care Quality Commission
"""


def test_another_inspectorates_letter_on_the_same_scale_is_not_a_rating_letter():
    r = run(CQC)
    assert r.status == "not_rating_letter"
    assert "children's services rating or assessment is not named" in r.issues[0]
    # even naming the children's services rating, a letter headed and signed by another body is its letter
    audit = letter().replace("9 December 2009", "Audit Commission\n1st Floor, Millbank Tower\n\n9 December 2009", 1)
    audit = audit.replace("Juliet Winstanley\nDivisional Manager, CAA", "Michael O'Higgins\nChairman, Audit Commission")
    assert not is_rating_letter(audit) and "Audit Commission" in not_rating_reason(audit)


def test_a_committee_report_quoting_its_letter_is_not_a_rating_letter():
    report = ("Report to Cabinet\nAgenda item 7\n\nPurpose of the report\nTo note Ofsted's annual rating of children's services.\n\n"
              "Recommendations:\nThat Cabinet notes the letter below.\n\n" + letter() + "\n\nBackground papers\nNone.")
    r = run(report)
    assert r.status == "not_rating_letter" and "committee report" in r.issues[0]


def test_an_ofsted_letter_that_mentions_other_bodies_in_its_narrative_is_still_one():
    r = run(letter(narrative="Nine of the ten special schools are good. The Care Quality Commission and the Audit Commission report separately."))
    assert r.status == "ok", r.issues
    # a letterhead naming Ofsted beside the Audit Commission (a joint letter) is Ofsted's
    joint = letter().replace("9 December 2009", "Ofsted and the Audit Commission\n\n9 December 2009", 1)
    assert is_rating_letter(joint)


# ---- every field checked against the others: each disagreement flags the letter and names both values


def test_heading_year_against_the_rating_year():
    r = run(letter().replace("Children's services annual rating\n", "Children's services annual rating 2010\n"))
    assert r.status == "needs_review"
    assert any("2009" in i and "2010" in i and "rating_year" in i for i in r.issues), r.issues


def test_letter_date_far_from_the_assessments_december():
    r = run(letter(date="9 June 2010"))
    assert r.status == "needs_review"
    assert any("2010-06-09" in i and "December 2009" in i for i in r.issues), r.issues
    # the January after is still the season the letters went out
    assert run(letter(date="5 January 2010")).status == "ok"


def test_wording_of_the_years_scheme():
    # a 2010 heading on a letter worded as a 2009 rating ("Children's services rating 2010")
    r = run(letter(year="2010", date="8 December 2010"))
    assert r.status == "needs_review"
    assert any("rating" in i and "assessment" in i and "2010" in i for i in r.issues), r.issues
    # the 2009 wording with the 2009 year is the clean letter
    assert run(letter()).status == "ok"


def test_a_year_outside_the_scheme_is_flagged():
    r = run(letter(year="2008", date="9 December 2008"))
    assert any("not a year of the children's services rating scheme" in i for i in r.issues), r.issues


def test_authority_in_the_subject_line_against_the_address():
    r = run(letter().replace("Children's services annual rating\n", "Children's services annual rating: Medway Council\n"))
    assert r.status == "needs_review"
    assert any("'Kent'" in i and "'Medway'" in i and "subject line" in i for i in r.issues), r.issues
    same = run(letter().replace("Children's services annual rating\n", "Children's services annual rating: Kent County Council\n"))
    assert same.status == "ok", same.issues


def test_authority_in_the_perform_sentence_against_the_address():
    r = run(letter(perform="Children's services in Medway Council perform well."))
    assert r.status == "needs_review"
    assert any("'Kent'" in i and "'Medway'" in i for i in r.issues), r.issues


# ---- what is a rating letter: a document that only quotes one is not one, whatever it quotes

MINUTES_BEFORE = (
    "Children and Young People's Overview Panel\n\nMinutes of the meeting held on 14 January 2010\n\n"
    "The panel considered the annual rating of the council's children's services, which Ofsted had sent to the director "
    "in December. Members were reminded that the rating is one of four grades and that it will be published alongside "
    "the rating of every other council. The director said the letter was reproduced in full below so that members could "
    "see the wording for themselves, and drew attention to the areas the inspectors had praised.\n\n"
)
ARTICLE_AFTER = (
    "\n\nCouncil leaders welcomed the letter on Thursday. The cabinet member for children said she was proud of the staff "
    "who had worked so hard over the year, and that the council would keep its focus on the children's homes the "
    "inspectors had criticised. Opposition councillors said the grade hid problems in social care that families still "
    "faced, and called for the scrutiny committee to look again at the figures in the spring.\n"
)


def test_minutes_that_quote_the_letter_whole_are_not_a_rating_letter():
    r = run(MINUTES_BEFORE + letter())
    assert r.status == "not_rating_letter" and "quotes a letter" in r.issues[0], r.issues


def test_an_article_that_quotes_the_letter_and_goes_on_is_not_a_rating_letter():
    r = run(letter() + ARTICLE_AFTER)
    assert r.status == "not_rating_letter" and "after the sign-off" in r.issues[0], r.issues


def test_letterhead_web_page_lines_and_a_cover_note_are_not_prose_around_a_letter():
    head = ("Ofsted\nPiccadilly Gate\nStore Street\nManchester M1 2WD\nT 0300 123 1231\nwww.ofsted.gov.uk\n\n"
            "Covering note\nTo: Director of Children's Services\nFrom: Ofsted\nNumber of pages including this sheet: 3\n"
            "Please find the letter attached; reply within 5 working days if a fact is wrong.\n\n")
    assert run(head + letter()).status == "ok"
    footer = "\n\nWas this page useful?\nContact us\nCrown copyright 2009\nPrivacy | Cookies | Accessibility"
    assert run(letter() + footer).status == "ok"


# ---- Ofsted's other letters to the same directors (the generator makes them: tests/test_neighbours.py)


def test_a_rating_letter_that_mentions_the_neighbouring_schemes_in_its_text_stays_a_rating_letter():
    narrative = ("Since the 2008 annual performance assessment the council has improved. The unannounced inspection of contact, "
                 "referral and assessment arrangements in June found no areas for priority action. Nine of the ten special schools are good.")
    assert run(letter(narrative=narrative)).status == "ok"


def test_a_letter_headed_by_another_scheme_but_with_a_rating_line_is_still_read_as_a_rating_letter():
    # a rating letter filed under the old scheme's heading by a council's records system: its rating line decides
    head = "Annual performance assessment correspondence\n\n"
    assert run(head + letter()).status == "ok"


def test_a_subject_line_naming_another_scheme_makes_a_letter_that_scheme_s():
    text = letter().replace("Children's services annual rating\n", "Inspection of contact, referral and assessment arrangements in Kent\n")
    text = text.replace("Children's services rating\tPerforms well (3)", "Findings\tno areas for priority action")
    assert not is_rating_letter(text)
    assert "contact, referral and assessment arrangements" in not_rating_reason(text)
