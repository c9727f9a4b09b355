"""PII scrubber on the formats the issue reported leaking, obfuscation, clean text from other
domains, and the two paths (rules on the edge, rules + NER for ``ecc corpus prepare``)."""

from __future__ import annotations

import pytest

from ecc_workloads import pii, pii_names
from ecc_workloads.pii_norm import normalise


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
    result = pii.scrub(text, ner=False)
    for secret in secrets:
        assert secret.lower() not in result.text.lower(), result.text
    assert placeholder in result.text, result.text
    # offsets and values refer to the ORIGINAL text, invisible characters included
    assert all(text[s.start:s.end] == s.value for s in result.spans)


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
    from ecc_workloads import datacard
    from ecc_workloads.corpus import BITEXT_SPEC, CleanReport

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
