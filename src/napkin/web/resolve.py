"""Turn request fields into core objects: a model architecture or a bare count, a GPU, a price.

Parsed architectures are cached, because a preset's config.json is read and parsed on every
load and the page requests several estimates of one model at a time. Cached objects are frozen
dataclasses, so sharing them between requests is safe. An uploaded config is cached by its
text and never written to disk.
"""

from __future__ import annotations

import functools
from typing import NoReturn

from pydantic import BaseModel

from ..arch import ModelArch
from ..errors import NapkinError
from ..hardware import GPU, get_gpu
from ..hf import arch_from_config, load_config_text
from ..lengths import fit_length
from ..presets import load_model

UPLOAD_NAME = "uploaded config.json"


class FieldError(NapkinError):
    """Raised when an input is invalid for a reason found after parsing; names the request field."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


def reject(message: str, *loc: str | int) -> NoReturn:
    """Raise a `FieldError` for the body field at `loc`."""
    raise FieldError(("body", *loc), message)


@functools.lru_cache(maxsize=64)
def preset_arch(name: str) -> ModelArch:
    return load_model(name)


@functools.lru_cache(maxsize=16)
def arch_from_text(text: str) -> ModelArch:
    """Parse the text of an uploaded config.json in memory."""
    config = load_config_text(text, UPLOAD_NAME)
    name = config.get("_name_or_path") if isinstance(config.get("_name_or_path"), str) else None
    label = f"{name.rsplit('/', 1)[-1][:60]} (uploaded)" if name else UPLOAD_NAME
    return arch_from_config(config, name=label, source=UPLOAD_NAME)


def model_of(body: object, *loc: str) -> tuple[ModelArch | None, float | None]:
    """Return (architecture, None) or (None, parameter count) for a `ModelChoice` body.

    `loc` prefixes the field names in errors, e.g. ``("a",)`` for one side of a comparison.
    """
    present = [name for name in ("model", "config", "params") if getattr(body, name) is not None]
    if len(present) > 1:
        reject(f"give one of model, config or params, not {' and '.join(present)}", *loc, present[1])
    if not present:
        reject("missing model: give a preset name in model, a config.json text in config, or params such as 70B", *loc, "model")
    if body.model is not None:  # type: ignore[attr-defined]
        return preset_arch(body.model), None  # type: ignore[attr-defined]
    if body.config is not None:  # type: ignore[attr-defined]
        return arch_from_text(body.config), None  # type: ignore[attr-defined]
    return None, body.params  # type: ignore[attr-defined]


def require_arch(arch: ModelArch | None, estimate: str, *loc: str) -> ModelArch:
    """Return `arch`, or reject a bare parameter count for an estimate that needs an architecture."""
    if arch is None:
        reject(f"{estimate} needs an architecture: choose a preset or upload a config.json instead of params", *loc, "params")
    return arch


def gpu_of(name: str) -> GPU:
    return get_gpu(name)


def price_of(price: float | None, gpu: GPU, *loc: str) -> float:
    """Return `price`, or the GPU's catalog rate when no price was given."""
    if price is not None:
        return price
    if gpu.usd_per_hour is None:
        reject(f"no catalog price for {gpu.name}: give price in USD per GPU-hour, e.g. 2", *loc, "price")
    return gpu.usd_per_hour


def check_length(arch: ModelArch | None, field: str, value: int, allow_long_context: bool, explicit: bool = True) -> int:
    """Return a sequence or context length fitted to the model's maximum positions.

    A default (`explicit` false) longer than them is lowered to them, as the command line lowers a
    length the user did not type. An explicit one is rejected, naming `field`.
    """
    tokens = fit_length(arch, value, explicit, allow_long_context)
    if tokens is not None:
        return tokens
    reject(
        f"{field} {value:,} is longer than {arch.name}'s maximum of {arch.max_position_embeddings:,} positions; "  # type: ignore[union-attr]
        "shorten it, or set allow_long_context to estimate it anyway",
        field,
    )


def length_of(body: BaseModel, arch: ModelArch | None, field: str) -> int:
    """Return the length in `field` of `body`, fitted by `check_length`; a field the client left out counts as a default."""
    allow_long_context = getattr(body, "allow_long_context", False)
    return check_length(arch, field, getattr(body, field), allow_long_context, explicit=field in body.model_fields_set)
