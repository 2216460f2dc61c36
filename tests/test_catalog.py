"""The catalog line scan finds the same entries as a full TOML parse."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from napkin.catalog import parse_entry, scan_catalog
from napkin.hardware import get_gpu, list_gpus
from napkin.presets import list_presets, resolve_preset

DATA = Path(__file__).resolve().parents[1] / "src" / "napkin" / "data"


def test_catalog_gpu_scan_matches_parse() -> None:
    full = tomllib.loads((DATA / "gpus.toml").read_text())["gpu"]
    scanned = scan_catalog((DATA / "gpus.toml").read_text(), array_name="gpu")
    assert [parse_entry(entry) for entry in scanned] == full
    assert [entry.name for entry in scanned] == [table["name"] for table in full]
    assert [entry.aliases for entry in scanned] == [tuple(table.get("aliases", ())) for table in full]


def test_catalog_model_scan_matches_parse() -> None:
    full = tomllib.loads((DATA / "models.toml").read_text())
    scanned = scan_catalog((DATA / "models.toml").read_text())
    assert {entry.name: parse_entry(entry) for entry in scanned} == full
    assert all(entry.aliases == tuple(full[entry.name].get("aliases", ())) for entry in scanned)


def test_catalog_names_unique() -> None:
    for text, array in ((DATA / "gpus.toml").read_text(), "gpu"), ((DATA / "models.toml").read_text(), None):
        names = [n for entry in scan_catalog(text, array) for n in (entry.name, *entry.aliases)]
        assert len(names) == len(set(names))


@pytest.mark.parametrize("gpu", list_gpus(), ids=lambda gpu: gpu.name)
def test_catalog_gpu_lookup_by_alias(gpu) -> None:
    for alias in (gpu.name, *gpu.aliases):
        assert get_gpu(alias) == gpu


def test_catalog_gpu_has_source_and_date() -> None:
    for gpu in list_gpus():
        assert gpu.source and gpu.as_of, gpu.name


def test_catalog_model_files_exist() -> None:
    for preset in list_presets():
        assert preset.file is None or (DATA / "models" / preset.file).is_file(), preset.name
        assert resolve_preset(preset.name) == preset
