"""Fit default sequence, context and prompt lengths to a model's maximum positions.

A length the user did not give is lowered to what the model supports, so a short-window model
such as gpt2 (1,024 positions) works at the defaults. A length the user gave and that is too long
is rejected by the front end, which names its option or field in the message. Both rules apply
only when no long-context estimate was requested.
"""

from __future__ import annotations

from typing import Any


def exceeded_positions(arch: Any, tokens: int, allow_long_context: bool) -> int | None:
    """Return the model's maximum positions when `tokens` is longer than them, else None.

    None also when `arch` is None (a bare parameter count), when its config states no maximum, or
    when a long-context estimate was requested.
    """
    limit = getattr(arch, "max_position_embeddings", None)
    if not limit or tokens <= limit or allow_long_context:
        return None
    return limit


def fit_length(arch: Any, tokens: int, explicit: bool, allow_long_context: bool) -> int | None:
    """Return the length to estimate at: `tokens`, or the maximum positions for a default longer than them.

    Returns None for an `explicit` length (one the user gave) longer than the maximum positions,
    which the caller rejects.
    """
    limit = exceeded_positions(arch, tokens, allow_long_context)
    if limit is None:
        return tokens
    return None if explicit else limit


def prompt_room(arch: Any, prompt: int, output: int, allow_long_context: bool) -> int | None:
    """Return the longest prompt that leaves room for `output`, when prompt + output is longer
    than the model's maximum positions; None when the sum fits.

    The KV cache of a request stores both prompt and output, so their sum must fit. The result is
    0 or less when `output` alone fills the maximum positions.
    """
    limit = exceeded_positions(arch, prompt + output, allow_long_context)
    return None if limit is None else limit - output
