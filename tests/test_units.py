"""Tests for the quantity parsers and formatters in `napkin.units`."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from napkin import units
from napkin.errors import UnitError

GIB = 2.0**30

# A number printed with three significant digits is off by at most half a unit in the third
# digit, which is 0.5 % of the value.
PRINTED_RELATIVE_ERROR = 0.005


# --- counts --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("70B", 7e10),
        ("15T", 1.5e13),
        ("4M", 4e6),
        ("8k", 8e3),
        ("8K", 8e3),
        ("2G", 2e9),
        ("1.5P", 1.5e15),
        ("512", 512.0),
        ("70 B", 7e10),
        ("  70B  ", 7e10),
        ("1e3", 1e3),
        ("1_000", 1e3),
        ("1,000", 1e3),
        ("1,000,000", 1e6),
        ("1,000.5k", 1.0005e6),
        (".5M", 5e5),
        ("+7", 7.0),
    ],
)
def test_parse_count_value(text: str, expected: float) -> None:
    assert units.parse_count(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nan", "finite"),
        ("NaN", "finite"),
        ("-nan", "finite"),
        ("inf", "finite"),
        ("-inf", "finite"),
        ("Infinity", "finite"),
        ("1e400", "finite"),
        ("-1", "greater than zero"),
        ("-70B", "greater than zero"),
        ("0", "greater than zero"),
        ("0B", "greater than zero"),
        ("70X", "unknown suffix 'X'"),
        ("70b", "unknown suffix 'b'"),
        ("", "expected a number"),
        ("   ", "expected a number"),
        ("B", "expected a number"),
        ("70BB", "unknown suffix 'BB'"),
        ("1,5T", "commas"),
        ("1,,5", "commas"),
        ("1,00", "commas"),
        ("\u0667\u0660B", "expected a number"),  # Arabic-Indic digits for "70B"
        ("\uff17\uff10B", "expected a number"),  # full-width digits for "70B"
        ("1e300", "at most"),
        ("1e-30", "at least"),
    ],
)
def test_parse_count_rejects(text: str, message: str) -> None:
    with pytest.raises(UnitError, match=re.escape(message)):
        units.parse_count(text)


def test_parse_count_message_names_value() -> None:
    with pytest.raises(UnitError, match=re.escape("'70X'")):
        units.parse_count("70X", "token count")


def test_parse_count_message_names_quantity() -> None:
    with pytest.raises(UnitError, match="token count"):
        units.parse_count("70X", "token count")


def test_parse_count_zero_when_allowed() -> None:
    assert units.parse_count("0", allow_zero=True) == 0.0


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0, 0.0])
def test_parse_count_rejects_float(value: float) -> None:
    with pytest.raises(UnitError):
        units.parse_count(value)


def test_parse_count_accepts_float() -> None:
    assert units.parse_count(2.5) == 2.5


@pytest.mark.parametrize(("text", "expected"), [("4M", 4_000_000), ("1k", 1000), ("64", 64), ("1e3", 1000)])
def test_parse_integer_value(text: str, expected: int) -> None:
    assert units.parse_integer(text) == expected


def test_parse_integer_returns_int() -> None:
    assert isinstance(units.parse_integer("4M"), int)


@pytest.mark.parametrize("text", ["1.5", "2.0005k", "0.1"])
def test_parse_integer_rejects_fraction(text: str) -> None:
    with pytest.raises(UnitError, match="whole number"):
        units.parse_integer(text)


# --- lengths -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8k", 8192),
        ("8K", 8192),
        ("128k", 131072),
        ("4096", 4096),
        ("1M", 1024**2),
        ("0.5k", 512),
        (2048, 2048),
    ],
)
def test_parse_length_value(text: str | int, expected: int) -> None:
    assert units.parse_length(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0", "greater than zero"),
        ("-8k", "greater than zero"),
        ("nan", "finite"),
        ("inf", "finite"),
        ("8X", "unknown suffix 'X'"),
        ("8B", "unknown suffix 'B'"),
        ("0.1k", "whole number"),
        ("", "expected a number"),
        ("\u0668k", "expected a number"),  # Arabic-Indic digit eight
    ],
)
def test_parse_length_rejects(text: str, message: str) -> None:
    with pytest.raises(UnitError, match=re.escape(message)):
        units.parse_length(text)


def test_parse_length_zero_when_allowed() -> None:
    assert units.parse_length("0", allow_zero=True) == 0


# --- sizes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("80GB", 8e10),
        ("80 GB", 8e10),
        ("80gb", 8e10),
        ("141GiB", 141 * GIB),
        ("141 gib", 141 * GIB),
        ("1TB", 1e12),
        ("1TiB", 2.0**40),
        ("1PB", 1e15),
        ("1PiB", 2.0**50),
        ("512MB", 5.12e8),
        ("512MiB", 512 * 2.0**20),
        ("4kB", 4e3),
        ("4KiB", 4096.0),
        ("100B", 100.0),
        ("100 bytes", 100.0),
    ],
)
def test_parse_bytes_value(text: str, expected: float) -> None:
    assert units.parse_bytes(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("80", "add a unit"),
        ("80XB", "unknown unit 'XB'"),
        ("0GB", "greater than zero"),
        ("-80GB", "greater than zero"),
        ("nanGB", "expected a number"),
        ("nan", "finite"),
        ("inf", "finite"),
        ("", "expected a number"),
        ("GB", "expected a number"),
    ],
)
def test_parse_bytes_rejects(text: str, message: str) -> None:
    with pytest.raises(UnitError, match=re.escape(message)):
        units.parse_bytes(text)


def test_parse_bytes_bare_number_suggests_unit() -> None:
    with pytest.raises(UnitError, match=re.escape("80GB")):
        units.parse_bytes("80")


# --- bandwidths ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3.35TB/s", 3.35e12),
        ("3.35 TB/s", 3.35e12),
        ("3.35TBps", 3.35e12),
        ("900GB/s", 9e11),
        ("400Gb/s", 5e10),
        ("400Gbps", 5e10),
        ("400 Gb/s", 5e10),
        ("1.6Tb/s", 2e11),
        ("100Mb/s", 1.25e7),
        ("8kb/s", 1e3),
        ("2TiB/s", 2 * 2.0**40),
    ],
)
def test_parse_bandwidth_value(text: str, expected: float) -> None:
    assert units.parse_bandwidth(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("3.35", "add a unit"),
        ("3.35TB", "a bandwidth is a rate"),
        ("3.35XB/s", "unknown unit 'XB'"),
        ("3.35tb/s", "ambiguous"),
        ("400gb/s", "ambiguous"),
        ("0TB/s", "greater than zero"),
        ("-1TB/s", "greater than zero"),
        ("nan", "finite"),
        ("inf", "finite"),
        ("", "expected a rate"),
    ],
)
def test_parse_bandwidth_rejects(text: str, message: str) -> None:
    with pytest.raises(UnitError, match=re.escape(message)):
        units.parse_bandwidth(text)


def test_parse_bandwidth_ambiguous_suggests_bytes() -> None:
    with pytest.raises(UnitError, match=re.escape("TB/s")):
        units.parse_bandwidth("3.35tb/s")


# --- FLOP rates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("990T", 9.9e14),
        ("990TFLOPS", 9.9e14),
        ("990 TFLOP/s", 9.9e14),
        ("990 tflops", 9.9e14),
        ("2.25P", 2.25e15),
        ("2.25PFLOP/s", 2.25e15),
        ("312G", 3.12e11),
        ("9.9e14 FLOP/s", 9.9e14),
        ("9.9e14FLOPS", 9.9e14),
    ],
)
def test_parse_flop_rate_value(text: str, expected: float) -> None:
    assert units.parse_flop_rate(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("990", "add a unit"),
        ("990X", "expected a rate"),
        ("0T", "greater than zero"),
        ("-990T", "greater than zero"),
        ("0", "greater than zero"),  # once answered "add a unit, e.g. 0T"
        ("-5", "greater than zero"),
        ("1e400", "finite"),  # once answered "write infT for inf TFLOP/s"
        ("nan", "finite"),
        ("inf", "finite"),
        ("", "expected a rate"),
    ],
)
def test_parse_flop_rate_rejects(text: str, message: str) -> None:
    with pytest.raises(UnitError, match=re.escape(message)):
        units.parse_flop_rate(text)


# --- fractions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("40%", 0.4),
        ("40 %", 0.4),
        ("0.4", 0.4),
        (".4", 0.4),
        ("100%", 1.0),
        ("1", 1.0),
        ("0.5%", 0.005),
        (0.4, 0.4),
    ],
)
def test_parse_fraction_value(text: str | float, expected: float) -> None:
    assert units.parse_fraction(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("140%", "at most 100%"),
        ("0", "above 0%"),
        ("0%", "above 0%"),
        ("-40%", "above 0%"),
        ("nan", "finite"),
        ("nan%", "finite"),
        ("inf", "finite"),
        ("", "expected a percentage"),
        ("%", "expected a percentage"),
        ("forty", "expected a percentage"),
        ("\u0664\u0660%", "expected a percentage"),  # Arabic-Indic digits for "40%"
    ],
)
def test_parse_fraction_rejects(text: str, message: str) -> None:
    with pytest.raises(UnitError, match=re.escape(message)):
        units.parse_fraction(text)


def test_parse_fraction_bare_40_suggests_percent() -> None:
    with pytest.raises(UnitError, match=re.escape("40%")):
        units.parse_fraction("40")


# --- prices --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2", 2.0),
        ("$2", 2.0),
        ("$2/hr", 2.0),
        ("$2 / h", 2.0),
        ("2.5/GPU-hour", 2.5),
        ("2.5 USD/hour", 2.5),
        ("$2.49/gpu-hr", 2.49),
        ("0", 0.0),
    ],
)
def test_parse_price_value(text: str, expected: float) -> None:
    assert units.parse_price(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-1", "zero or more"),
        ("$-2", "zero or more"),
        ("nan", "expected USD per GPU-hour"),
        ("1e400", "finite"),
        ("2/day", "expected USD per GPU-hour"),
        ("two", "expected USD per GPU-hour"),
        ("", "expected USD per GPU-hour"),
        ("$\u0662", "expected USD per GPU-hour"),  # Arabic-Indic digit two
    ],
)
def test_parse_price_rejects(text: str, message: str) -> None:
    with pytest.raises(UnitError, match=re.escape(message)):
        units.parse_price(text)


# --- formatting ----------------------------------------------------------------------------------

DECIMAL_BYTE_UNITS = {"B", "kB", "MB", "GB", "TB", "PB"}
BINARY_BYTE_UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (141e9, "141 GB"),
        (80e9, "80.0 GB"),
        (1.5e12, "1.50 TB"),
        (512.0, "512 B"),
        (4e3, "4.00 kB"),
        (999.6e9, "1.00 TB"),
        (0.0, "0 B"),
    ],
)
def test_format_bytes_decimal(value: float, expected: str) -> None:
    assert units.format_bytes(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (141 * GIB, "141 GiB"),
        (80e9, "74.5 GiB"),
        (2.0**40, "1.00 TiB"),
        (1023.9 * GIB, "1.00 TiB"),
        (1000 * GIB, "1,000 GiB"),
        (4096.0, "4.00 KiB"),
    ],
)
def test_format_bytes_binary(value: float, expected: str) -> None:
    assert units.format_bytes(value, binary=True) == expected


@pytest.mark.parametrize("value", [1.0, 999.0, 4e3, 80e9, 141 * GIB, 999.96e9, 3e15])
def test_format_bytes_decimal_unit_only(value: float) -> None:
    assert units.format_bytes(value).split()[-1] in DECIMAL_BYTE_UNITS


@pytest.mark.parametrize("value", [1.0, 999.0, 4e3, 80e9, 141 * GIB, 1023.96 * GIB, 3e15])
def test_format_bytes_binary_unit_only(value: float) -> None:
    assert units.format_bytes(value, binary=True).split()[-1] in BINARY_BYTE_UNITS


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (6.3e24, "6.30e24 FLOP"),
        (1.234e18, "1.23e18 FLOP"),
        (9.999e24, "1.00e25 FLOP"),
        (512.0, "512 FLOP"),
        (0.0, "0 FLOP"),
        (float("inf"), "inf FLOP"),
    ],
)
def test_format_flop(value: float, expected: str) -> None:
    assert units.format_flop(value) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (180 * 86400, "180 days"),
        (2 * 86400, "2.00 days"),
        (30 * 3600, "30.0 h"),
        (3.2 * 3600, "3.20 h"),
        (90.0, "1.50 min"),
        (59.99, "1.00 min"),
        (5.0, "5.00 s"),
        (0.99996, "1.00 s"),
        (0.045, "45.0 ms"),
        (5e-5, "50.0 µs"),
        (float("inf"), "inf s"),
    ],
)
def test_format_duration(seconds: float, expected: str) -> None:
    assert units.format_duration(seconds) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (8.81e6, "$8.81M"),
        (2.5e9, "$2.50B"),
        (999.9e6, "$1.00B"),
        (1234.0, "$1,234"),
        (0.52, "$0.52"),
        (0.0, "$0.00"),
        (0.000556, "$0.000556"),
    ],
)
def test_format_usd(value: float, expected: str) -> None:
    assert units.format_usd(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(7.06e10, "70.6B"), (1.5e13, "15.0T"), (999.7e9, "1.00T"), (4e6, "4.00M"), (512.0, "512")],
)
def test_format_count(value: float, expected: str) -> None:
    assert units.format_count(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(9.9e14, "990 TFLOP/s"), (3.35e12, "3.35 TB/s"), (999.9e12, "1.00 PB/s")],
)
def test_format_rate(value: float, expected: str) -> None:
    unit = expected.split()[-1][1:]
    assert units.format_rate(value, unit) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.9999, "1.00"), (123456.0, "123,456"), (1.5, "1.50"), (0.00123, "0.00123"), (float("nan"), "nan")],
)
def test_format_number(value: float, expected: str) -> None:
    assert units.format_number(value) == expected


# --- round trips ---------------------------------------------------------------------------------

magnitudes = st.floats(min_value=1.0, max_value=1e18, allow_nan=False, allow_infinity=False)


def _within_printed_precision(parsed: float, value: float) -> bool:
    return math.isclose(parsed, value, rel_tol=PRINTED_RELATIVE_ERROR)


@given(magnitudes)
def test_count_round_trip(value: float) -> None:
    assert _within_printed_precision(units.parse_count(units.format_count(value)), value)


@given(magnitudes)
def test_bytes_decimal_round_trip(value: float) -> None:
    assert _within_printed_precision(units.parse_bytes(units.format_bytes(value)), value)


@given(magnitudes)
def test_bytes_binary_round_trip(value: float) -> None:
    assert _within_printed_precision(units.parse_bytes(units.format_bytes(value, binary=True)), value)


@given(st.floats(min_value=1e3, max_value=1e18, allow_nan=False, allow_infinity=False))
def test_bandwidth_round_trip(value: float) -> None:
    assert _within_printed_precision(units.parse_bandwidth(units.format_rate(value, "B/s")), value)


@given(st.floats(min_value=1e3, max_value=1e18, allow_nan=False, allow_infinity=False))
def test_flop_rate_round_trip(value: float) -> None:
    assert _within_printed_precision(units.parse_flop_rate(units.format_rate(value, "FLOP/s")), value)


def test_overflowing_integer_unit_error() -> None:
    for parse in (units.parse_count, units.parse_integer, units.parse_length, units.parse_param_count):
        with pytest.raises(UnitError, match="at most 10\\^21"):
            parse(10**400)
