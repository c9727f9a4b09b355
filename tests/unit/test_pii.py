"""PII scrubber: Bitext rows whose entity must vanish, formats no Bitext row has, and ordinary
utterances that must come out unchanged."""

from __future__ import annotations

import csv

import pytest

from ecc_workloads.data import datasets
from ecc_workloads.pii import scrubber

BITEXT = datasets.bitext_csv()


@pytest.mark.parametrize(
    "text, secret, placeholder",
    [
        # real Bitext rows (order, invoice, person; a fragment value; glued typo)
        ("how can I cancel purchase 113542617735902?", "113542617735902", "{{ORDER_ID}}"),
        ("i want assistance checking purchase 370795561790 status", "370795561790", "{{ORDER_ID}}"),
        ("want help getting bill #00108", "00108", "{{INVOICE_ID}}"),
        ("can i get my bill rfom Anna Freeman", "Freeman", "{{PERSON}}"),
        ("I need help t check the invoices from Mr. Smith", "Smith", "{{PERSON}}"),
        ("I do not know what to do to find the bills fromAnna Freeman", "Anna", "{{PERSON}}"),
        # formats the corpus never shows
        ("my order ORD-2024-77812 never arrived", "77812", "{{ORDER_ID}}"),
        ("invoice INV/2024/0001 is wrong", "0001", "{{INVOICE_ID}}"),
        ("please write to jo.doe+shop@mail.example.co.uk", "jo.doe", "{{EMAIL}}"),
        ("call me on +44 20 7946 0958 tomorrow", "7946", "{{PHONE}}"),
        ("my number is (555) 123-4567", "123-4567", "{{PHONE}}"),
        ("reach me at 0049 30 1234567", "1234567", "{{PHONE}}"),
        ("my name is jean-luc picard and I need help", "picard", "{{PERSON}}"),
        ("Hi, I'm Sarah O'Neil, where is my parcel", "O'Neil", "{{PERSON}}"),
        ("ship it to 221B Baker Street, London NW1 6XE", "Baker", "{{ADDRESS}}"),
        ("I moved to Hauptstraße 5, 10115 Berlin", "Hauptstraße", "{{ADDRESS}}"),
        ("deliver to 12, rue de la Paix, 75002 Paris", "Paix", "{{ADDRESS}}"),
        ("my card 4111 1111 1111 1111 was charged twice", "1111", "{{CARD}}"),
    ],
)
def test_personal_data_vanishes(text, secret, placeholder):
    result = scrubber.scrub(text)
    assert secret.lower() not in result.text.lower(), result.text
    assert placeholder in result.text
    assert all(text[s.start:s.end] == s.value for s in result.spans)


@pytest.mark.parametrize(
    "text",
    [
        "i paid $1499 for this item help getting a compensation",
        "reimburse 350 dollars",
        "getting invoice from 8 months ago",
        "I want to change my Platinum account to Gold",
        "ship my order to Toronto",
        "this is urgent, I'm very unhappy with the service",
        "the package was delivered on 12/05/2024 at 10:30",
        "I have not signed up yet, I try to create a free account",
        "can I pay via PayPal or with a Visa card?",
        "how do I track order number two of my last 3 purchases",
        "is 24/7 support available for Premium users?",
    ],
)
def test_ordinary_utterances_unchanged(text):
    assert scrubber.scrub(text).text == text


def test_placeholders_are_kept_and_scrubbing_is_idempotent():
    text = "Your order {{Order Number}} ships to {{Delivery City}}; call 020 7946 0958"
    once = scrubber.scrub_text(text)
    assert "{{Order Number}}" in once and "{{Delivery City}}" in once and "{{PHONE}}" in once
    assert scrubber.scrub_text(once) == once


def test_bitext_annotated_entities_all_vanish_with_no_false_positives():
    rows = list(csv.DictReader(BITEXT.open(newline="", encoding="utf-8")))
    entities = [
        scrubber.AnnotatedEntity(r["instruction"], r["entity_type"], r["entity_value"], int(r["start_offset"]), int(r["end_offset"]))
        for r in rows
        if r["entity_type"]
    ]
    plain = [r["instruction"] for r in rows if not r["entity_type"]]
    report = scrubber.score_annotated(entities, plain, {"order_id", "invoice_id", "person_name"})
    assert report["recall"]["order_id"]["total"] == 473
    for kind in ("order_id", "invoice_id", "person_name"):
        assert report["recall"][kind]["recall"] >= 0.99, report["missed_examples"]
    for category, cell in report["precision"].items():
        assert cell["precision"] >= 0.9, (category, report["false_positive_examples"])


def test_locate_entity_widens_fragment_to_whole_token():
    ent = scrubber.AnnotatedEntity("i want assistance checking purchase 370795561790 status", "order_id", "3707955617", 36, 48)
    start, end = scrubber.locate_entity(ent)
    assert ent.text[start:end] == "370795561790"
    assert scrubber.value_survives("purchase 370795561790", "370795561790")
    assert not scrubber.value_survives("purchase {{ORDER_ID}}", "370795561790")


def test_score_rows_counts_false_positive_and_miss():
    rows = [("call me on +44 20 7946 0958", [("phone", (11, 27))]), ("my name is Bob", [])]
    report = scrubber.score_rows(rows, criterion="coverage")
    assert report["recall"]["phone"]["recall"] == 1.0
    assert report["precision"]["person"]["precision"] == 0.0  # Bob was not annotated: counted against
    with pytest.raises(ValueError, match="criterion"):
        scrubber.score_rows(rows, criterion="offsets")
