"""Domain exceptions.

Every exception that bad user input can raise derives from `NapkinError`, a `ValueError`
whose message is one line: the value, what is valid, and the fix. Front ends print that line
and exit with status 2.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = [
    "ConfigError",
    "NapkinError",
    "OptionError",
    "UnitError",
    "UnknownNameError",
    "closest_names",
    "one_line",
]

# Maximum length of a word that an error echoes whole. A longer word, such as a pasted file, is cut
# in the middle so that the message stays readable.
_MAX_ECHO_CHARS = 200



class NapkinError(ValueError):
    """Raised when an input is invalid; the message names the value and the fix."""


class UnitError(NapkinError):
    """Raised when a quantity such as ``70B``, ``80GB`` or ``40%`` cannot be parsed."""


class ConfigError(NapkinError):
    """Raised when a model config.json is malformed, incomplete or of an unsupported type."""


class OptionError(NapkinError):
    """Raised when options contradict each other or a value is out of its valid range."""


class UnknownNameError(NapkinError):
    """Raised when a model or GPU name is not in the catalog; suggests the closest names.

    `known` is either the valid names or a mapping from each name and alias to its canonical
    name. With a mapping, at most one suggestion is made per canonical name.
    """

    def __init__(self, kind: str, name: str, known: Iterable[str] | Mapping[str, str], list_command: str) -> None:
        canonical = dict(known) if isinstance(known, Mapping) else {k: k for k in known}
        matches = _distinct_targets(closest_names(name, sorted(canonical), count=len(canonical)), canonical)[:3]
        hint = f"did you mean {' or '.join(repr(m) for m in matches)}?" if matches else ""
        listing = f"run '{list_command}' to list them"
        message = f"unknown {kind} {name!r}: {hint + ' ' if hint else ''}{listing}"
        super().__init__(message)
        self.name = name
        self.suggestions = tuple(matches)


def closest_names(name: str, known: Iterable[str], count: int = 3) -> list[str]:
    """Return up to `count` names from `known` that are spelled most like `name`."""
    import difflib  # only error paths need it, so the CLI does not load it on every run

    known = list(known)
    lowered = name.lower()
    matches = difflib.get_close_matches(lowered, known, n=count, cutoff=0.6)
    if not matches:
        # difflib's ratio misses one typo in a short name ("t4" scores 0.5 against "l4").
        matches = [k for k in known if lowered and _one_edit_apart(lowered, k)][:count]
    if not matches and len(lowered) >= 2 and any(char.isalnum() for char in lowered):
        # One character, or punctuation such as "-", is a substring of most names and suggests nothing useful.
        matches = [k for k in known if lowered in k or k in lowered][:count]
    return matches


def _one_edit_apart(a: str, b: str) -> bool:
    """Return whether one substitution, insertion or deletion turns `a` into `b`."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    prefix = 0
    while prefix < min(len(a), len(b)) and a[prefix] == b[prefix]:
        prefix += 1
    if len(a) == len(b):
        return a[prefix + 1:] == b[prefix + 1:]
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return longer[prefix + 1:] == shorter[prefix:]


def _distinct_targets(names: list[str], canonical: Mapping[str, str]) -> list[str]:
    """Keep the first of `names` for each canonical name, so an alias never repeats its model."""
    seen: set[str] = set()
    distinct = []
    for name in names:
        if canonical[name] not in seen:
            seen.add(canonical[name])
            distinct.append(name)
    return distinct


def one_line(message: str) -> str:
    """Return `message` on one line, each run of whitespace made one space and each word longer
    than 200 characters cut in the middle to its ends and its length."""
    words = str(message).split()
    for i, word in enumerate(words):
        if len(word) > _MAX_ECHO_CHARS:
            words[i] = f"{word[:120]}…[{len(word):,} characters]…{word[-40:]}"
    return " ".join(words)
