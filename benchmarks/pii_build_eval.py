"""Build the PII evaluation sets ONCE, from independent sources, before the scrubber is run on them.

Writes ``benchmarks/pii_data/``:

- ``injected_dev.jsonl``      personal data made by Faker in the *development* locales
                              (en_US, de_DE, fr_FR) through the *development* templates;
- ``injected_heldout.jsonl``  the same types in six *other* locales (en_GB, en_IE, es_ES, it_IT,
                              nl_NL, pt_PT) through templates of their own (other cue words, other
                              positions, lower case, obfuscation): formats held out from development;
- ``injected_heldout_v2`` / ``clean_heldout_v2`` (round 2; development data since round 3),
  ``injected_heldout_v3`` / ``clean_heldout_v3`` (round 3; development data since round 4) and
  ``injected_heldout_v4`` / ``clean_heldout_v4`` (round 4; development data since round 5),
  ``injected_heldout_v5`` / ``clean_heldout_v5`` (round 5; development data since round 6),
  ``injected_heldout_v6`` / ``clean_heldout_v6`` (round 6; development data since round 7),
  ``injected_heldout_v7`` / ``clean_heldout_v7`` (round 7; scored once, development data since),
  ``injected_heldout_v8`` / ``clean_heldout_v8`` (round 8) and
  ``injected_heldout_v9`` / ``clean_heldout_v9`` (round 9, the newest held-out sets): see the
  sections "Held-out set v2", "v3", "v4", "v5", "v6", "v7", "v8" and "v9" below;
- ``clean_dev.jsonl`` / ``clean_heldout.jsonl``  customer-service sentences from other domains
                              (banking, travel, telecom, retail, a general assistant) rich in brand,
                              product, currency, payment-method and place names, with NO personal
                              data: every span found there is a false positive.

Each row: ``{"text", "entities": [{"type", "start", "end"}], "locale", "template", "set"}``.
The host utterances are Bitext rows without annotated entities (the corpus the project trains
on); the clean sentences are written here from the word lists below, which were written without
running the scrubber. The files are data: the benchmark reads them, nobody edits them row by row.

    python benchmarks/pii_build_eval.py [--v1|--v2|--v3|--v4|--v5|--v6|--v7|--v8]   # default: v9; PYTHONHASHSEED is pinned (Faker draws from sets)
"""

from __future__ import annotations

import csv
import json
import os
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ecc_workloads.data.datasets import bitext_csv  # noqa: E402

OUT = Path(__file__).with_name("pii_data")
DEV_LOCALES = ["en_US", "de_DE", "fr_FR"]
HELDOUT_LOCALES = ["en_GB", "en_IE", "es_ES", "it_IT", "nl_NL", "pt_PT"]
# Which locales have a national identifier of their own in Faker (others fall back to a US SSN).
NATIONAL_ID = {
    "en_US": lambda f: f.ssn(),
    "fr_FR": lambda f: f.ssn(),
    "de_DE": None,
    "en_GB": lambda f: f.ssn(),  # National Insurance number
    "it_IT": lambda f: f.ssn(),  # codice fiscale
    "nl_NL": lambda f: f.ssn(),  # BSN
    "es_ES": lambda f: f.random_element([f.nif, f.nie])(),
    "en_IE": None,
    "pt_PT": None,
}

TYPES = ["PERSON", "EMAIL", "PHONE", "ADDRESS", "POSTCODE", "DATE_OF_BIRTH", "IP_ADDRESS", "IBAN",
         "NATIONAL_ID", "USERNAME", "CARD", "CARD_EXPIRY", "CARD_CVV", "ORDER_ID"]

# ---------------------------------------------------------------------------
# Templates. {v} is the value. Development and held-out templates differ in cue words and shape.
# ---------------------------------------------------------------------------
DEV_TEMPLATES: dict[str, list[str]] = {
    "PERSON": ["my name is {v}", "Regards, {v}", "this is {v}", "Mr. {v} ordered it", "I'm {v}",
               "the account is under {v}", "name: {v}", "Thanks, {v}"],
    "EMAIL": ["my email is {v}", "contact me at {v}", "send it to {v}", "e-mail: {v}"],
    "PHONE": ["call me on {v}", "my number is {v}", "phone: {v}", "text me at {v}"],
    "ADDRESS": ["ship it to {v}", "my address is {v}", "I live at {v}", "deliver to {v}"],
    "POSTCODE": ["my postcode is {v}", "zip code {v}", "postal code: {v}"],
    "DATE_OF_BIRTH": ["my date of birth is {v}", "DOB: {v}", "I was born on {v}"],
    "IP_ADDRESS": ["my IP address is {v}", "the login came from {v}", "IP: {v}"],
    "IBAN": ["my IBAN is {v}", "refund to IBAN {v}", "account {v}"],
    "NATIONAL_ID": ["my social security number is {v}", "SSN: {v}", "my national ID is {v}"],
    "USERNAME": ["my username is {v}", "login: {v}", "user name {v}"],
    "CARD": ["my card {v} was charged twice", "card number {v}", "I paid with {v}"],
    "ORDER_ID": ["order {v}", "my order number is {v}", "invoice #{v}", "ref {v}"],
}
HELDOUT_TEMPLATES: dict[str, list[str]] = {
    "PERSON": ["{v} here, my parcel is late", "please put the refund in the name of {v}",
               "Dr. {v} said I should ask", "the delivery was signed for by {v}",
               "can you update the cardholder to {v}", "hello, it's {v} again",
               "Best wishes\n{v}", "Ms {v} is my mother and she placed the order",
               "kind regards {v}", "who is {v}? I never authorised that person"],
    "EMAIL": ["drop me a line: {v}", "{v} is my address for receipts", "change my login email to {v}",
              "mail {v} the invoice", "reach me via {v} thanks"],
    "PHONE": ["ring {v} if the courier is lost", "{v} is my mobile", "whatsapp {v}",
              "my landline: {v}", "reach me on {v} in the evening"],
    "ADDRESS": ["the new billing address is {v}", "please send the replacement to {v}",
                "{v} is where I live now", "courier should drop it at {v}", "home: {v}"],
    "POSTCODE": ["I live in {v}, can you deliver?", "is {v} in your delivery area",
                 "my post code is {v}", "area code for delivery {v}"],
    "DATE_OF_BIRTH": ["born {v}, please verify my age", "my birthday is {v}",
                      "date of birth {v} for the account check", "birth date: {v}"],
    "IP_ADDRESS": ["someone at {v} logged in as me", "access blocked for address {v}",
                   "whitelist {v} please", "last login {v}"],
    "IBAN": ["pay it into {v}", "bank account (IBAN) {v}", "transfer the refund to {v} please",
             "{v} is my account for the direct debit"],
    "NATIONAL_ID": ["my NI number is {v}", "tax id {v} for the invoice", "ID number: {v}",
                    "they asked for my personal number, it's {v}", "codice fiscale / NIF {v}"],
    "USERNAME": ["I sign in as {v}", "my handle is @{v}", "account name {v} is locked",
                 "user: {v}", "my user id is {v}"],
    "CARD": ["charge {v} instead", "the card ending {v} was declined", "{v} is the new card",
             "use card {v} please"],
    "ORDER_ID": ["what happened to {v}?", "tracking {v}", "purchase no {v}", "the order {v} is wrong",
                 "receipt {v}"],
}


def _person(f, rng: random.Random, heldout: bool) -> str:
    first, last = f.first_name(), f.last_name()
    r = rng.random()
    if r < 0.3:
        return first if not heldout else f"{first} {last}"
    if heldout and r < 0.5:
        return f"{first} {last}".lower()
    return f"{first} {last}"


def _email(f, rng: random.Random, heldout: bool) -> str:
    email = rng.choice([f.email, f.free_email, f.company_email])()
    if not heldout:
        return email
    r = rng.random()
    local, domain = email.split("@")
    if r < 0.25:  # spelled out
        return local.replace(".", " dot ") + " at " + domain.replace(".", " dot ")
    if r < 0.4:
        return f"{local} [at] {domain.replace('.', ' [dot] ')}"
    if r < 0.55:  # a zero-width space inside
        cut = rng.randrange(1, len(local))
        return local[:cut] + "\u200b" + local[cut:] + "@" + domain
    if r < 0.65:  # full-width at sign
        return local + "\uff20" + domain
    return email


def _phone(f, rng: random.Random, heldout: bool) -> str:
    if heldout and rng.random() < 0.3:
        return f.msisdn() if f.msisdn()[:1] != "0" else f.phone_number()
    return f.phone_number()


def _address(f, rng: random.Random, heldout: bool) -> str:
    if not heldout:
        return f.street_address() if rng.random() < 0.5 else ", ".join(
            line.strip() for line in f.address().splitlines() if line.strip())
    r = rng.random()
    if r < 0.3:
        return f"Flat {rng.randint(1, 40)}, {f.street_address()}, {f.postcode()} {f.city()}"
    if r < 0.6:
        return ", ".join(line.strip() for line in f.address().splitlines() if line.strip())
    return f.street_address()


def _dob(f, rng: random.Random, heldout: bool) -> str:
    d = f.date_of_birth(minimum_age=18, maximum_age=90)
    dev = ["%d/%m/%Y", "%Y-%m-%d", "%B %d, %Y"]
    held = ["%d.%m.%Y", "%d %B %Y", "%m/%d/%y", "%d-%b-%Y", "%-d %b %Y", "%dth of %B %Y"]
    pattern = rng.choice(held if heldout else dev)
    return d.strftime(pattern.replace("%dth", f"{d.day}th").replace("%-d", str(d.day)))


def _iban(f, rng: random.Random, heldout: bool) -> str:
    iban = f.iban()
    if heldout and rng.random() < 0.6:
        return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    return iban


def _card(f, rng: random.Random, heldout: bool) -> str:
    number = f.credit_card_number()
    if heldout and rng.random() < 0.5:
        return " ".join(number[i:i + 4] for i in range(0, len(number), 4))
    return number


def _value(f, kind: str, rng: random.Random, heldout: bool) -> str | None:
    if kind == "PERSON":
        return _person(f, rng, heldout)
    if kind == "EMAIL":
        return _email(f, rng, heldout)
    if kind == "PHONE":
        return _phone(f, rng, heldout)
    if kind == "ADDRESS":
        return _address(f, rng, heldout)
    if kind == "POSTCODE":
        return f.postcode()
    if kind == "DATE_OF_BIRTH":
        return _dob(f, rng, heldout)
    if kind == "IP_ADDRESS":
        return f.ipv4_public() if rng.random() < 0.7 else f.ipv6()
    if kind == "IBAN":
        return _iban(f, rng, heldout)
    if kind == "NATIONAL_ID":
        gen = NATIONAL_ID.get(f._locales[0])
        return gen(f) if gen else None
    if kind == "USERNAME":
        return f.user_name()
    if kind == "CARD":
        return _card(f, rng, heldout)
    if kind == "ORDER_ID":
        shapes = ["ORD-########", "###-#######-#######", "INV/20##/####", "W#########", "??########"]
        if heldout:
            shapes = ["#########", "PO-####-###", "SO#######", "??-##-#####", "#?#?#?#?", "R-#####-##",
                      "A########", "2024-######", "CS#######"]
        return f.bothify(rng.choice(shapes)).upper()
    raise ValueError(kind)


def _card_with_details(f, rng: random.Random, heldout: bool) -> tuple[str, list[tuple[str, int, int]]]:
    """A card with its expiry and CVV (full or masked number): the fragment and its entities."""
    number = _card(f, rng, heldout)
    masked = rng.random() < 0.5
    shown = ("**** **** **** " + number.replace(" ", "")[-4:]) if masked else number
    expiry = f.credit_card_expire()
    cvv = f.credit_card_security_code()
    if heldout:
        shapes = ["card {n}, valid thru {e}, security code {c}", "{n} exp. {e} cvc {c}",
                  "card no. {n} / {e} / CVV2 {c}"]
    else:
        shapes = ["card {n} expiry {e} CVV {c}", "{n}, exp {e}, cvv {c}"]
    shape = rng.choice(shapes)
    out, ents = "", []
    i = 0
    while i < len(shape):
        if shape.startswith("{n}", i) or shape.startswith("{e}", i) or shape.startswith("{c}", i):
            key = shape[i + 1]
            value = {"n": shown, "e": expiry, "c": cvv}[key]
            kind = {"n": "CARD", "e": "CARD_EXPIRY", "c": "CARD_CVV"}[key]
            if not (key == "n" and masked):
                ents.append((kind, len(out), len(out) + len(value)))
            out += value
            i += 3
        else:
            out += shape[i]
            i += 1
    return out, ents


NEGATIVES = [
    ("I was charged {v}", lambda f, r: f"${r.randint(1, 999)}.{r.randint(0, 99):02d}"),
    ("it was {v} euros", lambda f, r: str(r.randint(2, 2500))),
    ("on {v}", lambda f, r: f.date(pattern=r.choice(["%d/%m/%Y", "%Y-%m-%d", "%B %d", "%d %B %Y"]))),
    ("at {v}", lambda f, r: f.time(pattern=r.choice(["%H:%M", "%I:%M %p"]))),
    ("shipping to {v}", lambda f, r: f.city()),
    ("in {v}", lambda f, r: f.country()),
    ("paid in {v}", lambda f, r: f.currency_code()),
    ("app version {v}", lambda f, r: f"{r.randint(1, 19)}.{r.randint(0, 12)}.{r.randint(0, 40)}"),
    ("my {v} broke", lambda f, r: r.choice(["iPhone 15", "Galaxy S24", "ThinkPad X1", "PS5", "Pixel 8a"])),
]


def _hosts() -> list[str]:
    rows = list(csv.DictReader(bitext_csv().open(newline="", encoding="utf-8")))
    return [r["instruction"].strip() for r in rows if not r["entity_type"] and "{{" not in r["instruction"]]


def build_injected_v1(locales: list[str], templates: dict[str, list[str]], heldout: bool, n_per_type: int,
                      seed: int, hosts: list[str]) -> list[dict]:
    from faker import Faker

    rng = random.Random(seed)
    fakers = {}
    for i, loc in enumerate(locales):
        fk = Faker(loc)
        fk.seed_instance(seed * 31 + i)
        fakers[loc] = fk
    rows = []
    kinds = [k for k in TYPES if k not in ("CARD_EXPIRY", "CARD_CVV")]
    for kind in kinds:
        made = 0
        tries = 0
        while made < n_per_type and tries < n_per_type * 20:
            tries += 1
            loc = rng.choice(locales)
            fk = fakers[loc]
            if kind == "CARD" and rng.random() < 0.4:
                fragment, ents = _card_with_details(fk, rng, heldout)
                template = "card+details"
            else:
                value = _value(fk, kind, rng, heldout)
                if value is None:
                    continue
                template = rng.choice(templates[kind])
                head, tail = template.split("{v}")
                fragment = head + value + tail
                ents = [(kind, len(head), len(head) + len(value))]
            host = rng.choice(hosts).rstrip(".?! ")
            if rng.random() < 0.5:
                neg_t, neg_v = rng.choice(NEGATIVES)
                host = f"{host}, {neg_t.replace('{v}', neg_v(fk, rng))}"
            if rng.random() < 0.5:
                text, shift = f"{host}. {fragment}", len(host) + 2
            else:
                text, shift = f"{fragment}. {host}", 0
            rows.append({
                "text": text,
                "entities": [{"type": k, "start": s + shift, "end": e + shift} for k, s, e in ents],
                "locale": loc, "template": template, "set": "heldout" if heldout else "dev",
            })
            made += 1
    return rows


# ---------------------------------------------------------------------------
# Clean sentences: no personal data, many names of things.
# ---------------------------------------------------------------------------
BRANDS = ["Apple Pay", "Google Pay", "PayPal", "Samsung Pay", "Revolut", "Wise", "Venmo", "Zelle",
          "Cash App", "Klarna", "Afterpay", "Western Union", "MoneyGram", "American Express", "Visa",
          "Mastercard", "Maestro", "Discover", "Diners Club", "Alipay", "WeChat Pay", "Skrill",
          "Apple Watch", "Amazon Prime", "Netflix", "Spotify Premium", "Disney Plus", "Uber Eats",
          "Deliveroo", "Airbnb", "Booking.com", "Expedia", "Ryanair", "EasyJet", "Lufthansa",
          "British Airways", "Air France", "Vodafone", "Orange", "Deutsche Telekom", "Virgin Media",
          "Sky Broadband", "Microsoft Teams", "Google Drive", "iCloud", "Dropbox", "Nintendo Switch",
          "PlayStation Plus", "Xbox Game Pass", "Fitbit", "Garmin", "Kindle Unlimited", "Audible",
          "Coinbase", "Binance", "Monzo", "Starling", "N26", "Chase Sapphire", "Capital One",
          "Bank of America", "Wells Fargo", "HSBC", "Barclays", "Santander", "ING", "BNP Paribas",
          "Sparkasse", "Tesco Clubcard", "Nectar points", "IKEA Family", "Home Depot", "Best Buy",
          "Walmart Plus", "Target Circle", "Costco", "Shopify", "Etsy", "eBay", "Zalando", "ASOS",
          "H&M", "Nike Run Club", "Adidas", "Lego Technic", "Dyson V15", "Philips Hue", "Sonos Era",
          "Bose QuietComfort", "Tesla Model 3", "Google Nest", "Ring Doorbell", "Peloton", "Oura Ring"]
PRODUCTS = ["iPhone 15 Pro", "Galaxy S24 Ultra", "Pixel 8a", "MacBook Air", "ThinkPad X1 Carbon",
            "Surface Pro", "AirPods Max", "Kindle Paperwhite", "Echo Dot", "Fire TV Stick",
            "Apple Pencil", "Steam Deck", "Meta Quest 3", "GoPro Hero", "Instant Pot",
            "Nespresso Vertuo", "KitchenAid mixer", "Roomba", "Canon EOS R6", "Nikon Z6"]
CURRENCIES = [("US dollars", "USD"), ("euros", "EUR"), ("British pounds", "GBP"), ("Swiss francs", "CHF"),
              ("Japanese yen", "JPY"), ("Canadian dollars", "CAD"), ("Australian dollars", "AUD"),
              ("Mexican pesos", "MXN"), ("Indian rupees", "INR"), ("Polish zloty", "PLN"),
              ("Swedish krona", "SEK"), ("Turkish lira", "TRY"), ("Brazilian real", "BRL"),
              ("South African rand", "ZAR"), ("Chinese yuan", "CNY"), ("Hong Kong dollars", "HKD"),
              ("Singapore dollars", "SGD"), ("Danish kroner", "DKK"), ("Norwegian krone", "NOK"),
              ("Czech koruna", "CZK"), ("Hungarian forint", "HUF"), ("Thai baht", "THB"),
              ("UAE dirham", "AED"), ("Bitcoin", "BTC"), ("Ethereum", "ETH")]
PLACES = ["London", "New York", "San Francisco", "Los Angeles", "Buenos Aires", "Rio de Janeiro",
          "Mexico City", "Hong Kong", "Kuala Lumpur", "Cape Town", "Tel Aviv", "Abu Dhabi", "Las Vegas",
          "New Delhi", "Sao Paulo", "Saint Petersburg", "Santa Monica", "Palm Springs", "Salt Lake City",
          "Frankfurt", "Munich", "Paris", "Lyon", "Madrid", "Barcelona", "Lisbon", "Porto", "Rome",
          "Milan", "Amsterdam", "Rotterdam", "Dublin", "Cork", "Edinburgh", "Manchester", "Tokyo",
          "Sydney", "Toronto", "Vancouver", "Chicago", "Boston", "Singapore", "Dubai", "Istanbul",
          "Costa Rica", "Puerto Rico", "New Zealand", "South Korea", "Sri Lanka", "El Salvador",
          "Saudi Arabia", "the United Kingdom", "the Czech Republic", "Heathrow Terminal 5",
          "Gatwick", "JFK", "Charles de Gaulle", "Grand Central", "Times Square", "Union Station"]
CLEAN_TEMPLATES = [
    "Can I top up my account with {brand}?", "Why was my {brand} payment declined?",
    "I want to exchange {cur} for {cur2}, what is the rate?", "How much does it cost to send {cur} to {place}?",
    "Is {brand} accepted as a payment method?", "My {product} arrived broken, how do I return it?",
    "Do you ship the {product} to {place}?", "Can I pay for the {product} with {brand}?",
    "I bought a {product} in {place} and the warranty does not work", "Why did {brand} charge me in {code}?",
    "Please convert 200 {code} to {code2}", "What is the fee for paying in {code} abroad?",
    "I am travelling to {place} next week, will my card work there?",
    "How do I link my {brand} account?", "The {brand} app keeps logging me out",
    "Does the {product} come with a charger?", "Can I cancel my {brand} subscription?",
    "My transfer to {place} has been pending for 3 days", "I was charged twice by {brand} for the {product}",
    "Is there a store near {place} where I can pick up my {product}?",
    "Can I get cash back in {cur} at the airport in {place}?", "Which is cheaper, {brand} or {brand2}?",
    "I lost my card in {place}, please freeze it", "Does my plan include roaming in {place}?",
    "How long does a refund to {brand} take?", "Can I use {brand} to buy a {product}?",
    "Set a reminder to pay the {brand} bill on Friday", "What's the weather like in {place} tomorrow?",
    "Book a table for two in {place} at 7pm", "Play something by Taylor Swift on {brand}",
    "How many {cur} is 50 {cur2}?", "Add the {product} to my shopping list",
    "Why is my {brand} balance showing {code} instead of {code2}?",
    "My flight from {place} to {place2} was cancelled, can I get a refund?",
    "The {product} I ordered from {brand} never arrived", "Turn off the {brand} notifications",
    "I want to upgrade from the {product} to a newer model", "Is {brand} available in {place}?",
]
FREE_CLEAN = [
    "I want to pay with Apple Pay but the option is greyed out",
    "Can I use my American Express card at Costco?", "The Western Union transfer to Manila is stuck",
    "How do I exchange Swiss francs for Japanese yen?", "Why does Google Pay say my card is not supported?",
    "Top up with Revolut failed again", "I ordered the Samsung Galaxy Tab and got the wrong colour",
    "Can Klarna split the payment into three instalments?", "My Visa Debit card was declined in Buenos Aires",
    "Is there a Vodafone shop in Dublin city centre?", "Do you accept Diners Club or JCB?",
    "I need a receipt for my Uber Eats order", "How do I reset my Apple ID password?",
    "Transfer 300 GBP to my EUR account", "What is the exchange rate from USD to MXN today?",
    "Will my Monzo card work in New Zealand?", "Can I withdraw Hong Kong dollars at the ATM?",
    "The Nintendo Switch I bought on Black Friday is faulty", "My Chase Sapphire points did not post",
    "Send the parcel by Royal Mail Special Delivery", "Can DHL Express deliver to Cape Town?",
    "What time does the Bank of America branch on Main Street open?", "Is Booking.com charging me in Thai baht?",
    "I'd like to add Spotify Premium to my Vodafone bill", "Why was I charged a Mastercard foreign fee?",
    "Cancel my Amazon Prime Video trial", "How do I move money from PayPal to Wise?",
    "Can I use Google Wallet on a Pixel Watch?", "My Sky Broadband router keeps dropping",
    "Does Microsoft Office come with the Surface Laptop?", "I paid with Afterpay, how do I return the item?",
    "Convert my Tesco Clubcard points into Avios", "Which terminal does Air France use at Heathrow?",
    "The Lufthansa Miles and More card was charged in Swiss francs",
    "Can I pay my Virgin Media bill with a Santander credit card?",
    "Where is the nearest Apple Store in San Francisco?", "How do I change the PIN on my Barclaycard?",
    "I'm travelling to Costa Rica, do I need to tell you?", "Is Bitcoin accepted for the MacBook Pro?",
    "The Dyson Airwrap I ordered came without the comb", "My IKEA delivery to Rotterdam is late",
    "Pay the Deutsche Telekom invoice from my N26 account", "Can I get a Lego Star Wars set gift wrapped?",
    "I want to return the Bose QuietComfort Ultra headphones", "Does Cash App work in the United Kingdom?",
    "Why did the Coinbase withdrawal in Ethereum fail?", "What are the opening hours of the Zara on Oxford Street?",
    "Help me find a Thai restaurant near Union Square", "Remind me to renew Norton Antivirus next month",
    "How do I redeem a Google Play gift card?", "Please play the new Coldplay album on Apple Music",
]


def build_clean(seed: int, n: int, part: int) -> list[dict]:
    """``part`` 0 (development) takes the even-numbered templates and free sentences, 1 (held out)
    the odd-numbered ones: the two clean sets share no template."""
    rng = random.Random(seed)
    free = FREE_CLEAN[part::2]
    templates = CLEAN_TEMPLATES[part::2]
    rows = []
    for i in range(n):
        if i < len(free):
            text, template = free[i], "free"
        else:
            template = rng.choice(templates)
            c1, c2 = rng.sample(CURRENCIES, 2)
            b1, b2 = rng.sample(BRANDS, 2)
            p1, p2 = rng.sample(PLACES, 2)
            text = template.format(brand=b1, brand2=b2, cur=c1[0], cur2=c2[0], code=c1[1], code2=c2[1],
                                   place=p1, place2=p2, product=rng.choice(PRODUCTS))
        if rng.random() < 0.15:
            text = text.lower()
        rows.append({"text": text, "entities": [], "locale": "en", "template": template, "set": "clean"})
    return rows


# ---------------------------------------------------------------------------
# Held-out set v2 (round 2). The round-1 held-out sets were looked at in aggregate while the
# scrubber was improved, so they are development data now (``injected_dev2``, ``clean_dev2``).
# Everything below was written before the scrubber was run on any of it: eight locales used in
# neither earlier set, new templates, new value shapes, new clean sentences, other seeds.
# ---------------------------------------------------------------------------
V2_LOCALES = ["en_AU", "en_CA", "en_NZ", "de_AT", "fr_CH", "sv_SE", "pl_PL", "da_DK"]
V2_NATIONAL_ID = {
    "en_CA": lambda f: f.ssn(),  # SIN
    "de_AT": lambda f: f.ssn(),  # Sozialversicherungsnummer
    "fr_CH": lambda f: f.ssn(),  # AHV/AVS number
    "sv_SE": lambda f: f.ssn(),  # personnummer
    "pl_PL": lambda f: f.pesel(),
}
V2_TEMPLATES: dict[str, list[str]] = {
    "PERSON": ["my partner {v} will collect the parcel", "{v} is the main account holder",
               "can {v} pick it up for me?", "add {v} as an authorised user", "Cheers, {v}",
               "the technician, {v}, never showed up", "please ask for {v} at reception",
               "From: {v}", "Sincerely,\n{v}", "my daughter {v} used my card without asking",
               "I spoke to {v} on the phone yesterday", "Mrs {v} from the billing team said it was fixed"],
    "EMAIL": ["you can email me on {v}", "my work address is {v}, use that one", "cc {v} on the reply",
              "the receipt went to {v} by mistake", "Email: {v}", "update it to {v} please"],
    "PHONE": ["mobile {v}", "you can reach my husband on {v}", "call back on {v} after 5pm",
              "the number on file should be {v}", "tel. {v}", "sms me at {v} when it ships"],
    "ADDRESS": ["my new address: {v}", "it went to my old place at {v}", "collect from {v} tomorrow",
                "delivery address {v}", "I moved to {v} last month", "please post it to {v}"],
    "POSTCODE": ["my postcode's {v}", "do you deliver to {v}?", "ZIP {v}", "the post code on the card is {v}",
                 "we are in the {v} area"],
    "DATE_OF_BIRTH": ["DOB {v}", "my birthdate is {v}", "I'm born on {v}", "d.o.b. {v}",
                      "date of birth: {v} if you need it"],
    "IP_ADDRESS": ["the suspicious login was from {v}", "my router shows {v}", "IP address {v} is mine",
                   "requests from {v} keep failing", "ip {v}"],
    "IBAN": ["IBAN: {v}", "my account number is {v}", "please refund {v}", "the direct debit comes from {v}",
             "send the money to IBAN {v}"],
    "NATIONAL_ID": ["my social insurance number is {v}", "personal ID {v}", "ID no. {v}",
                    "my national identity number: {v}", "they need my {v} for verification"],
    "USERNAME": ["my username's {v}", "logged in as {v}", "my account login is {v}",
                 "I can't access the profile {v}", "gamertag {v}"],
    "CARD": ["my credit card number is {v}", "card {v} was charged", "please bill {v}",
             "the debit card {v} is blocked", "refund it to card {v}"],
    "ORDER_ID": ["order no. {v}", "booking reference {v}", "where is shipment {v}?",
                 "my purchase {v} never came", "reference: {v}"],
}


def _person_v2(f, rng: random.Random) -> str:
    first, last = f.first_name(), f.last_name()
    r = rng.random()
    if r < 0.2:
        return first
    if r < 0.4:
        return f"{first} {last}".lower()
    return f"{first} {last}"


def _email_v2(f, rng: random.Random) -> str:
    email = rng.choice([f.email, f.free_email, f.company_email])()
    local, domain = email.split("@")
    r = rng.random()
    if r < 0.15:
        return f"{local} (at) {domain.replace('.', ' (dot) ')}"
    if r < 0.3:
        return f"{local} at {domain}"
    if r < 0.4:
        return local + "\u200c@" + domain  # zero-width non-joiner
    if r < 0.5:
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in email)  # full-width
    if r < 0.6:
        return email.upper()
    return email


def _address_v2(f, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.25:
        return f"Unit {rng.randint(1, 30)}/{f.street_address()}, {f.city()}"
    if r < 0.6:
        return ", ".join(line.strip() for line in f.address().splitlines() if line.strip())
    if r < 0.8:
        return f"{f.street_address()}, {f.postcode()}"
    return f.street_address()


def _dob_v2(f, rng: random.Random) -> str:
    d = f.date_of_birth(minimum_age=18, maximum_age=90)
    shape = rng.choice(["%Y/%m/%d", "%d/%m/%y", "%B %-d %Y", "%-d.%-m.%Y", "%b %d, %Y", "%A %-d %B %Y",
                        "%d %b %y"])
    return d.strftime(shape.replace("%-d", str(d.day)).replace("%-m", str(d.month)))


def _card_v2(f, rng: random.Random) -> str:
    number = f.credit_card_number(card_type=rng.choice([None, "visa16", "mastercard", "amex", "discover"]))
    r = rng.random()
    if r < 0.3:
        return " ".join(number[i:i + 4] for i in range(0, len(number), 4))
    if r < 0.5:
        return "-".join(number[i:i + 4] for i in range(0, len(number), 4))
    return number


def _expiry_v2(f, rng: random.Random) -> str:
    d = f.date_between(start_date="-1y", end_date="+8y")
    return d.strftime(rng.choice(["%m/%y", "%m/%Y", "%m-%y", "%m / %y", "%m.%y", "%b %Y", "%B %Y", "%m%y"]))


def _value_v2(f, kind: str, rng: random.Random) -> str | None:
    if kind == "PERSON":
        return _person_v2(f, rng)
    if kind == "EMAIL":
        return _email_v2(f, rng)
    if kind == "PHONE":
        return f.phone_number()
    if kind == "ADDRESS":
        return _address_v2(f, rng)
    if kind == "POSTCODE":
        return f.postcode()
    if kind == "DATE_OF_BIRTH":
        return _dob_v2(f, rng)
    if kind == "IP_ADDRESS":
        return f.ipv4_public() if rng.random() < 0.6 else f.ipv6()
    if kind == "IBAN":
        iban = f.iban()
        return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)) if rng.random() < 0.5 else iban
    if kind == "NATIONAL_ID":
        gen = V2_NATIONAL_ID.get(f._locales[0])
        return gen(f) if gen else None
    if kind == "USERNAME":
        return f.user_name() if rng.random() < 0.7 else f"{f.user_name()}{rng.randint(1, 99)}"
    if kind == "CARD":
        return _card_v2(f, rng)
    if kind == "ORDER_ID":
        shapes = ["BK-######", "#######-??", "ORDER-####-####", "??###-###", "#####?", "TRK########",
                  "20##-##-#####", "X#?#?#?#"]
        return f.bothify(rng.choice(shapes)).upper()
    raise ValueError(kind)


def _fill_card_shape(shape: str, shown: str, expiry: str, cvv: str, masked: bool) -> tuple[str, list[tuple[str, int, int]]]:
    """``shape`` with {n} (the card as shown), {e} and {c} filled in, and the entities' offsets;
    a masked card is not an entity (only its last four digits show)."""
    out, ents = "", []
    i = 0
    while i < len(shape):
        if shape[i] == "{" and shape[i + 1] in "nec" and shape[i + 2] == "}":
            key = shape[i + 1]
            value = {"n": shown, "e": expiry, "c": cvv}[key]
            kind = {"n": "CARD", "e": "CARD_EXPIRY", "c": "CARD_CVV"}[key]
            if not (key == "n" and masked):
                ents.append((kind, len(out), len(out) + len(value)))
            out += value
            i += 3
        else:
            out += shape[i]
            i += 1
    return out, ents


def _card_details_v2(f, rng: random.Random) -> tuple[str, list[tuple[str, int, int]]]:
    number = _card_v2(f, rng)
    masked = rng.random() < 0.4
    shown = rng.choice(["XXXX XXXX XXXX ", "**** ", "ending in ", "xxxx-xxxx-xxxx-"]) + number.replace(" ", "").replace("-", "")[-4:] if masked else number
    expiry = _expiry_v2(f, rng)
    cvv = f.credit_card_security_code()
    shape = rng.choice(["card {n} expires {e}, the code on the back is {c}", "{n} good thru {e} csc {c}",
                        "number {n}, exp date {e}, security number {c}", "{n} {e} {c}",
                        "card {n} valid until {e} (CVV {c})", "{n}; expiration {e}; CID {c}"])
    return _fill_card_shape(shape, shown, expiry, cvv, masked)


V2_NEGATIVES = [
    ("the total was {v}", lambda f, r: f"£{r.randint(1, 999)}.{r.randint(0, 99):02d}"),
    ("{v} kr", lambda f, r: str(r.randint(10, 9000))),
    ("since {v}", lambda f, r: f.date(pattern=r.choice(["%d.%m.%Y", "%m/%d/%Y", "%d %b"]))),
    ("around {v}", lambda f, r: f.time(pattern="%H:%M")),
    ("delivering to {v}", lambda f, r: f.city()),
    ("from {v}", lambda f, r: f.country()),
    ("in {v}", lambda f, r: f.currency_name()),
    ("firmware {v}", lambda f, r: f"v{r.randint(1, 9)}.{r.randint(0, 30)}"),
    ("with {v}", lambda f, r: f.company()),
    ("qty {v}", lambda f, r: str(r.randint(1, 40))),
]


@dataclass(frozen=True)
class HeldOutRecipe:
    """How one held-out injected set is assembled (each set's generators and templates are its own)."""

    name: str
    locales: list[str]
    seed_step: int
    value: Callable
    card_details: Callable
    templates: dict[str, list[str]]
    negatives: list[tuple[str, Callable]]
    negative_join: str
    place: Callable[[float, str, str], tuple[str, int]]
    """(a uniform draw, host sentence, fragment) -> (text, offset of the fragment in it)"""


def _place_v2(r: float, host: str, fragment: str) -> tuple[str, int]:
    return (f"{host}. {fragment}", len(host) + 2) if r < 0.5 else (f"{fragment}. {host}", 0)


def _place_v3(r: float, host: str, fragment: str) -> tuple[str, int]:
    if r < 0.45:
        return f"{host}. {fragment}", len(host) + 2
    if r < 0.9:
        return f"{fragment}. {host}", 0
    return f"{host} - {fragment}", len(host) + 3


def build_injected(recipe: HeldOutRecipe, n_per_type: int, seed: int, hosts: list[str]) -> list[dict]:
    """``n_per_type`` rows per type: a value in one of the recipe's templates (or card details),
    beside a host sentence that sometimes carries a look-alike that is not personal data."""
    from faker import Faker

    rng = random.Random(seed)
    fakers = {}
    for i, loc in enumerate(recipe.locales):
        fk = Faker(loc)
        fk.seed_instance(seed * recipe.seed_step + i)
        fakers[loc] = fk
    rows = []
    kinds = [k for k in TYPES if k not in ("CARD_EXPIRY", "CARD_CVV")]
    for kind in kinds:
        made = tries = 0
        while made < n_per_type and tries < n_per_type * 20:
            tries += 1
            loc = rng.choice(recipe.locales)
            fk = fakers[loc]
            if kind == "CARD" and rng.random() < 0.45:
                fragment, ents = recipe.card_details(fk, rng)
                template = f"card+details {recipe.name}"
            else:
                value = recipe.value(fk, kind, rng)
                if value is None:
                    continue
                template = rng.choice(recipe.templates[kind])
                head, tail = template.split("{v}")
                fragment = head + value + tail
                ents = [(kind, len(head), len(head) + len(value))]
            host = rng.choice(hosts).rstrip(".?! ")
            if rng.random() < 0.5:
                neg_t, neg_v = rng.choice(recipe.negatives)
                host = f"{host}{recipe.negative_join}{neg_t.replace('{v}', neg_v(fk, rng))}"
            text, shift = recipe.place(rng.random(), host, fragment)
            rows.append({
                "text": text,
                "entities": [{"type": k, "start": s + shift, "end": e + shift} for k, s, e in ents],
                "locale": loc, "template": template, "set": f"heldout_{recipe.name}",
            })
            made += 1
    return rows


def build_injected_v2(n_per_type: int, seed: int, hosts: list[str]) -> list[dict]:
    return build_injected(HeldOutRecipe("v2", V2_LOCALES, 53, _value_v2, _card_details_v2, V2_TEMPLATES,
                                        V2_NEGATIVES, " ", _place_v2), n_per_type, seed, hosts)


V2_BRANDS = ["Ted Baker", "Tommy Hilfiger", "Marks & Spencer", "John Lewis", "Calvin Klein", "Hugo Boss",
             "Ben & Jerry's", "Victoria's Secret", "Jack Daniel's", "Harley Davidson", "Ralph Lauren",
             "Kate Spade", "Michael Kors", "Tory Burch", "Estée Lauder", "Charlotte Tilbury", "Paul Smith",
             "Sainsbury's", "Aldi", "Lidl", "Carrefour", "Mercadona", "Rewe", "Migros", "Coop", "Systembolaget",
             "Allegro", "Bol.com", "Otto", "Currys", "Argos", "JB Hi-Fi", "Harvey Norman", "Canadian Tire",
             "Shoppers Drug Mart", "Telstra", "Optus", "Rogers", "Bell", "Telia", "Swisscom", "Play",
             "Interac", "Swish", "MobilePay", "Twint", "BLIK", "iDEAL", "Bancontact", "Sofort", "Giropay",
             "Trustly", "Zip Pay", "Laybuy", "Openpay", "Satispay", "Bizum", "Lydia", "Paysafecard",
             "Commonwealth Bank", "Westpac", "ANZ", "Kiwibank", "TD Bank", "Scotiabank", "Nordea",
             "Danske Bank", "Handelsbanken", "Raiffeisen", "Erste Bank", "UBS", "PKO Bank Polski", "mBank",
             "Qantas", "Air New Zealand", "WestJet", "SAS", "Swiss", "Austrian Airlines", "LOT", "Norwegian",
             "Jetstar", "Virgin Australia", "Deutsche Bahn", "ÖBB", "SBB", "Eurostar", "Flixbus"]
V2_PRODUCTS = ["Galaxy Z Flip 6", "iPad Air", "Apple Watch Ultra", "Sony WH-1000XM5", "Xbox Series X",
               "Kobo Clara", "Thermomix TM6", "Vitamix blender", "Ninja air fryer", "Weber grill",
               "Dyson Supersonic", "Oral-B iO", "Garmin Forerunner", "Nothing Phone", "OnePlus 12",
               "Fairphone 5", "Roborock S8", "Miele washing machine", "Bosch dishwasher", "Le Creuset pot",
               "Victoria sponge tin", "Lenovo Legion", "HP Envy", "Dell XPS 13", "Nintendo Switch OLED"]
V2_PLACES = ["Melbourne", "Brisbane", "Perth", "Adelaide", "Darwin", "Hobart", "Auckland", "Wellington",
             "Christchurch", "Queenstown", "Montreal", "Calgary", "Ottawa", "Halifax", "Regina", "Victoria",
             "Vienna", "Salzburg", "Innsbruck", "Graz", "Zurich", "Geneva", "Lausanne", "Basel", "Bern",
             "Stockholm", "Gothenburg", "Malmö", "Uppsala", "Warsaw", "Kraków", "Gdańsk", "Wrocław",
             "Copenhagen", "Aarhus", "Odense", "Charlotte", "Austin", "Jackson", "Florence", "Sydney",
             "Alice Springs", "St. Louis", "San Diego", "Santa Clara", "Fort Worth", "Lake Tahoe",
             "Newcastle upon Tyne", "Stoke-on-Trent", "Milton Keynes", "King's Cross", "Port Elizabeth",
             "Mount Maunganui", "the Gold Coast", "the Alps", "Lake Geneva", "the Netherlands",
             "the Philippines", "Bosnia and Herzegovina", "Trinidad and Tobago"]
V2_CURRENCIES = [("Australian dollars", "AUD"), ("New Zealand dollars", "NZD"), ("Canadian dollars", "CAD"),
                 ("Swiss francs", "CHF"), ("Swedish kronor", "SEK"), ("Danish kroner", "DKK"),
                 ("Polish złoty", "PLN"), ("euros", "EUR"), ("pounds sterling", "GBP"), ("US dollars", "USD"),
                 ("Icelandic króna", "ISK"), ("Romanian lei", "RON"), ("Philippine pesos", "PHP"),
                 ("Korean won", "KRW"), ("Vietnamese dong", "VND"), ("Kenyan shillings", "KES"),
                 ("Nigerian naira", "NGN"), ("Saudi riyal", "SAR"), ("Qatari riyal", "QAR"), ("Tether", "USDT")]
V2_STARTS = ["Yesterday", "Honestly", "Sadly", "Unfortunately", "Apparently", "Quick question", "Urgent",
             "Hello there", "Good morning", "Also", "Otherwise", "Meanwhile", "Last Tuesday", "Since March",
             "According to your website", "As discussed", "Just checking", "Frankly", "Luckily", "Again"]
V2_CLEAN_TEMPLATES = [
    "{start}, my {brand} payment to {place} bounced", "{start}, the {product} from {brand} stopped working",
    "Does {brand} let me pay in {cur}?", "How much is 75 {code} in {code2} today?",
    "I paid {brand} with {pay} and now I see two charges", "Can you split the {product} over 12 months with {pay}?",
    "Is click and collect available at the {brand} store in {place}?", "My {pay} top-up from {place} did not arrive",
    "The {brand} website says the {product} is out of stock in {place}", "Will {pay} work when I'm in {place}?",
    "We flew {brand} from {place} to {place2} and lost a bag", "Do you have a branch in {place} or only in {place2}?",
    "Can I withdraw {cur} at {place} airport with this card?", "{start}, I was charged in {code} instead of {code2}",
    "Why does the {brand} app show my balance in {cur}?", "Is the {product} covered if I bought it at {brand}?",
    "Please cancel the {brand} direct debit, I switched to {brand2}", "What's the cheapest way to send {cur} to {place}?",
    "My {product} arrived in {place} with a cracked screen", "{start}, can I pay with {pay} or only by card?",
    "The {brand} gift card does not work at the {place} shop", "Is {brand} the same company as {brand2}?",
    "Are there fees for {pay} transfers to {place2}?", "{start}, the delivery to {place} is three days late",
    "Book me a train from {place} to {place2} on Friday", "How do I change my {brand} plan to the cheaper one?",
    "Can I return a {product} bought in {place} to a store in {place2}?", "Do you price match {brand2}?",
    "The {pay} button is missing at checkout", "{start}, {brand} declined my card but {brand2} accepted it",
]
V2_PAY = ["Apple Pay", "Google Pay", "Interac e-Transfer", "Swish", "MobilePay", "Twint", "BLIK", "iDEAL",
          "Bancontact", "Klarna", "Afterpay", "Zip Pay", "PayPal", "a Visa card", "a Mastercard", "Amex",
          "bank transfer", "cash on delivery", "Sofort", "Trustly", "a gift card", "Bizum", "Revolut Pay"]
V2_FREE_CLEAN = [
    "Ted Baker refused my return even though I had the receipt", "Does Charlotte Tilbury ship to Auckland?",
    "Can I pay Marks & Spencer with a Tommy Hilfiger gift card?", "The John Lewis delivery slot was missed twice",
    "Is the Victoria sponge tin back in stock?", "Why did Qantas charge me in Australian dollars?",
    "My Swish payment to the Stockholm shop failed", "Jack Daniel's gift set arrived broken",
    "Sainsbury's Nectar points are missing from my account", "Do you deliver to Regina, Saskatchewan?",
    "Paul Smith said the jacket would arrive on Monday", "I used Twint in Zurich and it charged me twice",
    "Kate Spade bag was the wrong colour", "Florence is where I bought the Le Creuset pot",
    "Austin store told me to call you", "Jackson Hole hotel charged a deposit on my card",
    "Commonwealth Bank blocked the payment to JB Hi-Fi", "Harvey Norman won't honour the warranty",
    "Can Kiwibank send money to a Westpac account in Sydney?", "Mrs Doubtfire DVD was missing from the box set",
    "Dr. Martens boots came in the wrong size", "Saint Laurent perfume leaked in the parcel",
    "Please reverse the BLIK payment to Allegro", "Bol.com says the parcel went to Antwerp",
    "Canadian Tire has the Weber grill cheaper", "MobilePay shows the amount in Danish kroner",
    "Good morning, the Eurostar ticket did not download", "Yesterday Flixbus cancelled my trip to Vienna",
    "Morgan Stanley is not my bank, why is it on my statement?", "Grace period for the Afterpay instalment?",
    "Lloyds Bank sent me a letter about Austrian Airlines", "Will Smith's new film is on your app, right?",
    "Is Rose Gold available for the Apple Watch Ultra?", "Hunter boots are on sale in Melbourne",
    "Sophie la girafe toy was recalled, can I get a refund?", "Hi, does Telstra have 5G in Darwin?",
    "Max Mara coat was charged at full price", "Ray-Ban sunglasses arrived scratched",
    "Carrefour in Geneva took Swiss francs but charged me euros", "Thomas Cook refund still not received",
]


@dataclass(frozen=True)
class CleanRecipe:
    """The vocabulary and finishing of one held-out clean set (each set's words are its own)."""

    name: str
    free: list[str]
    templates: list[str]
    currencies: list[tuple[str, str]]
    brands: list[str]
    places: list[str]
    products: list[str]
    pay: list[str]
    starts: list[str]
    months: list[str] | None
    finishes: tuple[tuple[float, Callable[[str], str]], ...]
    """(upper bound of one uniform draw, how the sentence is typed): the first that holds applies"""
    extra: Callable[[random.Random], dict] | None = None
    """more template fields (v5: times, model numbers, amounts), drawn after the others"""


def build_clean_heldout(recipe: CleanRecipe, seed: int, n: int) -> list[dict]:
    """Hand-written sentences first, then templates filled from the recipe's vocabulary; the
    random draws are made in a fixed order, so a seed rebuilds its set byte for byte."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        if i < len(recipe.free):
            text, template = recipe.free[i], f"free {recipe.name}"
        else:
            template = rng.choice(recipe.templates)
            c1, c2 = rng.sample(recipe.currencies, 2)
            b1, b2 = rng.sample(recipe.brands, 2)
            p1, p2 = rng.sample(recipe.places, 2)
            fields = dict(brand=b1, brand2=b2, cur=c1[0], cur2=c2[0], code=c1[1], code2=c2[1], place=p1, place2=p2,
                          product=rng.choice(recipe.products), pay=rng.choice(recipe.pay),
                          start=rng.choice(recipe.starts))
            if recipe.months:
                fields["month"] = rng.choice(recipe.months)
            if recipe.extra:
                fields.update(recipe.extra(rng))
            text = template.format(**fields)
            text = text[:1].upper() + text[1:]
        r = rng.random()
        for bound, typed in recipe.finishes:
            if r < bound:
                text = typed(text)
                break
        rows.append({"text": text, "entities": [], "locale": "en", "template": template, "set": f"clean_{recipe.name}"})
    return rows


def _no_closing_punctuation(text: str) -> str:
    return text.rstrip("?.!")  # as typed on a phone


CLEAN_V2 = CleanRecipe("v2", V2_FREE_CLEAN, V2_CLEAN_TEMPLATES, V2_CURRENCIES, V2_BRANDS, V2_PLACES, V2_PRODUCTS, V2_PAY,
                       V2_STARTS, None, ((0.12, str.lower),))


# ---------------------------------------------------------------------------
# Held-out set v3 (round 3). Held-out v2 was looked at row by row while the scrubber was
# improved in round 3, so it is development data now. Everything below was written before the
# scrubber was run on any of it: eight locales used in no earlier set, templates and value
# shapes written fresh for this set, new clean sentences (other domains: utilities, insurance,
# food delivery, streaming, games, car hire, hotels, pharmacies), other seeds.
# ---------------------------------------------------------------------------
V3_LOCALES = ["en_IN", "es_MX", "pt_BR", "nl_BE", "de_CH", "no_NO", "fi_FI", "cs_CZ"]
V3_NATIONAL_ID = {
    "en_IN": lambda f: f.aadhaar_id(),
    "pt_BR": lambda f: f.cpf(),
    "es_MX": lambda f: f.curp(),
    "cs_CZ": lambda f: f.birth_number(),
    "nl_BE": lambda f: f.ssn(),  # rijksregisternummer
    "de_CH": lambda f: f.ssn(),  # AHV number
    "no_NO": lambda f: f.ssn(),  # fødselsnummer
    "fi_FI": lambda f: f.ssn(),  # henkilötunnus
}
V3_TEMPLATES: dict[str, list[str]] = {
    "PERSON": ["the parcel should be handed to {v} only", "my flatmate {v} ordered the same thing",
               "I'm writing for my father, {v}", "Warm regards,\n{v}", "{v} (account owner)",
               "your agent {v} promised a callback", "the booking is under the name {v}",
               "my colleague {v} needs access too", "Hi, {v} from flat 3 again",
               "please let {v} sign for it", "Thank you!\n{v}", "customer name - {v}"],
    "EMAIL": ["my mail is {v}", "send the voucher to {v} not the old one", "({v})",
              "confirmation went to {v}?", "reach me at {v}", "login e-mail: {v}"],
    "PHONE": ["my cell is {v}", "whatsapp me on {v}", "phone number {v}, evenings only",
              "{v} is the best number", "call me back at {v}", "contact no. {v}"],
    "ADDRESS": ["I now live at {v}", "billing address: {v}", "the van should go to {v}",
                "deliver it to {v} please", "my address changed to {v}", "address on file is {v}"],
    "POSTCODE": ["postal code {v}", "my zip is {v}", "our pin code is {v}", "CEP {v}",
                 "do you ship to postcode {v}?", "postcode = {v}"],
    "DATE_OF_BIRTH": ["I was born {v}", "date of birth is {v}", "birthday {v}", "DOB: {v}",
                      "my d.o.b is {v}", "born on the {v}"],
    "IP_ADDRESS": ["my public IP is {v}", "the login attempt came from {v}", "IP {v} was blocked",
                   "blocked at {v}", "whitelist this address: {v}"],
    "IBAN": ["please refund to {v}", "my IBAN: {v}", "bank account {v}", "IBAN number {v}",
             "wire it to {v} thanks"],
    "NATIONAL_ID": ["my CPF is {v}", "national ID {v}", "Aadhaar {v}", "personal number: {v}",
                    "ID number {v} for the contract", "my tax ID is {v}"],
    "USERNAME": ["username: {v}", "I log in as {v}", "my user name is {v}", "my handle is {v}",
                 "the account {v} got hacked", "user id {v}"],
    "CARD": ["card no. {v}", "my visa {v} got declined", "charge it to {v}", "credit card {v}",
             "the card {v} was stolen"],
    "ORDER_ID": ["order {v}", "my order number: {v}", "tracking no. {v}", "ref. {v}",
                 "the parcel {v} is missing", "invoice {v}"],
}


def _person_v3(f, rng: random.Random) -> str:
    first, last = f.first_name(), f.last_name()
    r = rng.random()
    if r < 0.2:
        return first
    if r < 0.35:
        return f"{first} {last}".lower()
    if r < 0.45:
        return f"{first} {f.first_name()} {last}"
    return f"{first} {last}"


def _email_v3(f, rng: random.Random) -> str:
    email = rng.choice([f.email, f.free_email, f.company_email])()
    local, domain = email.split("@")
    r = rng.random()
    if r < 0.12:
        return f"{local} at {domain.replace('.', ' dot ')}"
    if r < 0.24:
        return f"{local}(at){domain}"
    if r < 0.34:
        return f"{local} @ {domain}"
    if r < 0.42:
        return f"{local}{{at}}{domain.replace('.', '{dot}')}"
    if r < 0.5:
        return local + "\u200b@" + domain  # zero-width space
    if r < 0.58:
        return email.capitalize()
    return email


def _phone_v3(f, rng: random.Random) -> str:
    number = f.phone_number()
    if rng.random() < 0.2:
        digits = "".join(c for c in number if c.isdigit() or c == "+")
        return digits
    return number


def _address_v3(f, rng: random.Random) -> str:
    lines = [line.strip() for line in f.address().splitlines() if line.strip()]
    r = rng.random()
    if r < 0.4:
        return ", ".join(lines)
    if r < 0.6:
        return " ".join(lines)
    if r < 0.8:
        return f"{f.street_address()}, {f.city()}"
    return f.street_address()


def _dob_v3(f, rng: random.Random) -> str:
    d = f.date_of_birth(minimum_age=18, maximum_age=90)
    shape = rng.choice(["%d-%m-%Y", "%B %-d, %Y", "%-d %B, %Y", "%Y.%m.%d", "%d/%m/%Y", "%-dth %b %Y",
                        "%b. %-d %Y", "%d %m %Y"])
    return d.strftime(shape.replace("%-d", str(d.day)))


def _card_v3(f, rng: random.Random) -> str:
    number = f.credit_card_number(card_type=rng.choice([None, "visa16", "mastercard", "amex", "jcb16", "diners"]))
    r = rng.random()
    if r < 0.35:
        return " ".join(number[i:i + 4] for i in range(0, len(number), 4))
    if r < 0.45:
        return ".".join(number[i:i + 4] for i in range(0, len(number), 4))
    return number


def _expiry_v3(f, rng: random.Random) -> str:
    d = f.date_between(start_date="-1y", end_date="+8y")
    return d.strftime(rng.choice(["%m/%y", "%m-%Y", "%m / %Y", "%b-%y", "%B %y", "%m/%Y", "%m.%Y"]))


def _value_v3(f, kind: str, rng: random.Random) -> str | None:
    if kind == "PERSON":
        return _person_v3(f, rng)
    if kind == "EMAIL":
        return _email_v3(f, rng)
    if kind == "PHONE":
        return _phone_v3(f, rng)
    if kind == "ADDRESS":
        return _address_v3(f, rng)
    if kind == "POSTCODE":
        return f.postcode()
    if kind == "DATE_OF_BIRTH":
        return _dob_v3(f, rng)
    if kind == "IP_ADDRESS":
        return f.ipv4_public() if rng.random() < 0.65 else f.ipv6()
    if kind == "IBAN":
        iban = f.iban()
        r = rng.random()
        if r < 0.4:
            return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
        if r < 0.5:
            return iban.lower()
        return iban
    if kind == "NATIONAL_ID":
        gen = V3_NATIONAL_ID.get(f._locales[0])
        return gen(f) if gen else None
    if kind == "USERNAME":
        r = rng.random()
        name = f.user_name()
        if r < 0.2:
            return f"@{name}"
        if r < 0.4:
            return f"{name}_{rng.randint(1, 999)}"
        return name
    if kind == "CARD":
        return _card_v3(f, rng)
    if kind == "ORDER_ID":
        shapes = ["OD#########", "###-####-###", "N°######", "MX-????-####", "#?##?##?", "ORDER#######",
                  "SHP-######-?", "##/#####"]
        return f.bothify(rng.choice(shapes)).upper()
    raise ValueError(kind)


def _card_details_v3(f, rng: random.Random) -> tuple[str, list[tuple[str, int, int]]]:
    number = _card_v3(f, rng)
    masked = rng.random() < 0.35
    tail = number.replace(" ", "").replace(".", "")[-4:]
    shown = rng.choice(["**** **** **** ", "card ending ", "•••• "]) + tail if masked else number
    expiry = _expiry_v3(f, rng)
    cvv = f.credit_card_security_code()
    shape = rng.choice(["{n} exp {e} cvv {c}", "card: {n}, expiry: {e}, CVC: {c}",
                        "{n} (valid till {e}), verification code {c}", "{n} | {e} | {c}",
                        "number {n}, it expires {e} and the CVV is {c}", "{n}, exp. date {e}, sec code {c}"])
    return _fill_card_shape(shape, shown, expiry, cvv, masked)


V3_NEGATIVES = [
    ("it cost {v}", lambda f, r: f"R$ {r.randint(10, 999)},{r.randint(0, 99):02d}"),
    ("{v} CHF", lambda f, r: str(r.randint(5, 4000))),
    ("back in {v}", lambda f, r: f.month_name()),
    ("at about {v}", lambda f, r: f.time(pattern="%H.%M")),
    ("sent to {v}", lambda f, r: f.city()),
    ("I'm in {v} now", lambda f, r: f.country()),
    ("paid with {v}", lambda f, r: f.credit_card_provider()),
    ("build {v}", lambda f, r: f"{r.randint(1, 30)}.{r.randint(0, 9)}.{r.randint(100, 999)}"),
    ("room {v}", lambda f, r: str(r.randint(100, 999))),
    ("{v} pcs", lambda f, r: str(r.randint(2, 60))),
]


def build_injected_v3(n_per_type: int, seed: int, hosts: list[str]) -> list[dict]:
    return build_injected(HeldOutRecipe("v3", V3_LOCALES, 71, _value_v3, _card_details_v3, V3_TEMPLATES,
                                        V3_NEGATIVES, ", ", _place_v3), n_per_type, seed, hosts)


V3_BRANDS = ["Tim Hortons", "Louis Vuitton", "Christian Dior", "Giorgio Armani", "Marc Jacobs", "Vera Wang",
             "Tom Ford", "Jimmy Choo", "Ben Sherman", "Dolce & Gabbana", "Trader Joe's", "Papa John's",
             "Martha Stewart", "Sherwin-Williams", "Johnson & Johnson", "Ted Lasso", "Wendy's", "Carl's Jr.",
             "Arnold Clark", "Ann Summers", "Laura Ashley", "Alexander McQueen", "Stella McCartney",
             "Karl Lagerfeld", "Lotus Bakeries", "Jack Wolfskin", "Mary Kay", "Uncle Ben's",
             "Ocado", "Just Eat", "Rappi", "iFood", "Swiggy", "Zomato", "Glovo", "Wolt", "Foodora",
             "Mercado Pago", "PicPay", "Nubank", "Paytm", "PhonePe", "Payconiq", "Vipps", "MobilePay",
             "Octopus Energy", "E.ON", "Enel", "Iberdrola", "Vattenfall", "Fortum", "Elisa", "O2", "T-Mobile",
             "Telenor", "Proximus", "Salt", "Sunrise", "Jio", "Airtel", "Claro", "Vivo", "Movistar",
             "Allianz", "AXA", "Zurich Insurance", "Generali", "Aviva", "Admiral", "Lemonade", "Gjensidige",
             "Hertz", "Sixt", "Europcar", "Enterprise", "Avis", "Marriott", "Hilton", "Accor", "Scandic",
             "Crunchyroll", "Paramount Plus", "HBO Max", "Viaplay", "Globoplay", "JioCinema", "Twitch",
             "Steam", "Epic Games", "Riot Games", "Ubisoft", "Boots", "Walgreens", "CVS", "Apotek 1",
             "Farmacias Guadalajara", "Drogasil", "Kruidvat", "Migros", "Albert Heijn", "Rema 1000",
             "Tesla", "Volvo", "Škoda", "Rohlik", "Alza", "Kiwi.com", "Finnair", "LATAM", "Aeroméxico",
             "IndiGo", "Brussels Airlines", "Norwegian Air", "Swiss Re"]
V3_PRODUCTS = ["Kindle Scribe", "iPhone 16e", "Galaxy A55", "Redmi Note 13", "Moto G84", "Pixel Buds Pro",
               "PS5 Slim", "Switch 2", "Quest 3S", "Roku Ultra", "Chromecast", "Sonos Ace", "Bose SoundLink",
               "Philips Airfryer XXL", "Nespresso Vertuo Pop", "Dyson V8", "Instax Mini 12", "GoPro Hero 12",
               "Apple TV 4K", "Echo Show 8", "AirTag", "Fire HD 10", "Surface Laptop 7", "MacBook Pro M4",
               "Lenovo Yoga Slim 7", "Asus ROG Ally", "Garmin Venu 3", "Polar Vantage", "Suunto Race",
               "Oral-B Pro 3", "Braun Series 9", "LG OLED C4", "Samsung Frame TV", "Tefal pan set"]
V3_PLACES = ["Mumbai", "Bengaluru", "Pune", "Chennai", "Mexico City", "Guadalajara", "Monterrey", "Cancún",
             "São Paulo", "Rio", "Belo Horizonte", "Curitiba", "Porto Alegre", "Brussels", "Antwerp", "Ghent",
             "Liège", "Bruges", "Zurich", "Bern", "Lucerne", "Lugano", "Oslo", "Bergen", "Trondheim",
             "Tromsø", "Helsinki", "Tampere", "Turku", "Oulu", "Prague", "Brno", "Ostrava", "Plzeň",
             "Madison", "Lincoln", "Houston", "Kingston", "Elizabeth", "Marietta", "Santa Fe", "St. Gallen",
             "San José", "Los Cabos", "Cape Cod", "New Orleans", "Mount Pleasant", "the Lake District",
             "Lapland", "the Algarve", "the Canary Islands", "Bali", "the Maldives", "Goa"]
V3_CURRENCIES = [("Indian rupees", "INR"), ("Mexican pesos", "MXN"), ("Brazilian reais", "BRL"),
                 ("euros", "EUR"), ("Swiss francs", "CHF"), ("Norwegian kroner", "NOK"), ("Czech korunas", "CZK"),
                 ("US dollars", "USD"), ("British pounds", "GBP"), ("Japanese yen", "JPY"), ("Thai baht", "THB"),
                 ("Indonesian rupiah", "IDR"), ("Chilean pesos", "CLP"), ("Colombian pesos", "COP"),
                 ("Turkish lira", "TRY"), ("Hungarian forints", "HUF"), ("Bitcoin", "BTC"), ("Solana", "SOL")]
V3_STARTS = ["Hey", "Morning", "Hi team", "Quick one", "Heads up", "Honestly", "So", "Ok so", "Please",
             "Last night", "This morning", "Two days ago", "Once again", "FYI", "Hello again", "Right",
             "Dear support", "Good evening", "Sorry", "Update"]
V3_CLEAN_TEMPLATES = [
    "{start}, my {brand} bill went up again this month", "{start}, {brand} charged me twice for one delivery",
    "Can I pause my {brand} subscription while I'm in {place}?", "Does the {product} work with {brand}?",
    "Why is the {brand} order from {place} still not here?", "I ordered from {brand} and got someone else's food",
    "Is the {product} cheaper at {brand} or at {brand2}?", "Can I pay {brand} in {cur} from {place}?",
    "My {brand} points didn't show up after the {place} trip", "{start}, the {product} I got from {brand} won't charge",
    "How long does a refund from {brand} to my {pay} take?", "Does your {place} branch accept {pay}?",
    "I rented a car from {brand} in {place}, who do I call about the deposit?",
    "The hotel in {place} booked through {brand} cancelled on me", "Is {brand} covered by my {brand2} policy?",
    "Convert 150 {code} to {code2} please", "What's the rate for {cur} to {cur2} right now?",
    "{start}, can I switch from {brand} to {brand2} without a fee?", "The {brand} app crashes every time I open it",
    "I can't find the {product} in the {brand} store in {place}", "{brand} says my {pay} payment failed",
    "Do you sell {brand} gift cards in {place}?", "Was the {product} recall from {brand} about my model?",
    "{start}, my {brand} streaming stopped working in {place}", "How do I link {pay} to my {brand} account?",
    "Please transfer 2000 {code} to my savings", "{start}, is there a {brand} near {place} airport?",
    "I want to complain about {brand}'s customer service", "Can I return a {product} bought from {brand} in {place}?",
    "My energy bill from {brand} doubled since {month}", "Does {brand} deliver to {place} on Sundays?",
    "The {brand} insurance claim for my {product} was rejected", "Set a reminder to cancel {brand} before {month}",
    "{start}, I got a {brand} voucher but {brand2} won't take it", "Are {brand} and {brand2} the same group?",
    "Order a {product} and have it sent to the {place} store", "Which costs more, {brand} or {brand2}?",
]
V3_PAY = ["Pix", "UPI", "Paytm", "PhonePe", "Mercado Pago", "OXXO", "Payconiq", "Bancontact", "Vipps",
          "MobilePay", "TWINT", "PostFinance", "Apple Pay", "Google Pay", "PayPal", "a Mastercard",
          "my Visa", "SEPA direct debit", "cash", "Klarna", "a prepaid card", "Revolut", "boleto"]
V3_MONTHS = ["January", "March", "May", "June", "August", "October", "December", "the summer", "Easter"]
V3_FREE_CLEAN = [
    "Tim Hortons got my order wrong again", "Louis Vuitton wants a receipt I don't have",
    "Is Marc Jacobs sold in your Oslo store?", "Tom Ford perfume was missing from the box",
    "Vera Wang dress arrived with a torn hem", "Jimmy Choo heels were charged twice",
    "Paid Papa John's with Pix and the money left twice", "Does Trader Joe's take Apple Pay?",
    "Martha Stewart cookware set is out of stock", "Karl Lagerfeld watch stopped after a week",
    "Stella McCartney bag refund still pending", "Arnold Clark rental car had a flat tyre",
    "Ann Summers order came without tracking", "Laura Ashley curtains are the wrong length",
    "Alexander McQueen sneakers sole came off", "Jack Wolfskin jacket leaks in the rain",
    "Mary Kay products are not on my invoice", "Uncle Ben's rice was recalled, can I get money back?",
    "Ben Sherman shirt was sent in the wrong size", "Christian Dior lipstick is not the colour I chose",
    "Giorgio Armani sunglasses came scratched", "Mr Muscle cleaner leaked all over the parcel",
    "Dr Oetker pizza was missing from the Ocado delivery", "Ms Pac-Man arcade is not in the Steam sale",
    "Elizabeth line trains were late so I missed the pickup", "Madison store says the Quest 3S is sold out",
    "Lincoln branch closes at 5, can I collect tomorrow?", "Victoria Station luggage locker charged my card",
    "Houston warehouse has had my parcel for a week", "Kingston shop refused the Wise card",
    "Morning, Jio recharge failed but the money went", "Swiggy cancelled and kept the tip",
    "Zomato says the restaurant in Pune is closed", "Nubank blocked my card in Cancún",
    "Hey, Vipps payment to the Bergen shop is stuck", "Octopus Energy tariff changed without notice",
    "Can Sixt in Lugano take a debit card?", "Scandic hotel in Tampere charged a no-show fee",
    "Crunchyroll renewed even though I cancelled", "Apotek 1 order went to the wrong pharmacy",
    "Is Viaplay included in the Telenor bundle?", "Rohlik delivery in Brno had no eggs",
    "Alza says the Switch 2 ships in June", "Finnair lost my bag between Helsinki and Oulu",
    "IndiGo refund to my UPI hasn't arrived", "Kruidvat points disappeared from the app",
    "Play the new Taylor Swift album on Spotify", "Ask Alexa to reorder the Tefal pan set",
    "Show me Ted Lasso on Apple TV", "Open the Hilton app and check my Honors points",
]


CLEAN_V3 = CleanRecipe("v3", V3_FREE_CLEAN, V3_CLEAN_TEMPLATES, V3_CURRENCIES, V3_BRANDS, V3_PLACES, V3_PRODUCTS, V3_PAY,
                       V3_STARTS, V3_MONTHS, ((0.1, str.lower), (0.15, _no_closing_punctuation)))


# ---------------------------------------------------------------------------
# Held-out set v4 (round 4). Held-out v3 was looked at row by row while the scrubber was
# improved in round 4, so it is development data now. Everything below was written before the
# scrubber was run on any of it: eleven locales used in no earlier set, templates and value
# shapes written fresh for this set (other cue words, surname-first and initialled names,
# 13- to 19-digit cards, IBANs of countries no earlier set had), harder look-alikes beside the
# values, and clean sentences from other domains (fitness, education, events, pets, home and
# garden, parking, charities, beauty, car parts), with many brands named after people.
# ---------------------------------------------------------------------------
V4_LOCALES = ["en_PH", "fr_CA", "es_AR", "es_CO", "es_CL", "ro_RO", "hu_HU", "sk_SK", "hr_HR", "sl_SI", "tr_TR"]
V4_NATIONAL_ID = {
    "en_PH": lambda f: f.random_element([f.sss, f.umid])(),
    "es_CO": lambda f: f.nuip(),
    "es_CL": lambda f: f.rut(),
    "ro_RO": lambda f: f.ssn(),  # CNP
    "hu_HU": lambda f: f.ssn(),  # adóazonosító jel
    "sk_SK": lambda f: f.birth_number(),  # rodné číslo
    "hr_HR": lambda f: f.ssn(),  # OIB
    "tr_TR": lambda f: f.ssn(),  # T.C. kimlik no
}
V4_TEMPLATES: dict[str, list[str]] = {
    "PERSON": ["my name's {v}", "the order was placed by {v}", "attn: {v}", "for the attention of {v}",
               "recipient: {v}", "it's a gift for {v}, please don't show the price", "Yours faithfully,\n{v}",
               "Best,\n{v}", "-- {v}", "my son {v} lost the card", "the account holder is {v}",
               "name on the card: {v}", "I already spoke with your colleague {v}", "contact person: {v}",
               "it is {v} speaking", "signed {v}", "{v} - customer since 2019", "ask for {v} at the door",
               "I am writing on behalf of {v}", "the invoice should say {v}, not my husband"],
    "EMAIL": ["email me at {v}", "my e-mail address: {v}", "{v} <- use this one", "mail: {v}",
              "write to {v} for the return label", "the receipt should go to {v}", "my contact is {v}"],
    "PHONE": ["my phone: {v}", "ring me at {v}", "mobile no. {v}", "you can text {v}",
              "call {v} before noon", "contact number - {v}", "my new number is {v}, the old one is gone"],
    "ADDRESS": ["send it to my office at {v}", "shipping address - {v}", "{v} (that's my new place)",
                "the courier went to {v} instead", "Address: {v}", "my parents live at {v}, ship it there",
                "drop-off at {v}", "I'm at {v} until June"],
    "POSTCODE": ["my postal code is {v}", "post code: {v}", "is delivery free for {v}?", "zip/postal code {v}",
                 "we moved, the new code is {v}", "código postal {v}", "postcode {v} shows as not served"],
    "DATE_OF_BIRTH": ["my date of birth: {v}", "birthdate {v}", "DoB {v}", "I was born on {v}",
                      "age check - born {v}", "born {v}, so I am over 18", "date of birth = {v}"],
    "IP_ADDRESS": ["my IP is {v}", "someone logged in from {v}", "please unblock {v}",
                   "the IP address {v} is my office", "login from IP {v} wasn't me", "my VPN exits at {v}"],
    "IBAN": ["my bank account: {v}", "IBAN {v}", "refund to this IBAN please: {v}", "the account is {v}",
             "direct debit from {v}", "pay it back into {v}"],
    "NATIONAL_ID": ["my ID number is {v}", "national ID no. {v}", "personal identification number {v}",
                    "my CNP is {v}", "RUT {v}", "tax number: {v}", "ID {v} for the warranty"],
    "USERNAME": ["my login name is {v}", "gamer tag: {v}", "Account: {v}", "I'm {v} on your forum",
                 "the profile {v} isn't mine", "sign-in name {v}", "username {v} was suspended"],
    "CARD": ["card number: {v}", "my debit card {v} expired", "bill it to {v}", "the card I used was {v}",
             "credit card no {v}", "block card {v} now"],
    "ORDER_ID": ["order #{v}", "order ID: {v}", "the shipment {v} is stuck", "RMA {v}",
                 "consignment number {v}", "my purchase ({v}) arrived damaged", "order ref {v}"],
}


def _person_v4(f, rng: random.Random) -> str:
    first, last = f.first_name(), f.last_name()
    r = rng.random()
    if r < 0.15:
        return first
    if r < 0.25:
        return f"{first} {last}".lower()
    if r < 0.33:
        return f"{first} {last}".upper()
    if r < 0.43:
        return f"{first[0]}. {last}"
    if r < 0.51:
        return f"{last}, {first}"
    if r < 0.6:
        return f"{first} {f.last_name()} {last}"
    return f"{first} {last}"


def _email_v4(f, rng: random.Random) -> str:
    email = rng.choice([f.email, f.free_email, f.company_email])()
    local, domain = email.split("@")
    r = rng.random()
    if r < 0.1:
        return f"{local} AT {domain.replace('.', ' DOT ')}"
    if r < 0.2:
        return f"{local}[at]{domain.replace('.', '[dot]')}"
    if r < 0.28:
        return f"{local} @ {domain.replace('.', ' . ')}"
    if r < 0.36:
        return f"mailto:{email}"
    if r < 0.44:
        return f"<{email}>"
    if r < 0.5:
        return local + "\u2060@" + domain  # word joiner
    if r < 0.56:
        return local + "\ufe6b" + domain  # small commercial at
    if r < 0.62:
        return f"{local} (at) {domain}"
    return email


def _phone_v4(f, rng: random.Random) -> str:
    number = f.mobile_number() if hasattr(f, "mobile_number") else f.phone_number()
    r = rng.random()
    if r < 0.15:
        return number.replace(" ", ".").replace("-", ".")
    if r < 0.25:
        return "".join(c for c in number if c.isdigit() or c == "+")
    return number


def _address_v4(f, rng: random.Random) -> str:
    lines = [line.strip() for line in f.address().splitlines() if line.strip()]
    r = rng.random()
    if r < 0.35:
        return ", ".join(lines)
    if r < 0.5:
        return "\n".join(lines)
    if r < 0.65:
        return f"Apt {rng.randint(1, 60)}{rng.choice(['', 'B', 'C'])}, {f.street_address()}"
    if r < 0.8:
        return f"{f.street_address()}, {f.postcode()} {f.city()}"
    return f.street_address()


def _dob_v4(f, rng: random.Random) -> str:
    d = f.date_of_birth(minimum_age=18, maximum_age=90)
    shape = rng.choice(["%d/%m/%Y", "%Y-%m-%d", "%-d %B %Y", "%B %-d %Y", "%d.%m.%Y", "%-d/%-m/%Y",
                        "%d-%b-%Y", "%-d %b. %Y", "%A, %-d %B %Y"])
    return d.strftime(shape.replace("%-d", str(d.day)).replace("%-m", str(d.month)))


# BBAN lengths (all digits) of countries no earlier set drew IBANs from
V4_IBAN_BBAN_DIGITS = {"HU": 24, "HR": 17, "SI": 15, "LT": 16, "EE": 16, "AE": 19, "SA": 20, "IL": 19, "RS": 18, "BA": 16}
V4_OWN_IBAN = ("ro_RO", "tr_TR", "sk_SK")


def _with_iban_check(country: str, bban: str) -> str:
    """``country``, the ISO 13616 check digits (python-stdnum) and ``bban``: a valid IBAN."""
    from stdnum import iban as stdnum_iban

    return f"{country}{stdnum_iban.calc_check_digits(country + '00' + bban)}{bban}"


def _bban_from_format(swift_format: str, rng: random.Random, letter_rate: float) -> str:
    """A BBAN drawn from its SWIFT format ("4!a10!n": 4 letters, 10 digits); a `c` place is a
    letter at ``letter_rate``, else a digit."""
    import re

    bban = ""
    for count, kind in re.findall(r"(\d+)!([nac])", swift_format):
        for _ in range(int(count)):
            if kind == "a":
                bban += rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
            elif kind == "c" and rng.random() < letter_rate:
                bban += rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ")
            else:
                bban += str(rng.randint(0, 9))
    return bban


def _iban_from_digits(country: str, rng: random.Random) -> str:
    """An IBAN with the right length and a correct check (ISO 13616 mod 97) for ``country``."""
    return _with_iban_check(country, "".join(str(rng.randint(0, 9)) for _ in range(V4_IBAN_BBAN_DIGITS[country])))


def _iban_v4(f, rng: random.Random) -> str:
    from stdnum import iban as stdnum_iban

    loc = f._locales[0]
    if loc in V4_OWN_IBAN:
        iban = f.iban()
    else:
        own = loc[-2:]
        iban = _iban_from_digits(own if own in V4_IBAN_BBAN_DIGITS else rng.choice(sorted(V4_IBAN_BBAN_DIGITS)), rng)
    assert stdnum_iban.is_valid(iban), iban
    r = rng.random()
    if r < 0.4:
        return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    if r < 0.5:
        return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)).lower()
    return iban


V4_CARD_TYPES = [None, "visa19", "maestro", "jcb15", "discover", "amex", "visa13", "mastercard", "visa16"]


def _card_v4(f, rng: random.Random) -> str:
    number = f.credit_card_number(card_type=rng.choice(V4_CARD_TYPES))
    r = rng.random()
    if r < 0.3:
        return " ".join(number[i:i + 4] for i in range(0, len(number), 4))
    if r < 0.45:
        return "-".join(number[i:i + 4] for i in range(0, len(number), 4))
    if r < 0.55 and len(number) == 15:
        return f"{number[:4]} {number[4:10]} {number[10:]}"
    return number


def _expiry_v4(f, rng: random.Random) -> str:
    d = f.date_between(start_date="-1y", end_date="+8y")
    return d.strftime(rng.choice(["%m/%y", "%m/%Y", "%b %Y", "%m-%y", "%b/%y", "%B '%y", "%m %y", "%m.%Y"]))


def _value_v4(f, kind: str, rng: random.Random) -> str | None:
    if kind == "PERSON":
        return _person_v4(f, rng)
    if kind == "EMAIL":
        return _email_v4(f, rng)
    if kind == "PHONE":
        return _phone_v4(f, rng)
    if kind == "ADDRESS":
        return _address_v4(f, rng)
    if kind == "POSTCODE":
        return f.postcode()
    if kind == "DATE_OF_BIRTH":
        return _dob_v4(f, rng)
    if kind == "IP_ADDRESS":
        return f.ipv4_public() if rng.random() < 0.6 else f.ipv6()
    if kind == "IBAN":
        return _iban_v4(f, rng)
    if kind == "NATIONAL_ID":
        gen = V4_NATIONAL_ID.get(f._locales[0])
        return gen(f) if gen else None
    if kind == "USERNAME":
        name = f.user_name()
        r = rng.random()
        if r < 0.2:
            return f"{name}.{rng.randint(70, 99)}"
        if r < 0.35:
            return name.capitalize() + str(rng.randint(1, 9999))
        if r < 0.45:
            return f"{name}-{rng.choice(['x', 'pro', 'gg', 'dev'])}"
        return name
    if kind == "CARD":
        return _card_v4(f, rng)
    if kind == "ORDER_ID":
        shapes = ["#########-?", "ORD.######", "A-##-######", "EC########", "PO#######", "S/######",
                  "WEB-#####?", "#####/##", "??#######??", "RMA-######"]
        return f.bothify(rng.choice(shapes)).upper()
    raise ValueError(kind)


def _card_details_v4(f, rng: random.Random) -> tuple[str, list[tuple[str, int, int]]]:
    number = _card_v4(f, rng)
    masked = rng.random() < 0.35
    tail = "".join(c for c in number if c.isdigit())[-4:]
    shown = rng.choice(["XXXX-XXXX-XXXX-", "ending with ", "last four ", "*"]) + tail if masked else number
    expiry = _expiry_v4(f, rng)
    cvv = f.credit_card_security_code()
    shape = rng.choice(["{n}, expires {e}, CSC {c}", "card {n} exp: {e} security no. {c}",
                        "{n} - {e} - cvv2: {c}", "the card is {n}, expiry date {e}, the 3 digits on the back are {c}",
                        "{n} valid to {e}, card verification value {c}", "card {n}, good through {e}, code {c}"])
    return _fill_card_shape(shape, shown, expiry, cvv, masked)


V4_NEGATIVES = [
    ("it was {v}", lambda f, r: f"{r.randint(1, 99)}.{r.randint(100, 999)},{r.randint(0, 99):02d} €"),
    ("{v} total", lambda f, r: f"¥{r.randint(1, 99)},{r.randint(100, 999)}"),
    ("delivered at {v}", lambda f, r: f"{r.randint(7, 21)}h{r.choice(['00', '15', '30', '45'])}"),
    ("flight {v}", lambda f, r: f"{r.choice(['LH', 'TK', 'RO', 'AC', 'PR'])} {r.randint(100, 2999)}"),
    ("model {v}", lambda f, r: r.choice(["SM-A546B", "MQ6T3ZD/A", "KD-55X85L", "WH-1000XM4", "A2848"])),
    ("size {v}", lambda f, r: str(r.randint(34, 46))),
    ("seat {v}", lambda f, r: f"{r.randint(1, 40)}{r.choice('ABCDEF')}"),
    ("from {v}", lambda f, r: f.city()),
    ("made by {v}", lambda f, r: f.company()),
    ("on {v}", lambda f, r: f.date(pattern=r.choice(["%d.%m.", "%Y/%m/%d", "%-d %B"]).replace("%-d", "3"))),
    ("{v} kg", lambda f, r: f"{r.randint(1, 40)},{r.randint(0, 9)}"),
    ("store no. {v}", lambda f, r: str(r.randint(10, 9999))),
]


def _place_v4(r: float, host: str, fragment: str) -> tuple[str, int]:
    if r < 0.4:
        return f"{host}. {fragment}", len(host) + 2
    if r < 0.75:
        return f"{fragment}. {host}", 0
    if r < 0.9:
        return f"{host}\n{fragment}", len(host) + 1
    return f"{host}: {fragment}", len(host) + 2


def build_injected_v4(n_per_type: int, seed: int, hosts: list[str]) -> list[dict]:
    return build_injected(HeldOutRecipe("v4", V4_LOCALES, 89, _value_v4, _card_details_v4, V4_TEMPLATES,
                                        V4_NEGATIVES, "; ", _place_v4), n_per_type, seed, hosts)


V4_BRANDS = ["Kenneth Cole", "Tommy Bahama", "Carolina Herrera", "Oscar de la Renta", "Paul Mitchell",
             "John Deere", "Dr. Scholl's", "Mrs. Fields", "Dave & Buster's", "Sara Lee", "Betty Crocker",
             "Marie Callender's", "Jenny Craig", "Ann Taylor", "Bobbi Brown", "Kiehl's", "Victoria Beckham",
             "Anya Hindmarch", "Orla Kiely", "Jo Malone London", "Charles Tyrwhitt", "Thomas Sabo",
             "Philipp Plein", "Max Factor", "Helena Rubinstein", "Elizabeth Arden", "Paco Rabanne",
             "Jean Paul Gaultier", "Yves Saint Laurent", "Pierre Cardin", "Nina Ricci", "Isabel Marant",
             "Marc O'Polo", "Tom Tailor", "Sergio Tacchini", "Dr. Hauschka", "Mrs. Meyer's", "Mr Porter",
             "Mr Price", "Captain Morgan", "Johnnie Walker", "Jim Beam", "Jack & Jones", "Vero Moda",
             "Levi's", "Wrangler", "Pandora", "Mulberry", "Hunkemöller", "Peek & Cloppenburg",
             "Decathlon", "Gymshark", "PureGym", "Anytime Fitness", "Les Mills", "ClassPass", "Strava",
             "Coursera", "Udemy", "Duolingo", "Babbel", "Skillshare", "Ticketmaster", "Eventbrite",
             "StubHub", "Live Nation", "Fever", "Chewy", "Zooplus", "Fressnapf", "Pets at Home", "Petco",
             "Leroy Merlin", "Bauhaus", "OBI", "B&Q", "Lowe's", "Wayfair", "JYSK", "Dedeman", "eMAG",
             "Trendyol", "Hepsiburada", "Lazada", "Shopee", "Falabella", "Mercado Libre", "Rappi",
             "EasyPark", "ParkMobile", "JustPark", "Bolt", "Cabify", "DiDi", "Grab", "BlaBlaCar",
             "UNICEF", "Red Cross", "Oxfam", "WWF", "Sephora", "Douglas", "Notino", "Rossmann", "dm",
             "Autodoc", "Euro Car Parts", "Halfords", "Norauto", "Michelin", "Bridgestone", "Pirelli"]
V4_PRODUCTS = ["Kindle Colorsoft", "Galaxy S25", "iPhone 16 Pro Max", "Pixel 9", "Xiaomi 14T", "Honor Magic 6",
               "Fitbit Charge 6", "Whoop 4.0", "Theragun Mini", "Bowflex dumbbells", "Yeti Rambler",
               "Stanley Quencher", "Vitamix E310", "Ninja Creami", "Breville Barista Express",
               "De'Longhi Magnifica", "Tineco Floor One", "Shark Navigator", "Kärcher K5", "Bosch drill",
               "Makita impact driver", "Husqvarna mower", "Weber Spirit", "Traeger Pro", "Furbo camera",
               "Kong toy", "Royal Canin kibble", "Michelin Pilot Sport 5", "Bosch wiper blades",
               "Philips Sonicare", "Dyson Airstrait", "GHD Platinum", "Canon PIXMA", "Epson EcoTank",
               "Logitech MX Master 3S", "Razer BlackWidow", "Steam Deck OLED", "Xbox Series S"]
V4_PLACES = ["Manila", "Cebu", "Davao", "Quebec City", "Montreal", "Laval", "Buenos Aires", "Córdoba",
             "Rosario", "Mendoza", "Bogotá", "Medellín", "Cali", "Cartagena", "Santiago", "Valparaíso",
             "Bucharest", "Cluj-Napoca", "Timișoara", "Iași", "Budapest", "Debrecen", "Szeged", "Bratislava",
             "Košice", "Zagreb", "Split", "Dubrovnik", "Ljubljana", "Maribor", "Istanbul", "Ankara", "Izmir",
             "Antalya", "Port Louis", "San Antonio", "Santa Cruz", "San Juan", "Alexandria", "Charlottetown",
             "George Town", "Jacksonville", "Fort William", "Prince George", "Georgetown", "Williamsburg",
             "Karlsruhe", "Ludwigshafen", "Hamilton", "Stanley", "Victoria Falls", "St. Moritz",
             "the Adriatic coast", "Patagonia", "Transylvania", "Lake Balaton", "the Tatras", "Cappadocia"]
V4_CURRENCIES = [("Philippine pesos", "PHP"), ("Canadian dollars", "CAD"), ("Argentine pesos", "ARS"),
                 ("Colombian pesos", "COP"), ("Chilean pesos", "CLP"), ("Romanian lei", "RON"),
                 ("Hungarian forints", "HUF"), ("euros", "EUR"), ("Turkish lira", "TRY"), ("US dollars", "USD"),
                 ("pounds", "GBP"), ("Mauritian rupees", "MUR"), ("Israeli shekels", "ILS"),
                 ("UAE dirhams", "AED"), ("Saudi riyals", "SAR"), ("Peruvian soles", "PEN"),
                 ("Uruguayan pesos", "UYU"), ("Serbian dinars", "RSD"), ("Litecoin", "LTC"), ("USD Coin", "USDC")]
V4_PAY = ["GCash", "Maya", "Nequi", "Daviplata", "Yape", "Mercado Pago", "MODO", "Interac", "MB Way",
          "Multibanco", "Przelewy24", "EPS", "Barion", "SimplePay", "Papara", "Sezzle", "Affirm",
          "Amazon Pay", "Apple Cash", "Samsung Wallet", "Click to Pay", "Paysera", "a debit card",
          "a store card", "cash at the counter", "bank transfer", "PayPal", "a voucher"]
V4_STARTS = ["Hi", "Hello", "Good afternoon", "Greetings", "Dear team", "Hi there", "Hey folks", "Excuse me",
             "One more thing", "Sorry to bother you", "Please help", "Quick question", "As promised",
             "Following up", "To be clear", "Just so you know", "Earlier today", "Last weekend",
             "Over the holidays", "Before I forget"]
V4_MONTHS = ["February", "April", "July", "September", "November", "Christmas", "the new year", "spring"]
V4_CLEAN_TEMPLATES = [
    "{start}, my {brand} membership renewed at the old price", "{start}, {brand} took {pay} but cancelled the order",
    "Can I freeze my {brand} gym membership while I'm in {place}?", "Is the {product} covered by the {brand} warranty?",
    "The {brand} tickets for the {place} show never arrived", "Does {brand} ship the {product} to {place}?",
    "How much is 120 {code} in {code2}?", "What do you charge to send {cur} to {place}?",
    "I paid for the {brand} course with {pay} and can't log in", "{start}, the {product} from {brand} leaks",
    "My {brand} order in {place} was split into two parcels", "Can I pay the {brand} parking fine with {pay}?",
    "Is there a {brand} store in {place} or only in {place2}?", "The {brand} app charged me in {cur}",
    "{start}, can I swap the {product} for a bigger one?", "I donated to {brand} twice by mistake",
    "Why did {brand} refund me in {code} and not {code2}?", "Does the {place} branch take {pay}?",
    "{start}, the {brand} voucher expired before {month}", "Are {brand} products sold at {brand2}?",
    "I booked a {brand} ride in {place} and was charged twice", "My {product} was delivered to the {place} depot",
    "{start}, I want to cancel {brand} before {month}", "Can I get the {product} in store at {brand}?",
    "Which is better for {place}, {brand} or {brand2}?", "Please stop the {brand} newsletter",
    "The {brand} perfume gift set was missing the bag", "{start}, does {brand} sell the {product}?",
    "The pet food subscription from {brand} skipped {month}", "Exchange rate {cur} to {cur2} today?",
    "My {pay} payment to {brand} is pending since Monday", "Can the {place} shop hold the {product} for me?",
    "{start}, the {brand} event in {place} was moved, can I get a refund?",
    "Is the {brand} sale on in {place} too?", "I'm in {place} next week, can I collect the {product} there?",
    "Do I pay import tax on a {product} sent from {place}?", "{brand} charged a {cur} fee for {pay}",
    "How many points do I get at {brand} for the {product}?", "Refund the {brand} tyres, I bought {brand2} instead",
]
V4_FREE_CLEAN = [
    "Kenneth Cole watch strap broke after two days", "Carolina Herrera perfume came without the box",
    "Oscar de la Renta dress is not the size I ordered", "Paul Mitchell shampoo leaked in the parcel",
    "John Deere mower parts are on backorder", "Dr. Scholl's insoles were charged twice",
    "Mrs. Fields cookies arrived stale", "Dave & Buster's gift card shows zero balance",
    "Sara Lee cake was missing from the order", "Betty Crocker mix is out of stock online",
    "Jenny Craig plan renewed without asking", "Ann Taylor return label does not print",
    "Bobbi Brown foundation shade is wrong", "Victoria Beckham sunglasses came scratched",
    "Anya Hindmarch bag refund is still pending", "Jo Malone London candle was broken",
    "Charles Tyrwhitt shirts came in the wrong collar size", "Thomas Sabo bracelet clasp is loose",
    "Elizabeth Arden cream was charged at full price", "Jean Paul Gaultier perfume was a tester",
    "Yves Saint Laurent lipstick was missing", "Pierre Cardin wallet never arrived",
    "Nina Ricci perfume leaked", "Isabel Marant boots sole came off", "Marc O'Polo jumper shrank",
    "Tom Tailor jacket zip is broken", "Sergio Tacchini tracksuit was sent twice",
    "Dr. Hauschka cream is not on the invoice", "Mrs. Meyer's soap bottle cracked",
    "Mr Porter order went to the old address on file", "Captain Morgan gift set came without glasses",
    "Johnnie Walker bottle was opened", "Jim Beam pack was charged in Canadian dollars",
    "Helena Rubinstein serum is discontinued?", "Max Factor mascara was the wrong colour",
    "Hello, PureGym in Zagreb charged me after I cancelled", "Les Mills on demand stopped working",
    "Strava premium renewed in Turkish lira", "Coursera certificate shows the wrong course",
    "Duolingo family plan charged me twice", "Ticketmaster moved the Budapest concert",
    "Eventbrite refund for the Bogotá workshop?", "Chewy sent cat food instead of dog food",
    "Zooplus parcel to Ljubljana is stuck", "Leroy Merlin delivery to Bucharest was late",
    "eMAG says the Kärcher K5 is back in March", "Trendyol return to Izmir was refused",
    "Shopee voucher does not work with GCash", "Mercado Libre charged me in Argentine pesos",
    "EasyPark took money for a session I stopped", "Bolt driver in Cluj-Napoca cancelled twice",
    "Grab food order in Manila never came", "UNICEF monthly donation went out twice",
    "Sephora points vanished after the Santiago order", "Autodoc sent the wrong Bosch wiper blades",
    "Halfords fitted the wrong Michelin tyres", "Good afternoon, Wayfair sofa arrived with a torn seat",
    "Dear team, the Victoria Falls tour was cancelled", "Prince George store won't take Interac",
    "San Antonio warehouse still shows my parcel", "Charlottetown branch opens at 9?",
    "Stanley Quencher lid is cracked", "Georgetown pickup point is closed on Sunday",
    "Thanks, team", "Kind regards, a loyal customer", "Cheers, and sorry for the long message",
    "Hamilton store said to call head office", "Alexandria hotel added a city tax",
    "Play the new Bad Bunny album on Spotify", "Ask Siri to reorder the Royal Canin kibble",
    "Show me Grey's Anatomy on Disney Plus", "St. Moritz ski pass was charged in Swiss francs",
]


CLEAN_V4 = CleanRecipe("v4", V4_FREE_CLEAN, V4_CLEAN_TEMPLATES, V4_CURRENCIES, V4_BRANDS, V4_PLACES, V4_PRODUCTS, V4_PAY,
                       V4_STARTS, V4_MONTHS, ((0.1, str.lower), (0.14, str.upper), (0.2, _no_closing_punctuation)))


# ---------------------------------------------------------------------------
# Held-out set v5 (round 5). Held-out v4 was looked at row by row while the scrubber was
# improved in round 5, so it is development data now. Everything below was written before the
# scrubber was run on any of it (and before any round-5 change to the scrubber): twelve locales
# used in no earlier set (West/East African, South Asian, South-East Asian, Baltic, Icelandic,
# Swiss-Italian and Belgian-French), cue phrases and value shapes written fresh from how people
# write to home-repair firms, insurers, streaming services, grocery apps and car-rental desks,
# addresses and identifiers of countries Faker has no provider for (written here by hand), and
# clean sentences from those domains with brands named after people, honorific and possessive
# brands, model numbers, times and local currencies. Dates (birth, card expiry) are drawn from the
# seed, not from the day the builder runs, so a rebuild is byte for byte the same.
# ---------------------------------------------------------------------------
V5_LOCALES = ["en_NG", "en_KE", "en_PK", "en_BD", "id_ID", "vi_VN", "lv_LV", "lt_LT", "et_EE", "is_IS",
              "it_CH", "fr_BE"]
V5_TEMPLATES: dict[str, list[str]] = {
    "PERSON": ["policyholder: {v}", "the driver's name is {v}", "add {v} as a second driver",
               "I spoke to {v} on the phone yesterday", "Kind regards {v}", "Thanks,\n{v}", "cheers {v}",
               "{v} here, I rang earlier", "the plumber, {v}, never turned up", "my wife {v} made the booking",
               "Full name: {v}", "the booking is in my partner's name, {v}", "please address the letter to {v}",
               "the claim is in the name of {v}", "Many thanks\n{v}", "named driver - {v}",
               "my landlord {v} will let the engineer in", "the subscription is under {v}",
               "you can leave it with my neighbour {v}", "Name: {v}\nPhone: see below"],
    "EMAIL": ["my email is {v}", "email: {v}", "please cc {v} on the reply", "the receipt went to {v}, I don't use it",
              "{v} is my new email", "contact me by email ({v})", "reply to {v}", "e-mail address {v}"],
    "PHONE": ["my number is {v}", "tel: {v}", "call me on {v}", "mob {v}", "WhatsApp: {v}",
              "reach me on {v} after 6", "phone - {v}", "the driver can ring {v} when outside"],
    "ADDRESS": ["please deliver to {v}", "ship to: {v}", "my new address is {v}", "the property is at {v}",
                "pick me up at {v}", "the car is parked at {v}", "I've moved to {v}", "Delivery address\n{v}",
                "the damage is at our flat, {v}", "address - {v}", "can the technician come to {v} on Monday?",
                "we're renting at {v} for the summer"],
    "POSTCODE": ["postcode is {v}", "zip code {v}", "I'm in {v}, can you deliver?", "postal code: {v}",
                 "my post code {v}", "does the offer cover {v}?", "delivery to postcode {v}", "PIN: {v} (postal)"],
    "DATE_OF_BIRTH": ["date of birth {v}", "my birthday is {v}", "born {v}", "D.O.B. {v}", "DOB - {v}",
                      "I was born {v}", "birth date: {v}", "the main driver was born on {v}"],
    "IP_ADDRESS": ["my IP address is {v}", "IP: {v}", "the router shows {v}", "blocked IP {v}",
                   "I'm connecting from {v}", "sign-in from {v} was not me", "my home IP ({v}) is banned"],
    "IBAN": ["IBAN: {v}", "my account number is {v}", "refund it to {v}", "bank details: {v}",
             "send the money back to {v}", "IBAN {v} (same as before)", "pay the claim into {v}"],
    "NATIONAL_ID": ["my NIN is {v}", "ID no: {v}", "CNIC {v}", "NIK {v}", "personal code {v}", "kennitala {v}",
                    "isikukood: {v}", "national ID number {v}", "ID card number {v}", "my personas kods is {v}"],
    "USERNAME": ["my username's {v}", "IGN: {v}", "I'm registered as {v}", "my account name is {v}", "user: {v}",
                 "my login is {v}", "signed up as {v}", "the account @{v} was banned", "profile name {v}"],
    "CARD": ["card no {v}", "my Mastercard {v} was charged twice", "please charge {v}", "the card on file is {v}",
             "card: {v}", "I paid with {v}", "cancel card {v}, it's lost"],
    "ORDER_ID": ["order no. {v}", "booking ref {v}", "reservation number {v}", "order #: {v}",
                 "my rental agreement {v}", "the job number is {v}", "subscription ID {v}", "delivery {v} is late"],
}
V5_IBAN_BBAN = {"LV": "AAAA#############", "IS": "######################", "AL": "########################",
                "MT": "AAAA#####AAAAAA############", "LU": "###AAAA#########", "GR": "#######################",
                "PK": "AAAA################", "QA": "AAAA#####################", "GE": "AA################",
                "CY": "########################", "BG": "AAAA######AAAAAAAA", "BE": "############"}
V5_IBAN_OF = {"lv_LV": "LV", "is_IS": "IS", "en_PK": "PK", "fr_BE": "BE"}


def _iban_v5(f, rng: random.Random) -> str:
    from stdnum import iban as stdnum_iban

    country = V5_IBAN_OF.get(f._locales[0]) or rng.choice(sorted(V5_IBAN_BBAN))
    bban = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") if c == "A" else str(rng.randint(0, 9))
                   for c in V5_IBAN_BBAN[country])
    if country == "BE":  # the Belgian account number carries its own check (first ten digits mod 97)
        bban = rng.choice(["001", "310", "363", "734", "068", "083", "735"]) + bban[3:10]
        bban += f"{int(bban) % 97 or 97:02d}"
    iban = _with_iban_check(country, bban)
    assert stdnum_iban.is_valid(iban), iban
    r = rng.random()
    if r < 0.35:
        return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    if r < 0.45:
        return "-".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    if r < 0.5:
        return f"{iban[:2]} {iban[2:4]} {iban[4:]}"
    return iban


def _person_v5(f, rng: random.Random) -> str:
    first, last = f.first_name(), f.last_name()
    loc = f._locales[0]
    r = rng.random()
    if r < 0.14:
        return first
    if r < 0.22:
        return f"{first} {last}".lower()
    if r < 0.3:
        return f"{last.upper()} {first}"
    if r < 0.38:
        title = {"en_NG": ["Chief", "Engr.", "Alhaji", "Mrs"], "en_KE": ["Mr", "Mrs", "Dr"],
                 "en_PK": ["Mr.", "Syed", "Dr."], "id_ID": ["Bapak", "Ibu", "Pak"]}.get(loc, ["Mrs", "Mr", "Ms", "Prof."])
        return f"{rng.choice(title)} {first} {last}"
    if r < 0.44:
        return f"{first} {last[0]}."
    if r < 0.5:
        return f"{first}-{f.first_name()} {last}"
    if r < 0.56:
        return f"{first} {f.first_name()} {last}"
    return f"{first} {last}"


def _email_v5(f, rng: random.Random) -> str:
    local, domain = rng.choice([f.email, f.free_email, f.company_email])().split("@")
    r = rng.random()
    if r < 0.12:
        return f"{local}+{rng.choice(['shop', 'netflix', 'orders', 'insurance'])}@{domain}"
    if r < 0.2:
        return f"{local}@mail.{domain}"
    if r < 0.28:
        return f"{local}@{domain}".upper()
    if r < 0.36:
        return f"{local} at {domain.split('.')[0]} dot {'.'.join(domain.split('.')[1:])}"
    if r < 0.43:
        return f"{local}(at){domain.replace('.', '(dot)')}"
    if r < 0.5:
        return f"{local} [@] {domain}"
    if r < 0.56:
        return f"\u201c{local}@{domain}\u201d"
    if r < 0.62:
        return f"{local}@{domain}".replace(".", " . ", 1) if "." in local else f"{local} @{domain}"
    return f"{local}@{domain}"


# National numbers written by hand: (international prefix, national trunk prefix, mobile prefixes, digits after them)
V5_PHONE = {"en_NG": ("234", "0", ["803", "806", "813", "703", "706", "810", "905"], 7),
            "en_KE": ("254", "0", ["712", "722", "733", "701", "745", "110"], 6),
            "en_PK": ("92", "0", ["300", "301", "321", "333", "345"], 7),
            "en_BD": ("880", "0", ["1711", "1819", "1912", "1715", "1534"], 6),
            "lv_LV": ("371", "", ["2"], 7), "lt_LT": ("370", "8", ["6"], 7), "et_EE": ("372", "", ["5"], 7),
            "is_IS": ("354", "", ["61", "66", "69", "77", "82", "86"], 5), "it_CH": ("41", "0", ["76", "78", "79"], 7),
            "fr_BE": ("32", "0", ["470", "475", "486", "496"], 6)}


def _phone_v5(f, rng: random.Random) -> str:
    loc = f._locales[0]
    if loc not in V5_PHONE:
        import phonenumbers  # Faker's numbers for these locales are partly in retired numbering plans: keep real ones

        for _ in range(50):
            number = f.phone_number()
            try:
                if phonenumbers.is_valid_number(phonenumbers.parse(number, loc[-2:])):
                    break
            except phonenumbers.NumberParseException:
                pass
        return number if rng.random() < 0.7 else "".join(c for c in number if c.isdigit() or c == "+")
    cc, trunk, prefixes, n = V5_PHONE[loc]
    prefix = rng.choice(prefixes)
    rest = "".join(str(rng.randint(0, 9)) for _ in range(n))
    r = rng.random()
    if r < 0.3:
        return f"+{cc} {prefix} {rest[:3]} {rest[3:]}"
    if r < 0.45:
        return f"+{cc}{prefix}{rest}"
    if r < 0.55:  # "00" dials abroad only from Europe; Nigerians and Kenyans write the "+"
        return f"00{cc} {prefix}{rest}" if not trunk or trunk == "8" or cc in ("41", "32") else f"+{cc} {prefix}{rest}"
    if r < 0.65:
        return f"(+{cc}) {prefix}-{rest}"
    national = f"{prefix}{rest}"
    if not trunk:  # no trunk prefix: the whole national number, in pairs or threes
        return f"{national[:3]} {national[3:]}" if r < 0.85 else f"{national[:4]} {national[4:]}"
    if r < 0.8:
        return f"{trunk}{prefix}-{rest}"
    return f"{trunk}{prefix} {rest[:3]} {rest[3:]}"


# Streets of countries Faker has no address provider for, written by hand: (streets, (postcode shape, city) pairs, how a line is put together)
V5_STREETS = {
    "en_NG": (["Adeola Odeku Street", "Awolowo Road", "Allen Avenue", "Herbert Macaulay Way", "Ahmadu Bello Way",
               "Aminu Kano Crescent", "Ozumba Mbadiwe Avenue", "Bode Thomas Street"],
              [("######", "Lagos"), ("######", "Abuja"), ("######", "Port Harcourt"), ("######", "Ibadan")]),
    "en_KE": (["Moi Avenue", "Kenyatta Avenue", "Ngong Road", "Argwings Kodhek Road", "Muthaiga Road",
               "Kimathi Street", "Waiyaki Way", "Lenana Road"],
              [("00100", "Nairobi"), ("80100", "Mombasa"), ("40100", "Kisumu"), ("20100", "Nakuru")]),
    "en_PK": (["Shahrah-e-Faisal", "Mall Road", "Jinnah Avenue", "Main Boulevard Gulberg", "Canal Road",
               "Street 12, F-7/2", "Khayaban-e-Ittehad", "Zamzama Boulevard"],
              [("75400", "Karachi"), ("54000", "Lahore"), ("44000", "Islamabad"), ("46000", "Rawalpindi")]),
    "lv_LV": (["Brīvības iela", "Elizabetes iela", "Krišjāņa Barona iela", "Dzirnavu iela", "Lāčplēša iela",
               "Tērbatas iela", "Maskavas iela", "Ganību dambis"],
              [("LV-1010", "Rīga"), ("LV-1050", "Rīga"), ("LV-3001", "Jelgava"), ("LV-5401", "Daugavpils")]),
    "lt_LT": (["Gedimino pr.", "Pilies g.", "Konstitucijos pr.", "Savanorių pr.", "Laisvės al.", "Vilniaus g.",
               "Taikos pr.", "Žalgirio g."],
              [("LT-01103", "Vilnius"), ("LT-44248", "Kaunas"), ("LT-92114", "Klaipėda"), ("LT-76285", "Šiauliai")]),
    "et_EE": (["Narva mnt", "Pärnu mnt", "Tartu mnt", "Viru väljak", "Rüütli tn", "Mustamäe tee",
               "Kalamaja pst", "Lai tänav"],
              [("10117", "Tallinn"), ("10143", "Tallinn"), ("51004", "Tartu"), ("80010", "Pärnu")]),
    "is_IS": (["Laugavegur", "Skólavörðustígur", "Hverfisgata", "Borgartún", "Suðurlandsbraut", "Hafnarstræti",
               "Bankastræti", "Kringlan"],
              [("101", "Reykjavík"), ("105", "Reykjavík"), ("200", "Kópavogur"), ("600", "Akureyri")]),
    "it_CH": (["Via Nassa", "Corso Elvezia", "Via Cantonale", "Viale Stazione", "Via San Gottardo",
               "Piazza Indipendenza", "Via Pretorio", "Contrada di Sassello"],
              [("6900", "Lugano"), ("6500", "Bellinzona"), ("6600", "Locarno"), ("6850", "Mendrisio")]),
    "fr_BE": (["Rue Neuve", "Avenue Louise", "Chaussée de Waterloo", "Boulevard d'Avroy", "Rue de la Loi",
               "Place Flagey", "Rue des Bouchers", "Quai de la Batte"],
              [("1000", "Bruxelles"), ("1050", "Ixelles"), ("4000", "Liège"), ("5000", "Namur")]),
}


def _address_v5(f, rng: random.Random) -> str:
    loc = f._locales[0]
    if loc in V5_STREETS:
        streets, places = V5_STREETS[loc]
        street, (code, city) = rng.choice(streets), rng.choice(places)
        code = "".join(str(rng.randint(0, 9)) if c == "#" else c for c in code)
        number = str(rng.randint(1, 240))
        if loc in ("fr_BE", "it_CH", "lv_LV", "lt_LT", "et_EE", "is_IS"):
            line = f"{street} {number}" + (f"-{rng.randint(1, 40)}" if rng.random() < 0.3 else "")
            if loc == "fr_BE" and rng.random() < 0.3:
                line = f"{street} {number} bte {rng.randint(1, 12)}"
        else:
            line = f"{number} {street}"
            if rng.random() < 0.3:
                line = f"Flat {rng.randint(1, 20)}, {line}"
        r = rng.random()
        if r < 0.4:
            return f"{line}, {code} {city}" if loc not in ("en_NG", "en_KE", "en_PK") else f"{line}, {city} {code}"
        if r < 0.55:
            return f"{line}\n{code} {city}"
        if r < 0.7:
            return f"{line}, {city}"
        if r < 0.8:
            return f"{line} {city}".lower()
        return line
    lines = [line.strip() for line in f.address().splitlines() if line.strip()]
    r = rng.random()
    if r < 0.5:
        return ", ".join(lines)
    if r < 0.65:
        return "\n".join(lines)
    return f.street_address()


V5_POSTCODES = {"en_NG": "######", "en_KE": "#####", "en_PK": "#####", "lv_LV": "LV-####", "lt_LT": "LT-#####",
                "et_EE": "#####", "is_IS": "###", "it_CH": "6###", "fr_BE": "####"}


def _postcode_v5(f, rng: random.Random) -> str:
    shape = V5_POSTCODES.get(f._locales[0])
    if shape is None:
        return f.postcode()
    code = "".join(str(rng.randint(1 if i == 0 else 0, 9)) if c == "#" else c for i, c in enumerate(shape))
    return code.replace("LT-", rng.choice(["LT-", "LT-", ""])).replace("LV-", rng.choice(["LV-", "LV-", "lv-"]))


def _date_v5(rng: random.Random, first_year: int, last_year: int):
    import datetime

    start = datetime.date(first_year, 1, 1).toordinal()
    return datetime.date.fromordinal(rng.randint(start, datetime.date(last_year, 12, 31).toordinal()))


def _ordinal(day: int) -> str:
    return f"{day}{'th' if 10 <= day % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(day % 10, 'th')}"


def _dob_v5(f, rng: random.Random) -> str:
    d = _date_v5(rng, 1938, 2006)
    shape = rng.choice(["%d/%m/%Y", "{D} %B %Y", "%B {D}, %Y", "%Y/%m/%d", "%d %b %Y", "{D}.{M}.%Y",
                        "the {O} of %B %Y", "%m-%d-%Y", "{O} %b %Y", "%d%m%Y"])
    shape = shape.replace("{D}", str(d.day)).replace("{M}", str(d.month)).replace("{O}", _ordinal(d.day))
    return d.strftime(shape)


def _national_id_v5(f, rng: random.Random) -> str | None:
    loc = f._locales[0]
    digits = lambda n: "".join(str(rng.randint(0, 9)) for _ in range(n))  # noqa: E731
    if loc in ("lv_LV", "et_EE"):
        return f.ssn()
    if loc == "en_NG":
        return digits(11)  # NIN
    if loc == "en_KE":
        return str(rng.randint(20000000, 39999999))  # national ID card number
    if loc == "en_PK":
        return f"{rng.choice(['35202', '42101', '61101', '37405'])}-{digits(7)}-{rng.randint(1, 9)}"  # CNIC
    if loc == "id_ID":
        d = _date_v5(rng, 1950, 2005)
        day = d.day + (40 if rng.random() < 0.5 else 0)
        return f"{rng.choice(['317101', '327301', '351501', '517102'])}{day:02d}{d.month:02d}{d.year % 100:02d}{digits(4)}"  # NIK
    if loc == "lt_LT":
        from stdnum.lt import asmens
        while True:
            d = _date_v5(rng, 1950, 2005)
            body = f"{rng.choice('3456')}{d.year % 100:02d}{d.month:02d}{d.day:02d}{digits(3)}"
            check = asmens.calc_check_digit(body)
            if asmens.is_valid(body + check):
                return body + check
    if loc == "is_IS":
        from stdnum.is_ import kennitala
        while True:
            d = _date_v5(rng, 1950, 2005)
            number = f"{d.day:02d}{d.month:02d}{d.year % 100:02d}{digits(2)}"
            for check in "0123456789":
                candidate = number + check + ("9" if d.year < 2000 else "0")
                if kennitala.is_valid(candidate):
                    return f"{candidate[:6]}-{candidate[6:]}"
    return None


V5_CARD_TYPES = [None, "visa16", "mastercard", "amex", "discover", "jcb16", "diners", "maestro", "visa19"]


def _card_v5(f, rng: random.Random) -> str:
    number = f.credit_card_number(card_type=rng.choice(V5_CARD_TYPES))
    r = rng.random()
    if r < 0.35:
        return " ".join(number[i:i + 4] for i in range(0, len(number), 4))
    if r < 0.42:
        return "  ".join(number[i:i + 4] for i in range(0, len(number), 4))
    if r < 0.48:
        return ".".join(number[i:i + 4] for i in range(0, len(number), 4))
    if r < 0.55 and len(number) == 14:
        return f"{number[:4]} {number[4:10]} {number[10:]}"
    return number


def _expiry_v5(f, rng: random.Random) -> str:
    d = _date_v5(rng, 2025, 2033)
    shape = rng.choice(["%m/%y", "{M}/%y", "%m / %y", "%Y/%m", "%B %Y", "%m/%Y", "%b-%Y", "%m.%y", "%b %y"])
    return d.strftime(shape.replace("{M}", str(d.month)))


def _username_v5(f, rng: random.Random) -> str:
    name = f.user_name()
    r = rng.random()
    if r < 0.15:
        return f"{name}_{rng.randint(1, 99)}"
    if r < 0.25:
        return f"xX_{name}_Xx"
    if r < 0.35:
        return "".join(p.capitalize() for p in name.replace(".", " ").replace("_", " ").split()) + str(rng.randint(1, 99))
    if r < 0.45:
        return f"the.real.{name}"
    if r < 0.52:
        return name.upper()
    return name


def _value_v5(f, kind: str, rng: random.Random) -> str | None:
    if kind == "PERSON":
        return _person_v5(f, rng)
    if kind == "EMAIL":
        return _email_v5(f, rng)
    if kind == "PHONE":
        return _phone_v5(f, rng)
    if kind == "ADDRESS":
        return _address_v5(f, rng)
    if kind == "POSTCODE":
        return _postcode_v5(f, rng)
    if kind == "DATE_OF_BIRTH":
        return _dob_v5(f, rng)
    if kind == "IP_ADDRESS":
        r = rng.random()
        if r < 0.55:
            return f.ipv4_public()
        if r < 0.8:
            return f.ipv6()
        import ipaddress
        return str(ipaddress.IPv6Address(f.ipv6()))  # compressed form
    if kind == "IBAN":
        return _iban_v5(f, rng)
    if kind == "NATIONAL_ID":
        return _national_id_v5(f, rng)
    if kind == "USERNAME":
        return _username_v5(f, rng)
    if kind == "CARD":
        return _card_v5(f, rng)
    if kind == "ORDER_ID":
        shapes = ["BK######", "RA-########", "WO-#####", "SUB_########", "#-####-####", "G########",
                  "??-###-###", "NF########", "GD#####-##", "R########?"]
        return f.bothify(rng.choice(shapes)).upper()
    raise ValueError(kind)


def _card_details_v5(f, rng: random.Random) -> tuple[str, list[tuple[str, int, int]]]:
    number = _card_v5(f, rng)
    masked = rng.random() < 0.35
    tail = "".join(c for c in number if c.isdigit())[-4:]
    shown = rng.choice(["card ending in ", "\u2022\u2022\u2022\u2022 ", "x", "last 4 digits ", "xxxx "]) + tail if masked else number
    expiry = _expiry_v5(f, rng)
    cvv = f.credit_card_security_code()
    shape = rng.choice(["{n} exp {e} cvc {c}", "Card: {n}\nExpiry: {e}\nCVV: {c}", "{n}, {e}, {c}",
                        "number {n} / expiry {e} / security code {c}",
                        "card no {n} valid thru {e} and the code on the back is {c}", "{n} exp. {e} (cvc {c})",
                        "{n} {e} cvv {c}", "my card {n}, it expires in {e}, 3-digit code {c}"])
    return _fill_card_shape(shape, shown, expiry, cvv, masked)


V5_NEGATIVES = [
    ("it came to {v}", lambda f, r: r.choice([f"₦{r.randint(2, 90)},{r.randint(0, 999):03d}", f"KSh {r.randint(1, 9)},{r.randint(0, 999):03d}",
                                               f"Rp {r.randint(10, 999)}.000", f"{r.randint(100, 999)}.000 VND",
                                               f"Rs. {r.randint(1, 9)},{r.randint(0, 999):03d}", f"{r.randint(1, 99)},{r.randint(0, 99):02d} CHF"])),
    ("the engineer comes at {v}", lambda f, r: r.choice([f"{r.randint(7, 11)}.{r.choice(['00', '15', '30', '45'])}am",
                                                          f"{r.randint(12, 19)}:{r.choice(['00', '30'])}",
                                                          f"{r.randint(1, 6)}pm"])),
    ("model {v}", lambda f, r: r.choice(["WF45B6300AW", "RF28T5001SR", "DCD791D2", "QE55Q80C", "UN65TU7000",
                                         "HR2081/05", "EW6F4843BB", "KGN39VIEA", "Model Y", "XC40 B4"])),
    ("part no. {v}", lambda f, r: f"{r.randint(1000, 9999)}-{r.randint(10000, 99999)}"),
    ("episode {v}", lambda f, r: f"S{r.randint(1, 9):02d}E{r.randint(1, 22):02d}"),
    ("room {v}", lambda f, r: str(r.randint(101, 1450))),
    ("a {v} battery", lambda f, r: f"{r.choice([12, 24])}V {r.randint(40, 95)}Ah"),
    ("in {v}", lambda f, r: f.city()),
    ("via {v}", lambda f, r: f.company()),
    ("on {v}", lambda f, r: f"{r.randint(1, 28)}/{r.randint(1, 12)}"),
    ("for {v} nights", lambda f, r: str(r.randint(2, 14))),
    ("ISBN {v}", lambda f, r: r.choice(["978-3-16-148410-0", "978-0-306-40615-7", "978-1-4028-9462-6"])),
]


def _placer(*rules: tuple[float, str]):
    """A placer from (cut, layout) rules: the first rule whose cut the draw is under lays the
    fragment and the host out ("{host}", "{fragment}"; "{fragment}{sentence_end}" for a fragment that
    takes a full stop unless it ends in ? or !); the last rule's cut is ignored. Returns
    place(r, host, fragment) -> (text, offset of the fragment in it)."""
    def place(r: float, host: str, fragment: str) -> tuple[str, int]:
        layout = next((lay for cut, lay in rules[:-1] if r < cut), rules[-1][1])
        end = " " if fragment.endswith(("?", "!")) else ". "
        before, _, _ = layout.partition("{fragment}")
        fields = {"host": host, "fragment": fragment}
        text = layout.replace("{sentence_end}", end).format(**fields)
        return text, len(before.format(**fields))
    return place


_place_v5 = _placer((0.35, "{host}. {fragment}"), (0.65, "{fragment}. {host}"), (0.8, "{host}\n\n{fragment}"),
                    (0.9, "{host} ({fragment})"), (1.0, "{host}, {fragment}"))


# Faker's lv_LV and et_EE ssn() count the holder's age back from the day the builder runs: v5 pins that day to
# the one its files were built on (found in round 6, when a rebuild a day later changed 34 national numbers).
V5_BUILT_ON = "2026-12-06"


def _faker_ssn_today(day: str):
    """A context in which Faker's Latvian and Estonian ssn() take ``day`` (ISO) as today."""
    import contextlib
    import datetime

    import faker.providers.ssn.et_EE as ssn_et
    import faker.providers.ssn.lv_LV as ssn_lv

    pinned = datetime.date.fromisoformat(day)

    class _Date(datetime.date):
        @classmethod
        def today(cls):
            return pinned

    class _Datetime:
        def __getattr__(self, name):
            return getattr(datetime, name)

    shim = _Datetime()
    shim.date = _Date

    @contextlib.contextmanager
    def pinned_today():
        saved = ssn_lv.datetime, ssn_et.datetime
        ssn_lv.datetime = ssn_et.datetime = shim
        try:
            yield
        finally:
            ssn_lv.datetime, ssn_et.datetime = saved

    return pinned_today()


def build_injected_v5(n_per_type: int, seed: int, hosts: list[str]) -> list[dict]:
    with _faker_ssn_today(V5_BUILT_ON):
        return build_injected(HeldOutRecipe("v5", V5_LOCALES, 97, _value_v5, _card_details_v5, V5_TEMPLATES,
                                            V5_NEGATIVES, ", ", _place_v5), n_per_type, seed, hosts)


V5_BRANDS = ["Mr. Handyman", "Mr. Rooter", "Mr. Electric", "Dyno-Rod", "HomeServe", "Checkatrade", "TaskRabbit",
             "Angi", "Rentokil", "Screwfix", "Toolstation", "Wickes", "Home Depot", "Bunnings", "Travis Perkins",
             "Sherwin-Williams", "Benjamin Moore", "Farrow & Ball", "Dulux", "Ronseal", "DeWalt", "Black+Decker",
             "Ryobi", "Hilti", "Festool", "Liberty Mutual", "John Hancock", "Churchill", "Direct Line", "Aviva",
             "Admiral", "Hiscox", "Lemonade", "Allstate", "Geico", "Allianz", "AXA", "Chubb", "Zurich", "Swinton",
             "Netflix", "Disney+", "Paramount+", "Peacock", "Hulu", "Showmax", "Canal+", "DAZN", "Tidal", "Deezer",
             "Audible", "Kindle Unlimited", "Mubi", "BritBox", "Sky Go", "YouTube Premium", "Apple Music",
             "Tesco", "Morrisons", "Waitrose", "Whole Foods", "Kroger", "Instacart", "Walmart+", "Getir", "Flink",
             "Picnic", "Wolt", "Glovo", "Jumia", "Blinkit", "Zepto", "Albert Heijn", "Maxima", "Rimi", "Bónus",
             "Delhaize", "Colruyt", "Hertz", "Avis", "Enterprise", "Europcar", "Budget", "Alamo", "Thrifty",
             "Turo", "Getaround", "Zipcar", "Goldcar", "Kohl's", "Macy's", "Carter's", "Claire's", "Dillard's",
             "Lands' End", "Wendy's", "Denny's", "McDonald's", "Kellogg's", "Hershey's", "Reese's", "Carl's Jr.",
             "Jimmy John's", "Bob's Discount Furniture", "Ashley Furniture", "Harry & David", "Tony's Chocolonely",
             "Jamie Oliver", "Gordon Ramsay", "Edward Jones", "Abercrombie & Fitch", "Warby Parker",
             "Specsavers", "Ray-Ban", "Oakley", "Trek", "Giant", "Halfords", "Mike's Bikes", "Smyths Toys",
             "Hamleys", "Lego", "Fisher-Price", "Little Tikes", "Safaricom", "M-Pesa", "MTN", "Airtel", "Jazz",
             "Grameenphone", "bKash", "Gojek", "Tokopedia", "Viettel", "Tele2", "Bite", "Síminn", "Proximus"]
V5_HONORIFIC_FREE = [
    "Mr. Handyman sent a different guy than the one I booked", "Does Mr. Rooter do weekend callouts in Nairobi?",
    "Mr. Electric quote was double what the website said", "Dr. Bronner's soap leaked in the Tesco bag",
    "Dr Pepper multipack was missing from the Instacart order", "Mrs. Baird's bread was past its date",
    "Mr. Kipling cakes were squashed", "Mr. Clean magic erasers arrived open", "my Mr. Coffee maker stopped heating",
    "Is Dr. Jart+ cream sold in the Riga store?", "Mrs. Butterworth's syrup bottle cracked in transit",
    "Dr. Brown's bottles were the wrong size", "Aunt Bessie's yorkshires were not in the freezer bag",
    "Uncle Tobys oats came instead of the ones I picked", "Captain Birds Eye fish fingers were substituted",
    "I love Mr. Handyman's work but the invoice is wrong", "Can Mr. Rooter's plumber come before 10am?",
    "Sir Kensington's mayo was charged twice", "Mrs. Crimble's macaroons were broken",
    "Dr. Oetker's frozen pizzas melted, the van had no cooler",
]
V5_PEOPLE_FREE = [
    "Benjamin Moore paint arrived in the wrong shade", "John Hancock says my claim is still under review",
    "Tony's Chocolonely bars were melted when Picnic delivered them", "Gordon Ramsay pans are out of stock again",
    "Jamie Oliver knife set is missing the bread knife", "Edward Jones statement shows the wrong month",
    "Harry & David gift box arrived a week late", "Ashley Furniture sofa leg was snapped",
    "Warby Parker glasses came with the wrong lenses", "Mike's Bikes serviced the Trek and the brakes squeak",
    "Carl's Jr. burger was cold", "Jimmy John's driver left the bag at the wrong door",
    "Abercrombie & Fitch refund went to my old card", "Bob's Discount Furniture delivery window was 8 to 12",
    "Sherwin-Williams mixed the wrong colour", "DeWalt drill battery won't charge",
    "Black+Decker strimmer came without the guard", "Liberty Mutual wants photos of the water damage",
    "Churchill say the excess is £250", "Ted Lasso isn't on my Apple TV anymore",
    "Stephen King audiobook won't download on Audible", "Agatha Christie box set is missing a disc",
    "Peppa Pig episodes disappeared from the kids profile", "Harry Potter films left Peacock?",
    "Taylor Swift concert film isn't in 4K", "Dolly Parton Christmas special won't play",
]
V5_PLACE_FREE = [
    "Chelsea branch of Tesco cancelled my slot", "Shannon airport Hertz desk was closed at 11pm",
    "Savannah hotel added a resort fee", "Eugene store has the Ryobi mower in stock",
    "Tyler warehouse keeps rescheduling", "Marion office never called back about the claim",
    "Aurora depot lost the car keys", "Charleston pickup was 2 hours late",
    "Lafayette Avenue is where the van got stuck", "Troy location charged a young driver fee",
    "Lagos office says the claim needs a police report", "Nairobi Safaricom shop couldn't unlock the phone",
    "Karachi branch wants the original receipt", "Jakarta Gojek driver cancelled twice",
    "Hanoi hotel had no hot water", "Riga Rimi order came without bags", "Vilnius Maxima charged me twice",
    "Tallinn Bolt car smelled of smoke", "Reykjavík Europcar gave us a car with a cracked windscreen",
    "Lugano Avis wants a second card for the deposit", "Namur Delhaize delivery had no milk",
    "Liège Proximus shop closes at 6?", "Tirana airport car hire had no child seat",
    "Port Harcourt branch won't accept the transfer", "Beverly Hills store sent the wrong frames",
]
V5_SHAPE_FREE = [
    "Rented a Toyota RAV4 from Avis, got a Kia Sportage, paid £340 for 5 days", "KSh 2,500 was taken twice by M-Pesa",
    "₦45,000 debited but Jumia says payment failed", "Rp 250.000 top up on Gojek didn't show",
    "paid 1.500.000 VND for the room, charged 1.800.000", "Netflix went up to 15,99 € without warning",
    "the Samsung WF45B6300AW washer leaks from the door", "Bosch KGN39VIEA fridge is making a buzzing noise",
    "Philips HR2081/05 blender jar cracked", "the engineer said 9.30am but came at 14:45",
    "slot was 18:00-19:00, shopper arrived 20:10", "Zipcar was booked 08:00 to 11:30, charged till 13:00",
    "S02E05 keeps buffering on the Hulu app", "1080p only even though I pay for 4K UHD",
    "the VW ID.4 had 38% battery at pickup", "policy renewal went from $1,104 to $1,390",
    "claim ref is in the email, do you need it?", "Premium plan is 11,99 € in Belgium but 9,99 € in France?",
    "Deliver between 7 and 9 please, nobody home after", "Order of 3x 2L milk came as 6x 1L",
    "Grocery total 4.820 ISK but my card shows 5.120 ISK", "the 12V 45Ah battery from Halfords is flat again",
    "Can I add a second driver to the Europcar booking?", "Is a Mercedes GLC 300 in the same group as a BMW X3?",
    "My YouTube Premium family plan has 6 people, can I add one more?",
    "Thanks so much!", "Cheers, sorted now", "Regards, a frustrated customer", "Many thanks in advance",
    "Kind regards, the tenants of the ground floor", "Best, and have a good weekend",
]
V5_FREE_CLEAN = V5_HONORIFIC_FREE + V5_PEOPLE_FREE + V5_PLACE_FREE + V5_SHAPE_FREE
V5_PRODUCTS = ["boiler service", "Ryobi cordless mower", "DeWalt DCD791D2 drill", "Bosch Serie 6 dishwasher",
               "Samsung Bespoke fridge", "Worcester Bosch boiler", "Hive thermostat", "Ring doorbell",
               "Nest Protect", "Velux window", "Hozelock hose reel", "Fire TV Stick 4K", "Roku Ultra",
               "Chromecast with Google TV", "Apple TV 4K", "Sonos Beam", "family plan", "4K premium plan",
               "ad-free tier", "annual pass", "weekly veg box", "organic milk", "sourdough loaf", "meal kit",
               "Toyota Corolla", "VW Golf", "Kia Niro EV", "Tesla Model 3", "Fiat 500", "Ford Transit van",
               "child seat", "roof box", "GPS unit", "snow chains", "home insurance policy", "travel insurance",
               "contents cover", "windscreen cover"]
V5_PLACES = ["Lagos", "Abuja", "Ibadan", "Nairobi", "Mombasa", "Kisumu", "Karachi", "Lahore", "Islamabad",
             "Dhaka", "Chittagong", "Jakarta", "Surabaya", "Bandung", "Hanoi", "Da Nang", "Ho Chi Minh City",
             "Riga", "Jūrmala", "Vilnius", "Kaunas", "Tallinn", "Tartu", "Reykjavík", "Akureyri", "Lugano",
             "Locarno", "Bellinzona", "Brussels", "Liège", "Namur", "Charleroi", "Tirana", "Durrës",
             "Chelsea", "Shannon", "Savannah", "Eugene", "Tyler", "Marion", "Aurora", "Charleston", "Troy",
             "Lafayette", "Beverly Hills", "Santa Monica", "Fort Lauderdale", "Mount Pleasant", "St. Albans",
             "St. Helens", "Port Harcourt", "Lake Louise", "Kimberley", "Darlington", "Bristol Airport",
             "Heathrow Terminal 5", "Schiphol", "Keflavík airport", "the Amalfi coast", "the Lake District"]
V5_CURRENCIES = [("naira", "NGN"), ("Kenyan shillings", "KES"), ("Pakistani rupees", "PKR"), ("taka", "BDT"),
                 ("rupiah", "IDR"), ("dong", "VND"), ("euros", "EUR"), ("Icelandic krónur", "ISK"),
                 ("Swiss francs", "CHF"), ("Albanian lek", "ALL"), ("pounds", "GBP"), ("dollars", "USD"),
                 ("Ghanaian cedis", "GHS"), ("rand", "ZAR"), ("Moroccan dirhams", "MAD"), ("Egyptian pounds", "EGP"),
                 ("Sri Lankan rupees", "LKR"), ("Malaysian ringgit", "MYR"), ("Ethereum", "ETH"), ("Dogecoin", "DOGE")]
V5_PAY = ["M-Pesa", "bKash", "Nagad", "JazzCash", "Easypaisa", "OPay", "Paystack", "Flutterwave", "GoPay",
          "OVO", "DANA", "MoMo", "ZaloPay", "Payconiq", "Bancontact", "Aur", "Kass", "Apple Pay", "Google Pay",
          "PayPal", "Klarna", "Clearpay", "credit card", "prepaid Visa", "direct debit", "cash on delivery",
          "gift card", "store credit"]
V5_STARTS = ["Hiya", "Hey there", "Good morning", "Evening", "Hi again", "Sorry", "Urgent", "Help",
             "Morning all", "Hello team", "Apologies", "Right so", "Ugh", "Quick one", "Just wondering",
             "Third time asking", "Still waiting", "Following my call", "As per my email", "Ok"]
V5_MONTHS = ["January", "March", "April", "June", "August", "October", "the end of the month", "Ramadan",
             "the school holidays", "Black Friday"]
V5_CLEAN_TEMPLATES = [
    "{start}, {brand} sent the engineer at {time} but nobody called first",
    "{start}, the {product} from {brand} still isn't fixed after two visits",
    "Can {brand} come and look at the {product} before {month}?", "Does the {brand} policy cover the {product}?",
    "{brand} rejected my claim for the {product}, can I appeal?", "{start}, the {brand} assessor never showed up",
    "How much is the {brand} excess in {cur}?", "My {brand} renewal jumped from {amount} to a lot more",
    "{start}, {brand} charged me {amount} for a month I cancelled", "Why is {brand} more expensive in {place} than in {place2}?",
    "Can I watch {brand} in {place} on holiday?", "The {product} keeps logging me out of {brand}",
    "{start}, I paid for {brand} with {pay} and it still says expired", "Is the {product} included with {brand}?",
    "The {brand} order came at {time} with half the items missing", "{start}, {brand} substituted my {product} again",
    "Can the {brand} driver leave it at the door in {place}?", "My {brand} delivery slot moved to {time}",
    "I want a refund of {amount} from {brand} for the rotten fruit", "Does {brand} deliver to {place} on Sundays?",
    "{start}, the {brand} desk in {place} charged a deposit of {amount}", "Can I drop the {product} at {place2} instead of {place}?",
    "The {brand} rental in {place} had a scratch they're blaming on me", "{start}, is a {product} extra with {brand}?",
    "How much is 300 {code} in {code2}?", "Can I pay {brand} in {cur} or only in {cur2}?",
    "{brand} took {pay} but the order shows unpaid", "Are {brand} and {brand2} the same company?",
    "{start}, the {model} I bought from {brand} is faulty", "Will {brand} replace the {model} or repair it?",
    "{start}, {brand} said {time} on {month} is the earliest slot", "Which is cheaper in {place}, {brand} or {brand2}?",
    "I switched from {brand} to {brand2}, please stop the direct debit", "My {pay} payment to {brand} is pending since {time}",
    "{start}, can I pause {brand} until {month}?", "Is there a {brand} in {place} that does same-day?",
    "{brand} quoted {amount} for the {product}, is that right?", "The {brand} app shows prices in {cur}",
    "{start}, I returned the {product} to {brand} in {place} but no refund yet",
    "Can I use a {brand} voucher at {brand2}?", "{brand}'s customer service hung up on me twice",
    "The {brand} guy fitted the {model} and now it trips the fuse",
]
V5_TIMES = ["9am", "10.30", "11:15", "7:45 pm", "14:00", "noon", "8 in the morning", "half past 3", "18.30",
            "6pm", "0900", "between 8 and 12", "2-4pm"]
V5_MODELS = ["WF45B6300AW", "RF28T5001SR", "QE55Q80C", "UN65TU7000", "EW6F4843BB", "KGN39VIEA", "HR2081/05",
             "DCD791D2", "GTX 1660", "WH-CH720N", "SM-T220", "XR-55A80L", "Model 3", "ID.4", "RAV4"]


def _extra_v5(rng: random.Random) -> dict:
    amount = rng.choice([f"£{rng.randint(20, 900)}", f"${rng.randint(10, 2000):,}", f"€{rng.randint(5, 400)},{rng.randint(0, 99):02d}",
                         f"₦{rng.randint(5, 300)},000", f"KSh {rng.randint(1, 20)},{rng.randint(0, 9)}00",
                         f"Rs {rng.randint(1, 90)},{rng.randint(0, 999):03d}", f"{rng.randint(2, 99)}.000 ISK",
                         f"CHF {rng.randint(20, 600)}.-", f"{rng.randint(100, 999)}k VND"])
    return dict(time=rng.choice(V5_TIMES), model=rng.choice(V5_MODELS), amount=amount)


def _exclaimed(text: str) -> str:
    return text.rstrip("?.!") + "!!"


CLEAN_V5 = CleanRecipe("v5", V5_FREE_CLEAN, V5_CLEAN_TEMPLATES, V5_CURRENCIES, V5_BRANDS, V5_PLACES, V5_PRODUCTS, V5_PAY,
                       V5_STARTS, V5_MONTHS, ((0.1, str.lower), (0.14, str.upper), (0.22, _no_closing_punctuation),
                                              (0.25, _exclaimed)), extra=_extra_v5)


# ---------------------------------------------------------------------------
# Held-out set v6 (round 6). Held-out v5 was looked at while the scrubber was improved in round
# 6, so it is development data now. Everything below was written before the scrubber was run on
# any of it: twelve locales used in no earlier set (Thai, Japanese and Chinese names romanised
# or in their own script, Malaysian, Irish-language, Azerbaijani, Uzbek, Zulu, Twi, Swahili,
# Algerian-French and Catalan), cue phrases and value shapes written fresh from how people write
# to airlines and railways, pharmacies and online doctors, energy/water/broadband suppliers,
# gyms, hotels, ticket sellers, pet shops, furniture stores, mobile games and course providers;
# streets, postcodes, phone numbers, national numbers and IBANs written by hand from each
# country's real shapes (phone numbers checked with `phonenumbers`, IBAN check digits and the
# national numbers that python-stdnum knows checked with it, cards Luhn-valid); look-alikes
# from those domains (flight and train numbers, seats, gates, doses, kWh, meter readings, SKUs,
# game levels) beside the values. Dates are drawn from the seed, so a rebuild is byte for byte.
# ---------------------------------------------------------------------------
V6_LOCALES = ["en_TH", "ja_JP", "zh_CN", "en_MS", "ga_IE", "az_AZ", "uz_UZ", "zu_ZA", "tw_GH", "sw", "fr_DZ",
              "es_CA"]
V6_TEMPLATES: dict[str, list[str]] = {
    "PERSON": ["lead passenger: {v}", "name exactly as in the passport - {v}", "the prescription is for {v}",
               "the appointment is for my father, {v}", "please rebook {v} on the later train too",
               "the room was booked by {v}, I'm the second guest", "transfer both tickets to {v}, she's going instead",
               "the student is {v}, year 9", "the vet card lists {v} as the owner",
               "the gym membership is {v}'s, not mine", "the meter is still registered to {v}, the previous tenant",
               "{v} will be home to sign for the wardrobe", "Warmly,\n{v}", "Rgds\n{v}", "Thanks a million, {v}",
               "{v} (the patient)", "guardian: {v}", "Attendee name - {v}", "I'm {v}'s mum, she can't open her course",
               "the booking shows {v} instead of me, please correct it", "Sent by {v} from the app",
               "my son {v} bought the gems on my phone", "the trainer, {v}, cancelled our session again",
               "the bed is a gift from {v}, please don't include the invoice"],
    "EMAIL": ["send the e-ticket to {v}", "my email for the booking confirmation: {v}",
              "the prescription receipt should go to {v}", "bills by email please, to {v}",
              "the reset link never reaches {v}", "{v} - that's where the certificate should go",
              "Apple ID / email: {v}", "e: {v}", "the email on the loyalty card is {v}",
              "you have my email already, it's {v}", "can the vet send the records to {v}?"],
    "PHONE": ["m: {v}", "the pharmacy can call me on {v}", "contact during the stay: {v}", "SMS the gate change to {v}",
              "LINE / WhatsApp {v}", "the delivery crew should phone {v} 30 min before", "emergency contact number {v}",
              "my number changed to {v}, please update the account", "{v} (mobile, any time)", "Tel/WhatsApp: {v}",
              "the vet can reach me at {v}", "please ring me back - {v}"],
    "ADDRESS": ["deliver the sofa to {v}, no lift", "the meter is at {v}", "service address: {v}",
                "send the medicine to {v}", "supply address - {v}", "the pet food box goes to {v} every month",
                "Invoice address:\n{v}", "home address as in the passport: {v}",
                "we've just moved into {v} and need broadband", "Address for the certificate: {v}",
                "they left the wardrobe at {v} instead of next door", "can you collect the old mattress from {v}?"],
    "POSTCODE": ["post code of the supply address is {v}", "is fibre available in postcode {v}?",
                 "which pharmacy is closest to {v}?", "{v} - is that inside your delivery zone?",
                 "the app rejects my postal code ({v})", "do you do furniture assembly in {v}?", "zip: {v}",
                 "the form wants a postcode, mine is {v}", "for the tariff quote: postcode {v}"],
    "DATE_OF_BIRTH": ["passenger DOB {v}", "date of birth (for the prescription): {v}", "the student was born on {v}",
                      "birthdate as on the ID - {v}", "DOB/age check: {v}", "my birthdate's {v}", "b. {v}",
                      "birthday for the member discount: {v}", "patient DOB {v}", "the child's date of birth is {v}",
                      "I'm a senior, born {v}", "{v} is my date of birth"],
    "IP_ADDRESS": ["my IP shows as {v} in the game", "banned from the server, IP {v}", "the hotel wifi gave me {v}",
                   "router WAN address: {v}", "the course portal blocks {v}", "connection from {v} port 443 refused",
                   "{v} is my static IP from the broadband plan", "the streaming app says {v} is a VPN, it isn't"],
    "IBAN": ["refund the cancelled flight to {v}", "direct debit for the electricity from IBAN {v}", "my bank: {v}",
             "please use {v} for the gym debit instead", "IBAN / account: {v}", "deposit back to {v} after check-out",
             "the tuition refund should go to {v}", "account for the refund -> {v}"],
    "NATIONAL_ID": ["ID card no. for the ticket: {v}", "my citizen ID is {v}", "personal ID number (for the prescription) {v}",
                    "identity number {v}", "IC no. {v}", "my ID is {v}, please verify", "I.D. #{v}",
                    "national identification no. {v}", "the SIM registration needs {v}, that's my ID",
                    "ID for the exam registration: {v}"],
    "USERNAME": ["my in-game name is {v}", "player name: {v}", "LINE ID {v}", "search for {v} in the app",
                 "the gym app login is {v}", "student portal username - {v}", "Discord: {v}",
                 "my nickname in the game is {v}", "the leaderboard shows {v}, that's me",
                 "my account ({v}) got reset to level 1", "logged in with {v} on two phones", "WeChat ID: {v}"],
    "CARD": ["card for the deposit: {v}", "refund it to the card {v}", "the card that paid for the tickets: {v}",
             "debit card number {v}", "use {v} for the monthly pet food", "card {v} is on the gym account, replace it",
             "CC# {v}", "pay the bill with {v}"],
    "ORDER_ID": ["booking code {v}", "PNR {v}", "e-ticket number {v}", "confirmation no. {v}",
                 "prescription number {v}", "order {v} (the sofa)", "support ticket {v}", "enrolment ID {v}",
                 "ticket order #{v}", "my reservation {v} at the hotel", "delivery reference: {v}",
                 "membership no. {v}"],
}
V6_TITLES = {"en_TH": ["Khun", "Mr.", "Ms.", "Dr."], "ja_JP": ["Mr.", "Ms.", "Mrs.", "Dr."],
             "zh_CN": ["Mr.", "Ms.", "Dr.", "Prof."], "ga_IE": ["Mr", "Ms", "Dr", "Fr."],
             "az_AZ": ["cənab", "Dr."], "uz_UZ": ["Mr", "Dr."], "zu_ZA": ["Mr", "Mrs", "Baba", "Mama", "Gogo", "Prof."],
             "tw_GH": ["Nana", "Maame", "Agya", "Rev.", "Mrs.", "Togbe"], "sw": ["Bw.", "Bi.", "Mzee", "Mama", "Mwalimu"],
             "fr_DZ": ["M.", "Mme", "Dr", "Pr"], "es_CA": ["Sr.", "Sra.", "Dr.", "Dra."]}
V6_SUFFIX = {"ja_JP": ["-san", "-sama", " san"], "az_AZ": [" müəllim", " xanım", " bəy"], "uz_UZ": [" aka", " opa"]}
# Malaysian names by hand (Faker's en_MS has no names of its own): Malay with bin/binti, Chinese, Indian with a/l, a/p
V6_MY_MALAY = (["Muhammad Hafiz", "Ahmad Faizal", "Mohd Azlan", "Amirul Hakim", "Syafiq", "Khairul Anuar", "Firdaus"],
               ["Nur Aisyah", "Farah Hanim", "Aina Sofea", "Nur Syafiqah", "Intan Nabila", "Siti Khadijah"],
               ["Ismail", "Ahmad", "Abdullah", "Rahman", "Hassan", "Yusof", "Osman", "Zakaria"])
V6_MY_CHINESE = (["Tan", "Lim", "Lee", "Ng", "Wong", "Chong", "Teh", "Ooi", "Goh", "Yap"],
                 ["Wei Ming", "Mei Ling", "Jia Hui", "Kok Leong", "Siew Yen", "Chee Keong", "Hui Min"],
                 ["Jason", "Michelle", "Kelvin", "Vivian", "Alvin", "Joanne", "Desmond"])
V6_MY_INDIAN = (["Suresh", "Ganesh", "Rajesh", "Arun", "Vinod"], ["Kavitha", "Priya", "Thivya", "Revathi", "Malar"],
                ["Muthusamy", "Rajan", "Subramaniam", "Krishnan", "Arumugam", "Maniam"])
V6_ZH_ENGLISH = ["Kevin", "Vivian", "Jason", "Cindy", "Eric", "Grace", "Tony", "Coco", "Jack", "Lily"]
V6_AZ_ASCII = str.maketrans({"ə": "a", "Ə": "A", "ı": "i", "İ": "I", "ş": "sh", "Ş": "Sh", "ç": "ch", "Ç": "Ch",
                             "ğ": "g", "Ğ": "G", "ö": "o", "Ö": "O", "ü": "u", "Ü": "U", "x": "kh"})


def _names_v6(f, rng: random.Random) -> tuple[str, str, str]:
    """(given name, family name, the full name in the order people of the locale write it)."""
    loc = f._locales[0]
    if loc == "en_MS":
        r = rng.random()
        if r < 0.45:
            male, female, fathers = V6_MY_MALAY
            female_pick = rng.random() < 0.5
            given = rng.choice(female if female_pick else male)
            return given, rng.choice(fathers), f"{given} {'binti' if female_pick else 'bin'} {rng.choice(fathers)}"
        if r < 0.8:
            surnames, given_names, english = V6_MY_CHINESE
            family, given = rng.choice(surnames), rng.choice(given_names)
            if rng.random() < 0.35:
                return (eng := rng.choice(english)), family, f"{eng} {family} {given}"
            return given, family, f"{family} {given}"
        male, female, fathers = V6_MY_INDIAN
        female_pick = rng.random() < 0.5
        given, father = rng.choice(female if female_pick else male), rng.choice(fathers)
        return given, father, f"{given} {'a/p' if female_pick else 'a/l'} {father}"
    if loc == "ja_JP":
        if rng.random() < 0.12:
            family, given = f.last_name(), f.first_name()
            return given, family, f"{family}{rng.choice(['', ' ', chr(0x3000)])}{given}"
        given, family = f.first_romanized_name(), f.last_romanized_name()
        return given, family, f"{given} {family}" if rng.random() < 0.6 else f"{family} {given}"
    if loc == "zh_CN":
        r = rng.random()
        if r < 0.1:
            family, given = f.last_name(), f.first_name()
            return given, family, family + given
        given, family = f.first_romanized_name(), f.last_romanized_name()
        if r < 0.3:
            return (eng := rng.choice(V6_ZH_ENGLISH)), family, f"{eng} {family}"
        return given, family, f"{family} {given}" if r < 0.7 else f"{given} {family}"
    given, family = f.first_name(), f.last_name()
    if loc in ("fr_DZ", "uz_UZ") and rng.random() < 0.5:
        return given, family, f"{family} {given}"
    if loc == "az_AZ" and rng.random() < 0.3:  # typed on an English keyboard
        given, family = given.translate(V6_AZ_ASCII), family.translate(V6_AZ_ASCII)
    return given, family, f"{given} {family}"


def _person_v6(f, rng: random.Random) -> str:
    loc = f._locales[0]
    given, family, full = _names_v6(f, rng)
    r = rng.random()
    if r < 0.12:
        return given
    if r < 0.22:
        return full.lower()
    if r < 0.3:
        if loc == "ja_JP" and family.isascii():
            return f"{family.upper()} {given}"  # as on a passport
        return f"{family.upper()}, {given}" if family.isascii() else full
    if r < 0.42:
        titles = V6_TITLES.get(loc, ["Mr", "Mrs", "Ms", "Dr"])
        if loc == "en_MS":
            titles = ["Encik", "Puan", "Cik", "Dato'", "Datin", "Mr", "Ms"]
        title = rng.choice(titles)
        return f"{title} {given}" if title in ("Khun", "Nana", "Maame", "Mama", "Baba", "Mzee") and rng.random() < 0.5 else f"{title} {full}"
    if r < 0.5 and loc in V6_SUFFIX:
        return f"{family if loc == 'ja_JP' else given}{rng.choice(V6_SUFFIX[loc])}"
    if r < 0.58 and given.isascii() and family.isascii() and loc != "en_MS":
        if rng.random() < 0.5:
            return f"{given[0]}. {family}"
        return f"{given[0]}.{f.first_name()[0]}. {family}" if loc not in ("ja_JP", "zh_CN") else f"{given[0]}. {family}"
    if r < 0.66:
        if loc == "az_AZ":
            return f"{family} {given} {f.first_name_male()} {rng.choice(['oğlu', 'qızı'])}"
        if loc == "uz_UZ":
            father = f.first_name_male()
            return f"{family} {given} {father}{'ovich' if rng.random() < 0.5 else 'ovna'}"
        if loc == "es_CA":
            return f"{given} {family} i {f.last_name()}"
        if loc in ("zu_ZA", "tw_GH", "ga_IE", "sw", "en_TH", "fr_DZ"):
            return f"{given} {f.first_name()} {family}"
    return full


V6_MAIL_DOMAINS = {"en_TH": ["hotmail.co.th", "gmail.com", "yahoo.co.th", "chula.ac.th"],
                   "ja_JP": ["docomo.ne.jp", "ezweb.ne.jp", "yahoo.co.jp", "i.softbank.jp", "gmail.com", "s.u-tokyo.ac.jp"],
                   "zh_CN": ["qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "mails.tsinghua.edu.cn"],
                   "en_MS": ["yahoo.com.my", "gmail.com", "siswa.um.edu.my", "hotmail.my"],
                   "ga_IE": ["eircom.net", "gmail.com", "ucdconnect.ie", "outlook.ie"],
                   "az_AZ": ["mail.ru", "box.az", "gmail.com", "yandex.ru"],
                   "uz_UZ": ["mail.ru", "inbox.uz", "gmail.com", "umail.uz"],
                   "zu_ZA": ["webmail.co.za", "mweb.co.za", "gmail.com", "myuct.ac.za", "telkomsa.net"],
                   "tw_GH": ["yahoo.com", "gmail.com", "st.ug.edu.gh", "outlook.com"],
                   "sw": ["yahoo.com", "gmail.com", "udsm.ac.tz", "hotmail.com"],
                   "fr_DZ": ["yahoo.fr", "gmail.com", "hotmail.fr", "usthb.dz"],
                   "es_CA": ["telefonica.net", "gmail.com", "xtec.cat", "hotmail.es", "outlook.es"]}


def _email_v6(f, rng: random.Random) -> str:
    loc = f._locales[0]
    if loc == "en_MS":
        given, family, _ = _names_v6(f, rng)
        local = rng.choice([f"{given}{family}", f"{given}.{family}", f"{given}{rng.randint(70, 99)}"])
        local = local.lower().replace(" ", "").replace("'", "")
    elif loc == "zh_CN" and rng.random() < 0.25:
        local = str(rng.randint(10000000, 2999999999))  # a QQ number
    else:
        local = f.user_name()
    domain = rng.choice(V6_MAIL_DOMAINS[loc])
    r = rng.random()
    if r < 0.08 and loc in ("es_CA", "fr_DZ"):
        return f"{local} {'arroba' if loc == 'es_CA' else 'arobase'} {domain}"
    if r < 0.14 and loc in ("ja_JP", "zh_CN"):
        return f"{local}\uff20{domain}"  # full-width at sign, as an IME types it
    if r < 0.2:
        return f"{local}(a){domain}"
    if r < 0.26:
        return f"{local}_at_{domain.replace('.', '_dot_')}"
    if r < 0.32:
        return f"{local}@{domain}".capitalize()  # the phone capitalised the first letter
    if r < 0.38:
        return f"{local}@ {domain}"  # autocorrect put a space after the at sign
    if r < 0.43:
        return f"{local}@{domain.replace('.', ',', 1)}"  # a typo: comma for the dot
    if r < 0.47:
        return f"{local}&#64;{domain}"  # pasted from a web page
    if r < 0.52:
        return f"{local} at {domain.split('.')[0]} (the usual .{domain.split('.', 1)[1]})"
    return f"{local}@{domain}"


# (country code, trunk prefix, mobile prefixes, digits after them, landline prefixes, digits after them, groupings)
V6_PHONE = {
    "en_TH": ("66", "0", ["81", "82", "86", "89", "91", "94", "95", "61", "62", "63", "64", "65", "80", "97", "98"], 7,
              ["2"], 7),
    "ja_JP": ("81", "0", ["90", "80", "70"], 8, ["3", "6"], 8),
    "zh_CN": ("86", "", ["138", "139", "135", "186", "187", "159", "188", "131", "177", "199", "150"], 8, ["10", "21"], 8),
    "en_MS": ("60", "0", ["12", "13", "14", "16", "17", "18", "19", "11"], 7, ["3"], 8),
    "ga_IE": ("353", "0", ["83", "85", "86", "87", "89"], 7, ["1", "91", "66"], 7),
    "az_AZ": ("994", "0", ["50", "51", "55", "70", "77", "99", "10"], 7, ["12"], 7),
    "uz_UZ": ("998", "", ["90", "91", "93", "94", "95", "97", "98", "99", "33", "88", "77"], 7, ["71"], 7),
    "zu_ZA": ("27", "0", ["60", "61", "71", "72", "73", "74", "76", "78", "79", "81", "82", "83", "84"], 7, ["11", "21", "31"], 7),
    "tw_GH": ("233", "0", ["24", "54", "55", "59", "20", "50", "26", "27", "57", "53"], 7, ["30"], 7),
    "sw": ("255", "0", ["71", "74", "75", "76", "77", "78", "65", "67", "68", "69", "62", "61"], 7, ["22"], 7),
    "fr_DZ": ("213", "0", ["550", "551", "552", "555", "661", "662", "665", "696", "697", "770", "771", "772", "779"], 6,
              ["21", "41"], 6),
    "es_CA": ("34", "", ["6", "6", "6", "7"], 8, ["93", "972"], 7),
}


def _phone_digits_v6(loc: str, rng: random.Random) -> tuple[str, str, str, str]:
    """(country code, trunk, area or mobile prefix, the rest): a number in a real numbering plan."""
    import phonenumbers

    cc, trunk, mobile, n_mobile, land, n_land = V6_PHONE[loc]
    for _ in range(200):
        if rng.random() < 0.8:
            prefix, n = rng.choice(mobile), n_mobile
        else:
            prefix, n = rng.choice(land), n_land
        if loc == "ja_JP" and len(prefix) == 1:
            n = 8
        if loc == "es_CA" and len(prefix) == 3:
            n = 6
        if loc == "es_CA" and prefix == "7":
            prefix, n = "7" + str(rng.randint(1, 4)), 7
        if (loc, prefix) in (("en_MS", "11"),):
            n = 8
        if (loc, prefix) in (("ga_IE", "91"), ("es_CA", "972")):
            n = 6
        rest = "".join(str(rng.randint(0, 9)) for _ in range(n))
        number = phonenumbers.parse(f"+{cc}{prefix}{rest}")
        if phonenumbers.is_valid_number(number):
            return cc, trunk, prefix, rest
    raise RuntimeError(loc)


def _phone_v6(f, rng: random.Random) -> str:
    loc = f._locales[0]
    cc, trunk, p, rest = _phone_digits_v6(loc, rng)
    r = rng.random()
    if r < 0.2:
        return "+" + cc + p + rest
    national = trunk + p + rest
    if loc == "en_TH":
        shapes = [f"{trunk}{p}-{rest[:3]}-{rest[3:]}", f"+66 {p} {rest[:3]} {rest[3:]}", f"{trunk}{p[0]} {p[1:]}{rest[:3]} {rest[3:]}"]
        if len(p) == 1:
            shapes = [f"0{p}-{rest[:3]}-{rest[3:]}", f"+66 {p} {rest[:3]} {rest[3:]}"]
    elif loc == "ja_JP":
        if len(p) == 2:
            shapes = [f"0{p}-{rest[:4]}-{rest[4:]}", f"+81 {p}-{rest[:4]}-{rest[4:]}", f"+81-{p}-{rest[:4]}-{rest[4:]}", national]
        else:
            shapes = [f"0{p}-{rest[:4]}-{rest[4:]}", f"(0{p}) {rest[:4]}-{rest[4:]}", f"+81 {p} {rest[:4]} {rest[4:]}"]
    elif loc == "zh_CN":
        if len(p) == 3:
            shapes = [f"{p} {rest[:4]} {rest[4:]}", f"+86 {p}-{rest[:4]}-{rest[4:]}", f"+86 {p}{rest}", f"{p}-{rest[:4]}-{rest[4:]}"]
        else:
            shapes = [f"(0{p}) {rest[:4]} {rest[4:]}", f"0{p}-{rest}", f"+86 {p} {rest[:4]} {rest[4:]}"]
    elif loc == "en_MS":
        cut = len(rest) - 4
        shapes = [f"0{p}-{rest[:cut]} {rest[cut:]}", f"+60 {p}-{rest[:cut]} {rest[cut:]}", f"+60{p} {rest[:cut]} {rest[cut:]}",
                  f"0{p}{rest}"]
    elif loc == "ga_IE":
        shapes = [f"0{p} {rest[:3]} {rest[3:]}", f"+353 {p} {rest[:3]} {rest[3:]}", f"+353 (0){p} {rest[:3]} {rest[3:]}",
                  f"0{p}-{rest}"]
        if len(p) == 1:
            shapes = [f"(01) {rest[:3]} {rest[3:]}", f"+353 1 {rest[:3]} {rest[3:]}"]
    elif loc in ("az_AZ", "uz_UZ"):
        grouped = f"{rest[:3]} {rest[3:5]} {rest[5:]}"
        shapes = [f"+{cc} {p} {grouped}", f"+{cc} ({p}) {rest[:3]}-{rest[3:5]}-{rest[5:]}", f"({trunk}{p}) {rest[:3]}-{rest[3:5]}-{rest[5:]}"]
        shapes.append(f"{trunk}{p} {grouped}" if trunk else f"{p} {grouped}")
    elif loc in ("zu_ZA", "tw_GH"):
        shapes = [f"0{p} {rest[:3]} {rest[3:]}", f"+{cc} {p} {rest[:3]} {rest[3:]}", f"+{cc} (0){p} {rest[:3]} {rest[3:]}",
                  f"0{p}-{rest[:3]}-{rest[3:]}", national]
    elif loc == "sw":
        full = p + rest  # 9 digits
        shapes = [f"0{full[:3]} {full[3:6]} {full[6:]}", f"+255 {full[:3]} {full[3:6]} {full[6:]}", f"0{full[:3]}-{full[3:]}"]
        if p == "22":
            shapes = [f"022 {rest[:3]} {rest[3:]}", f"+255 22 {rest[:3]} {rest[3:]}"]
    elif loc == "fr_DZ":
        full = p + rest  # 9 digits
        if len(p) == 3:
            shapes = [f"0{full[:3]} {full[3:5]} {full[5:7]} {full[7:]}", f"+213 {full[:3]} {full[3:5]} {full[5:7]} {full[7:]}",
                      f"+213 (0) {full[:3]} {full[3:6]} {full[6:]}", f"0{full[:1]} {full[1:3]} {full[3:5]} {full[5:7]} {full[7:]}"]
        else:
            shapes = [f"0{p} {rest[:2]} {rest[2:4]} {rest[4:]}", f"+213 {p} {rest[:2]} {rest[2:4]} {rest[4:]}"]
    else:  # es_CA: 9 digits, no trunk prefix
        full = p + rest
        shapes = [f"{full[:3]} {full[3:5]} {full[5:7]} {full[7:]}", f"+34 {full[:3]} {full[3:6]} {full[6:]}",
                  f"0034 {full}", f"{full[:3]} {full[3:6]} {full[6:]}"]
        if p == "93":
            shapes = [f"{full[:2]} {full[2:5]} {full[5:7]} {full[7:]}", f"+34 {full[:2]} {full[2:5]} {full[5:7]} {full[7:]}"]
    return rng.choice(shapes)


# Addresses written by hand from each country's own shapes: (street or area, district/ward, city, postcode)
V6_PLACES_OF = {
    "en_TH": [("Sukhumvit Soi 31", "Khlong Toei Nuea, Watthana", "Bangkok", "10110"),
              ("Thanon Ratchadaphisek", "Din Daeng", "Bangkok", "10400"), ("Soi Phahon Yothin 7", "Samsen Nai, Phaya Thai", "Bangkok", "10400"),
              ("Nimmanhaemin Road Soi 9", "Suthep, Mueang Chiang Mai", "Chiang Mai", "50200"),
              ("Thanon Rat-U-Thit 200 Pi", "Patong, Kathu", "Phuket", "83150"), ("Moo 5", "Bo Phut, Ko Samui", "Surat Thani", "84320"),
              ("Soi Pattaya Klang", "Nong Prue, Bang Lamung", "Chonburi", "20150")],
    "ja_JP": [("Jingumae", "Shibuya-ku", "Tokyo", "150-0001"), ("Nishi-Shinjuku", "Shinjuku-ku", "Tokyo", "160-0023"),
              ("Umeda", "Kita-ku", "Osaka", "530-0001"), ("Nanba", "Chuo-ku", "Osaka", "542-0076"),
              ("Gionmachi Kitagawa", "Higashiyama-ku", "Kyoto", "605-0073"), ("Odori Nishi", "Chuo-ku", "Sapporo", "060-0042"),
              ("Tenjin", "Chuo-ku", "Fukuoka", "810-0001"), ("Minatomirai", "Nishi-ku", "Yokohama", "220-0012")],
    "zh_CN": [("Century Avenue", "Pudong New District", "Shanghai", "200120"), ("Huaihai Middle Road", "Huangpu District", "Shanghai", "200021"),
              ("Jianguo Road", "Chaoyang District", "Beijing", "100022"), ("Tianhe Road", "Tianhe District", "Guangzhou", "510620"),
              ("Shennan Avenue", "Futian District", "Shenzhen", "518048"), ("Renmin South Road", "Wuhou District", "Chengdu", "610041"),
              ("Wensan Road", "Xihu District", "Hangzhou", "310012")],
    "ga_IE": [("Bóthar na Trá", "Bóthar na Trá", "Gaillimh", "H91"), ("Sráid an Mhargaidh", "An Daingean", "Co. Chiarraí", "V92"),
              ("Bóthar an Chaisleáin", "Gaoth Dobhair", "Co. Dhún na nGall", "F92"), ("Mount Street Upper", "Dublin 2", "Dublin", "D02"),
              ("Ranelagh Road", "Ranelagh", "Dublin 6", "D06"), ("Main Street", "Dingle", "Co. Kerry", "V92"),
              ("Shop Street", "Galway", "Co. Galway", "H91"), ("Bray Road", "Cabinteely", "Co. Dublin", "D18")],
    "az_AZ": [("Nizami küçəsi", "Səbail rayonu", "Bakı", "AZ1000"), ("Həsən bəy Zərdabi prospekti", "Yasamal rayonu", "Bakı", "AZ1122"),
              ("Atatürk prospekti", "Nərimanov rayonu", "Bakı", "AZ1069"), ("Azadlıq prospekti", "Binəqədi rayonu", "Bakı", "AZ1106"),
              ("Cavadxan küçəsi", "Kəpəz rayonu", "Gəncə", "AZ2000"), ("Sheikh Shamil street", "Sumqayıt", "Sumqayıt", "AZ5000")],
    "uz_UZ": [("Amir Temur ko‘chasi", "Yunusobod tumani", "Toshkent", "100084"), ("Bobur ko‘chasi", "Yakkasaroy tumani", "Toshkent", "100100"),
              ("Chilonzor 9-kvartal", "Chilonzor tumani", "Toshkent", "100115"), ("Registon ko‘chasi", "Samarqand", "Samarqand", "140100"),
              ("Navoi street", "Mirzo Ulugbek district", "Tashkent", "100170"), ("Bahouddin Naqshband ko‘chasi", "Buxoro", "Buxoro", "200100")],
    "zu_ZA": [("Jan Smuts Avenue", "Parktown", "Johannesburg", "2193"), ("Beach Road", "Umhlanga", "Durban", "4319"),
              ("Long Street", "Cape Town City Centre", "Cape Town", "8001"), ("Vilakazi Street", "Orlando West, Soweto", "Johannesburg", "1804"),
              ("Florida Road", "Morningside", "Durban", "4001"), ("Church Street", "Hatfield", "Pretoria", "0083"),
              ("York Street", "George Central", "George", "6529"), ("Main Road", "Alexandra", "Johannesburg", "2090")],
    "tw_GH": [("Oxford Street", "Osu", "Accra", "GA-012"), ("Ring Road East", "Danquah Circle", "Accra", "GA-079"),
              ("Dansoman Last Stop", "Dansoman", "Accra", "GA-543"), ("Prempeh II Street", "Adum", "Kumasi", "AK-039"),
              ("Liberation Road", "Airport Residential Area", "Accra", "GA-184"), ("Commercial Street", "Cape Coast", "Cape Coast", "CC-097"),
              ("Market Circle", "Takoradi", "Takoradi", "WS-112")],
    "sw": [("Mikocheni B", "Kinondoni", "Dar es Salaam", "14112"), ("Mtaa wa Uhuru", "Kariakoo", "Dar es Salaam", "11101"),
           ("Haile Selassie Road", "Masaki", "Dar es Salaam", "14111"), ("Njiro, Block C", "Njiro", "Arusha", "23106"),
           ("Boma Road", "Kati", "Moshi", "25112"), ("Mtaa wa Jamhuri", "Stone Town", "Zanzibar", "71101")],
    "fr_DZ": [("rue Didouche Mourad", "Alger Centre", "Alger", "16000"), ("Cité 1000 Logements", "Bab Ezzouar", "Alger", "16311"),
              ("Haï El Badr", "Kouba", "Alger", "16050"), ("boulevard de la Soummam", "Centre-ville", "Oran", "31000"),
              ("rue Larbi Ben M'hidi", "Centre-ville", "Constantine", "25000"), ("Coopérative El Amel", "Bir El Djir", "Oran", "31130")],
    "es_CA": [("C/ de Provença", "Eixample", "Barcelona", "08008"), ("Carrer Major", "Barri Vell", "Girona", "17001"),
              ("Passeig de Gràcia", "Eixample", "Barcelona", "08007"), ("Av. Diagonal", "Les Corts", "Barcelona", "08017"),
              ("Rambla de Catalunya", "Eixample", "Barcelona", "08007"), ("Carrer de Sant Pere", "Centre", "Tarragona", "43001"),
              ("Carrer del Carme", "Raval", "Barcelona", "08001")],
}
V6_CN_HANZI = [("上海市", "浦东新区", "世纪大道"), ("北京市", "朝阳区", "建国路"), ("广州市", "天河区", "天河路"),
               ("深圳市", "福田区", "深南大道"), ("成都市", "武侯区", "人民南路")]
V6_IE_HOUSES = ["Teach na Mara", "Teach an Locha", "Ard na Gréine", "Cois Abhann", "Radharc na Mara", "Áit na Síochána",
                "Rose Cottage", "The Old Schoolhouse"]
V6_EIRCODE_CHARS = "ACDEFHKNPRTVWXY0123456789"


def _digits_v6(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randint(0, 9)) for _ in range(n))


def _eircode_v6(routing: str, rng: random.Random) -> str:
    return routing + " " + rng.choice("ACDEFHKNPRTVWXY") + "".join(rng.choice(V6_EIRCODE_CHARS) for _ in range(3))


def _gh_digital_v6(prefix: str, rng: random.Random) -> str:
    return f"{prefix}-{_digits_v6(rng, 4)}"  # GhanaPost GPS digital address, e.g. GA-183-8164


def _address_v6(f, rng: random.Random) -> str:
    loc = f._locales[0]
    r = rng.random()
    if loc in ("az_AZ", "en_MS", "fr_DZ") and r < 0.35:  # Faker writes these countries' own shapes
        return ", ".join(line.strip() for line in f.address().splitlines() if line.strip())
    if loc == "ja_JP" and r < 0.2:  # in Japanese, postcode first
        return f"〒{f.zipcode()} {f.address()}"
    if loc == "zh_CN" and r < 0.15:
        city, district, road = rng.choice(V6_CN_HANZI)
        return f"{city}{district}{road}{rng.randint(1, 999)}号{rng.randint(1, 30)}栋{rng.randint(1, 28)}0{rng.randint(1, 8)}室"
    if loc == "en_MS":
        n = rng.randint(1, 250)
        r = rng.random()
        taman = rng.choice(["Taman Tun Dr Ismail", "Bangsar South", "Mont Kiara", "SS2", "Bandar Sunway", "Tanjung Bungah"])
        unit = f"{rng.choice('ABC')}-{rng.randint(1, 35)}-{rng.randint(1, 12)}"
        shapes = [f"No. {n}, Jalan SS 2/{rng.randint(1, 75)}, 47300 Petaling Jaya, Selangor",
                  f"{unit}, Residensi {rng.choice(['Vista', 'Harmoni', 'Sentral'])}, Jalan Ampang, 50450 Kuala Lumpur",
                  f"{n}, Lorong {rng.randint(1, 9)}, {taman}, {rng.choice(['60000 Kuala Lumpur', '10470 Penang', '81200 Johor Bahru'])}"]
        return rng.choice(shapes) if r < 0.85 else rng.choice(shapes).replace(", ", "\n", 1)
    street, district, city, code = rng.choice(V6_PLACES_OF[loc])
    n = rng.randint(1, 250)
    r = rng.random()
    if loc == "en_TH":
        house = f"{n}/{rng.randint(1, 120)}"
        line = f"{house} Moo {rng.randint(1, 12)}, {district}" if street.startswith("Moo") else f"{house} {street}, {district}"
        if r < 0.25:
            line = f"{rng.choice(['Lumpini Place', 'The Base', 'Life Asoke', 'Ideo Q'])} condo, room {rng.randint(2, 40)}{rng.randint(1, 30):02d}, {line}"
        return f"{line}, {city} {code}" if r < 0.8 else f"{line}\n{city} {code}"
    if loc == "ja_JP":
        block = f"{rng.randint(1, 6)}-{rng.randint(1, 30)}-{rng.randint(1, 20)}"
        if r < 0.3:
            return f"{rng.choice(['Maison', 'Heights', 'Residence', 'Corpo'])} {street} {rng.randint(1, 9)}0{rng.randint(1, 9)}, {block} {street}, {district}, {city} {code}"
        if r < 0.6:
            return f"{block} {street}, {district}, {city} {code}"
        if r < 0.8:
            return f"〒{code} {city}-to {district} {street} {block}" if city == "Tokyo" else f"〒{code} {city}-shi {district} {street} {block}"
        return f"{block} {street}, {district}\n{city}"
    if loc == "zh_CN":
        if r < 0.45:
            return f"Room {rng.randint(1, 32)}0{rng.randint(1, 9)}, Building {rng.randint(1, 20)}, No. {n} {street}, {district}, {city} {code}"
        if r < 0.8:
            return f"No. {n} {street}, {district}, {city} {code}"
        return f"{city} {district}, {street} {n}, unit {rng.randint(1, 6)}-{rng.randint(1, 30)}0{rng.randint(1, 6)}"
    if loc == "ga_IE":
        eircode = _eircode_v6(code, rng)
        if r < 0.35:
            return f"{rng.choice(V6_IE_HOUSES)}, {district}, {city}, {eircode}"
        if r < 0.6:
            return f"{n} {street}, {district}, {city} {eircode}"
        if r < 0.8:
            return f"Apt {rng.randint(1, 40)}, {rng.choice(['The Maltings', 'Gasworks House', 'Herbert Hall'])}, {street}, {district}, {city}"
        return f"{n} {street}\n{district}\n{eircode.replace(' ', '')}"
    if loc == "az_AZ":
        if r < 0.5:
            return f"{street} {n}, mənzil {rng.randint(1, 90)}, {city} {code}"
        if r < 0.8:
            return f"{city}, {district}, {street} {n}, m. {rng.randint(1, 90)}"
        return f"{n} {street}, apt {rng.randint(1, 90)}, {city.replace('Bakı', 'Baku')}"
    if loc == "uz_UZ":
        if r < 0.35:
            return f"{city} sh., {district}, {street}, {n}-uy, {rng.randint(1, 80)}-xonadon"
        if r < 0.7:
            return f"{street} {n}, {city} {code}"
        if r < 0.85:
            return f"{district}, {rng.randint(1, 19)}-mavze, {rng.randint(1, 60)}-uy, {rng.randint(1, 80)}-xonadon, {city}"
        return f"house {n}, apt {rng.randint(1, 80)}, {street}, {district}, {city}"
    if loc == "zu_ZA":
        if r < 0.3:
            return f"Unit {rng.randint(1, 40)}, {rng.choice(['Sunset Villas', 'The Palms', 'Kingfisher Court'])}, {n} {street}, {district}, {code}"
        if r < 0.75:
            return f"{n} {street}, {district}, {city}, {code}"
        if r < 0.88:
            return f"{n} {street}\n{district}\n{city}\n{code}"
        return f"Erf {rng.randint(100, 9999)}, {district}, {city}"
    if loc == "tw_GH":
        digital = _gh_digital_v6(code, rng)
        if r < 0.3:
            return f"House No. {n}, {street}, {district}, {city}"
        if r < 0.55:
            return f"Plot {rng.randint(1, 60)}, {street}, near the {rng.choice(['Total filling station', 'Methodist church', 'Shoprite', 'police station'])}, {city}; {digital}"
        if r < 0.75:
            return f"H/No. {rng.choice('ABCDE')} {n}/{rng.randint(1, 20)}, {district}, {city}"
        if r < 0.88:
            return f"P.O. Box {rng.choice(['KN', 'AN', 'CT', 'OS'])} {rng.randint(100, 9999)}, {district}, {city}"
        return f"{district}, {city} ({digital})"
    if loc == "sw":
        if r < 0.3:
            return f"Plot {n}, {street}, {district}, {city}"
        if r < 0.55:
            return f"Nyumba Na. {n}, {street}, {district}, {city}"
        if r < 0.75:
            return f"{district}, Plot {rng.randint(100, 2500)}, {street}, {city} {code}"
        if r < 0.88:
            return f"P.O. Box {rng.randint(100, 40000)}, {city}"
        return f"{street}, house {n}\n{city}"
    if loc == "fr_DZ":
        if street.startswith(("Cité", "Haï", "Coopérative")):
            return f"{street}, Bt {rng.randint(1, 40)} n°{rng.randint(1, 20)}, {district}, {city} {code}" if r < 0.6 else f"{street}, villa n°{rng.randint(1, 90)}, {district}, {city}"
        return f"{n}, {street}, {district}, {city} {code}" if r < 0.7 else f"{n} {street}\n{code} {city}"
    # es_CA
    floor = rng.choice(["1r 1a", "2n 2a", "3r 1a", "4t 2a", "pral. 1a", "baixos", "àtic", "5è 3a", "entl. 2a"])
    if r < 0.5:
        return f"{street}, {n}, {floor}, {code} {city}"
    if r < 0.75:
        return f"{street} {n}, {floor}, {city}"
    if r < 0.88:
        return f"{street} {n} {floor}\n{code} {city}"
    return f"{street}, {n}, {floor}, {code} {city}".lower()


def _postcode_v6(f, rng: random.Random) -> str:
    loc = f._locales[0]
    if loc == "en_TH":
        return f"{rng.choice(['10', '11', '12', '20', '30', '40', '50', '57', '80', '83', '84', '90'])}{_digits_v6(rng, 2)}0"
    if loc == "ja_JP":
        code = f"{rng.randint(0, 9)}{_digits_v6(rng, 2)}-{_digits_v6(rng, 4)}"
        return ("〒" + code) if rng.random() < 0.3 else code
    if loc == "zh_CN":
        return f"{rng.choice(['100', '200', '510', '518', '610', '310', '430', '710'])}{_digits_v6(rng, 3)}"
    if loc == "en_MS":
        return f"{rng.choice(['50', '47', '10', '80', '88', '93', '40', '31'])}{_digits_v6(rng, 3)}"
    if loc == "ga_IE":
        code = _eircode_v6(rng.choice(["D01", "D02", "D04", "D06", "D08", "D6W", "D15", "A65", "H91", "T12", "V94", "X91", "F92", "V92", "K78"]), rng)
        r = rng.random()
        return code.replace(" ", "") if r < 0.3 else code.lower() if r < 0.4 else code
    if loc == "az_AZ":
        code = f"AZ{rng.randint(1, 6)}{_digits_v6(rng, 3)}"
        return code.replace("AZ", "AZ ") if rng.random() < 0.3 else code
    if loc == "uz_UZ":
        return f"{rng.choice(['100', '140', '200', '170', '150', '160', '210'])}{_digits_v6(rng, 3)}"
    if loc == "zu_ZA":
        return f"{rng.choice(['0', '1', '2', '4', '6', '7', '8'])}{_digits_v6(rng, 3)}"
    if loc == "tw_GH":
        return f"{rng.choice(['GA', 'AK', 'CC', 'WS', 'NT', 'ER', 'GE', 'GN'])}-{rng.randint(0, 999):03d}-{_digits_v6(rng, 4)}"
    if loc == "sw":
        return f"{rng.choice(['11', '14', '12', '23', '25', '41', '33', '71'])}{_digits_v6(rng, 3)}"
    if loc == "fr_DZ":
        return f"{rng.randint(1, 48):02d}{_digits_v6(rng, 3)}"
    return f"{rng.choice(['08', '17', '25', '43'])}{_digits_v6(rng, 3)}"  # es_CA


V6_MONTHS_OF = {
    "en_TH": ["ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค."],
    "ga_IE": ["Eanáir", "Feabhra", "Márta", "Aibreán", "Bealtaine", "Meitheamh", "Iúil", "Lúnasa", "Meán Fómhair",
              "Deireadh Fómhair", "Samhain", "Nollaig"],
    "az_AZ": ["yanvar", "fevral", "mart", "aprel", "may", "iyun", "iyul", "avqust", "sentyabr", "oktyabr", "noyabr", "dekabr"],
    "uz_UZ": ["yanvar", "fevral", "mart", "aprel", "may", "iyun", "iyul", "avgust", "sentabr", "oktabr", "noyabr", "dekabr"],
    "sw": ["Januari", "Februari", "Machi", "Aprili", "Mei", "Juni", "Julai", "Agosti", "Septemba", "Oktoba", "Novemba", "Desemba"],
    "en_MS": ["Januari", "Februari", "Mac", "April", "Mei", "Jun", "Julai", "Ogos", "September", "Oktober", "November", "Disember"],
    "fr_DZ": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"],
    "es_CA": ["gener", "febrer", "març", "abril", "maig", "juny", "juliol", "agost", "setembre", "octubre", "novembre", "desembre"],
}
V6_ENGLISH_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                     "November", "December"]


def _dob_v6(f, rng: random.Random) -> str:
    """A date of birth in the ways people of each locale write one (Buddhist and Japanese era years too)."""
    loc = f._locales[0]
    d = _date_v5(rng, 1940, 2007)
    dd, mm, yyyy, yy = f"{d.day:02d}", f"{d.month:02d}", str(d.year), f"{d.year % 100:02d}"
    local_month = V6_MONTHS_OF.get(loc, V6_ENGLISH_MONTHS)[d.month - 1]
    english = V6_ENGLISH_MONTHS[d.month - 1]
    shapes = [f"{dd}/{mm}/{yyyy}", f"{d.day} {english} {yyyy}"]
    if loc == "en_TH":
        be = d.year + 543
        shapes += [f"{dd}/{mm}/{be}", f"{d.day} {local_month} {be}", f"{d.day} {english} B.E. {be}", f"{d.day}/{d.month}/{be}"]
    elif loc == "ja_JP":
        if d.year >= 1989 and (d.year, d.month, d.day) >= (1989, 1, 8):
            era = f"H{d.year - 1988}.{d.month}.{d.day}"
            era_kanji = f"平成{d.year - 1988}年{d.month}月{d.day}日"
        else:
            era = f"S{d.year - 1925}.{d.month}.{d.day}"
            era_kanji = f"昭和{d.year - 1925}年{d.month}月{d.day}日"
        shapes = [f"{yyyy}/{mm}/{dd}", f"{yyyy}年{d.month}月{d.day}日", era, era_kanji, f"{yyyy}.{d.month}.{d.day}"]
    elif loc == "zh_CN":
        shapes = [f"{yyyy}-{mm}-{dd}", f"{yyyy}年{d.month}月{d.day}日", f"{yyyy}.{mm}.{dd}", f"{yyyy}-{d.month}-{d.day}",
                  f"{yyyy}{mm}{dd}"]
    elif loc == "ga_IE":
        shapes += [f"{d.day} {local_month} {yyyy}", f"{_ordinal(d.day)} {english} '{yy}", f"{d.day}/{d.month}/{yyyy}"]
    elif loc == "az_AZ":
        shapes = [f"{dd}.{mm}.{yyyy}", f"{d.day} {local_month} {yyyy}", f"{dd}/{mm}/{yyyy}"]
    elif loc == "uz_UZ":
        shapes = [f"{dd}.{mm}.{yyyy}", f"{d.day} {local_month} {yyyy}", f"{yyyy}-yil {d.day}-{local_month}", f"{dd}.{mm}.{yyyy}-yil"]
    elif loc == "zu_ZA":
        shapes += [f"{yyyy}/{mm}/{dd}", f"{yyyy}-{mm}-{dd}", f"{d.day} {english[:3]} {yyyy}"]
    elif loc == "tw_GH":
        shapes += [f"{_ordinal(d.day)} {english}, {yyyy}", f"{dd}-{mm}-{yyyy}", f"{dd}/{mm}/{yy}"]
    elif loc == "sw":
        shapes += [f"{d.day} {local_month} {yyyy}", f"{dd}-{mm}-{yyyy}", f"{d.day}/{d.month}/{yyyy}"]
    elif loc == "en_MS":
        shapes += [f"{dd}-{mm}-{yyyy}", f"{d.day} {local_month} {yyyy}", f"{dd}.{mm}.{yyyy}"]
    elif loc == "fr_DZ":
        shapes += [f"{d.day} {local_month} {yyyy}", f"{yyyy}-{mm}-{dd}", f"{dd}-{mm}-{yyyy}", f"1er {local_month} {yyyy}" if d.day == 1 else f"{dd}/{mm}/{yy}"]
    elif loc == "es_CA":
        de = "d'" if local_month[0] in "aeiou" else "de "
        shapes += [f"{d.day} {de}{local_month} de {yyyy}", f"{d.day}-{mm}-{yyyy}", f"{dd}/{mm}/{yy}"]
    return rng.choice(shapes)


def _national_id_v6(f, rng: random.Random) -> str:
    """Each locale's own identity number; checked with python-stdnum where it knows the number."""
    loc = f._locales[0]
    if loc == "en_TH":
        from stdnum.th import pin
        body = str(rng.randint(1, 8)) + _digits_v6(rng, 11)
        number = body + pin.calc_check_digit(body)
        assert pin.is_valid(number), number
        r = rng.random()
        if r < 0.4:
            return f"{number[0]} {number[1:5]} {number[5:10]} {number[10:12]} {number[12]}"
        if r < 0.6:
            return f"{number[0]}-{number[1:5]}-{number[5:10]}-{number[10:12]}-{number[12]}"
        return number
    if loc == "ja_JP":
        from stdnum.jp import in_
        body = str(rng.randint(1, 9)) + _digits_v6(rng, 10)
        number = body + in_.calc_check_digit(body)
        assert in_.is_valid(number), number
        return f"{number[:4]} {number[4:8]} {number[8:]}" if rng.random() < 0.6 else number
    if loc == "zh_CN":
        from stdnum.cn import ric
        while True:  # a district code that existed when the holder was born (stdnum knows the history)
            d = _date_v5(rng, 1950, 2006)
            body = rng.choice(["110101", "110105", "310104", "440106", "440304", "330106", "320102", "420106",
                               "610113", "510104"]) + d.strftime("%Y%m%d") + _digits_v6(rng, 3)
            number = body + ric.calc_check_digit(body + "0")  # stdnum takes the number with a check digit in place
            if ric.is_valid(number):
                break
        return number.lower() if number.endswith("X") and rng.random() < 0.3 else number
    if loc == "en_MS":
        from stdnum.my import nric
        d = _date_v5(rng, 1950, 2006)
        number = d.strftime("%y%m%d") + f"{rng.randint(1, 16):02d}" + _digits_v6(rng, 4)
        assert nric.is_valid(number), number
        return f"{number[:6]}-{number[6:8]}-{number[8:]}" if rng.random() < 0.65 else number
    if loc == "ga_IE":
        from stdnum.ie import pps, vat
        body = _digits_v6(rng, 7)
        number = body + vat.calc_check_digit(body + "A") + "A" if rng.random() < 0.6 else body + vat.calc_check_digit(body)
        assert pps.is_valid(number), number
        return number
    if loc == "az_AZ":
        return f.ssn()  # FIN, the seven-character personal code on the identity card
    if loc == "uz_UZ":  # PINFL: sex/century, birth date, district, serial, check (weights 7, 3, 1)
        d = _date_v5(rng, 1950, 2006)
        body = str(rng.choice([3, 4]) if d.year < 2000 else rng.choice([5, 6])) + d.strftime("%d%m%y") + \
            f"{rng.randint(1, 300):03d}" + _digits_v6(rng, 3)
        check = sum(int(c) * (7, 3, 1)[i % 3] for i, c in enumerate(body)) % 10
        return body + str(check)
    if loc == "zu_ZA":
        from stdnum import luhn
        from stdnum.za import idnr
        d = _date_v5(rng, 1950, 2006)
        body = d.strftime("%y%m%d") + f"{rng.randint(0, 9999):04d}" + "08"
        number = body + luhn.calc_check_digit(body)
        assert idnr.is_valid(number), number
        return f"{number[:6]} {number[6:10]} {number[10:12]} {number[12]}" if rng.random() < 0.35 else number
    if loc == "tw_GH":
        return f"GHA-{_digits_v6(rng, 9)}-{rng.randint(0, 9)}"  # Ghana Card PIN
    if loc == "sw":
        d = _date_v5(rng, 1950, 2006)
        number = d.strftime("%Y%m%d") + _digits_v6(rng, 12)  # NIDA number
        return f"{number[:8]}-{number[8:13]}-{number[13:18]}-{number[18:]}" if rng.random() < 0.7 else number
    if loc == "fr_DZ":
        return f.ssn()  # NIN, 18 digits
    from stdnum.es import dni, nie  # es_CA
    if rng.random() < 0.2:
        body = rng.choice("XYZ") + _digits_v6(rng, 7)
        number = body + nie.calc_check_digit(body)
        assert nie.is_valid(number), number
        return number
    body = f"{rng.randint(10000000, 59999999)}"
    number = body + dni.calc_check_digit(body)
    assert dni.is_valid(number), number
    r = rng.random()
    if r < 0.3:
        return f"{body[:2]}.{body[2:5]}.{body[5:]}-{number[-1]}"
    if r < 0.45:
        return f"{body}-{number[-1]}"
    return number


# IBANs of countries no earlier set drew from (v4: HU HR SI LT EE AE SA IL RS BA RO TR SK; v5: LV IS AL MT LU GR
# PK QA GE CY BG BE), with their registry BBAN shapes: n digits, a letters, c letters or digits
V6_IBAN_BBAN = {"AZ": "4!a20!c", "AD": "4!n4!n12!c", "IE": "4!a6!n8!n", "LI": "5!n12!c", "MC": "5!n5!n11!c2!n",
                "SM": "1!a5!n5!n12!c", "FO": "4!n9!n1!n", "GI": "4!a15!c", "MK": "3!n10!c2!n", "MD": "2!c18!c",
                "XK": "4!n10!n2!n", "UA": "6!n19!c", "KZ": "3!n13!c", "KW": "4!a22!c", "BH": "4!a14!c", "JO": "4!a4!n18!c",
                "TN": "2!n3!n13!n2!n", "MR": "5!n5!n11!n2!n", "EG": "4!n4!n17!n", "SC": "4!a2!n2!n16!n3!a",
                "CR": "4!n14!n", "SV": "4!a20!n", "TL": "3!n14!n2!n", "VA": "3!n15!n"}
V6_IBAN_OF = {"az_AZ": ["AZ"], "es_CA": ["AD"], "ga_IE": ["IE"], "fr_DZ": ["TN", "MR", "MC"]}
V6_IRISH_BANKS = ["AIBK", "BOFI", "IPBS", "ULSB", "PTSB"]


def _iban_v6(f, rng: random.Random) -> str:
    from stdnum import iban as stdnum_iban

    loc = f._locales[0]
    others = sorted(set(V6_IBAN_BBAN) - {"AZ", "AD", "IE"})
    country = rng.choice(V6_IBAN_OF.get(loc, others))
    bban = _bban_from_format(V6_IBAN_BBAN[country], rng, letter_rate=0.1)
    if country == "IE":
        bban = rng.choice(V6_IRISH_BANKS) + bban[4:]
    iban = _with_iban_check(country, bban)
    assert stdnum_iban.is_valid(iban), iban
    grouped = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    r = rng.random()
    if r < 0.4:
        return grouped
    if r < 0.48:
        return grouped.lower()
    if r < 0.56:
        return grouped.replace(" ", "\u00a0")  # copied from a banking app that joins the groups with no-break spaces
    if r < 0.62:
        return f"{iban[:4]} {iban[4:]}"
    return iban


# (issuer prefixes, lengths), written here because Faker's card providers differ by locale
V6_CARDS = {"visa": (["4"], [16, 16, 16, 19]), "mastercard": (["51", "52", "53", "54", "55", "2221", "2720"], [16]),
            "amex": (["34", "37"], [15]), "jcb": (["3528", "3530", "3566", "3589"], [16]), "discover": (["6011", "65"], [16]),
            "diners": (["36", "38"], [14]), "maestro": (["6759", "5018", "6304"], [16, 19]),
            "unionpay": (["622", "624", "625", "628"], [16, 19])}


def _luhn_card_number(rng: random.Random, prefixes: list[str], lengths: list[int]) -> str:
    """A Luhn-valid card number of an issuer: one of its prefixes, random digits, the check digit."""
    from stdnum import luhn

    body = rng.choice(prefixes)
    body += _digits_v6(rng, rng.choice(lengths) - len(body) - 1)
    number = body + luhn.calc_check_digit(body)
    assert luhn.is_valid(number), number
    return number


def _in_fours(number: str, sep: str) -> str:
    """A card number in groups of four digits joined by ``sep``."""
    return sep.join(number[i:i + 4] for i in range(0, len(number), 4))


def _card_v6(f, rng: random.Random) -> str:
    loc = f._locales[0]
    if rng.random() < {"zh_CN": 0.4, "ja_JP": 0.3}.get(loc, 0.0):
        issuer = "unionpay" if loc == "zh_CN" else "jcb"
    else:
        issuer = rng.choice(["visa", "visa", "mastercard", "mastercard", "amex", "jcb", "discover", "diners", "maestro", "unionpay"])
    number = _luhn_card_number(rng, *V6_CARDS[issuer])
    r = rng.random()
    if len(number) == 15 and r < 0.4:
        return f"{number[:4]} {number[4:10]} {number[10:]}"
    if len(number) == 14 and r < 0.4:
        return f"{number[:4]} {number[4:10]} {number[10:]}"
    if r < 0.35:
        return _in_fours(number, " ")
    if r < 0.45:
        return _in_fours(number, "-")
    if r < 0.53 and len(number) == 16:
        return f"{number[:8]} {number[8:]}"
    return number


def _expiry_v6(f, rng: random.Random) -> str:
    d = _date_v5(rng, 2026, 2034)
    shape = rng.choice(["%m/%y", "%m/%y", "%m/%y", "%m/%Y", "{M}/%Y", "%Y-%m", "{MON}/%y", "%m-%Y", "%b. %Y", "%Y年%m月"])
    return d.strftime(shape.replace("{M}", str(d.month)).replace("{MON}", V6_ENGLISH_MONTHS[d.month - 1][:3].upper()))


def _username_v6(f, rng: random.Random) -> str:
    name = f.user_name()
    if f._locales[0] == "en_MS":
        given, family, _ = _names_v6(f, rng)
        name = (given.split()[0] + family).lower().replace("'", "")
    r = rng.random()
    if r < 0.12:
        return f"{name.capitalize()}#{rng.randint(1000, 9999)}"  # a Discord-style tag
    if r < 0.2:
        return f"{name}_official"
    if r < 0.28:
        return f"i.am.{name}"
    if r < 0.38:
        return f"{name}_{f._locales[0][-2:].lower()}"
    if r < 0.48:
        return f"{name}{rng.randint(1, 99):02d}"
    if r < 0.54:
        return f"~{name}~"
    if r < 0.6:
        return name.replace("_", ".").title().replace(".", "")
    return name


def _order_id_v6(f, rng: random.Random) -> str:
    alnum = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    r = rng.random()
    if r < 0.2:  # an airline record locator
        return "".join(rng.choice(alnum) for _ in range(6))
    if r < 0.3:  # an e-ticket number: airline prefix, ten digits
        return f"{rng.choice(['217', '131', '160', '781', '053', '083', '124', '232'])}-{_digits_v6(rng, 10)}"
    shape = rng.choice(["HX########", "RX-#######", "EV-####-####", "DLV######??", "TKT-########", "ENR/20##/#####",
                        "PET########", "#########", "MBR-######", "OR-??-#####"])
    return "".join(str(rng.randint(0, 9)) if c == "#" else rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") if c == "?" else c for c in shape)


def _value_v6(f, kind: str, rng: random.Random) -> str | None:
    if kind == "PERSON":
        return _person_v6(f, rng)
    if kind == "EMAIL":
        return _email_v6(f, rng)
    if kind == "PHONE":
        return _phone_v6(f, rng)
    if kind == "ADDRESS":
        return _address_v6(f, rng)
    if kind == "POSTCODE":
        return _postcode_v6(f, rng)
    if kind == "DATE_OF_BIRTH":
        return _dob_v6(f, rng)
    if kind == "IP_ADDRESS":
        r = rng.random()
        if r < 0.55:
            return f.ipv4_public()
        if r < 0.75:
            return f.ipv6()
        if r < 0.9:
            import ipaddress
            return str(ipaddress.IPv6Address(f.ipv6()))  # compressed form
        return f"::ffff:{f.ipv4_public()}"  # an IPv4 address as a dual-stack server logs it
    if kind == "IBAN":
        return _iban_v6(f, rng)
    if kind == "NATIONAL_ID":
        return _national_id_v6(f, rng)
    if kind == "USERNAME":
        return _username_v6(f, rng)
    if kind == "CARD":
        return _card_v6(f, rng)
    if kind == "ORDER_ID":
        return _order_id_v6(f, rng)
    raise ValueError(kind)


def _card_details_v6(f, rng: random.Random) -> tuple[str, list[tuple[str, int, int]]]:
    number = _card_v6(f, rng)
    masked = rng.random() < 0.3
    tail = "".join(c for c in number if c.isdigit())[-4:]
    shown = rng.choice(["\u2022\u2022\u2022\u2022 \u2022\u2022\u2022\u2022 \u2022\u2022\u2022\u2022 ", "ending ", "**",
                        "XXXXXXXXXXXX", "last digits "]) + tail if masked else number
    expiry = _expiry_v6(f, rng)
    digits = "".join(c for c in number if c.isdigit())
    cvv = _digits_v6(rng, 4 if digits[:2] in ("34", "37") else 3)
    shape = rng.choice(["{n} | {e} | {c}", "card: {n}, exp. date: {e}, CVC2: {c}",
                        "Card number {n} Expiry (MM/YY) {e} Security code {c}", "{n} valid till {e} cvv no {c}",
                        "the number is {n}, expiring {e}, and the CVV is {c}", "{n} (exp {e}, sec. code {c})",
                        "{n}\n{e}\n{c}", "card {n} - expiry {e} - back code {c}"])
    return _fill_card_shape(shape, shown, expiry, cvv, masked)


V6_NEGATIVES = [
    ("flight {v}", lambda f, r: r.choice(["BA 283", "EK0012", "TG 917", "NH 106", "MU 5101", "EI 154", "J2 8012", "SA 234",
                                          "AH 1007", "HY 601", "TC 101", "MH 2", "VY 1234", "AK 6102", "FD 3001", "QR 8"])),
    ("boarding at {v}", lambda f, r: f"{r.randint(0, 23):02d}:{r.choice(['05', '10', '25', '40', '55'])}"),
    ("seat {v}", lambda f, r: f"{r.randint(1, 62)}{r.choice('ABCDEFHK')}"),
    ("gate {v}", lambda f, r: f"{r.choice('ABCDEFG')}{r.randint(1, 48)}"),
    ("it cost {v}", lambda f, r: r.choice([f"฿{r.randint(1, 9)},{r.randint(0, 999):03d}", f"¥{r.randint(1, 99)},{r.randint(0, 9)}00",
                                           f"RMB {r.randint(20, 999)}", f"€{r.randint(5, 300)},{r.randint(0, 99):02d}",
                                           f"R {r.randint(1, 9)} {r.randint(0, 999):03d},00", f"GH₵ {r.randint(10, 900)}.00",
                                           f"{r.randint(1, 9)} {r.randint(0, 9)}00 DA", f"{r.randint(10, 900)} 000 so'm",
                                           f"TSh {r.randint(1, 90)},000", f"RM {r.randint(10, 500)}.{r.choice(['00', '50', '90'])}",
                                           f"{r.randint(5, 200)} AZN"])),
    ("train {v}", lambda f, r: r.choice(["G1234", "D312", "Nozomi 225", "Hikari 503", "R2 Nord", "Afrosiyob 762",
                                         "Special Express 9", "ETS 9421", "SGR Express", "Gautrain"])),
    ("item {v}", lambda f, r: r.choice(["SKU 702.611.50", "SKU-HM-2231-BLK", "art. 104.321.89", "EAN 4006381333931",
                                        "ASIN B08N5WRWNW", "model MALM-160"])),
    ("the dose is {v}", lambda f, r: r.choice(["500 mg", "2 x 5 ml", "10 mg/ml", "1 tablet twice a day", "250mg", "0.5 ml"])),
    ("the meter reads {v}", lambda f, r: f"{r.randint(0, 99999):05d}.{r.randint(0, 9)}"),
    ("we used {v} last month", lambda f, r: f"{r.randint(80, 900)} kWh"),
    ("app {v}", lambda f, r: r.choice([f"v{r.randint(1, 9)}.{r.randint(0, 30)}.{r.randint(0, 9)}",
                                       f"build {r.randint(1, 9)}.{r.randint(0, 9)}.{r.randint(0, 9)} ({r.randint(1000, 9999)})"])),
    ("we were in {v}", lambda f, r: f"room {r.randint(2, 38)}{r.randint(1, 40):02d}"),
    ("stuck on {v}", lambda f, r: f"level {r.randint(5, 600)}"),
    ("bought {v}", lambda f, r: r.choice(["1,200 gems", "980 Genesis Crystals", "800 Robux", "6480 Primogems", "the Season 12 pass"])),
    ("course {v}", lambda f, r: r.choice(["CS50", "MATH 101", "IELTS-AC", "JLPT N3", "HSK 4", "ECON-2040"])),
    ("platform {v}", lambda f, r: str(r.randint(1, 24))),
    ("row {v}", lambda f, r: f"{r.choice('ABCDEFGHJK')}, seat {r.randint(1, 40)}"),
    ("the {v} one", lambda f, r: r.choice(["12 kg", "3-seater", "160x200", "Size M", "King size", "4 kg"])),
    ("on {v}", lambda f, r: (lambda d: r.choice([f"{d.day} {V6_ENGLISH_MONTHS[d.month - 1]}", d.strftime("%d/%m"),
                                                   d.strftime("%Y-%m-%d")]))(_date_v5(r, 2025, 2026))),
]


_place_v6 = _placer((0.3, "{host}. {fragment}"), (0.55, "{fragment}{sentence_end}{host}"), (0.67, "{host}... {fragment}"),
                    (0.77, "{host}\nP.S. {fragment}"), (0.87, "{fragment} \u2014 {host}"), (1.0, "{host}, btw {fragment}"))


def build_injected_v6(n_per_type: int, seed: int, hosts: list[str]) -> list[dict]:
    return build_injected(HeldOutRecipe("v6", V6_LOCALES, 101, _value_v6, _card_details_v6, V6_TEMPLATES,
                                        V6_NEGATIVES, " \u2013 ", _place_v6), n_per_type, seed, hosts)


V6_BRANDS_OF = {
    "airline": ["Thai Airways", "Bangkok Airways", "Japan Airlines", "ANA", "Cathay Pacific", "China Eastern", "Aer Lingus",
                "Azerbaijan Airlines", "Uzbekistan Airways", "South African Airways", "FlySafair", "Air Algérie",
                "Air Tanzania", "Precision Air", "Malaysia Airlines", "AirAsia", "Vueling", "Renfe", "Rodalies", "JR East",
                "Irish Rail", "Gautrain", "KTM", "Emirates", "Qatar Airways", "Singapore Airlines", "Trip.com", "Agoda",
                "Klook", "Omio", "Trainline"],
    "pharmacy": ["Boots", "Watsons", "Guardian", "Dis-Chem", "Clicks", "Matsumoto Kiyoshi", "Sugi Pharmacy", "Walgreens",
                 "CVS", "Lloyds Pharmacy", "Alpro Pharmacy", "Tsuruha Drug"],
    "power": ["Eskom", "City Power", "Electric Ireland", "Bord Gáis Energy", "TEPCO", "Kansai Electric", "Tenaga Nasional",
              "Sonelgaz", "Azerishiq", "TANESCO", "Endesa", "Naturgy", "Octopus Energy"],
    "water": ["Air Selangor", "Aigües de Barcelona", "DAWASA", "Uisce Éireann", "Azərsu", "Rand Water"],
    "broadband": ["Unifi", "Maxis", "AIS Fibre", "True Online", "eir", "NTT Docomo", "SoftBank Hikari", "China Telecom",
                  "Vodacom", "Azercell", "Ucell", "Tigo", "Movistar", "Digi"],
    "gym": ["Fitness First", "Virgin Active", "Planet Fitness", "Gold's Gym", "Barry's", "Orangetheory", "F45", "Jetts",
            "Celebrity Fitness", "Snap Fitness", "SoulCycle", "Equinox", "Curves", "Tipness", "Konami Sports Club"],
    "subscription": ["Dollar Shave Club", "Harry's", "NordVPN", "Nintendo Switch Online", "iQIYI", "Bilibili", "Viu",
                     "Tencent Video", "Apple One", "LINE Music"],
    "hotel": ["Marriott", "JW Marriott", "Ritz-Carlton", "Hilton", "Conrad", "Four Seasons", "Mandarin Oriental",
              "Shangri-La", "Dusit Thani", "Banyan Tree", "The Peninsula", "Hoshino Resorts", "APA Hotel", "Toyoko Inn",
              "Hotel Okura", "Kempinski", "Fairmont", "Howard Johnson", "Premier Inn", "Travelodge", "Meliá", "Tsogo Sun",
              "Labadi Beach Hotel", "Sofitel", "Park Hyatt", "Wyndham", "Best Western"],
    "tickets": ["AXS", "See Tickets", "Ticketek", "Computicket", "Thai Ticket Major", "Ticket Pia", "Damai", "Dice",
                "Viagogo", "Ticketline"],
    "petshop": ["Petbarn", "Pet Lovers Centre", "Pet Circle", "PetSmart", "Purina", "Hill's Science Diet", "Whiskas",
                "Pedigree", "Orijen", "Blue Buffalo", "Dr. Harvey's", "Dr. Elsey's", "Lily's Kitchen", "Aunt Jeni's",
                "Sheba", "Catit"],
    "furniture": ["Crate & Barrel", "Pottery Barn", "West Elm", "Ethan Allen", "La-Z-Boy", "Raymour & Flanigan",
                  "Rooms To Go", "Nitori", "Muji", "Index Living Mall", "HomePro", "Courts", "Coricraft", "Habitat",
                  "Dunelm", "DFS", "Kave Home", "Maisons du Monde", "Sealy", "Simmons", "Tempur", "Emma", "Herman Miller",
                  "Steelcase", "Knoll", "Roche Bobois", "Jonathan Adler", "Tom Dixon", "Mr. DIY"],
    "games": ["Supercell", "HoYoverse", "Tencent Games", "NetEase Games", "Niantic", "Moonton", "Garena", "King", "Roblox"],
    "school": ["edX", "Khan Academy", "Open University", "FutureLearn", "MasterClass", "Kumon", "Berlitz",
               "Wall Street English", "EF English Live", "British Council", "Goethe-Institut", "Alliance Française",
               "Instituto Cervantes", "Confucius Institute", "Byju's", "Brilliant", "Codecademy", "DataCamp", "Pluralsight",
               "Rosetta Stone", "Pimsleur", "Busuu", "Preply", "italki", "Cambly", "Quizlet", "Chegg", "Mrs Wordsmith"],
    "food": ["Mister Donut", "Lady M", "Ben & Jerry's", "Wendy's", "Tim Hortons", "Mrs. Fields", "Jollibee",
             "Auntie Anne's", "Papa John's", "Uncle Tetsu", "Din Tai Fung", "Nando's", "Mr Bean"],
    "health": ["Dr. Reddy's", "Dr. Teal's", "Dr. Squatch", "Dr. Organic", "Dr.Ci:Labo", "Dr. Dennis Gross",
               "Dr. Barbara Sturm", "Mr. Muscle", "Tiger Balm", "Salonpas"],
}
V6_BRANDS = [brand for group in V6_BRANDS_OF.values() for brand in group]
V6_HONORIFIC_FREE = [
    "Dr. Teal's bath salts arrived with the lid cracked", "Mr. DIY in Penang had no extension cords left",
    "Lady M cake for the hotel room was the wrong flavour", "Is the Mister Donut near Shibuya station still open?",
    "Dr. Harvey's dog food is out of stock again", "Dr. Elsey's cat litter bag split open in the van",
    "Dr. Reddy's generic was swapped for the branded one, why?", "Dr. Squatch soap subscription renewed without asking",
    "Mr. Muscle drain gel leaked all over the parcel", "Dr.Ci:Labo sunscreen was sold out at Matsumoto Kiyoshi",
    "Mrs Wordsmith vocabulary box never arrived", "Dr. Organic aloe gel was the travel size, not the 200 ml",
    "Dr. Dennis Gross peel pads were charged twice", "Can I use a Dr. Barbara Sturm voucher on the hotel spa?",
    "Aunt Jeni's raw food came defrosted", "Mr. Muscle and Dr. Teal's were both missing from the pharmacy order",
]
V6_PEOPLE_FREE = [
    "Marriott Bonvoy points didn't post for my stay in Baku", "Hilton Honors app shows the wrong hotel for next week",
    "JW Marriott in Phuket charged the deposit twice", "Ritz-Carlton Kyoto wants the full amount upfront",
    "Howard Johnson in Tashkent says the room isn't paid", "Kempinski front desk lost our luggage tags",
    "Barry's class in Dublin was cancelled 10 minutes before", "Gold's Gym in Bangkok won't freeze my membership",
    "Harry's razors came without the handle", "Ethan Allen sofa delivery was rescheduled three times",
    "Herman Miller chair arrived with a broken armrest", "La-Z-Boy recliner motor stopped working after a week",
    "Jonathan Adler vase was shattered in the box", "Tom Dixon lamp is missing the bulb",
    "Roche Bobois says the sofa ships from France in 10 weeks", "Raymour & Flanigan never called about the delivery slot",
    "Lily's Kitchen cat food pouches were past their date", "Hill's Science Diet 12 kg bag arrived torn",
    "Khan Academy app logs me out on the tablet", "Berlitz lesson in Tokyo was moved without notice",
    "Goethe-Institut exam results are not in the portal", "Instituto Cervantes DELE fee was charged in euros",
    "Confucius Institute HSK course starts in March?", "Byju's refund has been pending for a month",
    "Pimsleur Japanese lessons won't download offline", "Alliance Française in Algiers is closed on Friday?",
    "Kumon worksheets for this month were not sent", "Ben & Jerry's tub melted in the hotel minibar",
]
V6_PLACE_FREE = [
    "O.R. Tambo International check-in desk for FlySafair was closed", "King Shaka International has no Avis desk?",
    "Kotoka International lounge refused my Priority Pass", "Heydar Aliyev International transfer was 40 minutes late",
    "Julius Nyerere International baggage belt 3 lost our suitcase", "Houari Boumediene airport taxi charged 3000 DA",
    "Islam Karimov Tashkent International has no luggage wrap?", "Sultan Abdul Aziz Shah airport Grab pickup is where?",
    "George airport car hire desk closes at 7pm", "Constantine hotel didn't have hot water",
    "Clare office of Electric Ireland says the meter is fine", "Kerry train from Heuston left without us",
    "Montserrat rack railway tickets were not in the app", "Nara deer park tour was cancelled for rain",
    "Sakura station bus to Narita was full", "Victoria Island branch in Lagos isn't ours, we're in Accra",
    "Alexandra depot keeps rescheduling the fridge", "Phoenix warehouse in Durban has my bed frame",
    "Suvarnabhumi to Hua Hin bus left from gate 8", "Shin-Osaka platform 22 was the wrong one for the Nozomi",
    "Sants Estació ticket machine ate my card", "Beijing Daxing airport express was suspended",
    "Penang Sentral to KL Sentral ETS was delayed 2 hours", "Dar es Salaam SGR station has no ATM",
    "Samarkand Afrosiyob tickets sold out for Friday", "Galway Bus Éireann ticket wasn't accepted on the Citylink",
]
V6_SHAPE_FREE = [
    "Flight TG 917 was moved from 14:05 to 18:40, can I change for free?", "Seat 23C on EK0012 doesn't recline",
    "Gate changed to B12 and the app still says A4", "Paid ฿1,290 for extra baggage on Bangkok Airways, never added",
    "The Nozomi 225 from Tokyo was 12 minutes late, is there compensation?", "Train G1234 to Hangzhou cancelled, refund?",
    "Prescription says 500 mg but Watsons gave me 250 mg", "Take 2 x 5 ml every 8 hours, is that right for a 4-year-old?",
    "Meter reading was 04512.6 not 45126", "Bill says 812 kWh for March, we were away",
    "App v3.14.2 keeps crashing on the Galaxy A54", "Stuck on level 87 after the update, gems gone",
    "Bought 6480 Primogems, only 3280 arrived", "Room 1412 smelled of smoke, we asked to move",
    "Row F seats 12 and 13 were double booked", "SKU 702.611.50 is the wardrobe door, not the frame",
    "Sofa 3-seater in Size M? there is no size M", "Quote was RM 89.90 a month, bill says RM 109.90",
    "Monthly fee went from R 1 299,00 to R 1 459,00", "120 000 so'm taken twice at the Ucell shop",
    "TSh 35,000 top-up didn't reach the Tigo line", "4 500 DA for the delivery to Oran seems a lot",
    "GH₵ 250.00 debited for the gym but the app says unpaid", "¥12,800 for the Ticket Pia seats, no ticket yet",
    "Is the 15:30 Rodalies R2 Nord running today?", "Booked 2 nights, charged for 3 at 89,95 € each",
    "Course CS50 certificate shows the wrong year", "JLPT N3 mock test link expired before the 14th",
    "Thanks, sorted!", "Cheers, much appreciated", "Regards, a very tired traveller", "Many thanks and have a nice day",
    "Kind regards, the guests in room 508", "Best wishes from a happy cat owner",
]
V6_FREE_CLEAN = V6_HONORIFIC_FREE + V6_PEOPLE_FREE + V6_PLACE_FREE + V6_SHAPE_FREE
V6_PRODUCTS = ["carry-on suitcase", "power bank", "travel adapter", "noise-cancelling headphones", "Galaxy A54", "iPhone 15",
               "Xiaomi Redmi Note 13", "iPad mini", "Kindle Paperwhite", "Nintendo Switch OLED", "Apple Watch SE",
               "Xiaomi Smart Band 9", "smart meter", "Wi-Fi router", "mesh extender", "off-peak membership", "10-class pass",
               "annual plan", "deluxe twin room", "late checkout", "club lounge access", "VIP standing ticket",
               "Category 2 seats", "cat fountain", "dog crate", "scratching post", "bed frame", "corner sofa",
               "office chair", "mattress topper", "bookcase", "IELTS mock test", "Python course", "JLPT N3 course"]
V6_DRUGS = ["Panadol Extra", "Nurofen", "Voltaren Emulgel", "Claritin", "Zyrtec", "Strepsils", "Gaviscon", "Tiger Balm",
            "Salonpas", "amoxicillin", "metformin", "ibuprofen", "paracetamol", "cetirizine"]
V6_EVENTS = ["Coldplay", "BLACKPINK", "Cirque du Soleil", "The Lion King musical", "Les Misérables", "Miss Saigon",
             "Hamilton", "Fuji Rock", "Afro Nation", "Ultra Japan", "Rugby World Cup", "AFCON", "Primavera Sound",
             "Disney on Ice", "Sauti Sol"]
V6_GAMES = ["Genshin Impact", "Honkai: Star Rail", "PUBG Mobile", "Free Fire", "Mobile Legends", "Clash of Clans",
            "Clash Royale", "Candy Crush", "Pokémon GO", "Monster Strike", "Puzzle & Dragons", "Honor of Kings",
            "Brawl Stars", "Call of Duty: Mobile", "Royal Match", "Monopoly GO", "Cookie Run: Kingdom", "Mario Kart Tour"]
V6_GAME_ITEMS = ["the Welkin Moon pass", "800 Robux", "the Brawl Pass", "a diamond pack", "the Season 12 pass",
                 "6480 Primogems", "the starter bundle", "1,200 gems", "a skin bundle"]
V6_COURSES = ["CS50", "MATH 101", "IELTS Academic prep", "JLPT N3", "HSK 4", "Python for Beginners", "Data Analysis 2",
              "Spanish A2", "Business English B2"]
V6_FURNITURE_MODELS = ["KALLAX 77x147", "MALM 160x200", "POÄNG armchair", "Aeron size B", "Tempur Pro Plus 180",
                       "Emma Original 90x200", "Eames lounge chair", "Billy 80x28x202", "Soderhamn 3-seat",
                       "Nitori N-Sleep C1", "Muji oak bed SD"]
V6_PLACES = ["Bangkok", "Chiang Mai", "Phuket", "Pattaya", "Hua Hin", "Tokyo", "Osaka", "Kyoto", "Sapporo", "Nara",
             "Sakura", "Shanghai", "Beijing", "Guangzhou", "Shenzhen", "Chengdu", "Kuala Lumpur", "Penang",
             "Johor Bahru", "Kota Kinabalu", "Galway", "Dingle", "Clare", "Kerry", "Dublin", "Baku", "Ganja", "Sheki",
             "Tashkent", "Samarkand", "Bukhara", "Khiva", "Johannesburg", "Durban", "Cape Town", "George", "Alexandra",
             "Phoenix", "Accra", "Kumasi", "Tamale", "Cape Coast", "Dar es Salaam", "Zanzibar", "Arusha", "Moshi",
             "Algiers", "Oran", "Constantine", "Annaba", "Barcelona", "Girona", "Sitges", "Montserrat",
             "Andorra la Vella", "Suvarnabhumi", "Narita", "Haneda", "Shin-Osaka", "Pudong", "KLIA",
             "Heuston Station", "O.R. Tambo International", "Kotoka International", "Julius Nyerere International",
             "Heydar Aliyev International", "Sants Estació", "Hua Lamphong", "Dubai", "Doha", "Istanbul", "Singapore"]
V6_CURRENCIES = [("baht", "THB"), ("yen", "JPY"), ("yuan", "CNY"), ("ringgit", "MYR"), ("euros", "EUR"),
                 ("manat", "AZN"), ("so'm", "UZS"), ("rand", "ZAR"), ("cedis", "GHS"), ("Tanzanian shillings", "TZS"),
                 ("Algerian dinars", "DZD"), ("US dollars", "USD"), ("Singapore dollars", "SGD"), ("dirhams", "AED"),
                 ("Qatari riyals", "QAR"), ("Korean won", "KRW"), ("Hong Kong dollars", "HKD"), ("Taiwan dollars", "TWD"),
                 ("patacas", "MOP"), ("CFA francs", "XOF")]
V6_PAY = ["PromptPay", "TrueMoney Wallet", "Rabbit LINE Pay", "PayPay", "Suica", "PASMO", "Rakuten Pay",
          "konbini payment", "UnionPay", "Touch 'n Go eWallet", "Boost", "GrabPay", "DuitNow", "FPX", "Ozow",
          "SnapScan", "Zapper", "Vodafone Cash", "AirtelTigo Money", "Edahabia", "Payme", "Click", "Uzcard", "Humo",
          "Tigo Pesa", "Airtel Money", "HaloPesa", "Apple Pay", "Google Pay", "a corporate card", "cash at the front desk",
          "bank transfer", "Amex", "a prepaid card"]
V6_STARTS = ["Hello again", "Good evening", "Dear support", "To whom it may concern", "Heya", "Quick favour",
             "Sorry for the trouble", "Not happy", "Big problem", "FYI", "Hopefully an easy one", "Long story short",
             "Okay so", "Hmm", "Right", "Sawasdee", "Dia duit", "Salam", "Sawubona", "Habari", "Bon dia", "Ni hao",
             "Assalomu alaykum", "Konnichiwa"]
V6_MONTHS = ["Songkran", "Golden Week", "Chinese New Year", "Novruz", "Eid", "the Easter break", "the exam period",
             "semester two", "the rainy season", "Hari Raya", "the summer holidays", "December"]
V6_CLEAN_TEMPLATES = [
    "{start}, {airline} moved flight {flight} from {clock} to the evening", "Is seat {seat} on {flight} a window seat?",
    "My {airline} flight {flight} to {place} is delayed, will I make the connection in {place2}?",
    "{start}, the gate for {flight} changed to {gate} and nobody announced it",
    "Can I take a {gear} as hand luggage on {airline}?", "How much is extra baggage on {airline} from {place} to {place2}?",
    "{start}, train {train} from {place} was cancelled, do I get a refund?", "Does the {clock} {train} stop at {place}?",
    "{start}, {pharmacy} only had {drug} {dose}, is that the same thing?",
    "Can I collect the {drug} from {pharmacy} in {place} after {clock}?",
    "The video consultation on {telehealth} froze at {clock}, can I rebook?",
    "Is {drug} {dose} sold without a prescription at {pharmacy}?",
    "{telehealth} charged {amount} for the online doctor, the website said less",
    "{start}, my {power} bill says {kwh} kWh but the meter shows less", "Why did {power} raise the tariff after {month}?",
    "The {broadband} fibre in {place} drops every evening around {clock}", "Can I pay the {power} bill with {pay}?",
    "{start}, {water} wants a deposit of {amount} to connect the water",
    "{start}, can I freeze my {gym} membership over {month}?", "{subscription} renewed at {amount} even though I cancelled",
    "Is the {gym} club in {place} open at {clock} on public holidays?", "How do I switch {subscription} from monthly to yearly?",
    "{start}, the {hotel} in {place} charged a city tax of {amount}", "Can I get late checkout at the {hotel} {place} on {when}?",
    "We land in {place} at {clock}, will the {hotel} front desk still be open?", "Does the {hotel} near {place} take {pay}?",
    "{start}, the {tickets} tickets for {when} show the wrong venue",
    "The {event} show in {place} moved to {when}, can {tickets} refund me?", "Why does {tickets} add a {amount} booking fee?",
    "Can I resell {event} tickets on {tickets}?", "{start}, {petshop} sent the wrong {petitem} again",
    "Does {petshop} deliver to {place} on {when}?", "My cat won't touch the new food from {petshop}, can I return it?",
    "{start}, the {model} from {furniture} came without the screw bag",
    "The {furniture} delivery window is {window}, can they come earlier?",
    "Can {furniture} assemble the {model} or do I do it myself?",
    "The {furniture} sofa has been at the {place} warehouse since {when}",
    "{start}, I bought {item} in {game} and nothing arrived", "{game} crashes on version {version} after the update",
    "My {game} progress went back to level {level}, please restore it", "Paid {amount} with {pay} in {game}, still nothing",
    "{start}, {game} servers lag every night at {clock}", "Is {game} by {games} available in {place}?",
    "{start}, the {school} certificate for {course} has a typo in the title",
    "Can I pay for {course} on {school} in {cur} instead of {cur2}?",
    "The {school} exam centre in {place} moved my {course} slot to {clock}",
    "Which is cheaper from {place}, {airline} or {airline2}?", "How much is 250 {code} in {code2}?",
    "{brand} took the payment by {pay} twice", "Do {hotel} and {airline} share loyalty points?",
    "{food} at {place} airport only takes {pay}?", "{start}, the {food} voucher from {hotel} didn't scan",
    "Does {pharmacy} stock {health} or only {drug}?", "{health} is cheaper at {pharmacy} than at {pharmacy2}",
    "{start}, the {gear} I bought at {place} airport stopped charging", "Is {brand} the same company as {brand2}?",
]
V6_CLOCK = ["14:05", "06:40", "23:55", "7.15pm", "9am", "half past 8", "noon", "midnight", "18:30", "0730", "9 pm", "11.45"]
V6_WINDOWS = ["10-12", "between 2 and 5", "8am to 1pm", "after 6pm", "13:00-17:00", "the morning slot"]
V6_GEAR = ["power bank", "travel adapter", "carry-on suitcase", "pair of noise-cancelling headphones", "neck pillow",
           "Galaxy A54", "iPad mini", "Kindle Paperwhite", "Nintendo Switch OLED", "Xiaomi Smart Band 9"]
V6_PET_ITEMS = ["cat litter", "dog crate", "scratching post", "cat fountain", "flea collar", "bag of kibble", "bird cage"]
V6_TELEHEALTH = ["Teladoc", "Doctor Anywhere", "Halodoc", "Ping An Good Doctor", "Push Doctor", "Babylon", "DocPlanner"]
V6_FLIGHTS = ["TG 917", "NH 106", "JL 44", "CX 251", "MU 5101", "EI 154", "J2 8012", "HY 601", "SA 234", "AH 1007",
              "TC 101", "MH 2", "AK 6102", "VY 1234", "EK0012", "QR 8", "SQ 317", "FA 203"]
V6_TRAINS = ["Nozomi 225", "Hikari 503", "G1234", "D312", "R2 Nord", "Afrosiyob 762", "ETS 9421", "SGR Express",
             "Enterprise", "Special Express 9", "Narita Express", "Sharq 710"]
V6_DOSES = ["500 mg", "250mg", "10 mg", "200 mg", "5 ml", "2 x 5 ml", "1 g", "0.5 mg"]
V6_WHEN = ["14 March", "the 3rd", "next Tuesday", "12/11", "2025-12-24", "Friday the 13th", "the weekend", "1 June",
           "the 28th", "New Year's Eve", "Monday morning"]


def _extra_v6(rng: random.Random) -> dict:
    amount = rng.choice([f"฿{rng.randint(1, 9)},{rng.randint(0, 9)}90", f"¥{rng.randint(1, 30)},{rng.randint(0, 9)}00",
                         f"RMB {rng.randint(20, 999)}", f"RM {rng.randint(10, 500)}.{rng.choice(['00', '50', '90'])}",
                         f"€{rng.randint(5, 300)},{rng.randint(0, 99):02d}", f"{rng.randint(5, 200)} AZN",
                         f"{rng.randint(10, 900)} 000 so'm", f"R {rng.randint(1, 9)} {rng.randint(0, 999):03d},00",
                         f"GH₵ {rng.randint(10, 900)}.00", f"TSh {rng.randint(1, 90)},000", f"{rng.randint(1, 9)} {rng.randint(0, 9)}00 DA",
                         f"${rng.randint(5, 400)}"])
    brands = {group: rng.choice(names) for group, names in V6_BRANDS_OF.items()}
    for group in ("airline", "pharmacy"):
        brands[group + "2"] = rng.choice([name for name in V6_BRANDS_OF[group] if name != brands[group]])
    return dict(brands, clock=rng.choice(V6_CLOCK), window=rng.choice(V6_WINDOWS), gear=rng.choice(V6_GEAR),
                petitem=rng.choice(V6_PET_ITEMS), telehealth=rng.choice(V6_TELEHEALTH), flight=rng.choice(V6_FLIGHTS), train=rng.choice(V6_TRAINS),
                seat=f"{rng.randint(1, 62)}{rng.choice('ABCDEFHK')}", gate=f"{rng.choice('ABCDEFG')}{rng.randint(1, 48)}",
                amount=amount, dose=rng.choice(V6_DOSES), drug=rng.choice(V6_DRUGS), kwh=str(rng.randint(80, 1400)),
                model=rng.choice(V6_FURNITURE_MODELS), event=rng.choice(V6_EVENTS), game=rng.choice(V6_GAMES),
                item=rng.choice(V6_GAME_ITEMS), level=str(rng.randint(2, 700)),
                version=f"{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}", course=rng.choice(V6_COURSES),
                when=rng.choice(V6_WHEN))


V6_EMOJI = [" 🙏", " 😡", " ✈️", " 😭", " 👍", " 🐶", " 🎮", " 🛋️", " 💊", " 🙃"]


def _with_emoji(text: str) -> str:
    return text + V6_EMOJI[sum(map(ord, text)) % len(V6_EMOJI)]


CLEAN_V6 = CleanRecipe("v6", V6_FREE_CLEAN, V6_CLEAN_TEMPLATES, V6_CURRENCIES, V6_BRANDS, V6_PLACES, V6_PRODUCTS, V6_PAY,
                       V6_STARTS, V6_MONTHS, ((0.1, str.lower), (0.14, str.upper), (0.22, _no_closing_punctuation),
                                              (0.26, _exclaimed), (0.31, _with_emoji)), extra=_extra_v6)


def build_clean_v6(seed: int, n: int) -> list[dict]:
    """Like ``build_clean_heldout`` for v6, but without repeats: templates are drawn until ``n`` distinct
    sentences are made (the draws are in a fixed order, so the seed rebuilds the set byte for byte)."""
    seen: set[str] = set()
    rows = []
    for row in build_clean_heldout(CLEAN_V6, seed, n * 3):
        if row["text"] not in seen:
            seen.add(row["text"])
            rows.append(row)
        if len(rows) == n:
            return rows
    raise RuntimeError(f"only {len(rows)} distinct clean sentences")


# ---------------------------------------------------------------------------
# Held-out set v7 (round 7). Held-out v6 was looked at while the scrubber was improved in round
# 7, so it is development data now. Everything below was written before the scrubber was run on
# any of it: twelve locales used in no earlier set (Greek, Bulgarian, Ukrainian, Georgian,
# Armenian, Hebrew, Persian, Emirati Arabic, Korean, Taiwanese Mandarin, Nepali and
# Luxembourgish), most values romanised as in a chat in English and about one in ten in the
# locale's own script (Greek, Cyrillic, Georgian, Armenian, Hebrew, Arabic, Hangul, Han,
# Devanagari); cue phrases and value shapes written fresh from how people write to food-delivery
# apps and restaurants, ride-hailing and taxis, couriers and parcel lockers, letting agents,
# dental and vet clinics, salons and spas, printing and photo shops, parking and toll operators,
# charities, public-transport card offices, coworking spaces and wedding/event planners;
# streets, postcodes, phone numbers, national numbers and IBANs written by hand from each
# country's real shapes (phone numbers checked with `phonenumbers`, IBAN check digits and the
# national numbers that python-stdnum knows checked with it, the others computed with their own
# published check digits; cards Luhn-valid); dates of birth also in the Solar Hijri, Bikram
# Sambat, Minguo and Hijri calendars; look-alikes from those domains (table and menu numbers,
# bus routes, parking bays, floors, calories, tooth numbers, kg, km, percentages, local prices,
# opening hours) beside the values. Dates are drawn from the seed, so a rebuild is byte for byte.
# ---------------------------------------------------------------------------
V7_LOCALES = ["el_GR", "bg_BG", "uk_UA", "ka_GE", "hy_AM", "he_IL", "fa_IR", "ar_AE", "ko_KR", "zh_TW", "ne_NP",
              "lb_LU"]
V7_TEMPLATES: dict[str, list[str]] = {
    "PERSON": ["the courier handed my order to {v}, I don't know who that is", "the driver, {v}, took the long way",
               "the flat viewing is booked under {v}", "the tenant on the lease is {v}, I'm the guarantor",
               "the dentist appointment is for {v}, I only booked it", "the cat is registered to {v} at the clinic",
               "my stylist was {v}, great job by the way", "the photo book is a gift for {v}",
               "please put {v} on the donation receipt", "the travel card was issued to {v} but it's mine",
               "the desk is reserved for {v} from our team", "I'm organising the wedding of {v}, the venue needs to know",
               "the table was booked by {v} for 8 people", "attn: {v}", "parcel addressed to {v}",
               "on behalf of {v}", "{v} - owner of the dog (Bella)", "Yours,\n{v}", "Take care,\n{v}", "Ta, {v}",
               "Respectfully, {v}", "Blessings, {v}", "{v} from flat 12 here", "the contract says {v}, please fix the spelling",
               "in memory of {v}, please engrave exactly this", "{v} picked up the prints, not me"],
    "EMAIL": ["the order confirmation went to {v}", "send the lease draft to {v}", "the X-rays can be emailed to {v}",
              "please email the tax receipt for my donation to {v}", "the print proofs to {v} please",
              "my coworking invoices go to {v}", "the booking app has {v} on file", "invite link to {v}",
              "I signed up to the loyalty club with {v}", "the refund notice should go to {v}",
              "wedding RSVP replies to {v}", "the vaccination reminder keeps going to {v}, an old email"],
    "PHONE": ["the courier should ring {v} at the gate", "the driver couldn't reach me, my number is {v}",
              "viewing contact: {v}", "the clinic can text {v} for the reminder", "the salon has my old number, new one is {v}",
              "call the venue manager on my behalf, I'm on {v}", "SMS code never arrives at {v}", "Viber {v}",
              "Telegram / Signal: {v}", "number on the donation form: {v}", "the parking app is tied to {v}",
              "please ring {v} when the photos are ready", "reach me on {v} (KakaoTalk too)", "my mobile: {v}"],
    "ADDRESS": ["the food should come to {v}", "pick me up from {v}", "the flat I'm renting is at {v}",
                "send the printed canvas to {v}", "the locker is no good, deliver to {v}", "registration address: {v}",
                "the vet home visit is at {v}", "please post the thank-you letter to {v}",
                "the reception is at my parents' place, {v}", "home visit address for the dentist - {v}",
                "the rider went to {v} but I'm in the next building", "correspondence address {v}",
                "the wrong building - I live at {v}", "drop-off: {v}"],
    "POSTCODE": ["do you deliver food to postal code {v}?", "can a driver pick up in {v}?", "flats near {v} under budget?",
                 "is {v} covered by the courier?", "the form rejects postal code {v}", "post code {v} if that helps",
                 "my postcode ({v}) isn't in the list", "the clinic closest to {v}?", "which locker is nearest to {v}"],
    "DATE_OF_BIRTH": ["for the patient file, my date of birth is {v}", "date of birth on the lease: {v}",
                      "the pet insurance wants the owner's DOB, it's {v}", "I was born {v}, do I get the student fare?",
                      "birth date for the concession card - {v}", "the salon gives a birthday discount, mine is {v}",
                      "my birthday (with the year) is {v}", "born on {v} according to my ID", "my DOB is {v}, please fix it in the app",
                      "the donor form asks for birth date: {v}", "date of birth of the groom: {v}"],
    "IP_ADDRESS": ["the restaurant site blocked my IP {v}", "the coworking Wi-Fi gave my laptop {v}",
                   "login alert from {v}, that's not my city", "my home router's public address is {v}",
                   "the donation page says {v} is suspicious", "the printer shop portal only allows {v}",
                   "please whitelist {v} for the parking admin panel", "logs show {v} tried my account 40 times"],
    "IBAN": ["refund the deposit for the flat to {v}", "the monthly donation comes from {v}",
             "pay the venue refund into {v}", "the clinic refund should go to {v}", "rent is paid from {v}",
             "for the courier cash-on-delivery payout: {v}", "IBAN for the driver payouts: {v}",
             "payout account -> {v}", "my account number (IBAN) {v}"],
    "NATIONAL_ID": ["the lease needs my ID number: {v}", "ID no. for the concession card {v}",
                    "personal number on the patient card {v}", "my ID card number is {v}",
                    "tax receipt for the donation needs my ID - {v}", "the parcel locker asked for my ID, {v}",
                    "citizen number: {v}", "my registration number {v}", "identity code for the contract {v}",
                    "the insurer needs the owner's national number: {v}"],
    "USERNAME": ["the delivery app account is {v}", "my rider profile shows {v}", "KakaoTalk ID: {v}",
                 "tg: @{v}", "on the booking site I'm {v}", "I post my reviews as {v}", "Instagram: {v}",
                 "the coworking app has me as {v}", "the donation page login is {v}", "member login {v}",
                 "nick on the forum: {v}", "the printing portal username is {v}"],
    "CARD": ["the food app charged the card {v}", "the taxi took the fare from {v} twice", "pay the deposit from {v}",
             "the clinic saved {v} on file, please delete it", "card number for the monthly gift: {v}",
             "parking fines keep hitting {v}", "top up the travel card from {v}", "please refund the card {v}"],
    "ORDER_ID": ["order {v} (the pizzas)", "trip ID {v}", "tracking number {v}", "waybill {v}",
                 "viewing request {v}", "appointment no. {v}", "the print job {v}", "parking session {v}",
                 "donation receipt {v}", "card application {v}", "booking {v} for the meeting room",
                 "event contract no. {v}", "the claim about parcel {v}"],
}
# Romanisation of the scripts whose names Faker writes natively (official tables, apostrophes as people drop them)
V7_GREEK = [("ου", "ou"), ("ού", "ou"), ("αυ", "av"), ("αύ", "av"), ("ευ", "ev"), ("εύ", "ev"), ("μπ", "mp"), ("ντ", "nt"),
            ("γκ", "gk"), ("γγ", "ng"), ("θ", "th"), ("χ", "ch"), ("ψ", "ps"), ("ξ", "x")]
V7_GREEK_1 = str.maketrans("αάβγδεέζηήιίϊΐκλμνοόπρσςτυύϋΰφωώ", "aavgdeeziiiiiiklmnooprsstyyyyfoo")
V7_CYRILLIC_BG = str.maketrans({"а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z", "и": "i",
                                "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s",
                                "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sht",
                                "ъ": "a", "ь": "y", "ю": "yu", "я": "ya"})
V7_CYRILLIC_UA = {"а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie", "ж": "zh", "з": "z",
                  "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p",
                  "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
                  "щ": "shch", "ь": "", "ю": "iu", "я": "ia", "'": "", "\u2019": ""}
V7_UA_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}
V7_GEORGIAN = str.maketrans({"ა": "a", "ბ": "b", "გ": "g", "დ": "d", "ე": "e", "ვ": "v", "ზ": "z", "თ": "t", "ი": "i",
                             "კ": "k", "ლ": "l", "მ": "m", "ნ": "n", "ო": "o", "პ": "p", "ჟ": "zh", "რ": "r", "ს": "s",
                             "ტ": "t", "უ": "u", "ფ": "p", "ქ": "k", "ღ": "gh", "ყ": "q", "შ": "sh", "ჩ": "ch", "ც": "ts",
                             "ძ": "dz", "წ": "ts", "ჭ": "ch", "ხ": "kh", "ჯ": "j", "ჰ": "h"})
V7_ARMENIAN = str.maketrans({"ա": "a", "բ": "b", "գ": "g", "դ": "d", "ե": "e", "զ": "z", "է": "e", "ը": "y", "թ": "t",
                             "ժ": "zh", "ի": "i", "լ": "l", "խ": "kh", "ծ": "ts", "կ": "k", "հ": "h", "ձ": "dz", "ղ": "gh",
                             "ճ": "ch", "մ": "m", "յ": "y", "ն": "n", "շ": "sh", "ո": "o", "չ": "ch", "պ": "p", "ջ": "j",
                             "ռ": "r", "ս": "s", "վ": "v", "տ": "t", "ր": "r", "ց": "ts", "փ": "p", "ք": "k", "օ": "o",
                             "ֆ": "f", "և": "ev"})


def _romanise_v7(loc: str, word: str) -> str:
    low = word.lower()
    if loc == "el_GR":
        for a, b in V7_GREEK:
            low = low.replace(a, b)
        low = low.translate(V7_GREEK_1)
    elif loc == "bg_BG":
        low = low.translate(V7_CYRILLIC_BG)
    elif loc == "uk_UA":
        low = "".join(V7_UA_INITIAL.get(c, V7_CYRILLIC_UA.get(c, c)) if i == 0 or low[i - 1] in " -" else
                      V7_CYRILLIC_UA.get(c, c) for i, c in enumerate(low))
    elif loc == "ka_GE":
        low = low.translate(V7_GEORGIAN)
    elif loc == "hy_AM":
        low = "".join(("ye" if c == "ե" else "vo" if c == "ո" and low[i + 1:i + 2] != "ւ" else c)
                      if i == 0 or low[i - 1] in " -" else c for i, c in enumerate(low))
        low = low.replace("ու", "u").translate(V7_ARMENIAN)
    return "-".join(part[:1].upper() + part[1:] for part in low.split("-"))


# Hand-written romanised names where Faker has none (or none worth romanising): (male, female, family)
V7_NAMES = {
    "bg_BG": (["Ivan", "Georgi", "Dimitar", "Nikolay", "Stoyan", "Todor", "Petar", "Hristo", "Kaloyan", "Martin", "Boyan"],
              ["Maria", "Elena", "Desislava", "Tsvetelina", "Gergana", "Milena", "Radostina", "Yordanka", "Ralitsa", "Teodora"],
              ["Ivanov", "Petrov", "Georgiev", "Dimitrov", "Todorov", "Stoyanov", "Nikolov", "Hristov", "Angelov", "Kolev",
               "Popov", "Marinov", "Yordanov", "Iliev"]),
    "he_IL": (["Yonatan", "Itai", "Omer", "Noam", "Eitan", "Ariel", "Yossi", "Moshe", "Avi", "Amit", "Roee", "Nadav"],
              ["Noa", "Yael", "Tamar", "Shira", "Maya", "Avigail", "Michal", "Hila", "Keren", "Orly", "Adi", "Liat"],
              ["Cohen", "Levi", "Mizrahi", "Peretz", "Biton", "Dahan", "Avraham", "Friedman", "Azoulay", "Katz",
               "Ben-David", "Shapiro", "Ohana", "Malka", "Goldberg", "Ben Ami"]),
    "fa_IR": (["Reza", "Ali", "Mohammad", "Amir", "Hossein", "Mehdi", "Arash", "Kaveh", "Babak", "Siavash", "Pouya"],
              ["Sara", "Maryam", "Zahra", "Fatemeh", "Niloufar", "Shirin", "Parisa", "Mahsa", "Leila", "Golnaz", "Yasaman"],
              ["Hosseini", "Mohammadi", "Rezaei", "Ahmadi", "Karimi", "Moradi", "Jafari", "Rahimi", "Tehrani", "Ghasemi",
               "Shirazi", "Esfahani", "Sadeghi", "Farahani", "Kazemi", "Najafi"]),
    "ar_AE": (["Mohammed", "Ahmed", "Khalid", "Saeed", "Rashid", "Hamdan", "Sultan", "Omar", "Majid", "Abdulla", "Rami", "Karim"],
              ["Fatima", "Maryam", "Aisha", "Noura", "Shamma", "Hessa", "Latifa", "Mouza", "Nadine", "Reem", "Hind"],
              ["Al Mansoori", "Al Hashemi", "Al Nuaimi", "Al Falasi", "Al Ketbi", "Al Shamsi", "Al Mazrouei", "Al Suwaidi",
               "Al Marzouqi", "Al Dhaheri", "Haddad", "Khoury", "Saleh", "El-Sayed"]),
    "ko_KR": (["Min-jun", "Ji-hoon", "Do-yun", "Hyun-woo", "Jae-won", "Sung-min", "Joon-ho", "Tae-yang", "Seung-hyun"],
              ["Seo-yeon", "Ha-eun", "Ji-woo", "Soo-bin", "Eun-ji", "Ye-jin", "Min-seo", "Hye-jin", "Yu-na", "Da-eun"],
              ["Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim", "Han", "Shin", "Oh", "Seo"]),
    "zh_TW": (["Chia-Hao", "Chih-Wei", "Po-Han", "Tsung-Han", "Wei-Lun", "Chun-Hung", "Yu-Cheng", "Kuan-Ting", "Jui-En"],
              ["Yi-Ting", "Shu-Fen", "Ya-Wen", "Hsin-Yi", "Pei-Shan", "Mei-Ling", "Yu-Chen", "Hui-Ju", "Ssu-Yu"],
              ["Chen", "Lin", "Huang", "Chang", "Lee", "Wang", "Wu", "Liu", "Tsai", "Yang", "Hsu", "Cheng", "Hsieh", "Kuo"]),
    "ne_NP": (["Suman", "Bikash", "Prakash", "Rajesh", "Nabin", "Kiran", "Bishnu", "Dipendra", "Sujan", "Ramesh", "Anish"],
              ["Sunita", "Anjali", "Sabina", "Sarita", "Pooja", "Sushma", "Srijana", "Kabita", "Binita", "Asmita"],
              ["Shrestha", "Adhikari", "Gurung", "Tamang", "Thapa", "Magar", "Rai", "Limbu", "Karki", "Sharma", "Poudel",
               "Khadka", "Maharjan", "Bhattarai", "Joshi", "KC"]),
    "lb_LU": (["Jean-Paul", "Marc", "Pol", "Jos", "Claude", "Romain", "Georges", "Gilles", "Laurent", "Jempi", "Tom", "Luc"],
              ["Carine", "Nathalie", "Marie-Josée", "Anne", "Sandra", "Tessy", "Joëlle", "Myriam", "Lis", "Mady"],
              ["Schmit", "Muller", "Weber", "Wagner", "Hoffmann", "Thill", "Kremer", "Schroeder", "Reuter", "Klein",
               "Becker", "Hansen", "Schiltz", "Da Silva", "Ferreira", "Goedert", "Feller"]),
}
V7_NATIVE_AR = [("محمد", "المنصوري"), ("خالد", "الفلاسي"), ("فاطمة", "الشامسي"), ("مريم", "النعيمي"), ("سعيد", "الكتبي"),
                ("عائشة", "الهاشمي")]
V7_NATIVE_LB = [("Jängi", "Schmit"), ("Léonie", "Wagner")]
V7_UA_FATHERS = ["Petro", "Ivan", "Mykola", "Vasyl", "Oleksandr", "Serhii", "Andrii", "Volodymyr", "Yurii", "Viktor"]
V7_UA_PATRONYMIC = {"Petro": "Petr", "Ivan": "Ivan", "Mykola": "Mykolai", "Vasyl": "Vasyl", "Oleksandr": "Oleksandr",
                    "Serhii": "Serhii", "Andrii": "Andrii", "Volodymyr": "Volodymyr", "Yurii": "Yurii", "Viktor": "Viktor"}
V7_TITLES = {"el_GR": ["Mr", "Mrs", "Dr", "kyrios", "kyria"], "bg_BG": ["g-n", "g-zha", "Dr.", "Mr."],
             "uk_UA": ["pan", "pani", "Dr.", "Mr."], "ka_GE": ["batono", "kalbatono", "Dr."],
             "hy_AM": ["paron", "tikin", "Dr."], "he_IL": ["Adv.", "Dr.", "Mr.", "Ms."],
             "fa_IR": ["Agha-ye", "Khanom", "Dr.", "Mr.", "Eng."], "ar_AE": ["Sheikh", "Eng.", "Dr.", "Mr.", "Ms."],
             "ko_KR": ["Mr.", "Ms.", "Dr.", "Prof."], "zh_TW": ["Mr.", "Ms.", "Dr.", "Prof."],
             "ne_NP": ["Er.", "Dr.", "Mr.", "Mrs.", "Adv."], "lb_LU": ["Här", "Madame", "M.", "Mme", "Dr"]}
V7_MALE_TITLES = ("Mr", "Mr.", "kyrios", "g-n", "pan", "batono", "paron", "Agha-ye", "Här", "M.", "Sheikh")
V7_FEMALE_TITLES = ("Mrs", "Mrs.", "Ms.", "kyria", "g-zha", "pani", "kalbatono", "tikin", "Khanom", "Madame", "Mme")
V7_NATIVE_TITLES = {"el_GR": ["κ.", "κα"], "bg_BG": ["г-н", "г-жа"], "uk_UA": ["пан", "пані"], "ko_KR": ["님"],
                    "zh_TW": ["先生", "小姐"], "he_IL": ["עו\"ד", "ד\"ר"], "fa_IR": ["آقای", "خانم"], "ar_AE": ["السيد", "د."],
                    "hy_AM": ["պարոն", "տիկին"], "ka_GE": ["ბატონი", "ქალბატონი"], "ne_NP": ["श्री", "श्रीमती"]}


def _names_v7(f, rng: random.Random) -> tuple[str, str, str, bool, bool]:
    """(given, family, the full name as the locale writes it, female?, native script?)."""
    loc = f._locales[0]
    female = rng.random() < 0.5
    native = rng.random() < 0.1 and loc != "lb_LU"
    if loc in ("el_GR", "uk_UA", "ka_GE", "hy_AM") or (native and loc not in ("ar_AE",)):
        given = f.first_name_female() if female else f.first_name_male()
        family = f.last_name_female() if female else f.last_name_male()
        if loc == "ko_KR" or loc == "zh_TW":
            return given, family, family + given, female, True
        if not native:
            given, family = _romanise_v7(loc, given), _romanise_v7(loc, family)
        return given, family, f"{given} {family}", female, native
    if loc == "ar_AE" and native:
        given, family = rng.choice(V7_NATIVE_AR)
        return given, family, f"{given} {family}", given in ("فاطمة", "مريم", "عائشة"), True
    male_names, female_names, families = V7_NAMES[loc]
    given = rng.choice(female_names if female else male_names)
    family = rng.choice(families)
    if loc == "bg_BG" and female:
        family += "a"
    if loc in ("ko_KR", "zh_TW"):
        r = rng.random()
        if r < 0.45:
            return given, family, f"{family} {given}", female, False
        if r < 0.6:
            return given, family, f"{family} {given.replace('-', '')}", female, False
        if r < 0.75 and loc == "zh_TW":
            english = rng.choice(["Jessica", "Kevin", "Vivian", "Allen", "Peggy", "Jerry", "Winnie", "Alex"])
            return english, family, f"{english} {family}", female, False
        return given, family, f"{given} {family}", female, False
    return given, family, f"{given} {family}", female, False


def _person_v7(f, rng: random.Random) -> str:
    loc = f._locales[0]
    given, family, full, female, native = _names_v7(f, rng)
    if native:
        r = rng.random()
        if r < 0.35 and loc in V7_NATIVE_TITLES:
            title = rng.choice(V7_NATIVE_TITLES[loc])
            if loc == "ko_KR":
                return f"{full} {title}" if rng.random() < 0.5 else f"{full}{title}"
            if loc == "zh_TW":
                return f"{family}{title}"  # 王小姐, as a shop writes "Miss Wang"
            return f"{title} {full}"
        return full
    r = rng.random()
    if r < 0.1:
        return full.lower()
    if r < 0.18:
        return f"{family.upper()} {given}"  # family name in capitals first, as in a form
    if r < 0.3:
        title = rng.choice([t for t in V7_TITLES[loc] if t not in (V7_MALE_TITLES if female else V7_FEMALE_TITLES)])
        if title in ("batono", "kalbatono", "paron", "tikin", "Khanom", "Agha-ye", "pan", "pani"):
            if title in ("batono", "kalbatono"):
                return f"{title} {given}"  # Georgian: the title goes with the given name
            return f"{title} {family}"
        return f"{title} {full}"
    if r < 0.4:
        if loc == "bg_BG":  # given, father's name, family
            father = rng.choice(V7_NAMES["bg_BG"][0])
            ending = {"Nikolay": "Nikolaev", "Hristo": "Hristov", "Todor": "Todorov", "Petar": "Petrov"}.get(father, father + "ov")
            return f"{given} {ending}{'a' if female else ''} {family}"
        if loc == "uk_UA":
            father = V7_UA_PATRONYMIC[rng.choice(V7_UA_FATHERS)]
            return f"{family} {given} {father}{'ivna' if female else 'ovych'}"  # as in a Ukrainian form
        if loc == "ar_AE" and not female and family.startswith("Al "):
            return f"{given} bin {rng.choice(V7_NAMES['ar_AE'][0][:8])} {family}"
        if loc == "ar_AE" and female and family.startswith("Al "):
            return f"{given} bint {rng.choice(V7_NAMES['ar_AE'][0][:8])} {family}"
        if loc == "ar_AE":
            return f"{'Umm' if female else 'Abu'} {rng.choice(V7_NAMES['ar_AE'][0][:8])}"  # a kunya, "father of ..."
        if loc == "ne_NP":
            return f"{given} {'didi' if female else 'dai'}" if rng.random() < 0.5 else f"{family} ji"
        if loc == "ko_KR":
            return f"{given} ssi" if rng.random() < 0.5 else f"{full} nim"
        if loc == "fa_IR":
            return f"{given} {rng.choice(['Mohammadzadeh', 'Hosseinpour', 'Alizadeh', 'Rezazadeh'])}"
        if loc == "he_IL":
            return f"{given} {family}-{rng.choice(V7_NAMES['he_IL'][2])}"  # a double-barrelled married name
        if loc == "el_GR":
            return f"{given[0]}. {family}"
        if loc == "lb_LU":
            return f"{family.upper()} {given}" if rng.random() < 0.5 else f"{given} {family}-{rng.choice(V7_NAMES['lb_LU'][2])}"
    if r < 0.48 and loc not in ("ko_KR", "zh_TW"):
        return f"{given} {family[0]}."
    if r < 0.55:
        return given
    return full
V7_MAIL_DOMAINS = {"el_GR": ["gmail.com", "yahoo.gr", "hotmail.gr", "otenet.gr", "windowslive.com", "uoa.gr"],
                   "bg_BG": ["abv.bg", "mail.bg", "gmail.com", "dir.bg", "yahoo.com"],
                   "uk_UA": ["ukr.net", "i.ua", "meta.ua", "gmail.com", "knu.ua"],
                   "ka_GE": ["gmail.com", "yahoo.com", "mail.ru", "tsu.ge"],
                   "hy_AM": ["mail.ru", "gmail.com", "yandex.ru", "ysu.am", "yahoo.com"],
                   "he_IL": ["walla.co.il", "gmail.com", "012.net.il", "bezeqint.net", "post.tau.ac.il"],
                   "fa_IR": ["gmail.com", "yahoo.com", "chmail.ir", "ut.ac.ir", "outlook.com"],
                   "ar_AE": ["gmail.com", "hotmail.com", "eim.ae", "emirates.net.ae", "outlook.com", "uaeu.ac.ae"],
                   "ko_KR": ["naver.com", "daum.net", "hanmail.net", "kakao.com", "gmail.com", "snu.ac.kr"],
                   "zh_TW": ["gmail.com", "yahoo.com.tw", "hotmail.com", "ms1.hinet.net", "ntu.edu.tw"],
                   "ne_NP": ["gmail.com", "yahoo.com", "hotmail.com", "wlink.com.np", "ku.edu.np"],
                   "lb_LU": ["pt.lu", "internet.lu", "gmail.com", "education.lu", "uni.lu"]}
# What people call the at sign in their own language, typed out in an English chat
V7_AT_WORDS = {"he_IL": "shtrudel", "ko_KR": "golbaengi", "el_GR": "papaki", "bg_BG": "klyomba", "uk_UA": "sobachka",
               "hy_AM": "shnik", "lb_LU": "at"}


def _local_part_v7(f, rng: random.Random) -> str:
    if rng.random() < 0.3:
        return f.user_name()
    given, family, _, _, native = _names_v7(f, rng)
    if native or not given.replace("-", "").replace(" ", "").isascii():
        return f.user_name()
    given, family = given.lower().replace(" ", "").replace("-", ""), family.lower().replace(" ", "").replace("-", "")
    return rng.choice([f"{given}.{family}", f"{given[0]}{family}", f"{family}{given[0]}", f"{given}{rng.randint(70, 2005)}",
                       f"{family}.{given}{rng.randint(1, 99)}", f"{given}_{family}"])


def _email_v7(f, rng: random.Random) -> str:
    loc = f._locales[0]
    local = _local_part_v7(f, rng)
    domain = rng.choice(V7_MAIL_DOMAINS[loc])
    name, tld = domain.split(".", 1)
    r = rng.random()
    if r < 0.06 and loc in V7_AT_WORDS:
        return f"{local} {V7_AT_WORDS[loc]} {domain}"
    if r < 0.12:
        return f"{local} -at- {name} -dot- {tld}"
    if r < 0.17:
        return f"{local} /at/ {domain}"
    if r < 0.22:
        return f"{local}\u00abat\u00bb{domain}"  # guillemets, as Greek, Bulgarian and Ukrainian keyboards write quotes
    if r < 0.27:
        return f"{local}%40{domain}"  # copied out of a link, URL-encoded
    if r < 0.32:
        return f"{local}(@){domain}"
    if r < 0.37:
        return f"{local}@{name.capitalize()}.{tld.capitalize()}"  # autocorrect capitalised each part
    if r < 0.42:
        return f"{local}@{name}\u00b7{tld}"  # a middle dot for the dot
    if r < 0.46:
        return f"{local} @ {name} dot {tld}"
    if r < 0.5:
        return f"{local}@@{domain}"  # a double-tapped at sign
    return f"{local}@{domain}"


# (country code, trunk prefix, mobile prefixes, digits after them, landline prefixes, digits after them)
V7_PHONE = {
    "el_GR": ("30", "", ["690", "693", "694", "695", "697", "698", "699"], 7, ["210", "231", "281"], 7),
    "bg_BG": ("359", "0", ["87", "88", "89", "98"], 7, ["2"], 7),
    "uk_UA": ("380", "0", ["50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99"], 7, ["44", "32"], 7),
    "ka_GE": ("995", "", ["555", "557", "558", "568", "571", "574", "577", "591", "593", "595", "598", "599"], 6, ["32"], 7),
    "hy_AM": ("374", "0", ["77", "91", "93", "94", "98", "99", "55", "95", "96", "33", "41", "43", "44"], 6, ["10"], 6),
    "he_IL": ("972", "0", ["50", "52", "53", "54", "55", "58"], 7, ["2", "3", "4", "8", "9"], 7),
    "fa_IR": ("98", "0", ["912", "935", "901", "919", "921", "936", "939", "910", "990", "903"], 7, ["21", "31"], 8),
    "ar_AE": ("971", "0", ["50", "52", "54", "55", "56", "58"], 7, ["4", "2", "6"], 7),
    "ko_KR": ("82", "0", ["10"], 8, ["2", "31", "51"], 8),
    "zh_TW": ("886", "0", ["912", "921", "933", "955", "963", "972", "988", "905", "910", "937"], 6, ["2", "4"], 8),
    "ne_NP": ("977", "", ["984", "985", "986", "980", "981", "982", "974", "976", "961", "988"], 7, ["1"], 7),
    "lb_LU": ("352", "", ["621", "661", "691", "671", "628", "651"], 6, ["2", "4"], 7),
}
V7_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
V7_ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
V7_DEVANAGARI_DIGITS = str.maketrans("0123456789", "०१२३४५६७८९")


def _phone_digits_v7(loc: str, rng: random.Random) -> tuple[str, str, str, str, bool]:
    """(country code, trunk, area or mobile prefix, the rest, mobile?): a number in a real numbering plan."""
    import phonenumbers

    cc, trunk, mobile, n_mobile, land, n_land = V7_PHONE[loc]
    for _ in range(300):
        is_mobile = rng.random() < 0.8
        prefix, n = (rng.choice(mobile), n_mobile) if is_mobile else (rng.choice(land), n_land)
        if not is_mobile and loc == "ka_GE":
            prefix, n = "32", 7
        if not is_mobile and loc == "lb_LU" and prefix == "4":
            n = 5
        if not is_mobile and loc == "zh_TW" and prefix == "4":
            n = 7
        rest = _digits_v6(rng, n)
        if not is_mobile and loc == "ne_NP":
            rest = "4" + rest[1:]
        number = phonenumbers.parse(f"+{cc}{prefix}{rest}")
        if phonenumbers.is_valid_number(number):
            return cc, trunk, prefix, rest, is_mobile
    raise RuntimeError(loc)


def _phone_v7(f, rng: random.Random) -> str:
    loc = f._locales[0]
    cc, trunk, p, rest, mobile = _phone_digits_v7(loc, rng)
    full = p + rest
    if rng.random() < 0.12:
        return f"+{cc}{full}"
    if loc == "el_GR":
        shapes = [f"{full[:3]} {full[3:6]} {full[6:]}", f"+30 {full[:3]} {full[3:6]} {full[6:]}", f"0030 {full}",
                  f"{full[:3]}-{full[3:]}", full]
    elif loc == "bg_BG":
        shapes = ([f"0{full[:3]} {full[3:6]} {full[6:]}", f"+359 {full[:3]} {full[3:6]} {full[6:]}", f"+359 (0){full[:2]} {full[2:5]} {full[5:]}",
                   f"0{full[:2]} {full[2:5]} {full[5:]}"] if mobile else
                  [f"02 {rest[:3]} {rest[3:]}", f"+359 2 {rest[:3]} {rest[3:]}", f"(02) {rest}"])
    elif loc == "uk_UA":
        shapes = [f"0{p} {rest[:3]} {rest[3:5]} {rest[5:]}", f"+380 {p} {rest[:3]} {rest[3:]}",
                  f"+38 (0{p}) {rest[:3]}-{rest[3:5]}-{rest[5:]}", f"0{full}", f"+380-{p}-{rest[:3]}-{rest[3:5]}-{rest[5:]}"]
    elif loc == "ka_GE":
        shapes = ([f"{p} {rest[:2]} {rest[2:4]} {rest[4:]}", f"+995 {p} {rest[:2]} {rest[2:4]} {rest[4:]}",
                   f"(+995) {p}-{rest[:3]}-{rest[3:]}", f"{p}{rest[:3]} {rest[3:]}"] if mobile else
                  [f"032 {rest[:3]} {rest[3:5]} {rest[5:]}", f"+995 32 {rest[:3]} {rest[3:]}"])
    elif loc == "hy_AM":
        shapes = [f"0{p} {rest[:2]} {rest[2:4]} {rest[4:]}", f"+374 {p} {rest}", f"(+374) {p}-{rest[:2]}-{rest[2:4]}-{rest[4:]}",
                  f"(0{p}) {rest[:3]}-{rest[3:]}", f"+374 ({p}) {rest[:3]} {rest[3:]}"]
    elif loc == "he_IL":
        shapes = ([f"0{p}-{rest[:3]}-{rest[3:]}", f"+972-{p}-{rest[:3]}-{rest[3:]}", f"+972 {p} {rest}", f"0{full}",
                   f"0{p} {rest[:3]} {rest[3:]}"] if mobile else
                  [f"0{p}-{rest[:3]}-{rest[3:]}", f"+972-{p}-{rest}", f"0{p}-{rest}"])
    elif loc == "fa_IR":
        shapes = ([f"0{p} {rest[:3]} {rest[3:]}", f"+98 {p} {rest[:3]} {rest[3:]}", f"0{full}", f"0098 {p} {rest}",
                   f"0{full}".translate(V7_PERSIAN_DIGITS)] if mobile else
                  [f"0{p} {rest[:4]} {rest[4:]}", f"(0{p}) {rest}", f"+98 {p} {rest[:4]} {rest[4:]}"])
    elif loc == "ar_AE":
        shapes = [f"0{p} {rest[:3]} {rest[3:]}", f"+971 {p} {rest[:3]} {rest[3:]}", f"00971 {p} {rest}",
                  f"+971-{p}-{rest}", f"0{p}-{rest}", f"0{full}".translate(V7_ARABIC_DIGITS)]
    elif loc == "ko_KR":
        cut = len(rest) - 4
        shapes = [f"0{p}-{rest[:cut]}-{rest[cut:]}", f"+82 {p}-{rest[:cut]}-{rest[cut:]}", f"0{full}",
                  f"+82 {p} {rest[:cut]} {rest[cut:]}", f"0{p}.{rest[:cut]}.{rest[cut:]}"]
    elif loc == "zh_TW":
        if mobile:
            shapes = [f"0{p}-{rest[:3]}-{rest[3:]}", f"0{p} {rest[:3]} {rest[3:]}", f"+886 {p} {rest[:3]} {rest[3:]}",
                      f"+886-{p}-{rest}", f"0{full}"]
        else:
            cut = len(rest) - 4
            shapes = [f"(0{p}) {rest[:cut]}-{rest[cut:]}", f"0{p}-{rest[:cut]}-{rest[cut:]}", f"+886 {p} {rest[:cut]} {rest[cut:]}"]
    elif loc == "ne_NP":
        shapes = ([f"{full}", f"+977 {p}-{rest}", f"+977-{full}", f"{p}-{rest}", f"{full[:3]} {full[3:6]} {full[6:]}",
                   full.translate(V7_DEVANAGARI_DIGITS)] if mobile else
                  [f"01-{rest}", f"+977 1 {rest}", f"01 {rest[:3]} {rest[3:]}"])
    else:  # lb_LU
        if mobile:
            shapes = [f"{p} {rest[:3]} {rest[3:]}", f"+352 {p} {rest[:3]} {rest[3:]}", f"00352 {p} {rest[:2]} {rest[2:4]} {rest[4:]}",
                      f"+352 {full}"]
        else:
            pairs = " ".join(full[i:i + 2] for i in range(0, len(full), 2))
            shapes = [pairs, f"+352 {pairs}", f"(+352) {full}"]
    return rng.choice(shapes)
# Addresses written by hand from each country's own shapes: (street, district, city, postcode)
V7_PLACES_OF = {
    "el_GR": [("Ermou", "Syntagma", "Athina", "105 63"), ("Leoforos Kifisias", "Marousi", "Athina", "151 24"),
              ("Tsimiski", "Kentro", "Thessaloniki", "546 22"), ("Skoufa", "Kolonaki", "Athina", "106 73"),
              ("Lazaraki", "Glyfada", "Athina", "166 75"), ("25is Avgoustou", "Kentro", "Irakleio", "712 02"),
              ("Agiou Nikolaou", "Kentro", "Patra", "262 21"), ("Ethnikis Antistaseos", "Kalamaria", "Thessaloniki", "551 34")],
    "bg_BG": [("ul. Vitosha", "Sredets", "Sofia", "1000"), ("bul. Tsarigradsko shose", "Mladost", "Sofia", "1784"),
              ("ul. Knyaz Boris I", "Odesos", "Varna", "9000"), ("ul. Glavna", "Tsentralen", "Plovdiv", "4000"),
              ("bul. Bulgaria", "Triaditsa", "Sofia", "1404"), ("ul. Aleksandrovska", "Tsentar", "Burgas", "8000")],
    "uk_UA": [("vul. Khreshchatyk", "Shevchenkivskyi r-n", "Kyiv", "01001"), ("prosp. Beresteiskyi", "Solomianskyi r-n", "Kyiv", "03056"),
              ("vul. Deribasivska", "Prymorskyi r-n", "Odesa", "65026"), ("vul. Ivana Franka", "Halytskyi r-n", "Lviv", "79005"),
              ("prosp. Nauky", "Shevchenkivskyi r-n", "Kharkiv", "61166"), ("vul. Sicheslavska Naberezhna", "Tsentralnyi r-n", "Dnipro", "49000")],
    "ka_GE": [("Rustaveli Ave", "Mtatsminda", "Tbilisi", "0108"), ("Chavchavadze Ave", "Vake", "Tbilisi", "0179"),
              ("Vazha-Pshavela Ave", "Saburtalo", "Tbilisi", "0186"), ("Gorgasali St", "Old Batumi", "Batumi", "6010"),
              ("Paliashvili St", "Vake", "Tbilisi", "0162"), ("Tsereteli Ave", "Didube", "Tbilisi", "0154")],
    "hy_AM": [("Abovyan St", "Kentron", "Yerevan", "0001"), ("Komitas Ave", "Arabkir", "Yerevan", "0033"),
              ("Mashtots Ave", "Kentron", "Yerevan", "0002"), ("Vardanants St", "Kumayri", "Gyumri", "3101"),
              ("Baghramyan Ave", "Kentron", "Yerevan", "0019"), ("Getap St", "Dilijan", "Dilijan", "3901")],
    "he_IL": [("Rothschild Blvd", "Lev HaIr", "Tel Aviv", "6688312"), ("Dizengoff St", "Old North", "Tel Aviv-Yafo", "6346412"),
              ("Herzl St", "Hadar", "Haifa", "3303211"), ("Yafo St", "Merkaz HaIr", "Jerusalem", "9434201"),
              ("Sokolov St", "Merkaz", "Herzliya", "4623705"), ("Jabotinsky St", "Merkaz", "Ramat Gan", "5252002"),
              ("Ha-Shalom Rd", "Florentin", "Tel Aviv", "6701811")],
    "fa_IR": [("Valiasr St", "Golshan Alley", "Tehran", "1968917313"), ("Shariati St", "3rd Alley", "Tehran", "1941743813"),
              ("Chaharbagh Abbasi St", "Kuche 12", "Isfahan", "8145613986"), ("Zand Blvd", "Kuche 14", "Shiraz", "7134845918"),
              ("Enghelab St", "Bahar Alley", "Tehran", "1315734671"), ("Imam Reza St", "Kuche 8", "Mashhad", "9176948974")],
    "ar_AE": [("Street 14B", "Al Barsha 2", "Dubai", ""), ("Al Marsa St", "Dubai Marina", "Dubai", ""),
              ("Al Wasl Road", "Jumeirah 1", "Dubai", ""), ("Street 7", "Al Nahda 1", "Sharjah", ""),
              ("Hazza bin Zayed St", "Al Khalidiyah", "Abu Dhabi", ""), ("Al Reem Island", "Shams", "Abu Dhabi", "")],
    "ko_KR": [("Teheran-ro", "Gangnam-gu", "Seoul", "06236"), ("Olympic-ro", "Songpa-gu", "Seoul", "05551"),
              ("Wausan-ro", "Mapo-gu", "Seoul", "04066"), ("Haeundae-ro", "Haeundae-gu", "Busan", "48094"),
              ("Pangyo-ro", "Bundang-gu, Seongnam-si", "Gyeonggi-do", "13494"), ("Itaewon-ro", "Yongsan-gu", "Seoul", "04349")],
    "zh_TW": [("Xinyi Rd., Sec. 5", "Xinyi Dist.", "Taipei City", "110"), ("Zhongshan N. Rd., Sec. 2", "Zhongshan Dist.", "Taipei City", "104"),
              ("Taiwan Blvd., Sec. 3", "Xitun Dist.", "Taichung City", "407"), ("Zhongzheng 4th Rd.", "Qianjin Dist.", "Kaohsiung City", "801"),
              ("Minzu Rd., Sec. 2", "West Central Dist.", "Tainan City", "700"), ("Wenhua Rd.", "Banqiao Dist.", "New Taipei City", "220")],
    "ne_NP": [("Shantinagar Marg", "New Baneshwor", "Kathmandu", "44600"), ("Jhamsikhel Road", "Sanepa", "Lalitpur", "44700"),
              ("Lakeside Road", "Baidam", "Pokhara", "33700"), ("Thamel Marg", "Thamel", "Kathmandu", "44600"),
              ("Durbar Square Road", "Taumadhi", "Bhaktapur", "44800"), ("Main Road", "Traffic Chowk", "Biratnagar", "56613")],
    "lb_LU": [("rue de la Gare", "Gare", "Luxembourg", "1616"), ("Haaptstrooss", "Hosingen", "Hosingen", "9806"),
              ("avenue de la Liberté", "Gare", "Luxembourg", "1930"), ("route d'Arlon", "Strassen", "Strassen", "8009"),
              ("rue de l'Alzette", "Esch", "Esch-sur-Alzette", "4011"), ("Grand-Rue", "Ville-Haute", "Luxembourg", "1661"),
              ("rue de Clausen", "Clausen", "Luxembourg", "1342")],
}
V7_NATIVE_ADDRESS = {
    "el_GR": ["Ερμού {n}, 105 63 Αθήνα", "Τσιμισκή {n}, 546 22 Θεσσαλονίκη", "Λεωφ. Κηφισίας {n}, Μαρούσι, ΤΚ 151 24"],
    "bg_BG": ["ул. „Витоша“ {n}, ет. {f}, ап. {a}, 1000 София", "жк Люлин 5, бл. {n}, вх. А, ет. {f}, ап. {a}, София"],
    "uk_UA": ["вул. Хрещатик, буд. {n}, кв. {a}, м. Київ, 01001", "м. Львів, вул. Івана Франка, {n}, кв. {a}"],
    "ka_GE": ["თბილისი, ჭავჭავაძის გამზ. {n}, ბ. {a}", "ბათუმი, გორგასლის ქ. {n}"],
    "hy_AM": ["ք. Երևան, Աբովյան փ. {n}, բն. {a}", "Երևան, Կոմիտասի պող. {n}, բն. {a}"],
    "he_IL": ["שדרות רוטשילד {n}, תל אביב", "רחוב הרצל {n} דירה {a}, חיפה"],
    "fa_IR": ["تهران، خیابان ولیعصر، کوچه گلشن، پلاک {n}، واحد {a}", "شیراز، بلوار زند، کوچه ۱۴، پلاک {n}"],
    "ar_AE": ["فيلا {n}، شارع 14، البرشاء، دبي", "شقة {a}، برج المارينا، دبي مارينا، دبي"],
    "ko_KR": ["서울특별시 강남구 테헤란로 {n}, 101동 {f}0{a}호", "부산광역시 해운대구 해운대로 {n}"],
    "zh_TW": ["台北市信義區信義路五段{n}號{f}樓", "高雄市前金區中正四路{n}號{f}樓之{a}"],
    "ne_NP": ["काठमाडौं-{a}, नयाँ बानेश्वर, घर नं. {n}", "ललितपुर-{a}, झम्सिखेल"],
}
V7_PERSIAN_ADDRESS_DIGITS = ("fa_IR",)


def _address_v7(f, rng: random.Random) -> str:
    loc = f._locales[0]
    n, a, fl = rng.randint(1, 220), rng.randint(1, 90), rng.randint(1, 24)
    if loc in V7_NATIVE_ADDRESS and rng.random() < 0.12:
        text = rng.choice(V7_NATIVE_ADDRESS[loc]).format(n=n, a=a, f=fl)
        return text.translate(V7_PERSIAN_DIGITS) if loc == "fa_IR" else text
    street, district, city, code = rng.choice(V7_PLACES_OF[loc])
    r = rng.random()
    if loc == "el_GR":
        if r < 0.4:
            return f"{street} {n}, {code} {city}"
        if r < 0.6:
            return f"{street} {n}, {district}, TK {code.replace(' ', '')}"
        if r < 0.8:
            return f"{street} {n}, {rng.randint(1, 6)}os orofos, {district} {code}"
        return f"{street} {n}\n{code} {city.upper()}"
    if loc == "bg_BG":
        if r < 0.35:
            return f"{street} {n}, et. {fl % 9 + 1}, ap. {a}, {code} {city}"
        if r < 0.6:
            return f"zh.k. {rng.choice(['Mladost 1', 'Lyulin 5', 'Nadezhda 2', 'Studentski grad', 'Druzhba 1'])}, bl. {rng.randint(1, 540)}, " \
                   f"vh. {rng.choice('ABVG')}, et. {fl % 12 + 1}, ap. {a}, {city} {code}"
        if r < 0.8:
            return f"{city} {code}, {street} {n}"
        return f"{street} {n}\n{code} {city}"
    if loc == "uk_UA":
        if r < 0.4:
            return f"{street}, {n}, kv. {a}, {city}, {code}"
        if r < 0.6:
            return f"{city}, {district}, {street} {n}/{rng.randint(1, 9)}, kv. {a}"
        if r < 0.8:
            return f"{street} {n}, apt {a}, {city} {code}"
        return f"{code}, m. {city}, {street}, bud. {n}"
    if loc == "ka_GE":
        if r < 0.4:
            return f"{n} {street}, {city} {code}"
        if r < 0.65:
            return f"{street} {n}, apt {a}, {district}, {city}"
        if r < 0.85:
            return f"{city}, {district}, {street} N{n}, bina {a}"
        return f"{street.split()[0]} {rng.choice(['street', 'st.'])} {n}\n{city} {code}, Georgia"
    if loc == "hy_AM":
        if r < 0.4:
            return f"{street} {n}, apt {a}, {city} {code}"
        if r < 0.7:
            return f"{city}, {district}, {street} {n}/{rng.randint(1, 9)}, bn. {a}"
        if r < 0.85:
            return f"{n}/{rng.randint(1, 9)} {street}, {city}, Armenia {code}"
        return f"{street} {n}\n{code} {city}"
    if loc == "he_IL":
        if r < 0.4:
            return f"{street} {n}, {city} {code}"
        if r < 0.65:
            return f"{street.replace(' St', '')} {n}/{rng.randint(1, 30)}, {city}"
        if r < 0.85:
            return f"Rehov {street.replace(' St', '').replace(' Blvd', '').replace(' Rd', '')} {n}, apt {a}, {district}, {city}"
        return f"{street} {n} apt {a}\n{city}, Israel"
    if loc == "fa_IR":
        if r < 0.4:
            return f"{city}, {street}, {district}, No. {n}, Unit {a}"
        if r < 0.6:
            return f"No. {n}, {district}, {street}, {city}, postal code {code}"
        if r < 0.8:
            return f"{city}, {street}, {district}, Pelak {n}, Tabaghe {fl % 8 + 1}"
        return f"{street}, {district}, pelak {n}, vahed {a}\n{city} {code[:5]}-{code[5:]}"
    if loc == "ar_AE":
        if r < 0.3:
            return f"Villa {n}, {street}, {district}, {city}"
        if r < 0.55:
            return f"Apt {fl}{a:02d}, {rng.choice(['Marina Heights', 'Al Majara 3', 'Princess Tower', 'Burj Views B', 'Sky Tower'])}, {district}, {city}"
        if r < 0.75:
            return f"Flat {fl}0{a % 9 + 1}, Building {rng.randint(1, 60)}, {district}, {city}"
        if r < 0.88:
            return f"P.O. Box {rng.randint(1000, 99999)}, {city}"
        return f"{district}, {street}, villa {n}\n{city}, UAE"
    if loc == "ko_KR":
        if r < 0.35:
            return f"{n}, {street}, {district}, {city} {code}"
        if r < 0.6:
            return f"{rng.randint(101, 112)}-{fl}0{a % 9 + 1}, {n} {street}, {district}, {city}"
        if r < 0.8:
            return f"{city} {district} {street} {n}, {rng.randint(101, 112)}dong {fl}0{a % 9 + 1}ho"
        return f"{street} {n}-{rng.randint(1, 40)}, {district}\n{city} {code}"
    if loc == "zh_TW":
        if r < 0.4:
            return f"{fl}F., No. {n}, {street}, {district}, {city} {code}"
        if r < 0.65:
            return f"No. {n}, Ln. {rng.randint(1, 300)}, {street}, {district}, {city} {code}{_digits_v6(rng, 2)}"
        if r < 0.85:
            return f"{fl}F.-{a % 9 + 1}, No. {n}, {street}, {district}, {city}"
        return f"No. {n}, {street}\n{district}, {city} {code}, Taiwan (R.O.C.)"
    if loc == "ne_NP":
        if r < 0.35:
            return f"House No. {n}, {street}, {district}, {city}-{rng.randint(1, 32)}"
        if r < 0.6:
            return f"{district}-{rng.randint(1, 32)}, {city}, near {rng.choice(['the Bhatbhateni store', 'the temple', 'the school gate', 'Big Mart'])}"
        if r < 0.8:
            return f"Ward No. {rng.randint(1, 32)}, {district}, {city} {code}"
        return f"{street}, {district}\n{city}, Nepal"
    # lb_LU
    if r < 0.45:
        return f"{n}, {street}, L-{code} {city}"
    if r < 0.65:
        return f"{n} {street}, {code} {city}"
    if r < 0.85:
        return f"{n}, {street}\nL-{code} {city}"
    return f"{rng.choice(['Résidence Les Jardins', 'Résidence Belle Vue', 'Am Bongert'])}, {n}, {street}, L-{code} {city}"


def _postcode_v7(f, rng: random.Random) -> str | None:
    loc = f._locales[0]
    if loc == "el_GR":
        code = f"{rng.randint(10, 85)}{rng.randint(0, 9)} {_digits_v6(rng, 2)}"
        r = rng.random()
        return code.replace(" ", "") if r < 0.35 else ("ΤΚ " + code) if r < 0.45 else ("T.K. " + code) if r < 0.5 else code
    if loc == "bg_BG":
        return f"{rng.randint(1, 9)}{_digits_v6(rng, 3)}"
    if loc == "uk_UA":
        return f"{rng.choice(['01', '02', '03', '04', '21', '49', '61', '65', '69', '79', '76', '36'])}{_digits_v6(rng, 3)}"
    if loc == "ka_GE":
        return f"{rng.choice(['01', '01', '02', '46', '60', '38'])}{_digits_v6(rng, 2)}"
    if loc == "hy_AM":
        return f"{rng.choice(['00', '00', '31', '39', '22', '17'])}{_digits_v6(rng, 2)}"
    if loc == "he_IL":
        return f"{rng.choice('1234589')}{_digits_v6(rng, 6)}"
    if loc == "fa_IR":  # ten digits; the first five have no 0 or 2 and the fifth is not 5
        head = "".join(rng.choice("13456789") for _ in range(4)) + rng.choice("1346789")
        code = head + "".join(rng.choice("013456789") for _ in range(5))
        r = rng.random()
        return f"{code[:5]}-{code[5:]}" if r < 0.4 else code.translate(V7_PERSIAN_DIGITS) if r < 0.5 else code
    if loc == "ar_AE":
        return None  # the Emirates have no postcodes
    if loc == "ko_KR":
        return f"{rng.randint(0, 6)}{_digits_v6(rng, 4)}"
    if loc == "zh_TW":
        head = f"{rng.choice(['1', '2', '3', '4', '7', '8', '9'])}{_digits_v6(rng, 2)}"
        r = rng.random()
        return head if r < 0.3 else f"{head}{_digits_v6(rng, 2)}" if r < 0.65 else f"{head}{_digits_v6(rng, 3)}" if r < 0.85 else f"{head}-{_digits_v6(rng, 3)}"
    if loc == "ne_NP":
        return f"{rng.choice(['44', '33', '56', '32', '45', '21'])}{rng.randint(1, 9)}00" if rng.random() < 0.7 else \
            f"{rng.choice(['44', '33', '56'])}{_digits_v6(rng, 3)}"
    code = f"{rng.randint(1, 9)}{_digits_v6(rng, 3)}"  # lb_LU
    return rng.choice([f"L-{code}", f"L-{code}", code, f"L {code}", f"l-{code}"])
V7_MONTHS_OF = {
    "el_GR": ["Ιανουαρίου", "Φεβρουαρίου", "Μαρτίου", "Απριλίου", "Μαΐου", "Ιουνίου", "Ιουλίου", "Αυγούστου",
              "Σεπτεμβρίου", "Οκτωβρίου", "Νοεμβρίου", "Δεκεμβρίου"],
    "bg_BG": ["януари", "февруари", "март", "април", "май", "юни", "юли", "август", "септември", "октомври", "ноември",
              "декември"],
    "uk_UA": ["січня", "лютого", "березня", "квітня", "травня", "червня", "липня", "серпня", "вересня", "жовтня",
              "листопада", "грудня"],
    "ka_GE": ["იანვარი", "თებერვალი", "მარტი", "აპრილი", "მაისი", "ივნისი", "ივლისი", "აგვისტო", "სექტემბერი",
              "ოქტომბერი", "ნოემბერი", "დეკემბერი"],
    "hy_AM": ["հունվարի", "փետրվարի", "մարտի", "ապրիլի", "մայիսի", "հունիսի", "հուլիսի", "օգոստոսի", "սեպտեմբերի",
              "հոկտեմբերի", "նոյեմբերի", "դեկտեմբերի"],
    "he_IL": ["בינואר", "בפברואר", "במרץ", "באפריל", "במאי", "ביוני", "ביולי", "באוגוסט", "בספטמבר", "באוקטובר",
              "בנובמבר", "בדצמבר"],
    "ar_AE": ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"],
    "lb_LU": ["Januar", "Februar", "Mäerz", "Abrëll", "Mee", "Juni", "Juli", "August", "September", "Oktober", "November",
              "Dezember"],
}
V7_JALALI_MONTHS = ["Farvardin", "Ordibehesht", "Khordad", "Tir", "Mordad", "Shahrivar", "Mehr", "Aban", "Azar", "Dey",
                    "Bahman", "Esfand"]
V7_BS_MONTHS = ["Baisakh", "Jestha", "Asar", "Shrawan", "Bhadra", "Asoj", "Kartik", "Mangsir", "Poush", "Magh", "Falgun",
                "Chaitra"]
V7_HIJRI_MONTHS = ["Muharram", "Safar", "Rabi al-Awwal", "Rabi al-Thani", "Jumada al-Ula", "Jumada al-Akhirah", "Rajab",
                   "Sha'ban", "Ramadan", "Shawwal", "Dhu al-Qadah", "Dhu al-Hijjah"]


def _dob_v7(f, rng: random.Random) -> str:
    """A date of birth as people of each locale write one; the Iranian, Nepali, Taiwanese and Emirati calendars
    are drawn in their own years (the people are made up, so a date need not convert from a Gregorian one)."""
    loc = f._locales[0]
    d = _date_v5(rng, 1942, 2008)
    dd, mm, yyyy, yy = f"{d.day:02d}", f"{d.month:02d}", str(d.year), f"{d.year % 100:02d}"
    english = V6_ENGLISH_MONTHS[d.month - 1]
    local = V7_MONTHS_OF.get(loc, V6_ENGLISH_MONTHS)[d.month - 1]
    shapes = [f"{dd}/{mm}/{yyyy}", f"{dd}.{mm}.{yyyy}"]
    if loc == "el_GR":
        shapes += [f"{d.day}/{d.month}/{yy}", f"{d.day} {local} {yyyy}", f"{d.day}-{mm}-{yyyy}"]
    elif loc == "bg_BG":
        shapes = [f"{dd}.{mm}.{yyyy} г.", f"{dd}.{mm}.{yyyy}", f"{d.day} {local} {yyyy} г.", f"{d.day}.{d.month}.{yyyy}г"]
    elif loc == "uk_UA":
        shapes = [f"{dd}.{mm}.{yyyy}", f"{d.day} {local} {yyyy} р.", f"{yyyy}-{mm}-{dd}", f"{dd}.{mm}.{yy}"]
    elif loc == "ka_GE":
        shapes = [f"{dd}.{mm}.{yyyy}", f"{d.day} {local}, {yyyy}", f"{dd}/{mm}/{yyyy}", f"{d.day} {english} {yyyy}"]
    elif loc == "hy_AM":
        shapes = [f"{dd}.{mm}.{yyyy}", f"{yyyy}թ. {local} {d.day}", f"{dd}/{mm}/{yyyy}", f"{d.day} {english[:3]} {yyyy}"]
    elif loc == "he_IL":
        shapes = [f"{dd}.{mm}.{yyyy}", f"{d.day}.{d.month}.{yy}", f"{dd}/{mm}/{yyyy}", f"{d.day} {local} {yyyy}",
                  f"{d.day}/{d.month}/{yyyy}"]
    elif loc == "fa_IR":
        year, month = rng.randint(1321, 1387), rng.randint(1, 12)
        day = rng.randint(1, 31 if month <= 6 else 30 if month <= 11 else 29)
        jalali = f"{year}/{month:02d}/{day:02d}"
        shapes = [jalali, jalali.translate(V7_PERSIAN_DIGITS), f"{day} {V7_JALALI_MONTHS[month - 1]} {year}",
                  f"{year}-{month}-{day}", f"{yyyy}-{mm}-{dd}", f"{d.day} {english} {yyyy}"]
    elif loc == "ar_AE":
        hijri_year = rng.randint(1361, 1428)
        shapes = [f"{dd}/{mm}/{yyyy}", f"{yyyy}-{mm}-{dd}", f"{d.day} {english} {yyyy}", f"{d.day} {local} {yyyy}",
                  f"{dd}/{mm}/{yyyy}".translate(V7_ARABIC_DIGITS),
                  f"{rng.randint(1, 29)} {rng.choice(V7_HIJRI_MONTHS)} {hijri_year} AH"]
    elif loc == "ko_KR":
        shapes = [f"{yyyy}년 {d.month}월 {d.day}일", f"{yyyy}.{mm}.{dd}", f"{yy}.{mm}.{dd}", f"{yy}{mm}{dd}", f"{yyyy}-{mm}-{dd}",
                  f"{yyyy}. {d.month}. {d.day}."]
    elif loc == "zh_TW":
        roc = d.year - 1911
        shapes = [f"民國{roc}年{d.month}月{d.day}日", f"{roc}/{mm}/{dd}", f"{roc:03d}/{mm}/{dd}", f"{yyyy}/{mm}/{dd}",
                  f"{roc}.{d.month}.{d.day}", f"ROC {roc}-{mm}-{dd}"]
    elif loc == "ne_NP":
        year, month, day = rng.randint(2000, 2065), rng.randint(1, 12), rng.randint(1, 30)
        bs = f"{year}/{month:02d}/{day:02d}"
        shapes = [f"{bs} BS", f"{year}-{month:02d}-{day:02d} B.S.", bs.translate(V7_DEVANAGARI_DIGITS),
                  f"{day} {V7_BS_MONTHS[month - 1]} {year}", f"{yyyy}-{mm}-{dd} AD", f"{dd} {english[:3]} {yyyy}"]
    else:  # lb_LU
        shapes = [f"{dd}.{mm}.{yyyy}", f"{d.day}. {local} {yyyy}", f"{dd}/{mm}/{yyyy}",
                  f"{d.day} {['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'][d.month - 1]} {yyyy}"]
    return rng.choice(shapes)


V7_TW_LETTERS = {c: v for c, v in zip("ABCDEFGHJKLMNPQRSTUVXYWZIO", range(10, 36))}


def _tw_id_check(body: str) -> str:
    """The check digit of a Taiwanese national ID (a letter for the place of first registration, then nine digits)."""
    v = V7_TW_LETTERS[body[0]]
    total = v // 10 + (v % 10) * 9 + sum(int(c) * w for c, w in zip(body[1:], range(8, 0, -1)))
    return str((10 - total % 10) % 10)


def _national_id_v7(f, rng: random.Random) -> str:
    """Each locale's own identity number; checked with python-stdnum where it knows the number."""
    loc = f._locales[0]
    d = _date_v5(rng, 1945, 2006)
    if loc == "el_GR":
        if rng.random() < 0.35:  # the police identity card number
            return f"{rng.choice(['AK', 'AE', 'AB', 'AZ', 'AI', 'AM', 'AN', 'AH'])} {_digits_v6(rng, 6)}" if rng.random() < 0.5 else \
                f"{rng.choice(['AK', 'AE', 'AB', 'AZ', 'AI', 'AM', 'AN', 'AH'])}{_digits_v6(rng, 6)}"
        from stdnum import luhn
        from stdnum.gr import amka
        body = d.strftime("%d%m%y") + _digits_v6(rng, 4)
        number = body + luhn.calc_check_digit(body)
        assert amka.is_valid(number), number
        return number
    if loc == "bg_BG":
        from stdnum.bg import egn
        month = d.month + (40 if d.year >= 2000 else 0)
        body = f"{d.year % 100:02d}{month:02d}{d.day:02d}" + _digits_v6(rng, 3)
        number = body + egn.calc_check_digit(body)
        assert egn.is_valid(number), number
        return number
    if loc == "uk_UA":
        import datetime

        from stdnum.ua import rntrc
        body = f"{(d - datetime.date(1899, 12, 31)).days:05d}" + _digits_v6(rng, 4)
        number = body + rntrc.calc_check_digit(body)
        assert rntrc.is_valid(number), number
        return number if rng.random() < 0.8 else f"{_digits_v6(rng, 9)}"  # or the nine digits of the ID card
    if loc == "ka_GE":
        return f"{rng.choice(['01', '01', '61', '35', '59', '12'])}{rng.randint(0, 9)}{_digits_v6(rng, 8)}"  # 11-digit personal number
    if loc == "hy_AM":  # the ten-digit public service number, or the ID card number
        return _digits_v6(rng, 10) if rng.random() < 0.6 else f"{rng.choice(['AN', 'AR', 'AT'])}{_digits_v6(rng, 7)}"
    if loc == "he_IL":
        from stdnum import luhn
        from stdnum.il import idnr
        body = f"{rng.randint(0, 3)}{_digits_v6(rng, 7)}"
        number = body + luhn.calc_check_digit(body)
        assert idnr.is_valid(number), number
        return f"{number[:8]}-{number[8]}" if rng.random() < 0.25 else number
    if loc == "fa_IR":  # the kod-e melli: nine digits and a check digit (weights 10..2, mod 11)
        while True:
            body = f"{rng.randint(0, 9)}{_digits_v6(rng, 8)}"
            if len(set(body)) > 1:
                break
        rest = sum(int(c) * (10 - i) for i, c in enumerate(body)) % 11
        number = body + str(rest if rest < 2 else 11 - rest)
        r = rng.random()
        return f"{number[:3]}-{number[3:9]}-{number[9]}" if r < 0.4 else number.translate(V7_PERSIAN_DIGITS) if r < 0.5 else number
    if loc == "ar_AE":  # Emirates ID: 784, the year of birth, seven digits, a Luhn check digit
        from stdnum import luhn
        body = f"784{d.year}{_digits_v6(rng, 7)}"
        number = body + luhn.calc_check_digit(body)
        return f"{number[:3]}-{number[3:7]}-{number[7:14]}-{number[14]}" if rng.random() < 0.7 else number
    if loc == "ko_KR":
        from stdnum.kr import rrn
        sex = rng.choice("12") if d.year < 2000 else rng.choice("34")
        body = d.strftime("%y%m%d") + sex + f"{rng.randint(0, 96):02d}" + _digits_v6(rng, 3)  # place of birth, 00-96
        number = body + rrn.calc_check_digit(body)
        assert rrn.is_valid(number), number
        return f"{number[:6]}-{number[6:]}" if rng.random() < 0.8 else number
    if loc == "zh_TW":
        body = rng.choice("ABCDEFGHJKLMNPQRSTUVXYWZIO") + rng.choice("12") + _digits_v6(rng, 7)
        number = body + _tw_id_check(body)
        return number.lower() if rng.random() < 0.1 else number
    if loc == "ne_NP":  # citizenship certificate (district code, year, serial) or the national identity number
        if rng.random() < 0.6:
            return f"{rng.randint(1, 77):02d}-{rng.randint(1, 3):02d}-{rng.randint(55, 80)}-{_digits_v6(rng, 5)}"
        return f"{_digits_v6(rng, 3)}-{_digits_v6(rng, 3)}-{_digits_v6(rng, 4)}"
    # lb_LU: the 13-digit matricule, date of birth, serial, a Luhn and a Verhoeff check digit
    from stdnum import luhn, verhoeff
    body = d.strftime("%Y%m%d") + _digits_v6(rng, 3)
    number = body + luhn.calc_check_digit(body) + verhoeff.calc_check_digit(body)
    return f"{number[:4]} {number[4:8]} {number[8:11]} {number[11:]}" if rng.random() < 0.5 else number


# IBANs of countries no earlier set drew from (v1-v6 used the development and held-out locales' own, and v4-v6 the
# lists in their sections), with their registry BBAN shapes
V7_IBAN_BBAN = {"BY": "4!c4!n16!c", "RU": "9!n5!n15!c", "ME": "3!n13!n2!n", "MU": "4!a2!n2!n12!n3!n3!a",
                "LB": "4!n20!c", "IQ": "4!a3!n12!n", "OM": "3!n16!c", "PS": "4!a21!c", "MN": "4!n12!n", "GL": "4!n9!n1!n",
                "DO": "4!c20!n", "GT": "4!c20!c", "LY": "3!n3!n15!n", "SD": "2!n12!n", "YE": "4!a4!n18!c",
                "DJ": "5!n5!n11!n2!n", "SO": "4!n3!n12!n", "ST": "4!n4!n11!n2!n", "HN": "4!a20!n", "NI": "4!a20!n"}
V7_IBAN_OF = {"ar_AE": ["LB", "IQ", "OM", "YE", "SD", "PS"], "hy_AM": ["LB", "RU"], "fa_IR": ["IQ", "OM"],
              "uk_UA": ["BY", "RU", "ME"], "bg_BG": ["ME"], "el_GR": ["ME", "MU"]}


def _iban_v7(f, rng: random.Random) -> str:
    from stdnum import iban as stdnum_iban

    loc = f._locales[0]
    if loc in V7_IBAN_OF and rng.random() < 0.6:
        country = rng.choice(V7_IBAN_OF[loc])
    else:
        country = rng.choice(sorted(V7_IBAN_BBAN))
    bban = _bban_from_format(V7_IBAN_BBAN[country], rng, letter_rate=0.15)
    if country == "ME":  # Montenegro's national check: the whole BBAN is 1 modulo 97
        bban = bban[:16] + f"{(1 - int(bban[:16]) * 100) % 97:02d}"
    iban = _with_iban_check(country, bban)
    assert stdnum_iban.is_valid(iban), iban
    grouped = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    r = rng.random()
    if r < 0.35:
        return grouped
    if r < 0.43:
        return "-".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    if r < 0.5:
        return iban.lower()
    if r < 0.56:
        return f"IBAN{iban}"  # the prefix pasted along with the number, no space
    if r < 0.62:
        return " ".join(iban[i:i + 2] for i in range(0, 4, 2)) + " " + " ".join(iban[i:i + 4] for i in range(4, len(iban), 4))
    return iban


V7_CARDS = {"visa": (["4"], [16, 16, 13]), "mastercard": (["51", "53", "55", "2221", "2500", "2720"], [16]),
            "amex": (["34", "37"], [15]), "jcb": (["3528", "3540", "3589"], [16]), "unionpay": (["620", "621", "623"], [16, 17, 18, 19]),
            "diners": (["300", "305", "36"], [14]), "maestro": (["5020", "5038", "6761"], [12, 16, 19]),
            "discover": (["6011", "644", "65"], [16])}


def _card_v7(f, rng: random.Random) -> str:
    loc = f._locales[0]
    if loc == "zh_TW" and rng.random() < 0.3:
        issuer = rng.choice(["jcb", "unionpay"])
    else:
        issuer = rng.choice(["visa", "visa", "visa", "mastercard", "mastercard", "amex", "jcb", "unionpay", "diners", "maestro", "discover"])
    number = _luhn_card_number(rng, *V7_CARDS[issuer])
    r = rng.random()
    if len(number) in (14, 15) and r < 0.5:
        return f"{number[:4]} {number[4:10]} {number[10:]}"
    if r < 0.4:
        return _in_fours(number, " ")
    if r < 0.48:
        return _in_fours(number, "-")
    if r < 0.54:
        return _in_fours(number, ".")
    if r < 0.6:
        return _in_fours(number, "  ")  # two spaces, as on the card
    return number


def _expiry_v7(f, rng: random.Random) -> str:
    d = _date_v5(rng, 2026, 2035)
    shape = rng.choice(["%m/%y", "%m/%y", "%m/%y", "%m / %y", "{M}/%y", "%m.%y", "%m/%Y", "%m%y", "%b %Y", "%m-%y", "{M}-%Y"])
    return d.strftime(shape.replace("{M}", str(d.month)))


def _username_v7(f, rng: random.Random) -> str:
    loc = f._locales[0]
    given, family, _, _, native = _names_v7(f, rng)
    if native or not (given + family).replace(" ", "").replace("-", "").isascii():
        base = f.user_name()
    else:
        given, family = given.lower().replace(" ", "").replace("-", ""), family.lower().replace(" ", "").replace("-", "")
        base = rng.choice([f"{given}{family}", f"{given}.{family}", f"{given[0]}_{family}", f"{given}{rng.randint(1, 99)}"])
    r = rng.random()
    city = {"el_GR": "ath", "bg_BG": "sof", "uk_UA": "kyiv", "ka_GE": "tbs", "hy_AM": "evn", "he_IL": "tlv", "fa_IR": "teh",
            "ar_AE": "dxb", "ko_KR": "seoul", "zh_TW": "tpe", "ne_NP": "ktm", "lb_LU": "lux"}[loc]
    if r < 0.15:
        return f"{base}.{city}"
    if r < 0.25:
        return f"{base}_{rng.randint(1975, 2008)}"
    if r < 0.33:
        return f"real_{base}"
    if r < 0.4:
        return f"{base}__"
    if r < 0.55:
        return f"{base}.{rng.choice(['eats', 'rides', 'pics', 'paws', 'foodie', 'bride'])}"
    if r < 0.6:
        return base.replace("a", "4").replace("e", "3")
    return base


def _order_id_v7(f, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.12:  # a UPU S10 tracking number with its mod-11 check digit
        digits = _digits_v6(rng, 8)
        rest = 11 - sum(int(c) * w for c, w in zip(digits, (8, 6, 4, 2, 3, 5, 9, 7))) % 11
        check = {10: 0, 11: 5}.get(rest, rest)
        return f"{rng.choice(['RR', 'RB', 'CP', 'EE', 'LX', 'RA'])}{digits}{check}{rng.choice(['GR', 'BG', 'UA', 'IL', 'KR', 'TW', 'LU', 'AE'])}"
    if r < 0.22:  # a courier waybill (the Ukrainian TTN: 14 digits)
        return f"{rng.choice(['20', '59'])}{_digits_v6(rng, 12)}"
    shape = rng.choice(["#A###-####", "FD-########", "TRIP-??##??##", "WB ##########", "VIEW/2026/#####", "APT-#####-##",
                        "PRT######", "PS####-####", "DON-####-??", "TC-#######", "CW-INV-2026-####", "EVT??##",
                        "#######-??", "ORD##########", "##-####-####"])
    return "".join(str(rng.randint(0, 9)) if c == "#" else rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") if c == "?" else c for c in shape)


def _value_v7(f, kind: str, rng: random.Random) -> str | None:
    if kind == "PERSON":
        return _person_v7(f, rng)
    if kind == "EMAIL":
        return _email_v7(f, rng)
    if kind == "PHONE":
        return _phone_v7(f, rng)
    if kind == "ADDRESS":
        return _address_v7(f, rng)
    if kind == "POSTCODE":
        return _postcode_v7(f, rng)
    if kind == "DATE_OF_BIRTH":
        return _dob_v7(f, rng)
    if kind == "IP_ADDRESS":
        r = rng.random()
        if r < 0.6:
            return f.ipv4_public()
        if r < 0.72:
            return f.ipv6()
        import ipaddress
        if r < 0.9:
            return str(ipaddress.IPv6Address(f.ipv6()))
        return str(ipaddress.IPv6Address(f.ipv6())).upper()
    if kind == "IBAN":
        return _iban_v7(f, rng)
    if kind == "NATIONAL_ID":
        return _national_id_v7(f, rng)
    if kind == "USERNAME":
        return _username_v7(f, rng)
    if kind == "CARD":
        return _card_v7(f, rng)
    if kind == "ORDER_ID":
        return _order_id_v7(f, rng)
    raise ValueError(kind)


def _card_details_v7(f, rng: random.Random) -> tuple[str, list[tuple[str, int, int]]]:
    number = _card_v7(f, rng)
    digits = "".join(c for c in number if c.isdigit())
    masked = rng.random() < 0.3
    shown = rng.choice(["*" * 12, "xxxx ", "card ends with ", "···· ", "last 4: "]) + digits[-4:] if masked else number
    expiry = _expiry_v7(f, rng)
    cvv = _digits_v6(rng, 4 if digits[:2] in ("34", "37") else 3)
    loc = f._locales[0]
    shapes = ["{n} // {e} // {c}", "PAN {n} EXP {e} CVC {c}", "{n}, valid thru {e}, the 3 digits on the back are {c}",
              "number: {n} / expires: {e} / cvc2: {c}", "{n} exp{e} cvv{c}", "card {n}\nexpiry {e}\ncode {c}",
              "{n} - {e} - {c} (for the deposit)"]
    native = {"zh_TW": "卡號 {n} 有效期限 {e} 背面末三碼 {c}", "ko_KR": "카드번호 {n} 유효기간 {e} CVC {c}",
              "el_GR": "κάρτα {n}, λήξη {e}, CVV {c}", "uk_UA": "картка {n}, термін дії {e}, CVV2 {c}",
              "bg_BG": "карта {n}, валидна до {e}, CVV {c}", "he_IL": "כרטיס {n} תוקף {e} 3 ספרות {c}"}
    shape = native[loc] if loc in native and rng.random() < 0.25 else rng.choice(shapes)
    return _fill_card_shape(shape, shown, expiry, cvv, masked)


V7_NEGATIVES = [
    ("table {v}", lambda f, r: str(r.randint(1, 48))),
    ("menu item {v}", lambda f, r: f"#{r.randint(1, 180)}"),
    ("it's {v}", lambda f, r: f"{r.randint(180, 1450)} kcal"),
    ("bus {v}", lambda f, r: r.choice(["550", "X95", "B1", "N12", "14", "A2", "224", "Line 16", "M2"])),
    ("parked in bay {v}", lambda f, r: f"{r.choice('ABCDEP')}-{r.randint(1, 320)}"),
    ("on floor {v}", lambda f, r: str(r.randint(-3, 42))),
    ("open {v}", lambda f, r: r.choice(["9:00-21:00", "10-22", "8.30–17.30", "11:00–23:00 daily", "Mon–Fri 8–20", "24/7"])),
    ("{v} off", lambda f, r: f"{r.choice([5, 10, 15, 20, 25, 30, 40, 50])}%"),
    ("the price was {v}", lambda f, r: r.choice([f"€{r.randint(5, 90)},{r.randint(0, 99):02d}", f"{r.randint(5, 300)} лв.",
                                                  f"₴{r.randint(50, 4000)}", f"{r.randint(5, 200)} GEL", f"{r.randint(1, 90)} 000 AMD",
                                                  f"₪{r.randint(20, 900)}", f"{r.randint(100, 9000)},000 rials",
                                                  f"AED {r.randint(10, 900)}", f"₩{r.randint(5, 99)},{r.randint(0, 9)}00",
                                                  f"NT${r.randint(80, 3000)}", f"Rs {r.randint(100, 9999)}",
                                                  f"{r.randint(5, 90)}.{r.randint(0, 99):02d} EUR"])),
    ("the toll was {v}", lambda f, r: r.choice(["AED 4", "€2.40", "₩3,200", "NT$ 45", "₪ 18.5"])),
    ("ride of {v}", lambda f, r: f"{r.randint(1, 38)}.{r.randint(0, 9)} km"),
    ("ETA {v}", lambda f, r: f"{r.randint(2, 45)} min"),
    ("surge {v}", lambda f, r: f"{r.randint(1, 2)}.{r.randint(1, 9)}x"),
    ("tooth {v}", lambda f, r: str(r.choice([11, 12, 16, 21, 26, 36, 37, 46, 47, 48]))),
    ("the dog weighs {v}", lambda f, r: f"{r.randint(2, 45)}.{r.randint(0, 9)} kg"),
    ("prints {v}", lambda f, r: r.choice(["10x15", "13x18", "A4", "A3", "20x30 cm", "300 dpi", "4x6 in"])),
    ("donated {v}", lambda f, r: r.choice(["€25", "$50", "100 GEL", "₪180", "AED 250", "₩30,000", "NT$1,000"])),
    ("desk {v}", lambda f, r: f"{r.choice(['H', 'D', 'F'])}{r.randint(1, 60)}"),
    ("for {v} guests", lambda f, r: str(r.randint(20, 350))),
    ("zone {v}", lambda f, r: r.choice(["1", "2", "A", "B", "AB", "1-2"])),
    ("the locker size is {v}", lambda f, r: r.choice(["S", "M", "L", "XL"])),
    ("{v} m²", lambda f, r: str(r.randint(28, 180))),
]


_place_v7 = _placer((0.3, "{host}. {fragment}"), (0.5, "{fragment}{sentence_end}{host}"), (0.62, "{host}; {fragment}"),
                    (0.72, "{host}:\n{fragment}"), (0.82, "({fragment}) {host}"), (0.92, "{host}. Also {fragment}"),
                    (1.0, "{host} >> {fragment}"))


def build_injected_v7(n_per_type: int, seed: int, hosts: list[str]) -> list[dict]:
    return build_injected(HeldOutRecipe("v7", V7_LOCALES, 103, _value_v7, _card_details_v7, V7_TEMPLATES,
                                        V7_NEGATIVES, "; ", _place_v7), n_per_type, seed, hosts)
V7_BRANDS_OF = {
    "delivery": ["efood", "Box", "Talabat", "Careem Food", "Noon Food", "Baemin", "Coupang Eats", "Yogiyo", "foodpanda",
                 "Snappfood", "10bis", "Foody", "Uklon Food", "Deliveries.lu"],
    "food": ["Mr. Pizza", "Dr Pepper", "Little Caesars", "Papa Murphy's", "Chick-fil-A", "Popeyes", "Dave's Hot Chicken",
             "Raising Cane's", "Goody's Burger House", "Puzata Hata", "Lviv Croissants", "Kyochon", "Paris Baguette",
             "Gong Cha", "Chun Shui Tang", "Shake Shack", "Five Guys", "Vapiano", "Mr. Sub", "Captain D's", "Señor Frog's"],
    "ride": ["Careem", "Yango", "Kakao T", "Gett", "Snapp", "Tapsi", "Pathao", "inDrive", "FreeNow", "Uklon", "Webtaxi",
             "Taxi Go", "Hala Taxi"],
    "courier": ["ACS Courier", "ELTA Courier", "BoxNow", "Speedy", "Econt", "Nova Poshta", "Ukrposhta", "Meest", "Israel Post",
                "Aramex", "Emirates Post", "CJ Logistics", "Hanjin", "Chunghwa Post", "Post Luxembourg", "Sendle"],
    "realty": ["Spitogatos", "Yad2", "Madlan", "Bayut", "Property Finder", "Dubizzle", "Zigbang", "Dabang", "591 House",
               "athome.lu", "immotop.lu", "imot.bg", "DOM.RIA", "LUN", "myhome.ge", "Divar", "Sheypoor", "list.am"],
    "clinic": ["DrSmile", "Invisalign", "Curaprox", "Sensodyne", "Colgate", "Philips Sonicare", "Bravecto", "NexGard",
               "Banfield Pet Hospital", "VCA Animal Hospital", "Seresto", "Advantix"],
    "beauty": ["Toni & Guy", "Jean Louis David", "Franck Provost", "Jacques Dessange", "Vidal Sassoon", "Aveda salon",
               "Six Senses Spa", "Anantara Spa", "Talise Spa", "Rituals spa"],
    "cosmetics": ["Aesop", "Lush", "Olive Young", "Innisfree", "Sulwhasoo", "Dr. Brandt", "Dr. PAWPAW", "Miss Dior",
                  "Lady Speed Stick", "Ahava", "Korres", "Apivita", "Rituals"],
    "print": ["Snapfish", "Vistaprint", "Shutterfly", "MOO", "CEWE", "FedEx Office", "Photobox", "Kodak Moments",
              "Fujifilm Wonder Photo Shop", "Canva Print", "Mixbook", "Chatbooks", "Printful"],
    "parking": ["Q-Park", "Indigo", "APCOA", "PayByPhone", "Salik", "Darb", "Mawaqif", "Hi-Pass", "eTag", "Attiki Odos",
                "Pango", "Cellopark", "Kvish 6", "Parkopedia"],
    "charity": ["Save the Children", "Médecins Sans Frontières", "Ronald McDonald House Charities",
                "Bill & Melinda Gates Foundation", "Elton John AIDS Foundation", "Magen David Adom", "Prytula Foundation",
                "Come Back Alive", "Dubai Cares", "Emirates Red Crescent", "Habitat for Humanity", "Amnesty International",
                "Caritas", "GoFundMe", "JustGiving", "Make-A-Wish", "Smile Train", "Kiva"],
    "transit": ["T-money", "EasyCard", "iPASS", "Rav-Kav", "ATH.ENA Card", "Metromoney", "Kyiv Smart Card", "mKart",
                "Korail", "Taiwan High Speed Rail", "Dubai Metro", "Israel Railways", "Egged", "OASA", "Sajha Yatayat",
                "Mobilitéit.lu", "CFL"],
    "cowork": ["WeWork", "Regus", "Spaces", "Impact Hub", "Mindspace", "Fastfive", "Talent Garden", "Servcorp", "Silversquare",
               "The Office Group", "Industrious", "Urban Station"],
    "wedding": ["David's Bridal", "Jenny Packham", "Monique Lhuillier", "Pronovias", "Elie Saab", "Zuhair Murad", "Reem Acra",
                "Marchesa", "Rosa Clará", "Galia Lahav", "Justin Alexander", "Maggie Sottero", "Manolo Blahnik"],
}
V7_BRANDS = [brand for group in V7_BRANDS_OF.values() for brand in group]
V7_HONORIFIC_FREE = [
    "Mr. Pizza in Gangnam sent a bulgogi pizza instead of the potato one", "Dr Pepper was missing from the Five Guys order",
    "Mr. Sub stopped taking card payments at the counter?", "Captain D's order came without the hush puppies",
    "Señor Frog's in the mall wants a 15% service charge on a takeaway?", "Dr. Brandt mask was half empty in the box",
    "Dr. PAWPAW balm was sold out at the salon, when is the restock?", "Miss Dior gift set had the wrong ribbon colour",
    "Lady Speed Stick is on the spa invoice but I never bought it", "Madame Tussauds tickets for the hen party didn't arrive",
    "Mr. Bricolage printed the wrong size for the wedding banner", "Jacques Dessange salon in Kirchberg cancelled my colour",
    "Papa Murphy's take-and-bake instructions were in the wrong language", "Señor Frog's voucher from the wedding raffle won't scan",
    "Jean Louis David gift card says insufficient balance", "Franck Provost in Esch charged for a treatment I didn't have",
]
V7_PEOPLE_FREE = [
    "David's Bridal altered the dress two sizes too small", "Jenny Packham sample sale booking link doesn't work",
    "Monique Lhuillier veil is stuck in customs in Dubai", "Elie Saab boutique wants a deposit of AED 5,000 for the fitting",
    "Zuhair Murad gown arrived with a torn hem, the wedding is in two weeks", "Reem Acra order shows shipped but no tracking",
    "Manolo Blahnik heels for the ceremony came in 38 instead of 39", "Vidal Sassoon academy cut was cancelled twice",
    "Toni & Guy in Glyfada double-booked my slot", "Ronald McDonald House Charities receipt didn't come through",
    "Bill & Melinda Gates Foundation newsletter keeps arriving after I unsubscribed", "Elton John AIDS Foundation gala tickets, any left?",
    "Prytula Foundation donation via Monobank shows pending", "Raising Cane's box combo was missing the toast",
    "Dave's Hot Chicken reaper level was way too hot, can I get a refund?", "Chick-fil-A app says my order was picked up, it wasn't",
    "Little Caesars in Sofia closes earlier than the app says", "Goody's Burger House delivery took 90 minutes",
    "Chun Shui Tang bubble tea was spilled all over the bag", "Paris Baguette cake for the engagement party was the wrong size",
]
V7_PLACE_FREE = [
    "Is there a parcel locker near Sofia central station?", "The taxi from Elena to Veliko Tarnovo never showed up",
    "Marina branch of the salon is closed on Fridays?", "Dubai Marina to Deira ride cost AED 78, normal is 45",
    "Florentin flat viewing got moved to 18:00", "Sevan lake hotel wedding package is sold out for June?",
    "Ani Plaza pickup point says the parcel was returned", "Do you deliver to Vake or only Saburtalo?",
    "Kolonaki salon wants cash only, is that allowed?", "Thamel to Boudhanath ride was charged twice",
    "Pokhara Lakeside dental clinic is open on Saturday?", "Ximending photo booth prints came out blurry",
    "Taipei Main Station lockers don't accept EasyCard?", "Itaewon vet clinic is open 24 hours?",
    "Jeju rental flat listing has the wrong photos", "Kirchberg coworking day pass is 25 euros or 35?",
    "Cloche d'Or parking charged a full day for two hours", "Podil courier office moved, where is it now?",
    "Lviv Opera House shuttle left without the wedding guests", "Tajrish market delivery zone, does it include Niavaran?",
    "Syntagma metro exit to the print shop is closed", "Seoul Station T-money machine swallowed my card",
    "Azrieli mall parking charged ₪ 48 for 3 hours", "Republic Square taxi rank has no taxis after midnight",
    "Batumi boulevard café reservation for 12, possible?", "Herzliya Pituah coworking has a free trial day?",
]
V7_SHAPE_FREE = [
    "Table 14 ordered the mezze platter twice", "Menu item #37 says 640 kcal but the app says 820", "Bus 550 to the airport is every 20 min?",
    "Parked in bay P-112, the app says P-121", "Our office is on floor 17, the courier went to 7", "Opening hours 9:00-21:00 or 10-22?",
    "25% off coupon didn't apply at checkout", "The price went from ₴389 to ₴459 overnight", "Ride of 12.4 km cost 38 GEL, is that right?",
    "Surge was 1.8x at 2am, the app said 1.2x", "Tooth 36 filling fell out after two days", "The dog weighs 23.5 kg, which NexGard size?",
    "100 prints 10x15 on glossy, ready by Friday?", "Donated €25 but the receipt says €2.50", "Desk H12 has no monitor",
    "Wedding for 180 guests, how many tables of 10?", "Zone AB travel card or zone A only?", "The toll was AED 4 but I was charged 8",
    "45 m² flat for 650 euros, still available?", "Locker size M is too small for the box", "ETA 7 min for 40 minutes now",
    "The 19:40 KTX to Busan, platform 12?", "The THSR from Taipei to Tainan, 1,350 NT$ or 1,530?", "Route 6 toll for 3 sections was ₪ 29.4",
    "Thanks, all sorted now", "Many thanks, see you at the wedding", "Shalom and thanks again", "Efcharisto poly!",
    "Dyakuyu, everything arrived", "Gamarjoba, thanks for the quick answer", "Merci villmools", "Kamsahamnida",
    "Dhanyabad for the help", "Blagodarya, the courier came",
]
V7_FREE_CLEAN = V7_HONORIFIC_FREE + V7_PEOPLE_FREE + V7_PLACE_FREE + V7_SHAPE_FREE
V7_PRODUCTS = ["mezze platter", "family bucket", "bulgogi pizza", "souvlaki wrap", "khachapuri adjaruli", "lahmajun",
               "shawarma plate", "bibimbap", "beef noodle soup", "momo (buffalo, 10 pcs)", "Judd mat Gaardebounen",
               "photo book A4", "canvas 40x60", "wedding invitations (120)", "business cards", "poster A2",
               "teeth whitening", "scale and polish", "root canal", "dog vaccination", "cat neutering", "gel manicure",
               "balayage", "hot stone massage", "hammam package", "day pass", "hot desk", "private office for 4",
               "monthly parking pass", "annual toll tag", "student travel card", "wedding cake tasting", "DJ package"]
V7_DISHES = ["the mezze platter", "two souvlaki wraps", "the khachapuri", "a lahmajun", "the shawarma plate", "the bibimbap",
             "the beef noodle soup", "10 momos", "the Judd mat Gaardebounen", "the banitsa", "the varenyky", "the tahdig",
             "the dolma", "the gyros", "the falafel box", "the chicken tenders", "the tteokbokki", "the xiaolongbao"]
V7_PLACES = ["Athens", "Thessaloniki", "Heraklion", "Patras", "Piraeus", "Kolonaki", "Glyfada", "Syntagma", "Sofia", "Plovdiv",
             "Varna", "Burgas", "Bansko", "Elena", "Kyiv", "Lviv", "Odesa", "Kharkiv", "Podil", "Obolon", "Tbilisi", "Batumi",
             "Kutaisi", "Vake", "Saburtalo", "Yerevan", "Gyumri", "Dilijan", "Sevan", "Ani", "Tel Aviv", "Haifa", "Eilat",
             "Jerusalem", "Herzliya", "Florentin", "Tehran", "Isfahan", "Shiraz", "Tabriz", "Tajrish", "Dubai", "Marina",
             "Deira", "Al Barsha", "Abu Dhabi", "Sharjah", "Al Ain", "Seoul", "Gangnam", "Hongdae", "Itaewon", "Busan",
             "Jeju", "Taipei", "Ximending", "Xinyi", "Taichung", "Kaohsiung", "Tainan", "Kathmandu", "Thamel", "Patan",
             "Pokhara", "Bhaktapur", "Luxembourg City", "Kirchberg", "Esch-sur-Alzette", "Clausen", "Cloche d'Or",
             "Ettelbruck", "Seoul Station", "Taipei Main Station", "Azrieli", "Republic Square", "Boudhanath"]
V7_CURRENCIES = [("euros", "EUR"), ("leva", "BGN"), ("hryvnias", "UAH"), ("lari", "GEL"), ("drams", "AMD"), ("shekels", "ILS"),
                 ("rials", "IRR"), ("dirhams", "AED"), ("won", "KRW"), ("New Taiwan dollars", "TWD"), ("Nepalese rupees", "NPR"),
                 ("US dollars", "USD"), ("Turkish lira", "TRY"), ("Omani rials", "OMR"), ("Indian rupees", "INR")]
V7_PAY = ["IRIS", "Viva Wallet", "ePay.bg", "Monobank", "Privat24", "TBC Pay", "Idram", "Bit", "PayBox", "a Shetab card",
          "Kakao Pay", "Naver Pay", "Toss", "LINE Pay", "JKOPAY", "EasyCard", "eSewa", "Khalti", "Fonepay", "Digicash",
          "Careem Pay", "Samsung Pay", "cash on delivery", "Apple Pay", "a gift card", "bank transfer"]
V7_STARTS = ["Geia sas", "Kalimera", "Zdraveite", "Dobryi den", "Pryvit", "Gamarjoba", "Barev dzez", "Shalom", "Dorood",
             "Marhaba", "Ahlan", "Annyeonghaseyo", "Namaste", "Moien", "Hi all", "Good day", "Hey team", "Dear all", "Hello hello",
             "Argh", "Quick question please", "Sorry to bother", "Another thing", "Checking in", "Not again"]
V7_MONTHS = ["Orthodox Easter", "Rosh Hashanah", "Nowruz", "Chuseok", "Seollal", "Dashain", "Tihar", "Ramadan", "Eid al-Adha",
             "the Mid-Autumn Festival", "Schueberfouer", "the summer", "wedding season", "the long weekend"]
V7_CLEAN_TEMPLATES = [
    "{start}, my {delivery} order from {food} is {minutes} minutes late", "{food} forgot {dish} again, ordered via {delivery}",
    "Does {food} in {place} deliver after {clock}?", "Can I pay {delivery} with {pay}?",
    "{start}, the {delivery} rider went to {place2} instead of {place}", "Is {dish} at {food} halal?",
    "{delivery} charged a {amount} service fee on a {amount2} order", "Table {table} at {food} waited {minutes} minutes for {dish}",
    "Menu item #{item} says {kcal} kcal, is that per portion?",
    "{start}, the {ride} driver cancelled after {minutes} minutes", "{ride} from {place} to {place2} was {amount}, usually half",
    "Surge on {ride} was {surge}x at {clock}, is that normal?", "Left my umbrella in a {ride} car on {when}",
    "Can {ride} take a dog in the car?", "{start}, {ride} charged me for a {km} km trip I never took",
    "{start}, {courier} says the parcel is in a locker in {place}, which one?", "{courier} delivery window is {window}, too late for me",
    "Does {courier} deliver to {place} on Saturdays?", "The {courier} branch in {place} closes at {clock}?",
    "{courier} wants {amount} for customs, is that right?", "{start}, {courier} marked it delivered but nothing came",
    "{start}, the {realty} listing in {place} is already rented", "{realty} ad says {sqm} m² for {amount} a month, still free?",
    "Is the flat on {realty} near {place} pet friendly?", "The agent from {realty} didn't show up for the {clock} viewing",
    "{start}, the dentist quoted {amount} for {dental}, is that with X-rays?", "Does the clinic in {place} use {clinic}?",
    "Vet visit for the cat on {when}, can I pay with {pay}?", "The dog is {weight} kg, which {clinic} pack?",
    "{start}, can I move my {treatment} at {beauty} from {clock} to {clock2}?", "{beauty} in {place} charged {amount} for {treatment}",
    "Does {beauty} sell {cosmetics} products?", "{start}, the {cosmetics} voucher expired on {when}",
    "{start}, {print} printed the {printitem} in the wrong size", "{print} order of {printitem} ready by {when}?",
    "Can {print} deliver the {printitem} to {place}?", "{print} photos came out too dark, can you reprint?",
    "{start}, {parking} charged me twice on {when}", "Does {parking} work at {place} airport?",
    "Parked in bay {bay} on level {floor}, the {parking} app says another level", "{parking} toll went up to {amount}?",
    "{start}, I donated {amount} to {charity} with {pay}, where's the receipt?", "Can I give monthly to {charity} in {cur}?",
    "Is {charity} registered in {place}?", "{charity} charged {amount} instead of {amount2}",
    "{start}, my {transit} card was charged twice at {place}", "Can I top up {transit} with {pay}?",
    "The {clock} train from {place} was cancelled, can I use my {transit} ticket on the bus?", "Bus {route} to {place} runs after {clock}?",
    "{start}, {cowork} in {place} has no free desks again", "Is the {cowork} meeting room on floor {floor} free at {clock}?",
    "{cowork} day pass is {amount}, can I pay in {cur}?", "{start}, {cowork} printer has been broken since {when}",
    "{start}, the {wedding} dress won't arrive before {when}", "Can {wedding} ship to {place} before {month}?",
    "Venue in {place} for {guests} guests during {month}, any dates?", "{start}, the {wedding} order is {amount}, quote said {amount2}",
    "How much is 100 {code} in {code2}?", "Are {brand} and {brand2} owned by the same group?", "{brand} and {brand2} both declined {pay}",
    "{start}, {brand} is open {hours} during {month}?", "Got {pct}% off at {brand}, but only on the first order",
]
V7_CLOCK = ["19:40", "7:05", "21:15", "8.30", "noon", "1am", "half past six", "6 pm", "10:00", "23:30", "quarter to nine", "0815"]
V7_WINDOWS = ["9-13", "14:00-18:00", "between 10 and 2", "after 7pm", "the evening slot", "8:00–12:00"]
V7_WHEN = ["Monday", "last Friday", "the 14th", "3 March", "12/05", "2026-04-18", "Sunday night", "tomorrow", "the 1st",
           "New Year's Day", "next week", "23.06."]
V7_DENTAL = ["a scale and polish", "teeth whitening", "a root canal", "a crown", "two fillings", "a night guard", "aligners"]
V7_TREATMENTS = ["gel manicure", "balayage", "hot stone massage", "hammam package", "keratin treatment", "facial", "lash lift",
                 "beard trim", "bridal make-up trial"]
V7_PRINT_ITEMS = ["photo book A4", "canvas 40x60", "wedding invitations (120)", "business cards", "poster A2", "calendar 2027",
                  "100 prints 10x15", "table plan board", "menu cards"]
V7_HOURS = ["9:00-21:00", "10-22", "24/7", "8.30–17.30", "11:00 to 23:00", "until 2am"]


def _extra_v7(rng: random.Random) -> dict:
    def amount() -> str:
        return rng.choice([f"€{rng.randint(3, 400)},{rng.randint(0, 99):02d}", f"{rng.randint(5, 300)} лв.", f"{rng.randint(5, 300)} BGN",
                           f"₴{rng.randint(50, 6000)}", f"{rng.randint(5, 300)} GEL", f"{rng.randint(2, 90)},000 AMD",
                           f"₪{rng.randint(15, 900)}", f"{rng.randint(50, 900)},000 rials", f"AED {rng.randint(10, 900)}",
                           f"₩{rng.randint(5, 99)},{rng.randint(0, 9)}00", f"NT${rng.randint(80, 3000):,}", f"Rs. {rng.randint(100, 9999)}",
                           f"{rng.randint(5, 200)}.{rng.choice(['00', '50', '99'])} EUR", f"${rng.randint(5, 300)}"])
    brands = {group: rng.choice(names) for group, names in V7_BRANDS_OF.items()}
    clock, clock2 = rng.sample(V7_CLOCK, 2)
    return dict(brands, amount=amount(), amount2=amount(), clock=clock, clock2=clock2, window=rng.choice(V7_WINDOWS),
                dental=rng.choice(V7_DENTAL), treatment=rng.choice(V7_TREATMENTS), printitem=rng.choice(V7_PRINT_ITEMS),
                when=rng.choice(V7_WHEN), hours=rng.choice(V7_HOURS), dish=rng.choice(V7_DISHES),
                minutes=str(rng.randint(10, 95)), table=str(rng.randint(1, 40)), item=str(rng.randint(1, 160)),
                kcal=str(rng.randint(150, 1400)), surge=f"{rng.randint(1, 2)}.{rng.randint(1, 9)}", km=f"{rng.randint(2, 40)}.{rng.randint(0, 9)}",
                sqm=str(rng.randint(28, 160)), weight=f"{rng.randint(2, 40)}.{rng.randint(0, 9)}",
                bay=f"{rng.choice('ABCP')}-{rng.randint(1, 300)}", floor=str(rng.randint(-3, 30)),
                route=rng.choice(["550", "X95", "B1", "N12", "14", "A2", "224", "16", "M2", "402"]),
                guests=str(rng.randint(40, 400)), pct=str(rng.choice([5, 10, 15, 20, 25, 30, 40, 50])))


V7_EMOJI = [" 🍕", " 🚕", " 📦", " 🏠", " 🦷", " 🐾", " 💅", " 🖨️", " 🅿️", " ❤️", " 🚇", " 💍"]


def _with_emoji_v7(text: str) -> str:
    return text + V7_EMOJI[sum(map(ord, text)) % len(V7_EMOJI)]


CLEAN_V7 = CleanRecipe("v7", V7_FREE_CLEAN, V7_CLEAN_TEMPLATES, V7_CURRENCIES, V7_BRANDS, V7_PLACES, V7_PRODUCTS, V7_PAY,
                       V7_STARTS, V7_MONTHS, ((0.1, str.lower), (0.15, str.upper), (0.22, _no_closing_punctuation),
                                              (0.27, _exclaimed), (0.33, _with_emoji_v7)), extra=_extra_v7)


def build_clean_v7(seed: int, n: int) -> list[dict]:
    """Like ``build_clean_v6``: templates drawn until ``n`` distinct sentences are made, the draws in a fixed order."""
    seen: set[str] = set()
    rows = []
    for row in build_clean_heldout(CLEAN_V7, seed, n * 3):
        if row["text"] not in seen:
            seen.add(row["text"])
            rows.append(row)
        if len(rows) == n:
            return rows
    raise RuntimeError(f"only {len(rows)} distinct clean sentences")


# ---------------------------------------------------------------------------
# Held-out set v8 (round 8), the pair after v7. Everything below was written without running
# the scrubber and without reading it, its tests or its error reports: twelve locales used in no earlier set (Thai, Filipino, Tamil, Sinhala, Amharic,
# Egyptian Arabic, Russian, Bosnian, Albanian, Cypriot Greek, Maltese and Liechtenstein German),
# names mostly romanised as in a chat in English and about one in eight in the locale's own script
# (Thai, Tamil, Sinhala, Ge'ez, Arabic, Cyrillic, Greek), with each locale's own conventions
# (Thai nicknames, Filipino middle initials and Kuya/Ate, Tamil father's initial first, Sri Lankan
# initials, Ethiopian and Egyptian father's names, Russian patronymics, Maltese house names);
# cue phrases and value shapes written fresh from how people write to car-rental desks and
# garages, insurance claims teams, schools and universities, government e-services, estate
# agents, job portals, sports clubs, libraries, museums, laundries, IT helpdesks and smart-home
# installers; streets, postcodes, phone numbers, national numbers and IBANs written by hand from
# each country's real shapes (phone numbers checked with `phonenumbers`; national numbers that
# python-stdnum knows checked with it, the Bosnian JMBG with the EMŠO check it shares, the
# Russian SNILS with its published check; IBANs of the four registry countries no earlier set
# drew from, Burundi, the Falklands, Saint Lucia and the British Virgin Islands, and some of the
# locales' own; cards Luhn-valid, with Mir, RuPay and Meeza); e-mail obfuscations no earlier set
# used; dates of birth also in the Ethiopian and Thai Buddhist calendars; look-alikes from those
# domains (odometer readings, part and tyre codes, exam scores, ticket counts, local prices,
# opening hours, versions, rooms, lockers, library call numbers, error codes, ports) beside the
# values. Dates are drawn from the seed, so a rebuild is byte for byte the same.
# ---------------------------------------------------------------------------
V8_LOCALES = ["th_TH", "fil_PH", "ta_IN", "si_LK", "am_ET", "ar_EG", "ru_RU", "bs_BA", "sq_AL", "el_CY", "mt_MT",
              "de_LI"]
V8_TEMPLATES: dict[str, list[str]] = {
    "PERSON": ["the rental car is booked under {v}, I'm only the second driver", "the mechanic who did the service, {v}, said it was fine",
               "claimant: {v}", "the loss adjuster {v} hasn't called back in two weeks", "the application is for my daughter, {v}",
               "my thesis supervisor, {v}, has to sign the form first", "the e-service form shows {v} as the applicant, not me",
               "the estate agent, {v}, showed us the house on Saturday", "the seller on the listing is {v}",
               "the recruiter {v} told me to apply through your portal", "the coach, {v}, moved training to Thursday",
               "the club card is in the name of {v}", "the library card belongs to {v}, I'm just returning the books",
               "our guide at the museum, {v}, was brilliant", "the laundry slip says {v}, that's not me",
               "the technician {v} remoted into my laptop and now Outlook is gone", "the installer, {v}, left the hub unplugged",
               "Greetings,\n{v}", "S poštovanjem,\n{v}", "С уважением,\n{v}", "Me respekt,\n{v}", "Freundliche Grüsse\n{v}",
               "Salamat po,\n{v}", "Grazzi ħafna,\n{v}", "{v} (policy holder's wife)", "student name: {v}", "c/o {v}",
               "candidate: {v}", "{v} - member since 2015", "tow truck driver was {v}, very kind", "the tenant-to-be is {v}"],
    "EMAIL": ["send the rental contract to {v}", "the claim documents should go to {v}", "my university address is {v}",
              "the e-services account is registered to {v}", "please send new listings to {v}",
              "job alerts go to {v}, please stop them", "add {v} to the club newsletter", "library reminders go to {v}",
              "were the museum tickets sent to {v}?", "notify {v} when the laundry is ready", "my work account {v} is locked out",
              "reset the MFA for {v} please", "the installer's report should be emailed to {v}", "the quote from the garage went to {v}",
              "my email is `{v}`", "mail → {v}", "e-mail address on the application: {v}", "the verification code never reaches {v}"],
    "PHONE": ["the garage can call {v} when the car is ready", "tow truck, please call {v}, I'm on the hard shoulder",
              "the adjuster can reach me on {v}", "the school office has my number as {v}", "the OTP for the e-service goes to {v}",
              "the agent can ring {v} to arrange a viewing", "recruiters may call {v} after 5pm",
              "the coach's group has me as {v}", "text {v} when my reserved book comes in",
              "for the laundry pickup call {v} at the gate", "the helpdesk can call me back on {v}",
              "the installer should phone {v} before arriving", "call or SMS: {v}", "the number for 2FA is {v}, it changed",
              "mob./WhatsApp {v}", "my contact number (home): {v}"],
    "ADDRESS": ["please deliver the rental car to {v}", "the tow truck should take it from {v} to your garage",
                "the water damage is at {v}", "correspondence address for the university: {v}",
                "my registered address on the e-service portal is {v}", "the house for sale is at {v}",
                "the valuation visit is at {v}", "post the job contract to {v}", "the club kit should be posted to {v}",
                "can the library mail the books to {v}?", "pick up the laundry from {v}", "the installer should come to {v}",
                "the courier for my laptop goes to {v}", "home address for the parking permit:\n{v}", "property address - {v}"],
    "POSTCODE": ["do you collect laundry in {v}?", "is {v} in the installer's service area?", "any houses for sale around {v}?",
                 "the e-service form rejects postcode {v}", "which branch library is nearest to {v}?",
                 "can you deliver the car to postcode {v}?", "jobs within 10 km of {v} please", "my premium went up because of postcode {v}",
                 "which school catchment is {v} in?", "postal/zip: {v}"],
    "DATE_OF_BIRTH": ["date of birth of the main driver: {v}", "the claimant's date of birth is {v}", "the applicant was born on {v}",
                      "date of birth as in my passport - {v}", "for the e-service login: born {v}",
                      "the club needs my birth date for the age group, it's {v}", "library card for my son, born {v}",
                      "is there a concession for someone born {v}?", "DOB (for the background check): {v}",
                      "the system has my birthday wrong, it should be {v}", "birth date / дата рождения: {v}"],
    "IP_ADDRESS": ["RDP to {v}:3389 times out", "please whitelist {v}/32 on the firewall", "the VPN gave me {v} today",
                   "the camera hub is reachable at {v} from outside", "the university portal blocked {v} after three tries",
                   "the job site says too many requests from {v}", "whatismyip says my address is {v}",
                   "the e-service login came from {v}, it wasn't me", "SSH from {v} was refused", "the smart lock log shows {v}",
                   "[{v}]:443 is not reachable", "source IP = {v}"],
    "IBAN": ["refund the rental deposit to {v}", "pay the claim settlement into {v}", "the scholarship goes to {v}",
             "send the tuition refund to {v}", "refund the e-service fee to {v}", "return the house deposit to {v}",
             "my salary account for the new job is {v}", "club fees by direct debit from {v}",
             "the installer's overpayment back to {v} please", "bank account for the payout - {v}", "IBAN (laundry subscription): {v}"],
    "NATIONAL_ID": ["national ID for the rental contract: {v}", "the claim form wants my ID number, it's {v}",
                    "not my student number, my national number: {v}", "the e-service login uses my personal number {v}",
                    "the notary needs {v} for the sale", "the portal asks for my ID for the background check - {v}",
                    "ID for the club licence: {v}", "library registration with ID {v}", "my tax number is {v}",
                    "citizen ID on the permit: {v}", "INN / NIC / JMBG: {v}", "PAN {v} for the scholarship form"],
    "USERNAME": ["my library login is {v}", "the e-services username: {v}", "Moodle username {v}", "the job portal profile is {v}",
                 "the club app shows me as {v}", "my domain account is {v}", "VPN user {v} is locked", "Slack handle: {v}",
                 "GitHub: {v}", "the smart-home app account is {v}", "on the car-sharing app I'm {v}",
                 "the claims portal login {v} doesn't work", "reset the password for {v}", "Skype name {v}"],
    "CARD": ["the rental deposit was blocked on {v}", "pay the excess with {v}", "the garage charged {v} twice",
             "tuition was paid with {v}", "the e-service fee went on {v}", "the agency fee was taken from {v}",
             "the club membership renews on {v}", "late fees keep hitting {v}", "the museum tickets were paid with {v}",
             "laundry subscription card: {v}", "the software licence renews on {v}", "remove {v} from the smart-home app"],
    "ORDER_ID": ["job card {v}", "claim number {v}", "application no. {v}", "request ID {v} on the e-service portal",
                 "viewing ref {v}", "job application {v}", "court booking {v}", "hold {v} for the book", "museum order {v}",
                 "laundry ticket {v}", "incident {v}", "installation job {v}", "quote {v}", "rental agreement no. {v}"],
}
# Romanised names as people of each locale write them in an English message: (male, female, family)
V8_NAMES = {
    "th_TH": (["Somchai", "Somsak", "Anan", "Kittisak", "Prasert", "Wichai", "Thanawat", "Nattapong", "Chaiwat", "Surachai"],
              ["Siriporn", "Nattaya", "Kanokwan", "Pimchanok", "Supaporn", "Wanida", "Ratana", "Achara", "Pornthip", "Jintana"],
              ["Srisuk", "Chaiyaporn", "Wongsawat", "Saetang", "Thongdee", "Kaewmanee", "Boonmee", "Jaidee", "Sukprasert",
               "Phromma", "Charoenrat", "Suwannarat"]),
    "fil_PH": (["Juan", "Jose", "Mark Anthony", "John Paul", "Jerome", "Rodel", "Ramil", "Dennis", "Arnel", "Christian"],
               ["Maria Cristina", "Ma. Theresa", "Jocelyn", "Marites", "Rowena", "Liza", "Kristine Joy", "Mary Grace", "Rhea",
                "Lovely"],
               ["Dela Cruz", "Santos", "Reyes", "Bautista", "Garcia", "Mendoza", "Villanueva", "Ramos", "Aquino", "Castillo",
                "Soriano", "De Guzman", "Manalo", "Pascual", "Navarro"]),
    "ta_IN": (["Karthik", "Senthil", "Murugan", "Arun Kumar", "Vignesh", "Saravanan", "Prakash", "Balaji", "Dinesh", "Ganesan"],
              ["Lakshmi", "Priya", "Divya", "Kavya", "Meenakshi", "Anitha", "Deepa", "Sangeetha", "Nandhini", "Bhuvana"],
              ["Ramasamy", "Subramanian", "Palanisamy", "Natarajan", "Venkatesan", "Annamalai", "Murugesan", "Sundaram",
               "Rajendran", "Chidambaram"]),
    "si_LK": (["Nimal", "Sunil", "Kasun", "Chaminda", "Ruwan", "Lahiru", "Tharindu", "Mahesh", "Nuwan", "Dinesh"],
              ["Nadeesha", "Dilani", "Chathurika", "Sanduni", "Ishara", "Madhavi", "Nirmala", "Thilini", "Hansani", "Kumari"],
              ["Perera", "Fernando", "de Silva", "Jayasinghe", "Wickramasinghe", "Bandara", "Dissanayake", "Gunawardena",
               "Herath", "Abeysekera", "Ranasinghe", "Karunaratne", "Weerasinghe"]),
    "am_ET": (["Abebe", "Dawit", "Solomon", "Yohannes", "Tesfaye", "Getachew", "Mulugeta", "Bereket", "Henok", "Biniyam",
               "Girma", "Yonas", "Kidus"],
              ["Tigist", "Meron", "Selamawit", "Hiwot", "Bethlehem", "Mekdes", "Saron", "Almaz", "Tsion", "Rahel", "Liya", "Hanna"],
              []),  # an Ethiopian's second name is the father's given name
    "ar_EG": (["Mohamed", "Ahmed", "Mahmoud", "Mostafa", "Omar", "Youssef", "Karim", "Amr", "Tarek", "Hossam", "Sherif", "Hany"],
              ["Nour", "Mariam", "Salma", "Yasmin", "Aya", "Heba", "Dina", "Rana", "Nada", "Mona", "Shaimaa", "Menna"],
              ["Hassan", "Abdel Rahman", "Mahmoud", "Ibrahim", "Fathy", "Mansour", "Soliman", "El-Masry", "Farouk", "Ghoneim",
               "Shawky", "Abdel Fattah", "Zaki", "Naguib", "Kamel"]),
    "bs_BA": (["Amar", "Emir", "Adnan", "Haris", "Kenan", "Mirza", "Tarik", "Nedim", "Dženan", "Edin", "Nikola", "Ivan", "Marko"],
              ["Amra", "Lejla", "Selma", "Ajla", "Emina", "Amina", "Merima", "Dženana", "Belma", "Maja", "Ivana", "Jelena"],
              ["Hodžić", "Hadžić", "Begić", "Delić", "Kovačević", "Mehmedović", "Hasanović", "Husić", "Omerović", "Babić",
               "Jukić", "Petrović", "Šehić", "Mujić", "Alić"]),
    "sq_AL": (["Arben", "Besnik", "Dritan", "Erion", "Gentian", "Klodian", "Ardit", "Ilir", "Fatmir", "Altin", "Andi", "Ervin"],
              ["Albana", "Anila", "Blerina", "Elira", "Entela", "Jonida", "Mimoza", "Rudina", "Klea", "Ersilda", "Megi", "Xhesika"],
              ["Hoxha", "Shehu", "Leka", "Çela", "Dervishi", "Kola", "Marku", "Gjoka", "Prifti", "Muça", "Tafa", "Basha", "Hysa",
               "Zeneli", "Bregu"]),
    "el_CY": (["Andreas", "Christos", "Georgios", "Kyriakos", "Marios", "Panayiotis", "Stavros", "Michalis", "Charalambos",
               "Savvas", "Loizos", "Costas"],
              ["Maria", "Eleni", "Andri", "Christina", "Despina", "Kyriaki", "Panayiota", "Stella", "Androulla", "Georgia",
               "Marina", "Eftychia"],
              ["Georgiou", "Christodoulou", "Ioannou", "Constantinou", "Charalambous", "Kyriakou", "Panayiotou", "Savva",
               "Loizou", "Nicolaou", "Demetriou", "Hadjigeorgiou", "Hadjipetrou", "Michael", "Kyprianou"]),
    "mt_MT": (["Joseph", "Mario", "Carmel", "Kurt", "Luke", "Jean Paul", "Ryan", "Karl", "Clayton", "Ġużeppi", "Ġorġ", "Ċensu"],
              ["Maria", "Rita", "Doris", "Carmen", "Josette", "Marthese", "Rebecca", "Nicole", "Graziella", "Antonella", "Ċettina",
               "Marija"],
              ["Borg", "Camilleri", "Vella", "Farrugia", "Zammit", "Galea", "Grech", "Attard", "Spiteri", "Azzopardi", "Mifsud",
               "Pace", "Agius", "Micallef", "Cassar", "Sammut", "Xuereb", "Schembri", "Buttigieg", "Fenech"]),
}
V8_TH_NICKS = ["Nok", "Ploy", "Bee", "Pim", "Aom", "Golf", "Bank", "Beam", "Mint", "Fern", "Toey", "Boss", "Namtan", "Pond"]
# Names in the locale's own script where Faker has none: (given, family, female?)
V8_NATIVE_NAMES = {
    "am_ET": [("አበበ", "ተስፋዬ", False), ("ዳዊት", "ሰለሞን", False), ("ሄኖክ", "ጌታቸው", False), ("ዮናስ", "ግርማ", False),
              ("ትዕግሥት", "ግርማ", True), ("ሜሮን", "ዮሐንስ", True), ("ሕይወት", "ሙሉጌታ", True), ("ቤተልሔም", "ዳዊት", True)],
    "ar_EG": [("محمد", "حسن", False), ("أحمد", "إبراهيم", False), ("مصطفى", "منصور", False), ("يوسف", "شوقي", False),
              ("مريم", "فتحي", True), ("نور", "سليمان", True), ("ياسمين", "عبد الرحمن", True), ("هبة", "زكي", True)],
    "el_CY": [("Ανδρέας", "Γεωργίου", False), ("Κυριάκος", "Ιωάννου", False), ("Σάββας", "Χατζηγεωργίου", False),
              ("Μάριος", "Κωνσταντίνου", False), ("Μαρία", "Χριστοδούλου", True), ("Άντρη", "Λοΐζου", True),
              ("Ελένη", "Νικολάου", True), ("Δέσποινα", "Παναγιώτου", True)],
    "bs_BA": [("Никола", "Петровић", False), ("Марко", "Јовановић", False), ("Стефан", "Савић", False),
              ("Јелена", "Томић", True), ("Сања", "Николић", True), ("Милица", "Јовановић", True)],
}
V8_TA_FATHERS = ["ராமசாமி", "சுப்பிரமணியன்", "பழனிசாமி", "நடராஜன்", "வெங்கடேசன்", "அண்ணாமலை", "முருகேசன்", "சுந்தரம்"]
V8_RU_LATIN = {"а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh", "з": "z", "и": "i", "й": "y",
               "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f",
               "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya"}
V8_ASCII = str.maketrans({"č": "c", "ć": "c", "š": "s", "ž": "z", "đ": "dj", "Č": "C", "Ć": "C", "Š": "S", "Ž": "Z", "Đ": "Dj",
                          "ë": "e", "Ë": "E", "ç": "c", "Ç": "C", "ġ": "g", "Ġ": "G", "ħ": "h", "Ħ": "H", "ż": "z", "Ż": "Z",
                          "ċ": "c", "Ċ": "C", "ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss",
                          "é": "e", "è": "e", "à": "a", "ñ": "n", "Ñ": "N"})


def _ru_latin_v8(word: str) -> str:
    low = "".join(V8_RU_LATIN.get(c, c) for c in word.lower())
    return "-".join(part[:1].upper() + part[1:] for part in low.split("-"))


def _names_v8(f, rng: random.Random) -> tuple[str, str, str, bool, bool]:
    """(given, family or father's name, the full name as the locale writes it, female?, own script?)."""
    loc = f._locales[0]
    female = rng.random() < 0.5
    native = rng.random() < (0.2 if loc == "th_TH" else 0.12) and loc not in ("fil_PH", "sq_AL", "mt_MT", "de_LI")
    if native and loc in V8_NATIVE_NAMES:
        given, family, female = rng.choice(V8_NATIVE_NAMES[loc])
        return given, family, f"{given} {family}", female, True
    if loc in ("th_TH", "si_LK", "ru_RU", "de_LI") and (native or loc == "de_LI" or loc == "ru_RU"):
        given = f.first_name_female() if female else f.first_name_male()
        family = f.last_name_female() if female else f.last_name_male()
        if loc == "ru_RU" and not native:
            given, family = _ru_latin_v8(given), _ru_latin_v8(family)
        return given, family, f"{given} {family}", female, native
    if loc == "ta_IN" and native:
        given = f.first_name_female() if female else f.first_name_male()
        return given, (family := rng.choice(V8_TA_FATHERS)), f"{given} {family}", female, True
    male_names, female_names, families = V8_NAMES[loc]
    given = rng.choice(female_names if female else male_names)
    family = rng.choice(families) if families else rng.choice([n for n in male_names if n != given])
    return given, family, f"{given} {family}", female, False


V8_TITLES = {  # (for men, for women)
    "fil_PH": (["Engr.", "Atty.", "Dr.", "Sir", "Kuya", "Tito"], ["Atty.", "Dr.", "Ma'am", "Ate", "Tita", "Engr."]),
    "ta_IN": (["Thiru", "Dr.", "Er.", "Mr."], ["Tmt.", "Selvi", "Dr.", "Mrs."]),
    "si_LK": (["Mr.", "Dr.", "Eng.", "Prof."], ["Mrs.", "Miss", "Dr.", "Prof."]),
    "am_ET": (["Ato", "Dr.", "Eng."], ["W/ro", "W/rt", "Dr."]),
    "ar_EG": (["Eng.", "Dr.", "Ostaz", "Hagg", "Mr."], ["Dr.", "Madame", "Ostaza", "Eng.", "Mrs."]),
    "ru_RU": (["Mr.", "Dr."], ["Ms.", "Mrs.", "Dr."]),
    "bs_BA": (["gosp.", "dr.", "prof.", "Mr."], ["gđa", "gđica", "dr.", "prof."]),
    "sq_AL": (["z.", "Dr.", "Prof."], ["znj.", "Dr.", "Prof."]),
    "el_CY": (["Mr", "Dr", "Fr."], ["Mrs", "Ms", "Dr"]),
    "mt_MT": (["Sur", "Is-Sur", "Perit", "Dr", "Fr"], ["Sinjura", "Is-Sinjura", "Perit", "Dr"]),
    "de_LI": (["Herr", "Dr. med.", "lic. iur.", "Dipl.-Ing."], ["Frau", "Dr. med.", "lic. oec.", "Mag."]),
    "th_TH": (["Khun", "Mr.", "Dr."], ["Khun", "Ms.", "Dr."]),
}
V8_FAMILY_ONLY_TITLES = ("Sur", "Is-Sur", "Sinjura", "Is-Sinjura", "Herr", "Frau", "gosp.", "gđa", "gđica", "Mr", "Mrs", "Ms")
V8_GIVEN_ONLY_TITLES = ("Sir", "Kuya", "Tito", "Ma'am", "Ate", "Tita", "Ostaz", "Ostaza", "Hagg", "Khun", "Ato", "W/ro", "W/rt")
V8_NATIVE_TITLES = {"th_TH": (["คุณ"], ["คุณ"]), "ta_IN": (["திரு."], ["திருமதி"]), "am_ET": (["አቶ"], ["ወ/ሮ", "ወ/ሪት"]),
                    "ar_EG": (["الأستاذ", "الدكتور", "المهندس", "الحاج"], ["الأستاذة", "الدكتورة", "المهندسة", "الحاجة"]),
                    "el_CY": (["Κος"], ["Κα"])}


def _person_v8(f, rng: random.Random) -> str:
    loc = f._locales[0]
    given, family, full, female, native = _names_v8(f, rng)
    if native:
        r = rng.random()
        if loc == "ru_RU":
            patronymic = f.middle_name_female() if female else f.middle_name_male()
            if r < 0.35:
                return f"{family} {given} {patronymic}"
            if r < 0.6:
                return f"{family} {given[0]}. {patronymic[0]}."
            if r < 0.75:
                return f"{given[0]}.{patronymic[0]}. {family}"
            return full
        if loc == "si_LK" and r < 0.3:
            return f"{family} {'මහත්මිය' if female else 'මහතා'}"  # the title follows the name
        if loc in V8_NATIVE_TITLES and r < 0.35:
            title = rng.choice(V8_NATIVE_TITLES[loc][1 if female else 0])
            if loc == "th_TH":
                return f"{title}{given}"  # คุณ is written joined to the given name
            if loc == "el_CY":
                return f"{title} {family}"
            return f"{title} {full}"
        return full
    r = rng.random()
    if r < 0.1:
        return full.lower()
    if r < 0.24:
        if loc == "th_TH" and rng.random() < 0.6:
            nick = rng.choice(V8_TH_NICKS)
            return rng.choice([f"P'{nick}", f"Nong {nick}", f"Khun {nick}", f"{nick} {given}"])
        title = rng.choice(V8_TITLES[loc][1 if female else 0])
        if title in V8_FAMILY_ONLY_TITLES:
            return f"{title} {family}"
        if title in V8_GIVEN_ONLY_TITLES:
            return f"{title} {given}"
        return f"{title} {full}"
    if r < 0.38:
        if loc == "th_TH":
            return rng.choice(V8_TH_NICKS)  # the nickname everybody uses
        if loc == "fil_PH":
            if rng.random() < 0.6:
                return f"{given} {rng.choice('ABCDGLMPRSTV')}. {family}"  # the mother's maiden name as a middle initial
            return f"{given} {family} {rng.choice(['Jr.', 'III', 'Sr.', 'II'])}"
        if loc == "ta_IN":
            return f"{family[0]}. {given}" if rng.random() < 0.6 else f"{family[0]}.{rng.choice('KMPRSV')}. {given}"
        if loc == "si_LK":
            initials = ".".join(rng.choice("ABDGHJKMNPRSW") for _ in range(rng.randint(2, 3)))
            return f"{initials}. {family}"
        if loc == "am_ET":
            return f"{full} {rng.choice([n for n in V8_NAMES['am_ET'][0] if n != family])}"  # and the grandfather's name
        if loc == "ar_EG":
            return f"{given} {rng.choice(V8_NAMES['ar_EG'][0])} {family}"  # with the father's given name
        if loc == "ru_RU":
            patronymic = _ru_latin_v8(f.middle_name_female() if female else f.middle_name_male())
            return f"{family} {given} {patronymic}" if rng.random() < 0.5 else f"{given[0]}. {patronymic[0]}. {family}"
        if loc in ("bs_BA", "sq_AL", "mt_MT"):
            return full.translate(V8_ASCII)  # typed on an English keyboard
        if loc == "el_CY":
            return f"{family.upper()} {given}"
        if loc == "de_LI":
            other = f.last_name()
            return f"{given} {family}-{other}" if other != family else f"{family} {given}"
    if r < 0.46:
        return given
    if r < 0.52:
        return f"{given} {family[0]}."
    return full


V8_MAIL_DOMAINS = {"th_TH": ["hotmail.com", "gmail.com", "outlook.co.th", "ku.th", "mahidol.ac.th", "truemail.co.th"],
                   "fil_PH": ["yahoo.com.ph", "gmail.com", "up.edu.ph", "dlsu.edu.ph", "pldtdsl.net", "ymail.com"],
                   "ta_IN": ["gmail.com", "yahoo.co.in", "rediffmail.com", "annauniv.edu", "iitm.ac.in", "outlook.in"],
                   "si_LK": ["gmail.com", "yahoo.com", "sltnet.lk", "stu.cmb.ac.lk", "dialog.lk", "hotmail.com"],
                   "am_ET": ["gmail.com", "yahoo.com", "ethionet.et", "aau.edu.et", "outlook.com"],
                   "ar_EG": ["gmail.com", "yahoo.com", "hotmail.com", "cu.edu.eg", "aucegypt.edu", "outlook.com"],
                   "ru_RU": ["mail.ru", "yandex.ru", "ya.ru", "rambler.ru", "bk.ru", "inbox.ru", "list.ru", "gmail.com", "hse.ru"],
                   "bs_BA": ["gmail.com", "hotmail.com", "bih.net.ba", "yahoo.com", "unsa.ba", "live.com"],
                   "sq_AL": ["gmail.com", "yahoo.com", "hotmail.com", "abcom.al", "unitir.edu.al", "live.com"],
                   "el_CY": ["gmail.com", "cytanet.com.cy", "hotmail.com", "ucy.ac.cy", "primehome.com", "outlook.com"],
                   "mt_MT": ["gmail.com", "maltanet.net", "um.edu.mt", "onvol.net", "hotmail.com", "go.net.mt"],
                   "de_LI": ["gmx.li", "adon.li", "bluewin.ch", "gmail.com", "uni.li", "gmx.ch", "hotmail.com"]}
# The at sign in the locale's own word, typed into an English chat (and the Russian word for the dot)
V8_AT_WORDS = {"ru_RU": ["sobaka", "собака"], "bs_BA": ["majmun", "majmunče"], "de_LI": ["Klammeraffe"], "th_TH": ["แอท"]}
V8_WEBMAIL = ("gmail", "yahoo", "hotmail", "mail", "yandex", "outlook")


def _local_part_v8(f, rng: random.Random) -> str:
    given, family, _, _, native = _names_v8(f, rng)
    if native:
        given, family, _, _, native = _names_v8(f, rng)
    if native or not (given + family).translate(V8_ASCII).replace(" ", "").replace("-", "").replace(".", "").isascii():
        return f"{rng.choice(['info', 'home', 'me', 'contact', 'hello'])}.{_digits_v6(rng, 4)}"
    given = given.translate(V8_ASCII).lower().replace(" ", "").replace("-", "").replace(".", "").replace("'", "")
    family = family.translate(V8_ASCII).lower().replace(" ", "").replace("-", "").replace(".", "").replace("'", "")
    return rng.choice([f"{given}.{family}", f"{given}{family}", f"{given[0]}.{family}", f"{family}_{given}",
                       f"{given}{family[0]}{rng.randint(1, 99)}", f"{given}.{family}{rng.randint(70, 2007)}", f"{family}{given[:3]}"])


def _email_v8(f, rng: random.Random) -> str:
    loc = f._locales[0]
    local = _local_part_v8(f, rng)
    domain = rng.choice(V8_MAIL_DOMAINS[loc])
    name, tld = domain.split(".", 1)
    r = rng.random()
    if r < 0.08 and loc in V8_AT_WORDS:
        word = rng.choice(V8_AT_WORDS[loc])
        if loc == "ru_RU" and rng.random() < 0.5:
            return f"{local} {word} {name} {'точка' if word == 'собака' else 'tochka'} {tld}"
        return f"{local} {word} {domain}"
    if r < 0.14:
        return f"{local}\u24d0{domain}"  # a circled "a" for the at sign, as some sites print it
    if r < 0.19:
        return f"{local}&commat;{domain}"  # the HTML5 named entity, pasted from a page's source
    if r < 0.25 and name in V8_WEBMAIL:
        return f"{local}@{name}"  # no top-level domain: "my gmail"
    if r < 0.3:
        return f"{local}@\n{domain}"  # wrapped after the at sign when copied from a narrow column
    if r < 0.36:
        cut = rng.randrange(1, len(local))
        return local[:cut] + "\u00ad" + local[cut:] + "@" + domain  # a soft hyphen from a word processor
    if r < 0.41:
        return f"{local}<at>{domain}"
    if r < 0.45:
        return f"{local}#{domain}"  # a hash for the at sign, against scrapers
    if r < 0.49:
        return f"{local}@{name}..{tld}"  # a doubled dot, typed in a hurry
    if r < 0.52 and loc == "ru_RU" and "a" in domain:
        return local + "@" + domain.replace("a", "\u0430", 1)  # a Cyrillic "а" from the wrong keyboard layout
    return f"{local}@{domain}"


# (country code, trunk prefix, mobile prefixes, digits after them, landline (prefix, digits after it))
V8_PHONE = {
    "th_TH": ("66", "0", ["81", "82", "83", "84", "85", "86", "87", "88", "89", "61", "62", "63", "64", "65", "80", "90", "91",
                          "92", "93", "94", "95", "96", "97", "98", "99"], 7, [("2", 7), ("53", 6), ("76", 6), ("38", 6)]),
    "fil_PH": ("63", "0", ["917", "918", "919", "920", "921", "927", "928", "939", "945", "955", "966", "977", "995", "998",
                           "905", "906", "915", "926"], 7, [("2", 8), ("32", 7), ("82", 7)]),
    "ta_IN": ("91", "0", ["98", "94", "99", "97", "95", "90", "63", "70", "73", "80", "81", "84", "86", "87", "88", "89", "93",
                          "96", "91"], 8, [("44", 8), ("422", 7), ("452", 7)]),
    "si_LK": ("94", "0", ["70", "71", "72", "74", "75", "76", "77", "78"], 7, [("11", 7), ("81", 7), ("91", 7)]),
    "am_ET": ("251", "0", ["91", "92", "93", "94", "97", "98", "70", "71"], 7, [("11", 7), ("58", 7)]),
    "ar_EG": ("20", "0", ["10", "11", "12", "15"], 8, [("2", 8), ("3", 7)]),
    "ru_RU": ("7", "8", ["916", "903", "905", "915", "925", "926", "977", "985", "999", "911", "921", "981", "912", "950",
                         "960"], 7, [("495", 7), ("499", 7), ("812", 7), ("843", 7)]),
    "bs_BA": ("387", "0", ["61", "62", "63", "65", "66"], 6, [("33", 6), ("51", 6), ("36", 6), ("35", 6)]),
    "sq_AL": ("355", "0", ["67", "68", "69"], 7, [("4", 7), ("52", 6)]),
    "el_CY": ("357", "", ["99", "96", "97", "95", "94"], 6, [("22", 6), ("25", 6), ("24", 6), ("26", 6)]),
    "mt_MT": ("356", "", ["79", "99", "77", "98", "96"], 6, [("21", 6), ("27", 6), ("22", 6)]),
    "de_LI": ("423", "", ["78", "79", "77"], 5, [("23", 5), ("37", 5), ("38", 5), ("39", 5)]),
}
V8_THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")


def _phone_digits_v8(loc: str, rng: random.Random, table: dict | None = None, tries: int = 300,
                     mobile_share: float = 0.8) -> tuple[str, str, str, str, bool]:
    """(country code, trunk, area or mobile prefix, the rest, mobile?): a number valid in its numbering plan
    (``table``: V8_PHONE's shape — v9 draws from V9_PHONE with its own odds)."""
    import phonenumbers

    cc, trunk, mobile, n_mobile, land = (table or V8_PHONE)[loc]
    for _ in range(tries):
        is_mobile = rng.random() < mobile_share
        prefix, n = (rng.choice(mobile), n_mobile) if is_mobile else rng.choice(land)
        rest = _digits_v6(rng, n)
        if phonenumbers.is_valid_number(phonenumbers.parse(f"+{cc}{prefix}{rest}")):
            return cc, trunk, prefix, rest, is_mobile
    raise RuntimeError(loc)


def _phone_v8(f, rng: random.Random) -> str:
    loc = f._locales[0]
    cc, trunk, p, rest, mobile = _phone_digits_v8(loc, rng)
    full = p + rest
    national = trunk + full
    if loc == "th_TH":
        shapes = ([f"{national[:3]}-{national[3:6]}-{national[6:]}", f"{national[:3]} {national[3:6]} {national[6:]}",
                   f"+66 {full[:2]}-{full[2:5]}-{full[5:]}", f"(+66) {full}", national,
                   f"{national[:3]} {national[3:6]} {national[6:]}".translate(V8_THAI_DIGITS)] if mobile else
                  [f"0 {full[:4]} {full[4:]}" if p == "2" else f"0{p}-{rest[:3]}-{rest[3:]}", f"0{p}-{rest[:3]}-{rest[3:]}",
                   f"+66 {p} {rest}"])
    elif loc == "fil_PH":
        shapes = ([f"{national[:4]} {national[4:7]} {national[7:]}", f"{national[:4]}-{national[4:7]}-{national[7:]}",
                   f"+63 {full[:3]} {full[3:6]} {full[6:]}", f"+63{full}", f"({national[:4]}) {national[4:]}", f"63-{p}-{rest}"]
                  if mobile else [f"(0{p}) {rest[:-4]} {rest[-4:]}", f"+63 {p} {rest[:-4]} {rest[-4:]}", f"0{p}-{rest}"])
    elif loc == "ta_IN":
        shapes = ([f"{full[:5]} {full[5:]}", f"+91 {full[:5]} {full[5:]}", f"+91-{full}", f"0{full[:5]} {full[5:]}", full,
                   f"+91 {full[:3]} {full[3:6]} {full[6:]}"] if mobile else
                  [f"0{p}-{rest[:-4]} {rest[-4:]}", f"0{p} {rest}", f"(0{p}) {rest}", f"+91 {p} {rest}"])
    elif loc == "si_LK":
        shapes = ([f"0{p} {rest[:3]} {rest[3:]}", f"0{full}", f"+94 {p} {rest[:3]} {rest[3:]}", f"+94-{p}-{rest}",
                   f"(0{p}) {rest[:3]}-{rest[3:]}"] if mobile else
                  [f"0{p} {rest[0]} {rest[1:]}", f"+94 {p} {rest[:3]} {rest[3:]}", f"0{p}-{rest}"])
    elif loc == "am_ET":
        shapes = ([f"0{p} {rest[:3]} {rest[3:]}", f"0{full[:3]} {full[3:]}", f"+251 {p} {rest[:3]} {rest[3:]}",
                   f"+251-{full[:3]}-{full[3:]}", f"0{full[:3]}-{full[3:5]}-{full[5:7]}-{full[7:]}"] if mobile else
                  [f"0{p} {rest[:3]} {rest[3:]}", f"+251 {p} {rest[:3]} {rest[3:]}", f"0{p}-{rest}"])
    elif loc == "ar_EG":
        shapes = ([f"0{p} {rest[:4]} {rest[4:]}", f"0{full}", f"+20 {p} {rest[:4]} {rest[4:]}", f"+2 0{full}",
                   f"0020 {p} {rest[:4]} {rest[4:]}", f"0{full}".translate(V7_ARABIC_DIGITS)] if mobile else
                  [f"0{p} {rest[:4]} {rest[4:]}", f"(0{p}) {rest}", f"+20 {p} {rest[:4]} {rest[4:]}"])
    elif loc == "ru_RU":
        shapes = [f"8 ({p}) {rest[:3]}-{rest[3:5]}-{rest[5:]}", f"+7 ({p}) {rest[:3]}-{rest[3:5]}-{rest[5:]}",
                  f"+7 {p} {rest[:3]} {rest[3:5]} {rest[5:]}", f"8{full}", f"8-{p}-{rest[:3]}-{rest[3:5]}-{rest[5:]}", f"+7-{p}-{rest}"]
    elif loc == "bs_BA":
        shapes = [f"0{p} {rest[:3]} {rest[3:]}", f"0{p}/{rest[:3]}-{rest[3:]}", f"+387 {p} {rest[:3]} {rest[3:]}",
                  f"00387 {p} {rest}", f"0{p}-{rest[:3]}-{rest[3:]}"]
    elif loc == "sq_AL":
        shapes = ([f"0{p} {rest[:3]} {rest[3:]}", f"0{full}", f"+355 {p} {rest[:3]} {rest[3:]}",
                   f"+355 {p} {rest[:2]} {rest[2:4]} {rest[4:]}", f"00355 {p} {rest}"] if mobile else
                  [f"0{p} {rest[:3]} {rest[3:]}", f"+355 {p} {rest[:3]} {rest[3:]}"])
    elif loc == "el_CY":
        shapes = [f"{p} {rest}", f"{p}-{rest}", f"+357 {p} {rest}", f"+357 {p} {rest[:3]} {rest[3:]}", f"00357 {full}", full]
    elif loc == "mt_MT":
        shapes = [f"{full[:4]} {full[4:]}", f"+356 {full[:4]} {full[4:]}", f"+356 {full}", f"00356 {full[:4]} {full[4:]}",
                  f"{full[:2]} {full[2:5]} {full[5:]}"]
    else:  # de_LI: seven digits, written 3-2-2
        grouped = f"{full[:3]} {full[3:5]} {full[5:]}"
        shapes = [f"+423 {grouped}", f"00423 {grouped}", grouped, f"+423 {full}", f"(+423) {grouped}"]
    return rng.choice(shapes)


# Addresses written by hand from each country's own shapes: (street, district, city, postcode)
V8_PLACES_OF = {
    "th_TH": [("Soi Sukhumvit 31", "Khlong Toei Nuea, Watthana", "Bangkok", "10110"),
              ("Thanon Charoen Krung", "Si Phraya, Bang Rak", "Bangkok", "10500"),
              ("Soi Ari 4", "Samsen Nai, Phaya Thai", "Bangkok", "10400"),
              ("Thanon Nimmanhaemin", "Suthep, Mueang Chiang Mai", "Chiang Mai", "50200"),
              ("Thanon Thepprasit", "Nong Prue, Bang Lamung", "Chonburi", "20150"),
              ("Thanon Mittraphap", "Nai Mueang, Mueang Khon Kaen", "Khon Kaen", "40000"),
              ("Thanon Wiset", "Rawai, Mueang Phuket", "Phuket", "83130")],
    "fil_PH": [("Aguirre Avenue", "BF Homes", "Parañaque City", "1720"), ("Katipunan Avenue", "Loyola Heights", "Quezon City", "1108"),
               ("Jupiter Street", "Bel-Air", "Makati City", "1209"), ("Gorordo Avenue", "Lahug", "Cebu City", "6000"),
               ("Quimpo Boulevard", "Matina", "Davao City", "8000"), ("Session Road", "Poblacion", "Baguio City", "2600"),
               ("Sumulong Highway", "San Isidro", "Antipolo City", "1870")],
    "ta_IN": [("2nd Cross Street", "Kamaraj Nagar, Adyar", "Chennai", "600020"), ("Thirumalai Road", "T. Nagar", "Chennai", "600017"),
              ("4th Avenue", "Anna Nagar West", "Chennai", "600040"), ("DB Road", "R.S. Puram", "Coimbatore", "641002"),
              ("North Masi Street", "Simmakkal", "Madurai", "625001"), ("Salai Road", "Thillai Nagar", "Tiruchirappalli", "620018"),
              ("Officers Line", "Sathuvachari", "Vellore", "632009")],
    "si_LK": [("Galle Road", "Kollupitiya", "Colombo 03", "00300"), ("Duplication Road", "Bambalapitiya", "Colombo 04", "00400"),
              ("Ward Place", "Cinnamon Gardens", "Colombo 07", "00700"), ("Temple Road", "Nugegoda", "Nugegoda", "10250"),
              ("Peradeniya Road", "Kandy", "Kandy", "20000"), ("Church Street", "Galle Fort", "Galle", "80000"),
              ("Hospital Road", "Jaffna", "Jaffna", "40000"), ("Lewis Place", "Negombo", "Negombo", "11500")],
    "am_ET": [("Bole Road", "Bole", "Addis Ababa", "1000"), ("Africa Avenue", "Bole", "Addis Ababa", "1000"),
              ("Churchill Avenue", "Arada", "Addis Ababa", "1000"), ("Haile Gebrselassie Avenue", "Kirkos", "Addis Ababa", "1000"),
              ("Cameroon Street", "Bole", "Addis Ababa", "1000"), ("Kebele 14", "Belay Zeleke", "Bahir Dar", "6000"),
              ("Piazza", "Tabor", "Hawassa", "5000")],
    "ar_EG": [("Shagaret El Dor St.", "Zamalek", "Cairo", "11211"), ("Abbas El Akkad St.", "Nasr City", "Cairo", "11765"),
              ("Road 9", "Maadi", "Cairo", "11431"), ("El Orouba St.", "Heliopolis", "Cairo", "11341"),
              ("Fouad St.", "Raml Station", "Alexandria", "21131"), ("Abou Qir St.", "Sidi Gaber", "Alexandria", "21523"),
              ("Central Axis", "Sheikh Zayed City", "Giza", "12588"), ("El Tesseen St.", "Fifth Settlement", "New Cairo", "11835")],
    "ru_RU": [("ul. Tverskaya", "Tverskoy", "Moskva", "125009"), ("Nevsky pr.", "Tsentralny", "Sankt-Peterburg", "191186"),
              ("ul. Baumana", "Vakhitovsky", "Kazan", "420111"), ("Krasny pr.", "Tsentralny", "Novosibirsk", "630099"),
              ("ul. Malysheva", "Leninsky", "Yekaterinburg", "620014"), ("Leninsky pr.", "Gagarinsky", "Moskva", "119049"),
              ("ul. Bolshaya Pokrovskaya", "Nizhegorodsky", "Nizhny Novgorod", "603005")],
    "bs_BA": [("Ferhadija", "Stari Grad", "Sarajevo", "71000"), ("Zmaja od Bosne", "Novo Sarajevo", "Sarajevo", "71000"),
              ("Titova", "Centar", "Sarajevo", "71000"), ("Maršala Tita", "Centar", "Mostar", "88000"),
              ("Kralja Petra I Karađorđevića", "Centar", "Banja Luka", "78000"), ("Turalibegova", "Centar", "Tuzla", "75000"),
              ("Bulevar Meše Selimovića", "Novi Grad", "Sarajevo", "71000"), ("Masarykova", "Centar", "Zenica", "72000")],
    "sq_AL": [("Rruga e Durrësit", "Njësia 5", "Tiranë", "1001"), ("Rruga Myslym Shyri", "Njësia 7", "Tiranë", "1001"),
              ("Bulevardi Dëshmorët e Kombit", "Njësia 10", "Tiranë", "1001"), ("Rruga Ismail Qemali", "Blloku", "Tiranë", "1019"),
              ("Rruga Taulantia", "Lagjja 1", "Durrës", "2001"), ("Rruga Kolë Idromeno", "Lagjja Vasil Shanto", "Shkodër", "4001"),
              ("Lungomare", "Lagjja Pavarësia", "Vlorë", "9401")],
    "el_CY": [("Makariou III Avenue", "Agioi Omologites", "Nicosia", "1065"), ("Stasikratous Street", "Centre", "Nicosia", "1065"),
              ("Agiou Andreou Street", "Old Town", "Limassol", "3036"), ("Anexartisias Street", "Centre", "Limassol", "3040"),
              ("Ermou Street", "Centre", "Larnaca", "6021"), ("Poseidonos Avenue", "Kato Paphos", "Paphos", "8042"),
              ("Nissi Avenue", "Famagusta District", "Ayia Napa", "5343"), ("Griva Digeni Avenue", "Strovolos", "Nicosia", "2023")],
    "mt_MT": [("Triq ir-Repubblika", "", "Valletta", "VLT 1117"), ("Triq it-Torri", "", "Sliema", "SLM 1605"),
              ("Triq San Ġorġ", "", "San Ġiljan", "STJ 3208"), ("Triq il-Kbira", "", "Birkirkara", "BKR 9021"),
              ("Triq il-Kungress Ewkaristiku", "", "Mosta", "MST 9038"), ("Triq ir-Repubblika", "", "Victoria", "VCT 1017"),
              ("Triq San Pawl", "", "San Pawl il-Baħar", "SPB 3418"), ("Xatt is-Sajjieda", "", "Marsaxlokk", "MXK 1320")],
    "de_LI": [("Städtle", "", "Vaduz", "9490"), ("Aeulestrasse", "", "Vaduz", "9490"), ("Landstrasse", "", "Schaan", "9494"),
              ("Feldkircher Strasse", "", "Schaan", "9494"), ("Dorfstrasse", "", "Triesen", "9495"), ("Im Pardiel", "", "Balzers", "9496"),
              ("Essanestrasse", "", "Eschen", "9492"), ("Kirchstrasse", "", "Mauren", "9493")],
}
V8_NATIVE_ADDRESS = {
    "ta_IN": ["எண் {n}, காந்தி சாலை, தில்லை நகர், திருச்சி - 620018", "{n}, வடக்கு மாசி வீதி, மதுரை 625001",
              "கதவு எண் {n}, 2வது குறுக்குத் தெரு, அடையாறு, சென்னை 600020"],
    "si_LK": ["අංක {n}, ගාලු පාර, කොළඹ 03", "අංක {n}/{a}, පන්සල පාර, නුගේගොඩ", "අංක {n}, පේරාදෙණිය පාර, මහනුවර"],
    "am_ET": ["አዲስ አበባ፣ ቦሌ ክፍለ ከተማ፣ ወረዳ {w}፣ የቤት ቁጥር {n}", "ባሕር ዳር፣ ቀበሌ {w}፣ የቤት ቁጥር {n}"],
    "ar_EG": ["{n} شارع شجرة الدر، الزمالك، القاهرة", "شقة {a}، الدور {f}، {n} شارع عباس العقاد، مدينة نصر، القاهرة",
              "{n} شارع فؤاد، محطة الرمل، الإسكندرية"],
    "ru_RU": ["г. Москва, ул. Тверская, д. {n}, кв. {a}", "420111, г. Казань, ул. Баумана, д. {n}",
              "Санкт-Петербург, Невский пр., д. {n}, кв. {a}", "620014, Екатеринбург, ул. Малышева, {n}-{a}"],
    "bs_BA": ["Краља Петра I {n}, 78000 Бања Лука", "Његошева {n}, 89101 Требиње"],
    "el_CY": ["Λεωφόρος Μακαρίου Γ' {n}, 1065 Λευκωσία", "Αγίου Ανδρέου {n}, Διαμ. {a}, 3036 Λεμεσός"],
    "th_TH": [],  # Faker writes Thai addresses in Thai
}
V8_MT_HOUSES = ["Ta' Karmnu", "Dar il-Ħena", "Villa Rosa", "Il-Fawwara", "Sunny Flat", "Dar Ġużeppi", "Santa Marija", "Il-Kenn"]
V8_LI_HOUSES = ["Haus Sonnenhalde", "Haus am Bach", "Residenz Rheinblick", "Chalet Malbun"]


def _address_v8(f, rng: random.Random) -> str:
    loc = f._locales[0]
    n, a, fl = rng.randint(1, 240), rng.randint(1, 60), rng.randint(1, 18)
    if loc in V8_NATIVE_ADDRESS and rng.random() < (0.18 if loc == "th_TH" else 0.12):
        if loc == "th_TH":
            return f.address().replace("\n", " ")
        text = rng.choice(V8_NATIVE_ADDRESS[loc]).format(n=n, a=a, f=fl, w=f"{rng.randint(1, 14):02d}")
        return text.translate(V7_ARABIC_DIGITS) if loc == "ar_EG" and rng.random() < 0.6 else text
    street, district, city, code = rng.choice(V8_PLACES_OF[loc])
    r = rng.random()
    if loc == "th_TH":
        house = f"{n}/{rng.randint(1, 400)}"
        tambon, amphoe = district.split(", ")
        if r < 0.35:
            return f"{house} {street}, {district}, {city} {code}"
        if r < 0.55:
            return f"{house} Moo {rng.randint(1, 14)}, T. {tambon}, A. {amphoe}, {city} {code}"
        if r < 0.8:
            return f"{rng.choice(['Lumpini Ville', 'Supalai Lite', 'Aspire', 'Noble Ploenchit'])}, Bldg {rng.choice('ABC')}, " \
                   f"room {fl}{a:02d}, {street}, {city} {code}"
        return f"{house} {street}\n{tambon}, {amphoe}\n{city} {code}"
    if loc == "fil_PH":
        if r < 0.3:
            return f"{n} {street}, {district}, {city} {code}"
        if r < 0.55:
            return f"Blk {rng.randint(1, 40)} Lot {rng.randint(1, 60)}, Phase {rng.randint(1, 4)}, " \
                   f"{rng.choice(['Camella Homes', 'Villa de Primarosa', 'Greenwoods Executive Village'])}, Brgy. {district}, {city}"
        if r < 0.8:
            return f"Unit {fl}{a:02d}, Tower {rng.randint(1, 5)}, {rng.choice(['SMDC Grass Residences', 'Avida Towers', 'The Rise'])}, " \
                   f"{street}, {city}"
        return f"#{n} {street}, Brgy. {district}\n{city}, {code}"
    if loc == "ta_IN":
        if r < 0.3:
            return f"No. {n}, {street}, {district}, {city} - {code}"
        if r < 0.5:
            return f"Old No. {n}, New No. {rng.randint(1, 240)}, {street}, {district}, {city} {code}"
        if r < 0.75:
            return f"Flat {rng.choice('ABCDEFG')}{fl}, {rng.choice(['Sri Sai Enclave', 'Lakshmi Apartments', 'Ganga Flats'])}, " \
                   f"{n} {street}, {district}, {city}"
        return f"{n}/{rng.randint(1, 30)}, {street}\n{district}, {city} {code[:3]} {code[3:]}"
    if loc == "si_LK":
        where = district if district == city else f"{district}, {city}"
        if r < 0.35:
            return f"No. {n}, {street}, {where}"
        if r < 0.6:
            return f"No. {n}/{rng.randint(1, 9)}, {street}, {city} {code}"
        if r < 0.8:
            return f"{n}{rng.choice('ABC')}, {rng.choice(['1st', '2nd', '3rd', '5th'])} Lane, off {street}, {where}"
        return f"No {n}, {street}\n{city}"
    if loc == "am_ET":
        if r < 0.35:
            return f"{district} Sub-city, Woreda {rng.randint(1, 14):02d}, House No. {rng.randint(100, 3000)}, {city}"
        if r < 0.6:
            return f"H.No. {rng.randint(100, 3000)}, Kebele {rng.randint(1, 20):02d}, {district}, {city}"
        if r < 0.8:
            return f"near {rng.choice(['Edna Mall', 'Bole Medhanealem', 'the Millennium Hall', 'Friendship Building'])}, {street}, {city}"
        return f"{street}, {rng.choice(['Dembel', 'Getu', 'Zemen'])} Building, {fl}th floor, office {a}\n{city}"
    if loc == "ar_EG":
        if r < 0.35:
            return f"{n} {street}, {district}, {city}"
        if r < 0.6:
            return f"Apt {a}, {fl % 12 + 1}th floor, {n} {street}, {district}, {city} {code}"
        if r < 0.8:
            return f"Villa {n}, {rng.choice(['Mivida', 'Madinaty B2', 'Rehab City', 'Palm Hills'])}, {district}, {city}"
        return f"Building {n}, {street}, {district}\n{city}, Egypt"
    if loc == "ru_RU":
        if r < 0.35:
            return f"{street}, d. {n}, kv. {a}, {city}, {code}"
        if r < 0.6:
            return f"{code}, {city}, {street}, d. {n}, korp. {rng.randint(1, 4)}, kv. {a}"  # the postcode first
        if r < 0.8:
            return f"{street} {n}-{a}, {city}"
        return f"{city}, {street}, {n}, apt. {a}"
    if loc == "bs_BA":
        r2 = rng.random()
        if r < 0.35:
            text = f"{street} {n}, {code} {city}"
        elif r < 0.55:
            text = f"{street} {n}/{fl}, {city}"
        elif r < 0.8:
            text = f"{street} {n}{rng.choice('abc')}, stan {a}, {code} {city}"
        else:
            text = f"{street} br. {n}\n{code} {city}"
        return text.translate(V8_ASCII) if r2 < 0.25 else text
    if loc == "sq_AL":
        if r < 0.35:
            text = f"{street}, Nr. {n}, {code} {city}"
        elif r < 0.6:
            text = f"{street}, Pallati {rng.randint(1, 90)}, Shkalla {rng.randint(1, 4)}, Ap. {a}, {city}"
        elif r < 0.8:
            text = f"{district}, {street}, {city} {code}"
        else:
            text = f"{street}, pranë {rng.choice(['Piramidës', 'shkollës', 'Kullës së Sahatit'])}, {city}"
        return text.translate(V8_ASCII) if rng.random() < 0.3 else text
    if loc == "el_CY":
        if r < 0.35:
            return f"{n} {street}, {code} {city}"
        if r < 0.6:
            return f"{street} {n}, Flat {fl}0{a % 9 + 1}, {city} {code}"
        if r < 0.8:
            return f"{street} {n}, {rng.choice(['Elena Court', 'Kyrenia Tower', 'Ariadne House'])}, Apt {fl}0{a % 9 + 1}, {district}, {city}"
        return f"{street} {n}\n{code} {city}, Cyprus"
    if loc == "mt_MT":
        r2 = rng.random()
        if r < 0.35:
            text = f"{n}, {street}, {city} {code}"
        elif r < 0.6:
            text = f"Flat {a}, Block {rng.choice('ABCD')}, {street}, {city} {code}"
        elif r < 0.8:
            text = f"'{rng.choice(V8_MT_HOUSES)}', {street}, {city} {code}"
        else:
            text = f"{n}, {street}\n{city} {code.replace(' ', '')}"
        return text.translate(V8_ASCII) if r2 < 0.3 else text
    # de_LI
    if r < 0.4:
        return f"{street} {n}, {code} {city}"
    if r < 0.6:
        return f"{street} {n}\nFL-{code} {city}"
    if r < 0.75:
        return f"{street} {n}{rng.choice('abc')}, LI-{code} {city}, Liechtenstein"
    return f"{rng.choice(V8_LI_HOUSES)}, {street} {n}, {code} {city}"


def _postcode_v8(f, rng: random.Random) -> str:
    loc = f._locales[0]
    r = rng.random()
    if loc == "th_TH":
        code = f"{rng.choice(['10', '11', '12', '20', '40', '50', '83', '84', '90'])}{_digits_v6(rng, 2)}0"
        return code.translate(V8_THAI_DIGITS) if r < 0.1 else code
    if loc == "fil_PH":
        return f"{rng.choice('1234568')}{_digits_v6(rng, 3)}"
    if loc == "ta_IN":
        code = f"6{rng.randint(0, 4)}{_digits_v6(rng, 4)}"
        return f"{code[:3]} {code[3:]}" if r < 0.35 else code
    if loc == "si_LK":
        return f"{rng.choice(['00', '10', '11', '20', '40', '60', '80'])}{rng.randint(1, 9)}{_digits_v6(rng, 1)}0"
    if loc == "am_ET":
        return f"{rng.randint(1, 7)}{_digits_v6(rng, 3)}"
    if loc == "ar_EG":
        code = f"{rng.choice(['11', '12', '21', '31', '41', '82', '84'])}{_digits_v6(rng, 3)}"
        return code.translate(V7_ARABIC_DIGITS) if r < 0.15 else code
    if loc == "ru_RU":
        return f"{rng.randint(1, 6)}{_digits_v6(rng, 5)}"
    if loc == "bs_BA":
        code = f"{rng.choice(['71', '72', '74', '75', '76', '77', '78', '88', '89'])}{rng.choice(['000', '000', '210', '240', '300'])}"
        return f"BA-{code}" if r < 0.15 else code
    if loc == "sq_AL":
        return f"{rng.choice(['10', '20', '40', '94', '97', '50', '70'])}{rng.randint(0, 5)}{rng.randint(1, 9)}"
    if loc == "el_CY":
        code = f"{rng.randint(1, 8)}{_digits_v6(rng, 3)}"
        return f"CY-{code}" if r < 0.15 else code
    if loc == "mt_MT":
        code = f"{rng.choice(['VLT', 'SLM', 'STJ', 'BKR', 'MST', 'VCT', 'SPB', 'MSD', 'QRM', 'ZBR', 'HMR', 'NXR'])} {rng.randint(1000, 9999)}"
        return code.replace(" ", "") if r < 0.25 else code.lower() if r < 0.35 else code
    code = str(rng.randint(9485, 9498))  # de_LI
    return f"FL-{code}" if r < 0.2 else f"LI-{code}" if r < 0.35 else code


V8_MONTHS_OF = {
    "th_TH": ["มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม",
              "พฤศจิกายน", "ธันวาคม"],
    "fil_PH": ["Enero", "Pebrero", "Marso", "Abril", "Mayo", "Hunyo", "Hulyo", "Agosto", "Setyembre", "Oktubre", "Nobyembre",
               "Disyembre"],
    "ta_IN": ["ஜனவரி", "பிப்ரவரி", "மார்ச்", "ஏப்ரல்", "மே", "ஜூன்", "ஜூலை", "ஆகஸ்ட்", "செப்டம்பர்", "அக்டோபர்", "நவம்பர்",
              "டிசம்பர்"],
    "si_LK": ["ජනවාරි", "පෙබරවාරි", "මාර්තු", "අප්\u200dරේල්", "මැයි", "ජූනි", "ජූලි", "අගෝස්තු", "සැප්තැම්බර්", "ඔක්තෝබර්",
              "නොවැම්බර්", "දෙසැම්බර්"],
    "ar_EG": ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"],
    "ru_RU": ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"],
    "bs_BA": ["januar", "februar", "mart", "april", "maj", "juni", "juli", "august", "septembar", "oktobar", "novembar", "decembar"],
    "sq_AL": ["janar", "shkurt", "mars", "prill", "maj", "qershor", "korrik", "gusht", "shtator", "tetor", "nëntor", "dhjetor"],
    "el_CY": ["Ιαν", "Φεβ", "Μαρ", "Απρ", "Μαΐ", "Ιουν", "Ιουλ", "Αυγ", "Σεπ", "Οκτ", "Νοε", "Δεκ"],
    "mt_MT": ["Jannar", "Frar", "Marzu", "April", "Mejju", "Ġunju", "Lulju", "Awwissu", "Settembru", "Ottubru", "Novembru",
              "Diċembru"],
    "de_LI": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"],
}
V8_ETHIOPIAN_MONTHS = ["Meskerem", "Tikimt", "Hidar", "Tahsas", "Tir", "Yekatit", "Megabit", "Miyazya", "Ginbot", "Sene", "Hamle",
                       "Nehase", "Pagume"]
V8_ETHIOPIAN_MONTHS_AM = ["መስከረም", "ጥቅምት", "ኅዳር", "ታኅሣሥ", "ጥር", "የካቲት", "መጋቢት", "ሚያዝያ", "ግንቦት", "ሰኔ", "ሐምሌ", "ነሐሴ", "ጳጉሜ"]


def _dob_v8(f, rng: random.Random) -> str:
    """A date of birth as people of each locale write one; the Ethiopian calendar is drawn in its own years (the
    people are made up, so a date need not convert from a Gregorian one)."""
    loc = f._locales[0]
    d = _date_v5(rng, 1941, 2008)
    dd, mm, yyyy, yy = f"{d.day:02d}", f"{d.month:02d}", str(d.year), f"{d.year % 100:02d}"
    english = V6_ENGLISH_MONTHS[d.month - 1]
    local = V8_MONTHS_OF.get(loc, V6_ENGLISH_MONTHS)[d.month - 1]
    if loc == "th_TH":
        be = d.year + 543  # the Buddhist era
        shapes = [f"{d.day} {local} {be}", f"{d.day} {local} พ.ศ. {be}", f"{d.day} {local} {be}".translate(V8_THAI_DIGITS),
                  f"{dd}/{mm}/{yyyy}", f"{d.day} {english[:3]} {yyyy}", f"{dd}-{mm}-{be}"]
    elif loc == "fil_PH":
        shapes = [f"{english} {d.day}, {yyyy}", f"{mm}/{dd}/{yyyy}", f"ika-{d.day} ng {local} {yyyy}", f"{local} {d.day}, {yyyy}",
                  f"{mm}-{dd}-{yy}", f"{yyyy}-{mm}-{dd}"]
    elif loc == "ta_IN":
        shapes = [f"{dd}-{mm}-{yyyy}", f"{dd}/{mm}/{yyyy}", f"{d.day} {local} {yyyy}", f"{dd}.{mm}.{yyyy}",
                  f"{_ordinal(d.day)} {english} {yyyy}", f"{d.day}-{english[:3]}-{yyyy}"]
    elif loc == "si_LK":
        shapes = [f"{yyyy}-{mm}-{dd}", f"{yyyy}.{mm}.{dd}", f"{yyyy} {local} {d.day}", f"{dd}/{mm}/{yyyy}", f"{d.day} {english} {yyyy}",
                  f"{yyyy}/{mm}/{dd}"]
    elif loc == "am_ET":
        year, month = rng.randint(1934, 2000), rng.randint(1, 13)
        day = rng.randint(1, 30 if month < 13 else 5)
        shapes = [f"{day:02d}/{month:02d}/{year} E.C.", f"{V8_ETHIOPIAN_MONTHS[month - 1]} {day}, {year} E.C.",
                  f"{V8_ETHIOPIAN_MONTHS_AM[month - 1]} {day} ቀን {year} ዓ.ም.", f"{day}/{month}/{year} ዓ.ም",
                  f"{dd}/{mm}/{yyyy} G.C.", f"{d.day} {english} {yyyy}"]
    elif loc == "ar_EG":
        shapes = [f"{dd}/{mm}/{yyyy}", f"{yyyy}/{d.month}/{d.day}", f"{d.day}-{d.month}-{yyyy}",
                  f"{d.day} {local} {yyyy}".translate(V7_ARABIC_DIGITS), f"{d.day} {local} {yyyy}", f"{d.day} {english} {yyyy}"]
    elif loc == "ru_RU":
        shapes = [f"{dd}.{mm}.{yyyy}", f"{d.day} {local} {yyyy} г.", f"{d.day} {local} {yyyy} года", f"{dd}.{mm}.{yy}",
                  f"{yyyy}-{mm}-{dd}", f"{dd}/{mm}/{yyyy}"]
    elif loc == "bs_BA":
        shapes = [f"{dd}.{mm}.{yyyy}.", f"{d.day}.{d.month}.{yyyy}.", f"{d.day}. {local} {yyyy}.", f"{dd}.{mm}.{yyyy}", f"{dd}/{mm}/{yyyy}"]
    elif loc == "sq_AL":
        shapes = [f"{dd}.{mm}.{yyyy}", f"{d.day} {local} {yyyy}", f"{dd}/{mm}/{yyyy}", f"{dd}-{mm}-{yyyy}",
                  f"{d.day} {local.capitalize()} {yyyy}"]
    elif loc == "el_CY":
        shapes = [f"{dd}/{mm}/{yyyy}", f"{d.day}/{d.month}/{yyyy}", f"{d.day} {local} {yyyy}", f"{_ordinal(d.day)} {english} {yyyy}",
                  f"{d.day} {english} {yyyy}", f"{dd}-{mm}-{yy}"]
    elif loc == "mt_MT":
        shapes = [f"{dd}/{mm}/{yyyy}", f"{d.day} ta' {local} {yyyy}", f"{d.day} {local} {yyyy}", f"{_ordinal(d.day)} {english} {yyyy}",
                  f"{dd}.{mm}.{yyyy}"]
    else:  # de_LI
        shapes = [f"{dd}.{mm}.{yyyy}", f"{d.day}. {local} {yyyy}", f"{d.day}.{d.month}.{yyyy}", f"{dd}.{mm}.{yy}", f"{yyyy}-{mm}-{dd}"]
    return rng.choice(shapes)


def _jmbg_v8(d, region: str, female: bool, rng: random.Random) -> str:
    """A JMBG (the Yugoslav master citizen number, still Bosnia's): date of birth, region, serial, a mod-11 check
    digit; python-stdnum checks it as a Slovenian EMŠO, which is the same number with the same check."""
    from stdnum.si import emso

    while True:
        body = d.strftime("%d%m") + f"{d.year % 1000:03d}" + region + f"{rng.randint(500, 999) if female else rng.randint(0, 499):03d}"
        if sum(int(c) * w for c, w in zip(body, (7, 6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2))) % 11 == 1:
            continue  # the check would be 10: no such number is issued
        number = body + emso.calc_check_digit(body)
        assert emso.is_valid(number), number
        return number


def _snils_v8(rng: random.Random) -> str:
    """A Russian SNILS: nine digits and a two-digit check (digit times its weight 9..1, modulo 101, 100 written 00)."""
    while True:
        body = _digits_v6(rng, 9)
        if int(body) > 1001998:
            break
    total = sum(int(c) * (9 - i) for i, c in enumerate(body)) % 101
    return f"{body[:3]}-{body[3:6]}-{body[6:]} {total % 100:02d}"


def _national_id_v8(f, rng: random.Random) -> str:
    """Each locale's own identity number; checked with python-stdnum where it knows the number."""
    loc = f._locales[0]
    d = _date_v5(rng, 1945, 2007)
    r = rng.random()
    if loc == "th_TH":
        from stdnum.th import pin
        body = str(rng.randint(1, 8)) + _digits_v6(rng, 11)
        number = body + pin.calc_check_digit(body)
        assert pin.is_valid(number), number
        if r < 0.4:
            return f"{number[0]}-{number[1:5]}-{number[5:10]}-{number[10:12]}-{number[12]}"
        if r < 0.5:
            return f"{number[0]}-{number[1:5]}-{number[5:10]}-{number[10:12]}-{number[12]}".translate(V8_THAI_DIGITS)
        return number
    if loc == "fil_PH":  # the PhilSys card number (16 digits) or the BIR tax number
        if r < 0.6:
            number = _digits_v6(rng, 16)
            return "-".join(number[i:i + 4] for i in range(0, 16, 4)) if rng.random() < 0.7 else number
        return f"{_digits_v6(rng, 3)}-{_digits_v6(rng, 3)}-{_digits_v6(rng, 3)}-{rng.choice(['000', '000', '001'])}"
    if loc == "ta_IN":
        if r < 0.6:
            from stdnum import verhoeff
            from stdnum.in_ import aadhaar
            while True:
                body = str(rng.randint(2, 9)) + _digits_v6(rng, 10)
                number = body + verhoeff.calc_check_digit(body)
                if aadhaar.is_valid(number):
                    break
            return f"{number[:4]} {number[4:8]} {number[8:]}" if rng.random() < 0.7 else number
        from stdnum.in_ import pan
        letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
        while True:
            number = "".join(rng.choice(letters) for _ in range(3)) + "P" + rng.choice(letters) + f"{rng.randint(1, 9999):04d}" + rng.choice(letters)
            if pan.is_valid(number):
                return number
    if loc == "si_LK":  # the NIC: birth year, day of the year (+500 for women), serial, check (the check rule is not published)
        day = d.timetuple().tm_yday + (500 if rng.random() < 0.5 else 0)
        if d.year < 2000 and r < 0.5:
            return f"{d.year % 100:02d}{day:03d}{_digits_v6(rng, 4)}{rng.choice('VVVX')}"
        return f"{d.year}{day:03d}0{_digits_v6(rng, 4)}"
    if loc == "am_ET":  # the Fayda numbers: FAN (16 digits, on the card) or FIN (12 digits)
        if r < 0.5:
            number = _digits_v6(rng, 16)
            return " ".join(number[i:i + 4] for i in range(0, 16, 4))
        number = _digits_v6(rng, 12)
        return " ".join(number[i:i + 4] for i in range(0, 12, 4)) if rng.random() < 0.6 else number
    if loc == "ar_EG":  # century, date of birth, governorate, serial (odd for men), check (the check rule is not published)
        number = f"{2 if d.year < 2000 else 3}{d.strftime('%y%m%d')}{rng.choice(['01', '02', '21', '12', '13', '14', '16', '88'])}" \
                 f"{_digits_v6(rng, 3)}{rng.randint(1, 9)}{rng.randint(0, 9)}"
        return number.translate(V7_ARABIC_DIGITS) if r < 0.15 else number
    if loc == "ru_RU":
        if r < 0.45:
            from stdnum.ru import inn
            body = rng.choice(["77", "78", "50", "66", "16", "23", "54", "52"]) + _digits_v6(rng, 8)
            number = body + inn.calc_personal_check_digits(body)
            assert inn.is_valid(number), number
            return number
        if r < 0.8:
            return _snils_v8(rng)
        return f"{_digits_v6(rng, 2)} {_digits_v6(rng, 2)} {_digits_v6(rng, 6)}"  # the internal passport, series and number
    if loc == "bs_BA":
        number = _jmbg_v8(d, f"{rng.randint(10, 19)}", rng.random() < 0.5, rng)
        return number if r < 0.8 else f"{number[:7]} {number[7:9]} {number[9:]}"
    if loc == "sq_AL":  # the NID: a letter for the decade of birth, year, month (+50 for women), day, serial, a letter
        from stdnum.al import nipt
        month = d.month + (50 if rng.random() < 0.5 else 0)
        number = f"{'ABCDEFGHIJKLM'[(d.year - 1900) // 10]}{d.year % 10}{month:02d}{d.day:02d}{_digits_v6(rng, 3)}{rng.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZ')}"
        assert nipt.is_valid(number), number
        return number
    if loc == "el_CY":
        if r < 0.65:  # the tax identification code: eight digits and a check letter
            from stdnum.cy import vat
            while True:
                body = rng.choice("0013459") + _digits_v6(rng, 7)
                if body[:2] != "12":
                    break
            number = body + vat.calc_check_digit(body)
            assert vat.is_valid(number), number
            return number
        return str(rng.randint(300000, 1299999))  # the identity card number
    if loc == "mt_MT":  # the identity card number: digits and a letter
        number = f"{rng.randint(1, 999999)}{rng.choice('MMMMGAPLHBZ')}"
        return number.rjust(8, "0") if r < 0.3 else number
    from stdnum.li import peid  # de_LI: the personal identification number
    number = str(rng.randint(1000, 99999999))
    assert peid.is_valid(number), number
    return number


# The IBAN registry's countries that no earlier set drew from, with their BBAN shapes; a locale whose country has
# IBANs of its own (earlier sets drew those) uses them some of the time
V8_IBAN_BBAN = {"BI": "5!n5!n11!n2!n", "FK": "2!a12!n", "LC": "4!a24!c", "VG": "4!a16!n"}
V8_IBAN_BANKS = {"FK": ["SC"], "LC": ["HEMM", "BOSL", "RBTT", "FNBL"], "VG": ["VPVG", "FCIB", "BOVG", "NBVI"]}
V8_OWN_IBAN = {"de_LI": ("LI", "5!n12!c"), "el_CY": ("CY", "3!n5!n16!c"), "mt_MT": ("MT", "4!a5!n18!c"),
               "ar_EG": ("EG", "4!n4!n17!n"), "bs_BA": ("BA", "3!n3!n8!n2!n")}


def _iban_v8(f, rng: random.Random) -> str:
    from stdnum import iban as stdnum_iban

    loc = f._locales[0]
    if loc in V8_OWN_IBAN and rng.random() < 0.3:
        country, shape = V8_OWN_IBAN[loc]
    else:
        country = rng.choice(sorted(V8_IBAN_BBAN))
        shape = V8_IBAN_BBAN[country]
    bban = _bban_from_format(shape, rng, letter_rate=0.1)
    if country in V8_IBAN_BANKS:
        bank = rng.choice(V8_IBAN_BANKS[country])
        bban = bank + bban[len(bank):]
    if country == "BI":  # the RIB key, as in the French-style account numbers: 97 - (89 bank + 15 branch + 3 account) mod 97
        bban = bban[:21] + f"{97 - (89 * int(bban[:5]) + 15 * int(bban[5:10]) + 3 * int(bban[10:21])) % 97:02d}"
    if country == "BA":  # the national check: the whole BBAN is 1 modulo 97
        bban = bban[:14] + f"{(1 - int(bban[:14]) * 100) % 97:02d}"
    iban = _with_iban_check(country, bban)
    assert stdnum_iban.is_valid(iban), iban
    grouped = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    r = rng.random()
    if r < 0.35:
        return grouped
    if r < 0.43:
        return grouped.replace(" ", "\u2009")  # thin spaces, from a PDF statement
    if r < 0.5:
        return grouped.lower()
    if r < 0.6 and country == "BI":
        return f"{iban[:4]} {iban[4:9]} {iban[9:14]} {iban[14:25]} {iban[25:]}"  # grouped as the bank prints the account
    return iban


V8_CARDS = {"visa": (["4"], [16, 16, 16, 13]), "mastercard": (["51", "52", "54", "55", "2221", "2500", "2720"], [16]),
            "amex": (["34", "37"], [15]), "jcb": (["3528", "3555", "3589"], [16]), "unionpay": (["620", "622", "624"], [16, 19]),
            "diners": (["36", "38"], [14]), "maestro": (["5018", "6759", "6304"], [16, 19]), "discover": (["6011", "65"], [16]),
            "mir": (["2200", "2201", "2202", "2203", "2204"], [16]), "rupay": (["60", "652", "81", "82", "508"], [16]),
            "meeza": (["5078"], [16])}
V8_LOCAL_CARDS = {"ru_RU": ("mir", 0.45), "ta_IN": ("rupay", 0.35), "ar_EG": ("meeza", 0.25), "th_TH": ("jcb", 0.15)}


def _card_v8(f, rng: random.Random) -> str:
    loc = f._locales[0]
    own, share = V8_LOCAL_CARDS.get(loc, (None, 0.0))
    if own and rng.random() < share:
        issuer = own
    else:
        issuer = rng.choice(["visa", "visa", "visa", "mastercard", "mastercard", "amex", "jcb", "unionpay", "diners", "maestro",
                             "discover"])
    number = _luhn_card_number(rng, *V8_CARDS[issuer])
    r = rng.random()
    if len(number) in (14, 15) and r < 0.5:
        return f"{number[:4]} {number[4:10]} {number[10:]}"
    if r < 0.38:
        return _in_fours(number, " ")
    if r < 0.46:
        return _in_fours(number, " - ")
    if r < 0.52:
        return _in_fours(number, "/")
    if r < 0.58:
        return f"{number[:6]} {number[6:]}"  # the issuer's six digits apart, as a bank letter prints it
    if r < 0.63:
        return _in_fours(number, "\u00a0")
    return number


def _expiry_v8(f, rng: random.Random) -> str:
    loc = f._locales[0]
    d = _date_v5(rng, 2026, 2035)
    month = V8_MONTHS_OF.get(loc, V6_ENGLISH_MONTHS)[d.month - 1] if loc in ("fil_PH", "bs_BA", "sq_AL", "mt_MT", "de_LI") else \
        V6_ENGLISH_MONTHS[d.month - 1]
    shape = rng.choice(["%m/%y", "%m/%y", "%m/%y", "%m/%Y", "{M}.%Y", "%m/ %y", "%m\\%y", "%b'%y", "{MONTH} %Y", "%m-%y"])
    return d.strftime(shape.replace("{M}", str(d.month)).replace("{MONTH}", month.capitalize()))


def _username_v8(f, rng: random.Random) -> str:
    loc = f._locales[0]
    given, family, _, _, native = _names_v8(f, rng)
    if loc == "ru_RU" and native and rng.random() < 0.4:
        return f"{given.lower()}_{family.lower()}"  # Cyrillic, as on VK
    if native or not (given + family).translate(V8_ASCII).replace(" ", "").replace("-", "").replace(".", "").replace("'", "").isascii():
        given, family, _, _, _ = _names_v8(f, rng)
        if not (given + family).translate(V8_ASCII).replace(" ", "").replace("-", "").replace(".", "").replace("'", "").isascii():
            given, family = rng.choice(["alex", "sam", "max", "kim", "lee", "jo"]), rng.choice(["home", "star", "fox", "one"])
    given = given.translate(V8_ASCII).lower().replace(" ", "").replace("-", "").replace(".", "").replace("'", "")
    family = family.translate(V8_ASCII).lower().replace(" ", "").replace("-", "").replace(".", "").replace("'", "")
    r = rng.random()
    if r < 0.1:
        return f"{rng.choice(['CORP', 'UNI', 'AD', 'STUDENT', 'HQ'])}\\{given[0]}{family}"  # a Windows domain account
    if r < 0.2:
        return f"{given[0]}{family}{rng.randint(1, 9):02d}"
    if r < 0.28:
        return f"{family}.{given[0]}"
    if r < 0.35:
        return f"u/{given}_{family[:3]}"
    if r < 0.41:
        return f"{given}{family}.bsky.social"
    if r < 0.49:
        return f"{given.capitalize()}_{family.capitalize()}"
    if r < 0.57:
        return f"{given}{family.capitalize()}"
    if r < 0.63:
        return f"_{given}_"
    if r < 0.7:
        return f"{given}.{family}.{rng.randint(1970, 2008)}"
    return rng.choice([f"{given}{family}", f"{given}_{family}", f"{given}{rng.randint(1, 999)}"])


def _order_id_v8(f, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.12:  # a ServiceNow incident or request item
        return f"{rng.choice(['INC', 'RITM', 'REQ'])}{_digits_v6(rng, 7)}"
    if r < 0.2:
        return f"№{_digits_v6(rng, rng.randint(6, 9))}"
    shape = rng.choice(["GAR-####-??", "CLM/26/######", "UA-2026-#####", "ESRV-#########", "VWG-######", "JA########",
                        "SC-####-##", "HOLD-######", "MUS######??", "LDY-#####", "SH-####-####", "Q-2026-####", "RNT#######?",
                        "##-???-####"])
    return "".join(str(rng.randint(0, 9)) if c == "#" else rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") if c == "?" else c for c in shape)


def _value_v8(f, kind: str, rng: random.Random) -> str | None:
    if kind == "PERSON":
        return _person_v8(f, rng)
    if kind == "EMAIL":
        return _email_v8(f, rng)
    if kind == "PHONE":
        return _phone_v8(f, rng)
    if kind == "ADDRESS":
        return _address_v8(f, rng)
    if kind == "POSTCODE":
        return _postcode_v8(f, rng)
    if kind == "DATE_OF_BIRTH":
        return _dob_v8(f, rng)
    if kind == "IP_ADDRESS":
        import ipaddress
        r = rng.random()
        if r < 0.6:
            return f.ipv4_public()
        if r < 0.75:
            return f.ipv6()
        return str(ipaddress.IPv6Address(f.ipv6()))
    if kind == "IBAN":
        return _iban_v8(f, rng)
    if kind == "NATIONAL_ID":
        return _national_id_v8(f, rng)
    if kind == "USERNAME":
        return _username_v8(f, rng)
    if kind == "CARD":
        return _card_v8(f, rng)
    if kind == "ORDER_ID":
        return _order_id_v8(f, rng)
    raise ValueError(kind)


def _card_details_v8(f, rng: random.Random) -> tuple[str, list[tuple[str, int, int]]]:
    number = _card_v8(f, rng)
    digits = "".join(c for c in number if c.isdigit())
    masked = rng.random() < 0.3
    shown = rng.choice(["....", "ends in ", "#### #### #### ", "xx", "the one ending "]) + digits[-4:] if masked else number
    expiry = _expiry_v8(f, rng)
    cvv = _digits_v6(rng, 4 if digits[:2] in ("34", "37") else 3)
    loc = f._locales[0]
    shapes = ["for the rental deposit: {n}, expires {e}, code {c}", "{n} ~ {e} ~ {c}", "PAN: {n}; valid to: {e}; CVV2/CVC2: {c}",
              "{n} (expiry {e}) and the three-digit code {c}", "card no.: {n}\nvalid thru: {e}\nsecurity code: {c}",
              "{n} exp/{e} cvv/{c}", "pay the excess with {n}, it runs out {e}, back number {c}", "{n}\t{e}\t{c}"]
    native = {"ru_RU": "карта {n}, срок действия {e}, CVC {c}", "th_TH": "บัตร {n} หมดอายุ {e} CVV {c}",
              "el_CY": "αριθμός κάρτας {n}, ημερομηνία λήξης {e}, κωδικός {c}", "bs_BA": "kartica {n}, vrijedi do {e}, CVV {c}",
              "sq_AL": "karta {n}, skadon {e}, kodi CVV {c}", "de_LI": "Karte {n}, gültig bis {e}, Prüfnummer {c}",
              "ar_EG": "بطاقة {n} تنتهي {e} الرمز {c}", "fil_PH": "card ko po {n}, expiry {e}, CVV {c}",
              "mt_MT": "il-karta {n}, tiskadi {e}, CVV {c}"}
    shape = native[loc] if loc in native and rng.random() < 0.25 else rng.choice(shapes)
    return _fill_card_shape(shape, shown, expiry, cvv, masked)


V8_NEGATIVES = [
    ("the odometer shows {v}", lambda f, r: f"{r.randint(8, 240)},{r.randint(0, 999):03d} km"),
    ("they fitted {v}", lambda f, r: r.choice(["1K0 698 151", "0 986 494 104", "OC 90", "5Q0 615 601", "LR031529", "A 000 420 38 20",
                                               "PF 2104", "KL 169/4D"])),
    ("tyres {v}", lambda f, r: r.choice(["205/55 R16 91V", "225/45 R17", "195/65 R15 91H", "265/70 R16 112T"])),
    ("exam score {v}", lambda f, r: r.choice([f"{r.randint(40, 100)}/100", f"band {r.randint(4, 8)}.{r.choice([0, 5])}", "A-", "B+",
                                              f"{r.randint(50, 99)}%"])),
    ("for {v}", lambda f, r: r.choice([f"{r.randint(2, 6)} tickets", f"{r.randint(1, 3)} adults and {r.randint(1, 3)} kids",
                                       "a family ticket", f"{r.randint(2, 12)} people"])),
    ("the bill came to {v}", lambda f, r: r.choice([f"฿{r.randint(1, 9)},{r.randint(0, 9)}90", f"₱{r.randint(1, 49)},{r.randint(0, 999):03d}",
                                           f"₹{r.randint(1, 99)},{r.randint(0, 999):03d}", f"Rs. {r.randint(1, 90)},{r.randint(0, 9)}00",
                                           f"{r.randint(100, 9000)} birr", f"EGP {r.randint(50, 9000)}", f"{r.randint(300, 9000)} ₽",
                                           f"{r.randint(10, 900)} KM", f"{r.randint(500, 9000)} lekë", f"€{r.randint(5, 900)}",
                                           f"CHF {r.randint(20, 900)}.–"])),
    ("they're open {v}", lambda f, r: r.choice(["Mon–Sat 09:00–18:00", "Di–Fr 8.30–12.00", "10:00-19:00 except Fridays", "8am–5pm",
                                        "till 21:00 on Thursdays", "Sun closed"])),
    ("version {v}", lambda f, r: r.choice([f"{r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 9)}", "Windows 11 23H2", "iOS 17.4.1",
                                           "build 10.0.22631", f"firmware {r.randint(1, 4)}.{r.randint(0, 12)}.{r.randint(0, 30)}"])),
    ("we met in room {v}", lambda f, r: r.choice([f"B-{r.randint(100, 450)}", f"lab {r.randint(1, 4)}.{r.randint(1, 30):02d}", f"{r.randint(101, 520)}"])),
    ("locker {v}", lambda f, r: str(r.randint(1, 400))),
    ("gallery {v}", lambda f, r: r.choice([str(r.randint(1, 40)), f"Hall {r.choice('ABCDE')}", f"Room {r.randint(1, 30)}"])),
    ("call number {v}", lambda f, r: r.choice(["823.914", "510.7 MAT", "004.6 NET", "947.08", "641.5 COO"])),
    ("on the {v} program", lambda f, r: r.choice(["40 °C", "cotton 60", "quick 30'", "wool", "7 kg"])),
    ("error {v}", lambda f, r: r.choice(["0x80070005", "0x800F081F", "E-4012", "503", "0xC004F074"])),
    ("port {v}", lambda f, r: r.choice(["8443", "3389", "22", "1883", "8123"])),
    ("the thermostat says {v}", lambda f, r: f"{r.randint(16, 25)}.{r.choice([0, 5])} °C"),
    ("final score {v}", lambda f, r: r.choice(["3-1", "2:2", "97-88", "6-4 6-3", "1-0"])),
    ("court {v}", lambda f, r: str(r.randint(1, 12))),
    ("a {v} flat", lambda f, r: r.choice(["3+1", "2-bedroom", "85 m²", "120 sqm"])),
    ("the flat is on floor {v}", lambda f, r: f"{r.randint(1, 9)}/{r.randint(9, 24)}"),
    ("posted salary {v}", lambda f, r: r.choice(["ETB 25,000", "₱35,000", "90 000 ₽", "LKR 180,000", "€1,400 gross"])),
    ("form {v}", lambda f, r: r.choice(["3-NDFL", "DS-160", "W-8BEN", "A1", "SP-10"])),
    ("the appointment is on {v}", lambda f, r: (lambda d: r.choice([d.strftime("%d.%m."), f"{d.day} {V6_ENGLISH_MONTHS[d.month - 1]}",
                                                                     d.strftime("%Y-%m-%d")]))(_date_v5(r, 2026, 2027))),
]


_place_v8 = _placer((0.3, "{host}. {fragment}"), (0.5, "{fragment}{sentence_end}{host}"), (0.6, "{host} | {fragment}"),
                    (0.7, "{host}\n- {fragment}"), (0.8, "[{fragment}] {host}"), (0.9, "{host}. Note: {fragment}"),
                    (1.0, "{host} / {fragment}"))


def build_injected_v8(n_per_type: int, seed: int, hosts: list[str]) -> list[dict]:
    return build_injected(HeldOutRecipe("v8", V8_LOCALES, 107, _value_v8, _card_details_v8, V8_TEMPLATES,
                                        V8_NEGATIVES, ", and ", _place_v8), n_per_type, seed, hosts)


V8_BRANDS_OF = {
    "rental": ["Localiza", "Green Motion", "Firefly", "Keddy", "Surprice", "Drivalia", "Rentalcars.com", "DiscoverCars",
               "Thai Rent a Car", "Anycar", "Casa Rent a Car", "Delfin Rent", "Budget", "Thrifty", "National", "Dollar"],
    "garage": ["Kwik Fit", "ATS Euromaster", "Bosch Car Service", "Midas", "Pep Boys", "Firestone", "Goodyear", "Mr. Transmission",
               "Mr. Tire", "Dr. Glass", "Castrol", "Mobil 1", "Petron", "Bangchak", "Lukoil", "Ceypetco", "Misr Petroleum"],
    "insurer": ["Lloyd's", "Mapfre", "Bupa", "Cigna", "Prudential", "MetLife", "AIA", "Ingosstrakh", "Misr Insurance",
                "Sri Lanka Insurance", "Nyala Insurance", "Muang Thai Life", "Pioneer Insurance", "Sigal", "GasanMamo", "Hellenic Alico"],
    "school": ["Chulalongkorn University", "Ateneo de Manila", "Anna University", "University of Peradeniya", "Addis Ababa University",
               "Cairo University", "American University in Cairo", "Lomonosov Moscow State University", "University of Sarajevo",
               "University of Tirana", "University of Nicosia", "University of Malta", "Universität Liechtenstein",
               "Johns Hopkins", "Carnegie Mellon", "Sorbonne", "Open University", "British Council"],
    "egov": ["Gosuslugi", "e-Albania", "DigiLocker", "UMANG", "eGovPH", "Digital Egypt", "servizz.gov.mt", "Ariadni", "eID.li",
             "ThaID", "Fayda", "e-Uprava"],
    "realty": ["Sotheby's International Realty", "Christie's International Real Estate", "Knight Frank", "Savills", "RE/MAX",
               "Century 21", "Coldwell Banker", "Engel & Völkers", "Keller Williams", "Lamudi", "DDproperty", "Cian", "Avito",
               "Aqarmap", "Bazaraki", "Frank Salt", "Dhalia", "Merrjep", "OLX.ba", "Homeland Real Estate"],
    "jobs": ["LinkedIn", "Indeed", "Glassdoor", "JobStreet", "Naukri", "hh.ru", "SuperJob", "Wuzzuf", "Bayt", "Ethiojobs",
             "topjobs.lk", "Kalibrr", "Duapune", "posao.ba", "KeepMePosted", "jobs.ch", "Hays", "Michael Page", "Robert Half",
             "Adecco", "Randstad", "Kelly Services"],
    "club": ["Zenit", "Spartak Moscow", "Al Ahly", "Zamalek SC", "FK Sarajevo", "FK Željezničar", "KF Tirana", "APOEL", "Omonia",
             "Valletta FC", "Ħamrun Spartans", "FC Vaduz", "Buriram United", "Chennai Super Kings", "Kandy SC", "Saint George SC",
             "Ayala Tennis Club"],
    "library": ["Bibliotheca Alexandrina", "Russian State Library", "National Library of Malta", "Connemara Public Library",
                "Liechtensteinische Landesbibliothek", "Gazi Husrev-beg Library", "Libby", "OverDrive", "Storytel", "LitRes",
                "Scribd", "Kindle Unlimited"],
    "museum": ["Grand Egyptian Museum", "Hermitage", "Pushkin Museum", "Tretyakov Gallery", "Kunstmuseum Liechtenstein",
               "Hilti Art Foundation", "Leventis Municipal Museum", "MUŻA", "Bunk'Art", "House of Leaves", "War Childhood Museum",
               "Jim Thompson House", "Museum Siam", "Ayala Museum", "National Museum of Ethiopia", "Colombo National Museum"],
    "laundry": ["Mr Jeff", "Washmen", "Tide Cleaners", "Speed Queen", "Persil", "Ariel", "Omo", "Surf Excel", "Dr. Beckmann",
                "Vanish", "Lenor", "Downy", "Comfort", "Electrolux", "Whirlpool"],
    "it": ["Microsoft 365", "Outlook", "Zoom", "Slack", "Jira", "ServiceNow", "Zendesk", "TeamViewer", "AnyDesk", "Cisco AnyConnect",
           "FortiClient", "Kaspersky", "Dr.Web", "ESET", "Norton", "McAfee", "Dell", "HP", "Lenovo", "Bitrix24", "Yandex 360"],
    "smarthome": ["Google Nest", "Amazon Alexa", "Aqara", "Tuya", "Sonoff", "Shelly", "Somfy", "Loxone", "Eufy", "Arlo", "Ezviz",
                  "Netatmo", "tado°", "Ajax Systems", "Yale", "Nuki", "Schneider Electric", "Legrand", "Siemens", "Honeywell"],
    "shop": ["King Power", "7-Eleven", "Lotus's", "Robinsons", "Ayala Malls", "Mercury Drug", "Max's Restaurant", "Saravana Stores",
             "Nalli Silks", "Murugan Idli Shop", "Adyar Ananda Bhavan", "Keells", "Cargills Food City", "Abans", "Tomoca",
             "Kaldi's Coffee", "Abou Tarek", "Mo'men", "Wildberries", "Ozon", "Dodo Pizza", "Teremok", "Bingo", "Konzum",
             "Sklavenitis", "Alphamega", "Zorbas", "Pavi", "Scotts", "Hilti", "Ivoclar"],
}
V8_BRANDS = [brand for group in V8_BRANDS_OF.values() for brand in group]
V8_HONORIFIC_FREE = [
    "Mr. Tire quoted 4 new tyres but fitted only 2", "Mr. Transmission kept the car three days for a gearbox noise",
    "Dr. Glass replaced the windscreen but the rain sensor no longer works", "Mr Jeff lost one sock from every load, it's a running joke now",
    "Dr. Beckmann stain remover left a white mark on the uniform", "Dr.Web blocked the university VPN client after the update",
    "Speed Queen machine number 6 at the laundrette takes coins but doesn't start", "Max's Restaurant voucher from the club raffle won't scan",
    "King Power duty free at Suvarnabhumi charged me in baht and in dollars", "Saint George SC membership card hasn't arrived",
    "Sotheby's International Realty listing says 4 bedrooms, the floor plan shows 3", "Miss Sixty jeans from the club shop shrank at 30 degrees",
    "Mister Minit at the mall lost the spare car key they cut", "Miss Universe screening at the museum cinema was moved",
    "Mr. Men books in the children's section are all on loan", "Sheikh Zayed City branch of the garage is closed on Fridays?",
]
V8_PEOPLE_FREE = [
    "Jim Thompson House tour starts at 10 or 10:30?", "Kelly Services recruiter never sent the contract", "Michael Page ad says remote, interview says office",
    "Robert Half wants my CV as PDF, the portal only takes DOCX", "Keller Williams agent showed us a flat that was already sold",
    "Coldwell Banker open house on Saturday, is parking available?", "Engel & Völkers valuation was 20% lower than Savills",
    "Frank Salt sent three listings in Sliema, all over budget", "Johns Hopkins online course certificate has a typo in the course title",
    "Carnegie Mellon summer school fee went up to $4,800", "Pushkin Museum audio guide only plays in Russian",
    "Tretyakov Gallery tickets for Sunday sold out online, any at the door?", "Gazi Husrev-beg Library reading room closes at 15:00?",
    "Leventis Municipal Museum is free on Wednesdays?", "Hilti Art Foundation and Kunstmuseum Liechtenstein combo ticket, where to buy?",
    "McAfee renewed for 89.99 without asking", "Norton says the laptop is at risk, IT says ignore it", "Dell laptop dock stopped charging after BIOS update",
    "Schneider Electric switches don't pair with the Aqara hub", "Siemens dishwasher error E24 after the installer left",
    "Honeywell thermostat shows 16 °C when the room is clearly warmer", "Yale smart lock batteries dead after 3 weeks",
    "Amazon Alexa turns the lights on at 3am", "Arlo camera keeps going offline at night", "Goodyear tyres wore out after 18,000 km",
    "Firestone shop charged for an alignment we never asked for", "Pep Boys gave a quote by phone and a different one in store",
    "Abou Tarek koshary order came without the sauce", "Murugan Idli Shop in T. Nagar doesn't take cards?",
    "Adyar Ananda Bhavan sweets box was crushed in delivery", "Nalli Silks saree was the wrong colour for the graduation",
    "Kaldi's Coffee in Bole added a service charge", "Zorbas bakery cake for the club dinner came late",
    "Lloyd's said the claim must go through the broker first",
]
V8_PLACE_FREE = [
    "Quezon City branch can't find the rental car booking", "Lapu-Lapu City garage wants cash only for the towing",
    "General Santos library has no weekend hours?", "Anna Nagar laundry pickup is only on Tuesdays",
    "Gandhipuram bus stand to the museum, which route?", "Mount Lavinia apartment viewing moved to Sunday",
    "Victoria in Gozo, is there a car rental desk at the ferry?", "St Julian's flat has no air conditioning, the listing said it did",
    "San Ġwann laundrette machine ate my coins", "St Paul's Bay sports club pool closes for the winter?",
    "6th of October City installer didn't show up", "Port Said customs are holding the camera kit",
    "Yekaterinburg office of the job portal has no phone number", "Kaliningrad branch of the library is closed for renovation",
    "Tolyatti dealer says the part comes in 2 weeks", "Agios Dometios crossing, do I need insurance for the north?",
    "Ayia Napa rental car had 3 scratches we photographed", "Peter-Kaiser-Platz parking for the museum, is it free on Sundays?",
    "Vaduz Städtle is closed for cars on Saturdays?", "Baščaršija museum shop takes convertible marks only?",
    "Skanderbeg Square garage entrance, where is it?", "Queen Sirikit Center exam hall has no parking",
]
V8_SHAPE_FREE = [
    "The car had 48,213 km at pickup and 48,902 at return, they billed 1,200", "Tyres 205/55 R16 91V, do you have them in stock?",
    "They fitted part 1K0 698 151 but the invoice says 1K0 698 451", "Exam score 87/100, the portal shows 78",
    "IELTS band 6.5 or 7.0 needed for the master's?", "4 tickets for 2 adults and 2 kids, charged as 4 adults",
    "Entry is ฿500 for foreigners and ฿100 for locals?", "₱1,250 for a wash-and-fold of 7 kg seems a lot",
    "₹18,500 for the semester fee, the website says ₹15,000", "Rs. 4,900 for the library membership, is that yearly?",
    "2,300 birr for the car service, the quote said 1,800", "EGP 450 for the museum ticket, student price is?",
    "4 990 ₽ a month for the smart-home plan?", "Registration is 120 KM, can I pay at the counter?",
    "1 500 lekë for the parking at the museum", "€35 for the locker for the whole season?",
    "CHF 280.– for the Malbun ski rental, helmet included?", "Open Mon–Sat 09:00–18:00, but nobody answered at 17:00",
    "Error 0x80070005 when installing the update on the lab PC", "Outlook version 2402 keeps asking for the password",
    "Windows 11 23H2 broke the printer driver in room B-204", "Port 8443 is blocked on the campus Wi-Fi",
    "Thermostat set to 21.5 °C but the room stays at 18", "Zigbee channel 15 or 20 for the Aqara hub?",
    "Firmware 1.12.4 on the Shelly relay, should I update?", "Call number 823.914 is on the wrong shelf",
    "Locker 118 at the pool doesn't lock", "Court 4 lights went off at 21:30 during our match",
    "Final score was 3-1, the club app shows 1-3", "85 m² flat on floor 4/9 for €1,100, still available?",
    "Gallery 12 was closed, is it open tomorrow?", "Programme 40 °C cotton shrank the club jerseys",
    "Thanks, all fixed now", "Many thanks for the quick help", "Khop khun ka!", "Salamat po sa tulong",
    "Nandri, the car is ready", "Istuti, the books came", "Ameseginalehu", "Shukran gazilan",
    "Spasibo, everything works now", "Hvala puno", "Faleminderit!", "Efcharisto, see you at the club",
    "Grazzi ħafna", "Merci vielmal und schöne Grüsse",
]
V8_FREE_CLEAN = V8_HONORIFIC_FREE + V8_PEOPLE_FREE + V8_PLACE_FREE + V8_SHAPE_FREE
V8_PRODUCTS = ["compact SUV", "7-seater van", "automatic hatchback", "child seat", "winter tyres", "oil change", "brake pads",
               "timing belt", "windscreen", "comprehensive cover", "third-party cover", "travel insurance", "master's programme",
               "evening course", "entrance exam", "student card", "residence permit", "passport renewal", "2-bedroom flat",
               "studio", "family membership", "tennis lessons", "swimming pass", "e-book loan", "museum pass", "audio guide",
               "wash-and-fold", "dry cleaning", "duvet cleaning", "laptop", "VPN access", "Office licence", "video doorbell",
               "smart thermostat", "robot mower", "alarm system"]
V8_PLACES = ["Bangkok", "Chiang Rai", "Hat Yai", "Khon Kaen", "Ayutthaya", "Suvarnabhumi", "Quezon City", "Makati", "Taguig",
             "Pasig", "Iloilo", "Baguio", "Lapu-Lapu City", "General Santos", "Coimbatore", "Madurai", "Tiruchirappalli",
             "Salem", "Vellore", "Pondicherry", "Anna Nagar", "T. Nagar", "Gandhipuram", "Colombo", "Kandy", "Galle", "Negombo",
             "Jaffna", "Nugegoda", "Mount Lavinia", "Nuwara Eliya", "Addis Ababa", "Bole", "Piassa", "Bahir Dar", "Hawassa",
             "Gondar", "Dire Dawa", "Cairo", "Giza", "Alexandria", "Zamalek", "Maadi", "Heliopolis", "New Cairo",
             "6th of October City", "Sheikh Zayed City", "Port Said", "Luxor", "Moscow", "Kazan", "Novosibirsk", "Yekaterinburg",
             "Sochi", "Kaliningrad", "Tolyatti", "Sarajevo", "Banja Luka", "Mostar", "Tuzla", "Baščaršija", "Ilidža", "Trebinje",
             "Tirana", "Durrës", "Vlorë", "Shkodër", "Korçë", "Sarandë", "Blloku", "Nicosia", "Limassol", "Larnaca", "Paphos",
             "Ayia Napa", "Agios Dometios", "Strovolos", "Valletta", "Sliema", "St Julian's", "Birkirkara", "Mosta", "Gozo",
             "Victoria", "San Ġwann", "Marsaxlokk", "Vaduz", "Schaan", "Triesen", "Balzers", "Eschen", "Malbun", "Feldkirch"]
V8_CURRENCIES = [("baht", "THB"), ("Philippine pesos", "PHP"), ("rupees", "INR"), ("Sri Lankan rupees", "LKR"), ("birr", "ETB"),
                 ("Egyptian pounds", "EGP"), ("roubles", "RUB"), ("convertible marks", "BAM"), ("lek", "ALL"), ("euros", "EUR"),
                 ("Swiss francs", "CHF"), ("US dollars", "USD"), ("pounds", "GBP"), ("Saudi riyals", "SAR"), ("Kuwaiti dinars", "KWD")]
V8_PAY = ["K PLUS", "Krungthai NEXT", "ShopeePay", "InstaPay", "BHIM UPI", "RuPay", "LankaQR", "FriMi", "telebirr", "CBE Birr",
          "Fawry", "Meeza", "Mir Pay", "SberPay", "YooMoney", "SBP", "Monri", "BOV Mobile", "Twint", "eBanking", "a company card",
          "a debit card", "cash at the counter", "an invoice", "a standing order", "Apple Pay", "Google Pay"]
V8_STARTS = ["Sawasdee ka", "Sawasdee krap", "Magandang umaga", "Kumusta po", "Vanakkam", "Ayubowan", "Selam", "Tena yistilign",
             "Sabah el kheir", "Zdravstvuyte", "Dobryy den", "Dobar dan", "Selam alejkum", "Mirëdita", "Përshëndetje", "Yia sou",
             "Bonġu", "Merħba", "Grüezi", "Hoi zäme", "Servus", "Good morning", "Hi there", "Dear helpdesk", "Hello again",
             "Quick one", "Urgent please", "Sorry to chase"]
V8_MONTHS = ["Loy Krathong", "Simbang Gabi", "Pongal", "Vesak", "Avurudu", "Meskel", "Timkat", "Enkutatash", "Sham el-Nessim",
             "Maslenitsa", "the May holidays", "Bajram", "Dita e Verës", "Kataklysmos", "the festa season", "Staatsfeiertag",
             "the exam period", "the new semester", "the winter tyre season"]
V8_CLEAN_TEMPLATES = [
    "{start}, the {car} I picked up from {rental} in {place} had {km} km more than on the contract",
    "Can I return the {rental} car in {place2} instead of {place}?", "{rental} blocked {amount} on my card for the deposit, why so much?",
    "Does {rental} allow the car to go from {place} to {place2}?", "{start}, the {car} from {rental} had a flat tyre",
    "{garage} quoted {amount} for the {service}, is that with labour?", "{start}, {garage} fitted {part} but my car needs {part2}",
    "Do you have {tyres} tyres at the {garage} in {place}?", "{garage} in {place} is open {hours}?",
    "{start}, my {insurer} claim for the {claim} is still open after {days} days",
    "Does the {insurer} {cover} cover a {car} rented in {place}?", "{insurer} raised the premium to {amount}, nothing changed",
    "{start}, the {school} portal shows my exam score as {score}", "Is the {school} {course} taught in English?",
    "{school} fee is {amount} a semester, can I pay with {pay}?", "{start}, the {school} library closes at {clock}?",
    "{start}, {egov} keeps timing out at the payment step", "Can I do the {eservice} on {egov} or only at the office in {place}?",
    "The {egov} app version {version} won't open on my phone", "The {egov} fee was {amount}, the website said less",
    "{start}, the {realty} listing in {place} says {sqm} m² but it's smaller", "{realty} agent cancelled the {clock} viewing again",
    "Is the {realty} flat in {place} still available at {amount} a month?", "Does {realty} charge a fee to the buyer?",
    "{start}, {jobs} shows jobs in {place} I never searched for", "The {jobs} posting says {amount} a month, is that gross?",
    "Can I apply on {jobs} without uploading a photo?", "My {jobs} alerts arrive at {clock} every night, can I change that?",
    "{start}, the {club} match on {when} was moved, are tickets still valid?", "{club} family membership is {amount}, any discount?",
    "Court {court} at {club} is double-booked for {clock}", "{start}, the {club} shop sent size M instead of L",
    "{start}, the {library} app says the {loan} is overdue, I returned it", "Can I borrow more than {count} books at {library}?",
    "{library} branch in {place} is open {hours}?", "Call number {callno} is not where the {library} catalogue says",
    "{start}, the {museum} ticket for {count} people was charged twice", "Is {museum} open on {when}?",
    "Does {museum} have an audio guide in {lang}?", "{museum} gallery {gallery} was closed, can I come back tomorrow?",
    "{start}, {laundry} shrank the {garment} on the {program} program", "Does {laundry} pick up in {place} before {clock}?",
    "{laundry} charged {amount} for {kg} kg, the price list says less", "Can {laundry} remove a wine stain from a {garment}?",
    "{start}, {it} shows error {error} after the update", "{it} version {version} doesn't start on the lab PC",
    "Is port {port} open for {it} on the campus network?", "{start}, {it} licence renewal went on {pay} twice",
    "{start}, the {smarthome} {device} lost the Wi-Fi after firmware {version}", "Can the installer set up {smarthome} with {smarthome2}?",
    "The {smarthome} thermostat shows {temp} °C but the room is colder", "The {smarthome} {device} in the hall goes offline at {clock}",
    "{start}, my {club} {membership} renewed at {amount}", "Can I pay the {egov} fee for the {eservice} with {pay}?",
    "How much is {amount} in {code2}?", "Convert 500 {code} to {code2} please", "{start}, {shop} in {place} doesn't take {pay}",
    "Do {brand} and {brand2} belong to the same owner?", "{start}, is {shop} open during {month}?", "Got {pct}% off at {shop}, but only once",
]
V8_CLOCK = ["9:00", "10.30", "17:45", "noon", "7 pm", "21:30", "half past eight", "8am", "14.00", "midnight", "quarter past four"]
V8_HOURS = ["Mon–Sat 09:00–18:00", "8–20 daily", "10:00-19:00 except Fridays", "till 21:00 on Thursdays", "Di–Fr 8.30–12.00",
            "7am to 10pm"]
V8_WHEN = ["Saturday", "next Sunday", "the 21st", "12 April", "14/03", "2026-05-01", "Friday night", "tomorrow", "the 3rd",
           "Good Friday", "the first Monday of the month"]
V8_PARTS = ["1K0 698 151", "0 986 494 104", "OC 90", "5Q0 615 601", "LR031529", "A 000 420 38 20", "PF 2104", "KL 169/4D"]
V8_TYRES = ["205/55 R16", "225/45 R17", "195/65 R15", "265/70 R16", "185/60 R14"]
V8_ERRORS = ["0x80070005", "0x800F081F", "E-4012", "0xC004F074", "AADSTS50076", "503", "404"]
V8_GARMENTS = ["wool coat", "silk shirt", "club jersey", "duvet", "school uniform", "suit", "linen trousers"]
V8_PROGRAMS = ["40 °C", "cotton 60", "quick 30'", "wool", "delicates", "eco 40-60"]
V8_CARS = ["compact SUV", "7-seater van", "automatic hatchback", "Toyota Yaris", "Kia Picanto", "Škoda Octavia estate",
           "Suzuki Swift", "Hyundai Tucson", "Lada Vesta", "Fiat 500 cabrio"]
V8_SERVICES = ["oil change", "brake pads", "timing belt", "windscreen", "winter tyres", "air-con regas", "annual inspection"]
V8_CLAIMS = ["windscreen", "water damage", "stolen bike", "hail damage", "cracked phone screen", "burst pipe", "lost luggage"]
V8_COVERS = ["comprehensive cover", "third-party cover", "travel insurance", "home contents cover", "excess waiver"]
V8_COURSES = ["master's programme", "evening course", "entrance exam prep", "MBA", "foundation year", "summer school"]
V8_ESERVICES = ["passport renewal", "residence permit", "driving licence renewal", "tax return", "vehicle registration",
                "parking permit"]
V8_LOANS = ["e-book", "audiobook", "DVD", "board game", "museum pass", "laptop loan"]
V8_DEVICES = ["hub", "video doorbell", "smart lock", "camera", "robot mower", "alarm panel", "smart plug"]
V8_MEMBERSHIPS = ["family membership", "tennis lessons", "swimming pass", "gym add-on", "season ticket"]
V8_LANGS = ["Amharic", "Thai", "Tamil", "Sinhala", "Arabic", "Russian", "Bosnian", "Albanian", "Greek", "Maltese", "German", "Tagalog"]


def _extra_v8(rng: random.Random) -> dict:
    amount = rng.choice([f"฿{rng.randint(1, 9)},{rng.randint(0, 9)}90", f"₱{rng.randint(1, 49)},{rng.randint(0, 999):03d}",
                         f"₹{rng.randint(1, 99)},{rng.randint(0, 999):03d}", f"Rs. {rng.randint(1, 90)},{rng.randint(0, 9)}00",
                         f"{rng.randint(100, 9000)} birr", f"EGP {rng.randint(50, 9000)}", f"{rng.randint(300, 9000)} ₽",
                         f"{rng.randint(10, 900)} KM", f"{rng.randint(500, 9000)} lekë", f"€{rng.randint(5, 900)}",
                         f"CHF {rng.randint(20, 900)}.–", f"${rng.randint(5, 900)}"])
    brands = {group: rng.choice(names) for group, names in V8_BRANDS_OF.items()}
    brands["smarthome2"] = rng.choice([name for name in V8_BRANDS_OF["smarthome"] if name != brands["smarthome"]])
    part, part2 = rng.sample(V8_PARTS, 2)
    return dict(brands, car=rng.choice(V8_CARS), service=rng.choice(V8_SERVICES), claim=rng.choice(V8_CLAIMS),
                cover=rng.choice(V8_COVERS), course=rng.choice(V8_COURSES), eservice=rng.choice(V8_ESERVICES), loan=rng.choice(V8_LOANS),
                device=rng.choice(V8_DEVICES), membership=rng.choice(V8_MEMBERSHIPS), amount=amount, km=f"{rng.randint(1, 9)},{rng.randint(0, 999):03d}", part=part, part2=part2,
                tyres=rng.choice(V8_TYRES), hours=rng.choice(V8_HOURS), days=str(rng.randint(10, 120)),
                score=rng.choice([f"{rng.randint(40, 100)}/100", f"{rng.randint(50, 99)}%", "B+", "A-", f"band {rng.randint(5, 8)}.5"]),
                clock=rng.choice(V8_CLOCK), version=f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
                sqm=str(rng.randint(28, 160)), court=str(rng.randint(1, 12)), when=rng.choice(V8_WHEN), count=str(rng.randint(2, 12)),
                callno=rng.choice(["823.914", "510.7 MAT", "004.6 NET", "947.08", "641.5 COO"]), lang=rng.choice(V8_LANGS),
                gallery=str(rng.randint(1, 40)), garment=rng.choice(V8_GARMENTS), program=rng.choice(V8_PROGRAMS),
                kg=str(rng.randint(3, 12)), error=rng.choice(V8_ERRORS), port=rng.choice(["8443", "3389", "22", "1883", "443"]),
                temp=f"{rng.randint(16, 25)}.{rng.choice([0, 5])}", pct=str(rng.choice([5, 10, 15, 20, 25, 30, 40, 50])))


V8_EMOJI = [" 🚗", " 🔧", " 🎓", " 🏛️", " 🏠", " 💼", " ⚽", " 📚", " 🧺", " 💻", " 💡", " 🙏"]


def _with_emoji_v8(text: str) -> str:
    return text + V8_EMOJI[sum(map(ord, text)) % len(V8_EMOJI)]


V8_SIGN_OFFS = [" thx", " pls help", " ty", " asap pls", " tia"]


def _with_sign_off_v8(text: str) -> str:
    return text.rstrip("?.!") + V8_SIGN_OFFS[sum(map(ord, text)) % len(V8_SIGN_OFFS)]


CLEAN_V8 = CleanRecipe("v8", V8_FREE_CLEAN, V8_CLEAN_TEMPLATES, V8_CURRENCIES, V8_BRANDS, V8_PLACES, V8_PRODUCTS, V8_PAY,
                       V8_STARTS, V8_MONTHS, ((0.1, str.lower), (0.14, str.upper), (0.21, _no_closing_punctuation),
                                              (0.25, _exclaimed), (0.31, _with_emoji_v8), (0.36, _with_sign_off_v8)), extra=_extra_v8)


def build_clean_v8(seed: int, n: int) -> list[dict]:
    """Like ``build_clean_v7``: templates drawn until ``n`` distinct sentences are made, the draws in a fixed order."""
    seen: set[str] = set()
    rows = []
    for row in build_clean_heldout(CLEAN_V8, seed, n * 3):
        if row["text"] not in seen:
            seen.add(row["text"])
            rows.append(row)
        if len(rows) == n:
            return rows
    raise RuntimeError(f"only {len(rows)} distinct clean sentences")


# ---------------------------------------------------------------------------
# Held-out set v9 (round 9), the pair after v8. Everything below was written without running the
# scrubber and without reading it, its tests or its error reports: twelve locales used in no
# earlier set (Hindi, Gujarati and Marathi India, Bangla Bangladesh, Hausa, Yoruba and Igbo
# Nigeria, Saudi, Jordanian, Bahraini and Palestinian Arabic, and Macedonian), names mostly
# romanised as in a chat in English and about one in eight in the locale's own script or spelling
# (Devanagari, Gujarati, Bengali, Arabic, Cyrillic, Yoruba and Igbo with their tone marks), with
# each locale's own conventions (Gujarati -bhai/-ben, Marathi father's name in the middle and
# surname-first forms, Bangladeshi Md./Mst. and home names, Nigerian professional titles
# Engr./Barr./Pharm. and Alhaji/Chief/Nze, Arabic bin/bint and Abu/Umm kunyas, Macedonian
# -ski/-ska); cue phrases and value shapes written fresh from how people write to removal firms,
# pawnbrokers and gold-loan companies, opticians, self-storage operators, diagnostic labs,
# florists and gift delivery, matrimonial sites, translation and attestation agencies, accountants
# and tax preparers, newspaper and magazine subscriptions, pest-control firms and visa and
# immigration consultants; streets, postcodes, phone numbers, national numbers and IBANs written
# by hand from each country's real shapes (phone numbers checked with `phonenumbers`; national
# numbers that python-stdnum knows checked with it: the Indian EPIC, VID and Aadhaar, the
# Palestinian identity number with the Israeli check it shares, the Macedonian EMBG with the EMŠO
# check, the Saudi identity number with its Luhn check; IBANs of the locales' own countries with
# Saudi, Jordanian, Bahraini, Palestinian and Macedonian bank codes and the Macedonian national
# check, and of the Gulf and European countries where people from these countries bank abroad,
# Sweden among them, the one country of the IBAN registry no earlier set drew (Faker's Swedish
# locale gave British IBANs in v2); cards Luhn-valid, with mada, Verve and RuPay; Palestine has no
# postcodes in everyday use, so none are drawn there); e-mail obfuscations no earlier set used
# ("at the rate", a missing at sign, typo'd webmail domains, a space after the dot, a
# left-to-right mark, the Arabic comma, "on gmail", the Macedonian word for the at sign); dates of
# birth also in the Bengali (Bangabda) calendar, Saudi Hijri dates as written on Saudi papers,
# Levantine month names, Roman-numeral months, and Devanagari, Gujarati, Bengali and Arabic-Indic
# digits; look-alikes from those domains (cartons and m³, gold carats and grams, lens
# prescriptions, unit sizes, lab results, stems, heights and age ranges, word counts, assessment
# years and forms, editions, BHK, warranty visits, test scores, CRS points, flight numbers) beside
# the values; clean sentences from those domains with brands named after people and with
# honorifics (Dr Lal PathLabs, Grant Thornton, Truly Nolen, Mister Spex), local currencies,
# payment methods and festivals. Dates are drawn from the seed, so a rebuild is byte for byte the
# same.
# ---------------------------------------------------------------------------
V9_LOCALES = ["hi_IN", "gu_IN", "mr_IN", "bn_BD", "ha_NG", "yo_NG", "ig_NG", "ar_SA", "ar_JO", "ar_BH", "ar_PS", "mk_MK"]
V9_TEMPLATES: dict[str, list[str]] = {
    "PERSON": ["the movers' supervisor, {v}, said the wardrobe won't fit in the lift", "the shifting is booked under {v}, I'm his brother",
               "the gold loan is in my mother's name, {v}", "pledge holder: {v}", "the optometrist, {v}, said my power went up",
               "the glasses are for my father {v}, he can't come to the store", "the storage unit is rented by {v}, I'm only the alternate contact",
               "patient name on the report: {v}", "the phlebotomist {v} came at 7 and left without taking the sample",
               "the card with the bouquet should say 'from {v}'", "please hand the flowers to {v} at the reception",
               "the profile I'm reporting is {v}, it looks fake", "my son's profile was made by his uncle, {v}",
               "the translator, {v}, spelled my surname three different ways", "the name on the birth certificate is {v}",
               "my CA, {v}, has already filed the return", "the return is for my wife, {v}",
               "the paper is still addressed to {v}, who moved out years ago", "gift subscription for my grandfather {v}",
               "the pest control technician, {v}, sprayed only the kitchen", "the visa file is for {v}, my dependant",
               "the consultant handling my file is {v} and he never picks up", "sponsor's name: {v}",
               "Thanks and regards,\n{v}", "Yours faithfully,\n{v}", "Warm regards\n{v}", "Dhanyavaad,\n{v}", "Nagode,\n{v}",
               "Ẹ ṣé,\n{v}", "Daalụ,\n{v}", "Dhonnobad,\n{v}", "مع التحية،\n{v}", "Со почит,\n{v}", "Attn: {v}",
               "{v} (the applicant's father)", "bride's name: {v}", "the groom's side contact is {v}"],
    "EMAIL": ["send the moving survey to {v}", "the pledge receipt copy should go to {v}", "please email the prescription to {v}",
              "the storage invoices go to {v}", "email the lab report to {v}, not on WhatsApp",
              "the order confirmation for the flowers went to {v}", "the matrimony profile is linked to {v}",
              "send the translated certificate to {v}", "my accountant's email is {v}", "the e-paper login is {v}",
              "the pest control report has to go to {v} for the landlord", "the appointment letter was sent to {v}",
              "email id: {v}", "mail id - {v}", "kindly revert on {v}", "alternate email {v}", "my email is {v} (small letters)",
              "the receipt came to {v}, which I don't use any more"],
    "PHONE": ["the movers can call {v} on the day", "the truck driver should ring {v} from the gate", "the gold loan OTP comes to {v}",
              "registered mobile no. {v}", "the store can call {v} when the glasses are ready",
              "the storage gate app is linked to {v}", "the phlebotomist can call {v} before the home collection",
              "the florist should call {v} if nobody opens", "the matrimony site shows {v} to everyone, please hide it",
              "the translator can WhatsApp me on {v}", "my CA's office number is {v}", "the hawker can call {v} if the paper is late",
              "the pest control team should call {v} half an hour before", "the visa centre SMS goes to {v}",
              "contact no: {v}", "cell: {v}", "mobile (WhatsApp/Viber): {v}", "call me back on {v}, the other number is off"],
    "ADDRESS": ["pickup address for the shifting: {v}", "drop address - {v}", "the gold can be released at the branch, my address is {v}",
                "deliver the glasses to {v}", "the storage contract lists {v} as my home",
                "home sample collection at {v}", "deliver the cake and flowers to {v}", "residential address on the profile: {v}",
                "the address on the translated rent agreement is {v}", "registered address for the tax return: {v}",
                "deliver the paper to {v} from Monday", "the treatment is for the flat at {v}", "address on the visa form: {v}",
                "current address:\n{v}", "ship to:\n{v}", "the movers go from {v} to the new flat"],
    "POSTCODE": ["do you do home sample collection in {v}?", "can the movers pick up from {v}?", "any branch near pin code {v}?",
                 "the florist says {v} is outside the delivery area", "is the newspaper delivered in {v}?",
                 "is pest control available in {v}?", "PIN: {v}", "the visa form rejects postal code {v}",
                 "nearest storage facility to {v}?", "post code {v} for the tax form", "which optician is closest to {v}?"],
    "DATE_OF_BIRTH": ["patient DOB: {v}", "date of birth (as per passport): {v}", "the gold loan KYC has my birth date as {v}, it's wrong",
                      "the profile says born {v}", "DOB on the birth certificate translation - {v}", "born {v}, for the senior citizen discount",
                      "the lab needs the date of birth on the report: {v}", "taxpayer's date of birth {v}",
                      "the visa form wants my date of birth, {v}", "D.O.B. {v}", "booking the eye test for my mother, born {v}",
                      "date of birth / تاريخ الميلاد: {v}"],
    "IP_ADDRESS": ["the tax portal locked me out after a login from {v}", "the e-paper allows one device, it shows {v}",
                   "the matrimony site flagged a login from {v}", "the storage unit camera is at {v}",
                   "the lab report link was opened from {v}, not by me", "the visa site blocks {v} as a bot",
                   "my CA uploaded the files from {v}", "please allowlist {v} for the e-paper", "the gold loan app says suspicious login from {v}",
                   "NAT IP {v}", "ping {v} times out", "IP of the DVR: {v}", "the router page at {v} doesn't load"],
    "IBAN": ["refund the moving deposit to {v}", "the gold loan surplus can go to {v}", "refund for the cancelled glasses to {v}",
             "storage rent by standing order from {v}", "refund the lab fee to {v}", "the tax refund should go to {v}",
             "refund the annual newspaper plan to {v}", "visa fee refund to {v}", "credit the pest control refund to {v}",
             "beneficiary IBAN: {v}", "IBAN no. {v}", "my salary account abroad is {v}"],
    "NATIONAL_ID": ["voter ID {v} for the KYC", "KYC for the gold loan: {v}", "the translator wrote my ID number as {v}",
                    "the lab report needs the ID number {v}", "the storage contract needs my ID, it's {v}", "my BVN is {v}",
                    "Iqama / national ID: {v}", "national number {v}", "CPR {v}", "ЕМБГ: {v}", "my NID number is {v}",
                    "the visa form asks for ID no. {v}", "taxpayer ID {v}", "ID number on the attested copy - {v}",
                    "passport no. {v} for the appointment", "licence number {v}"],
    "USERNAME": ["the matrimony app username {v}", "my login for the e-paper is {v}", "the lab app user {v}", "the gold loan app login: {v}",
                 "storage portal username {v}", "my Instagram is {v}, the florist tagged the wrong one", "Telegram: {v}",
                 "my tax portal user ID is {v}", "the visa account {v} is locked", "LinkedIn: {v}",
                 "the pest control app shows me as {v}", "user ID - {v}", "the translator's portal account is {v}"],
    "CARD": ["the movers took the advance from {v}", "the gold loan interest is auto-debited from {v}", "the glasses were paid with {v}",
             "storage rent renews on {v}", "the lab test was charged to {v}", "the flowers were paid with {v} but the app says failed",
             "the premium membership charged {v} twice", "the translation fee went on {v}", "the accountant's fee was taken from {v}",
             "the newspaper plan renews on {v}", "the pest control AMC was paid with {v}", "the courier fee at the visa centre went on {v}"],
    "ORDER_ID": ["shifting order {v}", "pledge no. {v}", "spectacle order {v}", "unit agreement {v}", "sample ID {v}", "flower order {v}",
                 "translation job {v}", "ITR acknowledgement {v}", "subscription no. {v}", "service request {v}", "application ref {v}",
                 "booking {v} at the visa centre", "complaint no. {v}", "quote ref. {v}"],
}
# Romanised names as people of each locale write them in an English message: (male, female, family)
V9_NAMES = {
    "hi_IN": (["Rahul", "Amit", "Rajesh", "Sunil", "Vikas", "Ankit", "Deepak", "Sanjay", "Manoj", "Rohit", "Ajay", "Pankaj",
               "Abhishek"],
              ["Pooja", "Neha", "Priyanka", "Sunita", "Anjali", "Ritu", "Kavita", "Shalini", "Swati", "Nisha", "Aarti", "Shweta"],
              ["Sharma", "Verma", "Gupta", "Singh", "Yadav", "Mishra", "Tiwari", "Agarwal", "Chauhan", "Srivastava", "Pandey",
               "Saxena", "Rastogi", "Tripathi", "Dubey"]),
    "gu_IN": (["Rakesh", "Jignesh", "Hardik", "Bhavesh", "Mehul", "Chirag", "Nilesh", "Dhaval", "Ketan", "Paresh", "Hitesh",
               "Kalpesh"],
              ["Hetal", "Nirali", "Komal", "Bhavna", "Falguni", "Dhara", "Krupa", "Jinal", "Payal", "Mittal", "Nidhi", "Riddhi"],
              ["Patel", "Shah", "Desai", "Mehta", "Joshi", "Trivedi", "Parikh", "Pandya", "Bhatt", "Vyas", "Solanki", "Panchal",
               "Thakkar", "Raval", "Dave"]),
    "mr_IN": (["Sachin", "Ganesh", "Prashant", "Swapnil", "Omkar", "Nitin", "Sandeep", "Mahesh", "Aniket", "Tushar", "Yogesh",
               "Vinayak"],
              ["Snehal", "Pallavi", "Sayali", "Ashwini", "Madhuri", "Rupali", "Prajakta", "Sonali", "Manasi", "Ketaki", "Shruti",
               "Vaishali"],
              ["Patil", "Deshmukh", "Kulkarni", "Jadhav", "Pawar", "Shinde", "Deshpande", "Gaikwad", "Kale", "More", "Bhosale",
               "Sawant", "Chavan", "Wagh", "Apte"]),
    "bn_BD": (["Rafiqul", "Mizanur", "Shahidul", "Kamrul", "Tanvir", "Sabbir", "Rakib", "Arif", "Mahmudul", "Nazmul", "Imran",
               "Sohel", "Anisur"],
              ["Nasrin", "Sharmin", "Farzana", "Taslima", "Rumana", "Sadia", "Nusrat", "Tahmina", "Shirin", "Afroza", "Jannatul",
               "Mahmuda"],
              ["Islam", "Rahman", "Hossain", "Ahmed", "Uddin", "Chowdhury", "Khan", "Sarker", "Haque", "Alam", "Talukder", "Mia",
               "Bhuiyan", "Das", "Roy"]),
    "ha_NG": (["Musa", "Ibrahim", "Abubakar", "Usman", "Sani", "Aminu", "Bashir", "Nasiru", "Yusuf", "Lawal", "Garba", "Kabiru",
               "Auwal"],
              ["Aisha", "Hauwa", "Zainab", "Amina", "Fatima", "Hadiza", "Maryam", "Rabi", "Bilkisu", "Khadija", "Safiya", "Halima"],
              ["Abdullahi", "Bello", "Sule", "Danjuma", "Mohammed", "Aliyu", "Umar", "Yakubu", "Haruna", "Isa", "Shehu", "Tukur",
               "Jibril", "Bala", "Adamu"]),
    "yo_NG": (["Oluwaseun", "Adebayo", "Tunde", "Femi", "Olumide", "Kayode", "Babatunde", "Segun", "Dapo", "Ayodele", "Gbenga",
               "Tobi"],
              ["Folake", "Bukola", "Yetunde", "Funmilayo", "Adeola", "Omolara", "Titilayo", "Kemi", "Temitope", "Bisola", "Ronke",
               "Damilola"],
              ["Adeyemi", "Ogunleye", "Adebisi", "Olawale", "Ajayi", "Oladipo", "Akinola", "Ogundipe", "Adewale", "Balogun",
               "Afolabi", "Ogunbiyi", "Oyelaran", "Akintola", "Oyeleke"]),
    "ig_NG": (["Chukwuemeka", "Obinna", "Chinedu", "Ikenna", "Emeka", "Nnamdi", "Uchenna", "Kelechi", "Chibuike", "Ifeanyi",
               "Somto", "Tochukwu"],
              ["Ngozi", "Chiamaka", "Adaeze", "Nneka", "Ifeoma", "Chioma", "Uju", "Amarachi", "Obiageli", "Ebere", "Chinwe",
               "Ogechi"],
              ["Okafor", "Okonkwo", "Eze", "Nwosu", "Obi", "Okeke", "Nwachukwu", "Onyeka", "Udeh", "Ibe", "Agu", "Nwankwo", "Ezeh",
               "Okoro", "Anyanwu"]),
    "ar_SA": (["Abdullah", "Mohammed", "Faisal", "Saud", "Turki", "Khalid", "Nasser", "Sultan", "Bandar", "Fahad", "Majed",
               "Abdulaziz", "Saad"],
              ["Noura", "Reem", "Hessa", "Lama", "Sara", "Abeer", "Haifa", "Mashael", "Dana", "Wejdan", "Ghada", "Njood"],
              ["Al-Qahtani", "Al-Otaibi", "Al-Ghamdi", "Al-Harbi", "Al-Dosari", "Al-Shehri", "Al-Zahrani", "Al-Mutairi", "Al-Anazi",
               "Al-Subaie", "Al-Shammari", "Al-Malki", "Al-Juhani", "Al-Rashidi", "Al-Amri"]),
    "ar_JO": (["Omar", "Ahmad", "Mohammad", "Zaid", "Laith", "Hamzeh", "Yazan", "Ammar", "Odai", "Rami", "Bashar", "Fadi", "Issa"],
              ["Rania", "Dana", "Lina", "Ruba", "Haneen", "Tamara", "Bayan", "Razan", "Sawsan", "Dima", "Rasha", "Muna"],
              ["Haddad", "Khouri", "Al-Zoubi", "Obeidat", "Al-Masri", "Nabulsi", "Tarawneh", "Majali", "Bataineh", "Khasawneh",
               "Qudah", "Shdeifat", "Hijazi", "Abu Rumman", "Saleh"]),
    "ar_BH": (["Ali", "Hussain", "Ebrahim", "Jaffar", "Yusuf", "Hasan", "Abbas", "Ahmed", "Khalil", "Mahmood", "Redha", "Jassim"],
              ["Fatema", "Zahra", "Maryam", "Zainab", "Noor", "Hawra", "Latifa", "Eman", "Sawsan", "Batool", "Hanan", "Amal"],
              ["Al-Aali", "Bucheeri", "Al-Sayed", "Al-Mahroos", "Fakhro", "Al-Awadhi", "Al-Jishi", "Janahi", "Al-Mannai", "Al-Khaja",
               "Buhiji", "Al-Arrayed", "Matar", "Al-Hashimi", "Abdulla"]),
    "ar_PS": (["Ahmad", "Mohammad", "Khalil", "Yousef", "Mahmoud", "Saleh", "Tamer", "Ibrahim", "Sami", "Nidal", "Majd", "Hani",
               "Issa"],
              ["Lina", "Samar", "Hiba", "Rawan", "Nour", "Aseel", "Shireen", "Mays", "Haya", "Rasha", "Suha", "Maysa"],
              ["Barghouti", "Nassar", "Khalidi", "Husseini", "Nashashibi", "Abu Hashem", "Shaath", "Masri", "Tamimi", "Jaber", "Awad",
               "Qasem", "Odeh", "Abu Eid", "Sabbagh"]),
    "mk_MK": (["Goran", "Bojan", "Aleksandar", "Nikola", "Dragan", "Zoran", "Vladimir", "Filip", "Stefan", "Darko", "Igor", "Marjan",
               "Trajče"],
              ["Marija", "Elena", "Biljana", "Ivana", "Snežana", "Vesna", "Jovana", "Ana", "Simona", "Katerina", "Gordana", "Maja"],
              ["Petrovski", "Nikolovski", "Stojanovski", "Trajkovski", "Dimitrievski", "Jovanovski", "Angelovski", "Georgievski",
               "Stefanovski", "Ristovski", "Kostov", "Mitrev", "Iliev", "Popovski", "Todorov"]),
}
V9_BD_WOMEN_FAMILY = ["Akter", "Begum", "Khatun", "Sultana", "Islam", "Rahman", "Jahan"]
# Names in the locale's own spelling where Faker has none: (given, family, female?)
V9_NATIVE_NAMES = {
    "yo_NG": [("Olúwaṣeun", "Adébáyọ̀", False), ("Babátúndé", "Ògúnlèyẹ", False), ("Ayọ̀délé", "Àjàyí", False),
              ("Fọláké", "Adéyẹmí", True), ("Yétúndé", "Oláwálé", True), ("Títílayọ̀", "Afọlábí", True)],
    "ig_NG": [("Chukwuemeka", "Ọkọnkwọ", False), ("Ikechukwu", "Nwọsụ", False), ("Ọbịnna", "Okeke", False),
              ("Ngọzị", "Ọkafọ", True), ("Adaeze", "Nwachụkwụ", True), ("Ifeọma", "Eze", True)],
    "ar_JO": [("عمر", "الزعبي", False), ("ليث", "العبيدات", False), ("يزن", "الطراونة", False), ("رانيا", "حداد", True),
              ("لينا", "الخوري", True), ("حنين", "البطاينة", True)],
    "ar_BH": [("علي", "العالي", False), ("حسين", "بوجيري", False), ("جعفر", "الجشي", False), ("فاطمة", "المحروس", True),
              ("زهراء", "جناحي", True), ("مريم", "فخرو", True)],
}
V9_FAKER_NATIVE = ("hi_IN", "gu_IN", "mr_IN", "bn_BD", "ar_SA", "ar_PS", "mk_MK")
V9_MK_LATIN = str.maketrans({"а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "ѓ": "gj", "е": "e", "ж": "zh", "з": "z",
                             "ѕ": "dz", "и": "i", "ј": "j", "к": "k", "л": "l", "љ": "lj", "м": "m", "н": "n", "њ": "nj",
                             "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "ќ": "kj", "у": "u", "ф": "f", "х": "h",
                             "ц": "c", "ч": "ch", "џ": "dzh", "ш": "sh"})
V9_ASCII = str.maketrans({"č": "c", "Č": "C", "š": "s", "Š": "S", "ž": "z", "Ž": "Z", "ṣ": "s", "ọ": "o", "ẹ": "e", "ị": "i",
                          "ụ": "u", "á": "a", "à": "a", "é": "e", "è": "e", "í": "i", "ì": "i", "ó": "o", "ò": "o", "ú": "u",
                          "ù": "u", "\u0300": "", "\u0301": ""})


def _mk_female_v9(family: str) -> str:
    """A Macedonian family name as a woman bears it: -ski becomes -ska, -ov and -ev take an -a."""
    if family.endswith("ski"):
        return family[:-1] + "a"
    return family + "a" if family.endswith(("ov", "ev")) else family


def _names_v9(f, rng: random.Random) -> tuple[str, str, str, bool, bool]:
    """(given, family, the full name as the locale writes it, female?, own script or spelling?)."""
    loc = f._locales[0]
    female = rng.random() < 0.5
    native = rng.random() < 0.13 and loc not in ("ha_NG",)
    if native and loc in V9_NATIVE_NAMES:
        given, family, female = rng.choice(V9_NATIVE_NAMES[loc])
        return given, family, f"{given} {family}", female, True
    if native and loc in V9_FAKER_NATIVE:
        given = f.first_name_female() if female else f.first_name_male()
        family = (f.last_name_female() if female else f.last_name_male()) if loc == "mk_MK" else f.last_name()
        return given, family, f"{given} {family}", female, True
    male_names, female_names, families = V9_NAMES[loc]
    given = rng.choice(female_names if female else male_names)
    if loc == "bn_BD" and female:
        family = rng.choice(V9_BD_WOMEN_FAMILY)
    else:
        family = rng.choice(families)
        if loc == "mk_MK" and female:
            family = _mk_female_v9(family)
    return given, family, f"{given} {family}", female, False


V9_TITLES = {  # (for men, for women)
    "hi_IN": (["Shri", "Mr.", "Dr.", "Er."], ["Smt.", "Mrs.", "Ms.", "Dr.", "Kumari"]),
    "gu_IN": (["Shri", "Mr.", "Dr.", "CA"], ["Smt.", "Mrs.", "Dr.", "CA"]),
    "mr_IN": (["Shri.", "Mr.", "Dr.", "Adv."], ["Sau.", "Smt.", "Kum.", "Dr.", "Adv."]),
    "bn_BD": (["Md.", "Mohammad", "Engr.", "Dr."], ["Mst.", "Mrs.", "Dr.", "Engr."]),
    "ha_NG": (["Alhaji", "Mallam", "Engr.", "Dr.", "Barr."], ["Hajiya", "Mrs.", "Dr.", "Barr.", "Pharm."]),
    "yo_NG": (["Chief", "Engr.", "Pastor", "Prince", "Dr.", "Arc."], ["Mrs.", "Alhaja", "Chief (Mrs.)", "Pharm.", "Dr.", "Princess"]),
    "ig_NG": (["Chief", "Nze", "Engr.", "Barr.", "Sir"], ["Lolo", "Ezinne", "Barr. (Mrs.)", "Mrs.", "Dr."]),
    "ar_SA": (["Sheikh", "Eng.", "Dr.", "Mr."], ["Dr.", "Eng.", "Ms.", "Mrs."]),
    "ar_JO": (["Eng.", "Dr.", "Mr.", "Ustaz"], ["Eng.", "Dr.", "Mrs.", "Ms."]),
    "ar_BH": (["Sayed", "Haji", "Eng.", "Dr.", "Mr."], ["Sayeda", "Dr.", "Mrs.", "Ms."]),
    "ar_PS": (["Ustaz", "Dr.", "Eng.", "Mr."], ["Ustaza", "Dr.", "Mrs.", "Ms."]),
    "mk_MK": (["g-din", "Dr.", "Prof.", "Mr."], ["g-gja", "Dr.", "Prof.", "Mrs."]),
}
V9_FAMILY_ONLY_TITLES = ("g-din", "g-gja", "Mr.", "Mrs.", "Ms.")
V9_GIVEN_ONLY_TITLES = ("Mallam", "Ustaz", "Ustaza", "Sayed", "Sayeda", "Haji", "Sir")
V9_NATIVE_TITLES = {"hi_IN": (["श्री", "डॉ."], ["श्रीमती", "सुश्री"]), "mr_IN": (["श्री.", "डॉ."], ["सौ.", "श्रीमती"]),
                    "gu_IN": (["શ્રી"], ["શ્રીમતી"]), "bn_BD": (["জনাব", "মোঃ"], ["মোসাঃ", "বেগম"]),
                    "ar_SA": (["الأستاذ", "المهندس", "الشيخ"], ["الأستاذة", "الدكتورة"]), "ar_PS": (["الأستاذ", "الدكتور"], ["الأستاذة", "السيدة"]),
                    "ar_JO": (["المهندس", "الدكتور"], ["المهندسة", "السيدة"]), "ar_BH": (["السيد", "الحاج"], ["السيدة", "الحاجة"]),
                    "mk_MK": (["г-дин"], ["г-ѓа"])}


def _person_v9(f, rng: random.Random) -> str:
    loc = f._locales[0]
    given, family, full, female, native = _names_v9(f, rng)
    if native:
        r = rng.random()
        if loc in V9_NATIVE_TITLES and r < 0.3:
            title = rng.choice(V9_NATIVE_TITLES[loc][1 if female else 0])
            return f"{title} {family}" if loc == "mk_MK" else f"{title} {full}"
        if loc == "mk_MK" and r < 0.5:
            return f"{family} {given}"  # surname first, as on forms
        return full
    r = rng.random()
    if r < 0.09:
        return full.lower()
    if r < 0.11:
        return full.upper()  # as on a form filled in capitals
    if r < 0.25:
        title = rng.choice(V9_TITLES[loc][1 if female else 0])
        if title in V9_FAMILY_ONLY_TITLES and loc not in ("bn_BD",):
            return f"{title} {family}"
        if title in V9_GIVEN_ONLY_TITLES:
            return f"{title} {given}"
        return f"{title} {full}"
    if r < 0.4:
        if loc == "hi_IN":
            if rng.random() < 0.5:
                return f"{given} {rng.choice(['Kumar', 'Prasad', 'Kumari', 'Devi']) if not female else rng.choice(['Kumari', 'Devi'])} {family}"
            return f"{family} ji" if rng.random() < 0.5 else f"{given[0]}.{rng.choice('KPS')}. {family}"
        if loc == "gu_IN":
            father = rng.choice(["Magan", "Ramesh", "Dinesh", "Kanti", "Jayanti", "Mahesh", "Natvar"])
            if rng.random() < 0.5:
                return f"{given}{'ben' if female else 'bhai'} {family}"
            return f"{family} {given}{'' if female else 'kumar'} {father}bhai"  # surname, given, father's name, as on forms
        if loc == "mr_IN":
            father = rng.choice(["Ramesh", "Suresh", "Dattatray", "Vasant", "Prakash", "Shankar", "Vitthal"])
            if rng.random() < 0.5:
                return f"{given} {father} {family}"
            return f"{family} {given} {father}"
        if loc == "bn_BD":
            if rng.random() < 0.35:
                return rng.choice(["Rony", "Shuvo", "Tuli", "Mithu", "Babu", "Rumi", "Polash", "Munni"])  # the home name
            return f"{'Mst.' if female else 'Md.'} {given} {family}"
        if loc in ("ha_NG", "yo_NG", "ig_NG"):
            if rng.random() < 0.4:
                return f"{given[0]}. {rng.choice('ABCEFIMNOST')}. {family}"
            if female and rng.random() < 0.6:
                maiden = rng.choice([n for n in V9_NAMES[loc][2] if n != family])
                return f"Mrs. {given} {family}-{maiden}"  # the maiden name kept after a hyphen
            return f"{family} {given}"  # surname first, as on a school register
        if loc in ("ar_SA", "ar_JO", "ar_BH", "ar_PS"):
            father = rng.choice([n for n in V9_NAMES[loc][0] if n != given])
            if rng.random() < 0.35:
                return f"{'Umm' if female else 'Abu'} {rng.choice(V9_NAMES[loc][0])}"  # called after the eldest son
            if loc == "ar_SA":
                return f"{given} {'bint' if female else 'bin'} {father} {family}"
            return f"{given} {father} {family}"
        if loc == "mk_MK":
            return f"{family} {given}" if rng.random() < 0.5 else full.translate(V9_ASCII)  # typed without the háček
    if r < 0.48:
        return given
    if r < 0.54:
        return f"{given} {family[0]}."
    return full


V9_MAIL_DOMAINS = {"hi_IN": ["gmail.com", "yahoo.co.in", "rediffmail.com", "outlook.com", "du.ac.in", "iitd.ac.in", "hotmail.com"],
                   "gu_IN": ["gmail.com", "yahoo.co.in", "yahoo.com", "gtu.edu.in", "nirmauni.ac.in", "outlook.com"],
                   "mr_IN": ["gmail.com", "yahoo.com", "rediffmail.com", "unipune.ac.in", "mu.ac.in", "hotmail.com"],
                   "bn_BD": ["gmail.com", "yahoo.com", "du.ac.bd", "buet.ac.bd", "northsouth.edu", "hotmail.com"],
                   "ha_NG": ["gmail.com", "yahoo.com", "abu.edu.ng", "buk.edu.ng", "ymail.com"],
                   "yo_NG": ["gmail.com", "yahoo.com", "unilag.edu.ng", "ui.edu.ng", "oauife.edu.ng", "hotmail.com"],
                   "ig_NG": ["gmail.com", "yahoo.com", "unn.edu.ng", "futo.edu.ng", "ymail.com"],
                   "ar_SA": ["gmail.com", "hotmail.com", "outlook.sa", "ksu.edu.sa", "kau.edu.sa", "icloud.com"],
                   "ar_JO": ["gmail.com", "yahoo.com", "hotmail.com", "ju.edu.jo", "just.edu.jo", "icloud.com"],
                   "ar_BH": ["gmail.com", "hotmail.com", "batelco.com.bh", "uob.edu.bh", "icloud.com"],
                   "ar_PS": ["gmail.com", "hotmail.com", "birzeit.edu", "najah.edu", "yahoo.com"],
                   "mk_MK": ["gmail.com", "yahoo.com", "t-home.mk", "ukim.edu.mk", "hotmail.com", "live.com"]}
# Webmail domains as they get mistyped (and the typo), and the locales whose people say "at the rate" for the at sign
V9_DOMAIN_TYPOS = {"gmail.com": ["gmial.com", "gmail.con", "gamil.com", "gmail.co", "gmai.com"], "yahoo.com": ["yahooo.com", "yaho.com"],
                   "hotmail.com": ["hotmial.com", "hotmail.con"], "yahoo.co.in": ["yahoo.co.on", "yhaoo.co.in"]}
V9_AT_THE_RATE = ("hi_IN", "gu_IN", "mr_IN", "bn_BD")
V9_ARABIC = ("ar_SA", "ar_JO", "ar_BH", "ar_PS")
V9_WEBMAIL = ("gmail", "yahoo", "hotmail", "outlook", "icloud", "ymail", "rediffmail")


def _local_part_v9(f, rng: random.Random) -> str:
    given, family, _, _, native = _names_v9(f, rng)
    if native:
        given, family, _, _, native = _names_v9(f, rng)
    clean = lambda s: s.translate(V9_ASCII).lower().replace(" ", "").replace("-", "").replace(".", "").replace("'", "")  # noqa: E731
    if native or not (clean(given) + clean(family)).isascii():
        return f"{rng.choice(['info', 'home', 'office', 'family', 'mail'])}{_digits_v6(rng, 3)}"
    given, family = clean(given), clean(family)
    return rng.choice([f"{given}.{family}", f"{given}{family}", f"{given}{family[0]}", f"{family}.{given}", f"{given}_{family}",
                       f"{given}{rng.randint(1975, 2006)}", f"{given}.{family}{rng.randint(1, 99):02d}", f"{given[0]}{family}{rng.randint(1, 9)}",
                       f"{family}{given}"])


def _email_v9(f, rng: random.Random) -> str:
    loc = f._locales[0]
    local = _local_part_v9(f, rng)
    domain = rng.choice(V9_MAIL_DOMAINS[loc])
    name, tld = domain.split(".", 1)
    r = rng.random()
    if r < 0.1 and loc in V9_AT_THE_RATE:  # how the at sign is read out in India and Bangladesh
        return rng.choice([f"{local} at the rate {domain}", f"{local} at the rate {name} dot {tld.replace('.', ' dot ')}",
                           f"{local}(at the rate){domain}", f"{local} attherate {domain}"])
    if r < 0.16 and domain in V9_DOMAIN_TYPOS:
        return f"{local}@{rng.choice(V9_DOMAIN_TYPOS[domain])}"  # the webmail domain mistyped
    if r < 0.22:
        return f"{local} {domain}"  # the at sign left out
    if r < 0.28:
        return f"{local}@{name}. {tld}"  # the phone keyboard put a space after the dot
    if r < 0.33 and name in V9_WEBMAIL:
        return f"{local} on {name}"  # "it's rahul.sharma on gmail"
    if r < 0.39 and loc in V9_ARABIC:
        return f"{local}\u200e@{domain}"  # a left-to-right mark, as an Arabic keyboard inserts around Latin text
    if r < 0.44 and loc in V9_ARABIC:
        return f"{local}@{name}\u060c{tld}"  # the Arabic comma typed for the dot
    if r < 0.48 and loc == "mk_MK":
        return f"{local} мајмунче {domain}"  # the Macedonian word for the at sign, "little monkey"
    if r < 0.53:
        return f"{local.upper()}@{domain}"  # the name part in capitals, the domain as autocomplete filled it
    return f"{local}@{domain}"


# (country code, trunk prefix, mobile prefixes, digits after them, landline (prefix, digits after it))
V9_IN_MOBILE = ["98", "99", "97", "96", "95", "94", "93", "91", "90", "89", "88", "87", "86", "85", "84", "83", "82", "81", "80",
                "79", "78", "77", "76", "75", "74", "73", "72", "70", "63", "62"]
V9_NG_MOBILE = ["803", "806", "813", "816", "703", "706", "810", "814", "903", "906", "805", "807", "815", "811", "905", "802",
                "808", "812", "701", "708", "902", "907", "809", "817", "818", "909", "908", "916", "913", "704", "915"]
V9_PHONE = {
    "hi_IN": ("91", "0", V9_IN_MOBILE, 8, [("11", 8), ("522", 7), ("141", 7), ("120", 7)]),
    "gu_IN": ("91", "0", V9_IN_MOBILE, 8, [("79", 8), ("261", 7), ("265", 7), ("281", 7)]),
    "mr_IN": ("91", "0", V9_IN_MOBILE, 8, [("22", 8), ("20", 8), ("712", 7), ("253", 7)]),
    "bn_BD": ("880", "0", ["13", "14", "15", "16", "17", "18", "19"], 8, [("2", 8), ("41", 6), ("255", 6)]),
    "ha_NG": ("234", "0", V9_NG_MOBILE, 7, [("209", 7), ("2064", 6), ("2062", 6)]),
    "yo_NG": ("234", "0", V9_NG_MOBILE, 7, [("201", 7), ("2022", 6), ("2039", 6)]),
    "ig_NG": ("234", "0", V9_NG_MOBILE, 7, [("2042", 6), ("2046", 6), ("2083", 6)]),
    "ar_SA": ("966", "0", ["50", "53", "54", "55", "56", "57", "58", "59"], 7, [("11", 7), ("12", 7), ("13", 7)]),
    "ar_JO": ("962", "0", ["77", "78", "79"], 7, [("6", 7), ("2", 7), ("32", 6)]),
    "ar_BH": ("973", "", ["33", "34", "35", "36", "37", "38", "39"], 6, [("17", 6)]),
    "ar_PS": ("970", "0", ["59", "56"], 7, [("22", 6), ("82", 6), ("92", 6)]),
    "mk_MK": ("389", "0", ["70", "71", "72", "75", "76", "77", "78"], 6, [("2", 7), ("46", 6), ("47", 6)]),
}
V9_BENGALI_DIGITS = str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯")
V9_GUJARATI_DIGITS = str.maketrans("0123456789", "૦૧૨૩૪૫૬૭૮૯")
V9_OWN_DIGITS = {"hi_IN": V7_DEVANAGARI_DIGITS, "mr_IN": V7_DEVANAGARI_DIGITS, "gu_IN": V9_GUJARATI_DIGITS,
                 "bn_BD": V9_BENGALI_DIGITS, "ar_SA": V7_ARABIC_DIGITS, "ar_JO": V7_ARABIC_DIGITS, "ar_BH": V7_ARABIC_DIGITS,
                 "ar_PS": V7_ARABIC_DIGITS}


def _phone_v9(f, rng: random.Random) -> str:
    loc = f._locales[0]
    cc, trunk, p, rest, mobile = _phone_digits_v8(loc, rng, V9_PHONE, tries=400, mobile_share=0.82)
    full = p + rest
    if loc.endswith("_IN"):
        shapes = ([f"+91-{full[:5]}-{full[5:]}", f"{full[:5]}-{full[5:]}", f"91{full}", f"+91 {full}", f"{full[:4]} {full[4:7]} {full[7:]}",
                   full, f"{full[:5]} {full[5:]}".translate(V9_OWN_DIGITS[loc])] if mobile else
                  [f"+91-{p}-{rest}", f"0{p} {rest[:-4]} {rest[-4:]}", f"0{p}-{rest}", f"({p}) {rest}"])
    elif loc == "bn_BD":
        national = trunk + full
        shapes = ([f"{national[:5]}-{national[5:]}", f"+880 {full[:4]}-{full[4:]}", f"+880{full}", f"880-{full}", national,
                   f"{national[:5]}-{national[5:]}".translate(V9_BENGALI_DIGITS)] if mobile else
                  [f"0{p}-{rest}", f"+880 {p} {rest}", f"0{p} {rest}"])
    elif loc.endswith("_NG"):
        shapes = ([f"+234 (0) {p} {rest[:3]} {rest[3:]}", f"234-{p}-{rest[:3]}-{rest[3:]}", f"0{full}", f"(0{p}) {rest[:3]} {rest[3:]}",
                   f"0{p} {rest[:3]} {rest[3:]}", f"0{p}-{rest[:3]}-{rest[3:]}", f"+234-{p}-{rest}"] if mobile else
                  [f"0{p[:3]} {p[3:]}{rest[:-4]} {rest[-4:]}", f"+234 {p} {rest}"])
    elif loc == "ar_SA":
        shapes = [f"0{p} {rest[:3]} {rest[3:]}", f"+966 {p} {rest[:3]} {rest[3:]}", f"00966{full}", f"966{full}", f"0{full}",
                  f"+966-{p}-{rest}", f"0{full}".translate(V7_ARABIC_DIGITS)]
    elif loc == "ar_JO":
        shapes = ([f"0{p} {rest[:3]} {rest[3:]}", f"+962 {p[0]} {p[1]}{rest[:3]} {rest[3:]}", f"00962{full}", f"0{full}", f"+962{full}",
                   f"0{p} {rest[:3]} {rest[3:]}".translate(V7_ARABIC_DIGITS)] if mobile else
                  [f"0{p} {rest[:3]} {rest[3:]}", f"+962 {p} {rest}", f"(0{p}) {rest}"])
    elif loc == "ar_BH":
        shapes = [f"{full[:4]} {full[4:]}", f"+973 {full[:4]} {full[4:]}", f"+973-{full}", f"00973 {full}", full, f"(+973) {full}",
                  full.translate(V7_ARABIC_DIGITS)]
    elif loc == "ar_PS":
        shapes = ([f"0{full[:3]}-{full[3:6]}-{full[6:]}", f"+970 {full[:3]} {full[3:6]} {full[6:]}", f"00970{full}", f"+970-{full}",
                   f"0{full[:3]} {full[3:6]} {full[6:]}", f"0{full}".translate(V7_ARABIC_DIGITS)] if mobile else
                  [f"0{p[0]}-{p[1]}{rest[:2]}-{rest[2:]}", f"+970 {p[0]} {p[1]}{rest}"])
    else:  # mk_MK
        shapes = ([f"0{p} {rest[:3]} {rest[3:]}", f"+389 {p} {rest[:3]} {rest[3:]}", f"+389-{p}-{rest}", f"00389 {p} {rest[:3]} {rest[3:]}",
                   f"0{p}-{rest[:3]}-{rest[3:]}", f"0{full}"] if mobile else
                  [f"0{p}/{rest[:-4]}-{rest[-4:]}" if p == "2" else f"0{p}/{rest[:3]}-{rest[3:]}", f"+389 {p} {rest[:3]} {rest[3:]}"])
    return rng.choice(shapes)


# Addresses written by hand from each country's own shapes: (street, locality, city, postcode)
V9_PLACES_OF = {
    "hi_IN": [("Vikas Marg", "Laxmi Nagar", "Delhi", "110092"), ("Aurobindo Marg", "Hauz Khas", "New Delhi", "110016"),
              ("Ring Road", "Lajpat Nagar IV", "New Delhi", "110024"), ("Sector 62", "Noida", "Gautam Buddh Nagar", "201309"),
              ("Vibhuti Khand", "Gomti Nagar", "Lucknow", "226010"), ("Tonk Road", "Malviya Nagar", "Jaipur", "302017"),
              ("Mall Road", "Civil Lines", "Kanpur", "208001")],
    "gu_IN": [("Satellite Road", "Jodhpur Tekra", "Ahmedabad", "380015"), ("C.G. Road", "Navrangpura", "Ahmedabad", "380009"),
              ("S.G. Highway", "Bodakdev", "Ahmedabad", "380054"), ("Ghod Dod Road", "Athwa", "Surat", "395001"),
              ("L.P. Savani Road", "Adajan", "Surat", "395009"), ("Race Course Road", "Alkapuri", "Vadodara", "390007"),
              ("Kalawad Road", "Amin Marg", "Rajkot", "360005")],
    "mr_IN": [("Keluskar Road", "Shivaji Park, Dadar (W)", "Mumbai", "400028"), ("S.V. Road", "Andheri (W)", "Mumbai", "400058"),
              ("Eastern Express Highway", "Thane (W)", "Thane", "400601"), ("F.C. Road", "Shivajinagar", "Pune", "411004"),
              ("Magarpatta Road", "Hadapsar", "Pune", "411028"), ("West High Court Road", "Dharampeth", "Nagpur", "440010"),
              ("College Road", "Gangapur", "Nashik", "422005")],
    "bn_BD": [("Road 11", "Banani", "Dhaka", "1213"), ("Road 27 (old)", "Dhanmondi", "Dhaka", "1209"), ("Gulshan Avenue", "Gulshan 1", "Dhaka", "1212"),
              ("Sector 7, Road 15", "Uttara", "Dhaka", "1230"), ("Agrabad C/A", "Double Mooring", "Chattogram", "4100"),
              ("Zindabazar", "Kotwali", "Sylhet", "3100"), ("KDA Avenue", "Sonadanga", "Khulna", "9100")],
    "ha_NG": [("Zoo Road", "Gyadi-Gyadi", "Kano", "700001"), ("Audu Bako Way", "Nassarawa GRA", "Kano", "700233"),
              ("Ahmadu Bello Way", "Kaduna North", "Kaduna", "800283"), ("Aminu Kano Crescent", "Wuse II", "Abuja", "904101"),
              ("Gwarinpa Estate 1st Avenue", "Gwarinpa", "Abuja", "900108"), ("Sultan Abubakar Road", "Sokoto North", "Sokoto", "840221")],
    "yo_NG": [("Adeola Odeku Street", "Victoria Island", "Lagos", "101241"), ("Bode Thomas Street", "Surulere", "Lagos", "101283"),
              ("Admiralty Way", "Lekki Phase 1", "Lagos", "106104"), ("Allen Avenue", "Ikeja", "Lagos", "100271"),
              ("Ring Road", "Challenge", "Ibadan", "200284"), ("Oke-Ilewo Road", "Abeokuta South", "Abeokuta", "110101")],
    "ig_NG": [("Ogui Road", "Enugu North", "Enugu", "400102"), ("Zik Avenue", "Uwani", "Enugu", "400241"),
              ("New Market Road", "Onitsha North", "Onitsha", "434101"), ("Wetheral Road", "Ikenegbu", "Owerri", "460281"),
              ("Aba Owerri Road", "Aba South", "Aba", "450211"), ("Zik Avenue", "Amawbia", "Awka", "420108")],
    "ar_SA": [("King Fahd Road", "Al Olaya", "Riyadh", "12214"), ("Prince Mohammed bin Abdulaziz Road", "Al Andalus", "Jeddah", "23326"),
              ("Tahlia Street", "Al Rawdah", "Jeddah", "23435"), ("Prince Sultan Street", "Al Zahra", "Jeddah", "23425"),
              ("King Abdullah Road", "Al Wurud", "Riyadh", "12251"), ("Dhahran Street", "Al Khobar Al Shamalia", "Al Khobar", "34428"),
              ("King Saud Street", "Al Adamah", "Dammam", "32241")],
    "ar_JO": [("Rainbow Street", "Jabal Amman", "Amman", "11181"), ("Mecca Street", "Um Uthaina", "Amman", "11821"),
              ("Abdullah Ghosheh Street", "Al Sweifieh", "Amman", "11814"), ("Wasfi Al-Tal Street", "Khalda", "Amman", "11953"),
              ("University Street", "Al Hashmi", "Irbid", "21110"), ("King Hussein Street", "Downtown", "Aqaba", "77110")],
    "ar_BH": [("Road 2803", "Seef", "Manama", "428"), ("Road 3801", "Adliya", "Manama", "338"), ("Road 4012", "Juffair", "Manama", "340"),
              ("Road 1505", "Riffa Al Sharqi", "Riffa", "915"), ("Road 2307", "Muharraq", "Muharraq", "223"),
              ("Road 3315", "Saar", "Saar", "533")],
    "ar_PS": [("Al-Irsal Street", "Al-Masyoun", "Ramallah", ""), ("Rukab Street", "Al-Manara", "Ramallah", ""),
              ("Faisal Street", "Rafidia", "Nablus", ""), ("Manger Street", "Bab iz-Qaq", "Bethlehem", ""),
              ("Omar Al-Mukhtar Street", "Al-Rimal", "Gaza", ""), ("Ein Sarah Street", "Wadi al-Tuffah", "Hebron", "")],
    "mk_MK": [("ul. Makedonija", "Centar", "Skopje", "1000"), ("bul. Partizanski Odredi", "Karpoš", "Skopje", "1000"),
              ("bul. Ilinden", "Karpoš", "Skopje", "1000"), ("ul. Marshal Tito", "Centar", "Ohrid", "6000"),
              ("ul. Širok Sokak", "Centar", "Bitola", "7000"), ("ul. Ilindenska", "Centar", "Tetovo", "1200"),
              ("ul. Goce Delčev", "Centar", "Kumanovo", "1300"), ("bul. Jane Sandanski", "Aerodrom", "Skopje", "1000")],
}
V9_NATIVE_ADDRESS = {
    "hi_IN": ["मकान नं. {n}, गली नं. {a}, लक्ष्मी नगर, दिल्ली - 110092", "{n}/{a}, विभूति खंड, गोमती नगर, लखनऊ 226010"],
    "mr_IN": ["फ्लॅट क्र. {a}, साई कृपा सोसायटी, शिवाजी पार्क, दादर, मुंबई - ४०००२८", "{n}, धरमपेठ, नागपूर ४४००१०"],
    "gu_IN": ["{a}, શિવાલિક સોસાયટી, સેટેલાઇટ રોડ, અમદાવાદ ૩૮૦૦૧૫", "{n}, અડાજણ, સુરત - 395009"],
    "ar_SA": ["{n} طريق الملك فهد، حي العليا، الرياض {code}", "شارع التحلية، حي الروضة، جدة، مبنى {n}"],
    "ar_JO": ["عمان، جبل عمان، شارع الرينبو، عمارة {n}", "إربد، شارع الجامعة، عمارة {n}، شقة {a}"],
    "ar_PS": ["رام الله، الماصيون، شارع الإرسال، عمارة {n}", "نابلس، رفيديا، شارع فيصل، بناية {n}، طابق {f}"],
    "ar_BH": ["شقة {a}، مبنى {n}، طريق 2803، مجمع 428، السيف"],
    "mk_MK": ["ул. Македонија бр. {n}, 1000 Скопје", "бул. Партизански одреди {n}/{f}-{a}, Скопје", "ул. Маршал Тито {n}, 6000 Охрид"],
    "bn_BD": [],  # Faker writes Bangladeshi addresses in Bengali
}
V9_IN_LANDMARKS = ["near Hanuman Mandir", "opp. SBI ATM", "behind the Reliance Fresh", "near the water tank", "opp. Gurudwara",
                   "beside the Jain temple", "near the bus depot", "above the chemist"]
V9_IN_SOCIETIES = ["Sai Krupa CHS", "Shivalik Society", "Gokuldham Society", "Shanti Kunj Apartments", "Green Park Residency",
                   "Supertech Capetown", "Lodha Amara", "Nirmal Heights"]
V9_NG_LANDMARKS = ["behind the Total filling station", "opposite the mosque", "by the First Bank", "after the second roundabout",
                   "near the Redeemed church", "off the expressway", "beside the market gate"]


def _address_v9(f, rng: random.Random) -> str:
    loc = f._locales[0]
    n, a, fl = rng.randint(1, 240), rng.randint(1, 60), rng.randint(1, 14)
    if loc in V9_NATIVE_ADDRESS and rng.random() < (0.15 if loc == "bn_BD" else 0.12):
        if loc == "bn_BD":
            return f.address().replace("\n", ", ")
        text = rng.choice(V9_NATIVE_ADDRESS[loc]).format(n=n, a=a, f=fl, code=rng.choice(["12214", "12251", "12611"]))
        return text.translate(V7_ARABIC_DIGITS) if loc in V9_ARABIC and rng.random() < 0.5 else text
    street, locality, city, code = rng.choice(V9_PLACES_OF[loc])
    r = rng.random()
    if loc.endswith("_IN"):
        state = {"hi_IN": "UP", "gu_IN": "Gujarat", "mr_IN": "Maharashtra"}[loc]
        where = f"{locality}, {city}"
        if r < 0.25:
            return f"H.No. {n}, {street}, {where} - {code}"
        if r < 0.45:
            return f"Flat {rng.randint(1, 14)}0{rng.randint(1, 8)}, {rng.choice(V9_IN_SOCIETIES)}, {street}, {where} {code}"
        if r < 0.6:
            return f"{rng.choice('ABCDEFGH')}-{n}, {locality}, {city}-{code}"
        if r < 0.75:
            return f"{n}/{a}, {street}, {rng.choice(V9_IN_LANDMARKS)}, {where}"
        if r < 0.88:
            return f"Plot No. {n}, {locality}, {city}, {state} {code}"
        return f"{n}, {rng.choice(V9_IN_SOCIETIES)}\n{street}, {locality}\n{city} {code}"
    if loc == "bn_BD":
        if r < 0.35:
            return f"House {n}, {street}, {locality}, {city} {code}"
        if r < 0.55:
            return f"Flat {rng.choice('ABCDE')}{fl}, House {n}/{rng.choice('ABC')}, {street}, {locality}, {city}-{code}"
        if r < 0.72:
            return f"Holding {n}, Ward {rng.randint(1, 40)}, {locality}, {city}"
        if r < 0.85:
            return f"Vill: {rng.choice(['Char Fasson', 'Madhupur', 'Kalihati', 'Sreepur'])}, P.O.: {rng.choice(['Bazar', 'Sadar', 'Haat'])}, " \
                   f"Upazila: {rng.choice(['Savar', 'Tangail Sadar', 'Bhaluka', 'Gazipur Sadar'])}, Dist: {rng.choice(['Dhaka', 'Tangail', 'Mymensingh', 'Gazipur'])}"
        return f"House {n}, {street}\n{locality}, {city} {code}"
    if loc.endswith("_NG"):
        if r < 0.3:
            return f"No. {n} {street}, {locality}, {city}"
        if r < 0.5:
            return f"{n}{rng.choice(['', 'A', 'B'])}, {street}, {locality}, {city} State" if city not in ("Abuja", "Lagos") else \
                f"{n}, {street}, {locality}, {city}"
        if r < 0.68:
            return f"Flat {fl}, Block {rng.randint(1, 40)}, {locality} Estate, {city}"
        if r < 0.84:
            return f"Plot {n}, {street}, {rng.choice(V9_NG_LANDMARKS)}, {city}"
        return f"No {n} {street}\n{locality}\n{city} {code}"
    if loc == "ar_SA":  # the national address: building number, street, district, city, postcode, additional number
        building, extra = rng.randint(1000, 9999), rng.randint(1000, 9999)
        if r < 0.35:
            return f"{building} {street}, {locality} District, {city} {code}, Additional No. {extra}"
        if r < 0.55:
            return f"Building {building}, {street}, {locality}, {city} {code}-{extra}"
        if r < 0.72:  # the short address: four letters and four digits
            return f"{rng.choice(['RRRD', 'RAMA', 'JEDA', 'RJHA', 'DMMA', 'KHBA'])}{_digits_v6(rng, 4)}"
        if r < 0.86:
            return f"Villa {n}, {locality}, {city}"
        return f"{building} {street}\n{locality}\n{city} {code}"
    if loc == "ar_JO":
        if r < 0.35:
            return f"{street}, Building {n}, {locality}, {city}"
        if r < 0.6:
            return f"{street}, Bldg {n}, Apt {a}, {_ordinal(fl % 5 + 1)} floor, {locality}, {city} {code}"
        if r < 0.8:
            return f"{locality}, {rng.choice(['near the 5th Circle', 'behind Cozmo', 'opposite Safeway', 'next to the Orthodox Club'])}, {city}"
        return f"Building {n}, {street}\n{locality}, {city} {code}, Jordan"
    if loc == "ar_BH":  # flat, building, road, block: the Bahraini address
        block = code
        if r < 0.45:
            return f"Flat {a}, Building {n}, {street}, Block {block}, {locality}"
        if r < 0.7:
            return f"Bldg {n}, Rd {street.split()[-1]}, Blk {block}, {city}"
        if r < 0.85:
            return f"Villa {n}, {street}, Block {block}, {locality}, Kingdom of Bahrain"
        return f"Flat {a}, Bldg {n}\n{street}, Block {block}\n{city}"
    if loc == "ar_PS":
        if r < 0.4:
            return f"{street}, {locality}, {city}"
        if r < 0.65:
            return f"{rng.choice(['Building', 'Bldg'])} {n}, {street}, {locality}, {city}"
        if r < 0.85:
            return f"{city}, {locality}, {rng.choice(['near Al-Manara Square', 'behind the municipality', 'opposite the Cultural Palace', 'near the university'])}"
        return f"{street} {n}, {fl}th floor\n{locality}, {city}, Palestine"
    # mk_MK: number, then entrance and flat written after a slash and a dash
    if r < 0.35:
        return f"{street} {n}, {code} {city}"
    if r < 0.6:
        return f"{street} br. {n}/{fl}-{a}, {city}"
    if r < 0.78:
        return f"{street} {n}{rng.choice('abv') if rng.random() < 0.3 else ''}, vlez {rng.randint(1, 4)}, stan {a}, {code} {city}"
    return f"{street} {n}\n{code} {city}\nNorth Macedonia"


def _postcode_v9(f, rng: random.Random) -> str | None:
    loc = f._locales[0]
    r = rng.random()
    if loc.endswith("_IN"):
        head = rng.choice({"hi_IN": ["1100", "2013", "2260", "3020", "2080"], "gu_IN": ["3800", "3950", "3900", "3600", "3820"],
                           "mr_IN": ["4000", "4110", "4400", "4220", "4006"]}[loc])
        code = f"{head}{rng.randint(1, 96):02d}"
        return code.translate(V9_OWN_DIGITS[loc]) if r < 0.12 else code
    if loc == "bn_BD":
        code = str(rng.choice([rng.randint(1000, 1236), rng.randint(4000, 4225), rng.randint(3100, 3190), rng.randint(9000, 9100)]))
        return code.translate(V9_BENGALI_DIGITS) if r < 0.2 else code
    if loc.endswith("_NG"):
        first = rng.choice({"ha_NG": ["70", "80", "90", "84"], "yo_NG": ["10", "20", "11", "23"], "ig_NG": ["40", "43", "46", "45"]}[loc])
        return f"{first}{rng.randint(0, 2)}{_digits_v6(rng, 2)}{rng.randint(1, 9)}"
    if loc == "ar_SA":
        code = f"{rng.choice(['11', '12', '13', '14', '21', '22', '23', '31', '32', '34'])}{_digits_v6(rng, 3)}"
        code = f"{code}-{rng.randint(2000, 9999)}" if r < 0.3 else code  # with the additional number of the national address
        return code.translate(V7_ARABIC_DIGITS) if rng.random() < 0.12 else code
    if loc == "ar_JO":
        code = f"{rng.choice(['111', '118', '119', '115', '211', '131', '771'])}{_digits_v6(rng, 2)}"
        return code.translate(V7_ARABIC_DIGITS) if r < 0.12 else code
    if loc == "ar_BH":  # Bahrain's postcodes are its block numbers
        block = str(rng.randint(101, 1216))
        return f"Block {block}" if r < 0.3 else block
    if loc == "ar_PS":
        return None  # Palestinian postcodes are not in everyday use
    code = rng.choice(["1000", "1000", "1200", "1300", "1400", "2000", "2400", "6000", "6330", "7000", "7500", "1230"])  # mk_MK
    return f"MK-{code}" if r < 0.2 else code


V9_MONTHS_OF = {
    "hi_IN": ["जनवरी", "फ़रवरी", "मार्च", "अप्रैल", "मई", "जून", "जुलाई", "अगस्त", "सितंबर", "अक्टूबर", "नवंबर", "दिसंबर"],
    "mr_IN": ["जानेवारी", "फेब्रुवारी", "मार्च", "एप्रिल", "मे", "जून", "जुलै", "ऑगस्ट", "सप्टेंबर", "ऑक्टोबर", "नोव्हेंबर", "डिसेंबर"],
    "gu_IN": ["જાન્યુઆરી", "ફેબ્રુઆરી", "માર્ચ", "એપ્રિલ", "મે", "જૂન", "જુલાઈ", "ઑગસ્ટ", "સપ્ટેમ્બર", "ઑક્ટોબર", "નવેમ્બર", "ડિસેમ્બર"],
    "bn_BD": ["জানুয়ারি", "ফেব্রুয়ারি", "মার্চ", "এপ্রিল", "মে", "জুন", "জুলাই", "আগস্ট", "সেপ্টেম্বর", "অক্টোবর", "নভেম্বর", "ডিসেম্বর"],
    "ha_NG": ["Janairu", "Faburairu", "Maris", "Afirilu", "Mayu", "Yuni", "Yuli", "Agusta", "Satumba", "Oktoba", "Nuwamba", "Disamba"],
    "mk_MK": ["јануари", "февруари", "март", "април", "мај", "јуни", "јули", "август", "септември", "октомври", "ноември", "декември"],
}
# The Syriac month names Jordanians and Palestinians write, and the months of the Bengali (Bangabda) calendar
V9_LEVANTINE_MONTHS = ["كانون الثاني", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب", "أيلول", "تشرين الأول", "تشرين الثاني",
                       "كانون الأول"]
V9_BANGLA_MONTHS = ["Boishakh", "Joishtho", "Asharh", "Srabon", "Bhadro", "Ashwin", "Kartik", "Ogrohayon", "Poush", "Magh", "Falgun",
                    "Choitro"]
V9_BANGLA_MONTHS_BN = ["বৈশাখ", "জ্যৈষ্ঠ", "আষাঢ়", "শ্রাবণ", "ভাদ্র", "আশ্বিন", "কার্তিক", "অগ্রহায়ণ", "পৌষ", "মাঘ", "ফাল্গুন", "চৈত্র"]
V9_ROMAN_MONTHS = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]


def _dob_v9(f, rng: random.Random) -> str:
    """A date of birth as people of each locale write one; the Bengali and Hijri calendars are drawn in their own years
    (the people are made up, so a date need not convert from a Gregorian one)."""
    loc = f._locales[0]
    d = _date_v5(rng, 1939, 2008)
    dd, mm, yyyy, yy = f"{d.day:02d}", f"{d.month:02d}", str(d.year), f"{d.year % 100:02d}"
    english = V6_ENGLISH_MONTHS[d.month - 1]
    if loc.endswith("_IN"):
        local, digits = V9_MONTHS_OF[loc][d.month - 1], V9_OWN_DIGITS[loc]
        shapes = [f"{dd}/{mm}/{yyyy}", f"{d.day} {local} {yyyy}", f"{dd}/{mm}/{yyyy}".translate(digits),
                  f"{d.day} {local} {yyyy}".translate(digits), f"{_ordinal(d.day)} {english[:3]}, {yyyy}", f"{dd}/{english[:3]}/{yyyy}",
                  f"{d.day}/{d.month}/{yy}"]
    elif loc == "bn_BD":
        year, month = rng.randint(1346, 1415), rng.randint(1, 12)
        day = rng.randint(1, 31 if month <= 5 else 30)
        shapes = [f"{day} {V9_BANGLA_MONTHS_BN[month - 1]} {year} বঙ্গাব্দ".translate(V9_BENGALI_DIGITS),
                  f"{day} {V9_BANGLA_MONTHS[month - 1]} {year} Bangabda", f"{dd}-{mm}-{yyyy}", f"{dd}/{mm}/{yyyy}".translate(V9_BENGALI_DIGITS),
                  f"{d.day} {V9_MONTHS_OF['bn_BD'][d.month - 1]} {yyyy}".translate(V9_BENGALI_DIGITS), f"{d.day} {english[:3]}, {yyyy}"]
    elif loc.endswith("_NG"):
        shapes = [f"{english} {_ordinal(d.day)}, {yyyy}", f"{dd}-{english[:3]}-{yy}", f"{d.day}/{d.month}/{yyyy}", f"{dd}/{mm}/{yyyy}",
                  f"{_ordinal(d.day)} of {english}, {yyyy}"]
        if loc == "ha_NG":
            shapes.append(f"{d.day} ga {V9_MONTHS_OF['ha_NG'][d.month - 1]}, {yyyy}")
    elif loc == "ar_SA":  # Saudi papers give the Hijri date, year first, with هـ
        year, month, day = rng.randint(1358, 1429), rng.randint(1, 12), rng.randint(1, 29)
        hijri = f"{year}/{month:02d}/{day:02d}"
        shapes = [f"{hijri} هـ", f"{day:02d}/{month:02d}/{year}هـ", f"{hijri} هـ".translate(V7_ARABIC_DIGITS), f"{year}/{month}/{day}H",
                  f"{yyyy}/{mm}/{dd}م", f"{dd}-{mm}-{yyyy}", f"{d.day} {english} {yyyy}"]
    elif loc in ("ar_JO", "ar_PS"):
        levantine = V9_LEVANTINE_MONTHS[d.month - 1]
        shapes = [f"{d.day} {levantine} {yyyy}", f"{d.day} {levantine} {yyyy}".translate(V7_ARABIC_DIGITS), f"{d.day}/{d.month}/{yyyy}",
                  f"{dd}-{mm}-{yyyy}", f"{dd} {english[:3].upper()} {yyyy}", f"{yyyy}/{mm}/{dd}"]
    elif loc == "ar_BH":
        shapes = [f"{dd}/{mm}/{yyyy}", f"{d.day} {V8_MONTHS_OF['ar_EG'][d.month - 1]} {yyyy}", f"{dd}/{mm}/{yyyy}".translate(V7_ARABIC_DIGITS),
                  f"{dd} {english[:3].upper()} {yyyy}", f"{yyyy}-{mm}-{dd}"]
    else:  # mk_MK
        local = V9_MONTHS_OF["mk_MK"][d.month - 1]
        shapes = [f"{dd}.{mm}.{yyyy}", f"{d.day}.{V9_ROMAN_MONTHS[d.month - 1]}.{yyyy}", f"{dd}.{mm}.{yyyy} год.",
                  f"{d.day} {local} {yyyy} година", f"{d.day}-ти {local} {yyyy}", f"{d.day}.{d.month}.{yyyy}"]
    return rng.choice(shapes)


def _luhn_id_v9(first: str, length: int, rng: random.Random) -> str:
    """``first``, random digits and a Luhn check digit: the Saudi identity number and the Palestinian one (the latter
    checked by python-stdnum as the Israeli number whose check it shares)."""
    from stdnum import luhn

    body = first + _digits_v6(rng, length - len(first) - 1)
    number = body + luhn.calc_check_digit(body)
    assert luhn.is_valid(number), number
    return number


def _national_id_v9(f, rng: random.Random) -> str:
    """Each locale's own identity numbers; checked with python-stdnum where it knows the number."""
    loc = f._locales[0]
    d = _date_v5(rng, 1945, 2007)
    r = rng.random()
    if loc.endswith("_IN"):
        if r < 0.25:  # EPIC, the voter ID: the constituency's three letters, a six-digit serial and its Luhn check
            from stdnum import luhn
            from stdnum.in_ import epic
            serial = _digits_v6(rng, 6)
            number = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3)) + serial + luhn.calc_check_digit(serial)
            assert epic.is_valid(number), number
            return number if rng.random() < 0.85 else f"{number[:3]} {number[3:]}"
        if r < 0.42:  # the Aadhaar virtual ID: sixteen digits, a Verhoeff check
            from stdnum import verhoeff
            from stdnum.in_ import vid
            while True:
                body = str(rng.randint(2, 9)) + _digits_v6(rng, 14)
                number = body + verhoeff.calc_check_digit(body)
                if vid.is_valid(number):
                    break
            return " ".join(number[i:i + 4] for i in range(0, 16, 4)) if rng.random() < 0.7 else number
        if r < 0.52:
            from stdnum import verhoeff
            from stdnum.in_ import aadhaar
            while True:
                body = str(rng.randint(2, 9)) + _digits_v6(rng, 10)
                number = body + verhoeff.calc_check_digit(body)
                if aadhaar.is_valid(number):
                    break
            return f"{number[:4]}-{number[4:8]}-{number[8:]}"
        if r < 0.67:  # the passport: a letter and seven digits
            return f"{rng.choice('JKLMNPRSTUVWZ')}{rng.randint(1, 9)}{_digits_v6(rng, 6)}"
        if r < 0.85:  # the driving licence: state, RTO, year of issue, serial
            state = rng.choice({"hi_IN": ["DL", "UP", "RJ"], "gu_IN": ["GJ"], "mr_IN": ["MH"]}[loc])
            rto, year, serial = f"{rng.randint(1, 50):02d}", str(rng.randint(1995, 2024)), _digits_v6(rng, 7)
            return rng.choice([f"{state}{rto} {year}{serial}", f"{state}-{rto}{year}{serial}", f"{state}{rto}-{year}-{serial}"])
        return f"{_digits_v6(rng, 2)}-{_digits_v6(rng, 4)}-{_digits_v6(rng, 4)}-{_digits_v6(rng, 4)}"  # the ABHA health number
    if loc.endswith("_NG"):
        if r < 0.3:  # the Bank Verification Number
            return f"22{_digits_v6(rng, 9)}"
        if r < 0.42:
            number = _digits_v6(rng, 11)  # the NIN, grouped as read out
            return f"{number[:4]} {number[4:7]} {number[7:]}"
        if r < 0.56:  # the voter identification number on the PVC
            vin = f"{rng.randint(10, 99)}{rng.choice('ABCDEF')}{rng.randint(0, 9)}" + \
                  "".join(rng.choice("0123456789ABCDEF") for _ in range(4)) + _digits_v6(rng, 11)
            return " ".join(vin[i:i + 4] for i in range(0, 19, 4)) if rng.random() < 0.3 else vin
        if r < 0.72:  # the driver's licence
            letters = lambda n: "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(n))  # noqa: E731
            return f"{letters(3)}{_digits_v6(rng, 5)}{letters(2)}{_digits_v6(rng, 2)}"
        if r < 0.86:  # the international passport
            return f"{rng.choice('AB')}{_digits_v6(rng, 8)}"
        return f"{_digits_v6(rng, 8)}-0001"  # the tax identification number
    if loc == "bn_BD":
        if r < 0.4:
            number = str(rng.randint(1, 9)) + _digits_v6(rng, 9)  # the smart card NID
        elif r < 0.65:
            number = f"{d.year}{rng.choice(['26', '15', '91', '47', '61', '93'])}{_digits_v6(rng, 11)}"  # the 17-digit NID, year of birth first
        elif r < 0.8:
            number = f"{rng.choice(['26', '15', '91', '47', '61', '93'])}{_digits_v6(rng, 11)}"  # the old 13-digit NID
        elif r < 0.9:
            return f"{rng.choice('AB')}{_digits_v6(rng, 8)}"  # the e-passport
        else:
            return _digits_v6(rng, 12)  # the e-TIN
        return number.translate(V9_BENGALI_DIGITS) if rng.random() < 0.15 else number
    if loc == "ar_SA":  # 1 for citizens, 2 for residents (the iqama), and a Luhn check
        number = _luhn_id_v9("1" if r < 0.55 else "2", 10, rng)
        return number.translate(V7_ARABIC_DIGITS) if rng.random() < 0.12 else number
    if loc == "ar_JO":  # the national number: ten digits, men's begin with 9, women's with 2
        number = f"9{d.year % 100:02d}{_digits_v6(rng, 7)}" if r < 0.5 else f"2000{_digits_v6(rng, 6)}"
        return number.translate(V7_ARABIC_DIGITS) if rng.random() < 0.1 else number
    if loc == "ar_BH":  # the CPR number: year and month of birth, a serial and a check digit (its rule is not published)
        number = f"{d.year % 100:02d}{d.month:02d}{_digits_v6(rng, 5)}"
        return number.translate(V7_ARABIC_DIGITS) if r < 0.1 else number
    if loc == "ar_PS":
        from stdnum.il import idnr
        number = _luhn_id_v9(rng.choice("489"), 9, rng)
        assert idnr.is_valid(number), number
        if r < 0.15:
            return f"{number[:8]}-{number[8]}"
        return number.translate(V7_ARABIC_DIGITS) if r < 0.25 else number
    # mk_MK: the EMBG, the same master citizen number as the JMBG (Macedonian regions 41-49)
    number = _jmbg_v8(d, f"{rng.randint(41, 49)}", rng.random() < 0.5, rng)
    return number if r < 0.85 else f"{number[:7]} {number[7:]}"


# The locales' own IBAN countries (with their bank codes), and where people of each locale's country bank abroad
V9_IBAN_BBAN = {"SA": "2!n18!c", "JO": "4!a4!n18!c", "BH": "4!a14!c", "PS": "4!a21!c", "MK": "3!n10!c2!n", "AE": "3!n16!n",
                "QA": "4!a21!c", "KW": "4!a22!c", "OM": "3!n16!c", "GB": "4!a6!n8!n", "DE": "8!n10!n", "SE": "3!n16!n1!n"}
V9_IBAN_BANKS = {"SA": ["10", "80", "20", "45", "05", "15", "30", "60", "55"], "JO": ["ARAB", "HBHO", "CAAB", "UBSI", "JONB"],
                 "BH": ["NBOB", "BBKU", "AUBB", "KFHB", "BIBB"], "PS": ["PALS", "ARAB", "CAAB"],
                 "MK": ["300", "210", "200", "250", "270", "380"], "AE": ["033", "026", "035", "030", "040"],
                 "QA": ["QNBA", "CBQA", "DOHB", "QIIB"], "KW": ["NBOK", "KFHO", "GULB", "CBKU"], "OM": ["018", "027", "009"],
                 "GB": ["HBUK", "BARC", "LOYD", "NWBK", "MIDL"], "DE": ["10010010", "37040044", "50010517", "20041133"],
                 "SE": ["500", "800", "600", "300", "120"]}
V9_IBAN_HOME = {"ar_SA": "SA", "ar_JO": "JO", "ar_BH": "BH", "ar_PS": "PS", "mk_MK": "MK"}
V9_IBAN_ABROAD = {"IN": ["AE", "QA", "KW", "OM", "SA", "GB", "DE", "SE"], "NG": ["GB", "DE", "AE", "QA", "SE"],
                  "BD": ["SA", "AE", "QA", "KW", "OM", "BH", "SE"], "SA": ["AE", "BH", "KW", "GB"], "JO": ["AE", "SA", "QA", "DE"],
                  "BH": ["SA", "AE", "KW"], "PS": ["JO", "AE", "DE", "SE"], "MK": ["DE", "GB", "SE"]}


def _iban_v9(f, rng: random.Random) -> str:
    from stdnum import iban as stdnum_iban

    loc = f._locales[0]
    if loc in V9_IBAN_HOME and rng.random() < 0.7:
        country = V9_IBAN_HOME[loc]
    else:
        country = rng.choice(V9_IBAN_ABROAD[loc[-2:]])
    bban = _bban_from_format(V9_IBAN_BBAN[country], rng, letter_rate=0.0)
    bank = rng.choice(V9_IBAN_BANKS[country])
    bban = bank + bban[len(bank):]
    if country == "MK":  # the Macedonian account number's own check: the whole BBAN is 1 modulo 97
        bban = bban[:13] + f"{(1 - int(bban[:13]) * 100) % 97:02d}"
    iban = _with_iban_check(country, bban)
    assert stdnum_iban.is_valid(iban), iban
    groups = [iban[i:i + 4] for i in range(0, len(iban), 4)]
    r = rng.random()
    if r < 0.38:
        return " ".join(groups)
    if r < 0.46:  # broken over two lines, as copied from a narrow column of a statement
        cut = len(groups) // 2
        return " ".join(groups[:cut]) + "\n" + " ".join(groups[cut:])
    if r < 0.56 and country == "MK":
        return f"{iban[:4]} {iban[4:7]} {iban[7:17]} {iban[17:]}"  # the domestic account, bank-account-check, after the IBAN prefix
    if r < 0.6:
        return f"{iban[:4]} {iban[4:]}"
    return iban


V9_CARDS = {"visa": (["4"], [16, 16, 16, 13]), "mastercard": (["51", "52", "53", "55", "2221", "2300", "2720"], [16]),
            "amex": (["34", "37"], [15]), "jcb": (["3528", "3566"], [16]), "unionpay": (["621", "622", "625"], [16, 19]),
            "diners": (["36", "38", "300"], [14]), "discover": (["6011", "644", "65"], [16]), "maestro": (["5018", "5020", "6304"], [16, 19]),
            "mada": (["588845", "968208", "440647", "446404", "457865", "636120"], [16]),
            "verve": (["506099", "50610", "50611", "50612", "650002"], [16, 19, 19, 18]), "rupay": (["607", "608", "652", "508"], [16])}
V9_LOCAL_CARDS = {"ar_SA": ("mada", 0.5), "ha_NG": ("verve", 0.4), "yo_NG": ("verve", 0.4), "ig_NG": ("verve", 0.4),
                  "hi_IN": ("rupay", 0.3), "gu_IN": ("rupay", 0.3), "mr_IN": ("rupay", 0.3)}


def _card_v9(f, rng: random.Random) -> str:
    loc = f._locales[0]
    own, share = V9_LOCAL_CARDS.get(loc, (None, 0.0))
    if own and rng.random() < share:
        issuer = own
    else:
        issuer = rng.choice(["visa", "visa", "visa", "mastercard", "mastercard", "amex", "jcb", "unionpay", "diners", "maestro",
                             "discover"])
    number = _luhn_card_number(rng, *V9_CARDS[issuer])
    r = rng.random()
    if len(number) in (14, 15) and r < 0.5:
        return f"{number[:4]} {number[4:10]} {number[10:]}"
    if r < 0.12 and loc in V9_ARABIC:
        return _in_fours(number, " ").translate(V7_ARABIC_DIGITS)  # typed on an Arabic keyboard
    if r < 0.45:
        return _in_fours(number, " ")
    if r < 0.53:
        return _in_fours(number, "-")
    return number


def _expiry_v9(f, rng: random.Random) -> str:
    d = _date_v5(rng, 2026, 2035)
    shape = rng.choice(["%m/%y", "%m/%y", "%m/%y", "%m\u2013%y", "{MON}-%Y", "%B, %Y", "%m %Y", "%m'%y", "%m/%Y"])
    text = d.strftime(shape.replace("{MON}", V6_ENGLISH_MONTHS[d.month - 1][:3].upper()))
    return text.translate(V7_ARABIC_DIGITS) if f._locales[0] in V9_ARABIC and rng.random() < 0.15 else text


V9_HANDLE_PLACES = {"hi_IN": "dilli", "gu_IN": "amdavad", "mr_IN": "pune", "bn_BD": "dhaka", "ha_NG": "kano", "yo_NG": "lasgidi",
                    "ig_NG": "enugu", "ar_SA": "ruh", "ar_JO": "amman", "ar_BH": "bh", "ar_PS": "ramallah", "mk_MK": "skp"}


def _username_v9(f, rng: random.Random) -> str:
    loc = f._locales[0]
    given, family, _, female, native = _names_v9(f, rng)
    clean = lambda s: s.translate(V9_ASCII).lower().replace(" ", "").replace("-", "").replace(".", "").replace("'", "")  # noqa: E731
    if native or not (clean(given) + clean(family)).isascii():
        given, family, _, female, native = _names_v9(f, rng)
        if native or not (clean(given) + clean(family)).isascii():
            given, family = rng.choice(["sam", "joy", "ali", "ben", "dev", "tina"]), rng.choice(["home", "star", "king", "one"])
    given, family = clean(given), clean(family)
    r = rng.random()
    if r < 0.1:
        return f"@{given}.{family}"  # with the at sign, as Instagram shows it
    if r < 0.17:
        return f"t.me/{given}_{family}"
    if r < 0.24:
        return f"linkedin.com/in/{given}-{family}-{''.join(rng.choice('0123456789abcdef') for _ in range(8))}"
    if r < 0.32 and loc in V9_ARABIC:
        return f"{'umm' if female else 'abu'}_{rng.choice(V9_NAMES[loc][0]).lower()}"
    if r < 0.39:
        return f"its{given}{family[0]}"
    if r < 0.47:
        return f"{given}{family}{rng.randint(1970, 2006) % 100:02d}"
    if r < 0.54:
        return f"{given}_{family}_{V9_HANDLE_PLACES[loc]}"
    if r < 0.61:
        return f"{family}{given}{rng.randint(1, 99):02d}"
    if r < 0.67:
        return f"{given.capitalize()}{family.capitalize()}_"
    if r < 0.73:
        return f"{given}-{family}"
    return rng.choice([f"{given}{family}", f"{given}.{family}", f"{given}{rng.randint(1, 999)}"])


def _order_id_v9(f, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.1:  # a UK visa application's GWF reference
        return f"GWF{_digits_v6(rng, 9)}"
    if r < 0.17:  # an Indian income-tax return's acknowledgement number
        return f"{rng.randint(1, 9)}{_digits_v6(rng, 14)}"
    shape = rng.choice(["MOV/26/#####", "PLG-########", "EYE#######", "SU-####-??", "LAB26-######", "FL-########", "TRN-2026-####",
                        "SUBS/######", "PCR-######-?", "BLS-####-#####", "??/VFS/26/######", "#####-?-##", "Q##-####", "PT ######"])
    return "".join(str(rng.randint(0, 9)) if c == "#" else rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") if c == "?" else c for c in shape)


def _value_v9(f, kind: str, rng: random.Random) -> str | None:
    if kind == "PERSON":
        return _person_v9(f, rng)
    if kind == "EMAIL":
        return _email_v9(f, rng)
    if kind == "PHONE":
        return _phone_v9(f, rng)
    if kind == "ADDRESS":
        return _address_v9(f, rng)
    if kind == "POSTCODE":
        return _postcode_v9(f, rng)
    if kind == "DATE_OF_BIRTH":
        return _dob_v9(f, rng)
    if kind == "IP_ADDRESS":
        import ipaddress
        r = rng.random()
        if r < 0.55:
            return f.ipv4_public()
        if r < 0.7:
            return f.ipv6()
        if r < 0.8:
            return str(ipaddress.IPv6Address(f.ipv6()))
        if r < 0.9:
            return f"::ffff:{f.ipv4_public()}"  # an IPv4 client as a dual-stack server logs it
        return f.ipv6().upper()
    if kind == "IBAN":
        return _iban_v9(f, rng)
    if kind == "NATIONAL_ID":
        return _national_id_v9(f, rng)
    if kind == "USERNAME":
        return _username_v9(f, rng)
    if kind == "CARD":
        return _card_v9(f, rng)
    if kind == "ORDER_ID":
        return _order_id_v9(f, rng)
    raise ValueError(kind)


def _card_details_v9(f, rng: random.Random) -> tuple[str, list[tuple[str, int, int]]]:
    number = _card_v9(f, rng)
    digits = "".join(str(int(c)) for c in number if c.isdigit())
    masked = rng.random() < 0.3
    shown = rng.choice(["ending with ", "last four ", "\u2022\u2022\u2022\u2022 ", "************"]) + digits[-4:] if masked else number
    expiry = _expiry_v9(f, rng)
    cvv = _digits_v6(rng, 4 if digits[:2] in ("34", "37") else 3)
    loc = f._locales[0]
    shapes = ["card: {n} / exp. {e} / cvv {c}", "{n}, valid till {e}, cvv no. {c}", "my card no is {n} exp {e} and cvv {c}",
              "{n}\nexpiry date {e}\nCVV number {c}", "number {n} - expiring {e} - code on the back {c}", "{c} is the CVV, card {n}, expires {e}",
              "expiry {e}, card {n}, cvv {c}", "{n} | {e} | {c}"]
    native = {"hi_IN": "कार्ड नंबर {n}, एक्सपायरी {e}, CVV {c}", "mr_IN": "कार्ड क्रमांक {n}, मुदत {e}, CVV {c}",
              "gu_IN": "કાર્ડ નંબર {n}, એક્સપાયરી {e}, CVV {c}", "bn_BD": "কার্ড নম্বর {n}, মেয়াদ {e}, CVV {c}",
              "ar_SA": "رقم البطاقة {n} تاريخ الانتهاء {e} رمز التحقق {c}", "ar_JO": "البطاقة {n}، بتخلص {e}، الرمز {c}",
              "ar_BH": "رقم البطاقة {n} - الانتهاء {e} - CVV {c}", "ar_PS": "البطاقة {n} صالحة لغاية {e} والرمز {c}",
              "mk_MK": "картичка {n}, важи до {e}, CVV {c}", "yo_NG": "na this card {n}, e go expire {e}, cvv na {c}",
              "ha_NG": "abeg use this card {n}, expiry {e}, cvv {c}", "ig_NG": "biko, card {n}, expiry {e}, cvv {c}"}
    shape = native[loc] if rng.random() < 0.25 else rng.choice(shapes)
    return _fill_card_shape(shape, shown, expiry, cvv, masked)


V9_NEGATIVES = [
    ("the move is about {v}", lambda f, r: r.choice([f"{r.randint(8, 60)} m³", f"{r.randint(20, 140)} cartons", "a 14 ft truck", "one 7.5 t lorry",
                                                     f"{r.randint(1, 4)} BHK worth"])),
    ("they're on floor {v} with no lift", lambda f, r: str(r.randint(2, 12))),
    ("the chain is {v}", lambda f, r: r.choice([f"22K, {r.randint(5, 60)}.{r.randint(0, 9)} g", f"{r.choice(['18', '21', '22', '24'])} carat",
                                               f"{r.randint(1, 8)} tola"])),
    ("the loan was {v}", lambda f, r: r.choice([f"₹{r.randint(10, 300)},000 at {r.choice(['0.99', '1.2', '1.5'])}% a month",
                                               f"₦{r.randint(50, 900)},000", f"{r.randint(500, 9000)} riyals", f"৳{r.randint(10, 99)},000"])),
    ("my prescription is {v}", lambda f, r: f"SPH {r.choice('-+')}{r.randint(0, 6)}.{r.choice(['00', '25', '50', '75'])} "
                                            f"CYL -{r.randint(0, 2)}.{r.choice(['25', '50', '75'])} AXIS {r.randint(1, 180)}"),
    ("PD {v}", lambda f, r: f"{r.randint(56, 72)} mm"),
    ("lens index {v}", lambda f, r: r.choice(["1.50", "1.56", "1.60", "1.67", "1.74"])),
    ("unit {v}", lambda f, r: r.choice([f"{r.choice('ABCDE')}-{r.randint(100, 450)}", f"{r.randint(1, 3)}{r.randint(10, 99)}",
                                        f"{r.randint(5, 10)}x{r.randint(5, 20)} ft"])),
    ("HbA1c came back {v}", lambda f, r: f"{r.randint(5, 9)}.{r.randint(0, 9)}%"),
    ("TSH {v}", lambda f, r: f"{r.randint(0, 9)}.{r.randint(10, 99)} mIU/L"),
    ("fasting {v}", lambda f, r: r.choice(["10-12 hours", "8 hrs", "12 h"])),
    ("{v} roses", lambda f, r: str(r.choice([6, 12, 24, 50, 100]))),
    ("delivery slot {v}", lambda f, r: r.choice(["9am-1pm", "13:00-17:00", "midnight delivery", "4-8 pm"])),
    ("height {v}", lambda f, r: r.choice([f"5'{r.randint(0, 11)}\"", f"{r.randint(150, 190)} cm"])),
    ("matches aged {v}", lambda f, r: f"{r.randint(24, 30)}-{r.randint(31, 38)}"),
    ("{v} words", lambda f, r: f"{r.randint(1, 9)},{r.randint(0, 9)}00"),
    ("per page {v}", lambda f, r: r.choice(["₹450", "SAR 120", "JOD 15", "MKD 1,200", "৳800", "₦7,500"])),
    ("for AY {v}", lambda f, r: r.choice(["2024-25", "2025-26", "2023-24"])),
    ("form {v}", lambda f, r: r.choice(["ITR-2", "ITR-4", "26AS", "GSTR-3B", "16A", "SA100"])),
    ("VAT at {v}", lambda f, r: r.choice(["15%", "5%", "18% GST", "10%"])),
    ("the {v} edition", lambda f, r: r.choice(["Sunday", "weekend", "Friday", "Diwali special", "e-paper"])),
    ("the treatment covers a {v}", lambda f, r: r.choice(["1 BHK", "2 BHK", "3 BHK", "1,200 sq ft villa"])),
    ("warranty {v}", lambda f, r: r.choice(["90 days", "6 months", "1 year", "3 visits"])),
    ("IELTS {v}", lambda f, r: r.choice(["6.5", "7.0", "band 7", "L8 R7 W6.5 S7"])),
    ("CRS {v}", lambda f, r: str(r.randint(430, 520))),
    ("the biometrics slot is {v}", lambda f, r: r.choice(["10:40", "09:15", "2:30 pm", "11.00"])),
    ("Schengen {v}", lambda f, r: r.choice(["90/180", "type C", "multiple entry"])),
    ("processing takes {v}", lambda f, r: r.choice(["15 working days", "3-5 weeks", "48 hours", "10 days"])),
    ("flight {v}", lambda f, r: r.choice(["SV 1021", "6E 2134", "AI 101", "BG 088", "RJ 182", "GF 5", "W3 104", "XY 215"])),
    ("the survey is on {v}", lambda f, r: (lambda d: r.choice([d.strftime("%d/%m"), f"{d.day} {V6_ENGLISH_MONTHS[d.month - 1][:3]}",
                                                              d.strftime("%d.%m.%Y")]))(_date_v5(r, 2026, 2027))),
]


_place_v9 = _placer((0.3, "{host}. {fragment}"), (0.48, "{fragment}{sentence_end}{host}"), (0.58, "{host} -- {fragment}"),
                    (0.68, "{host}\n> {fragment}"), (0.78, "{host}. Update: {fragment}"), (0.88, "{host} + {fragment}"),
                    (1.0, "{host}? {fragment}"))


def build_injected_v9(n_per_type: int, seed: int, hosts: list[str]) -> list[dict]:
    return build_injected(HeldOutRecipe("v9", V9_LOCALES, 109, _value_v9, _card_details_v9, V9_TEMPLATES,
                                        V9_NEGATIVES, ", also ", _place_v9), n_per_type, seed, hosts)


V9_BRANDS_OF = {
    "movers": ["Agarwal Packers and Movers", "Leo Packers and Movers", "PM Relocations", "Writer Relocations", "Allied Pickfords",
               "Crown Relocations", "Santa Fe Relocation", "Gulf Agency Company", "NoBroker Packers", "Two Men and a Truck", "U-Haul",
               "Atlas Van Lines", "Mayflower", "Bekins"],
    "pawn": ["Muthoot Finance", "Manappuram Gold Loan", "IIFL Gold Loan", "Rupeek", "Cash Converters", "H&T Pawnbrokers", "Ramsdens",
             "EZPAWN", "Kalyan Jewellers", "Malabar Gold & Diamonds", "Joyalukkas", "Tanishq", "P.N. Gadgil Jewellers",
             "Tribhovandas Bhimji Zaveri", "Damas", "L'azurde"],
    "optician": ["Lenskart", "Titan Eye+", "Lawrence & Mayo", "Vision Express", "Magrabi Optical", "Yateem Optician", "Al Jaber Optical",
                 "Eyewa", "Mister Spex", "GKB Opticals", "Dr. Agarwal's Eye Hospital", "Essilor", "Zeiss", "Hoya", "Acuvue",
                 "Bausch + Lomb", "Persol", "Carrera"],
    "storage": ["Safestore", "Big Yellow", "Shurgard", "Public Storage", "Extra Space Storage", "CubeSmart", "Storage King",
                "StorageMart", "Boxit", "Stor-Age", "Lok'nStore", "Access Self Storage"],
    "lab": ["Dr Lal PathLabs", "Thyrocare", "Metropolis Healthcare", "SRL Diagnostics", "Redcliffe Labs", "Healthians", "Tata 1mg Labs",
            "Neuberg Diagnostics", "Al Borg Diagnostics", "Al Mokhtabar", "Biolab", "Medlabs", "Popular Diagnostic Centre",
            "Ibn Sina Diagnostic", "Labaid", "Synlab", "Clina-Lancet", "Union Diagnostics", "LabCorp"],
    "florist": ["Ferns N Petals", "Interflora", "Floward", "IGP", "Bloom & Wild", "1-800-Flowers", "FTD", "Flowwow", "Winni",
                "Archies", "Godiva", "Patchi", "Bateel", "Hotel Chocolat", "Haldiram's"],
    "matrimony": ["Shaadi.com", "BharatMatrimony", "Jeevansathi", "Betterhalf", "Bibaho", "Muzz", "Gujarati Matrimony",
                  "Marathi Matrimony", "Nikah.com", "Hinge", "Bumble"],
    "translation": ["TransPerfect", "Lionbridge", "Gengo", "Rev", "Tomedes", "Day Translations", "Translated", "RWS", "Smartling",
                    "DeepL", "Google Translate", "Welocalize"],
    "tax": ["H&R Block", "Jackson Hewitt", "Liberty Tax", "ClearTax", "TaxBuddy", "Zoho Books", "Tally", "QuickBooks", "Xero",
            "Deloitte", "EY", "KPMG", "PwC", "Grant Thornton", "BDO", "Baker Tilly", "Sage", "TurboTax"],
    "news": ["The Times of India", "Hindustan Times", "Dainik Bhaskar", "Gujarat Samachar", "Divya Bhaskar", "Lokmat", "Loksatta",
             "Prothom Alo", "The Daily Star", "Punch", "Vanguard", "Daily Trust", "The Guardian Nigeria", "Okaz", "Asharq Al-Awsat",
             "Arab News", "Al Ghad", "The Jordan Times", "Gulf Daily News", "Al-Ayyam", "Al-Quds", "Nova Makedonija", "Sloboden Pečat",
             "The Economist", "Reader's Digest", "National Geographic", "Vogue", "Forbes", "Harvard Business Review", "Madame Figaro"],
    "pest": ["Godrej HiCare", "Terminix", "Orkin", "Anticimex", "Ecolab", "Truly Nolen", "Pest Control India", "Mortein", "Baygon",
             "Good Knight", "All Out", "Raid", "HIT", "Combat"],
    "visa": ["VFS Global", "BLS International", "TLScontact", "Y-Axis", "WWICS", "Fragomen", "Newland Chase", "CIBT", "Atlys",
             "WES", "PTE Academic", "TOEFL iBT"],
    "shop": ["Reliance Digital", "Croma", "DMart", "Big Bazaar", "Swiggy Instamart", "Konga", "Chicken Republic", "Mr Biggs",
             "Tastee Fried Chicken", "Aarong", "Shwapno", "Agora", "Panda", "Tamimi Markets", "Jarir Bookstore", "Al Baik", "Kudu",
             "Habibah Sweets", "Lulu Hypermarket", "Jawad", "Ramstore", "Tineks"],
}
V9_BRANDS = [brand for group in V9_BRANDS_OF.values() for brand in group]
V9_HONORIFIC_FREE = [
    "Dr Lal PathLabs sent the report but the thyroid page is missing", "Dr. Agarwal's Eye Hospital says the lens order takes 10 days",
    "Dr. Sulaiman Al Habib lab results aren't showing in the app", "Dr. Batra's clinic moved the appointment without telling me",
    "Mister Spex sent the frames but the lenses are the old prescription", "Mr Biggs voucher from the florist combo won't scan",
    "Mr. DIY had no moving boxes left, do the movers bring their own?", "Madame Figaro gift subscription started a month late",
    "Sir Speedy printed the translated documents in the wrong size", "Miss Dior gift set was missing from the flower hamper",
    "Mrs. Bectors cookies in the Diwali hamper were crushed", "Master Chef cake from the florist arrived melted",
    "Uncle Tetsu cheesecake add-on was charged but never delivered",
]
V9_PEOPLE_FREE = [
    "Agarwal Packers and Movers charged for 40 cartons, we had 28", "Two Men and a Truck sent only one man", "Allied Pickfords wants the survey on a weekday",
    "Grant Thornton quoted for the audit, but we only need the VAT return", "Baker Tilly sent the engagement letter twice",
    "Jackson Hewitt office in the mall is closed on Sundays?", "H&R Block charged a fee even though the refund was zero",
    "Tribhovandas Bhimji Zaveri won't buy back gold bought elsewhere?", "P.N. Gadgil Jewellers gold scheme, can I pay the 11th instalment late?",
    "Joyalukkas exchange offer says 0% deduction, the shop deducted 2%", "Lawrence & Mayo eye test is free or ₹300?",
    "Truly Nolen did the termite treatment, now there are ants", "Hotel Chocolat hamper arrived without the card message",
    "Mayflower movers lost one box of kitchen things", "Bekins estimate was half of what they billed", "Ramsdens pawn valuation took 40 minutes",
    "Fragomen asked for the same bank statements again", "Ibn Sina Diagnostic home collection never came to Dhanmondi",
    "Haldiram's sweets with the flowers were the wrong ones", "Forbes digital plan renewed at full price",
    "Harvard Business Review print copy stopped after issue 3", "Reader's Digest wants the subscription cancelled by phone only?",
    "Sloboden Pečat e-paper won't open on the tablet", "Al Jaber Optical says the warranty doesn't cover scratches",
    "Yateem Optician in Seef has no appointments this week", "Magrabi Optical contact lenses arrived with the wrong power",
    "Muthoot Finance sent the auction notice after I paid", "Kalyan Jewellers gold loan at 22K or 18K rate?",
]
V9_PLACE_FREE = [
    "Is the Ahmadu Bello Way branch open on Saturdays?", "Lekki Phase 1 delivery is extra for the flowers?",
    "Victoria Island office of the visa centre has no parking", "Gulshan 2 storage facility closes at 8?",
    "Dhanmondi lab collection slots are all full", "Andheri West pickup for the movers, what time?",
    "Shivaji Park paper delivery stopped since Monday", "Navrangpura optician branch closed for Uttarayan?",
    "Gomti Nagar pest control, do you cover Lucknow?", "Laxmi Nagar branch of the gold loan company moved?",
    "King Fahd Road branch has the biometrics machines?", "Al Olaya self-storage, is it air-conditioned?",
    "Rainbow Street florist delivers to Abdoun?", "Seef Mall optician does eye tests for kids?",
    "Al-Manara Square, is the translation office still upstairs?", "Rafidia lab opens at 7 for fasting tests?",
    "Partizanski Odredi office of the visa centre is on which floor?", "Skopje City Mall optician, open on Sundays?",
    "Macedonia Square to the storage facility, how far?", "Queen Rania Street traffic, the movers will be late",
    "Marine Drive sea view flat, do the movers need a permit?", "Zoo Road Kano branch has a gold valuer today?",
]
V9_SHAPE_FREE = [
    "The movers said 35 m³ but the truck was a 14 ft one", "We have 2 BHK worth of things and a piano on the 4th floor",
    "22K chain, 18.4 g, what's the loan value?", "Interest 0.99% a month or 12% a year, which is it?",
    "SPH -2.25 CYL -0.75 AXIS 180 for the right eye, the glasses feel wrong", "PD 63 mm or 64 mm, the two stores measured differently",
    "1.67 index lenses for ₹4,500 extra, worth it?", "Unit B-214 has a leak, the 5x10 ft one next to it is dry",
    "HbA1c 6.8%, the last test said 6.1%", "TSH 5.2 mIU/L, do I need to redo it fasting?", "Fasting 10-12 hours before the lipid profile?",
    "24 red roses ordered, 12 delivered", "Midnight delivery slot 23:00-23:59 still available?", "Age filter 28-34 keeps resetting",
    "Height filter 5'4\" to 5'10\" shows nothing", "1,200 words from Arabic to English, how many days?", "Per page or per word, the quote isn't clear",
    "ITR-2 for AY 2025-26, is the deadline still 31 July?", "Form 26AS doesn't match the TDS the bank cut", "VAT 15% on top of the fee?",
    "Zakat at 2.5% on the shop stock, do you calculate it?", "GSTR-3B for March filed late, what's the penalty?",
    "Sunday edition came on Monday", "Issue 42 of the magazine never arrived", "₹299 a month for the e-paper, is there a yearly plan?",
    "3 treatments over 90 days for the cockroaches?", "Termite warranty 5 years or 1 year?", "IELTS 7.0 with writing 6.5, enough for the visa?",
    "CRS 478, when is the next draw?", "Biometrics at 10:40, can I come earlier?", "Schengen 90/180 rule, does the transit count?",
    "Flight SV 1021 was delayed 3 hours, the movers waited", "6E 2134 landed at 14:50, the florist came at 14:00",
    "৳2,500 for the blood test package, is home collection free?", "₦45,000 for the move within Lekki?",
    "SAR 350 a month for the storage unit plus VAT?", "JOD 40 for the certified translation of 3 pages",
    "BHD 12.500 for the eye test and frames?", "MKD 1,800 for the annual newspaper plan", "AED 1,200 for the visa assistance package?",
    "Thanks, the report came", "Dhanyavaad, the glasses are perfect", "Shukriya for the quick delivery", "Nagode sosai",
    "E se gan", "Daalụ nke ukwuu", "Dhonnobad, sob thik ache", "Shukran jazeelan", "Yislamo, the movers were great",
    "Fala mnogu", "Many thanks, all sorted", "Ok noted with thanks",
]
V9_FREE_CLEAN = V9_HONORIFIC_FREE + V9_PEOPLE_FREE + V9_PLACE_FREE + V9_SHAPE_FREE
V9_PRODUCTS = ["2 BHK move", "local shifting", "car transport", "packing material", "wardrobe dismantling", "gold loan", "jewellery valuation",
               "part release", "progressive lenses", "blue-cut lenses", "contact lenses", "sunglasses", "eye test", "5x5 unit", "10x10 unit",
               "climate-controlled unit", "full body checkup", "thyroid profile", "lipid profile", "vitamin D test", "home collection",
               "bouquet of 12 roses", "cake and flowers combo", "midnight delivery", "premium membership", "profile boost",
               "certified translation", "apostille", "degree attestation", "income tax return", "VAT return", "bookkeeping",
               "annual e-paper plan", "Sunday edition", "magazine gift subscription", "cockroach gel treatment", "termite treatment",
               "bed bug treatment", "visa appointment", "premium lounge", "document courier", "English test"]
V9_PLACES = ["Delhi", "New Delhi", "Noida", "Gurugram", "Lucknow", "Jaipur", "Kanpur", "Laxmi Nagar", "Gomti Nagar", "Ahmedabad",
             "Surat", "Vadodara", "Rajkot", "Gandhinagar", "Navrangpura", "Bodakdev", "Mumbai", "Pune", "Nagpur", "Nashik", "Thane",
             "Andheri", "Dadar", "Hadapsar", "Dhaka", "Chattogram", "Sylhet", "Khulna", "Gulshan", "Banani", "Dhanmondi", "Uttara",
             "Kano", "Kaduna", "Abuja", "Sokoto", "Lagos", "Ibadan", "Lekki", "Ikeja", "Surulere", "Abeokuta", "Enugu", "Onitsha",
             "Owerri", "Aba", "Awka", "Riyadh", "Jeddah", "Dammam", "Al Khobar", "Makkah", "Madinah", "Amman", "Irbid", "Zarqa",
             "Aqaba", "Abdoun", "Sweifieh", "Manama", "Muharraq", "Riffa", "Seef", "Juffair", "Ramallah", "Nablus", "Bethlehem",
             "Hebron", "Jenin", "Gaza", "Skopje", "Bitola", "Ohrid", "Tetovo", "Kumanovo", "Struga", "Dubai", "Doha", "London",
             "Toronto", "Frankfurt"]
V9_CURRENCIES = [("rupees", "INR"), ("taka", "BDT"), ("naira", "NGN"), ("Saudi riyals", "SAR"), ("Jordanian dinars", "JOD"),
                 ("Bahraini dinars", "BHD"), ("shekels", "ILS"), ("denars", "MKD"), ("UAE dirhams", "AED"), ("Qatari riyals", "QAR"),
                 ("euros", "EUR"), ("US dollars", "USD"), ("pounds sterling", "GBP"), ("Canadian dollars", "CAD"), ("Australian dollars", "AUD")]
V9_PAY = ["UPI AutoPay", "a UPI QR", "MobiKwik", "Google Pay", "RuPay", "Rocket", "Upay", "Kuda", "PalmPay", "Moniepoint", "Remita",
          "a bank transfer", "USSD", "STC Pay", "mada", "Apple Pay", "Tabby", "Tamara", "CliQ", "eFAWATEERcom", "BenefitPay",
          "Jawwal Pay", "PalPay", "cash on delivery", "a cheque", "a demand draft", "NEFT", "IMPS", "EMI", "a Verve card"]
V9_STARTS = ["Namaste", "Namaskar", "Kem cho", "Jai Shri Krishna", "Ram Ram", "Assalamu alaikum", "Adab", "Nomoshkar", "Sannu",
             "Ina kwana", "Bawo ni", "E kaaro", "Kedu", "Ndewo", "Marhaba", "Ahlan", "Masa al-khair", "Sabah al-khair", "Zdravo",
             "Dobar den", "Respected sir", "Dear sir/madam", "Good day", "Hello team", "Hi, quick question", "Kindly note",
             "Sorry to bother again", "Urgent"]
V9_MONTHS = ["Diwali", "Navratri", "Uttarayan", "Ganesh Chaturthi", "Gudi Padwa", "Holi", "Pohela Boishakh", "Durga Puja", "Eid",
             "Sallah", "Ramadan", "the Hajj season", "Saudi National Day", "Founding Day", "Independence Day", "Ilinden", "Vodici",
             "the wedding season", "tax season", "the monsoon", "the summer holidays", "the new academic year"]
V9_CLEAN_TEMPLATES = [
    "{start}, the {movers} team packed {cartons} cartons but billed for {cartons2}", "Does {movers} go from {place} to {place2} with a {truck}?",
    "{movers} quoted {amount} for a {bhk} flat, is transit insurance included?", "{start}, {movers} broke the dining table during the move to {place}",
    "Can {movers} keep our things for {days} days before the move?", "{start}, {pawn} valued my {karat} chain at {amount}, the shop next door said more",
    "What is the interest on {amount} against gold at {pawn}?", "Can I release part of the gold at the {pawn} branch in {place}?",
    "{pawn} sent an auction notice but I paid the interest on {when}", "{start}, the {optician} glasses with {lens} lenses are blurry at the edges",
    "My {optician} order shows {rx}, the old glasses were different", "Does {optician} in {place} do free eye tests on {when}?",
    "Can I swap the {frame} frames at {optician} within {days} days?", "{start}, my {storage} unit {unit} has water on the floor",
    "{storage} raised the rent of a {unitsize} unit to {amount} a month", "Is {storage} in {place} open {hours}?",
    "Can I move to a smaller unit at {storage}, {unitsize} is too big", "{start}, the {lab} phlebotomist came at {clock} instead of the {slot} slot",
    "{lab} report shows {result}, is that normal for a {test}?", "How long should I fast before the {lab} {test}?",
    "{lab} home collection in {place} costs {amount}?", "{start}, {florist} delivered {stems} roses instead of {stems2}",
    "Can {florist} deliver a cake and flowers in {place} before {clock}?", "{florist} midnight delivery for {month} is {amount} extra?",
    "The {florist} bouquet wilted in a day, can I get a refund to {pay}?", "{start}, {matrimony} premium charged {amount} but my profile is still hidden",
    "Can I filter by {community} and {place} on {matrimony}?", "{matrimony} keeps showing matches aged {agerange}, I set a different range",
    "How do I hide my photo on {matrimony} from free members?", "{start}, {translation} quoted {amount} for {words} words from {lang} to {lang2}",
    "Does {translation} do certified translations for the {embassy}?", "Can {translation} get the degree certificate apostilled in {place}?",
    "{translation} sent the translation as {format} but the portal wants PDF", "{start}, {tax} filed {form} for AY {ay} but I needed {form2}",
    "{tax} fee is {amount}, does that include {vat}?", "Can {tax} do Zakat and VAT for a small shop in {place}?",
    "{tax} says the refund for AY {ay} is still in process", "{start}, the {news} {edition} edition didn't come today in {place}",
    "{news} digital plan is {amount} a month, can I pay with {pay}?", "Can I pause {news} delivery for {days} days during {month}?",
    "The {news} e-paper shows the {place2} edition instead of {place}", "{start}, {pest} treated the kitchen but the cockroaches are back after {days} days",
    "Does the {pest} {warranty} warranty cover termites?", "{pest} wants {amount} for a {bhk} flat, is that for {visits} visits?",
    "Is the {pest} gel safe with a {pet} at home?", "{start}, the {visa} appointment in {place} moved to {clock} on {when}",
    "Does {visa} accept {pay} for the {amount} service fee?", "{visa} said processing takes {processing}, it's been longer",
    "Is a {english} score of {score} enough for the {visa} application?", "Can I book a {visa} premium lounge slot in {place}?",
    "{start}, flight {flight} from {place} is delayed, can the {movers} truck wait?", "How much is {amount} in {code2}?",
    "Convert 500 {code} to {code2} please", "{start}, {shop} in {place} doesn't take {pay}", "Do {brand} and {brand2} belong to the same group?",
    "{start}, is {shop} open during {month}?", "Got {pct}% off at {shop} with {pay}", "{start}, does the {product} cost more in {place} than in {place2}?",
]
V9_CLOCK = ["7:30", "8 am", "10.45", "13:00", "noon", "4 pm", "18:30", "9ish", "half past six", "21:00", "quarter to eight"]
V9_HOURS = ["24/7", "Sat–Thu 9:00–21:00", "8am–8pm daily", "till 22:00 in Ramadan", "10-7 except Fridays", "Mon–Sat 7:00–19:00"]
V9_WHEN = ["Sunday", "next Friday", "the 15th", "3 March", "12/09", "2026-06-14", "Thursday evening", "tomorrow", "the 1st",
           "Eid day", "the last Saturday of the month"]
V9_TRUCKS = ["14 ft truck", "Tata Ace", "7.5 t lorry", "container", "pickup", "Bolero pickup", "3-ton truck"]
V9_LENSES = ["progressive", "blue-cut", "1.67 index", "photochromic", "bifocal", "anti-glare"]
V9_FRAMES = ["rimless", "titanium", "acetate", "kids'", "aviator", "half-rim"]
V9_TESTS = ["thyroid profile", "lipid profile", "CBC", "HbA1c", "vitamin D test", "full body checkup", "liver function test"]
V9_RESULTS = ["HbA1c 6.4%", "TSH 5.1 mIU/L", "vitamin D 18 ng/mL", "LDL 162 mg/dL", "Hb 11.2 g/dL", "ferritin 9 ng/mL"]
V9_LANGS = ["Hindi", "Gujarati", "Marathi", "Bengali", "Hausa", "Yoruba", "Igbo", "Arabic", "Macedonian", "English", "German", "French"]
V9_EMBASSIES = ["German embassy", "Canadian high commission", "Saudi cultural mission", "UK visa centre", "Dutch consulate",
                "Australian high commission"]
V9_FORMS = ["ITR-1", "ITR-2", "ITR-3", "ITR-4", "the VAT return", "Form 16", "GSTR-3B", "the Zakat return"]
V9_EDITIONS = ["Sunday", "weekend", "city", "Friday", "Diwali special", "morning"]
V9_PETS = ["cat", "dog", "parrot", "toddler", "rabbit"]
V9_COMMUNITIES = ["Gujarati", "Marathi", "Bengali", "Hindi-speaking", "Yoruba", "Igbo", "Hausa", "Arabic-speaking", "Macedonian"]


def _extra_v9(rng: random.Random) -> dict:
    amount = rng.choice([f"₹{rng.randint(1, 99)},{rng.randint(0, 9)}00", f"Rs. {rng.randint(200, 9000)}", f"৳{rng.randint(1, 90)},{rng.randint(0, 9)}00",
                         f"₦{rng.randint(5, 900)},000", f"SAR {rng.randint(50, 4000)}", f"{rng.randint(20, 900)} riyals",
                         f"JOD {rng.randint(5, 400)}", f"BHD {rng.randint(2, 90)}.{rng.choice(['000', '500', '250'])}",
                         f"₪{rng.randint(50, 2000)}", f"{rng.randint(300, 9000)} den", f"AED {rng.randint(50, 3000)}", f"£{rng.randint(20, 900)}",
                         f"€{rng.randint(20, 900)}", f"${rng.randint(10, 900)}"])
    brands = {group: rng.choice(names) for group, names in V9_BRANDS_OF.items()}
    cartons, cartons2 = sorted(rng.sample(range(12, 140), 2))
    stems, stems2 = rng.sample([6, 10, 12, 20, 24, 50, 100], 2)
    lang, lang2 = rng.sample(V9_LANGS, 2)
    form, form2 = rng.sample(V9_FORMS, 2)
    return dict(brands, amount=amount, cartons=str(cartons), cartons2=str(cartons2), truck=rng.choice(V9_TRUCKS),
                bhk=rng.choice(["1 BHK", "2 BHK", "3 BHK", "studio", "4-bedroom villa"]), days=str(rng.randint(3, 60)),
                karat=rng.choice(["22K", "18K", "24K", "21K"]), when=rng.choice(V9_WHEN), lens=rng.choice(V9_LENSES),
                rx=f"SPH {rng.choice('-+')}{rng.randint(0, 6)}.{rng.choice(['00', '25', '50', '75'])} CYL -{rng.randint(0, 2)}.{rng.choice(['25', '50', '75'])}",
                frame=rng.choice(V9_FRAMES), unit=f"{rng.choice('ABCDEF')}-{rng.randint(100, 450)}",
                unitsize=rng.choice(["5x5 ft", "5x10 ft", "10x10 ft", "10x20 ft", "25 sq ft", "50 sq ft"]), hours=rng.choice(V9_HOURS),
                clock=rng.choice(V9_CLOCK), slot=rng.choice(["6-8 am", "7-9 am", "8-10 am", "morning"]), result=rng.choice(V9_RESULTS),
                test=rng.choice(V9_TESTS), stems=str(stems), stems2=str(stems2), community=rng.choice(V9_COMMUNITIES),
                agerange=f"{rng.randint(24, 30)}-{rng.randint(31, 40)}", words=f"{rng.randint(1, 9)},{rng.randint(0, 9)}00", lang=lang, lang2=lang2,
                embassy=rng.choice(V9_EMBASSIES), format=rng.choice(["Word", "JPG", "a scan", "DOCX"]), form=form, form2=form2,
                ay=rng.choice(["2023-24", "2024-25", "2025-26"]), vat=rng.choice(["VAT", "15% VAT", "18% GST", "the 5% VAT"]),
                edition=rng.choice(V9_EDITIONS), warranty=rng.choice(["90-day", "6-month", "1-year", "5-year"]), visits=str(rng.randint(2, 4)),
                pet=rng.choice(V9_PETS), processing=rng.choice(["15 working days", "3-5 weeks", "48 hours", "10 days"]),
                english=rng.choice(["IELTS", "PTE", "TOEFL", "Duolingo"]), score=rng.choice(["6.5", "7.0", "79", "101", "58", "120"]),
                flight=rng.choice(["SV 1021", "6E 2134", "AI 101", "BG 088", "RJ 182", "GF 5", "W3 104", "XY 215", "EK 512"]),
                pct=str(rng.choice([5, 10, 15, 20, 25, 30, 40, 50])))


V9_EMOJI = [" 📦", " 🚚", " 💍", " 👓", " 🗄️", " 🧪", " 💐", " 💑", " 📝", " 🧾", " 📰", " 🐜", " 🛂"]


def _with_emoji_v9(text: str) -> str:
    return text + V9_EMOJI[sum(map(ord, text)) % len(V9_EMOJI)]


V9_SIGN_OFFS = [" pls revert", " kindly do the needful", " tnx", " abeg", " shukran", " fala"]


def _with_sign_off_v9(text: str) -> str:
    return text.rstrip("?.!") + V9_SIGN_OFFS[sum(map(ord, text)) % len(V9_SIGN_OFFS)]


def _doubled_question_v9(text: str) -> str:
    return text.rstrip("?.!") + "??" if text.endswith("?") else text


CLEAN_V9 = CleanRecipe("v9", V9_FREE_CLEAN, V9_CLEAN_TEMPLATES, V9_CURRENCIES, V9_BRANDS, V9_PLACES, V9_PRODUCTS, V9_PAY,
                       V9_STARTS, V9_MONTHS, ((0.09, str.lower), (0.13, str.upper), (0.2, _no_closing_punctuation),
                                              (0.24, _exclaimed), (0.3, _with_emoji_v9), (0.35, _with_sign_off_v9),
                                              (0.4, _doubled_question_v9)), extra=_extra_v9)


def build_clean_v9(seed: int, n: int) -> list[dict]:
    """Like ``build_clean_v8``: templates drawn until ``n`` distinct sentences are made, the draws in a fixed order."""
    seen: set[str] = set()
    rows = []
    for row in build_clean_heldout(CLEAN_V9, seed, n * 3):
        if row["text"] not in seen:
            seen.add(row["text"])
            rows.append(row)
        if len(rows) == n:
            return rows
    raise RuntimeError(f"only {len(rows)} distinct clean sentences")


def _write(name: str, rows: list[dict]) -> None:
    with (OUT / name).open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{name}: {len(rows)} rows")


def main() -> None:
    """``--v1``: the round-1 sets (dev, and the former held-out sets, now dev2); ``--v2``: the
    round-2 held-out sets (development data since round 3); ``--v3``: the round-3 held-out sets
    (development data since round 4); ``--v4``: the round-4 held-out sets (development data since
    round 5); ``--v5``: the round-5 held-out sets (development data since round 6); ``--v6``: the
    round-6 held-out sets (development data since round 7); ``--v7``: the round-7 held-out sets;
    ``--v8``: the round-8 held-out sets; default: the round-9 held-out sets."""
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, *sys.argv])
    OUT.mkdir(exist_ok=True)
    hosts = _hosts()
    if "--v1" in sys.argv:
        _write("injected_dev.jsonl", build_injected_v1(DEV_LOCALES, DEV_TEMPLATES, False, 120, 11, hosts))
        _write("injected_dev2.jsonl", build_injected_v1(HELDOUT_LOCALES, HELDOUT_TEMPLATES, True, 250, 29, hosts))
        _write("clean_dev.jsonl", build_clean(2, 400, 0))
        _write("clean_dev2.jsonl", build_clean(3, 1000, 1))
    elif "--v2" in sys.argv:
        _write("injected_heldout_v2.jsonl", build_injected_v2(250, 4177, hosts))
        _write("clean_heldout_v2.jsonl", build_clean_heldout(CLEAN_V2, 5081, 1000))
    elif "--v3" in sys.argv:
        _write("injected_heldout_v3.jsonl", build_injected_v3(250, 6007, hosts))
        _write("clean_heldout_v3.jsonl", build_clean_heldout(CLEAN_V3, 7321, 1000))
    elif "--v4" in sys.argv:
        _write("injected_heldout_v4.jsonl", build_injected_v4(250, 8111, hosts))
        _write("clean_heldout_v4.jsonl", build_clean_heldout(CLEAN_V4, 9403, 1200))
    elif "--v5" in sys.argv:
        _write("injected_heldout_v5.jsonl", build_injected_v5(250, 10211, hosts))
        _write("clean_heldout_v5.jsonl", build_clean_heldout(CLEAN_V5, 11587, 1200))
    elif "--v6" in sys.argv:
        _write("injected_heldout_v6.jsonl", build_injected_v6(250, 12503, hosts))
        _write("clean_heldout_v6.jsonl", build_clean_v6(13829, 1200))
    elif "--v7" in sys.argv:
        _write("injected_heldout_v7.jsonl", build_injected_v7(250, 14851, hosts))
        _write("clean_heldout_v7.jsonl", build_clean_v7(15937, 1200))
    elif "--v8" in sys.argv:
        _write("injected_heldout_v8.jsonl", build_injected_v8(250, 16987, hosts))
        _write("clean_heldout_v8.jsonl", build_clean_v8(17909, 1200))
    else:
        _write("injected_heldout_v9.jsonl", build_injected_v9(250, 18973, hosts))
        _write("clean_heldout_v9.jsonl", build_clean_v9(19991, 1200))


if __name__ == "__main__":
    main()
