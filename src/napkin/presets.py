"""Model presets: short names mapped to config files shipped in ``data/``."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Any

from .arch import ModelArch
from .catalog import CatalogEntry, index_catalog, parse_entry
from .errors import ConfigError, UnknownNameError
from .hf import arch_from_config, load_config_text

__all__ = ["Preset", "list_presets", "load_model", "resolve_preset"]

_DATA = os.path.join(os.path.dirname(__file__), "data")
_MAX_CONFIG_BYTES = 4 * 1024 * 1024  # real config.json files are a few kB; tokenizer files are not configs


@dataclass(frozen=True)
class Preset:
    """A named model with the source of its config and its published parameter counts."""

    name: str
    aliases: tuple[str, ...]
    source: str
    hf_id: str | None
    file: str | None
    inline_config: dict[str, Any] | None
    published_params: float | None
    published_params_source: str | None
    published_active_params: float | None
    published_active_params_source: str | None
    published_active_params_excludes_input_embedding: bool = False

    def config(self) -> dict[str, Any]:
        """Return the config dict of this preset."""
        if self.inline_config is not None:
            return dict(self.inline_config)
        assert self.file is not None  # every catalog entry has a file or an inline config
        with open(os.path.join(_DATA, "models", self.file), "rb") as handle:
            return load_config_text(handle.read(), f"preset {self.name}")


def _preset_from_table(name: str, entry: dict[str, Any]) -> Preset:
    return Preset(
        name=name,
        aliases=tuple(entry.get("aliases", ())),
        source=entry["source"],
        hf_id=entry.get("hf_id"),
        file=entry.get("file"),
        inline_config=entry.get("config"),
        published_params=entry.get("published_params"),
        published_params_source=entry.get("published_params_source"),
        published_active_params=entry.get("published_active_params"),
        published_active_params_source=entry.get("published_active_params_source"),
        published_active_params_excludes_input_embedding=entry.get("published_active_params_excludes_input_embedding", False),
    )


@functools.cache
def _entries() -> dict[str, CatalogEntry]:
    """Map every preset name and alias to its catalog entry (a line scan, no parsing)."""
    return index_catalog(os.path.join(_DATA, "models.toml"))


@functools.cache
def _preset(name: str) -> Preset:
    return _preset_from_table(name, parse_entry(_entries()[name]))


def list_presets() -> list[Preset]:
    """Return every preset, sorted by name."""
    names = sorted({entry.name for entry in _entries().values()})
    return [_preset(name) for name in names]


def resolve_preset(name: str) -> Preset:
    """Return the preset called `name` (or an alias); suggest close names when unknown."""
    if not isinstance(name, str):
        raise TypeError(f"resolve_preset() takes a preset name such as 'llama-3-70b', not {type(name).__name__}")
    key = name.strip().lower()
    entries = _entries()
    if key not in entries:
        canonical = {alias: entry.name for alias, entry in entries.items()}
        raise UnknownNameError("model", name, canonical, "napkin models")
    return _preset(entries[key].name)


def _looks_like_path(spec: str) -> bool:
    return spec.endswith(".json") or "/" in spec or "\\" in spec or os.path.isdir(spec)


def load_model(spec: str | os.PathLike[str]) -> ModelArch:
    """Load a model from a preset name, a path to a HuggingFace config.json, or a model folder
    that contains one."""
    if isinstance(spec, os.PathLike):
        return _load_config_file(os.fspath(spec))
    if not isinstance(spec, str):
        raise TypeError(f"load_model() takes a preset name or a path, not {type(spec).__name__}")
    if _looks_like_path(spec):
        return _load_config_file(spec)
    preset = resolve_preset(spec)
    return arch_from_config(preset.config(), name=preset.name, source=f"preset {preset.name}")


def _load_config_file(spec: str) -> ModelArch:
    if os.path.isdir(spec):
        inside = os.path.join(spec, "config.json")
        if not os.path.isfile(inside):
            raise ConfigError(f"folder {spec!r} has no config.json; give the path of the model's config.json")
        spec = inside
    if not os.path.exists(spec):
        raise ConfigError(f"config file {spec!r} not found; give a path to a config.json or a preset name")
    if not os.path.isfile(spec):
        raise ConfigError(f"{spec!r} is not a regular file; give the path of a config.json")
    size = os.path.getsize(spec)
    if size > _MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{spec}: file is {size:,} bytes, larger than any model config ({_MAX_CONFIG_BYTES:,} bytes at most); "
            "pass the model's config.json"
        )
    try:
        with open(spec, "rb") as handle:
            text = handle.read()
    except OSError as error:
        raise ConfigError(f"{spec}: cannot be read ({error.strerror}); check the path and permissions") from None
    stem = os.path.splitext(os.path.basename(spec))[0]
    return arch_from_config(load_config_text(text, spec), name=stem if stem != "config" else spec, source=spec)
