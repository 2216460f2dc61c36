"""Parsing and formatting of quantities with units.

Conventions, stated once for the whole package:

- a FLOP count counts a multiply-add as 2 FLOP;
- GB, TB, MB and kB are powers of 10 (1 GB = 10^9 bytes); GiB, TiB, MiB and KiB are powers of 2
  (1 GiB = 2^30 bytes); output uses decimal units unless binary units are requested;
- counts (parameters, tokens, batch sizes) take decimal suffixes: 70B = 70·10^9, 15T = 15·10^12;
- sequence and context lengths take binary suffixes, as model cards quote them: 8k = 8,192 tokens
  and 128k = 131,072 tokens;
- numbers use ASCII digits, and commas may only separate groups of three digits (1,000). A
  decimal comma such as 1,5 is rejected instead of read as 15.
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
    "parse_param_count",
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
    "pib": 2.0**50,
}
# ASCII digits only: `\d` would also accept other scripts' digits such as "٧٠B".
_INTEGER_PART = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+(?:_[0-9]+)*)"
_NUMBER = rf"[+-]?(?:{_INTEGER_PART}(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_NUMBER_WITH_SUFFIX = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-z]*)\s*$")

# Every parsed magnitude other than zero lies in [1e-21, 1e21]. NOTE: the bound is far outside
# any real model, run or GPU, and it keeps products and quotients of several inputs finite in
# float64, so no result overflows to inf.
_MAX_MAGNITUDE = 1e21
_MIN_MAGNITUDE = 1e-21


def _to_float(text: str, original: str, what: str) -> float:
    try:
        value = float(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise UnitError(f"invalid {what} {original!r}: not a number") from None
    return value


def _number_to_float(value: int | float, what: str) -> float:
    """Return `value` as a float; an int past float's range (10^309 and up) is rejected, not an OverflowError."""
    try:
        return float(value)
    except OverflowError:
        raise UnitError(f"invalid {what} of {len(str(abs(value)))} digits: must be at most 10^21") from None


def _check_finite(value: float, original: str, what: str, allow_zero: bool) -> float:
    """Return `value` if it is finite, positive (or zero when allowed) and inside the magnitude bounds."""
    if math.isnan(value) or math.isinf(value):
        raise UnitError(f"invalid {what} {original!r}: must be a finite number")
    if value < 0 or (value == 0 and not allow_zero):
        bound = "zero or more" if allow_zero else "greater than zero"
        raise UnitError(f"invalid {what} {original!r}: must be {bound}")
    if value > _MAX_MAGNITUDE:
        raise UnitError(f"invalid {what} {original!r}: must be at most 10^21")
    if 0 < value < _MIN_MAGNITUDE:
        raise UnitError(f"invalid {what} {original!r}: must be at least 10^-21")
    return value


def _reject_non_finite(text: str, what: str) -> None:
    if text.strip().lower().lstrip("+-") in {"nan", "inf", "infinity"}:
        raise UnitError(f"invalid {what} {text!r}: must be a finite number")


def _number_hint(text: str, example: str) -> str:
    """Return the fix for a malformed number, which names the comma rule when `text` has a comma."""
    if "," in text:
        return "commas may only separate groups of three digits (1,000); write a decimal point, e.g. 1.5"
    return f"expected a number with an optional unit, e.g. {example}"


def _split(text: str, what: str, example: str) -> tuple[float, str]:
    if not isinstance(text, str):
        text = str(text)
    _reject_non_finite(text, what)
    match = _NUMBER_WITH_SUFFIX.match(text)
    if not match:
        raise UnitError(f"invalid {what} {text!r}: {_number_hint(text, example)}")
    return _to_float(match.group(1), text, what), match.group(2)


def parse_count(text: str | float, what: str = "count", allow_zero: bool = False) -> float:
    """Parse a count with a decimal suffix: ``70B`` → 7e10, ``15T`` → 1.5e13, ``4M`` → 4e6."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return _check_finite(_number_to_float(text, what), str(text), what, allow_zero)
    number, suffix = _split(str(text), what, "70B, 15T, 4M or 512")
    if suffix not in _DECIMAL_SUFFIXES:
        raise UnitError(
            f"invalid {what} {text!r}: unknown suffix {suffix!r}; use k, M, B (or G), T or P, e.g. 70B"
        )
    return _check_finite(number * _DECIMAL_SUFFIXES[suffix], str(text), what, allow_zero)


def parse_param_count(text: str | float, what: str = "parameter count") -> float:
    """Parse a model size such as ``70B`` or ``7.5e9``; a bare number below 10^6 is rejected as a
    likely missing suffix (``70`` for 70B)."""
    value = parse_count(text, what)
    if isinstance(text, str) and _NUMBER_WITH_SUFFIX.match(text) and not _NUMBER_WITH_SUFFIX.match(text).group(2):
        if value < 1e6:
            raise UnitError(f"invalid {what} {text!r}: too small for a model; add a suffix, e.g. 70B for 70 billion")
    return value


def parse_integer(text: str | int, what: str = "count", allow_zero: bool = False) -> int:
    """Parse a whole-number count with a decimal suffix (``4M`` → 4,000,000)."""
    value = parse_count(text, what, allow_zero)
    if value != int(value):
        raise UnitError(f"invalid {what} {text!r}: must be a whole number")
    return int(value)


def parse_length(text: str | int, what: str = "sequence length", allow_zero: bool = False) -> int:
    """Parse a sequence or context length in tokens: ``8k`` → 8,192, ``128k`` → 131,072, ``4096`` → 4,096."""
    if isinstance(text, int) and not isinstance(text, bool):
        number, suffix, original = _number_to_float(text, what), "", str(text)
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
    _check_finite(number, str(text), what, allow_zero=False)
    key = unit.lower()
    if key == "":
        example = f"{number / 1e9:g}" if number >= 1e6 else f"{number:g}"
        raise UnitError(f"invalid {what} {text!r}: add a unit, e.g. {example}GB (10^9 bytes) or {example}GiB (2^30 bytes)")
    if key not in _BYTE_UNITS:
        raise UnitError(
            f"invalid {what} {text!r}: unknown unit {unit!r}; use B, kB, MB, GB, TB, PB, KiB, MiB, GiB, TiB or PiB"
        )
    return _check_finite(number * _BYTE_UNITS[key], str(text), what, allow_zero=False)


_BIT_UNITS = {"b": 1.0, "kb": 1e3, "Kb": 1e3, "Mb": 1e6, "Gb": 1e9, "Tb": 1e12, "Pb": 1e15}
_AMBIGUOUS_BIT_UNITS = {"mb", "gb", "tb", "pb"}


def parse_bandwidth(text: str, what: str = "bandwidth") -> float:
    """Parse a bandwidth in bytes/s: ``3.35TB/s`` → 3.35e12, ``400Gb/s`` or ``400Gbps`` (bits) → 5e10.

    A capital B means bytes and a lower-case b means bits. A unit such as ``gb/s`` is rejected
    because it could mean either.
    """
    raw = str(text).strip()
    _reject_non_finite(raw, what)
    match = re.match(rf"^\s*({_NUMBER})\s*([A-Za-z]*?)\s*(/\s*[sS]|ps)?\s*$", raw)
    if not match:
        raise UnitError(f"invalid {what} {raw!r}: expected a rate such as 3.35TB/s or 400Gb/s")
    number = _to_float(match.group(1), raw, what)
    _check_finite(number, raw, what, allow_zero=False)
    unit = match.group(2)
    if unit == "":
        example = f"{number / 1e12:g}" if number >= 1e9 else f"{number:g}"
        raise UnitError(f"invalid {what} {raw!r}: add a unit, e.g. {example}TB/s or {example}GB/s")
    if match.group(3) is None:
        # "3.35GB" is a size; taking it as a rate would hide swapped --hbm and --bandwidth values.
        raise UnitError(f"invalid {what} {raw!r}: a bandwidth is a rate; write {raw}/s")
    if unit in _BIT_UNITS:
        value = number * _BIT_UNITS[unit] / 8
    elif unit in _AMBIGUOUS_BIT_UNITS:
        upper = unit[0].upper()
        raise UnitError(
            f"invalid {what} {raw!r}: unit {unit!r} is ambiguous; write {upper}B/s for bytes or {upper}b/s for bits"
        )
    elif unit.lower() in _BYTE_UNITS:
        value = number * _BYTE_UNITS[unit.lower()]
    else:
        raise UnitError(f"invalid {what} {raw!r}: unknown unit {unit!r}; use GB/s, TB/s or Gb/s (bits)")
    return _check_finite(value, raw, what, allow_zero=False)


def parse_flop_rate(text: str, what: str = "peak FLOP/s") -> float:
    """Parse a FLOP rate: ``990T``, ``990TFLOPS``, ``990 TFLOP/s`` → 9.9e14; ``2.25P`` → 2.25e15.

    A bare number is rejected: write ``9.9e14 FLOP/s`` for a rate without a prefix.
    """
    raw = str(text).strip()
    _reject_non_finite(raw, what)
    match = re.match(rf"^\s*({_NUMBER})\s*([kMGTP]?)\s*(flops?|flop/s)?\s*$", raw, re.IGNORECASE)
    if not match:
        raise UnitError(f"invalid {what} {raw!r}: expected a rate such as 990T or 990TFLOP/s")
    number = _to_float(match.group(1), raw, what)
    if number <= 0 or math.isinf(number):
        _check_finite(number, raw, what, allow_zero=False)  # rejects it before the unit hint repeats it
    prefix = match.group(2)
    if prefix == "" and match.group(3) is None:
        # A bare 990 would be read as 990 FLOP/s, so require a prefix or the unit.
        if number >= 1e9:
            hint = f"write {number / 1e12:g}T for {number / 1e12:g} TFLOP/s, or {raw} FLOP/s"
        else:
            hint = f"add a unit, e.g. {raw}T for {raw} TFLOP/s"
        raise UnitError(f"invalid {what} {raw!r}: {hint}")
    scale = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "p": 1e15}[prefix.lower()]
    return _check_finite(number * scale, raw, what, allow_zero=False)


def parse_fraction(text: str | float, what: str = "fraction") -> float:
    """Parse a fraction in (0, 1]: ``40%`` → 0.4, ``0.4`` → 0.4. A bare number above 1 is rejected."""
    raw = str(text).strip()
    percent = raw.endswith("%")
    body = raw[:-1].strip() if percent else raw
    if body.lower().lstrip("+-") in {"nan", "inf", "infinity"}:
        raise UnitError(f"invalid {what} {raw!r}: must be a finite number")
    if not re.fullmatch(_NUMBER, body):
        raise UnitError(f"invalid {what} {raw!r}: expected a percentage or a fraction, e.g. 40% or 0.4")
    value = _to_float(body, raw, what) / (100.0 if percent else 1.0)
    if not percent and value > 1:
        raise UnitError(f"invalid {what} {raw!r}: above 1; write {raw}% for a percentage or a fraction such as 0.4")
    if not 0 < value <= 1:
        raise UnitError(f"invalid {what} {raw!r}: must be above 0% and at most 100%")
    return _check_finite(value, raw, what, allow_zero=False)


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
    return _check_finite(value, raw, what, allow_zero=True)


# --- formatting -------------------------------------------------------------------------------

_SI_PREFIXES = [(1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
_COUNT_PREFIXES = [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")]
_DECIMAL_BYTE_UNITS = [(1e15, "PB"), (1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")]
_BINARY_BYTE_UNITS = [(2.0**50, "PiB"), (2.0**40, "TiB"), (2.0**30, "GiB"), (2.0**20, "MiB"), (2.0**10, "KiB")]


def _round_significant(value: float, digits: int) -> float:
    return float(f"{value:.{digits - 1}e}")


def format_number(value: float, digits: int = 3) -> str:
    """Format a plain number with at least `digits` significant digits and thousands separators.

    Integer parts are printed in full, so 123,456 keeps all six digits.
    """
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    # Take the magnitude after rounding, so that 0.9999 prints as 1.00 and not 1.000.
    magnitude = math.floor(math.log10(abs(_round_significant(value, digits))))
    decimals = max(0, digits - 1 - magnitude)
    return f"{value:,.{decimals}f}"


def _scaled(value: float, prefixes: list[tuple[float, str]], digits: int = 3) -> tuple[str, str]:
    """Return `value` as a number and the largest prefix under which it prints as 1 or more.

    The test is on the rounded number, so 999.7e9 becomes 1.00 T and not 1,000 B.
    """
    if math.isfinite(value):
        for scale, prefix in prefixes:
            if abs(_round_significant(value / scale, digits)) >= 1:
                return format_number(value / scale, digits), prefix
    return format_number(value, digits), ""


def format_bytes(value: float, binary: bool = False) -> str:
    """Format a byte count: ``141 GB`` (decimal) or ``131 GiB`` (binary)."""
    number, unit = _scaled(value, _BINARY_BYTE_UNITS if binary else _DECIMAL_BYTE_UNITS)
    return f"{number} {unit or 'B'}"


def format_count(value: float) -> str:
    """Format a count with a decimal suffix: ``70.6B``, ``15.0T``."""
    number, prefix = _scaled(value, _COUNT_PREFIXES)
    return f"{number}{prefix}"


def format_flop(value: float) -> str:
    """Format a FLOP count in scientific notation: ``6.30e24 FLOP``."""
    if not math.isfinite(value) or abs(value) < 1e4:
        return f"{value:.3g} FLOP"
    mantissa, exponent = f"{value:.2e}".split("e")
    return f"{mantissa}e{int(exponent)} FLOP"


def format_rate(value: float, unit: str) -> str:
    """Format a rate with an SI prefix: ``990 TFLOP/s``, ``3.35 TB/s``."""
    number, prefix = _scaled(value, _SI_PREFIXES)
    return f"{number} {prefix}{unit}"


# Each unit applies from its threshold on. Days start at two days, so 30 hours stays in hours.
_DURATION_UNITS = [(86400.0, 2.0, "days"), (3600.0, 1.0, "h"), (60.0, 1.0, "min"), (1.0, 1.0, "s"), (1e-3, 1.0, "ms")]


def format_duration(seconds: float) -> str:
    """Format seconds as the largest sensible unit: ``180 days``, ``3.20 h``, ``45.0 ms``."""
    if math.isfinite(seconds):
        for scale, threshold, unit in _DURATION_UNITS:
            if _round_significant(seconds / scale, 3) >= threshold:
                return f"{format_number(seconds / scale)} {unit}"
        return f"{format_number(seconds * 1e6)} µs"
    return f"{seconds} s"


def format_usd(value: float) -> str:
    """Format a dollar amount: ``$8.81M``, ``$1,234``, ``$0.52``, ``$0.000556``.

    Amounts under one cent keep three significant digits instead of printing as $0.00.
    """
    if abs(value) >= 1e12:
        mantissa, exponent = f"{value:.2e}".split("e")
        return f"${mantissa}e{int(exponent)}"
    if abs(value) >= 1e6:
        number, prefix = _scaled(value, [(1e9, "B"), (1e6, "M")])
        return f"${number}{prefix}"
    if abs(value) >= 100:
        return f"${value:,.0f}"
    if value == 0 or abs(value) >= 0.01:
        return f"${value:,.2f}"
    return f"${format_number(value)}"
