"""Click option types and shared options of the ``napkin`` command line.

Each type parses with a function of `napkin.units`, so a bad value fails with that function's
message, which names the value and the fix.
"""

from __future__ import annotations

from typing import Any

import click

from . import units
from .errors import NapkinError


class UnitType(click.ParamType):
    """A click type that parses with one of `napkin.units`' functions."""

    def __init__(self, name: str, parse: Any, label: str) -> None:
        self.name = name
        self._parse = parse
        self._label = label

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return self._parse(value, self._label)
        except NapkinError as error:
            self.fail(str(error), param, ctx)


MAX_BATCHES = 64


class BatchList(click.ParamType):
    """A comma-separated list of whole-number batch sizes, such as ``1,8,64``."""

    name = "LIST"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        fix = "give whole numbers separated by commas, e.g. 1,8,64"
        parts = value.split(",")
        if len(parts) > MAX_BATCHES:
            self.fail(f"{len(parts):,} batch sizes given; give at most {MAX_BATCHES}", param, ctx)
        if any(part.strip() == "" for part in parts):
            self.fail(f"invalid batch size list {value!r}: empty entry; {fix}", param, ctx)
        try:
            return tuple(units.parse_integer(part, "batch size") for part in parts)
        except NapkinError as error:
            self.fail(f"{error} (in the list {value!r}; {fix})", param, ctx)


COUNT = UnitType("COUNT", units.parse_count, "count")
TOKENS = UnitType("TOKENS", units.parse_count, "token count")
PARAMS = UnitType("PARAMS", units.parse_param_count, "parameter count")
LENGTH = UnitType("TOKENS", units.parse_length, "length")
LENGTH_OR_ZERO = UnitType("TOKENS", lambda text, label: units.parse_length(text, label, allow_zero=True), "length")
FRACTION = UnitType("FRACTION", units.parse_fraction, "fraction")
PRICE = UnitType("USD/H", units.parse_price, "price")
BYTES = UnitType("SIZE", units.parse_bytes, "memory size")
BANDWIDTH = UnitType("RATE", units.parse_bandwidth, "bandwidth")
FLOP_RATE = UnitType("FLOP/S", units.parse_flop_rate, "peak FLOP/s")
BATCHES = BatchList()
WHOLE = UnitType("N", units.parse_integer, "count")


def json_option(func: Any) -> Any:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object (base units: bytes, FLOP, s, USD).")(func)


def binary_option(func: Any) -> Any:
    return click.option("--binary", is_flag=True, help="Print sizes in GiB (2^30 bytes) instead of GB (10^9 bytes).")(func)


def gpu_options(required: bool) -> Any:
    def decorate(func: Any) -> Any:
        func = click.option("--hbm", type=BYTES, help="Custom GPU memory, e.g. 80GB or 141GiB.")(func)
        func = click.option("--bandwidth", type=BANDWIDTH, help="Custom memory bandwidth, e.g. 3.35TB/s.")(func)
        func = click.option("--peak", type=FLOP_RATE, help="Custom dense bf16 peak, e.g. 990T (FLOP/s).")(func)
        help_text = "GPU name from 'napkin gpus' (e.g. h100)" + (
            "; or give --peak, --bandwidth and --hbm." if required else "."
        )
        return click.option("--gpu", "gpu_name", metavar="NAME", help=help_text)(func)

    return decorate
