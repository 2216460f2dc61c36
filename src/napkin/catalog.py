"""Fast look-up of one entry in a TOML catalog (``data/gpus.toml``, ``data/models.toml``).

Parsing a whole catalog with tomllib takes several milliseconds, a large share of a CLI run
that needs one entry. Each catalog keeps one table per entry, with ``name`` (or a quoted table
header) and an optional one-line ``aliases = [...]`` array, so a line scan finds the entry and
only its table is parsed. Tests check the scan against a full parse of every entry.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from typing import Any

__all__ = ["CatalogEntry", "index_catalog", "parse_entry", "scan_catalog"]

_HEADER = re.compile(r'^\[\[?\s*"?([^"\]]+?)"?\s*\]\]?\s*(?:#.*)?$')
_NAME = re.compile(r'^name\s*=\s*"([^"]+)"')
_ALIASES = re.compile(r"^aliases\s*=\s*\[(.*)\]")
_QUOTED = re.compile(r'"([^"]*)"')


@dataclass(frozen=True)
class CatalogEntry:
    """One table of a catalog: its name, aliases and the TOML text of the table."""

    name: str
    aliases: tuple[str, ...]
    text: str


def scan_catalog(text: str, array_name: str | None = None) -> list[CatalogEntry]:
    """Split catalog `text` into entries without parsing their values.

    With `array_name` (``gpu`` for ``[[gpu]]`` tables) the entry name is the table's ``name``
    key; otherwise it is the table header (``[llama-3-70b]`` or ``["llama-3.1-8b"]``).
    """
    entries: list[CatalogEntry] = []
    header: str | None = None
    lines: list[str] = []

    def close() -> None:
        if header is None:
            return
        name = header
        aliases: tuple[str, ...] = ()
        for line in lines:
            if array_name is not None and (match := _NAME.match(line)):
                name = match.group(1)
            elif match := _ALIASES.match(line):
                aliases = tuple(_QUOTED.findall(match.group(1)))
        entries.append(CatalogEntry(name, aliases, "\n".join(lines)))

    for line in text.splitlines():
        match = _HEADER.match(line) if line.startswith("[") else None
        if match:
            close()
            header, lines = match.group(1), []
        elif header is not None:
            lines.append(line)
    close()
    return entries


def index_catalog(path: str, array_name: str | None = None) -> dict[str, CatalogEntry]:
    """Read the catalog at `path` and map every entry name and alias to its entry."""
    with open(path, encoding="utf-8") as handle:
        entries = scan_catalog(handle.read(), array_name)
    names = {}
    for entry in entries:
        names[entry.name] = entry
        for alias in entry.aliases:
            names[alias] = entry
    return names


def parse_entry(entry: CatalogEntry) -> dict[str, Any]:
    """Parse one entry's table into a dict."""
    return tomllib.loads(entry.text)
