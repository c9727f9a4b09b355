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
- ``PERSON``      names after a cue: strong ("my name is", "regards,", "From:", even in lower
                  case), an honorific ("Mr.", "Ms."), personal ("I'm", "this is", "my wife", "spoke
                  to", "the technician, …,"), a role after the name ("… is the account holder",
                  "add … as an authorised user", "can … pick it up"), "for"/"by" with a gazetteer
                  name; with no cue before it only a first name + census surname followed by a
                  verb only people do ("… phoned"). A capitalised run with no cue at all is not a
                  name: brands are named after people. Runs that look like an organisation (legal
                  form such as Ltd, GmbH, S.A.) or a place ("North …", after "in") are dropped

Also: DATE_OF_BIRTH, POSTCODE, IP_ADDRESS, IBAN, NATIONAL_ID, USERNAME, CARD_EXPIRY, CARD_CVV
(``pii/ids.py``: phonenumbers, python-stdnum, ipaddress, and context rules), after Unicode
normalisation (``pii/normalise.py``). Person names use a first-name and surname gazetteer (US Census
lists from the ``names`` package) and, where installed, a spaCy NER model (``pii/names.py``) as a
second opinion on runs a weaker cue announces ("placed by Irma Serao").
Not replaced: a masked card number (only its last four digits show), amounts, versions, model
and flight numbers.

Existing ``{{Placeholder}}`` slots are protected, so scrubbing is idempotent.
See docs/data.md for the two paths (rules on the edge, rules + NER in ``ecc corpus prepare``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from ecc_workloads.pii import ids, names
from ecc_workloads.pii.normalise import normalise, to_original


class PiiType(str, Enum):
    EMAIL = "EMAIL"
    CARD = "CARD"
    PHONE = "PHONE"
    ADDRESS = "ADDRESS"
    ORDER_ID = "ORDER_ID"
    INVOICE_ID = "INVOICE_ID"
    ID_NUMBER = "ID_NUMBER"
    PERSON = "PERSON"
    DATE_OF_BIRTH = "DATE_OF_BIRTH"
    POSTCODE = "POSTCODE"
    IP_ADDRESS = "IP_ADDRESS"
    IBAN = "IBAN"
    NATIONAL_ID = "NATIONAL_ID"
    USERNAME = "USERNAME"
    CARD_EXPIRY = "CARD_EXPIRY"
    CARD_CVV = "CARD_CVV"


# When spans of different types overlap they are merged; the merged span takes the type that
# comes first here.
_PRIORITY = [
    PiiType.EMAIL,
    PiiType.CARD,
    PiiType.CARD_EXPIRY,
    PiiType.CARD_CVV,
    PiiType.IBAN,
    PiiType.IP_ADDRESS,
    PiiType.DATE_OF_BIRTH,
    PiiType.NATIONAL_ID,
    PiiType.ADDRESS,
    PiiType.PHONE,
    PiiType.POSTCODE,
    PiiType.INVOICE_ID,
    PiiType.ORDER_ID,
    PiiType.USERNAME,
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
# 1,200.50 10:30 13.10.9; a time written "11h45" (French, Portuguese, Spanish usage)
# a leading 0 ("031.730.657") is a phone or a code, not an amount
_TIME_OR_AMOUNT_RE = re.compile(r"^(?!0\d+(?:[.,:]\d+){2})\d{1,3}(?:[.,:]\d{2,3})+$|^\d{1,2}\.\d{1,2}\.\d{1,3}$|^(?:[01]?\d|2[0-3])[hH][0-5]\d$")

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
    r"parade|rise|chase|hyde|approach|broadway|circus|quay|yard|wynd|gate|end|side|bank|"
    # Indian addresses: "251, Chakraborty Ganj", "Bains Nagar", "MG Marg"
    r"nagar|ganj|chowk|marg|colony|vihar|enclave|layout|puram"
)
# Germanic compounds end with the street word: Hauptstraße, Kerkstraat, Jellepad, Storgatan.
_COMPOUND_STREET_RE = re.compile(
    r"(?<![\w-])[^\W\d_][\w'’-]*?(?:straße|strasse|str\.|gasse|weg|allee|platz|ring|damm|ufer|"
    r"chaussee|steig|pfad|markt|graben|hof|berg|feld|straat|laan|plein|gracht|kade|singel|dijk|"
    r"baan|pad|dreef|steeg|wal|veld|plantsoen|gatan|vägen|gade|vej|veien|gata|boulevard|stræde|straede|"
    r"gränd|torget|torg|torv|plads|vænget|stien|stigen|bakken|backe|stig|allé|leden|slinga|parken|"
    r"katu|tie|polku|kuja|väylä|kaari|rinne|raitti|vegen|veien|svingen|løkka|lia|haugen|stubben|myra|"
    r"holtet|tunet|jordet|åsen|lei)"
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
    r"rua|praça|praca|travessa|estrada|r\.|av|incrocio|calçada|calcada|beco|rotunda|"
    r"gasse|ulica|ul\.|aleja|al\.|plac|os\.|osiedle|"
    r"cerrada|calzada|viaducto|andador|privada|circuito|retorno|periférico|periferico|prolongación|"
    r"prolongacion|continuación|continuacion|diagonal|eje|"
    r"quadra|chácara|chacara|esplanada|residencial|lagoa|ladeira|vila|viela|conjunto|setor|sítio|sitio|"
    r"fazenda|núcleo|nucleo|parque|trecho|vereda|rodovia|loteamento|jardim|campo|"
    # Romanian ("Soseaua Nistor Nr. 211", "Aleea Georgescu"), Colombian and Argentine
    # abbreviations ("Cl. 144 # 37C-44", "Cra. 7", "Dg. 169", "Diag. Mitre", "Blv. 4"), Québec
    # rural roads ("rang Larivière", "montée Thériault")
    r"strada|str\.|șoseaua|soseaua|şoseaua|aleea|intrarea|drumul|bulevardul|calea|splaiul|piața|piata|"
    r"cl\.|cll\.|cra\.|dg\.|diag\.|tv\.|transversal|blv\.|blvd\.|rang|montée|montee)(?=\s)"
)
# Latin-American street abbreviations that are also units ("cl." centilitres, "tv." televisions):
# a street only with its number after it
_ABBREV_NEEDS_NUMBER = frozenset("cl. cll. cra. dg. diag. tv. blv. blvd.".split())
_NUMBERED_STREET_RE = re.compile(
    r"\d{1,3}[A-Za-zª]?(?:[ \t]+(?:bis|sur|este|norte|oeste))?[ \t]*(?:#|n[°º]|no\.?|nr\.?)[ \t]*"
    r"\d{1,4}[A-Za-z]?(?:-\d{1,4})?(?:[ \t]+(?:sur|este|norte|oeste)(?![\w]))?", re.IGNORECASE)
# Hungarian, South Slavic, Slovak, Czech and Turkish street words follow the name ("Kossuth utca
# 247.", "Trdinova ulica 4a", "Letališka cesta 6c", "Atatürk caddesi 5")
_POSTFIX_STREET_RE = re.compile(
    r"(?<![\w-])(?:[^\W\d_][\w'’.-]*[ \t]+){1,3}?(?i:utca|út|útja|tér|tere|körút|köz|sor|sétány|fasor|rakpart|"
    r"ulica|ul\.|cesta|pot|trg|nabrežje|obala|nábrežie|námestie|nám\.|náměstí|třída|sokak|sokağı|sok\.|caddesi|"
    r"cad\.|bulvarı|mahallesi|mah\.)(?![\w])"
)
# Slavic streets named by an adjective alone ("Nobelova 8", "Kurelčeva 2a/9", "Švabinského 37"):
# taken only after an address cue or before a postcode (see _find_addresses)
_SLAVIC_STREET_RE = re.compile(
    r"(?<![\w-])[^\W\d_a-z][^\W\d_]*(?:ova|eva|ska|ská|ského|ckého|ská|ícka|icka|ovo|evo|ina|ová|ovská|ovac|ac|aj|ak)"
    r"[ \t]+\d{1,4}[a-z]?(?:/\d{1,4}[a-z]?)?(?![\w])")
# Used only when a street word is followed by capitalised words but no number.
_PREFIX_NEEDS_NUMBER = frozenset(
    "place route passage square cours via largo strada plaza c. c/ av. bd r. av al. os. plac "
    "diagonal eje circuito retorno privada cerrada quadra esplanada residencial lagoa ladeira vila conjunto "
    "setor sítio sitio fazenda núcleo nucleo parque trecho vereda jardim campo".split())
_LINK_WORDS = frozenset(
    "de del della delle degli dei di da das do dos du des la le les l' d' el los las y e et van "
    "von der den ter the of and sur sous en".split()
)
_HOUSE_NO_RE = re.compile(r"\d{1,5}(?:\s?[A-Za-z](?![\w]))?(?:\s?[/-]\s?\d{1,4}[A-Za-z]?)?(?![\w])")
_UNIT_RE = re.compile(
    r"(?i:apt\.?|apartment|suite|ste\.?|unit|flat|studio|floor|fl\.?|room|rm\.?|bldg\.?|building|"
    r"piso|puerta|escalera|esc\.?|apto\.?|dpto\.?|étage|etage|scala|interno|int\.?|piano|appartamento|app\.?|"
    r"wohnung|whg\.?|box|level|lvl|lot|rd|edif\.?|edificio|depto\.?|dept\.?|interior|"
    r"h\.?\s?no\.?|house\s+no\.?|#|dto\.?|oficina|of\.|torre|bodega|local|casa|"
    # Romanian block, staircase, floor, flat ("Bl. 58 Sc. 10 Ap. 441"); Philippine "Block 18 Lot 56"
    r"bl\.|sc\.|ap\.|et\.|block|blk\.?|phase)\s*[\w/-]*\d[\w/-]*\.?\s*[ºª°]?"
)
_ADDRESS_EN_RE = re.compile(
    rf"(?<![\w#])(?:(?P<unit>{_UNIT_RE.pattern}),?\s+)?(?:(?P<no>\d{{1,5}}[A-Za-z]?(?:[-/]\d{{1,4}})?),?\s+)?"
    rf"(?P<name>(?:[^\W\d_][\w'’.-]*\s+){{1,4}}?)(?i:(?:{_STREET_SUFFIX})s?)(?![\w])\.?"
)
_EN_ANCHOR_RE = re.compile(r"(?<![\w#])(?=\d|(?i:apt|apartment|suite|ste|unit|flat|studio|floor|room|bldg|building)\b)")
_POSTCODE_RE = re.compile(
    r"(?:\d{4}-\d{3}|\d{2}-\d{3}|\d{4,6}(?:-\d{4})?|[A-Z]{1,2}-\d{4,5}|\d{4}\s?[A-Z]{2}|[AC-FHKNPRTV-Y]\d[\dW]\s?[AC-FHKNPRTV-Y\d]{4}|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|\d{3}\s\d{2}|"
    r"[A-Z]\d[A-Z]\s?\d[A-Z]\d)(?![\w])"
)
_PLACE_WORD_RE = re.compile(r"[^\W\d_][\w'’.-]*")
_ADDRESS_SEP_RE = re.compile(r"\s*[,\n]\s*|[ \t]+")
_ADDRESS_CUE_RE = re.compile(
    r"\b(?:my\s+(?:new\s+|home\s+|billing\s+|shipping\s+|delivery\s+|street\s+)?address\s*(?:is\b|:)|"
    r"address\s*:|ship(?:ped)?\s+(?:it\s+|them\s+|this\s+|the\s+order\s+)?to|"
    r"deliver(?:ed)?\s+(?:it\s+|them\s+|this\s+|the\s+order\s+)?to|"
    r"send\s+(?:it\s+|them\s+|this\s+|the\s+\w+\s+)?to|i\s+live\s+(?:at|on|in)|"
    r"(?:go|goes|went)\s+to|i'?m\s+(?:at|on)|located\s+at|moved\s+to|new\s+address|"
    r"(?:delivery|billing|shipping|postal|home|street|mailing|old|previous|current|registered)\s+address"
    r"(?:\s+is\b|\s*[:=]|\s+[-–—](?=\s)|(?=\s+(?:\d|[^\W\d_])))|"
    r"(?<![\w-])(?:post|mail|courier|forward|return)(?:ed)?\s+(?:it\s+|them\s+|this\s+|the\s+\w+\s+)?(?:back\s+)?to|"
    r"(?:collect|pick)(?:ed)?\s+(?:it\s+|them\s+|this\s+)?(?:up\s+)?from|drop(?:ped)?[\s-]+(?:it\s+)?(?:off\s+)?at|"
    r"(?:(?:my|our|his|her|their)\s+(?:old\s+|new\s+|previous\s+)?(?:place|flat|house|home|apartment|office|"
    r"parents|parents['’]|mum['’]s|mom['’]s|work)\s+(?:at|on|in|is)|(?:my|our)\s+parents\s+live\s+at)|"
    r"(?:lives?|living|stay(?:ing)?|reside|residing)\s+at|"
    # "address on file is …", "my address changed to …", "update my address to …"
    r"address\s+(?:on\s+(?:file|record|the\s+account)|we\s+have(?:\s+on\s+file)?)\s*(?:is\b|:)?|"
    r"address\s+(?:has\s+)?(?:changed|changes|moved|is\s+changing|was\s+changed)\s+to|"
    r"(?:change|changed|update|updated|correct|corrected)\s+(?:my\s+|our\s+|the\s+)?address\s+to)\s*:?\s*",
    re.IGNORECASE,
)
_MILITARY_RE = re.compile(
    r"\b(?:(?:USS|USNS|USNV|USCGC)\s+[A-Z][\w'-]+|(?:PSC|Unit)\s+\d{2,5},?\s+Box\s+\d{2,5}|"
    r"(?:APO|FPO|DPO)\s+(?:AA|AE|AP)\s+\d{5})"
)
_NOT_STREET_WORDS = frozenset(
    "days weeks months years hours minutes times items orders products dollars euros pounds percent am pm pcs "
    "of a the my your an in on at for to from and or i it is was this that with by".split()
)


# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------
_NAME_WORD = r"(?:[^\W\d_](?:[\w'’-]*[^\W\d_])?)"
_CAP_NAME_WORD = r"(?:(?:Mc|Mac|O'|O’|D'|D’)?[^\W\d_a-z][\w'’-]*[^\W\d_]|[^\W\d_a-z]\.?)(?![\w])"
_NAME_PARTICLE = r"(?:van|von|der|den|de|del|della|di|da|du|dos|das|le|la|bin|ibn|al|el|ter|ten|y|zu|het|vom|zum|dei|degli)"
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
    visa mastercard paypal amex iphone android windows mac apple google amazon ebay siri alexa cortana bixby
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
    from stdnum import luhn

    return luhn.is_valid(digits)


def _find_emails(text: str) -> list[PiiSpan]:
    out = []
    for m in _EMAIL_RE.finditer(text):
        start = m.start()
        if text[max(0, start - 7):start].lower() == "mailto:":
            start -= 7  # "mailto:jane@example.com": the link's scheme goes with it
        out.append(PiiSpan(start, m.end(), PiiType.EMAIL, text[start:m.end()]))
    return out


def _cue_before(text: str, start: int, window: int = 40) -> PiiType | None:
    """The id type suggested by the cue words closest before ``start``."""
    before = text[max(0, start - window):start]
    # a cue in an earlier sentence says nothing about this number
    cut = max((m.end() for m in re.finditer(r"[.!?]\s+", before)), default=0)
    before = before[cut:]
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


# ISO 4217 alphabetic codes of the currencies in use, matched after or before a number in upper case
# only ("147 GEL", "AED 551"); those that are English words too (ALL, BOB, CUP, MOP, PEN, SOS, TOP) are
# left out: "CALL 0412 345 678 ALL DAY" ends in no currency
_ISO_4217 = (
    "AED AFN AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BRL BSD BTN BWP BYN BZD CAD CDF CHF "
    "CLP CNY COP CRC CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG "
    "HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA "
    "MKD MMK MNT MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PGK PHP PKR PLN PYG QAR RON RSD "
    "RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SRD SSP STN SVC SYP SZL THB TJS TMT TND TRY TTD TWD TZS UAH UGX "
    "USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL"
).split()
# after a number: a percent sign, a currency's name or sign in any case ("350 dollars", "260 лв.",
# "428,000 rials"), or an ISO code in capitals
_AMOUNT_AFTER_RE = re.compile(
    r"\s*(?:%|(?:dollars?|euros?|pounds?|bucks|cents?|pence|percent|francs?|kronor|kroner|krona|krone|kr|"
    r"złoty|zloty|zł|zl|yen|yuan|rupees?|pesos?|rand|reais|real|lira|liras|forint|koruna|baht|won|dong|"
    r"shillings?|naira|riyals?|dirhams?|lei|leu|usd|eur|gbp|chf|sek|nok|dkk|pln|czk|huf|aud|cad|nzd|jpy|"
    r"cny|inr|mxn|brl|zar|try|sgd|hkd|aed|ron|isk|krw|php|thb|"
    r"лв|лева|лев|руб|рублей|рубля|₽|грн|гривень|₴|₸|₾|₼|₺|₹|₩|₫|₱|₪|₦|₵|₭|៛|rials?|riyal|dinars?|dirham|"
    r"kuna|lari|dram|manat|tenge|hryvnias?|rubles?|roubles?|rupiah|ringgit|taka|kyat|birr|cedis?|kwacha|"
    r"lempiras?|quetzales|quetzals?|soles|bolivianos?|guaran[ií]es|colones|córdobas?|cordobas?|leva|lek|denars?|"
    rf"kč|ft|kn|din|дин|ден|сом|сум|(?-i:{'|'.join(_ISO_4217)}))(?![\w]))", re.IGNORECASE
)
_CURRENCY_CODE_BEFORE_RE = re.compile(rf"(?<![\w])(?:{'|'.join(_ISO_4217)})[ \t]?$")
# "715,000 rials", "1.250.000 VND": the thousands groups of an amount before its currency
_THOUSANDS_RE = re.compile(r"(?:[.,\u202f\u00a0 ]\d{3})+(?:[.,]\d{1,2})?")


def _is_amount(text: str, start: int, end: int) -> bool:
    """Money and percentages are not personal data: "$1499", "350 dollars", "20 %", "147 GEL",
    "AED 551", "715,000 rials"."""
    before = text[max(0, start - 1):start]
    if before and before in "$€£¥₹₩₽₺₪₫₱₦₴₸₾₼":
        return True
    if _CURRENCY_CODE_BEFORE_RE.search(text, max(0, start - 4), start):
        return True
    groups = _THOUSANDS_RE.match(text, end)
    return any(_AMOUNT_AFTER_RE.match(text, at) for at in ((end, groups.end()) if groups else (end,)))


_PHONE_EXT_RE = re.compile(r"\s*(?:x|ext\.?|extension|#)\s*\d{1,6}(?![\w])", re.IGNORECASE)


# "card no. 4111 …", "credit card number: …", "Maestro 6759 …": a Luhn-valid number is a card
# whatever other cue is near ("no." alone means an order)
_CARD_CUE_RE = re.compile(r"\b(?:card|visa|mastercard|amex|maestro|discover|cc)\b[^.!?\d]{0,16}?"
                          r"(?:\b(?:no|nr|num)\.?|#|:)?\s*$", re.IGNORECASE)
_PIECE_BREAK_RE = re.compile(r"\.\s+|\s+/\s+|\s*;\s*")


_CARD_PREFIX_RES = [re.compile(rf"(?:\d{{4}}[ -]){{{k}}}\d{{1,4}}(?![\d])") for k in (4, 3, 2)] + [
    re.compile(r"\d{4}[ -]\d{6}[ -]\d{5}(?![\d])"), re.compile(r"\d{13,19}(?![\d])")]


def _card_prefixes(part: str):
    """Card-shaped prefixes of a digit run, longest grouping first, each followed by more of the
    run ("4141-7162-1877-7657 04/2033 183": the 4-group prefix, not 4 groups and "04")."""
    for regex in _CARD_PREFIX_RES:
        m = regex.match(part)
        if m and m.end() < len(part.rstrip(" .-/")) and not part[m.end()].isdigit():
            yield m


def _number_pieces(text: str) -> list[tuple[int, str]]:
    """Runs of digits and separators, cut at a sentence end (". "), a spaced slash or a semicolon
    ("on 02/04/2026. 4326 3808 6911 0", "card no. 4111 … 1111 / 09/32 / …"); a run that starts
    with a Luhn-valid card number in 4-digit groups is cut after it ("4111 1111 1111 1111 08/27")."""
    out: list[tuple[int, str]] = []
    for m in _NUMBER_RUN_RE.finditer(text):
        pos = m.start()
        for part in _PIECE_BREAK_RE.split(m.group(0)):
            at = text.index(part, pos) if part else pos
            pos = at + len(part)
            if not part or not re.search(r"\d", part):
                continue
            digits = re.sub(r"\D", "", part)
            card = None
            # a whole run that is a card (19 digits in 4-digit groups end in a group of three)
            # is never cut to a card-shaped prefix that passes the Luhn check by chance
            whole_card = 13 <= len(digits) <= 19 and _luhn_ok(digits)
            for cand in () if whole_card else _card_prefixes(part):
                cd = re.sub(r"\D", "", cand.group(0))
                if 13 <= len(cd) <= 19 and len(cd) < len(digits) and _luhn_ok(cd):
                    card = cand
                    break
            if card:
                out.append((at, card.group(0)))
                rest = part[card.end():]
                lead = len(rest) - len(rest.lstrip(" -"))
                if rest.strip(" -"):
                    out.append((at + card.end() + lead, rest[lead:]))
                continue
            out.append((at, part))
    return out


# a bay, a table or a menu item and its number name a thing or a place in a building, not a person's
# record: "parked in bay P-112", "menu item #37", "locker 1042", "on floor 17"
_NUMBERED_THING_BEFORE_RE = re.compile(
    r"(?<![\w'’])(?:menu[ \t]+item|bay|floor|level|table|seat|row|locker|slot|spot|parking[ \t]+space|pump|lane|desk|"
    r"counter|booth|stall|pitch|berth|cabin|court|hole|page|question|exercise|aisle|gate|platform|stand|kiosk|"
    r"window|dock|bed|ward|tier)[ \t]*(?:no\.?|nr\.?|number|#)?[ \t]*$", re.IGNORECASE)
# "12/05", "5.11": a day and a month (either order) without a year
_DAY_MONTH_RE = re.compile(r"(?:0?[1-9]|[12]\d|3[01])[./](?:0?[1-9]|1[0-2])|(?:0?[1-9]|1[0-2])[./](?:0?[1-9]|[12]\d|3[01])")


def _numbered_thing(text: str, start: int) -> bool:
    return bool(_NUMBERED_THING_BEFORE_RE.search(text, max(0, start - 24), start))


def _inside_a_time(text: str, start: int, end: int) -> bool:
    """"14:00-18:00" → "00-18": a piece whose digits are glued to a clock's colon is part of times."""
    return bool(re.search(r"\d:$", text[max(0, start - 2):start]) or re.match(r":\d", text[end:end + 2]))


def _find_numbers(text: str) -> list[PiiSpan]:
    """Cards, phones and bare numeric identifiers from runs of digits and separators."""
    spans: list[PiiSpan] = []
    for start, raw in _number_pieces(text):
        # trim trailing separators/closing parens that are not part of the number
        raw = raw.rstrip(" .-/")
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
        if _DATE_RE.match(raw) or _TIME_OR_AMOUNT_RE.match(raw) or _year_range(raw) or _DAY_MONTH_RE.fullmatch(raw):
            continue
        if _is_amount(text, start, end) or _inside_a_time(text, start, end) or _numbered_thing(text, start):
            continue
        cue = _cue_before(text, start)
        card_cue = bool(_CARD_CUE_RE.search(text[max(0, start - 24):start]))
        if (13 <= n <= 19 or (card_cue and n == 12)) and _luhn_ok(digits) and (
                card_cue or cue not in (PiiType.ORDER_ID, PiiType.INVOICE_ID)):
            spans.append(PiiSpan(start, end, PiiType.CARD, raw))
            continue
        if has_sep and re.search(r"\s", raw) and cue is None and not (raw.startswith("+") or 7 <= n <= 15):
            # "room 12 34" etc.: several small numbers, not one identifier
            continue
        phone_like = raw.startswith(("+", "00", "(")) or (has_sep and 7 <= n <= 15)
        if cue not in (PiiType.ORDER_ID, PiiType.INVOICE_ID) and 7 <= n <= 15 and (has_sep or raw[:1] in "+0(") \
                and ids.valid_phone(raw):
            cue = PiiType.PHONE  # phonenumbers says it is a valid number of one of our regions
        if cue is PiiType.PHONE or (phone_like and cue is None and 7 <= n <= 15):
            ext = _PHONE_EXT_RE.match(text, end)
            end = ext.end() if ext else end
            spans.append(PiiSpan(start, end, PiiType.PHONE, text[start:end]))
        elif cue in (PiiType.ORDER_ID, PiiType.INVOICE_ID):
            spans.append(PiiSpan(start, end, cue, raw))
        elif n >= 5:
            spans.append(PiiSpan(start, end, PiiType.PHONE if phone_like else PiiType.ID_NUMBER, raw))
    return spans


_YEAR_RANGE_RE = re.compile(r"((?:19|20)\d\d)\s?[-–/]\s?((?:19|20)?\d\d)")


def _year_range(raw: str) -> bool:
    """"1994-2009", "1933-45": the years a work or an era spans, not a phone or an identifier."""
    m = _YEAR_RANGE_RE.fullmatch(raw)
    if not m:
        return False
    first, last = m.group(1), m.group(2)
    return int(last if len(last) == 4 else first[:2] + last) > int(first)


def _looks_like_code(token: str) -> bool:
    core = token.lstrip("#")
    if re.fullmatch(r"(?:[xX*•]{4}[ -]?){1,3}\d{4}", core):
        return False  # a masked card number: only its last four digits show
    digits = sum(ch.isdigit() for ch in core)
    letters = sum(ch.isalpha() for ch in core)
    if token.startswith("#") and digits >= 2:
        return True
    if digits >= 3 and letters >= 1 and len(core) >= 5:
        if _TIME_OR_AMOUNT_RE.match(core):
            return False
        return not re.fullmatch(r"\d+(?:st|nd|rd|th|s|x\d+|k|kg|gb|mb|tb|mm|cm|km|ml|hz|mhz|ghz|px|p|am|pm)", core, re.IGNORECASE)
    if digits >= 5 and letters == 0:
        return not (_DATE_RE.match(core) or _TIME_OR_AMOUNT_RE.match(core))
    return False


_DIGIT_RE = re.compile(r"\d")


_VERSION_RE = re.compile(r"^v?\d+(?:\.\d+){1,3}[a-z]?$", re.IGNORECASE)
# after these words a code names a thing, not a person: a version, a model, a flight, a seat
_VERSION_WORD_RE = re.compile(
    r"\b(?:version|ver|v|release|build|firmware|update|ios|android|model|size|flight|train|bus|gate|seat|"
    r"platform|terminal|route|line|series|gen|generation|edition|chapter|aisle|level)\.?\s*$", re.IGNORECASE)
_BRAND_BEFORE_RE = re.compile(r"(?<![\w'’])([A-Z][\w'’&-]*|[a-z]+[A-Z][\w-]*)[ \t]+$")


def _model_number(text: str, start: int, token: str) -> bool:
    """A product's model number or a version, not a personal identifier: "v9.14", "firmware
    5.2", "Sony WH-1000XM5" (a code right after a capitalised brand word, with no id cue near)."""
    if _VERSION_RE.match(token) or _VERSION_WORD_RE.search(text[max(0, start - 12):start]):
        return True
    brand = _BRAND_BEFORE_RE.search(text[max(0, start - 24):start])
    if not brand or token.startswith("#"):
        return False
    word = brand.group(1)
    if _ORDER_CUE_WORD_RE.fullmatch(word) or _INVOICE_CUE_WORD_RE.fullmatch(word) or re.fullmatch(
            rf"(?:{_ID_WORDS})", word, re.IGNORECASE):
        return False  # "Order AB12345", "Ref XY7788": a cue, not a brand
    return (word.lower() not in _NOT_NAMES and not names.is_ordinary(word)
            and start - len(brand.group(0)) not in _sentence_starts(text)
            and bool(re.search(r"[A-Za-z]", token)))


# "the XR-55A80L I bought", "will they replace the samsung wf45b6300aw": a code after a
# determiner (and at most two words that are no identifier's cue) names a thing, not a person's record
_THING_BEFORE_RE = re.compile(
    r"(?<![\w'’])(?:the|a|an|this|that|these|those|our|their)[ \t]+((?:[^\W\d_][\w'’&+.-]*[ \t]+){0,2})$", re.IGNORECASE)
_ID_CUE_WORDS_RE = re.compile(
    rf"\b(?:{_ORDER_CUES}|{_INVOICE_CUES}|{_ID_WORDS}|{_PHONE_CUES}|iban|tax|national|passport|licen[cs]e|"
    r"postcode|postal|zip|pin|user|username|login|ssn|nin|insurance|policy|serial)\b", re.IGNORECASE)
# "9.30am", "10.30pm"; "S02E05" (an episode)
_NOT_A_CODE_RE = re.compile(r"(?:[01]?\d|2[0-3])(?:[.:][0-5]\d)?(?:am|pm)|S\d{1,2}E\d{1,3}", re.IGNORECASE)


def _a_thing(text: str, start: int, token: str) -> bool:
    """A code-shaped token with no identifier's cue that names a thing: a time, an episode,
    or a product after a determiner."""
    if _NOT_A_CODE_RE.fullmatch(token):
        return True
    det = _THING_BEFORE_RE.search(text[max(0, start - 48):start])
    return bool(det) and not _ID_CUE_WORDS_RE.search(det.group(1)) and _cue_before(text, start) is None


def _find_codes(text: str) -> list[PiiSpan]:
    spans: list[PiiSpan] = []
    for m in _TOKEN_RE.finditer(text):
        token = m.group(0)
        if not _DIGIT_RE.search(token):
            continue
        if _model_number(text, m.start(), token):
            continue
        if not _looks_like_code(token) or _DATE_RE.match(token) or _is_amount(text, m.start(), m.end()):
            continue
        if _numbered_thing(text, m.start()):
            continue
        kind = _id_kind(text, m.start(), token)
        if kind is PiiType.ID_NUMBER and _year_range(token):
            continue
        if kind is PiiType.ID_NUMBER and not token.startswith("#") and _a_thing(text, m.start(), token):
            continue
        spans.append(PiiSpan(m.start(), m.end(), kind, token))
    for m in _ID_CUE_RE.finditer(text):
        token = m.group("id")
        if not any(ch.isdigit() for ch in token):
            continue
        if _DATE_RE.match(token) or _TIME_OR_AMOUNT_RE.match(token) or _VERSION_RE.match(token):
            continue
        if _DAY_MONTH_RE.fullmatch(token) or _numbered_thing(text, m.start("id")) or _inside_a_time(
                text, m.start("id"), m.end("id")):
            continue
        digits = sum(ch.isdigit() for ch in token)
        letters = sum(ch.isalpha() for ch in token)
        if digits < 3 and letters == 0:
            continue  # "order 2 of 3", "invoice from 5 weeks ago"
        if digits < 2 or _is_amount(text, m.start("id"), m.end("id")):
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
        if re.fullmatch(r"(?i:n|nr|no)\.?", word) and re.match(r"[°º.]?\s*\d", text[m.end():]):
            break  # "La Pampa N° 39", "Nistor Nr. 211": the number sign starts the house number
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
        if re.match(r"\.(?=\s*[,\n])", text[end:]) and re.search(r"\d$", text[:end]):
            end += 1  # "Kossuth utca 247.\nH-4939 Hátfalva": Hungarian house numbers take a full stop
        sep = _ADDRESS_SEP_RE.match(text, end)
        pos = sep.end() if sep else end
        if m := _UNIT_RE.match(text, pos):
            end, after_postcode = m.end(), False
            continue
        if sep and (m := _HOUSE_NO_BEFORE_POSTCODE_RE.match(text, pos)):
            end, after_postcode = m.end(), False  # "Viale Vattimo, 820, 67100 Buonalbergo"
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


_UNIT_BEFORE_RE = re.compile(
    r"(?<![\w])(?i:flat|apt\.?|apartment|unit|suite|studio|room|appartamento|piso|wohnung|lgh\.?)"
    r"\s*[\w-]*\d[\w-]*\s*[,/]?\s*$"
)


_UNIT_WORD_BEFORE_RE = re.compile(r"(?<![\w])(?i:flat|apt\.?|apartment|unit|suite|studio|h\.?\s?no\.?|house\s+no\.?)[ \t]+$")
_HOUSE_NO_BEFORE_POSTCODE_RE = re.compile(
    rf"(?:\d{{1,5}}[A-Za-z]?|S/N)(?=\s*,?\s*(?:{_UNIT_RE.pattern}|(?:{_POSTCODE_RE.pattern})\s*[^\W\d_]))"
)


# Street words that are common English words in lower case: "a 1991 sound track", "6 but zero
# points", "at 21 o'clock close by", "a table for 5 next fall" — a street only when capitalised
_LOWER_CASE_NOT_A_STREET = frozenset("track tracks point points close fall falls".split())
_MEASURE_UNITS = frozenset("m² m2 sqm sq sqft ft² ft km mi miles metres meters m cm mm kg g lb lbs kcal min mins "
                           "minutes hours hrs".split())


def _not_a_street_after_number(text: str, m: re.Match) -> bool:
    """A number and words that end in a street word but are no address: a chart ("Top 100 Indie
    Tracks"), a rating or a count, or a lower-case street word that is an ordinary word."""
    suffix = m.group(0).rstrip(".").split()[-1]
    if suffix in _LOWER_CASE_NOT_A_STREET:
        return True
    if m.group("no") and m.group("name").split()[0].lower() in _MEASURE_UNITS:
        return True  # "45 m² flat", "3 km lane": a size or a distance
    return bool(m.group("no") and re.search(r"\b(?:top|best|rating\s+of|out\s+of)\s+$", text[max(0, m.start() - 12):m.start()],
                                            re.IGNORECASE))


def _find_addresses(text: str) -> list[PiiSpan]:
    spans: list[PiiSpan] = []

    def add(start: int, end: int) -> None:
        end = _extend_address(text, end)
        # a flat or unit written before the street: "Flat 5, Incrocio Cendron, 293"
        unit = _UNIT_BEFORE_RE.search(text[max(0, start - 30):start]) or _UNIT_WORD_BEFORE_RE.search(
            text[max(0, start - 14):start])
        if unit:
            start -= len(unit.group(0))
        spans.append(PiiSpan(start, end, PiiType.ADDRESS, text[start:end]))

    # English order: [unit,] number street-name suffix
    # (tried at every number or unit word, so a rejected match cannot hide a later one)
    for anchor in _EN_ANCHOR_RE.finditer(text):
        m = _ADDRESS_EN_RE.match(text, anchor.start())
        if not m or not (m.group("no") or m.group("unit")):
            continue
        words = m.group("name").split()
        if any(w.lower().strip(",.") in _NOT_STREET_WORDS for w in words) or re.search(r"\.\s+[a-z]", m.group(0)):
            continue  # "755 CHF. bank account": a sentence ended inside
        if _not_a_street_after_number(text, m):
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
        if m.group(0).lower() in _ABBREV_NEEDS_NUMBER:
            before = None  # "2 tv. Sony", "33 cl. Coke": units, not "Tv. 12 # 4-5"
        if before:
            start = start - len(before.group(0))
        gap = re.match(r"\s+", text[m.end():])
        name_start = m.end() + gap.end()
        name_end = _take_place_words(text, name_start, max_words=5)
        if name_end == name_start:
            # numbered streets: "Cl. 144 # 37C-44", "Carrera 150N Sur # 39-1 Sur", "Calle 5 N° 1435"
            numbered = _NUMBERED_STREET_RE.match(text, name_start)
            if numbered:
                add(start, numbered.end())
            continue
        tail = re.match(r"\s*,?\s*(?:nr\.?|nº|n°|no\.?|núm\.?|n\.?)?\s*", text[name_end:], re.IGNORECASE)
        # with the number in front ("12, rue …") a number after the name is a postcode
        house = None if before else _HOUSE_NO_RE.match(text, name_end + tail.end())
        if house:
            add(start, house.end())
        elif before or m.group(0).lower() not in _PREFIX_NEEDS_NUMBER | _ABBREV_NEEDS_NUMBER:
            add(start, name_end)
    for m in _POSTFIX_STREET_RE.finditer(text):
        gap = re.match(r"[ \t]*", text[m.end():])
        house = _HOUSE_NO_RE.match(text, m.end() + gap.end())
        if house:
            end = house.end() + (text[house.end():house.end() + 1] == "." and not re.match(r"\.\s+[A-Z]", text[house.end():]))
            add(m.start(), end)
    for m in _SLAVIC_STREET_RE.finditer(text):
        cue = _ADDRESS_CUE_RE.search(text, max(0, m.start() - 40), m.start())
        if (cue and cue.end() >= m.start() - 12) or re.match(r"\s*[,\n]\s*(?:\d{3}\s?\d{2}|\d{4,5})[ \t]+[^\W\d_]",
                                                            text[m.end():]):
            add(m.start(), m.end())
    # US military addresses
    for m in _MILITARY_RE.finditer(text):
        add(m.start(), m.end())
    # before "(that's my new place)", "is my new address": the clause before it
    for m in _ADDRESS_AFTER_RE.finditer(text):
        clause = re.search(r"(?:^|[.!?;:]\s+|\n\n)([^.!?;:]*?(?:\n[^.!?;:\n]*?){0,3})$", text[:m.start()])
        if clause:
            value = clause.group(1).strip()
            start = m.start() - len(clause.group(1)) + (len(clause.group(1)) - len(clause.group(1).lstrip()))
            if re.search(r"\d", value) and 5 <= len(value) <= 140:
                spans.append(PiiSpan(start, start + len(value), PiiType.ADDRESS, value))
    # After an address cue, a clause that contains a digit
    for m in _ADDRESS_CUE_RE.finditer(text):
        rest = text[m.end():]
        # a clause ends at ". " — not after the abbreviations that start an address ("pl.", "Apt. 5")
        clause = re.match(r"[^\n!?;]*?(?=(?:(?<!\b(?:pl|al|ul|os|nr|no|av|st|rd|dr|ln|ct))(?<!\b(?:apt|ave|ste|int|col))"
                          r"(?<!\b(?:edif|dpto|bldg|blvd))(?<!\bdepto)\.\s(?!\d)|\.$|[!?;\n]|$|"
                          r"\s+(?:and|but|please|thanks|asap|tomorrow|today|tonight|"
                          r"yesterday|instead|when|if|because|since|before|after|until|(?:last|next|this)\s+\w+|"
                          r"on\s+(?:mon|tue|wed|thu|fri|sat|sun)\w*|by\s+(?:mon|tue|wed|thu|fri|sat|sun)\w*)\b))",
                          rest, re.IGNORECASE)
        if not clause:
            continue
        value = _TRAILING_SYMBOLS_RE.sub("", clause.group(0)).rstrip(" ,.")
        if _no_address_follows(m.group(0), value) or _FLOOR_ONLY_RE.match(value):
            continue
        if re.match(r"(?:go|goes|went)\b", m.group(0), re.IGNORECASE) and re.match(r"(?i:a|an|the|my|some)\s", value):
            continue  # "want to go to a pub that has …", "go to my all out 00s": somewhere, not an address
        amount = re.match(r"[$€£¥]?\d[\d.,]*", value)
        if amount and (value[:1] in "$€£¥" or _AMOUNT_AFTER_RE.fullmatch(value, amount.end())):
            continue  # "… delivery address 4877 kr": a price, not where someone lives
        if _TIME_OF_DAY_RE.fullmatch(value):
            continue  # "my delivery slot moved to 11:15 / half past 3 / between 8 and 12": when, not where
        if re.search(r"\d", value) and len(value) >= 5:
            # the address may go on over the next lines: "Kossuth utca 247.\nH-4939 Hátfalva"
            end = _extend_address(text, m.end() + len(value))
            spans.append(PiiSpan(m.end(), end, PiiType.ADDRESS, text[m.end():end]))
    return spans


# emoji and other symbols that end a clause are no part of an address ("moved to 18:00 🦷")
_TRAILING_SYMBOLS_RE = re.compile(r"[\s\u2000-\u2bff\ufe0f\u200d\U0001f000-\U0001faff]+$")
# "our office is on floor 17, …": a floor or a level without a street says where in a building, not where it is
_FLOOR_ONLY_RE = re.compile(r"(?:on[ \t]+)?(?:the[ \t]+)?(?:(?:floor|level|storey|story)[ \t]+\d{1,3}|\d{1,3}(?:st|nd|rd|th)[ \t]+"
                            r"(?:floor|level|storey|story))(?![\w])(?![ \t]*,?[ \t]*\d{1,5}[ \t]+[^\W\d_])", re.IGNORECASE)


_ADDRESS_AFTER_RE = re.compile(
    r"[ \t]*(?:\([ \t]*(?:that['’]?s|this\s+is|it['’]?s)\s+(?:my|our)\s+(?:new\s+|old\s+|home\s+|current\s+)?"
    r"(?:place|address|flat|house|home|apartment)[ \t]*\)|[ \t]+(?:is|was)\s+(?:my|our)\s+(?:new\s+|old\s+|home\s+|current\s+)?"
    r"(?:address|home\s+address))", re.IGNORECASE)


_CLOCK = r"(?:(?:half|quarter)\s+(?:past|to)\s+)?(?:[01]?\d|2[0-3])(?:[:.h][0-5]\d)?(?:\s*(?:am|pm|a\.m\.|p\.m\.|o['’]?clock|hrs?))?"
_TIME_OF_DAY_RE = re.compile(
    rf"(?:(?:between|around|about|at|from|by|until|till)\s+)?{_CLOCK}"
    rf"(?:\s+(?:in\s+the\s+(?:morning|afternoon|evening)|tonight|(?:and|to|-|–)\s+{_CLOCK}))?", re.IGNORECASE)


def _no_address_follows(cue: str, value: str) -> bool:
    """"my delivery address isnt valid", "the shipping address is invalid, it was 1419 euros":
    after a cue that ends in "address" a lower-case word that starts no street, and after
    "address is" an ordinary lower-case word, say something about the address, not where it is."""
    cue = cue.strip()
    if not value[:1].islower():
        return False
    if re.search(r"address$", cue, re.IGNORECASE):
        return not re.match(r"(?i:apt|unit|flat|suite|po\s+box|pl|al|ul|os|ulica|aleja|plac)\b", value)
    first = re.match(r"[^\W\d_]+", value)
    return bool(re.search(r"address\s+is$", cue, re.IGNORECASE) and first and names.is_ordinary(first.group(0)))


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
    theatre theatres theater theaters cinema cinemas cineplex multiplex tavern cafe café restaurant
    bistro brasserie grill diner pizzeria steakhouse
    """.split()
)
# Places: runs that start with a place word or end with one are towns/countries, not people.
_PLACE_FIRST = frozenset(
    """
    north south east west new old port lake mount mt saint st san santa santo são sao porto villa
    torre cabo sierra isla isle isole ilha fort glen bay cape costa puerto monte castel castello
    bad sankt sainte saint ste los las nieuw great little upper lower central united república republica république republic
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
    if len(words) > 1 and all(w in names.country_words() for w in words) or (
            len(words) == 1 and words[0] in names.country_names()):
        return True  # "Sri Lanka", "Costa Rica", "Jordan" (not "Martin" of "Saint Martin")
    if re.match(r"[ \t]+[A-Za-z]{0,3}\d", text[end:end + 6]):
        return True  # followed by a model number: "Meta Quest 3", "Galaxy S24" are products
    following = [w.strip(",;:!?()").lower().rstrip(".") for w in text[end:end + 40].split()[:2]]
    # an initial ("E. Zapata") is no "e" (and) of a company's name
    raw = text[start:end].split()
    if any(w.rstrip(".") in _ORG_WORDS and not re.fullmatch(r"[^\W\d_]\.", r) for w, r in zip(words, raw)) or (
            following and following[0] in _ORG_WORDS):
        return True
    if (text[end - 1:end] == "." and re.match(r"[A-Za-z]{1,4}\.", text[end:])) or re.match(
        r"\.[A-Za-z]{1,4}\.", text[end:]
    ):
        return True  # "S.A.", "N.V.", "S.L.": the last "initial" is a legal-form abbreviation
    if text[end:end + 2].strip().startswith("&"):
        return True
    if words and (words[0] in _PLACE_FIRST or words[-1] in _PLACE_LAST):
        return True
    before = text[max(0, start - 8):start].lower().split()
    # "in Florence", "near Austin"; "my Oura Ring", "the Echo Dot": a person's name does not
    # follow an article or a possessive
    return bool(before) and before[-1] in ("in", "at", "near", "around", "the", "a", "an", "my", "your",
                                           "our", "their", "this", "that", "these", "those")


# Honorifics: what follows is a name whatever its case ("Mr. John Smith", "dr. jones").
_HONORIFIC_CUE_RE = re.compile(
    r"(?<![\w])(?i:mr|mrs|ms|miss|mx|dr|prof|sir|madam|dame|lady|lord|mme|mlle|herr|frau|sra|srta|"
    r"sr|sig\.ra|sig|signor|signora|dhr|mevr|rev|fr)(?:\.[ \t]*|[ \t]+)(?=[^\W\d_])"
)
# Strong cues: what follows is a name even in lower case.
_STRONG_CUE_RE = re.compile(
    r"(?:\bmy\s+(?:full\s+|first\s+|last\s+|sur|maiden\s+|real\s+)?name\s*(?:is|'s|’s|:)|"
    # a form's field: "name: …", "customer name - …", "name = …"; "under the name …"
    r"\bname\s*(?:[:=]|[-–—](?=\s))|\bunder\s+(?:the\s+|my\s+|a\s+)?name(?:\s+of)?\b|"
    r"\b(?:i\s+am|i'?m|i’m)\s+called|\bcalled\s+me\b|\bsigned\s*[,:]|\bsigned\s+(?:for\s+)?by|"
    # "signed Lucia Mistrík" (not "signed up", "signed the form")
    r"\bsigned[ \t]+(?!(?:up|in|out|for|off|on|by|the|a|an|it|this|that|my|our|your|and|contract|form)\b)(?=[^\W\d_])|"
    r"\bname\s+on\s+the\s+(?:account|card|order|invoice|booking|parcel|ticket|reservation)\s*(?:is|:|=|[-–—](?=\s))|"
    r"\bin\s+the\s+name\s+of|\b(?:for\s+the\s+)?attention\s+of|\battn\.?\s*[:\-]?(?=\s)|"
    # what a document is to say: "the invoice should say Anna Berg", "made out to …"
    r"\b(?:invoice|receipt|card|ticket|booking|label|certificate|voucher|name)\s+(?:should|must|needs?\s+to|has\s+to|to)\s+"
    r"(?:say|read|show)|\b(?:made\s+out|issued)\s+to|"
    r"\b(?:account|card)\s*-?\s*holder(?:'?s\s+name)?\s*(?:is|:|to)?|\bon\s+behalf\s+of|\baddressed\s+to|"
    # header fields of a forwarded message or a form: "From: Magnus", "Recipient: …"
    r"\b(?:from|sender|recipient|contact(?:\s+person)?|attn|attention|c/o|care\s+of|customer|"
    r"(?:first|last|given|family)\s+name|surname)\s*:|"
    r"\b(?:kind\s+|best\s+|warm\s+|many\s+)?(?:regards|thanks|thank\s+you|cheers|sincerely|best\s+wishes|"
    r"yours(?:\s+(?:sincerely|truly|faithfully))?|br)\b\s*(?:[,:]|!(?=[ \t]*\n))?[ \t]*(?:\n\s*)?(?=[^\W\d_])|"
    # shorter sign-offs only at the start of a line or sentence and with a comma or line break
    r"(?:^|(?<=\n)|(?<=[.!?:;]\s))[ \t]*(?:best|warmly|respectfully|thx|tia|all\s+the\s+best|take\s+care|with\s+thanks)"
    r"\b\s*(?:[,:!]|(?=[ \t]*\n))[ \t]*(?:\n\s*)?(?=[^\W\d_])|"
    r"(?:^|\n|[.!?:;]\s+)\s*(?:[-–—~]{1,2})\s*)[ \t]*",
    re.IGNORECASE,
)
# Personal weak cues: a capitalised name, or a lower-case first name from the gazetteer.
_PERSONAL_CUE_RE = re.compile(
    # "im" (I'm typed without the apostrophe) only at a clause start: German "im" means "in the"
    # (before "it is": whom it is for)
    r"(?:\b(?:it|this|that)\s+(?:is|was|'s|’s)\s+(?:a\s+(?:gift|present)\s+)?for|"
    r"\bi['’]m|(?:^|(?<=[.!?,;\n])\s*)im|\bi\s+am|\bthis\s+is|\bit'?s|\bit’s|\bit\s+is|\bhere\s+is|\bnamed|"
    r"\bcall\s+me|\bhi|\bhello|\bhey|\bdear|\b(?:"
    r"ask\s+for|ask|tell|speak\s+to|talk\s+to|attn|attention|who\s+is|contact|cc|(?:is|are|was)\s+under|"
    r"(?:my|our|his|her)\s+(?:wife|husband|son|daughter|mother|mum|mom|father|dad|friend|partner|"
    r"colleague|boss|manager|brother|sister|neighbou?r|assistant|flatmate|roommate|aunt|uncle|cousin|niece|"
    r"nephew|grandmother|grandfather|grandma|grandpa|girlfriend|boyfriend|fianc[ée]e?|carer|landlord|tenant)|"
    # the company's own people: "your agent Henri promised a callback"
    r"(?:your|my|our)\s+(?:agent|advis[eo]r|rep|representative|technician|engineer|consultant|operator|"
    r"colleague|case\s+handler)|"
    # who placed an order, who is to receive it, whom it is for
    r"(?:placed|ordered|booked|bought|purchased|requested)\s+by|"
    r"(?:handed|given|passed)\s+(?:over\s+)?to|give\s+(?:it|them|this|the\s+\w+)\s+to|"
    r"(?:gift|present)\s+for|"
    # who was spoken or written to, or met
    r"(?:spoke|speak|speaking|talked|talking|chatted|chatting|dealt|dealing|met|meeting|emailed|wrote)\s+(?:to|with)|"
    r"(?:emailed|phoned|rang|texted|messaged)|"
    r"(?:letter|e-?mail|message|call|text|note|voicemail)\s+from))\b\s*[,:]?[ \t]+",
    re.IGNORECASE,
)
_GREETING_RE = re.compile(r"(?i:hi|hello|hey|dear)")
_AT_THE_DOOR_RE = re.compile(r"[ \t]+at\s+(?:the\s+)?(?:door|front\s+door|reception|front\s+desk|gate|counter)\b", re.IGNORECASE)
# A name used as a brand: a noun and its verb follow ("Dr Oetker pizza was missing", "Mr Muscle
# cleaner leaked", "dr. martens boots came"); a person's name is followed by the verb itself
_BRAND_USE_AFTER_RE = re.compile(
    r"[ \t]+(?!(?:also|just|still|then|never|already|always|only|really|himself|herself|and|or|has|had|have|was|"
    r"were|is|are|will|would|can|could|did|does|do|said|told|sent|came|went|got|made|took|gave|says|wants|"
    # nouns that belong to a person: "Dr. Patel appointment was moved"
    r"appointment|office|clinic|surgery|practice|team|secretary|assistant|account|booking|order|referral|"
    r"prescription|letter|note)\b)"
    r"[a-z][a-z'’-]+[ \t]+(?:was|were|is|are|has|have|had|came|arrived|leaked|broke|went|got|stopped|"
    r"does|did|doesn'?t|didn'?t|won'?t|isn'?t|wasn'?t|aren'?t|weren'?t|keeps?|[a-z]+ed)\b")
# a bill from a utility, a phone or an insurance comes from a company, whatever it is named
_SERVICE_DOC_RE = re.compile(
    r"\b(?:energy|electricity|electric|gas|power|water|phone|mobile|internet|broadband|utility|utilities|cable|"
    r"tv|insurance|heating|streaming|subscription|credit\s+card|council\s+tax)[ \t]+$", re.IGNORECASE)
# "it is for Spotify Premium": what something is for may be a company, a plan or a person
# ("a gift for …" is a person's: gifts are given to people; what it is for may be anything)
_FOR_WHOM_RE = re.compile(r"(?i:(?:it|this|that)\s+(?:is|was|'s|’s)\s+for)")
_COMPANY_TOO_RE = re.compile(
    r"(?i:contact|ask|ask\s+for|tell|cc|it'?s|it’s|it\s+is|who\s+is|here\s+is|speak\s+to|talk\s+to|"
    r"(?:letter|e-?mail|message|call|text|note|voicemail)\s+from|emailed|phoned|rang|texted|messaged)")
# A role in apposition: "the technician, Anna Berg, never came", "our driver - Tom - was rude"
_APPOSITION_RE = re.compile(
    r"\b(?:technician|engineer|driver|courier|agent|advis[eo]r|rep|representative|installer|operator|"
    r"consultant|clerk|cashier|postman|postwoman|delivery\s+(?:man|guy|driver)|manager|supervisor|"
    r"landlord|neighbou?r|colleague|assistant|nurse|doctor|teacher)\s*[,(–—-][ \t]*",
    re.IGNORECASE,
)
# Prepositions: a name only if its first word is a gazetteer first name; after to/from/in/at
# (where places go) two name words are needed.
_PREP_CUE_RE = re.compile(r"\b(?:for|by|under)\b[ \t]+", re.IGNORECASE)
# "which is better for Rosario", "is it cheaper for Prince George": what something suits or costs
# for is a place, a plan or a group as often as a person
_SUITED_FOR_RE = re.compile(
    r"(?<![\w'’])(?:better|best|worse|cheaper|cheapest|dearer|good|bad|available|valid|open|suitable|ideal|enough|"
    r"ready|fine|faster|quicker|slower|priced)[ \t]+$", re.IGNORECASE)
# What follows a name when the sentence says what the person is or does: "Anna Berg is the
# main account holder", "add Anna Berg as an authorised user", "can Anna pick it up".
_ROLE_NOUN = (r"(?:account\s*-?\s*holder|card\s*-?\s*holder|account\s+owner|holder|owner|payer|payee|recipient|beneficiary|"
              r"user|member|driver|contact|signatory|guardian|nominee|tenant|guarantor|subscriber|customer|"
              r"wife|husband|partner|son|daughter|mother|father|mum|mom|dad|brother|sister|friend|colleague)")
_ROLE_AFTER_RE = re.compile(
    rf"[ \t]+(?:(?:is|was|will\s+be|isn'?t|is\s+not)\s+(?:the|my|our|a|an)|as\s+(?:an?|the|my|our))"
    rf"\s+(?:[\w-]+\s+){{0,2}}?(?P<role>{_ROLE_NOUN})\b|"
    # in apposition after the name: "Anna Berg (account owner)", "Anna Berg, main cardholder"
    rf"[ \t]*[(,–—-][ \t]*(?:the\s+|main\s+|primary\s+|joint\s+)?(?P<role_after>{_ROLE_NOUN})\b[ \t]*(?:[).,;:!?\n]|$)|"
    # "Anna Berg - customer since 2019", "…, member since March": a signature with a history
    r"[ \t]*[(,–—-][ \t]*(?:a\s+|loyal\s+|happy\s+)?(?P<role_since>customer|member|subscriber|client)\s+(?:since|for)\b|"
    r"[ \t]+(?:will|can|could|should|is\s+going\s+to|is\s+gonna|may)\s+(?:pick|collect|sign|come|receive)\b",
    re.IGNORECASE)
# roles a company can hold as well ("add Wise as a payee", "Royal Mail will collect it")
_COMPANY_ROLE_RE = re.compile(r"owner|payer|payee|recipient|beneficiary|contact|customer|subscriber|member|partner",
                              re.IGNORECASE)
_MODAL_CUE_RE = re.compile(r"\b(?:can|could|may|will|would|should|let)[ \t]+(?=\S)", re.IGNORECASE)
_MODAL_VERB_RE = re.compile(r"[ \t]+(?:pick|collect|sign|come|receive)\b", re.IGNORECASE)
# Verbs that only people do, after a name with no cue before it.
_HUMAN_VERB_AFTER_RE = re.compile(
    r"[ \t]+(?:phoned|rang|called\s+(?:me|us|back)|emailed|e-mailed|texted|messaged|wrote\s+to|visited|"
    r"collected|signed\s+for|picked\s+(?:it|them|the\s+\w+)\s+up|picked\s+up|moved\s+(?:in|out|house)|"
    r"lives\s+(?:at|in|with)|passed\s+away|died)\b", re.IGNORECASE)
_POST_CUE_RE = re.compile(r"[ \t]+(?:here|speaking)\b", re.IGNORECASE)
_GLUED_RUN_RE = re.compile(
    rf"(?<![\w'’])(?:[a-z]+(?=[A-Z][a-z]))?{_CAP_NAME_WORD}(?:[ \t]+(?:{_NAME_PARTICLE}[ \t]+)*{_CAP_NAME_WORD})+"
)
_WORD_RE = re.compile(rf"{_NAME_WORD}\.?")


def _name_word_ok(core: str) -> bool:
    low = core.lower().strip("'’")
    return bool(low) and low not in _FUNCTION_WORDS and not any(ch.isdigit() for ch in core)


def _name_run(text: str, pos: int, lower_ok: bool, max_words: int = 3) -> tuple[int, int] | None:
    """The run of name words at ``pos``: capitalised words (a capitalised first word needs
    capitalised followers), or — when ``lower_ok`` — lower-case words that are not ordinary words
    (or are gazetteer first names). Particles (van, de, …) may sit between words."""
    words = 0
    cursor = pos
    end = pos
    run_cap = False
    while words < max_words:
        m = _WORD_RE.match(text, cursor)
        if not m:
            break
        word = m.group(0)
        core = word.rstrip(".")
        if words and re.fullmatch(_NAME_PARTICLE, core, re.IGNORECASE) and (
                not core[:1].isupper() or re.match(r"[ \t]+[^\W\d_a-z]", text[m.end():])):
            nxt = re.match(r"[ \t]+", text[m.end():])
            if not nxt:
                break
            cursor = m.end() + nxt.end()
            continue
        initial = (len(core) == 1 and core.isupper() and word.endswith(".")
                   and re.match(r"[ \t]+[^\W\d_a-z][^\W\d_]", text[m.end():]))  # "A. Eraslan"
        if not _name_word_ok(core) and not initial:
            break
        cap = core[:1].isupper()
        if words == 0:
            if not cap and not lower_ok:
                break
            run_cap = cap
        elif run_cap and not cap:
            break
        elif not run_cap and names.is_ordinary(core) and not names.is_first_name(core) and not (
                words == 1 and _word_surname_after_first(text[pos:end], core)):
            break
        words += 1
        end = m.start() + len(core) if (word.endswith(".") and len(core) > 1) else m.end()
        nxt = re.match(r"[ \t]+", text[m.end():])
        if not nxt or (word.endswith(".") and len(core) > 1):
            break
        cursor = m.end() + nxt.end()
    return (pos, end) if words else None


def _first_name_evidence(word: str) -> bool:
    """A gazetteer first name that is not an ordinary word (nor a word the rules know); an
    all-capitals word ("ING") is an acronym."""
    bare = re.sub(r"^[a-z]+(?=[A-Z])", "", word).strip("'’.")
    low = bare.lower()
    if len(bare) > 1 and bare.isupper():
        return False
    return names.is_first_name(bare) and not names.is_ordinary(bare) and low not in _NOT_NAMES


def _unknown_word(word: str) -> bool:
    """Not an ordinary word, a word the rules know, a country word or an acronym."""
    bare = word.strip("'’.,")
    low = bare.lower()
    return (bool(bare) and bare.isalpha() and not (len(bare) > 1 and bare.isupper())
            and not names.is_ordinary(bare) and low not in _NOT_NAMES and low not in names.country_words())


def _surname_evidence(word: str) -> bool:
    """A census surname that is not an ordinary word ("Swift", "Prime" are words or brands)."""
    return _unknown_word(word) and names.surname_rank(word.strip("'’.,")) is not None


def _full_name_evidence(words: list[str], loose: bool = False) -> bool:
    """A run of capitalised words with no cue before it is a name when it ends in a census
    surname that is not an ordinary word and starts with a gazetteer first name ("Anna Smith",
    not "Chase Sapphire", "Echo Dot", "Taylor Swift"); ``loose`` (a run the NER model labels
    PERSON): or with any word that is not an ordinary one before a frequent surname (rank
    ≤ 10,000): "Giulia Bianchi"."""
    if len(words) < 2 or not _surname_evidence(words[-1]):
        return False
    if _first_name_evidence(words[0]):
        return True
    if not loose:
        return False
    rank = names.surname_rank(words[-1].strip("'’.,"))
    return rank is not None and rank <= 10000 and all(_unknown_word(w) for w in words[:-1])


def _plausible_name(value: str) -> bool:
    """Some word of the run is not an ordinary word: "Happy", "Urgent", "Gold" are not names."""
    words = [w.strip("'’.,") for w in value.split()]
    return any(
        w and (_first_name_evidence(w) or (not names.is_ordinary(w) and w.lower() not in _NOT_NAMES))
        for w in words
    )


_DOC_FROM_RE = re.compile(
    r"\b(?i:bill|invoice|inovice|invocie|receipt|statement|letter|e-?mail|message|call|text|note|voicemail|"
    r"payment|transfer|cheque|parcel|package|gift|card|reply|answer|complaint)(?i:s)?[ \t]+"
    r"(?P<prep>[a-z]{2,5})(?P<gap>[ \t]*)(?=[A-Z])")


def _near_from(word: str) -> bool:
    """"from" or a typing slip of it (one or two edits: "frm", "rfom", "ffom", "fromn")."""
    word = word.lower()
    if word == "from":
        return True
    if word in _FUNCTION_WORDS or not 2 <= len(word) <= 5:
        return False
    prev = list(range(5))
    for i, ch in enumerate(word, 1):
        cur = [i]
        for j, target in enumerate("from", 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ch != target)))
        prev = cur
    return prev[-1] <= 2 and word[:1] in "fr"


def _lower_run_evidence(words: list[str]) -> bool:
    """A lower-case run with no strong cue: its first word a gazetteer first name, or (two words
    or more) its last word a census surname; no word an ordinary one."""
    if any(names.is_ordinary(w) and not _first_name_evidence(w)
           and not (i and _word_surname_after_first(words[0], w)) for i, w in enumerate(words)):
        return False
    return _first_name_evidence(words[0]) or (len(words) > 1 and _surname_evidence(words[-1]))


def _word_surname_after_first(first: str, word: str) -> bool:
    """"margaret day", "wayne strong": after a gazetteer first name, an ordinary word that is
    also a frequent census surname (rank ≤ 5,000) is taken as the surname."""
    rank = names.surname_rank(word.strip("'’.,"))
    return _first_name_evidence(first.strip("'’.,")) and rank is not None and rank <= 5000


def _cued_run_ok(text: str, start: int, end: int, gazetteer: bool = False) -> bool:
    """A run after (or before) a personal cue: capitalised with some word that is not an ordinary
    one, or in lower case with gazetteer evidence; never an organisation or a place.
    ``gazetteer``: for cues that companies fit as well as people ("can Royal Mail collect it",
    "add Wise as a payee"), a capitalised run too needs a gazetteer first name or (two words or
    more) a census surname at its end."""
    value = text[start:end]
    words = value.split()
    if not words or _org_or_place(text, start, end):
        return False
    if len(words) >= 2 and value.isupper() and not text.isupper():
        # "JÁNOS KOVÁCS" in a text that is not in capitals: a name typed in capitals, when no
        # word is an ordinary word or an acronym-length word
        return all(len(w.strip("'’.,")) > 2 and _unknown_word(w.strip("'’.,").title()) for w in words)
    if words[0][:1].isupper():
        if gazetteer:
            return _first_name_evidence(words[0]) or (len(words) > 1 and _surname_evidence(words[-1]))
        if len(words) == 1:
            return _first_name_evidence(words[0]) or _unknown_word(words[0])
        return _plausible_name(value)
    return _lower_run_evidence(words)


# What may follow a name after "for"/"by": the end of the clause, a function word or a
# possessive — not a noun it modifies ("a voucher for John Lewis shirts")
_AFTER_PREP_NAME_RE = re.compile(
    r"\s*(?:$|[.,;:!?)\n]|['’]s\b|\s(?:and|or|but|please|thanks|who|which|as|at|in|on|from|to|with|instead|too|"
    r"again|yesterday|today|tomorrow|last|next|is|was|has|had|will|would|can|could|should|did|does|because|so|"
    r"if|when|since|until|before|after|here|there|now|then)\b)", re.IGNORECASE)
# "designed by", "made by", "a song by": makers, sellers and artists, not people who place orders
_MAKER_BY_RE = re.compile(
    r"\b(?:something|anything|songs?|music|albums?|tracks?|films?|movies?|books?|novels?|shows?|series|"
    r"podcasts?|episodes?|paintings?|works?|collection|range|line|made|designed|produced|manufactured|sold|"
    r"distributed|operated|owned|run|powered|published|written|"
    r"directed|sung|performed|created|developed|built|sponsored|offered|provided|issued|served|shipped|"
    r"fulfilled|branded|founded|endorsed|inspired)\s+by\s+$", re.IGNORECASE)


# Works and their makers: a name that titles a song, a playlist or a show, or names the artist
# who made it, is about the work, not about a customer ("play Tenerife Sea by Daniel Salomon",
# "add it to my This Is Stormzy playlist", "the show named Chestnut Mare"); a name after a
# weather word names the place it is asked for ("the forecast for Marshall").
_MEDIA_WORD = (
    r"songs?|music|albums?|tracks?|tunes?|melod(?:y|ies)|records?|eps?|lps?|symphon(?:y|ies)|concertos?|"
    r"sonatas?|operas?|chants?|ballads?|anthems?|hits|singles?|mixtapes?|sound\s?tracks?|playlists?|"
    r"audiobooks?|books?|novels?|poems?|films?|movies?|shows?|series|sitcoms?|podcasts?|episodes?|"
    r"artists?|bands?|singers?|rappers?|composers?|authors?|directors?|actors?|actress(?:es)?|discography"
)
_MEDIA_CLAUSE_RE = re.compile(
    rf"\b(?:play|playing|listen|hear|stream|queue|shuffle|watch|rate|saga|paintings?|photographs?|video\s+games?|"
    rf"showtimes?|showings?|screenings?|{_MEDIA_WORD})\b", re.IGNORECASE)
# "the movie schedules for Loews Cineplex", "showtimes for Secret Sunshine": a venue or a title
_WHEN_SHOWN_RE = re.compile(r"\b(?:(?:movie|film|show)\s+(?:times|schedules?)|showtimes?|showings?|screenings?)\b", re.IGNORECASE)
# inside a title: the word before the run is capitalised or a link word after a capitalised one
# ("Waltz for Debby", "The Return of Mr. Moto", "Goodbye, Mr. Chips")
_IN_TITLE_BEFORE_RE = re.compile(
    r"(?<![.!?]\s)(?<!^)[^\W\d_a-z][\w'’]*[,:]?(?:\s+(?:of|for|and|the|to|in|with|a|an|is|&))?\s+$")
_MEDIA_WORD_RE = re.compile(rf"(?:{_MEDIA_WORD})", re.IGNORECASE)
# who did something to an order or a parcel is a person even in a clause about books or films
_NOT_A_MAKER_BEFORE_BY = frozenset(
    """for signed sent placed paid ordered collected received returned approved delivered picked booked
    reserved bought requested made submitted shipped opened cancelled canceled changed handled taken
    accepted authorised authorized refunded used charged gifted""".split())
_THIS_IS_TITLE_RE = re.compile(
    r"(?:\b(?:to|into|onto|in|on|play|my|the|show|playlist|list|called|named)\s+)this\s+is:?\s+$", re.IGNORECASE)
_TITLE_CUE_RE = re.compile(r"\b(?:named|called|titled|entitled)\s+$", re.IGNORECASE)
_WEATHER_RE = re.compile(
    r"\b(?:weather|forecast|temperatures?|rain(?:ing|y)?|snow(?:ing|y)?|sunny|cloudy|windy|humid(?:ity)?|"
    r"chill(?:y|ier)|warm(?:er)?|cold(?:er)?|hot(?:ter)?|storm(?:s|y)?|freezing|fog(?:gy)?|hail|drizzle)\b",
    re.IGNORECASE)
_MONTH_ABBREV = frozenset("jan feb mar apr jun jul aug sep sept oct nov dec".split())
_DAY_AFTER_MONTH_RE = re.compile(
    r"\.?[ \t]+(?:the[ \t]+)?(?:\d|first|second|third|fourth|fifth|\w+teenth|twent|thirt)", re.IGNORECASE)


def _clause_before(text: str, start: int) -> str:
    return re.split(r"[.!?;\n](?:\s|$)", text[max(0, start - 120):start])[-1]


def _work_or_place_name(text: str, start: int, end: int) -> bool:
    """The run names a work, its maker or a place asked about, not a person who is a customer."""
    value = text[start:end]
    words = value.split()
    if _MEDIA_WORD_RE.fullmatch(words[-1].strip(".,")):
        return True  # "my this is miranda lambert playlist", "signed xoxo playlist"
    before = text[max(0, start - 40):start]
    clause = _clause_before(text, start)
    sentence = clause + re.split(r"[.!?;\n](?:\s|$)", text[start:start + 120])[0]
    by = re.search(r"(?:(?<=\s)|^)(\S+)\s+by\s+$", before)
    if by and by.group(1).lower().strip(",") not in _NOT_A_MAKER_BEFORE_BY and _MEDIA_CLAUSE_RE.search(clause):
        return True  # "Play The Happy Blues by Ronnie Wood", "a popular melody by David Bazan"
    if _THIS_IS_TITLE_RE.search(before) or re.match(r"\s+playlist\b", text[end:], re.IGNORECASE):
        return True
    if _TITLE_CUE_RE.search(before) and _MEDIA_CLAUSE_RE.search(sentence):
        return True  # "the show named Chestnut Mare", "the artist named Matt Walker"
    if re.search(r"\b(?:for|in|at|near|nearby|around)\s+$", before) and (
            _WEATHER_RE.search(clause) or _WHEN_SHOWN_RE.search(clause)):
        return True  # "the weather conditions for Patricia", "the movie schedules for Warren Theatres"
    if _MEDIA_CLAUSE_RE.search(sentence) and _IN_TITLE_BEFORE_RE.search(clause):
        return True  # "I want to hear Song For Adam", "rate Goodbye, Mr. Chips one stars"
    if len(words) == 1 and value.rstrip(".").lower() in _MONTH_ABBREV and _DAY_AFTER_MONTH_RE.match(
            text, start + len(value.rstrip("."))):
        return True  # "the weather for Jan. the 3rd"
    return False


def _honorific_run(text: str, pos: int) -> tuple[int, int] | None:
    """The name after an honorific: capitalised words, or lower-case words where a second one is
    taken only if it is a frequent census surname or a first name ("dr. patel", "mrs anna berg",
    not "dr. martens boots came")."""
    got = _name_run(text, pos, lower_ok=True)
    if not got or text[pos:pos + 1].isupper():
        return got
    words = list(re.finditer(r"\S+", text[got[0]:got[1]]))
    end = got[0] + words[0].end()
    for w in words[1:]:
        core = w.group(0).strip("'’.,")
        rank = names.surname_rank(core)
        if re.fullmatch(_NAME_PARTICLE, core):
            end = got[0] + w.end()
            continue
        evidence = (rank is not None and rank <= 10000) or names.is_first_name(core) or _first_name_evidence(
            words[0].group(0).strip("'’.,"))
        if names.is_ordinary(core) or not evidence:
            break
        end = got[0] + w.end()
    return got[0], end


# Honorific brands ("Dr. Scholl's", "Mrs. Fields", "Mr Porter"): an honorific run is a shop or a
# product, not a person, when the sentence uses it as one —
# nouns of trade right after it ("the Mrs. Fields tickets", "Dr. Hauschka products"); a possessive
# followed by anything but a person's belongings ("Dr. Scholl's insoles", "at Dr. Scholl's?", but
# "Dr. Patel's office"); what shops do right after it ("Does Mrs. Fields ship …", "Mr Price
# charged …"); a determiner before it ("the Mr Porter order", "my Mrs. Fields order"); what is
# done to shops before it ("cancel Mr Porter", "donated to Mrs. Meyer's", "sold at Dr. Hauschka").
_TRADE_NOUN = (r"products?|store|stores|shop|shops|outlet|branch|sale|sales|warranty|event|events|course|courses|"
               r"tickets?|orders?|rides?|parking|fine|vouchers?|gift|giftcard|card|subscription|membership|app|"
               r"website|site|delivery|deliveries|range|brand|items?|box|boxes|set|sets|points|catalog(?:ue)?|"
               r"insoles|cream|creams|soap|tyres|tires|boots|shoes|shampoo|perfume|cookies|cakes|bread|pizza|"
               r"coupon|promo|discount|loyalty|newsletter|account\s+number")
_PERSON_BELONGINGS = (r"office|clinic|surgery|practice|appointment|secretary|assistant|team|wife|husband|son|"
                      r"daughter|mother|father|mum|mom|dad|sister|brother|partner|family|house|home|flat|address|"
                      r"number|phone|mobile|e-?mail|name|account|signature|letter|note|car|desk|patients?|"
                      r"colleague|department|referral|prescription|advice|report")
# (a branch's place may come between: "Does Mr. Sub in Dubai deliver", "DR PEPPER IN OBOLON DELIVER")
_HONORIFIC_TRADE_AFTER_RE = re.compile(
    rf"(?:[ \t]+(?:{_TRADE_NOUN})\b|"
    r"[ \t]+(?:ships?|shipped|delivers?|delivered|sells?|sold|stocks?|stocked|accepts?|refunds?|refunded|"
    r"charges?|charged|price[ \t-]?match(?:es)?|opens?|closes?|"
    r"(?:is|are)[ \t]+(?:open|closed)[ \t]+(?:\d|from|until|till|on|at|today|tomorrow|daily|late|24))\b|"
    r"[ \t]+in(?:[ \t]+(?-i:[^\W\d_a-z])[\w'’-]*){1,3}[ \t]+(?:ship|deliver|open|close)\b)", re.IGNORECASE)
_POSSESSIVE_END_RE = re.compile(r"['’]s$")
_COMPARISON_RE = re.compile(r"\b(?:which|better|cheaper|best|worse|compare[ds]?|comparison|versus|vs\.?)\b", re.IGNORECASE)
_PERSON_BELONGINGS_RE = re.compile(rf"[ \t]+(?:[\w-]+[ \t]+)?(?:{_PERSON_BELONGINGS})\b", re.IGNORECASE)
_DETERMINER_BEFORE_RE = re.compile(r"(?<![\w'’])(?:the|a|an|my|your|our|their|this|that|these|those)[ \t]+$",
                                   re.IGNORECASE)
_TRADE_BEFORE_RE = re.compile(
    r"(?<![\w'’])(?:cancel(?:led|ling)?|(?:un)?subscribe(?:d)?\s+(?:to|from)|donat(?:e|ed|ing)\s+to|"
    r"(?:sold|store|shop|shopped|shopping|points)\s+(?:at|from)|(?:bought|ordered|purchased)(?:\s+(?:it\s+|them\s+)?(?:at|from))?|"
    r"(?:payment|payments|transfer|subscription|membership|refund)\s+(?:to|from|with)|"
    r"(?:switch(?:ed)?|moved?|went)\s+(?:to|from)|(?:better|cheaper|worse)\s+than)[ \t]+$", re.IGNORECASE)


def _honorific_brand(text: str, start: int, end: int) -> bool:
    """The honorific run at ``start``–``end`` reads as a shop or a product (see above)."""
    hon = re.match(r"[^\W\d_]+", text[start:end]).group(0)
    if len(hon) > 1 and hon.isupper() and not text.isupper():
        return True  # "Logitech MX Master 3S": an honorific in capitals in a text that is not
    if _DETERMINER_BEFORE_RE.search(text, max(0, start - 8), start) or _TRADE_BEFORE_RE.search(
            text, max(0, start - 30), start):
        return True
    # "Which is better, Peek & Cloppenburg or Mrs. Fields?": one of the things a sentence compares
    if _COMPARISON_RE.search(text) and (re.search(r"(?:\bor|,)[ \t]+$", text[max(0, start - 5):start])
                                        or re.match(r"[ \t]+or[ \t]+[^\W\d_a-z]", text[end:])):
        return True
    # a name ends at a possessive ("DR. SCHOLL'S INSOLES": the run of a text in capitals goes on)
    poss = re.search(r"['’][sS](?![\w])", text[start:end])
    if poss:
        return not _PERSON_BELONGINGS_RE.match(text, start + poss.end())
    return bool(_HONORIFIC_TRADE_AFTER_RE.match(text, end))


# "Stupalo, Tomo", "Dujmović, Katarina": a surname, a comma and a first name that ends the clause
_SURNAME_FIRST_TAIL_RE = re.compile(rf",[ \t]*({_NAME_WORD})(?=[ \t]*(?:[.;:!?)\n]|[-–—][ \t]|$))")


def _with_first_name_after_comma(text: str, got: tuple[int, int] | None) -> tuple[int, int] | None:
    """A one-word run after a cue, then ", " and one name word that ends the clause: the
    surname-first order of forms and lists. The second word must not be an ordinary word, a
    country word or a place ("Anna, Thanks", "Berg, Sweden" are not names)."""
    if not got or len(text[got[0]:got[1]].split()) != 1:
        return got
    m = _SURNAME_FIRST_TAIL_RE.match(text, got[1])
    if not m:
        return got
    word = m.group(1)
    if not (_first_name_evidence(word) or _unknown_word(word)) or word.lower() in names.country_words():
        return got
    if word[:1].isupper() != text[got[0]:got[0] + 1].isupper():
        return got
    return got[0], m.end(1)


# relatives and people one lives or works with: after "my son", "my flatmate" a lower-case run
# of two words that are neither ordinary words nor country words is a name ("my son bağdat akça")
_KIN_CUE_RE = re.compile(
    r"(?:my|our|his|her)\s+(?:wife|husband|son|daughter|mother|mum|mom|father|dad|friend|partner|colleague|boss|"
    r"brother|sister|neighbou?r|flatmate|roommate|aunt|uncle|cousin|niece|nephew|grandmother|grandfather|"
    r"grandma|grandpa|girlfriend|boyfriend|carer|landlord|tenant)\s*[,:]?[ \t]+$", re.IGNORECASE)


def _find_names(text: str, use_ner: bool | None = None) -> list[PiiSpan]:
    spans: list[PiiSpan] = []
    # runs in a name's place that lack gazetteer evidence: taken when the NER model (if it runs)
    # labels them PERSON too — a cue and the model agreeing ("the order was placed by Irma Serao")
    second_opinion: list[tuple[int, int]] = []

    def add(start: int, end: int) -> None:
        spans.append(PiiSpan(start, end, PiiType.PERSON, text[start:end]))

    for m in _HONORIFIC_CUE_RE.finditer(text):
        got = _honorific_run(text, m.end())
        if got and not _BRAND_USE_AFTER_RE.match(text, got[1]) and not _honorific_brand(text, m.start(), got[1]):
            add(m.start(), got[1])
    for m in _STRONG_CUE_RE.finditer(text):
        got = _with_first_name_after_comma(text, _name_run(text, m.end(), lower_ok=True))
        if got and _plausible_name(text[got[0]:got[1]]):
            add(*got)
    for m in _PERSONAL_CUE_RE.finditer(text):
        got = _with_first_name_after_comma(text, _name_run(text, m.end(), lower_ok=True))
        if not got:
            continue
        if not _cued_run_ok(text, *got):
            words = text[got[0]:got[1]].split()
            if (_KIN_CUE_RE.search(text, max(0, m.start() - 2), m.end()) and len(words) >= 2
                    and all(w.islower() and _unknown_word(w) and w.lower() not in names.country_words()
                            for w in words) and not _org_or_place(text, *got)):
                add(*got)
            continue
        if _FOR_WHOM_RE.fullmatch(m.group(0).strip(" \t,:")):
            if _cued_run_ok(text, *got, gazetteer=True):
                add(*got)
            else:
                second_opinion.append(got)
            continue
        # "contact Revolut", "ask Klarna", "it's Monzo again": after a cue that also takes a company,
        # a single capitalised word must be a gazetteer first name; so must a word after a greeting
        # that does not close it ("Hey, Vipps payment is stuck", not "Hi Sven,")
        single = len(text[got[0]:got[1]].split()) == 1 and text[got[0]].isupper()
        cue = m.group(0).strip(" \t,:")
        after = re.match(r"[ \t]*(?:[,.!?:;\n]|$|([^\W\d_]+))", text[got[1]:])
        greeting_subject = _GREETING_RE.fullmatch(cue) and not (
            after and (after.group(1) is None or after.group(1).lower() in _FUNCTION_WORDS))
        # "Hi, Ann Taylor took a store card …": after a greeting and a comma, a run that a verb
        # or a noun follows is the sentence's subject, not the person greeted
        if greeting_subject and not single and "," in m.group(0) and after and after.group(1) and (
                after.group(1)[:1].islower()) and after.group(1).lower() not in ("here", "speaking"):
            continue  # (and the model is not asked: it takes "Ann Taylor" for a person)
        at_door = _AT_THE_DOOR_RE.match(text, got[1])  # "ask for Tichomír at the door": doors open to people
        if single and (_COMPANY_TOO_RE.fullmatch(cue) or greeting_subject) and not at_door and not _first_name_evidence(
                text[got[0]:got[1]]):
            if not greeting_subject:  # the small model takes "Hey, Vipps payment …" for a name
                second_opinion.append(got)
            continue
        add(*got)
    for m in _APPOSITION_RE.finditer(text):
        got = _name_run(text, m.end(), lower_ok=True)
        if got and re.match(r"[ \t]*[,)–—-]", text[got[1]:]) and _cued_run_ok(text, *got):
            add(*got)
    for m in _PREP_CUE_RE.finditer(text):
        got = _name_run(text, m.end(), lower_ok=False)
        if not got:
            continue
        words = text[got[0]:got[1]].split()
        if _org_or_place(text, *got) or not _AFTER_PREP_NAME_RE.match(text, got[1]) or _MAKER_BY_RE.search(
                text[max(0, m.start() - 20):m.end()]) or _SUITED_FOR_RE.search(text, max(0, m.start() - 20), m.start()):
            continue
        if _first_name_evidence(words[0]) if len(words) < 2 else _full_name_evidence(words):
            add(*got)
        elif len(words) >= 2:  # a single word after "for" is as often a currency or a brand
            second_opinion.append(got)
    # "the bill from Anna Berg", also with "from" mistyped ("bills rfom …", "invoice frm …",
    # "bills fromAnna …"): documents and messages come from people
    for m in _DOC_FROM_RE.finditer(text):
        if not _near_from(m.group("prep")):
            continue
        got = _name_run(text, m.end("prep") + len(m.group("gap")), lower_ok=False)
        if not got or _org_or_place(text, *got) or _SERVICE_DOC_RE.search(text, max(0, m.start() - 30), m.start()):
            continue
        words = text[got[0]:got[1]].split()
        if (_first_name_evidence(words[0]) if len(words) == 1 else _full_name_evidence(words)):
            add(*got)
        else:
            second_opinion.append(got)
    # "Anna Berg is the main account holder", "add anna berg as an authorised user"
    for m in _ROLE_AFTER_RE.finditer(text):
        clause_start = max((b.end() for b in re.finditer(r"[.!?,:;\n]\s*", text[:m.start()])), default=0)
        words = list(_WORD_RE.finditer(text, clause_start, m.start()))
        # the longest run of up to three words right before the cue that passes as a name
        for k in (3, 2, 1):
            if len(words) < k:
                continue
            run = words[-k:]
            start, end = run[0].start(), run[-1].end()
            gaps = text[start:end]
            if not re.fullmatch(rf"{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{{k - 1}}}", gaps):
                continue
            cores = [w.group(0).rstrip(".") for w in run]
            if not (all(_name_word_ok(c) for c in cores) and len({c[:1].isupper() for c in cores}) == 1):
                continue
            role = m.group("role") or m.group("role_after")
            gazetteer = not m.group("role_since") and (not role or bool(_COMPANY_ROLE_RE.fullmatch(role)))
            if _cued_run_ok(text, start, end, gazetteer=gazetteer):
                add(start, end)
                break
            if _cued_run_ok(text, start, end):
                second_opinion.append((start, end))
                break
    # "can Anna Berg pick it up?"
    for m in _MODAL_CUE_RE.finditer(text):
        got = _name_run(text, m.end(), lower_ok=True, max_words=4)
        verb = _MODAL_VERB_RE.match(text, got[1]) if got else None
        if verb and _cued_run_ok(text, *got):
            # companies collect and receive parcels; only people sign for them
            if verb.group(0).strip().lower() == "sign" or _cued_run_ok(text, *got, gazetteer=True):
                add(*got)
            else:
                second_opinion.append(got)
    # "john smith here", "Anna speaking": a gazetteer first name, or two or three capitalised
    # words that are not ordinary words at the start of a clause
    for m in _POST_CUE_RE.finditer(text):
        before = text[:m.start()]
        run = re.search(rf"(?:^|[.!?,\n]\s*)((?:{_NAME_WORD}[ \t]+){{0,2}}{_NAME_WORD})$", before)
        if not run:
            continue
        words = run.group(1).split()
        caps = len(words) >= 2 and all(w[:1].isupper() for w in words) and _plausible_name(run.group(1))
        if (caps or _first_name_evidence(words[0])) and not _org_or_place(text, run.start(1), run.end(1)):
            add(run.start(1), run.end(1))
    # No cue before, but a verb after that only people do ("yesterday Anna Kelly phoned about
    # it"): a gazetteer first name and a census surname; on the NER path also a run the model
    # labels PERSON with looser evidence ("Giulia Rossi phoned"). A name with no cue on either
    # side is not taken: brands are named after people ("Ted Baker", "John Lewis") and the
    # rules, the gazetteer and the small model all take them for people.
    for m in _HUMAN_VERB_AFTER_RE.finditer(text):
        words = list(_WORD_RE.finditer(text, max(0, m.start() - 60), m.start()))
        for k in (3, 2):
            if len(words) < k:
                continue
            start, end = words[-k].start(), words[-1].end()
            run = text[start:end].split()
            if (re.fullmatch(rf"{_CAP_NAME_WORD}(?:[ \t]+{_CAP_NAME_WORD}){{{k - 1}}}", text[start:end])
                    and _full_name_evidence(run) and not _org_or_place(text, start, end)):
                add(start, end)
                break
    if _ner_enabled(use_ner) and (use_ner or _ner_worth_running(text)):
        ents = names.ner_entities(text)
        for start, end in second_opinion:
            if any(label == "PERSON" and s < end and start < e for s, e, label in ents):
                add(start, end)
        for start, end, label in ents:
            if label != "PERSON":
                continue
            value = text[start:end]
            words = [w.strip("'’.,") for w in value.split()]
            if len(words) < 2 or any(ch.isdigit() for ch in value) or _org_or_place(text, start, end):
                continue
            if _HUMAN_VERB_AFTER_RE.match(text, end) and _full_name_evidence(words, loose=True):
                add(start, end)
    return [s for s in spans if not _work_or_place_name(text, s.start, s.end)]


_CAP_WORD_RE = re.compile(r"(?<![\w'’])[^\W\d_a-z][^\W\d_]+")


def _ner_worth_running(text: str) -> bool:
    """The model only adds names written with a capital: skip texts with no capitalised word
    past the first one that is not already a known ordinary word."""
    for i, m in enumerate(_CAP_WORD_RE.finditer(text)):
        word = m.group(0)
        if (i > 0 or m.start() > 0) and word.lower() not in _NOT_NAMES and not names.is_ordinary(word):
            return True
    return False


def _ner_enabled(use_ner: bool | None) -> bool:
    if use_ner is False:
        return False
    return names.load_ner() is not None


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


def _card_length_luhn(value: str) -> bool:
    """A number of 12–19 digits that passes the Luhn check: a card when an expiry follows it
    (a 12-digit Maestro with no card cue is taken for an identifier)."""
    digits = re.sub(r"\D", "", value)
    return 12 <= len(digits) <= 19 and _luhn_ok(digits)


def _find_all(text: str, ner: bool | None) -> list[PiiSpan]:
    protected = [(m.start(), m.end()) for m in _PLACEHOLDER_RE.finditer(text)]
    candidates = _find_names(text, ner) + _find_addresses(text)
    if "@" in text:
        candidates += _find_emails(text)
        candidates += [PiiSpan(s, e, PiiType(k), text[s:e]) for s, e, k in ids.find_usernames(text)]
    elif _USERNAME_HINT_RE.search(text):
        candidates += [PiiSpan(s, e, PiiType(k), text[s:e]) for s, e, k in ids.find_usernames(text)]
    found: list[tuple[int, int, str]] = ids.find_spelled_emails(text)
    if _DIGIT_RE.search(text):
        numbers = _find_numbers(text) + _find_codes(text)
        candidates += numbers
        cards = [(s.start, s.end) for s in numbers if s.kind is PiiType.CARD or _card_length_luhn(s.value)]
        found += ids.find_card_details(text, cards)
        found += ids.find_ibans(text)
        found += ids.find_ips(text)
        found += ids.find_national_ids(text)
        found += ids.find_dates_of_birth(text)
        found += ids.find_postcodes(text)
    elif ":" in text:
        found += ids.find_ips(text)  # an IPv6 address may have no digit ("fe::ab")
    candidates += [PiiSpan(s, e, PiiType(k), text[s:e]) for s, e, k in found]
    candidates = [_with_number_sign(text, s) for s in candidates]
    kept = [
        s
        for s in candidates
        if s.end > s.start and not any(s.start < pe and ps < s.end for ps, pe in protected)
    ]
    return _merge(kept, text)


_NUMBER_SIGN_RE = re.compile(r"(?<![\w])N(?:[°º]|o\.?)\s?$|(?<![\w])n[°º]\s?$")
_NUMBERED_KINDS = (PiiType.ORDER_ID, PiiType.INVOICE_ID, PiiType.ID_NUMBER, PiiType.PHONE)


def _with_number_sign(text: str, span: PiiSpan) -> PiiSpan:
    """"N°990640", "Nº 20431": the number sign belongs to the identifier (its "N" would be left
    in the text), and a number so marked is a reference, not a phone."""
    sign = _NUMBER_SIGN_RE.search(text, max(0, span.start - 4), span.start)
    if span.kind not in _NUMBERED_KINDS or not sign:
        return span
    kind = _id_kind(text, sign.start(), span.value) if span.kind is PiiType.PHONE else span.kind
    return PiiSpan(sign.start(), span.end, kind, text[sign.start():span.end])


_USERNAME_HINT_RE = re.compile(
    r"user|login|log\s*-?\s*in|logged|sign(?:ed)?\s*-?\s*in|handle|gamer\s*-?\s*tag|game\s*tag|nick\s*name|alias|screen\s*name|"
    r"account\s*(?:name|login|id|[:=])|\bon\s+(?:your|the|this)\s+(?:forum|app|site|website|server|platform|community|board)|"
    r"isn['’]?t\s+mine|is\s+not\s+mine|"
    r"profile|member\s+name|display\s+name|hacked|suspended|locked|banned|compromised|blocked",
    re.IGNORECASE)


def find_pii(text: str, *, ner: bool | None = None) -> list[PiiSpan]:
    """All personal-data spans in ``text``, sorted and non-overlapping, with offsets and values
    of the ORIGINAL text (detection runs on a Unicode-normalised copy).

    ``ner``: None (default) — use the named-entity model if it is installed and not turned off
    by ``ECC_PII_NER=off``, and only on texts with a capitalised word it could add; True —
    run it on every text; False — rules and gazetteer only (the edge path)."""
    norm, where = normalise(text)
    spans = _find_all(norm, ner)
    if norm is text:
        return spans
    out = []
    for span in spans:
        start, end = to_original(where, span.start, span.end, len(text))
        out.append(PiiSpan(start, end, span.kind, text[start:end]))
    return out


def scrub(text: str, *, ner: bool | None = None) -> ScrubResult:
    """Replace every personal-data span with its typed placeholder."""
    spans = find_pii(text, ner=ner)
    out: list[str] = []
    cursor = 0
    for span in spans:
        out.append(text[cursor:span.start])
        out.append(placeholder(span.kind))
        cursor = span.end
    out.append(text[cursor:])
    return ScrubResult(text="".join(out), spans=tuple(spans))


def backend() -> dict:
    """Which detectors this process uses (for data cards and reports)."""
    import phonenumbers
    import stdnum

    ner = names.ner_description()
    return {
        "backend": "rules+ner" if ner else "rules",
        "ner": ner,
        "ner_mode": names.ner_mode(),
        "first_names": len(names.first_names()),
        "names_source": "names 0.3.0 (US Census 1990 lists)",
        "phonenumbers": phonenumbers.__version__,
        "stdnum": stdnum.__version__,
    }


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
