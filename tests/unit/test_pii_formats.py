"""PII scrubber on the formats the issue reported leaking, obfuscation, clean text from other
domains, and the two paths (rules on the edge, rules + NER for ``ecc corpus prepare``)."""

from __future__ import annotations

import pytest

from ecc_workloads.pii import names as pii_names, scrubber as pii
from ecc_workloads.pii.normalise import normalise


def _assert_replaced(text: str, secrets: list[str], placeholder: str) -> None:
    result = pii.scrub(text, ner=False)
    for secret in secrets:
        assert secret.lower() not in result.text.lower(), result.text
    assert placeholder in result.text, result.text
    # offsets and values refer to the ORIGINAL text, invisible characters included
    assert all(text[s.start:s.end] == s.value for s in result.spans)


@pytest.mark.parametrize(
    "text, secrets, placeholder",
    [
        ("my postcode is SW1A 1AA, can you deliver", ["SW1A", "1AA"], "{{POSTCODE}}"),
        ("my name is john smith and the parcel is late", ["john", "smith"], "{{PERSON}}"),
        ("date of birth 12/03/1985 for the age check", ["12/03/1985"], "{{DATE_OF_BIRTH}}"),
        ("I was born on 4 July 1979", ["1979"], "{{DATE_OF_BIRTH}}"),
        ("refund to GB82 WEST 1234 5698 7654 32 please", ["WEST", "5698"], "{{IBAN}}"),
        ("Mr. John Smith ordered it", ["John", "Smith"], "{{PERSON}}"),
        ("Dr. Priya Patel said I should ask", ["Priya", "Patel"], "{{PERSON}}"),
        ("write to jane.doe\u200b@example.com", ["jane", "example"], "{{EMAIL}}"),
        ("write to ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", ["ｊａｎｅ"], "{{EMAIL}}"),
        ("it's jane dot doe at example dot com", ["jane", "doe", "example"], "{{EMAIL}}"),
        ("card **** **** **** 4242 exp 08/27 cvv 123", ["08/27", "123"], "{{CARD_CVV}}"),
        ("my card 4111 1111 1111 1111 exp 12/29 737", ["1111", "12/29", "737"], "{{CARD_EXPIRY}}"),
        ("my NI number is QQ 12 34 56 C", ["QQ 12", "56 C"], "{{NATIONAL_ID}}"),
        ("SSN 123-45-6789 on file", ["6789"], "{{NATIONAL_ID}}"),
        ("codice fiscale RSSMRA85T10A562S", ["RSSMRA85T10A562S"], "{{NATIONAL_ID}}"),
        ("send it to Flat 2, 14 Baker Street, London NW1 6XE", ["Baker", "NW1", "6XE"], "{{ADDRESS}}"),
        ("someone logged in from 203.0.113.45 last night", ["203.0.113.45"], "{{IP_ADDRESS}}"),
        ("blocked access from 2001:db8::ff00:42:8329", ["2001:db8"], "{{IP_ADDRESS}}"),
        ("my username is darkstar_77", ["darkstar_77"], "{{USERNAME}}"),
        ("ring me on 0161 496 0734 after six", ["496", "0734"], "{{PHONE}}"),
        ("appelez-moi au +33 6 12 34 56 78", ["12 34"], "{{PHONE}}"),
    ],
)
def test_formats_the_old_scrubber_leaked(text, secrets, placeholder):
    _assert_replaced(text, secrets, placeholder)


@pytest.mark.parametrize(
    "text",
    [
        "Can I top up my wallet with Apple Pay?",
        "I want to exchange euros for Swiss francs",
        "Why did my Western Union transfer to Manila fail?",
        "Is Google Pay supported on the Pixel 8?",
        "can I pay with Revolut in Mexico City",
        "What is the rate from USD to JPY today?",
        "My Samsung Galaxy Watch was charged in GBP",
        "Does Klarna work for the Dyson Airwrap?",
        "I am travelling to Sri Lanka next week",
        "I'm Happy with the Gold plan",
        "the login failed twice on my phone",
        "order 2 of 3 arrived on 12/05/2024 at 10:30, app version 13.10.9",
    ],
)
def test_clean_text_from_other_domains_is_unchanged(text):
    assert pii.scrub(text, ner=False).text == text
    assert pii.scrub(text).text == text


def test_normalise_maps_back_to_original_offsets():
    text = "a\u200bb ＡＢ"
    norm, where = normalise(text)
    assert norm == "ab AB"
    assert [text[i] for i in where[:-1]] == ["a", "b", " ", "Ａ", "Ｂ"]
    assert normalise("plain")[0] == "plain"


def test_scrub_is_idempotent_on_new_types():
    text = "IBAN DE89 3704 0044 0532 0130 00, born 01.02.1980, user: kat_99, ip 198.51.100.7"
    once = pii.scrub_text(text)
    assert pii.scrub_text(once) == once
    for kind in ("IBAN", "DATE_OF_BIRTH", "USERNAME", "IP_ADDRESS"):
        assert "{{" + kind + "}}" in once, once


def test_dates_and_numbers_alone_are_not_personal():
    for text in ("the parcel left on 12 March 2024", "version 1.2.3.4 crashed", "it costs 1234 euros"):
        assert pii.scrub(text, ner=False).spans == (), text


def test_ner_path_is_optional_and_named(monkeypatch):
    monkeypatch.setenv("ECC_PII_NER", "off")
    assert pii_names.load_ner() is None
    assert pii.backend()["ner"] is None
    assert pii.scrub("Regards, Anna Kowalski").text == "Regards, {{PERSON}}"
    monkeypatch.setenv("ECC_PII_NER", "sometimes")
    with pytest.raises(ValueError, match="ECC_PII_NER"):
        pii_names.ner_mode()


def test_ner_model_is_installed_and_finds_a_name_without_cue(monkeypatch):
    monkeypatch.setenv("ECC_PII_NER", "on")
    assert pii.backend()["ner"].startswith("spacy")
    # no cue word, a first name outside the (American) gazetteer: only the model, with a census
    # surname, can tell this is a person; the rules alone cannot
    text = "yesterday Giulia Rossi phoned about the refund"
    assert "Rossi" not in pii.scrub(text).text
    assert "Rossi" in pii.scrub(text, ner=False).text


def test_gazetteer_and_ordinary_words_come_from_packages():
    assert pii_names.is_first_name("Siobhan") and pii_names.is_first_name("Maria")
    assert not pii_names.is_first_name("Nike") and not pii_names.is_first_name("Giulia")  # US census lists
    assert pii_names.surname_rank("Smith") == 1 and pii_names.surname_rank("Rossi")
    assert pii_names.is_ordinary("refund") and not pii_names.is_ordinary("kowalski")
    assert "lanka" in pii_names.country_words()


def test_data_card_records_the_scrubber_backend():
    from ecc_workloads.data import datacard
    from ecc_workloads.data.corpus import BITEXT_SPEC, CleanReport

    report = CleanReport(rows_in=0, rows_out=0, removed={}, pii_spans={}, rows_with_pii=0)
    card = datacard.build(source="x", source_sha256="0", spec=BITEXT_SPEC, report=report, examples=[],
                          splits={}, split_seed=1, scrubbing=[], scrubber={"backend": "rules", "ner": None})
    assert card.scrubber["backend"] == "rules"
    assert "PII scrubber: backend `rules`" in datacard.to_markdown(card)
    auto = pii.backend()
    assert auto["backend"] in ("rules", "rules+ner") and auto["first_names"] > 5000


def test_brand_and_famous_names_are_not_people_but_cue_less_full_names_are():
    for text in ["Can I use Chase Sapphire to buy a Steam Deck?", "Play something by Taylor Swift on Spotify",
                 "Why was my Oura Ring payment declined?", "I bought an Echo Dot in Frankfurt"]:
        assert pii.scrub(text, ner=False).spans == (), text
    assert "Kelly" not in pii.scrub("yesterday Anna Kelly phoned about the refund", ner=False).text


def test_card_number_cut_from_expiry_and_sentence_end():
    out = pii.scrub("card no. 6569 4102 4004 5444 / 12/31 / CVV2 123", ner=False)
    assert [s.kind.value for s in out.spans] == ["CARD", "CARD_EXPIRY", "CARD_CVV"]
    out = pii.scrub("I was charged $448.85. 3551 6094 1693 7543 is the new card", ner=False)
    assert "{{CARD}}" in out.text


def test_address_with_unit_before_and_house_number_after_comma():
    text = "Flat 5, Incrocio Cendron, 293, 35125 Grotte Santo Stefano is where I live"
    out = pii.scrub(text, ner=False).text
    assert out.startswith("{{ADDRESS}}") and "Stefano" not in out and "293" not in out


# ---------------------------------------------------------------------------
# Round 3: one test per cause of a miss or a false alteration found on the development sets.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        # brands named after people, with no cue: a first name + a census surname is not enough
        "Kenneth Cole shoes came without the box",
        "Does Anne Klein have a store in Leeds?",
        "I paid Betty Crocker with a gift card and got two charges",
        "Is Emma Bridgewater the same company as Oscar Mayer?",
        # after to/from/with/as (places and brands go there) and after "for"/"by" when a noun
        # follows or a maker is meant
        "I switched to Kenneth Cole last year",
        "a voucher for Anne Klein shoes",
        "the jacket designed by Kenneth Cole",
        "play something by Oscar Mayer",
        # a product's model number, a version, a flight are not identifiers
        "the Sony XR-55A80L stopped working",
        "the update to firmware v10.22 broke it",
        "flight LX1612 was cancelled",
        # amounts in any currency
        "the delivery 4877 kr was too much",
        "I paid 259 CHF for it",
        # "delivery address" with no address after it; "e-mail to" is no "mail to"
        "my delivery address isnt valid, at 10:44",
        "is there an e-mail to send feedback, app version 11.7.9",
        # German "im" ("in the") is not "I'm"
        "a hotel in Freiburg im Breisgau",
        # cues that take a company as well as a person
        "contact Zopa about the loan",
        "it's Monese again, they blocked me",
        # a masked card shows only its last four digits
        "the card ending in 4242 was charged",
        # plans expire too: a month and a year after "expires" is a card's expiry only near a card
        "my subscription expires March 2027",
        # honorific brands are a known residual (see docs/data.md), so not listed here
    ],
)
def test_round3_clean_text_is_left_alone(text):
    assert pii.scrub(text, ner=False).text == text


@pytest.mark.parametrize(
    "text, secrets, placeholder",
    [
        # e-mails with the "@" written as a word or spaced
        ("update it to kowalczyk88 at example.net please", ["kowalczyk88", "example.net"], "{{EMAIL}}"),
        ("Email: jmbarros at mail.example.pt", ["jmbarros"], "{{EMAIL}}"),
        ("write to marta . silva @ example . com", ["marta", "silva"], "{{EMAIL}}"),
        # user names after "'s", "logged in as", "profile"
        ("my username's helga_k77", ["helga_k77"], "{{USERNAME}}"),
        ("logged in as tordisbakken", ["tordisbakken"], "{{USERNAME}}"),
        ("I can't access the profile greenfinch", ["greenfinch"], "{{USERNAME}}"),
        # postcodes after a cue with words in between, named as an area, after "deliver to"
        ("the post code on the card is 5037", ["5037"], "{{POSTCODE}}"),
        ("my postcode's 2620", ["2620"], "{{POSTCODE}}"),
        ("we are in the 6194 area", ["6194"], "{{POSTCODE}}"),
        ("do you deliver to 2015?", ["2015"], "{{POSTCODE}}"),
        # dates of birth: "d.o.b.", a weekday in front, German "3. März 1980"
        ("d.o.b. Oct 27, 1976", ["Oct 27", "1976"], "{{DATE_OF_BIRTH}}"),
        ("DOB Saturday 24 November 1973", ["Saturday", "1973"], "{{DATE_OF_BIRTH}}"),
        ("geboren am 3. März 1980", ["März", "1980"], "{{DATE_OF_BIRTH}}"),
        # card expiry and CVV in other shapes and after other cues
        ("card 4111 1111 1111 1111 expires September 2029, the code on the back is 506",
         ["September 2029", "506"], "{{CARD_CVV}}"),
        ("number 4111111111111111, exp date 0426, security number 247", ["0426", "247"], "{{CARD_EXPIRY}}"),
        ("4141-7162-1877-7657 04/2033 183", ["04/2033", "183"], "{{CARD_EXPIRY}}"),
        # a cue in an earlier sentence does not make a card an order number
        ("I need the shipping options. 6011 0009 9013 9424 10 / 26 759", ["9424", "10 / 26", "759"], "{{CARD}}"),
        # addresses after more cues; "pl." and "Apt." do not end the clause; rural delivery, level
        ("collect from pl. Rynek 12, 30-001 Kraków tomorrow", ["Rynek", "30-001", "Kraków"], "{{ADDRESS}}"),
        ("it went to my old place at Apt. 162 218 Elm Quadrangle, Amyport", ["162", "Elm", "Amyport"], "{{ADDRESS}}"),
        ("please post it to 426 Aramoana Street\nRD 6", ["Aramoana", "RD 6"], "{{ADDRESS}}"),
        ("delivery address Åkerstigen 706, 20873 Växjö", ["Åkerstigen", "20873"], "{{ADDRESS}}"),
    ],
)
def test_round3_formats_are_found(text, secrets, placeholder):
    _assert_replaced(text, secrets, placeholder)


@pytest.mark.parametrize(
    "text, secrets",
    [
        ("From: Magnus", ["Magnus"]),  # a header field
        ("I spoke to Laura Pearson on the phone yesterday", ["Laura", "Pearson"]),
        ("Laura Pearson is the main account holder", ["Laura", "Pearson"]),
        ("add Kenneth as an authorised user", ["Kenneth"]),
        ("can Laura Pearson pick it up for me?", ["Laura", "Pearson"]),
        ("the technician, Agnieszka Wojcik, never showed up", ["Agnieszka", "Wojcik"]),
        ("my daughter laura pearson used my card", ["laura", "pearson"]),
        ("Sincerely,\nmargaret day", ["margaret", "day"]),  # a census surname that is also a word
        ("wayne strong is the main account holder", ["wayne", "strong"]),
        ("Best,\nAgnieszka Wojcik", ["Agnieszka", "Wojcik"]),
        ("yesterday Laura Pearson phoned about it", ["Laura", "Pearson"]),  # no cue before, a human verb after
        ("can I get the bills frm Laura Pearson", ["Laura", "Pearson"]),  # "from" mistyped
    ],
)
def test_round3_person_cues(text, secrets):
    out = pii.scrub(text, ner=False).text
    assert "{{PERSON}}" in out, out
    for secret in secrets:
        assert secret not in out, out


def test_company_cues_need_a_gazetteer_name_on_the_rules_path_but_the_model_can_confirm(monkeypatch):
    # "for" + two words outside the census lists: no gazetteer evidence, so the rules leave it;
    # the NER model labelling it PERSON is the second opinion that makes it a name
    text = "a voucher for Jolanta Kowalska"
    assert pii.scrub(text, ner=False).text == text
    monkeypatch.setenv("ECC_PII_NER", "on")
    assert "Kowalska" not in pii.scrub(text).text
    # a brand after the same cue is not labelled PERSON by the model and stays
    assert pii.scrub("a voucher for Kenneth Cole shoes").text == "a voucher for Kenneth Cole shoes"


def test_who_placed_the_order_is_a_person_on_the_rules_path_too():
    # orders are placed by people: "placed by" is a personal cue since round 4 (the learning
    # benchmark's injected rows missed European first names after it)
    text = "the order was placed by Jolanta Przybylska"
    assert pii.scrub(text, ner=False).text == "the order was placed by {{PERSON}}"
    assert pii.scrub("the order was placed by Siem. ok", ner=False).text == "the order was placed by {{PERSON}}. ok"


def test_masked_card_is_an_anchor_for_expiry_and_cvv_but_stays():
    out = pii.scrub("card ending in 0956 expires 0226, the code on the back is 070", ner=False)
    assert out.text == "card ending in 0956 expires {{CARD_EXPIRY}}, the code on the back is {{CARD_CVV}}"
    out = pii.scrub("xxxx-xxxx-xxxx-6835, exp date 10 / 33, security number 523", ner=False)
    assert out.text.startswith("xxxx-xxxx-xxxx-6835,") and "523" not in out.text


def test_social_security_number_is_not_a_cvv():
    out = pii.scrub("my social security number 123-45-6789", ner=False)
    assert [s.kind.value for s in out.spans] == ["NATIONAL_ID"]


# ---------------------------------------------------------------------------
# Round 4: cues and formats of the development data (held-out v3), and the regressions
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, secrets, placeholder",
    [
        # person cues: a form field with a dash, "under the name", a sign-off and a line break,
        # a role in apposition, the company's own agent, "let … sign", "handed to", "it is for"
        ("customer name - Mikael Laakso", ["Mikael", "Laakso"], "{{PERSON}}"),
        ("the booking is under the name Jakub", ["Jakub"], "{{PERSON}}"),
        ("Thank you!\nPavla Ježková", ["Pavla", "Ježková"], "{{PERSON}}"),
        ("Aryan Thaker (account owner). how do I", ["Aryan", "Thaker"], "{{PERSON}}"),
        ("your agent Nihal promised a callback", ["Nihal"], "{{PERSON}}"),
        ("please let Finn Vik sign for it", ["Finn", "Vik"], "{{PERSON}}"),
        ("the parcel should be handed to Nela Fišerová only", ["Nela", "Fišerová"], "{{PERSON}}"),
        ("it is for Capucine Allard", ["Capucine", "Allard"], "{{PERSON}}"),
        ("my colleague Maria Mario De Witte needs access", ["Maria", "Mario", "Witte"], "{{PERSON}}"),
        ("- Sjoerd van het Heerenveen. where is it", ["Sjoerd", "Heerenveen"], "{{PERSON}}"),
        # a first name that is a word of a country's name ("Saint Martin")
        ("I'm writing for my father, Martin", ["Martin"], "{{PERSON}}"),
        # address cues and formats
        ("address on file is Niitynperänpolku 6", ["Niitynperänpolku"], "{{ADDRESS}}"),
        ("my address changed to Mazancova 31", ["Mazancova"], "{{ADDRESS}}"),
        ("billing address: Continuación Villarreal 526 Edif. 888 , Depto. 798, San Mauricio. ok",
         ["Villarreal", "888", "798"], "{{ADDRESS}}"),
        ("my address changed to 72/590, Konda Chowk, Kavali 582016. thanks", ["590", "Konda", "582016"],
         "{{ADDRESS}}"),
        ("Quadra Mendonça, 33. I need help", ["Mendonça"], "{{ADDRESS}}"),
        ("ship to Haugensvingen 28, 6520 Elisefoss", ["Haugensvingen", "6520"], "{{ADDRESS}}"),
        # card details: "sec code", "|" between the fields, Mon-YY, "card ending 1234"
        ("card ending 7245, exp. date Dec-31, sec code 786", ["Dec-31", "786"], "{{CARD_CVV}}"),
        ("4539 1488 0343 6467 | 06.2029 | 261", ["06.2029", "261"], "{{CARD_EXPIRY}}"),
        ("676122659045 | 10 / 2027 | 306. ok", ["2027", "306"], "{{CARD_CVV}}"),
        # postcodes after "CEP" and "pin code"; "N°" before a reference; an account by its state
        ("CEP 501 47. ok", ["501 47"], "{{POSTCODE}}"),
        ("our pin code is 560034", ["560034"], "{{POSTCODE}}"),
        ("tracking no. N°765877. where is it", ["N°765877", "765877"], "{{ID_NUMBER}}"),
        ("the account kauppilapaivi got hacked", ["kauppilapaivi"], "{{USERNAME}}"),
        # an IBAN printed in groups of four whose checksum fails (a mistyped digit)
        ("wire it to GB11 CTQH 6590 2597 5108 6 thanks", ["CTQH", "6590"], "{{IBAN}}"),
    ],
)
def test_round4_formats_are_replaced(text, secrets, placeholder):
    _assert_replaced(text, secrets, placeholder)


def test_a_19_digit_card_in_groups_of_four_is_replaced_whole():
    # regression: a 16-digit prefix that passed the Luhn check by chance was taken for the card
    # and the last three digits stayed ("4591 1293 6944 5154 130")
    from faker import Faker

    fake = Faker()
    fake.seed_instance(3)
    for _ in range(50):
        number = fake.credit_card_number(card_type="visa19")
        grouped = " ".join(number[i:i + 4] for i in range(0, 19, 4))
        result = pii.scrub(f"charge it to {grouped}. thanks", ner=False)
        assert result.text == "charge it to {{CARD}}. thanks", (grouped, result.text)


@pytest.mark.parametrize(
    "text",
    [
        # brands named after people, used as brands: a noun and its verb follow the name
        "Dr Oetker pizza was missing from the Ocado delivery",
        "Mr Muscle cleaner leaked all over the parcel",
        "Ms Pac-Man arcade is not in the Steam sale",
        "dr. martens boots came in the wrong size",
        # a utility's bill comes from a company
        "My energy bill from Laura Ashley doubled since May",
        # a greeting, then a sentence about a brand
        "Hey, Vipps payment to the Bergen shop is stuck",
        "Hey, PicPay charged me twice",
        # what something is for may be a plan or a service
        "this is for Spotify Premium",
        # "address is" followed by a judgement, not an address
        "the secondary shipping address is invalid, it was 1419 euros",
        "my plan changed to the 20 GB tier",
        "I'm in Jordan now",
    ],
)
def test_round4_clean_sentences_stay(text):
    assert pii.scrub(text, ner=False).text == text
    assert pii.scrub(text).text == text


def test_a_person_after_an_honorific_still_counts_when_a_verb_follows():
    assert pii.scrub("Dr Smith said it was fine", ner=False).text == "{{PERSON}} said it was fine"
    assert pii.scrub("Dr. Patel appointment was moved", ner=False).text == "{{PERSON}} appointment was moved"
    assert pii.scrub("can i get my bill from Anna Freeman", ner=False).text == "can i get my bill from {{PERSON}}"


# ---------------------------------------------------------------------------
# Round 5: causes found on the development data (held-out v4), one test per cause
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, secrets",
    [
        ("gamer tag: aldo35. how can I file a claim", ["aldo35"]),
        ("sign-in name zan26-gg", ["zan26-gg"]),
        ("Account: alfonsocastro", ["alfonsocastro"]),
        ("I'm asalajkova on your forum", ["asalajkova"]),
        ("the profile balbu isn't mine", ["balbu"]),
        ("I sign in as scarpadario. how could I edit it", ["scarpadario"]),
    ],
)
def test_round5_user_name_cue_grammar(text, secrets):
    _assert_replaced(text, secrets, "{{USERNAME}}")


@pytest.mark.parametrize(
    "text",
    [
        "can you help me creating a user: pay it back into my account",  # an ordinary word going on
        "my account is blocked",
        "Account: premium is what I have",
    ],
)
def test_round5_user_name_cues_do_not_take_words(text):
    assert pii.scrub(text, ner=False).text == text


def test_round5_times_and_model_numbers_are_no_identifiers():
    for text in ("delivered at 11h45", "it came at 21h30, too late", "model MQ6T3ZD/A please", "at about 01.51"):
        assert pii.scrub(text, ner=False).text == text


@pytest.mark.parametrize(
    "text",
    [
        # honorific brands: a possessive, a noun of trade, a determiner, what shops do, a comparison
        "Dr. Scholl's insoles were charged twice",
        "DR. SCHOLL'S INSOLES WERE CHARGED TWICE",
        "Mrs. Meyer's soap bottle cracked",
        "Mr Porter order went to the old address on file",
        "Are Dr. Hauschka products sold at Isabel Marant?",
        "Does Mrs. Fields ship the Kindle Colorsoft to Antalya?",
        "My Mrs. Fields order in Charlottetown was split into two parcels",
        "I want to cancel Mr Porter before spring",
        "Which is better for Budapest, Dr. Hauschka or Pierre Cardin?",
        # "MX" in a product name is no honorific
        "can I collect the Logitech MX Master 3S there?",
        # what something suits is a place as often as a person
        "Which is better for Rosario, Sergio Tacchini or Babbel?",
        "Which is better for Prince George, Kiehl's or UNICEF?",
        # after a greeting and a comma, a brand that a verb follows
        "Hi, Ann Taylor took a store card but cancelled the order",
    ],
)
def test_round5_honorific_and_people_brands_stay(text):
    assert pii.scrub(text, ner=False).text == text


def test_round5_honorific_people_stay_people():
    assert pii.scrub("Dr. Patel's office called me", ner=False).text == "{{PERSON}} office called me"
    assert pii.scrub("I spoke to Mr. John Smith yesterday", ner=False).text == "I spoke to {{PERSON}} yesterday"
    assert pii.scrub("Hi, Anna Smith here", ner=False).text == "Hi, {{PERSON}} here"


@pytest.mark.parametrize(
    "text, secrets",
    [
        ("thanks. -- Mária Fülöp", ["Mária", "Fülöp"]),
        ("I need a refund of $12: -- Frančišek", ["Frančišek"]),
        ("for the attention of Tomo Stupalo", ["Tomo", "Stupalo"]),
        ("name on the card: jana novak", ["jana", "novak"]),
        ("the invoice should say Ivana Horvat, not my husband", ["Ivana", "Horvat"]),
        ("signed Lucia Mistrík", ["Lucia", "Mistrík"]),
        ("Jana Novak - customer since 2019", ["Jana", "Novak"]),
        ("recipient: Acevedo, Raimundo", ["Acevedo", "Raimundo"]),  # surname first
        ("attn: A. Eraslan", ["Eraslan"]),  # an initial
        ("my son bağdat akça lost the card", ["bağdat", "akça"]),  # lower case after a relative
        ("ask for Tichomír at the door", ["Tichomír"]),
        ("it's a gift for JÁNOS KOVÁCS, please don't show the price", ["JÁNOS", "KOVÁCS"]),
        ("I am waiting for a refund: Best,\nRareș Cristea", ["Rareș", "Cristea"]),
    ],
)
def test_round5_person_cues(text, secrets):
    _assert_replaced(text, secrets, "{{PERSON}}")


def test_round5_person_cues_leave_words_alone():
    for text in ("I signed up for it", "a gift for Christmas", "it is for Spotify Premium", "ask for Klarna at checkout",
                 "my wife and I need help", "my son wants a refund"):
        assert pii.scrub(text, ner=False).text == text


@pytest.mark.parametrize(
    "text, secrets",
    [
        ("drop-off at Kossuth utca 247.\nH-4939 Hátfalva", ["Kossuth", "247", "4939", "Hátfalva"]),
        ("shipping address - Hajdúmindszenti utca 150.", ["Hajdúmindszenti"]),
        ("Zavojna 5a/2\n42079 Gospić (that's my new place). help", ["Zavojna", "42079", "Gospić"]),
        ("Štefančeva ulica 228, 6622 Radeče. ok", ["Štefančeva", "6622", "Radeče"]),
        ("drop-off at Soseaua Nistor Nr. 211, Cajvana, 972953", ["Nistor", "211", "972953"]),
        ("I'm at Nobelova 8\n891 52 Veľké Dvorany until June", ["Nobelova", "891 52", "Dvorany"]),
        ("drop-off at Cl. 144 # 37C-44 please", ["144", "37C-44"]),
        ("the courier went to Diag. La Pampa N° 39, 94103594 Santiago del Estero instead", ["Pampa", "94103594"]),
        ("shipping address - Aleea Mina Nistor Nr. 651 Bl. 58  Sc. 10 Ap. 441", ["Mina", "651", "441"]),
    ],
)
def test_round5_address_cues_street_words_and_lines(text, secrets):
    _assert_replaced(text, secrets, "{{ADDRESS}}")


def test_round5_street_abbreviations_that_are_units_stay():
    for text in ("I have 2 tv. Sony and one LG", "I bought a 33 cl. Coke", "it was 2909 kr. DOB not needed"):
        assert "{{ADDRESS}}" not in pii.scrub(text, ner=False).text


@pytest.mark.parametrize(
    "text, secrets",
    [
        ("my e-mail address: mailto:francopablo@example.com", ["mailto", "francopablo"]),
        ("my contact is justinajanockova AT tupy DOT sk", ["justinajanockova", "tupy"]),
        ("email me at kostanickatica @ yahoo . hr", ["kostanickatica"]),
        ("write to baloghlaszlo[at]citromail[dot]hu for the label", ["baloghlaszlo", "citromail"]),
        ("email me at rozalianemeth (at) freemail.hu", ["rozalianemeth", "freemail"]),
        ("reach me via hardingjoyce at yahoo dot co dot uk thanks", ["hardingjoyce", "uk"]),
    ],
)
def test_round5_emails_with_country_domains_and_links(text, secrets):
    _assert_replaced(text, secrets, "{{EMAIL}}")


@pytest.mark.parametrize(
    "text, secrets",
    [
        ("card 4539148803436467, good through 03/32, code 597", ["03/32", "597"]),
        ("card *7908, good through 03 32, code 597", ["03 32", "597"]),
        ("the card is 4539148803436467, expiry date January '31, the 3 digits on the back are 112",
         ["January '31", "112"]),
        ("card last four 4348, good through 12-29, code 238", ["12-29", "238"]),
        ("*2619 - Jan/31 - cvv2: 321", ["Jan/31", "321"]),
    ],
)
def test_round5_card_expiry_and_cvv_shapes(text, secrets):
    _assert_replaced(text, secrets, "{{CARD_EXPIRY}}")


@pytest.mark.parametrize(
    "text, secrets, placeholder",
    [
        ("is delivery free for 8764?", ["8764"], "{{POSTCODE}}"),
        ("we moved, the new code is 922 21", ["922 21"], "{{POSTCODE}}"),
        ("my new number is 031.730.657, the old one is gone", ["730"], "{{PHONE}}"),
    ],
)
def test_round5_postcode_cues_and_dotted_phones(text, secrets, placeholder):
    _assert_replaced(text, secrets, placeholder)


def test_round5_a_code_named_as_an_area_is_on_the_same_line():
    # "flight PR 1671\npost code: …": the cue on the next line names the next value, not the flight
    assert pii.scrub("flight PR 1671\npost code: 042 24", ner=False).text == "flight PR 1671\npost code: {{POSTCODE}}"
    assert pii.scrub("we are in the 2000 area", ner=False).text == "we are in the {{POSTCODE}} area"


# ---------------------------------------------------------------------------
# Round 6: the look-alikes of held-out v5 (now development data) — codes that name things
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Will Screwfix replace the EW6F4843BB or repair it?",
        "the samsung wf45b6300aw washer leaks from the door",
        "Just wondering, the XR-55A80L I bought from Wendy's is faulty",
        "S02E05 keeps buffering on the Hulu app",
        "the engineer said 9.30am but came at 14:45",
        "My Whole Foods delivery slot moved to 11:15",
        "My Deezer delivery slot moved to half past 3",
        "My DAZN delivery slot moved to between 8 and 12",
        "My Tesco delivery slot moved to 8 in the morning",
    ],
)
def test_round6_models_episodes_and_times_stay(text):
    assert pii.scrub(text, ner=False).text == text


@pytest.mark.parametrize(
    "text, secrets",
    [
        ("what happened to 5V6X8G8O?", ["5V6X8G8O"]),  # no determiner: a code of one's own
        ("the order AB12345 is late", ["AB12345"]),  # a determiner, but an identifier's cue after it
        ("the tax id FLTPTZ48S19L258B for the invoice", ["FLTPTZ48S19L258B"]),
        ("please deliver to 12 Baker Street, London", ["12 Baker Street"]),
    ],
)
def test_round6_codes_and_addresses_with_a_cue_still_go(text, secrets):
    scrubbed = pii.scrub(text, ner=False).text
    assert all(secret not in scrubbed for secret in secrets), scrubbed


# ---------------------------------------------------------------------------
# Round 7: clean text of another domain (SNIPS and HWU64 as development data) — works, their
# makers, venues, places asked about, charts and year ranges
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Play The Happy Blues by Ronnie Wood.",
        "play a tune by Syreeta Wright from twenties from the top",
        "I want to listen to a popular melody by David Bazan",
        "add elastic love to This Is Stormzy",
        "add Jonathan Sprout album to my this is miranda lambert playlist",
        "please put this track onto letha's signed xoxo playlist",
        "add song to my eletro br playlist",
        "I'd like to move the artist named Matt Walker to the playlist grandes unplugged",
        "look for the show named Chestnut Mare",
        "Can you tell me the weather conditions for Patricia",
        "What's the forecast for KS for Jan. first?",
        "Show me the movie schedules for Santikos Theatres.",
        "Show the times for Cheers for Miss Bishop at Dipson Theatres.",
        "Find a television show called Merced Sun-Star.",
        "rate Goodbye, Mr. Chips one stars",
        "Add Waltz for Debby to my Soft Pop Hits playlist.",
        "Add this tune to my Top 100 Rock Tracks on Spotify",
        "Play me a 1990 sound track",
        "River Secrets deserves a best rating of 6 but zero points",
        "I want a table for 5 next fall om Curacao",
        "evangeline and petra cooper want to go to a restaurant in 9 years",
        "add time flies 1994-2009 to the Jazzy Romance playlist",
        "where is The Persecution of the Jews in Europe 1933-45 playing",
    ],
)
def test_round7_works_makers_venues_and_charts_stay(text):
    assert pii.scrub(text, ner=False).text == text


@pytest.mark.parametrize(
    "text, secrets",
    [
        ("the parcel was signed for by Anna Kowalski", ["Kowalski"]),  # a person who did something to an order
        ("the book I ordered was sent by Maria Rossi instead", ["Rossi"]),
        ("Regards, Anna Berg", ["Anna Berg"]),  # a sign-off still takes the name
        ("My name is Jan Kowalski and the order never came", ["Kowalski"]),
        ("please deliver to 12 Baker Street, London", ["12 Baker Street"]),
        ("it should go to 4 Oak Close, Leeds", ["4 Oak Close"]),  # a capitalised street word stays a street
        ("call me on 0161 496 0018", ["0161 496 0018"]),
        ("my reference is 1994-2009-77", ["1994-2009-77"]),  # not a year range
    ],
)
def test_round7_people_streets_and_numbers_still_go(text, secrets):
    scrubbed = pii.scrub(text, ner=False).text
    assert all(secret not in scrubbed for secret in secrets), scrubbed


# ---------------------------------------------------------------------------
# Round 8: v7's clean rows (development data since it was scored once) — amounts in any currency,
# numbered things and places in a building, time ranges, days without a year, sizes, a trailing
# emoji, honorific shop names with a branch's place or opening hours
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "the bridal order is 340 лв., the quote said 290",
        "my order is 1,250,000 rials but the shop quoted less",
        "the order is 180 GEL, quote said AED 205",
        "ORDER IS 75 BGN NOT 57",
        "Menu item #52 says 700 kcal, is that right?",
        "parked in bay K-204 on level 3 and the app shows another bay",
        "locker 1042 at the gym will not open",
        "pickup window is 09:00-13:00 tomorrow",
        "will my order of flyers be ready by 14/06?",
        "Our studio is on the 4th floor, the courier left it downstairs",
        "62 m² flat near the metro, is it still free?",
        "the viewing got moved to 17:30 🏠",
        "Does Mr. Noodle in Brooklyn deliver after midnight?",
        "Dr. Bubble is open 9-18 on Sundays?",
    ],
)
def test_round8_amounts_numbered_things_times_and_shop_names_stay(text):
    assert pii.scrub(text, ner=False).text == text


@pytest.mark.parametrize(
    "text, secrets",
    [
        ("order 55512345 cost 147 GEL", ["55512345"]),  # the amount is the money, not the order number before it
        ("CALL 0412 345 678 ALL DAY", ["0412 345 678"]),  # ALL (the lek) is no currency in capitals here
        ("my order #12/05/7788 is late", ["12/05/7788"]),  # a day and a month only when nothing follows
        ("my address is Floor 3, 12 Baker Street, London", ["12 Baker Street"]),
        ("Our office is on floor 17 at 221 Baker Street", ["221 Baker Street"]),
        ("ship it to 45 High Street, Leeds 😀", ["45 High Street"]),
        ("my appointment with Dr. Smith is open ended", ["Smith"]),  # "is open" without hours: a person
        ("Dr. Patel in Leeds delivered my baby", ["Patel"]),
        ("Mr. Smith in Accounts refunded me twice", ["Smith"]),
        # a form's "(MM/YY)" between the expiry cue and the date
        ("card ending 7270 Expiry (MM/YY) 07/26 Security code 805", ["07/26", "805"]),
    ],
)
def test_round8_ids_addresses_and_people_still_go(text, secrets):
    scrubbed = pii.scrub(text, ner=False).text
    assert all(secret not in scrubbed for secret in secrets), scrubbed
