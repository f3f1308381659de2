"""Canonicalization patterns of the torch dialect (run by upstream `canonicalize`)."""
PATTERNS: tuple = ()
