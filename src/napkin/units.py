"""Parsing and formatting of quantities with units.

Conventions, stated once for the whole package:

- a FLOP count counts a multiply-add as 2 FLOP;
- GB, TB, MB and kB are powers of 10 (1 GB = 10^9 bytes); GiB, TiB, MiB and KiB are powers of 2
  (1 GiB = 2^30 bytes); output uses decimal units unless binary units are requested;
- counts (parameters, tokens, batch sizes) take decimal suffixes: 70B = 70·10^9, 15T = 15·10^12;
- sequence and context lengths take binary suffixes, as model cards quote them: 8k = 8,192 tokens
  and 128k = 131,072 tokens.
"""

from __future__ import annotations

import math
import re

from .errors import UnitError

__all__ = [
    "format_bytes",
    "format_count",
    "format_duration",
    "format_flop",
    "format_number",
    "format_rate",
    "format_usd",
    "parse_bandwidth",
    "parse_bytes",
    "parse_count",
    "parse_flop_rate",
    "parse_fraction",
    "parse_integer",
    "parse_length",
    "parse_price",
]

_DECIMAL_SUFFIXES = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12, "P": 1e15}
_LENGTH_SUFFIXES = {"": 1, "k": 1024, "K": 1024, "M": 1024**2}
_BYTE_UNITS = {
    "b": 1.0,
    "byte": 1.0,
    "bytes": 1.0,
    "kb": 1e3,
    "mb": 1e6,
    "gb": 1e9,
    "tb": 1e12,
    "pb": 1e15,
    "kib": 2.0**10,
    "mib": 2.0**20,
    "gib": 2.0**30,
    "tib": 2.0**40,
}
_NUMBER = r"[+-]?(?:\d[\d_,]*\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_NUMBER_WITH_SUFFIX = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-z]*)\s*$")


def _to_float(text: str, original: str, what: str) -> float:
    try:
        value = float(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise UnitError(f"invalid {what} {original!r}: not a number") from None
    return value


def _check_finite(value: float, original: str, what: str, allow_zero: bool) -> float:
    if math.isnan(value) or math.isinf(value):
        raise UnitError(f"invalid {what} {original!r}: must be a finite number")
    if value < 0 or (value == 0 and not allow_zero):
        bound = "zero or more" if allow_zero else "greater than zero"
        raise UnitError(f"invalid {what} {original!r}: must be {bound}")
    return value


def _split(text: str, what: str, example: str) -> tuple[float, str]:
    if not isinstance(text, str):
        text = str(text)
    lowered = text.strip().lower()
    if lowered in {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "-infinity"}:
        raise UnitError(f"invalid {what} {text!r}: must be a finite number")
    match = _NUMBER_WITH_SUFFIX.match(text)
    if not match:
        raise UnitError(f"invalid {what} {text!r}: expected a number with an optional unit, e.g. {example}")
    return _to_float(match.group(1), text, what), match.group(2)


def parse_count(text: str | float, what: str = "count", allow_zero: bool = False) -> float:
    """Parse a count with a decimal suffix: ``70B`` → 7e10, ``15T`` → 1.5e13, ``4M`` → 4e6."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return _check_finite(float(text), str(text), what, allow_zero)
    number, suffix = _split(str(text), what, "70B, 15T, 4M or 512")
    if suffix not in _DECIMAL_SUFFIXES:
        raise UnitError(
            f"invalid {what} {text!r}: unknown suffix {suffix!r}; use k, M, B (or G), T or P, e.g. 70B"
        )
    return _check_finite(number * _DECIMAL_SUFFIXES[suffix], str(text), what, allow_zero)


def parse_integer(text: str | int, what: str = "count", allow_zero: bool = False) -> int:
    """Parse a whole-number count with a decimal suffix (``4M`` → 4,000,000)."""
    value = parse_count(text, what, allow_zero)
    if value != int(value):
        raise UnitError(f"invalid {what} {text!r}: must be a whole number")
    return int(value)


def parse_length(text: str | int, what: str = "sequence length", allow_zero: bool = False) -> int:
    """Parse a sequence or context length in tokens: ``8k`` → 8,192, ``128k`` → 131,072, ``4096`` → 4,096."""
    if isinstance(text, int) and not isinstance(text, bool):
        number, suffix, original = float(text), "", str(text)
    else:
        original = str(text)
        number, suffix = _split(original, what, "8k (8,192 tokens) or 4096")
    if suffix not in _LENGTH_SUFFIXES:
        raise UnitError(f"invalid {what} {original!r}: unknown suffix {suffix!r}; use k (1,024) or M, e.g. 8k")
    value = _check_finite(number * _LENGTH_SUFFIXES[suffix], original, what, allow_zero)
    if value != int(value):
        raise UnitError(f"invalid {what} {original!r}: must be a whole number of tokens")
    return int(value)


def parse_bytes(text: str, what: str = "memory size") -> float:
    """Parse a size with a unit: ``80GB`` → 8e10 bytes, ``141GiB`` → 141·2^30 bytes."""
    number, unit = _split(str(text), what, "80GB or 141GiB")
    key = unit.lower()
    if key == "":
        raise UnitError(f"invalid {what} {text!r}: add a unit, e.g. {text}GB (10^9 bytes) or {text}GiB (2^30 bytes)")
    if key not in _BYTE_UNITS:
        raise UnitError(f"invalid {what} {text!r}: unknown unit {unit!r}; use B, kB, MB, GB, TB, KiB, MiB, GiB or TiB")
    return _check_finite(number * _BYTE_UNITS[key], str(text), what, allow_zero=False)


def parse_bandwidth(text: str, what: str = "bandwidth") -> float:
    """Parse a bandwidth in bytes/s: ``3.35TB/s`` → 3.35e12, ``400Gb/s`` (bits) → 5e10."""
    raw = str(text).strip()
    match = re.match(rf"^\s*({_NUMBER})\s*([A-Za-z]*)\s*(?:/\s*s|ps)?\s*$", raw)
    if not match:
        raise UnitError(f"invalid {what} {raw!r}: expected a rate such as 3.35TB/s or 400Gb/s")
    number = _to_float(match.group(1), raw, what)
    unit = match.group(2)
    if unit == "":
        raise UnitError(f"invalid {what} {raw!r}: add a unit, e.g. {raw}TB/s or {raw}GB/s")
    bits = {"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12}
    if len(unit) >= 2 and unit[-1] == "b" and unit.lower() in bits:
        value = number * bits[unit.lower()] / 8
    elif unit.lower() in _BYTE_UNITS:
        value = number * _BYTE_UNITS[unit.lower()]
    else:
        raise UnitError(f"invalid {what} {raw!r}: unknown unit {unit!r}; use GB/s, TB/s or Gb/s (bits)")
    return _check_finite(value, raw, what, allow_zero=False)


def parse_flop_rate(text: str, what: str = "peak FLOP/s") -> float:
    """Parse a FLOP rate: ``990T``, ``990TFLOPS``, ``990 TFLOP/s`` → 9.9e14; ``2.25P`` → 2.25e15."""
    raw = str(text).strip()
    match = re.match(rf"^\s*({_NUMBER})\s*([kMGTP]?)\s*(?:flops?|flop/s)?\s*$", raw, re.IGNORECASE)
    if not match:
        raise UnitError(f"invalid {what} {raw!r}: expected a rate such as 990T or 990TFLOP/s")
    number = _to_float(match.group(1), raw, what)
    prefix = match.group(2)
    scale = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "p": 1e15}[prefix.lower()]
    return _check_finite(number * scale, raw, what, allow_zero=False)


def parse_fraction(text: str | float, what: str = "fraction") -> float:
    """Parse a fraction in (0, 1]: ``40%`` → 0.4, ``0.4`` → 0.4. A bare number above 1 is rejected."""
    raw = str(text).strip()
    percent = raw.endswith("%")
    body = raw[:-1].strip() if percent else raw
    if body.lower() in {"nan", "inf", "-inf", "+inf", "infinity"}:
        raise UnitError(f"invalid {what} {raw!r}: must be a finite number")
    if not re.fullmatch(_NUMBER, body):
        raise UnitError(f"invalid {what} {raw!r}: expected a percentage or a fraction, e.g. 40% or 0.4")
    value = _to_float(body, raw, what) / (100.0 if percent else 1.0)
    if not percent and value > 1:
        raise UnitError(f"invalid {what} {raw!r}: above 1; write {raw}% for a percentage or a fraction such as 0.4")
    if not 0 < value <= 1:
        raise UnitError(f"invalid {what} {raw!r}: must be above 0% and at most 100%")
    return value


def parse_price(text: str | float, what: str = "price") -> float:
    """Parse a price in USD per GPU-hour: ``2``, ``$2``, ``$2/hr``, ``2.5/GPU-hour`` → 2.0, 2.5."""
    raw = str(text).strip()
    match = re.fullmatch(
        rf"\$?\s*({_NUMBER})\s*(?:usd)?\s*(?:/\s*(?:gpu[-\s]?)?(?:h|hr|hour|hours))?", raw, re.IGNORECASE
    )
    if not match:
        raise UnitError(f"invalid {what} {raw!r}: expected USD per GPU-hour, e.g. 2, $2 or $2/hr")
    value = _to_float(match.group(1), raw, what)
    if math.isnan(value) or math.isinf(value):
        raise UnitError(f"invalid {what} {raw!r}: must be a finite number")
    if value < 0:
        raise UnitError(f"invalid {what} {raw!r}: must be zero or more USD per GPU-hour")
    return value


# --- formatting -------------------------------------------------------------------------------

_SI_PREFIXES = [(1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
_COUNT_PREFIXES = [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")]


def format_number(value: float, digits: int = 3) -> str:
    """Format a plain number with about `digits` significant digits and thousands separators."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    return f"{value:,.{decimals}f}"


def _scaled(value: float, prefixes: list[tuple[float, str]], digits: int = 3) -> tuple[str, str]:
    for scale, prefix in prefixes:
        if abs(value) >= scale:
            return format_number(value / scale, digits), prefix
    return format_number(value, digits), ""


def format_bytes(value: float, binary: bool = False) -> str:
    """Format a byte count: ``141 GB`` (decimal) or ``131 GiB`` (binary)."""
    if binary:
        units = [(2.0**50, "PiB"), (2.0**40, "TiB"), (2.0**30, "GiB"), (2.0**20, "MiB"), (2.0**10, "KiB")]
    else:
        units = [(1e15, "PB"), (1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")]
    for scale, unit in units:
        if abs(value) >= scale:
            return f"{format_number(value / scale)} {unit}"
    return f"{format_number(value)} B"


def format_count(value: float) -> str:
    """Format a count with a decimal suffix: ``70.6B``, ``15.0T``."""
    number, prefix = _scaled(value, _COUNT_PREFIXES)
    return f"{number}{prefix}"


def format_flop(value: float) -> str:
    """Format a FLOP count in scientific notation: ``6.30e24 FLOP``."""
    if abs(value) < 1e4:
        return f"{value:.3g} FLOP"
    mantissa, exponent = f"{value:.2e}".split("e")
    return f"{mantissa}e{int(exponent)} FLOP"


def format_rate(value: float, unit: str) -> str:
    """Format a rate with an SI prefix: ``990 TFLOP/s``, ``3.35 TB/s``."""
    number, prefix = _scaled(value, _SI_PREFIXES)
    return f"{number} {prefix}{unit}"


def format_duration(seconds: float) -> str:
    """Format seconds as the largest sensible unit: ``180 days``, ``3.20 h``, ``45.0 ms``."""
    if seconds >= 86400 * 2:
        return f"{format_number(seconds / 86400)} days"
    if seconds >= 3600:
        return f"{format_number(seconds / 3600)} h"
    if seconds >= 60:
        return f"{format_number(seconds / 60)} min"
    if seconds >= 1:
        return f"{format_number(seconds)} s"
    if seconds >= 1e-3:
        return f"{format_number(seconds * 1e3)} ms"
    return f"{format_number(seconds * 1e6)} µs"


def format_usd(value: float) -> str:
    """Format a dollar amount: ``$8.81M``, ``$1,234``, ``$0.52``."""
    if abs(value) >= 1e6:
        number, prefix = _scaled(value, [(1e9, "B"), (1e6, "M")])
        return f"${number}{prefix}"
    if abs(value) >= 100:
        return f"${value:,.0f}"
    return f"${value:,.2f}"
