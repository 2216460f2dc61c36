"""Output streams whose encoding cannot write the symbols that tables and derivations use.

With PYTHONIOENCODING=ascii, writing "×" raised UnicodeEncodeError in the middle of a table,
and a Latin-1 terminal failed at "−". Such streams get an error handler that writes an
ASCII stand-in for each symbol, and "?" for any other character the encoding lacks.
"""

from __future__ import annotations

import codecs
import sys
from typing import TextIO

ERROR_HANDLER = "napkin-ascii"

# Symbols in napkin's tables and derivations, with the ASCII that means the same.
ASCII_STAND_INS = {
    "×": "x", "·": "*", "−": "-", "–": "-", "—": "-", "÷": "/", "≤": "<=", "≥": ">=", "≈": "~",
    "⌈": "ceil(", "⌉": ")", "⌊": "floor(", "⌋": ")", "→": "->", "…": "...", "²": "^2", "√": "sqrt",
    "µ": "u", "≠": "!=", "∑": "sum", "Σ": "sum", "±": "+/-", "’": "'", "“": '"', "”": '"',
}
SAMPLE = "×·−"


def _stand_in(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start:error.end]
    return "".join(ASCII_STAND_INS.get(char, "?") for char in text), error.end


codecs.register_error(ERROR_HANDLER, _stand_in)


def writes_symbols(stream: TextIO) -> bool:
    """Return whether `stream`'s encoding can write napkin's symbols such as × and ·."""
    try:
        SAMPLE.encode(getattr(stream, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def tolerate_narrow_encodings() -> None:
    """Give stdout and stderr the ASCII stand-in handler when their encoding lacks the symbols."""
    for stream in (sys.stdout, sys.stderr):
        if writes_symbols(stream):
            continue
        try:
            stream.reconfigure(errors=ERROR_HANDLER)  # type: ignore[attr-defined]
        except (AttributeError, ValueError):
            # A stream that is not a TextIOWrapper keeps its own error handling.
            pass
