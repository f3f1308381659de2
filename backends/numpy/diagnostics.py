"""Diagnostics raised by the numpy backend."""

from __future__ import annotations


class XjitPerformanceWarning(UserWarning):
    """A piece of IR compiles to scalar Python loops instead of vectorized numpy code.

    Emitted at compile time so slow code is never silent; the result is still correct.
    """


class UnsupportedIRError(NotImplementedError):
    """The module holds an op or type the numpy backend does not know how to generate."""
