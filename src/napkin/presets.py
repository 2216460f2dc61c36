"""Model presets: short names mapped to config files shipped in ``data/``."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .arch import ModelArch
from .errors import ConfigError, UnknownNameError
from .hf import arch_from_config, load_config_text

__all__ = ["Preset", "list_presets", "load_model", "resolve_preset"]

_DATA = Path(__file__).parent / "data"
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

    def config(self) -> dict[str, Any]:
        """Return the config dict of this preset."""
        if self.inline_config is not None:
            return dict(self.inline_config)
        assert self.file is not None  # guaranteed by the catalog loader
        path = _DATA / "models" / self.file
        return load_config_text(path.read_bytes(), f"preset {self.name}")


@functools.cache
def _catalog() -> dict[str, Preset]:
    with open(_DATA / "models.toml", "rb") as handle:
        raw = tomllib.load(handle)
    presets = {}
    for name, entry in raw.items():
        presets[name] = Preset(
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
        )
    return presets


@functools.cache
def _names() -> dict[str, str]:
    names = {}
    for preset in _catalog().values():
        names[preset.name] = preset.name
        for alias in preset.aliases:
            names[alias] = preset.name
    return names


def list_presets() -> list[Preset]:
    """Return every preset, sorted by name."""
    return [_catalog()[name] for name in sorted(_catalog())]


def resolve_preset(name: str) -> Preset:
    """Return the preset called `name` (or an alias); suggest close names when unknown."""
    key = name.strip().lower()
    names = _names()
    if key not in names:
        raise UnknownNameError("model", name, names, "napkin models")
    return _catalog()[names[key]]


def _looks_like_path(spec: str) -> bool:
    return spec.endswith(".json") or "/" in spec or "\\" in spec


def load_model(spec: str) -> ModelArch:
    """Load a model from a preset name or a path to a HuggingFace config.json."""
    if _looks_like_path(spec):
        path = Path(spec)
        if not path.is_file():
            raise ConfigError(f"config file {spec!r} not found; give a path to a config.json or a preset name")
        if path.stat().st_size > _MAX_CONFIG_BYTES:
            raise ConfigError(
                f"{spec}: file is {path.stat().st_size:,} bytes, larger than any model config "
                f"({_MAX_CONFIG_BYTES:,} bytes at most); pass the model's config.json"
            )
        try:
            text = path.read_bytes()
        except OSError as error:
            raise ConfigError(f"{spec}: cannot be read ({error.strerror}); check the path and permissions") from None
        return arch_from_config(load_config_text(text, spec), name=path.stem if path.stem != "config" else spec, source=spec)
    preset = resolve_preset(spec)
    return arch_from_config(preset.config(), name=preset.name, source=f"preset {preset.name}")
