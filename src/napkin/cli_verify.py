"""`napkin verify`: measure the estimates with PyTorch and print estimate, measurement and error.

Only click and light napkin modules are imported here; torch and transformers are imported
when the command runs.
"""

from __future__ import annotations

import os
from typing import Any

import click

from .cli import _emit_json, main
from .errors import OptionError
from .options import LENGTH, WHOLE, json_option


def _load_config(spec: str) -> tuple[dict[str, Any], Any]:
    """Return the config.json dict of a preset or a path, and the model's architecture.

    `load_model` runs first so that a bad name or file fails with its usual one-line message.
    """
    from .hf import load_config_text
    from .presets import load_model, resolve_preset

    arch = load_model(spec)
    if spec.endswith(".json") or os.sep in spec or "/" in spec or os.path.isdir(spec):
        path = os.path.join(spec, "config.json") if os.path.isdir(spec) else spec
        with open(path, "rb") as handle:
            return load_config_text(handle.read(), path), arch
    return resolve_preset(spec).config(), arch


def _format(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.4g}"


def _render(report: Any) -> None:
    click.echo(
        f"{report.model}: seq {report.seq:,}, batch {report.batch}, "
        f"FLOPs measured on {report.layers_measured} of {report.layers_total} layers"
    )
    header = ("quantity", "estimate", "measured", "error", "tolerance", "")
    lines = [header]
    for row in report.rows:
        lines.append((
            row.quantity,
            _format(row.estimate),
            _format(row.measured),
            f"{row.relative_error * 100:+.3f}%",
            f"±{row.tolerance * 100:g}%",
            "ok" if row.passed else "OVER",
        ))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        cells = [line[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(line[1:-1], widths[1:-1])]
        click.echo("  ".join(cells + [line[-1]]).rstrip())
    notes = [f"{row.quantity}: {row.note}" for row in report.rows if row.note] + list(report.notes)
    if notes:
        click.echo("Notes")
        for note in notes:
            click.echo(f"  {note}")


@main.command("verify", short_help="Measure the estimates with PyTorch: estimate, measured, error.")
@click.argument("model")
@click.option("--seq", type=LENGTH, default="512", show_default=True, help="Sequence length in tokens (2k = 2,048).")
@click.option("--batch", type=WHOLE, default="1", show_default=True, help="Sequences per batch.")
@click.option(
    "--layers",
    type=WHOLE,
    default=None,
    help="Measure on an N-layer copy (at least one block of each kind) and scale back per layer "
    "[default: all layers for FLOPs, two blocks of each kind for bytes].",
)
@click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "meta"]),
    default="auto",
    show_default=True,
    help="Where byte measurements run: cpu, meta (shapes only, no memory), or auto (CPU while the copy fits in 3 GB and batch · seq² is at most 4 · 4096²).",
)
@json_option
def verify_command(model: str, seq: int, batch: int, layers: int | None, device: str, as_json: bool) -> int:
    """Build MODEL in PyTorch and measure what napkin estimates.

    Parameters, FLOPs per token (FlopCounterMode), KV-cache bytes, optimizer and gradient bytes
    (a real optimizer step) and activation bytes per layer (saved-tensor hooks) are printed
    beside their estimates. Exits 1 when an error exceeds its tolerance. Needs
    pip install 'napkin-ml[verify]'.

    Example: napkin verify llama-3.2-1b --seq 512 --layers 2
    """
    from .verify import require_torch, verify_model

    # Every input is checked before torch is imported, which takes seconds.
    config, arch = _load_config(model)
    # A real forward pass past the model's positions fails inside transformers, so reject it here.
    limit = arch.max_position_embeddings
    if limit and seq > limit:
        raise OptionError(f"--seq {seq:,} is longer than {arch.name}'s maximum of {limit:,} positions; use --seq {limit:,} or less")
    if layers is not None and layers > arch.num_layers:
        raise OptionError(
            f"--layers {layers:,} is more than the {arch.num_layers:,} layers of {arch.name}: use {arch.num_layers:,} or fewer, or drop --layers"
        )
    require_torch()
    report = verify_model(config, arch.name, seq, batch, layers, device)
    if as_json:
        _emit_json(report.to_dict())
    else:
        _render(report)
    return 0 if report.passed else 1
