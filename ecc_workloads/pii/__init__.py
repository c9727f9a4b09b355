"""Personal data: the scrubber (`scrubber`), identifier finders with checksums (`ids`), names and
places (`names`), and the Unicode normalisation every finder reads through (`normalise`)."""
