"""Personal-data scrubbing: find identifiers in free text and replace them with typed placeholders.

Pure functions, no I/O, no heavy imports: the same code runs in the corpus Job and on edge
devices before anything leaves them.

What is found (see docs/data.md for the rules and their measured recall/precision):

- ``EMAIL``       addresses like ``jo.doe+x@mail.example.co.uk``
- ``CARD``        13–19 digit numbers (optionally grouped) that pass the Luhn check
- ``PHONE``       international and national formats: ``+44 20 7946 0958``, ``(555) 123-4567``,
                  ``0049 30 1234567``, ``06.12.34.56.78``; bare digit runs only after a phone cue
- ``ADDRESS``     street addresses: house number + street (English, German, French, Spanish,
                  Italian, Dutch street words), with a following postcode/city; anything after
                  "my address is", "ship to", "deliver to", "I live at" … that contains a digit
- ``ORDER_ID`` / ``INVOICE_ID`` / ``ID_NUMBER``
                  identifiers: ``#12345``, ``ORD-12345``, ``INV/2024/0001``, bare runs of ≥ 5
                  digits, mixed letter/digit codes with ≥ 3 digits; anything after an order,
                  invoice, reference or tracking cue that contains a digit. The type comes from the
                  nearest cue word (invoice/bill/receipt → INVOICE_ID; order/purchase → ORDER_ID)
- ``PERSON``      names after a strong cue ("my name is", "regards,", even in lower case), an
                  honorific ("Mr.", "Ms."), a weak cue ("I'm", "this is", "for", "call me" — then
                  capitalised), and runs of two or more capitalised words that are not at the
                  start of a sentence; runs that look like an organisation (legal form such as
                  Ltd, GmbH, S.A.) or a place ("North …", "… Ville", after "in") are dropped

Existing ``{{Placeholder}}`` slots are protected, so scrubbing is idempotent.
No name list is used: none ships in the project's installed packages, so person names that
appear in lower case without a cue are not found (documented limitation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class PiiType(str, Enum):
    EMAIL = "EMAIL"
    CARD = "CARD"
    PHONE = "PHONE"
    ADDRESS = "ADDRESS"
    ORDER_ID = "ORDER_ID"
    INVOICE_ID = "INVOICE_ID"
    ID_NUMBER = "ID_NUMBER"
    PERSON = "PERSON"


# When spans of different types overlap they are merged; the merged span takes the type that
# comes first here.
_PRIORITY = [
    PiiType.EMAIL,
    PiiType.CARD,
    PiiType.ADDRESS,
    PiiType.PHONE,
    PiiType.INVOICE_ID,
    PiiType.ORDER_ID,
    PiiType.ID_NUMBER,
    PiiType.PERSON,
]


def placeholder(kind: PiiType) -> str:
    return "{{" + kind.value + "}}"


@dataclass(frozen=True)
class PiiSpan:
    """A piece of personal data at ``text[start:end]`` of the ORIGINAL text."""

    start: int
    end: int
    kind: PiiType
    value: str


@dataclass(frozen=True)
class ScrubResult:
    text: str
    spans: tuple[PiiSpan, ...]


# ---------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------
_PLACEHOLDER_RE = re.compile(r"\{\{[^{}]*\}\}")

_EMAIL_RE = re.compile(
    r"(?<![\w.+'’-])[\w.+'’-]*\w@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}(?![\w])",
)

# A "grouped number": digits with single spaces, dashes, dots, slashes or parentheses between.
_NUMBER_RUN_RE = re.compile(r"(?<![\w#+])(?:\+|00(?=\d))?\(?\d[\d\s().\-/]*\d\)?(?![\w])")

# Tokens that may be identifiers: letters, digits and the separators ids use.
_TOKEN_RE = re.compile(r"#?[^\W_](?:[\w\-/#.]*[^\W_])?")

_ORDER_CUES = (
    r"order|orders|ordr|oder|purchase|purchases|purchse|purhase|purchace|"
    r"tracking|shipment|shipping|package|parcel|delivery|consignment|"
    r"reference|ref|confirmation|transaction|booking|reservation|ticket|case|claim|"
    r"account|acct|membership|customer|client|member|rma|return|po|sku|item|product"
)
_INVOICE_CUES = r"invoice|invoices|invocie|inovice|bill|bills|biil|receipt|receipts|statement"
_ID_WORDS = r"number|numbers|no|nr|num|nº|n°|#|id|code|reference|ref"
_PHONE_CUES = (
    r"phone|telephone|tel|mobile|cell|cellphone|landline|fax|whatsapp|sms|text|call|"
    r"ring|reach|contact|dial|number"
)

_ID_CUE_RE = re.compile(
    rf"\b(?P<cue>{_ORDER_CUES}|{_INVOICE_CUES})\b\.?"
    rf"(?:\s+(?:{_ID_WORDS})\b\.?)?(?:\s*(?:is|was|:|=|-|#|no\.?))?\s*"
    r"(?P<id>#?[^\W_](?:[\w\-/#.]*[^\W_])?)",
    re.IGNORECASE,
)
_INVOICE_CUE_RE = re.compile(rf"^(?:{_INVOICE_CUES})$", re.IGNORECASE)
_INVOICE_PREFIX_RE = re.compile(r"^#?(?:inv|bill|rcpt|rec)\b|^#?inv[\W\d_]", re.IGNORECASE)
_ORDER_CUE_WORD_RE = re.compile(rf"\b(?:{_ORDER_CUES})\b", re.IGNORECASE)
_INVOICE_CUE_WORD_RE = re.compile(rf"\b(?:{_INVOICE_CUES})\b", re.IGNORECASE)
_PHONE_CUE_WORD_RE = re.compile(rf"\b(?:{_PHONE_CUES})\b", re.IGNORECASE)

_DATE_RE = re.compile(
    r"^(?:\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}[./-]\d{1,2}[./-]\d{1,2}|\d{1,2}[./-]\d{4})$"
)
_TIME_OR_AMOUNT_RE = re.compile(r"^\d{1,3}(?:[.,:]\d{2,3})+$|^\d{1,2}\.\d{1,2}\.\d{1,3}$")  # 1,200.50 10:30 13.10.9

# ---------------------------------------------------------------------------
# Addresses
# ---------------------------------------------------------------------------
# Street suffixes: the USPS standard suffix names (Publication 28) and their usual abbreviations,
# plus British ones; a trailing "s" is allowed ("Parks", "Drives").
_STREET_SUFFIX = (
    r"alley|aly|annex|arcade|avenue|ave|av|bayou|beach|bend|bluff|bottom|boulevard|blvd|branch|"
    r"bridge|brook|burg|bypass|camp|canyon|cape|causeway|center|centre|ctr|circle|cir|cliff|club|"
    r"common|corner|course|court|ct|cove|creek|crescent|cres|crest|crossing|crossroad|curve|dale|"
    r"dam|divide|drive|dr|estate|expressway|extension|fall|ferry|field|flat|ford|forest|forge|"
    r"fork|fort|freeway|garden|gateway|glen|green|grove|harbor|harbour|haven|heights|highway|"
    r"hwy|hill|hollow|inlet|island|isle|junction|key|knoll|lake|land|landing|lane|ln|light|"
    r"loaf|lock|lodge|loop|mall|manor|meadow|mews|mill|mission|motorway|mount|mountain|neck|"
    r"orchard|oval|overpass|park|parkway|pkwy|pass|passage|path|pike|pine|place|pl|plain|plaza|"
    r"point|port|prairie|radial|ramp|ranch|rapid|rest|ridge|river|road|rd|route|row|rue|run|"
    r"shoal|shore|skyway|spring|spur|square|sq|station|stravenue|stream|street|st|summit|"
    r"terrace|ter|throughway|trace|track|trafficway|trail|trl|tunnel|turnpike|underpass|union|"
    r"valley|viaduct|view|village|ville|vista|walk|wall|way|well|close|gardens|wharf|vale|"
    r"parade|rise|chase|hyde|approach|broadway|circus|quay|yard|wynd|gate|end|side|bank"
)
# Germanic compounds end with the street word: Hauptstraße, Kerkstraat, Jellepad, Storgatan.
_COMPOUND_STREET_RE = re.compile(
    r"(?<![\w-])[^\W\d_][\w'’-]*?(?:straße|strasse|str\.|gasse|weg|allee|platz|ring|damm|ufer|"
    r"chaussee|steig|pfad|markt|graben|hof|berg|feld|straat|laan|plein|gracht|kade|singel|dijk|"
    r"baan|pad|dreef|steeg|wal|veld|plantsoen|gatan|vägen|gade|vej|veien|gata|boulevard)"
    r"(?![\w])",
    re.IGNORECASE,
)
# Romance languages put the street word first: rue de la Paix, Calle Mayor, Via Roma.
_PREFIX_STREET_RE = re.compile(
    r"(?<![\w])(?i:rue|avenue|av\.|boulevard|bd|chemin|allée|allee|impasse|place|quai|cours|route|"
    r"passage|square|faubourg|voie|"
    r"calle|c/|c\.|avenida|avda\.?|paseo|plaza|camino|carrera|ronda|travesía|travesia|pasaje|"
    r"glorieta|cuesta|rambla|carretera|callejón|callejon|alameda|pasadizo|urbanización|"
    r"urbanizacion|acceso|bajada|cañada|vía|vial|"
    r"via|viale|piazza|piazzale|corso|largo|strada|contrada|borgo|vicolo|rotonda|stretto|"
    r"rua|praça|praca|travessa|estrada)(?=\s)"
)
# Used only when a street word is followed by capitalised words but no number.
_PREFIX_NEEDS_NUMBER = frozenset("place route passage square cours via largo strada plaza c. c/ av. bd".split())
_LINK_WORDS = frozenset(
    "de del della delle degli dei di da das do dos du des la le les l' d' el los las y e et van "
    "von der den ter the of and sur sous en".split()
)
_HOUSE_NO_RE = re.compile(r"\d{1,5}(?:\s?[A-Za-z](?![\w]))?(?:\s?[/-]\s?\d{1,4}[A-Za-z]?)?(?![\w])")
_UNIT_RE = re.compile(
    r"(?i:apt\.?|apartment|suite|ste\.?|unit|flat|studio|floor|fl\.?|room|rm\.?|bldg\.?|building|"
    r"piso|puerta|escalera|esc\.?|apto\.?|dpto\.?|étage|etage|scala|interno|int\.?|piano|appartamento|app\.?|"
    r"wohnung|whg\.?|box|#)\s*[\w/-]*\d[\w/-]*\.?\s*[ºª°]?"
)
_ADDRESS_EN_RE = re.compile(
    rf"(?<![\w#])(?:(?P<unit>{_UNIT_RE.pattern}),?\s+)?(?:(?P<no>\d{{1,5}}[A-Za-z]?(?:-\d{{1,4}})?),?\s+)?"
    rf"(?P<name>(?:[^\W\d_][\w'’.-]*\s+){{1,4}}?)(?i:(?:{_STREET_SUFFIX})s?)(?![\w])\.?"
)
_EN_ANCHOR_RE = re.compile(r"(?<![\w#])(?=\d|(?i:apt|apartment|suite|ste|unit|flat|studio|floor|room|bldg|building)\b)")
_POSTCODE_RE = re.compile(
    r"(?:\d{4,5}(?:-\d{4})?|\d{4}\s?[A-Z]{2}|[AC-FHKNPRTV-Y]\d[\dW]\s?[AC-FHKNPRTV-Y\d]{4}|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|\d{3}\s\d{2}|"
    r"[A-Z]\d[A-Z]\s?\d[A-Z]\d)(?![\w])"
)
_PLACE_WORD_RE = re.compile(r"[^\W\d_][\w'’.-]*")
_ADDRESS_SEP_RE = re.compile(r"\s*[,\n]\s*|[ \t]+")
_ADDRESS_CUE_RE = re.compile(
    r"\b(?:my\s+(?:new\s+|home\s+|billing\s+|shipping\s+|delivery\s+|street\s+)?address\s*(?:is|:)|"
    r"address\s*:|ship(?:ped)?\s+(?:it\s+|them\s+|this\s+|the\s+order\s+)?to|"
    r"deliver(?:ed)?\s+(?:it\s+|them\s+|this\s+|the\s+order\s+)?to|"
    r"send\s+(?:it\s+|them\s+|this\s+|the\s+\w+\s+)?to|i\s+live\s+(?:at|on|in)|"
    r"(?:go|goes|went)\s+to|i'?m\s+(?:at|on)|located\s+at|moved\s+to|new\s+address)\s*:?\s*",
    re.IGNORECASE,
)
_MILITARY_RE = re.compile(
    r"\b(?:(?:USS|USNS|USNV|USCGC)\s+[A-Z][\w'-]+|(?:PSC|Unit)\s+\d{2,5},?\s+Box\s+\d{2,5}|"
    r"(?:APO|FPO|DPO)\s+(?:AA|AE|AP)\s+\d{5})"
)
_NOT_STREET_WORDS = frozenset(
    "days weeks months years hours minutes times items orders products dollars euros pounds percent "
    "of a the my your an in on at for to from and or i it is was this that with by".split()
)


# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------
_NAME_WORD = r"(?:[^\W\d_](?:[\w'’-]*[^\W\d_])?)"
_CAP_NAME_WORD = r"(?:(?:Mc|Mac|O'|O’|D'|D’)?[^\W\d_a-z][\w'’-]*[^\W\d_]|[^\W\d_a-z]\.?)(?![\w])"
_NAME_PARTICLE = r"(?:van|von|der|den|de|del|della|di|da|du|dos|das|le|la|bin|ibn|al|el|ter|ten|y|zu)"
_HONORIFIC_RE = re.compile(
    rf"\b(?:mr|mrs|ms|miss|mx|dr|prof|sir|madam|mme|mlle|herr|frau|sr|sra|srta|sig|sig\.ra)\b\.?\s+"
    rf"(?P<name>{_CAP_NAME_WORD}(?:\s+(?:{_NAME_PARTICLE}\s+)*{_CAP_NAME_WORD}){{0,2}}|{_NAME_WORD})",
    re.IGNORECASE,
)
# Strong cues: what follows is a name even in lower case.
_STRONG_NAME_CUE_RE = re.compile(
    r"(?:\bmy\s+(?:full\s+|first\s+|last\s+|sur)?name\s*(?:is|'s|:)|\bname\s*:|\bi\s+am\s+called|"
    r"\bi'?m\s+called|\bsigned\s*[,:]|\bname\s+on\s+the\s+(?:account|card|order|invoice)\s+is|"
    r"\b(?:account|card)\s*holder\s*(?:is|:)?|\bon\s+behalf\s+of|\baddressed\s+to|"
    r"\b(?:regards|thanks|thank\s+you|cheers|sincerely|best|yours|br)\s*,\s*(?:\n\s*)?|"
    r"(?:^|\n|[.!?]\s+)\s*[-–—~]\s*)\s*",
    re.IGNORECASE,
)
# Weak cues: what follows is a name only if capitalised.
_WEAK_NAME_CUE_RE = re.compile(
    r"\b(?:i'?m|i’m|i\s+am|this\s+is|it'?s|it’s|here\s+is|from|for|to|with|by|named|called|"
    r"customer|contact|ask|ask\s+for|tell|under|attn|attention|speak\s+to|talk\s+to|hi|hello|hey|dear|mister|user|"
    r"call\s+me|colleague|husband|wife|son|daughter|mother|father|friend|partner|manager|boss)\b\s*,?\s+",
    re.IGNORECASE,
)
# Capitalised words that are not names (sentence-initial words are already excluded).
_NOT_NAMES = frozenset(
    """
    i i'm i'd i'll i've im a an the and or but if so my your our their his her its we you they he she it
    this that these those there here what when where which who why how can could would should will shall
    may might must do does did is are was were be been am have has had please thanks thank hi hello hey
    dear yes no not ok okay sorry help need want order orders purchase invoice bill account refund
    monday tuesday wednesday thursday friday saturday sunday january february march april june july
    august september october november december christmas easter today tomorrow yesterday
    english spanish french german italian customer service support team manager store shop online
    gold platinum premium pro freemium standard basic plus business enterprise free trial plan
    visa mastercard paypal amex iphone android windows mac apple google amazon ebay
    usa us uk eu ceo faq pdf sim sms id eta asap ups dhl fedex usps tnt
    street st avenue ave road rd lane drive dr boulevard apt suite unit
    mr mrs ms miss dr prof sir madam
    """.split()
)


# After a cue only function words stop a name: "Regards, April Harper", "for Joseph Lane".
_FUNCTION_WORDS = frozenset(
    """
    i i'm i'd i'll i've im a an the and or but if so my your our their his her its we you they he she it
    this that these those there here what when where which who why how can could would should will shall
    may might must do does did is are was were be been am have has had please thanks thank hi hello hey
    dear yes no not ok okay sorry at on in of to from by with about as again now then just also too very
    """.split()
)


def _is_name_word(word: str, allow_lower: bool, after_cue: bool = False) -> bool:
    bare = word.strip("'’.-").lower()
    stop = _FUNCTION_WORDS if after_cue else _NOT_NAMES
    if not bare or bare in stop or any(ch.isdigit() for ch in bare):
        return False
    if allow_lower:
        return bare.isalpha() or all(part.isalpha() for part in re.split(r"['’-]", bare) if part)
    first = word.lstrip("'’")[:1]
    return first.isupper()


_WORD_AT_RE = re.compile(rf"{_NAME_WORD}\.?")


def _take_name(text: str, pos: int, allow_lower: bool, max_words: int = 4) -> tuple[int, int] | None:
    """Longest run of name words starting at ``pos`` (particles allowed between words).
    Lower-case words count only when ``allow_lower`` (after a strong cue); the run stops at a
    function word, a digit or after an abbreviation such as "Jr."."""
    end = pos
    words = 0
    cursor = pos
    common_first = False
    while words < max_words:
        m = _WORD_AT_RE.match(text, cursor)
        if not m:
            break
        word = m.group(0)
        core = word.rstrip(".")
        if words > 0 and re.fullmatch(_NAME_PARTICLE, core, re.IGNORECASE) and not allow_lower:
            nxt = re.match(r"[ \t]+", text[m.end():])
            if not nxt:
                break
            cursor = m.end() + nxt.end()
            continue
        if not _is_name_word(core, allow_lower, after_cue=True):
            break
        if words == 0 and not _is_name_word(core, allow_lower):
            common_first = True  # "April", "Gold": a name only if a second name word follows
        if word.endswith(".") and len(core) > 1:
            end = m.start() + len(core)
        else:
            end = m.end()
        words += 1
        nxt = re.match(r"[ \t]+", text[m.end():])
        if not nxt or word.endswith(".") and len(core) > 1:
            break
        cursor = m.end() + nxt.end()
    if words == 0 or (common_first and words < 2):
        return None
    return pos, end


def _sentence_starts(text: str) -> set[int]:
    starts = {0}
    for m in re.finditer(r"[.!?\n:;]\s*|[\"“(]\s*", text):
        starts.add(m.end())
    # also the first non-space character
    lead = len(text) - len(text.lstrip())
    starts.add(lead)
    return starts


# ---------------------------------------------------------------------------
# Detectors (each returns candidate spans; overlaps are merged afterwards)
# ---------------------------------------------------------------------------
def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _find_emails(text: str) -> list[PiiSpan]:
    return [PiiSpan(m.start(), m.end(), PiiType.EMAIL, m.group(0)) for m in _EMAIL_RE.finditer(text)]


def _cue_before(text: str, start: int, window: int = 40) -> PiiType | None:
    """The id type suggested by the cue words closest before ``start``."""
    before = text[max(0, start - window):start]
    best: tuple[int, PiiType] | None = None
    for regex, kind in (
        (_INVOICE_CUE_WORD_RE, PiiType.INVOICE_ID),
        (_ORDER_CUE_WORD_RE, PiiType.ORDER_ID),
        (_PHONE_CUE_WORD_RE, PiiType.PHONE),
    ):
        for m in regex.finditer(before):
            if best is None or m.end() > best[0]:
                best = (m.end(), kind)
    return None if best is None else best[1]


def _id_kind(text: str, start: int, token: str) -> PiiType:
    if _INVOICE_PREFIX_RE.search(token):
        return PiiType.INVOICE_ID
    if re.match(r"^#?(?:ord|po|so)\b|^#?ord[\W\d_]", token, re.IGNORECASE):
        return PiiType.ORDER_ID
    cue = _cue_before(text, start)
    if cue is PiiType.INVOICE_ID:
        return PiiType.INVOICE_ID
    if cue is PiiType.ORDER_ID:
        return PiiType.ORDER_ID
    return PiiType.ID_NUMBER


_AMOUNT_AFTER_RE = re.compile(
    r"\s*(?:dollars|dollar|euros|euro|usd|eur|gbp|pounds|bucks|cents|%|percent)\b", re.IGNORECASE
)


def _is_amount(text: str, start: int, end: int) -> bool:
    """Money and percentages are not personal data: "$1499", "350 dollars", "20 %"."""
    before = text[max(0, start - 1):start]
    return bool(before and before in "$€£¥") or bool(_AMOUNT_AFTER_RE.match(text, end))


_PHONE_EXT_RE = re.compile(r"\s*(?:x|ext\.?|extension|#)\s*\d{1,6}(?![\w])", re.IGNORECASE)


def _find_numbers(text: str) -> list[PiiSpan]:
    """Cards, phones and bare numeric identifiers from runs of digits and separators."""
    spans: list[PiiSpan] = []
    for m in _NUMBER_RUN_RE.finditer(text):
        raw = m.group(0)
        # trim trailing separators/closing parens that are not part of the number
        raw = raw.rstrip(" .-/")
        start = m.start()
        if raw.startswith("(") and ")" not in raw[1:]:
            raw, start = raw[1:], start + 1
        if raw.endswith(")") and "(" not in raw:
            raw = raw[:-1]
        digits = re.sub(r"\D", "", raw)
        n = len(digits)
        end = start + len(raw)
        if n < 4:
            continue
        has_sep = bool(re.search(r"[\s().\-/]", raw))
        if not has_sep and n < 5:
            continue  # a year, an amount, a count
        if _DATE_RE.match(raw) or _TIME_OR_AMOUNT_RE.match(raw):
            continue
        if _is_amount(text, start, end):
            continue
        cue = _cue_before(text, start)
        if 13 <= n <= 19 and _luhn_ok(digits) and cue not in (PiiType.ORDER_ID, PiiType.INVOICE_ID):
            spans.append(PiiSpan(start, end, PiiType.CARD, raw))
            continue
        if has_sep and re.search(r"\s", raw) and cue is None and not (raw.startswith("+") or 7 <= n <= 15):
            # "room 12 34" etc.: several small numbers, not one identifier
            continue
        phone_like = raw.startswith(("+", "00", "(")) or (has_sep and 7 <= n <= 15)
        if cue is PiiType.PHONE or (phone_like and cue is None and 7 <= n <= 15):
            ext = _PHONE_EXT_RE.match(text, end)
            end = ext.end() if ext else end
            spans.append(PiiSpan(start, end, PiiType.PHONE, text[start:end]))
        elif cue in (PiiType.ORDER_ID, PiiType.INVOICE_ID):
            spans.append(PiiSpan(start, end, cue, raw))
        elif n >= 5:
            spans.append(PiiSpan(start, end, PiiType.PHONE if phone_like else PiiType.ID_NUMBER, raw))
    return spans


def _looks_like_code(token: str) -> bool:
    core = token.lstrip("#")
    digits = sum(ch.isdigit() for ch in core)
    letters = sum(ch.isalpha() for ch in core)
    if token.startswith("#") and digits >= 2:
        return True
    if digits >= 3 and letters >= 1 and len(core) >= 5:
        return not re.fullmatch(r"\d+(?:st|nd|rd|th|s|x\d+|k|kg|gb|mb|tb|mm|cm|km|ml|hz|mhz|ghz|px|p|am|pm)", core, re.IGNORECASE)
    if digits >= 5 and letters == 0:
        return not (_DATE_RE.match(core) or _TIME_OR_AMOUNT_RE.match(core))
    return False


_DIGIT_RE = re.compile(r"\d")


def _find_codes(text: str) -> list[PiiSpan]:
    spans: list[PiiSpan] = []
    for m in _TOKEN_RE.finditer(text):
        token = m.group(0)
        if not _DIGIT_RE.search(token):
            continue
        if _looks_like_code(token) and not _DATE_RE.match(token) and not _is_amount(text, m.start(), m.end()):
            spans.append(PiiSpan(m.start(), m.end(), _id_kind(text, m.start(), token), token))
    for m in _ID_CUE_RE.finditer(text):
        token = m.group("id")
        if not any(ch.isdigit() for ch in token):
            continue
        if _DATE_RE.match(token) or _TIME_OR_AMOUNT_RE.match(token):
            continue
        digits = sum(ch.isdigit() for ch in token)
        letters = sum(ch.isalpha() for ch in token)
        if digits < 3 and letters == 0:
            continue  # "order 2 of 3", "invoice from 5 weeks ago"
        if digits < 2:
            continue
        cue = m.group("cue").lower()
        kind = PiiType.INVOICE_ID if _INVOICE_CUE_RE.match(cue) or _INVOICE_PREFIX_RE.search(token) else PiiType.ORDER_ID
        if kind is PiiType.ORDER_ID and not re.match(
            r"order|ordr|oder|purch|purh|tracking|shipment|shipping|package|parcel|delivery|consignment|po|rma|return",
            cue,
        ):
            kind = PiiType.ID_NUMBER
        spans.append(PiiSpan(m.start("id"), m.end("id"), kind, token))
    return spans


def _is_capitalised(word: str) -> bool:
    return word[:1].isupper()


def _take_place_words(text: str, pos: int, max_words: int = 4) -> int:
    """End of a run of capitalised words (link words allowed inside) starting at ``pos``."""
    end = pos
    cursor = pos
    words = 0
    while words < max_words:
        m = _PLACE_WORD_RE.match(text, cursor)
        if not m:
            break
        word = m.group(0)
        if _is_capitalised(word) and word.lower().rstrip(".") not in _NOT_NAMES:
            end = m.end()
            words += 1
        elif word.lower() not in _LINK_WORDS:
            break
        gap = re.match(r"[ \t]+|-", text[m.end():])
        if not gap:
            break
        cursor = m.end() + gap.end()
    return end


def _extend_address(text: str, end: int) -> int:
    """Swallow what follows a street: unit, postcode, city, state/province — in any order."""
    after_postcode = bool(re.search(r"(?<![\w])\d{4,5}$", text[:end]))
    for _ in range(6):
        sep = _ADDRESS_SEP_RE.match(text, end)
        pos = sep.end() if sep else end
        if m := _UNIT_RE.match(text, pos):
            end, after_postcode = m.end(), False
            continue
        if m := _POSTCODE_RE.match(text, pos):
            end, after_postcode = m.end(), True
            continue
        if m := re.match(r"\(?[A-Z]{2}\)?(?![\w])", text[pos:]):
            end, after_postcode = pos + m.end(), False
            continue
        if sep and (after_postcode or "," in sep.group(0) or "\n" in sep.group(0)):
            after_postcode = False
            city_end = _take_place_words(text, pos, max_words=3)
            if city_end > pos:
                end = city_end
                continue
        break
    return end


def _find_addresses(text: str) -> list[PiiSpan]:
    spans: list[PiiSpan] = []

    def add(start: int, end: int) -> None:
        end = _extend_address(text, end)
        spans.append(PiiSpan(start, end, PiiType.ADDRESS, text[start:end]))

    # English order: [unit,] number street-name suffix
    # (tried at every number or unit word, so a rejected match cannot hide a later one)
    for anchor in _EN_ANCHOR_RE.finditer(text):
        m = _ADDRESS_EN_RE.match(text, anchor.start())
        if not m or not (m.group("no") or m.group("unit")):
            continue
        words = m.group("name").split()
        if any(w.lower().strip(",.") in _NOT_STREET_WORDS for w in words):
            continue
        add(m.start(), m.end())
    # Germanic compounds: Hauptstraße 5, Tabea-Wohlgemut-Allee 17/65
    for m in _COMPOUND_STREET_RE.finditer(text):
        num = re.compile(r"\s*,?\s*").match(text, m.end())
        house = _HOUSE_NO_RE.match(text, num.end())
        if house:
            add(m.start(), house.end())
    # Romance order: [number,] prefix words [,] [number]
    for m in _PREFIX_STREET_RE.finditer(text):
        start = m.start()
        before = re.search(r"(\d{1,5}[A-Za-z]?(?:\s?(?:bis|ter))?),?\s+$", text[max(0, start - 12):start])
        if before:
            start = start - len(before.group(0))
        gap = re.match(r"\s+", text[m.end():])
        name_start = m.end() + gap.end()
        name_end = _take_place_words(text, name_start, max_words=5)
        if name_end == name_start:
            continue
        tail = re.match(r"\s*,?\s*(?:n\.?|nº|no\.?|núm\.?)?\s*", text[name_end:])
        # with the number in front ("12, rue …") a number after the name is a postcode
        house = None if before else _HOUSE_NO_RE.match(text, name_end + tail.end())
        if house:
            add(start, house.end())
        elif before or m.group(0).lower() not in _PREFIX_NEEDS_NUMBER:
            add(start, name_end)
    # US military addresses
    for m in _MILITARY_RE.finditer(text):
        add(m.start(), m.end())
    # After an address cue, a clause that contains a digit
    for m in _ADDRESS_CUE_RE.finditer(text):
        rest = text[m.end():]
        clause = re.match(r"[^\n!?;]*?(?=(?:\.\s|\.$|[!?;\n]|$|\s+(?:and|but|please|thanks|asap)\b))", rest, re.IGNORECASE)
        if not clause:
            continue
        value = clause.group(0).rstrip(" ,.")
        if re.search(r"\d", value) and len(value) >= 5:
            spans.append(PiiSpan(m.end(), m.end() + len(value), PiiType.ADDRESS, value))
    return spans


# Organisations: a run followed by (or containing) a company designator is not a person.
_ORG_WORDS = frozenset(
    """
    group groep grupo gruppo gruppe ltd limited plc inc incorporated llc llp lp corp corporation co
    company companies gmbh ag kg kgaa ohg gbr ug mbh e.v stiftung sa sas sarl s.a s.a.s s.a.r.l s.l
    s.l.l s.l.n.e s.coop s.com spa s.p.a srl s.r.l snc bv b.v nv n.v vof holding holdings partners
    associates asociados asociadas compañía compania cía cia inmobiliaria fábrica fabrica comercial
    industrias hermanos sons bros brothers & y e and und et bank foundation institute university
    royal koninklijke stichting familia casino industries instalaciones servicios tecnologías
    tecnologias comercializadora soluciones distribuciones construcciones transportes
    """.split()
)
# Places: runs that start with a place word or end with one are towns/countries, not people.
_PLACE_FIRST = frozenset(
    """
    north south east west new old port lake mount mt saint st san santa santo são sao porto villa
    torre cabo sierra isla isle isole ilha fort glen bay cape costa puerto monte castel castello
    bad sankt nieuw great little upper lower central united república republica république republic
    estados états etats hong
    """.split()
)
_PLACE_LAST = frozenset(
    """
    ville city town burg borough land islands island republic kingdom states emirates isles
    heights springs falls valley hills park beach bay dominicaine
    """.split()
)


def _org_or_place(text: str, start: int, end: int) -> bool:
    words = [w.strip(",.;:!?()").lower() for w in text[start:end].split()]
    following = [w.strip(",;:!?()").lower().rstrip(".") for w in text[end:end + 40].split()[:2]]
    if any(w.rstrip(".") in _ORG_WORDS for w in words) or (following and following[0] in _ORG_WORDS):
        return True
    if (text[end - 1:end] == "." and re.match(r"[A-Za-z]{1,4}\.", text[end:])) or re.match(
        r"\.[A-Za-z]{1,4}\.", text[end:]
    ):
        return True  # "S.A.", "N.V.", "S.L.": the last "initial" is a legal-form abbreviation
    if text[end:end + 2].strip().startswith("&"):
        return True
    if words and (words[0] in _PLACE_FIRST or words[-1] in _PLACE_LAST):
        return True
    before = text[max(0, start - 6):start].lower().split()
    return bool(before) and before[-1] in ("in", "at", "near", "around")


def _find_names(text: str) -> list[PiiSpan]:
    spans: list[PiiSpan] = []
    for m in _HONORIFIC_RE.finditer(text):
        spans.append(PiiSpan(m.start(), m.end(), PiiType.PERSON, m.group(0)))
    for regex, allow_lower in ((_STRONG_NAME_CUE_RE, True), (_WEAK_NAME_CUE_RE, False)):
        for m in regex.finditer(text):
            got = _take_name(text, m.end(), allow_lower=allow_lower)
            if got is None:
                continue
            start, end = got
            value = text[start:end]
            if not allow_lower:
                # weak cue: one capitalised word is enough after "I'm"/"this is"/greetings,
                # but "from"/"to"/"with" need two words (places are single words: "ship to Toronto")
                cue = m.group(0).strip().lower()
                if re.match(r"(?:from|to|with|customer|contact|user)\b", cue) and len(value.split()) < 2:
                    continue
                if _org_or_place(text, start, end):
                    continue
            spans.append(PiiSpan(start, end, PiiType.PERSON, value))
    # Two or more capitalised words not at the start of a sentence.
    starts = _sentence_starts(text)
    for m in re.finditer(rf"(?<![\w'’])(?:[a-z]+(?=[A-Z][a-z]))?{_CAP_NAME_WORD}(?:[ \t]+(?:{_NAME_PARTICLE}[ \t]+)*{_CAP_NAME_WORD})+", text):
        words = m.group(0).split()
        offset = m.start()
        # drop a sentence-initial first word ("Thanks Anna Smith" keeps "Anna Smith")
        if offset in starts:
            first_len = len(words[0])
            rest = m.group(0)[first_len:].lstrip()
            offset = m.end() - len(rest)
            words = rest.split()
        bare_words = [re.sub(r"^[a-z]+(?=[A-Z])", "", w).rstrip(".") for w in words]  # "fromAnna" → "Anna"
        good = [w for w in bare_words if _is_name_word(w, allow_lower=False) or re.fullmatch(_NAME_PARTICLE, w)]
        if (
            len(words) >= 2
            and len(good) == len(words)
            and not all(len(w.rstrip(".")) == 1 for w in words)
            and not _org_or_place(text, offset, m.end())
        ):
            spans.append(PiiSpan(offset, m.end(), PiiType.PERSON, text[offset:m.end()]))
    return spans


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------
def _merge(spans: list[PiiSpan], text: str) -> list[PiiSpan]:
    rank = {kind: i for i, kind in enumerate(_PRIORITY)}
    ordered = sorted(spans, key=lambda s: (s.start, -s.end))
    merged: list[PiiSpan] = []
    for span in ordered:
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            end = max(last.end, span.end)
            kind = last.kind if rank[last.kind] <= rank[span.kind] else span.kind
            merged[-1] = PiiSpan(last.start, end, kind, text[last.start:end])
        else:
            merged.append(span)
    return merged


def find_pii(text: str) -> list[PiiSpan]:
    """All personal-data spans in ``text``, sorted and non-overlapping."""
    protected = [(m.start(), m.end()) for m in _PLACEHOLDER_RE.finditer(text)]
    candidates = _find_names(text) + _find_addresses(text)
    if "@" in text:
        candidates += _find_emails(text)
    if _DIGIT_RE.search(text):
        candidates += _find_numbers(text) + _find_codes(text)
    kept = [
        s
        for s in candidates
        if s.end > s.start and not any(s.start < pe and ps < s.end for ps, pe in protected)
    ]
    return _merge(kept, text)


def scrub(text: str) -> ScrubResult:
    """Replace every personal-data span with its typed placeholder."""
    spans = find_pii(text)
    out: list[str] = []
    cursor = 0
    for span in spans:
        out.append(text[cursor:span.start])
        out.append(placeholder(span.kind))
        cursor = span.end
    out.append(text[cursor:])
    return ScrubResult(text="".join(out), spans=tuple(spans))


def scrub_text(text: str) -> str:
    return scrub(text).text


# ---------------------------------------------------------------------------
# Measurement against annotated entities (pure; used by the data card and benchmarks/pii.py)
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class AnnotatedEntity:
    """One annotated entity of a corpus row: its type and value as the corpus gives them."""

    text: str
    entity_type: str
    entity_value: str
    start: int | None = None
    end: int | None = None


_HONORIFIC_WORDS = frozenset("mr mrs ms miss mx dr prof sir madam".split())
_EDGE_PUNCT = "?!.,;:\"'()[]{}<>“”‘’#"


def locate_entity(entity: AnnotatedEntity) -> tuple[int, int] | None:
    """Where the entity's whole token(s) sit in the text.

    Corpus offsets are often wrong and values are sometimes fragments of the token in the text,
    so: find the value verbatim (then case-insensitively), fall back to the offsets, then widen
    to whitespace boundaries so a fragment covers the whole token that contains it."""
    text, value = entity.text, entity.entity_value.strip()
    if not value:
        return None
    pos = text.find(value)
    if pos < 0:
        pos = text.lower().find(value.lower())
    if pos >= 0:
        start, end = pos, pos + len(value)
    elif entity.start is not None and entity.end is not None and 0 <= entity.start < entity.end <= len(text):
        start, end = entity.start, entity.end
    else:
        return None
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    while start < end and text[start] in _EDGE_PUNCT.replace("#", ""):
        start += 1
    while end > start and text[end - 1] in _EDGE_PUNCT.replace("#", ""):
        end -= 1
    return (start, end) if end > start else None


def sensitive_words(value: str) -> list[str]:
    """The parts of a located entity that must not survive scrubbing (titles may stay)."""
    words = []
    for raw in value.split():
        core = raw.strip(_EDGE_PUNCT)
        if core and core.lower().rstrip(".") not in _HONORIFIC_WORDS:
            words.append(core)
    return words


def value_survives(scrubbed: str, value: str) -> bool:
    """True if any sensitive word of ``value`` still appears in the scrubbed text."""
    low = scrubbed.lower()
    for word in sensitive_words(value):
        if re.search(rf"(?<![^\W_]){re.escape(word.lower())}(?![^\W_])", low):
            return True
    return False


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def precision_category(kind: PiiType) -> str:
    """Reporting category of a predicted span (all identifier kinds report together)."""
    if kind in (PiiType.ORDER_ID, PiiType.INVOICE_ID, PiiType.ID_NUMBER):
        return "identifier"
    return kind.value.lower()


def _ratio(num: int, den: int) -> float | None:
    return None if den == 0 else num / den


def value_covered(text: str, where: tuple[int, int], spans: tuple[PiiSpan, ...]) -> bool:
    """True if every letter and digit of ``text[start:end]`` lies inside a found span."""
    start, end = where
    return all(
        any(s.start <= i < s.end for s in spans) for i in range(start, end) if text[i].isalnum()
    )


def score_rows(
    rows: list[tuple[str, list[tuple[str, tuple[int, int]]]]],
    max_examples: int = 50,
    criterion: str = "token",
) -> dict:
    """Recall per true type and precision per predicted category.

    ``rows``: (text, [(true_type, (start, end)) ...]) where the spans are the located personal
    data in ``text``. An entity counts as scrubbed when none of its sensitive words survives in
    the scrubbed text. A predicted span is correct when it overlaps any true span of its row;
    every other predicted span counts as a false positive (strict: nobody reviewed it).

    ``criterion``: "token" — scrubbed when no sensitive word of the located token survives in
    the scrubbed text (for corpus annotations with unreliable offsets); "coverage" — scrubbed
    when every letter/digit of the exact true span is inside a found span (for injected data)."""
    if criterion not in ("token", "coverage"):
        raise ValueError(f"criterion must be 'token' or 'coverage', got {criterion!r}")
    recall: dict[str, list[int]] = {}
    precision: dict[str, list[int]] = {}
    missed: list[dict] = []
    false_pos: list[dict] = []
    for text, truths in rows:
        result = scrub(text)
        for true_type, (start, end) in truths:
            value = text[start:end]
            if criterion == "coverage":
                ok = value_covered(text, (start, end), result.spans)
            else:
                ok = not value_survives(result.text, value)
            cell = recall.setdefault(true_type, [0, 0])
            cell[0] += int(ok)
            cell[1] += 1
            if not ok and len(missed) < max_examples:
                missed.append({"type": true_type, "value": value, "text": text, "scrubbed": result.text})
        for span in result.spans:
            category = precision_category(span.kind)
            hit = any(overlaps((span.start, span.end), t[1]) for t in truths)
            cell = precision.setdefault(category, [0, 0])
            cell[0] += int(hit)
            cell[1] += 1
            if not hit and len(false_pos) < max_examples:
                false_pos.append({"kind": span.kind.value, "value": span.value, "text": text})
    return {
        "recall": {k: {"found": v[0], "total": v[1], "recall": _ratio(*v)} for k, v in sorted(recall.items())},
        "precision": {k: {"correct": v[0], "spans": v[1], "precision": _ratio(*v)} for k, v in sorted(precision.items())},
        "missed_examples": missed,
        "false_positive_examples": false_pos,
    }


def score_annotated(entities: list[AnnotatedEntity], unannotated_texts: list[str], personal_types: set[str]) -> dict:
    """Score on a corpus's own annotations: ``entities`` (one per annotated row; entities of
    types outside ``personal_types`` are context whose spans count against precision) and the
    texts of rows with no annotation at all."""
    rows: list[tuple[str, list[tuple[str, tuple[int, int]]]]] = []
    unlocated: dict[str, int] = {}
    for entity in entities:
        truths = []
        if entity.entity_type in personal_types:
            where = locate_entity(entity)
            if where is None:
                unlocated[entity.entity_type] = unlocated.get(entity.entity_type, 0) + 1
            else:
                truths.append((entity.entity_type, where))
        rows.append((entity.text, truths))
    rows.extend((text, []) for text in unannotated_texts)
    report = score_rows(rows)
    # an entity we cannot find in its text counts as missed: we cannot show that it vanished
    for kind, n in unlocated.items():
        cell = report["recall"].setdefault(kind, {"found": 0, "total": 0, "recall": None})
        cell["total"] += n
        cell["recall"] = _ratio(cell["found"], cell["total"])
    report["rows"] = len(rows)
    report["unlocated_entities"] = unlocated
    return report
