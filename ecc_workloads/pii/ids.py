"""Structured personal data found with libraries and checksums: phone numbers (``phonenumbers``),
IBANs, cards and national identifiers (``python-stdnum``), IP addresses (``ipaddress``); and,
where no library covers the case, short context rules: dates of birth, postcodes, user names,
a card's expiry and CVV, spelled-out e-mail addresses.

Every function takes the (normalised) text and returns ``(start, end, TYPE)`` triples; the
caller (``ecc_workloads.pii.scrubber``) merges them with its other detectors.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

Found = tuple[int, int, str]

# ---------------------------------------------------------------------------
# Phones: phonenumbers validates a candidate for the regions the fleet serves
# ---------------------------------------------------------------------------
PHONE_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "IE", "PT", "BE", "AT", "CH", "CA", "AU",
                 "SE", "DK", "NO", "FI", "PL", "IN", "BR", "MX")


@lru_cache(maxsize=1)
def _phonenumbers():
    import phonenumbers

    return phonenumbers


def valid_phone(raw: str) -> bool:
    """True if ``raw`` is a valid number for some region (international form: its own region)."""
    pn = _phonenumbers()
    digits = re.sub(r"\D", "", raw)
    if not 6 <= len(digits) <= 17:
        return False
    regions = (None,) if raw.lstrip("(").startswith("+") else PHONE_REGIONS
    for region in regions:
        try:
            num = pn.parse(raw, region)
        except pn.NumberParseException:
            continue
        if pn.is_valid_number(num):
            return True
    return False


# ---------------------------------------------------------------------------
# IBAN: country code, check digits, 10–30 alphanumerics, grouped or not; checksum by stdnum
# ---------------------------------------------------------------------------
_IBAN_CAND_RE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2}\d{2}(?:[ \-]?[A-Za-z0-9]){10,30})")
_IBAN_CUE_RE = re.compile(r"\biban\b|\baccount\b|\bkonto\b|\bcompte\b|\bcuenta\b|\bconto\b|\brekening\b", re.IGNORECASE)


# The print format of ISO 13616: the country code and check digits, then groups of four
_IBAN_PRINT_RE = re.compile(r"[A-Z]{2}\d{2}(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?")


@lru_cache(maxsize=1)
def _iban_countries() -> frozenset[str]:
    """Country codes that have an IBAN format (python-stdnum's registry)."""
    from stdnum import numdb

    return frozenset(entry[1].upper() for entry in numdb.get("iban").prefixes if len(entry[1]) == 2)


def _iban_shaped(raw: str, text: str, start: int) -> bool:
    """A candidate whose checksum fails is still an IBAN when a cue precedes it, or when it is
    printed as IBANs are (groups of four) for a country that has IBANs: a typo in one digit
    must not leave the rest of the account number in the text."""
    compact = re.sub(r"[ \-]", "", raw)
    if not (raw[:2].isupper() and 15 <= len(compact) <= 34 and sum(c.isdigit() for c in compact) >= 8):
        return False
    if _IBAN_CUE_RE.search(text[max(0, start - 30):start]):
        return True
    return raw[:2] in _iban_countries() and bool(_IBAN_PRINT_RE.fullmatch(raw))


def find_ibans(text: str) -> list[Found]:
    from stdnum import iban

    out: list[Found] = []
    for m in _IBAN_CAND_RE.finditer(text):
        raw = m.group(1)
        # try the longest prefix that validates (a grouped IBAN may run into a following word)
        best = None
        for cut in range(len(raw), 11, -1):
            cand = raw[:cut]
            if cand[-1] in " -":
                continue
            if cut < len(raw) and raw[cut].isalnum() and raw[cut - 1].isalnum():
                continue  # never cut inside a group
            compact = re.sub(r"[ \-]", "", cand).upper()
            if 15 <= len(compact) <= 34 and iban.is_valid(compact):
                best = cand
                break
        if best is None:
            # no valid checksum: the whole candidate or a prefix of it that ends a group
            cuts = [raw] + [raw[:g.start()] for g in reversed(list(re.finditer(r"[ \-]", raw)))]
            best = next((c for c in cuts if _iban_shaped(c, text, m.start())), None)
        if best:
            out.append((m.start(1), m.start(1) + len(best), "IBAN"))
    return out


# ---------------------------------------------------------------------------
# IP addresses: candidates validated by the standard library
# ---------------------------------------------------------------------------
_IPV4_RE = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d{1,3}){3})(?![\w]|\.\d)")
_IPV6_RE = re.compile(r"(?<![\w:])([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?![\w:])")
_VERSION_CUE_RE = re.compile(r"\b(?:version|ver|v|release|build|firmware|update)\.?\s*$", re.IGNORECASE)


def find_ips(text: str) -> list[Found]:
    out: list[Found] = []
    if "." in text:
        for m in _IPV4_RE.finditer(text):
            if _VERSION_CUE_RE.search(text[max(0, m.start() - 12):m.start()]):
                continue
            try:
                ipaddress.IPv4Address(m.group(1))
            except ValueError:
                continue
            out.append((m.start(1), m.end(1), "IP_ADDRESS"))
    if text.count(":") >= 2:
        for m in _IPV6_RE.finditer(text):
            cand = m.group(1)
            if cand.count(":") < 2 or not re.search(r"[0-9A-Fa-f]", cand):
                continue
            try:
                ipaddress.IPv6Address(cand)
            except ValueError:
                continue
            out.append((m.start(1), m.end(1), "IP_ADDRESS"))
    return out


# ---------------------------------------------------------------------------
# National identifiers: stdnum validators (with checksums) and a cue rule
# ---------------------------------------------------------------------------
_NATIONAL_VALIDATORS = (
    "us.ssn", "fr.nir", "it.codicefiscale", "es.dni", "es.nie", "nl.bsn", "de.idnr", "ie.pps",
    "pt.nif", "be.nn", "dk.cpr", "se.personnummer", "fi.hetu", "no.fodselsnummer", "pl.pesel",
    "ca.sin", "br.cpf", "in_.aadhaar",
)


@lru_cache(maxsize=1)
def _validators():
    import importlib

    mods = []
    for name in _NATIONAL_VALIDATORS:
        try:
            mods.append(importlib.import_module(f"stdnum.{name}"))
        except ImportError:  # pragma: no cover - a module missing from an older stdnum
            continue
    return tuple(mods)


# Tokens that may be an identifier: digits and letters with optional single separators.
_ID_CAND_RE = re.compile(r"(?<![\w/])([A-Za-z]{0,6}\d[\dA-Za-z]*(?:[ .\-/][\dA-Za-z]+){0,5})(?![\w])")
# UK National Insurance number (HMRC's shape: two letters, three pairs of digits, a suffix letter;
# the letter rules are not enforced, so temporary and test numbers are caught too).
_NINO_RE = re.compile(r"(?<![\w])([A-Z]{2}[ ]?\d{2}[ ]?\d{2}[ ]?\d{2}[ ]?[A-Z]?)(?![\w])")
_NATIONAL_CUE_RE = re.compile(
    r"\b(?:ssn|social\s+security(?:\s+number|\s+no\.?)?|national\s+(?:id|identity|insurance)(?:\s+(?:number|no\.?|card))?|"
    r"ni\s+(?:number|no\.?)|nino|tax\s+(?:id|identification|number|code|no\.?)|tin|personal\s+(?:id|number|code)|"
    r"id\s+(?:number|no\.?|card(?:\s+number)?)|identity\s+(?:number|card(?:\s+number)?)|passport(?:\s+(?:number|no\.?))?|"
    r"driver'?s?\s+licen[cs]e(?:\s+(?:number|no\.?))?|nif|nie|dni|bsn|pps(?:\s+number)?|nir|insee|codice\s+fiscale|"
    r"steuer-?id|steueridentifikationsnummer|personalausweis(?:nummer)?|sozialversicherungsnummer|"
    r"numéro\s+de\s+sécurité\s+sociale|cpf|pesel|aadhaar)\b"
    r"(?:\s*/\s*(?:nif|nie|dni|ssn|tin))*\s*(?:is|was|:|=|-|#|number|no\.?)?\s*(?:it'?s\s+)?",
    re.IGNORECASE,
)


def find_national_ids(text: str) -> list[Found]:
    out: list[Found] = []
    for m in _NINO_RE.finditer(text):
        out.append((m.start(1), m.end(1), "NATIONAL_ID"))
    validators = _validators()
    for m in _ID_CAND_RE.finditer(text):
        raw = m.group(1)
        digits = sum(c.isdigit() for c in raw)
        if digits < 7:
            continue
        compact = re.sub(r"[ .\-/]", "", raw)
        for mod in validators:
            try:
                ok = mod.is_valid(compact)
            except Exception:  # noqa: BLE001 - a validator that chokes on odd input says no
                ok = False
            if ok:
                # an all-digit number passes some checksum by chance (one in ten or eleven per
                # scheme) and phones and order numbers are all digits: without a cue only shapes
                # that are distinctive count (letters inside, a dashed SSN, a 15-digit NIR)
                numeric = not any(c.isalpha() for c in raw)
                distinctive = not numeric or re.fullmatch(r"\d{3}-\d{2}-\d{4}", raw) or (
                    mod.__name__ == "stdnum.fr.nir" and len(compact) == 15)
                if distinctive or _NATIONAL_CUE_RE.search(text[max(0, m.start() - 40):m.start()]):
                    out.append((m.start(1), m.end(1), "NATIONAL_ID"))
                break
    for m in _NATIONAL_CUE_RE.finditer(text):
        tok = re.match(r"([A-Za-z]{0,3}\d[\dA-Za-z]*(?:[ .\-/][\dA-Za-z]*\d[\dA-Za-z]*){0,5}[A-Za-z]?)(?![\w])", text[m.end():])
        if tok and sum(c.isdigit() for c in tok.group(1)) >= 5:
            out.append((m.end(), m.end() + len(tok.group(1)), "NATIONAL_ID"))
    return out


# ---------------------------------------------------------------------------
# Dates of birth: a date after a birth cue (a date alone is not personal data)
# ---------------------------------------------------------------------------
_MONTHS = (r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
           r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|"
           r"januar|februar|märz|mai|juni|juli|oktober|dezember|janvier|février|mars|avril|juin|"
           r"juillet|août|septembre|octobre|novembre|décembre|enero|febrero|marzo|abril|mayo|junio|"
           r"julio|agosto|septiembre|octubre|noviembre|diciembre|gennaio|febbraio|aprile|maggio|"
           r"giugno|luglio|settembre|ottobre|dicembre|januari|februari|maart|mei|augustus|"
           r"janeiro|fevereiro|março|maio|junho|julho|setembro|outubro|novembro|dezembro")
# A weekday may precede a written date ("Tuesday 17 April 1979", "Di., 3. März 1980").
_WEEKDAY = (r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues|tue|wed|thurs|thur|thu|fri|sat|sun|"
            r"montag|dienstag|mittwoch|donnerstag|"
            r"freitag|samstag|sonntag|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|lunes|martes|"
            r"miércoles|jueves|viernes|sábado|domingo")
DATE_RE = re.compile(
    rf"(?:(?:{_WEEKDAY})\.?,?\s+)?"
    rf"(?:\d{{1,2}}[./\-]\d{{1,2}}[./\-]\d{{2,4}}|\d{{4}}[./\-]\d{{1,2}}[./\-]\d{{1,2}}|"
    rf"\d{{1,2}}(?:st|nd|rd|th)?(?:\s+of)?[\s\-.]+(?:{_MONTHS})\.?,?[\s\-.]+\d{{2,4}}|"
    rf"\d{{1,2}}\.\s+(?:{_MONTHS})\.?\s+\d{{2,4}}|"
    rf"(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{2,4}})(?![\w])",
    re.IGNORECASE,
)
_DOB_CUE_RE = re.compile(
    r"(?<![\w])(?:date\s+of\s+birth|birth\s*date|birthdate|birthday|d\.?o\.?b|born(?:\s+on)?|"
    r"geboren(?:\s+am)?|geburtsdatum|né(?:e)?\s+le|date\s+de\s+naissance|fecha\s+de\s+nacimiento|"
    r"nacid[oa]\s+el|data\s+di\s+nascita|nat[oa]\s+il|geboortedatum|data\s+de\s+nascimento|"
    r"födelsedatum|fødselsdato|data\s+urodzenia|urodzon[ya])(?![\w])\.?",
    re.IGNORECASE,
)


def find_dates_of_birth(text: str) -> list[Found]:
    out: list[Found] = []
    for m in _DOB_CUE_RE.finditer(text):
        window = text[m.end():m.end() + 40]
        d = DATE_RE.search(window)
        if d and not re.search(r"[.!?;]", window[:d.start()]):
            out.append((m.end() + d.start(), m.end() + d.end(), "DATE_OF_BIRTH"))
    return out


# ---------------------------------------------------------------------------
# Postcodes: distinctive national shapes anywhere, any shape after a postcode cue
# ---------------------------------------------------------------------------
POSTCODE_SHAPES = re.compile(
    r"(?<![\w/-])(?:[A-Z]{1,2}\d[A-Z\d]?[ ]?\d[A-Z]{2}"  # UK
    r"|[AC-FHKNPRTV-Y]\d[\dW][ ]?[AC-FHKNPRTV-Y\d]{4}"  # Irish Eircode
    r"|[A-Z]\d[A-Z][ ]?\d[A-Z]\d"  # Canada
    r"|[1-9]\d{3}[ ]?(?!SA|SD|SS)[A-Z]{2}"  # Netherlands
    r"|\d{4}-\d{3})(?![\w-]|/\w)"  # Portugal; "MQ6T3ZD/A" is a model number
)
_POSTCODE_CUE_RE = re.compile(
    r"\b(?:post\s*code|postal\s+code|zip(?:\s*code)?|plz|postleitzahl|code\s+postal|c[oó]digo\s+postal|"
    r"cap|c\.p\.|cp|cep|eircode|postnummer|postnr\.?|kod\s+pocztowy|psč|psc|"
    # India's postal index number, only when the sentence gives it ("our pin code is 560034"):
    # an account's "PIN code 581 kr" is followed by anything
    r"pin\s*code(?=\s*(?:is|:|=)\s*(?:\d{4,6}|\d{3}\s\d{2,3})(?![\w/]|\.\d))|pincode)\b"
    # "post code on the card is 5037", "my postcode's 5014": a short phrase may sit between
    r"(?:(?:\s+[a-z]+){1,4}?\s+(?:is|was)\b|\s*['’]s\b)?\s*(?:is|:|=|-)?\s*",
    re.IGNORECASE,
)
_POSTCODE_TOKEN_RE = re.compile(r"[A-Za-z0-9]{2,8}(?:[ \-][A-Za-z0-9]{2,4})?(?![\w])")
_PLACE_CUE_RE = re.compile(
    r"\b(?:live\s+in|living\s+in|based\s+in|deliver(?:y|ing)?\s+(?:to|in)|ship(?:ping)?\s+to|area|in)\s+(?:the\s+)?$",
    re.IGNORECASE)
_DELIVERY_CUE_RE = re.compile(
    r"\b(?:deliver(?:y|ing)?|ship(?:ping)?|post(?:ing)?|send(?:ing)?)\s+(?:\w+\s+)?to\s+$|"
    # "is delivery free for 8764?", "shipping cost for 2000?"
    r"\b(?:deliver(?:y|ies)?|ship(?:ping)?|postage)\s+(?:\w+\s+){0,2}(?:for|in|into)\s+$|"
    # "we moved, the new code is 922 21": after a move, the new code is where one lives
    r"\b(?:moved|moving|relocated)\b[^.!?\n]{0,24}\bcode\s*(?:is|:|=)\s*$", re.IGNORECASE)
# "we are in the 2000 area", "the 75011 district": a code named as an area
_AREA_AFTER_RE = re.compile(r"[ \t]+(?:area|district|region|zone|postcode|post\s+code|zip\s+code)\b", re.IGNORECASE)


def find_postcodes(text: str) -> list[Found]:
    out: list[Found] = []
    for m in POSTCODE_SHAPES.finditer(text):
        value = m.group(0)
        if re.fullmatch(r"[A-Z]{2}\d{2}", value.replace(" ", "")[:4]) and len(value.replace(" ", "")) < 5:
            continue
        out.append((m.start(), m.end(), "POSTCODE"))
    for m in _POSTCODE_CUE_RE.finditer(text):
        tok = _POSTCODE_TOKEN_RE.match(text, m.end())
        if tok and any(c.isdigit() for c in tok.group(0)):
            out.append((tok.start(), tok.end(), "POSTCODE"))
    # a bare 4–5 digit code right after "I live in", "delivery to": a postcode, not a count
    for m in re.finditer(r"(?<![\w$€£.,])(\d{4,5}|\d{3} \d{2})(?![\w%]|[.,]\d|\s*(?:dollars|euros|pounds|items|years|days))", text):
        if " " in m.group(1) and not _DELIVERY_CUE_RE.search(text[max(0, m.start() - 48):m.start()]):
            continue  # "922 21" (Czech, Slovak, Swedish, Greek shape) only after a delivery cue
        before = text[max(0, m.start() - 48):m.start()]
        if re.search(r"\b(?:ending|ends)\s+(?:in|with)\s+$", before, re.IGNORECASE):
            continue  # "card ending in 4242": a card's last digits
        if _AREA_AFTER_RE.match(text, m.end(1)) or _DELIVERY_CUE_RE.search(before) or (
                _PLACE_CUE_RE.search(before) and not (1900 <= int(m.group(1).replace(" ", "")) <= 2100)):
            out.append((m.start(1), m.end(1), "POSTCODE"))
    return out


# ---------------------------------------------------------------------------
# User names: after a username cue, and @handles that are not part of an e-mail
# ---------------------------------------------------------------------------
# A small cue grammar: [what the name is called] [separator] [the name]. The noun phrase is a
# kind of account name ("user name", "login name", "sign-in name", "gamer tag", "forum name" …);
# the separator "is", "'s", ":", "=", "-" or nothing. A bare "account" takes a name only as a form
# field ("Account: jdoe"), see find_usernames.
_USER_NOUN = (r"(?:user\s*name|user\s*id|user|log\s*in\s+as|logged\s+in\s+as|sign\s*in\s+as|signed\s+in\s+as|"
              r"log\s*-?\s*in(?:\s+(?:name|id))?|sign\s*-?\s*in(?:\s+(?:name|id))?|handle|screen\s*name|"
              r"gamer\s*-?\s*tag|game\s*tag|nick\s*name|nickname|account\s+(?:name|login|id|handle)|alias|profile(?:\s+name)?|"
              r"member\s+name|display\s+name|(?:forum|community|site|app)\s+(?:name|user\s*name|handle))")
_USER_CUE_RE = re.compile(
    rf"\b{_USER_NOUN}\b"
    r"(?:\s*['’]s\b)?\s*(?:is|was|:|=|-)?\s*",
    re.IGNORECASE,
)
# "Account: jdoe", "account = jdoe": a form field
_ACCOUNT_FIELD_RE = re.compile(r"\baccount\s*[:=]\s*", re.IGNORECASE)
# "I'm jdoe on your forum", "I am jdoe_88 on the app": who one is on a site is a user name
_ON_SITE_RE = re.compile(
    r"\b(?:i['’]?m|i\s+am|i\s+go\s+by|i['’]m\s+called)\s+@?([A-Za-z0-9][\w.\-]{2,31})\s+on\s+(?:your|the|this)\s+"
    r"(?:forum|forums|app|site|website|server|platform|community|board|discord|store|game)\b", re.IGNORECASE)
_USER_TOKEN_RE = re.compile(r"@?([A-Za-z0-9][\w.\-]{2,31})(?![\w@])")
_HANDLE_RE = re.compile(r"(?<![\w.@])@([A-Za-z_][\w.]{2,30}[\w])(?![\w@.]*\.[a-z]{2,})")
_NOT_USERNAMES = frozenset(
    "the a an my your our is was has have had and or but for from with that this there here not "
    "account name password email e-mail mail number id please help locked blocked because again "
    "yesterday today now still also just only when why how what who which me him her them us you "
    "myself someone somebody anyone nobody guest admin page settings picture photo "
    # the cue words themselves ("switching user\nsign-in name …")
    "user username login log-in sign-in signin profile handle account gamertag nickname alias".split()
)


# "the account jdoe_88 got hacked", "profile mkovac was suspended": an account named by what
# happened to it
_ACCOUNT_STATE_RE = re.compile(
    r"\b(?:account|profile|login)\s+@?([A-Za-z0-9][\w.\-]{2,31})\s+(?:"
    r"(?:got|was|is|has\s+been|had\s+been|keeps\s+getting)\s+"
    r"(?:hacked|locked|suspended|blocked|banned|compromised|disabled|deleted|closed|frozen|stolen|taken\s+over)\b|"
    # "the profile mkovac isn't mine": an account disowned
    r"(?:is\s*n['’]?t|is\s+not|was\s*n['’]?t|was\s+not|does\s*n['’]?t\s+belong\s+to|doesn['’]t\s+belong\s+to)\s+"
    r"(?:mine|me|my\s+own|my\s+account)\b)",
    re.IGNORECASE)


def _accounts_by_state(text: str) -> list[Found]:
    from ecc_workloads.pii import names

    out: list[Found] = []
    for m in _ACCOUNT_STATE_RE.finditer(text):
        word = m.group(1)
        if word.lower() in _NOT_USERNAMES or (word.isalpha() and names.is_ordinary(word)):
            continue  # "the account itself was hacked", "my account balance is blocked"
        out.append((m.start(1) - (text[m.start(1) - 1] == "@"), m.end(1), "USERNAME"))
    return out


def _handle_like(word: str) -> bool:
    """A token that reads as an account name rather than a word: digits, "_", "." or "-" inside,
    or a lower-case run that is no ordinary word ("balbu", "hsezer")."""
    from ecc_workloads.pii import names

    if re.search(r"\d|[_.\-]\w", word):
        return not word.isdigit()
    return len(word) >= 4 and not names.is_ordinary(word)


def find_usernames(text: str) -> list[Found]:
    out: list[Found] = _accounts_by_state(text)
    for m in _ON_SITE_RE.finditer(text):
        if m.group(1).lower() not in _NOT_USERNAMES and _handle_like(m.group(1)):
            out.append((m.start(1) - (text[m.start(1) - 1] == "@"), m.end(1), "USERNAME"))
    for m in _ACCOUNT_FIELD_RE.finditer(text):
        tok = _USER_TOKEN_RE.match(text, m.end())
        if tok and tok.group(1).lower() not in _NOT_USERNAMES and _handle_like(tok.group(1).rstrip(".-")) and (
                "@" not in text[tok.end():tok.end() + 1]):
            out.append((tok.start(), tok.start() + len(tok.group(0).rstrip(".-")), "USERNAME"))
    for m in _USER_CUE_RE.finditer(text):
        tok = _USER_TOKEN_RE.match(text, m.end())
        if not tok:
            continue
        word = tok.group(1).rstrip(".-")
        if word.lower() in _NOT_USERNAMES or "@" in text[tok.end():tok.end() + 1]:
            continue
        # "the login came from …", "user guide": after a bare cue (no "is", ":" or "as") a plain
        # word is a user name only if it ends the clause or is no ordinary word
        if word.isalpha() and not re.search(r"[:=]|\bis\b|\bas\b|['’]s\b", m.group(0)):
            from ecc_workloads.pii import names

            tok_end = tok.start() + len(tok.group(0).rstrip(".-"))
            ends_clause = re.match(r"\s*(?:[.,;:!?)]|$|\bis\b|\bwas\b)", text[tok_end:])
            if names.is_ordinary(word) or len(word) < 4 or not ends_clause:
                continue
        if word.isalpha() and re.match(r"[ \t]+[a-z]", text[tok.end():]) and not _handle_like(word):
            continue  # "creating a user: pay it back into …": a word that goes on into a clause
        cue = m.group(0).strip().lower()
        # after a bare "user"/"handle", a plain dictionary-looking lowercase word needs a colon/is
        if cue in ("user", "handle", "alias") and not re.search(r"[:=]|\bis\b", m.group(0)) and word.isalpha():
            continue
        out.append((tok.start(), tok.start() + len(tok.group(0).rstrip(".-")), "USERNAME"))
    for m in _HANDLE_RE.finditer(text):
        out.append((m.start(), m.end(), "USERNAME"))
    return out


# ---------------------------------------------------------------------------
# Cards: masked numbers, expiry and CVV next to a card or after their cue
# ---------------------------------------------------------------------------
_MASKED_CARD_RE = re.compile(
    r"(?<![\w*])(?:(?:[*xX•·#]{4}[ \-]?){1,3}[*xX•·#]{0,4}[ \-]?\d{4}|"
    r"(?<=card )(?:ending|ends)(?:\s+(?:in|with))?\s+\d{4}|"
    r"(?:ending|ends)\s+(?:in|with)\s+\d{4}(?=\s*[,;]?\s*(?:exp|valid|good))|"
    # "card *7908", "last four 4348", "last 4 digits 1234"
    r"(?<![\w*])\*{1,4}[ ]?\d{4}|\blast\s+(?:four|4)(?:\s+digits)?\s*(?:are|:)?\s*\d{4})(?![\w])",
    re.IGNORECASE)
_EXPIRY_CUE_RE = re.compile(
    r"\b(?:exp(?:iry|iration|ires|ire)?(?:\s+date)?|valid\s+(?:thru|through|until|till|to)|good\s+(?:thru|through|till|until)|"
    r"expiring)\b\.?\s*(?:date)?\s*(?:\(?\s*mm\s?/\s?(?:yy|yyyy|aa)\s*\)?\s*)?"  # "Expiry (MM/YY) 07/26": the form's hint
    r"(?:(?:is|:|=|-|on|in|at\s+the\s+end\s+of|end\s+of)\s*)*",
    re.IGNORECASE,
)
_MONTH_NAMES = (r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
                r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
# MM/YY, MM-YYYY, MM.YY, "MM / YY"; after a cue also MMYY and "Mon YYYY", "September 2029"
# also "MM YY" with a space ("06 34") and "January '27"
_EXPIRY_SHAPE = (rf"(?:0?[1-9]|1[0-2])\s?[/\-.]\s?(?:\d{{2}}|20\d{{2}})(?![\w/])|(?:0[1-9]|1[0-2])[ ](?:2\d|3\d)(?![\w/,.]\d)(?![\w/])|"
                 rf"(?i:(?:{_MONTH_NAMES})\.?)(?:\s+|\s?[-/]\s?)(?:20|['’])?\d{{2}}(?![\w/])")
_EXPIRY_RE = re.compile(
    rf"{_EXPIRY_SHAPE}|(?:0[1-9]|1[0-2])\d{{2}}(?![\w/])|20\d{{2}}[/\-.](?:0?[1-9]|1[0-2])(?![\w/])")
_CVV_CUE_RE = re.compile(
    r"\b(?:cvv2?|cvc2?|cid|csc|cav2|cvn|(?<!social\s)(?:security|sec\.?)\s+(?:code|number|no\.?|digits)|"
    r"(?:card\s+)?verification\s+(?:code|number|value)|card\s+verification|"
    r"(?:code|number|digits)\s+on\s+the\s+back(?:\s+of\s+the\s+card)?|(?:three|four|3|4)[- ]digit\s+(?:code|number))"
    r"(?![\w])\.?\s*(?:is|are|:|=|-|code)?\s*",
    re.IGNORECASE,
)
_CVV_RE = re.compile(r"\d{3,4}(?!\d)")


_SLASHED_EXPIRY_RE = re.compile(r"(?:0?[1-9]|1[0-2])\s?/\s?(?:\d{2}|20\d{2})")
_CARD_CONTEXT_RE = re.compile(
    r"\b(?:card|visa|mastercard|amex|maestro|discover|debit|credit|cvv2?|cvc2?|csc|cid|security\s+code)\b",
    re.IGNORECASE)


def find_card_details(text: str, card_spans: list[tuple[int, int]]) -> list[Found]:
    out: list[Found] = []
    cards = list(card_spans)
    # a masked number ("**** **** **** 4242", "card ending in 4242") shows only the last four
    # digits, which receipts print and PCI DSS allows to display: it is not replaced, but an
    # expiry or CVV right after it is
    for m in _MASKED_CARD_RE.finditer(text):
        cards.append((m.start(), m.end()))
    for m in _EXPIRY_CUE_RE.finditer(text):
        e = _EXPIRY_RE.match(text, m.end())
        if not e:
            continue
        # "expires March 2027", "exp 0327": plans and warranties expire too — these shapes need a
        # card nearby; "MM/YY" after an expiry cue is a card's expiry on its own
        if not _SLASHED_EXPIRY_RE.fullmatch(e.group(0)) and not (
                _CARD_CONTEXT_RE.search(text[max(0, m.start() - 60):e.end() + 40])
                or any(c_end <= m.start() and m.start() - c_end <= 40 for _c, c_end in cards)):
            continue
        out.append((e.start(), e.end(), "CARD_EXPIRY"))
    for m in _CVV_CUE_RE.finditer(text):
        c = _CVV_RE.match(text, m.end())
        if c:
            out.append((c.start(), c.end(), "CARD_CVV"))
    # "4111 1111 1111 1111 08/27 123", "… | 06.2029 | 261": an expiry / CVV right after a card number
    for _start, end in cards:
        e = _EXPIRY_AFTER_CARD_RE.match(text, end, end + 44)
        if e:
            out.append((e.start(1), e.end(1), "CARD_EXPIRY"))
            c = _CVV_AFTER_EXPIRY_RE.match(text, e.end(), e.end() + 40)
            if c:
                out.append((c.start(1), c.end(1), "CARD_CVV"))
    return out


# What may sit between a card number, its expiry and its CVV: separators (a form's "|" too),
# an opening parenthesis, and the fields' cue words ("exp. date", "valid till", "sec code")
_DETAIL_SEP = r"[\s,;/|()\-–]*"
_EXPIRY_AFTER_CARD_RE = re.compile(
    rf"{_DETAIL_SEP}(?:(?:exp\w*(?:\.?\s+date)?|valid\s+\w+|good\s+\w+)\.?\s*:?\s*)?"
    rf"((?:0?[1-9]|1[0-2])\s?[/\-.]\s?(?:20\d{{2}}|\d{{2}})|(?:0[1-9]|1[0-2])[ ](?:2\d|3\d)|"
    rf"(?:{_MONTH_NAMES})\.?(?:\s+|\s?[-/]\s?)(?:20|['’])?\d{{2}})"
    rf"(?![\w/]|[.\-]\d)", re.IGNORECASE)
# right after an expiry a bare "code" is the CVV ("good through 03/32, code 597")
_CVV_AFTER_EXPIRY_RE = re.compile(rf"{_DETAIL_SEP}(?:{_CVV_CUE_RE.pattern}|code\s*(?:is|:)?\s*)?(\d{{3,4}})(?![\w])",
                                  re.IGNORECASE)


# ---------------------------------------------------------------------------
# E-mails spelled out: "jane dot doe at example dot com", "jane [at] example [dot] com"
# ---------------------------------------------------------------------------
def _country_tlds() -> str:
    """Every country's code top-level domain (".hu", ".hr", ".sk" …): the regions phonenumbers
    knows, which are the ISO 3166 country codes."""
    try:
        import phonenumbers

        return "|".join(sorted(r.lower() for r in phonenumbers.SUPPORTED_REGIONS if len(r) == 2))
    except ImportError:  # pragma: no cover - phonenumbers is a dependency
        return "uk|us|de|fr|es|it|nl|ie|pt|be|at|ch|se|dk|no|fi|pl|cz|ca|au|nz|in|br|mx|ar|jp|cn|ru"


# second-level forms first, so "co.uk" is not cut at "co"
_TLDS = ("org\\.uk|co\\.uk|com\\.au|co\\.[a-z]{2}|com\\.[a-z]{2}|"
         "com|net|org|edu|gov|info|biz|io|me|eu|uk|tv|app|dev|online|shop|email|mail|ai|xyz|" + _country_tlds())
_DOT = r"\s*(?:\(\s*dot\s*\)|\[\s*dot\s*\]|\{\s*dot\s*\}|\bdot\b|\bpunkt\b|\bpoint\b|\bpunto\b|\.)\s*"
_AT = r"\s*(?:\(\s*at\s*\)|\[\s*at\s*\]|\{\s*at\s*\}|\bat\b|\bchez\b|\barroba\b|\bchiocciola\b|\bapenstaart\b|@)\s*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9_+\-]*[A-Za-z0-9])?"
_SPELLED_EMAIL_RE = re.compile(
    rf"(?<![\w.])(?P<local>{_LABEL}(?:(?:{_DOT}|\s*(?:underscore|dash|hyphen)\s*){_LABEL}){{0,3}})"
    rf"{_AT}(?P<domain>{_LABEL}(?:{_DOT}{_LABEL}){{0,3}}{_DOT}(?:{_TLDS}))(?![\w])",
    re.IGNORECASE,
)


# "jane.doe at example.com": a dotted host name after " at " (the "@" replaced by a word)
_AT_WORD_EMAIL_RE = re.compile(
    rf"(?<![\w.@])(?P<local>[A-Za-z0-9](?:[A-Za-z0-9._%+\-]*[A-Za-z0-9])?)\s+(?:at|\(at\)|\[at\])\s+"
    rf"(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+(?:{_TLDS}))(?![\w@]|\.\w)",
    re.IGNORECASE,
)


_EMAIL_CUE_RE = re.compile(r"\b(?:e-?mail|mail|address|write|contact|reach|cc|reply|inbox)\b", re.IGNORECASE)


def _verb_form(word: str) -> bool:
    """"arrived", "shopping", "looked": an ordinary word with -ed/-ing."""
    from ecc_workloads.pii import names

    low = word.lower()
    for suffix in ("ed", "ing"):
        if low.endswith(suffix):
            stem = low[: -len(suffix)]
            if any(names.is_ordinary(c) for c in (stem, stem + "e", stem[:-1])):
                return True
    return False


def _at_word_emails(text: str) -> list[Found]:
    from ecc_workloads.pii import names

    out: list[Found] = []
    for m in _AT_WORD_EMAIL_RE.finditer(text):
        local = m.group("local")
        # "arrived at amazon.com", "look at example.com": the word before "at" is an ordinary word
        # ("shopping at zalando.de"): an all-letter local part must not be an ordinary word nor
        # look like a verb form, unless an e-mail cue comes right before
        if local.isalpha() and (names.is_ordinary(local) or len(local) < 3 or _verb_form(local)) \
                and not _EMAIL_CUE_RE.search(text[max(0, m.start() - 32):m.start()]):
            continue
        out.append((m.start(), m.end(), "EMAIL"))
    return out


def find_spelled_emails(text: str) -> list[Found]:
    low = text.lower()
    out: list[Found] = _at_word_emails(text) if " at " in low or "(at)" in low or "[at]" in low else []
    if " dot " not in low and "[" not in low and "(" not in low and "{" not in low and "punkt" not in low \
            and "@ " not in low \
            and "punto" not in low and "point" not in low:
        return out
    for m in _SPELLED_EMAIL_RE.finditer(text):
        value = m.group(0)
        spelled = re.search(r"\bdot\b|\[|\(|\{|punkt|punto|point", value, re.IGNORECASE)
        spaced_at = "@" in value and " " in value  # "jane . doe @ example . com"
        if not (spelled or spaced_at) or "@" in value and "." in m.group("domain") and " " not in value:
            continue  # an ordinary e-mail: the e-mail rule has it
        # the local part's first word must not be a function word ("look at example dot com")
        first = re.split(r"\W", m.group("local"))[0].lower()
        if first in ("look", "me", "us", "it", "them", "him", "her", "you", "arrived", "be", "is", "was", "me"):
            continue
        out.append((m.start(), m.end(), "EMAIL"))
    return out
