"""Unicode normalisation for the PII scrubber, with a map back to the original offsets.

Obfuscated personal data often hides behind characters a reader does not see or reads as
ordinary ones: zero-width spaces and joiners, soft hyphens, full-width letters and digits
(``ｊａｎｅ＠ｍａｉｌ．ｃｏｍ``), non-breaking spaces. The detectors run on a normalised copy (NFKC
per character, invisible characters dropped); every span found there is mapped back to the
original text, so the placeholder replaces the original characters, invisible ones included.
"""

from __future__ import annotations

import unicodedata

# Characters that render as nothing: removed before detection (they stay inside a replaced span).
INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069"
    "\u3164\ufeff\uffa0"
)


def normalise(text: str) -> tuple[str, list[int]]:
    """``(norm, where)``: ``norm[i]`` comes from ``text[where[i]]``; ``where`` has one extra entry
    (``len(text)``) so an end offset maps too. ASCII text comes back unchanged."""
    if text.isascii():
        return text, list(range(len(text) + 1))
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if ch in INVISIBLE:
            continue
        if ch.isascii():
            out.append(ch)
            where.append(i)
            continue
        folded = unicodedata.normalize("NFKC", ch)
        if ch.isspace():
            folded = " "
        for piece in folded:
            out.append(piece)
            where.append(i)
    where.append(len(text))
    return "".join(out), where


def to_original(where: list[int], start: int, end: int, original_len: int) -> tuple[int, int]:
    """Map a span of the normalised text back to the original one (invisible characters that
    sit right inside the span's ends are taken along)."""
    o_start = where[start]
    o_end = where[end - 1] + 1 if end > start else o_start
    return o_start, min(o_end, original_len)
