"""Names of a training layout's memory parts, and the compact layout label of the `napkin plan` table.

Shared by the command line's tables and the web page; imports nothing, so either front end may
load it at no cost.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MEMORY_LABELS", "compact_layout"]

MEMORY_LABELS = {
    "weights": "weights",
    "gradients": "gradients",
    "optimizer": "optimizer state",
    "activations": "activations (in flight)",
    "gathered_weights": "ZeRO-3 gathered blocks",
    "communication_buffers": "gradient bucket",
    "framework_reserve": "framework reserve",
}
"""Label of each key of `LayoutEstimate.memory_bytes`."""

_RECOMPUTE_SHORT = {"none": "none", "selective": "sel", "full": "full"}


def compact_layout(layout: Any) -> str:
    """Return a layout as ``tp8 pp4×2 dp32 Z1 sel mb1``, leaving out the parallel sizes of 1 (dp always shows)."""
    axes = [f"tp{layout.tp}"] if layout.tp > 1 else []
    if layout.pp > 1:
        axes.append(f"pp{layout.pp}" + (f"×{layout.interleave}" if layout.interleave > 1 else ""))
    axes.append(f"dp{layout.dp}")
    axes += [f"ep{layout.ep}"] if layout.ep > 1 else []
    axes += [f"cp{layout.cp}"] if layout.cp > 1 else []
    axes += [f"Z{layout.zero}", _RECOMPUTE_SHORT[layout.recompute], f"mb{layout.micro_batch}"]
    return " ".join(axes)
