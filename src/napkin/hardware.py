"""The accelerator catalog (``data/gpus.toml``) and custom specs."""

from __future__ import annotations

import functools
import math
import os
import tomllib
from dataclasses import dataclass

from .catalog import CatalogEntry, index_catalog, parse_entry
from .errors import OptionError, UnknownNameError

__all__ = ["GPU", "custom_gpu", "get_gpu", "list_gpus"]

_CATALOG = os.path.join(os.path.dirname(__file__), "data", "gpus.toml")


@dataclass(frozen=True)
class GPU:
    """One accelerator's spec: memory, bandwidth, dense peaks (no sparsity) and a price default."""

    name: str
    display_name: str
    hbm_bytes: float
    hbm_bandwidth_bytes_per_s: float
    bf16_flop_per_s: float
    fp16_flop_per_s: float | None = None
    fp8_flop_per_s: float | None = None
    int8_op_per_s: float | None = None
    hbm_reported_bytes: float | None = None
    hbm_cuda_bytes: float | None = None
    intra_node_bytes_per_s: float | None = None
    inter_node_bytes_per_s: float | None = None
    gpus_per_node: int = 8
    usd_per_hour: float | None = None
    vendor: str = ""
    memory_type: str = ""
    aliases: tuple[str, ...] = ()
    source: str = ""
    price_source: str = ""
    as_of: str = ""
    notes: str = ""

    @property
    def ridge_flop_per_byte(self) -> float:
        """The roofline ridge point: peak bf16 FLOP/s ÷ memory bandwidth."""
        return self.bf16_flop_per_s / self.hbm_bandwidth_bytes_per_s

    def __repr__(self) -> str:
        return (
            f"GPU(name={self.name!r}, hbm={self.hbm_bytes / 1e9:g} GB, "
            f"bandwidth={self.hbm_bandwidth_bytes_per_s / 1e12:g} TB/s, bf16={self.bf16_flop_per_s / 1e12:g} TFLOP/s)"
        )


_FIELDS = {f for f in GPU.__dataclass_fields__}


def _gpu_from_table(table: dict) -> GPU:
    values = {k: v for k, v in table.items() if k in _FIELDS}
    values["aliases"] = tuple(values.get("aliases", ()))
    return GPU(**values)


@functools.cache
def _entries() -> dict[str, CatalogEntry]:
    """Map every name and alias to its catalog entry (a line scan, no parsing)."""
    return index_catalog(_CATALOG, array_name="gpu")


def list_gpus() -> list[GPU]:
    """Return the whole catalog in file order (grouped by vendor and generation)."""
    with open(_CATALOG, "rb") as handle:
        return [_gpu_from_table(table) for table in tomllib.load(handle)["gpu"]]


def get_gpu(name: str) -> GPU:
    """Return the catalog entry called `name` or one of its aliases, case-insensitively."""
    if not isinstance(name, str):
        raise TypeError(f"get_gpu() takes a GPU name such as 'h100', not {type(name).__name__}")
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    entries = _entries()
    if key not in entries:
        canonical = {alias: entry.name for alias, entry in entries.items()}
        raise UnknownNameError("GPU", name, canonical, "napkin gpus")
    return _parsed(entries[key].name)


@functools.cache
def _parsed(name: str) -> GPU:
    return _gpu_from_table(parse_entry(_entries()[name]))


def custom_gpu(
    peak_flop_per_s: float,
    bandwidth_bytes_per_s: float,
    hbm_bytes: float,
    base: GPU | None = None,
    usd_per_hour: float | None = None,
) -> GPU:
    """Return a spec from explicit figures, keeping `base`'s other figures (links, price) when given."""
    for label, value in (("peak", peak_flop_per_s), ("bandwidth", bandwidth_bytes_per_s), ("HBM", hbm_bytes)):
        if not (value > 0 and math.isfinite(value)):
            raise OptionError(f"invalid custom GPU {label} {value!r}: must be a positive finite number")
    name = f"custom ({base.name})" if base else "custom"
    if usd_per_hour is None and base is not None:
        usd_per_hour = base.usd_per_hour
    return GPU(
        name=name,
        display_name=name,
        hbm_bytes=hbm_bytes,
        hbm_bandwidth_bytes_per_s=bandwidth_bytes_per_s,
        bf16_flop_per_s=peak_flop_per_s,
        intra_node_bytes_per_s=base.intra_node_bytes_per_s if base else None,
        inter_node_bytes_per_s=base.inter_node_bytes_per_s if base else None,
        gpus_per_node=base.gpus_per_node if base else 8,
        usd_per_hour=usd_per_hour,
    )
