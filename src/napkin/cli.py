"""The ``napkin`` command line: parses options, calls the core, prints tables or JSON.

Every result is computed by the pure core; this module only turns text into values and
results into text. Table output imports rich lazily so that ``--json`` stays fast.
"""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import click

from . import units
from .errors import NapkinError, OptionError, one_line
from .options import (
    BATCHES,
    COUNT,
    FRACTION,
    LENGTH,
    LENGTH_OR_ZERO,
    PARAMS,
    PRICE,
    TOKENS,
    WHOLE,
    binary_option,
    gpu_options,
    json_option,
)
from .options_layout import LAYOUT_PARAMS, layout_options

__all__ = ["main"]

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


# --- shared helpers ----------------------------------------------------------------------------


def _resolve_gpu(gpu_name: str | None, peak: float | None, bandwidth: float | None, hbm: float | None, required: bool = True):
    from .hardware import custom_gpu, get_gpu

    base = get_gpu(gpu_name) if gpu_name else None
    if base is None and not (peak and bandwidth and hbm):
        if not required and not (peak or bandwidth or hbm):
            return None
        if peak or bandwidth or hbm:
            missing = [flag for flag, value in (("--peak", peak), ("--bandwidth", bandwidth), ("--hbm", hbm)) if not value]
            raise OptionError(
                f"a custom GPU also needs {' and '.join(missing)} (or name a catalog GPU with --gpu to fill them in)"
            )
        raise OptionError("missing --gpu: name a GPU (run 'napkin gpus' to list them) or give --peak, --bandwidth and --hbm")
    if base is not None and not (peak or bandwidth or hbm):
        return base
    return custom_gpu(
        peak or base.bf16_flop_per_s,  # type: ignore[union-attr]
        bandwidth or base.hbm_bandwidth_bytes_per_s,  # type: ignore[union-attr]
        hbm or base.hbm_bytes,  # type: ignore[union-attr]
        base=base,
    )


def _load_model(spec: str | None, params: float | None, required_arch: str | None = None):
    """Return (arch, params): a model from a preset/config, or a bare parameter count."""
    from .presets import load_model

    if spec and params:
        raise OptionError(f"give a model ({spec!r}) or --params, not both")
    if spec:
        return load_model(spec), None
    if params:
        if required_arch:
            raise OptionError(f"{required_arch} needs an architecture: name a model or a config.json instead of --params")
        return None, params
    raise OptionError("missing model: name a preset (run 'napkin models'), a config.json path, or give --params such as 70B")


def _given(*names: str) -> list[str]:
    """Return the options among `names` (parameter names) that the user typed on the command line."""
    context = click.get_current_context()
    typed = []
    for name in names:
        if context.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE:
            param = next(p for p in context.command.params if p.name == name)
            typed.append(param.opts[0])
    return typed


def _subject(options: list[str], singular: str, plural: str) -> str:
    """Return "--a verb" or "--a, --b verbs", agreeing in number with the options named."""
    return f"{', '.join(options)} {singular if len(options) == 1 else plural}"


def _tokens(arch: Any, name: str, value: int, allow_long_context: bool) -> int:
    """Return a sequence or context length checked against the model's maximum positions.

    A default longer than the model's positions is lowered to them; a length the user typed is
    rejected unless --allow-long-context is given.
    """
    from .lengths import exceeded_positions

    limit = exceeded_positions(arch, value, allow_long_context)
    if limit is None:
        return value
    if not _given(name):
        return limit
    option = _given(name)[0]
    raise OptionError(
        f"{option} {value:,} is longer than {arch.name}'s maximum of {limit:,} positions; "
        f"shorten {option}, or pass --allow-long-context to estimate it anyway"
    )


def _emit_json(payload: dict[str, Any] | list[Any]) -> None:
    from .terminal import writes_symbols

    # \u escapes keep the JSON exact on a stream whose encoding lacks its symbols.
    sys.stdout.write(json.dumps(payload, indent=2, allow_nan=False, ensure_ascii=not writes_symbols(sys.stdout)) + "\n")


# --- the command group -------------------------------------------------------------------------


class NapkinGroup(click.Group):
    """A click group whose errors are one line on stderr with exit status 2, never a traceback."""

    def main(self, args: Any = None, prog_name: str | None = None, **extra: Any) -> NoReturn:  # type: ignore[override]
        from .terminal import tolerate_narrow_encodings

        tolerate_narrow_encodings()
        try:
            result = super().main(args=args, prog_name=prog_name or "napkin", standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as error:
            # Click's message here is the whole help page; keep the one-line contract instead.
            commands = ", ".join(sorted(self.commands))
            command = error.ctx.command_path
            _fail(f"missing command: choose one of {commands} (see '{command} --help')", command)
        except click.exceptions.Exit as done:
            sys.exit(done.exit_code)
        except click.exceptions.Abort as abort:
            if isinstance(abort.__cause__, KeyboardInterrupt):
                # Ctrl+C: click has ended the line; exit as shells report SIGINT, 128 + 2.
                sys.exit(130)
            _fail("aborted", status=1)
        except click.ClickException as error:
            _fail(*_click_message(error))
        except NapkinError as error:
            _fail(str(error), _command_path(args))
        except KeyboardInterrupt:
            sys.exit(130)
        except BrokenPipeError:
            sys.exit(1)
        except OSError as error:
            # Writing the output failed, e.g. to a full disk; nothing in the input can fix that.
            _fail(f"cannot write the output: {error.strerror or error}", _command_path(args), status=1)
        except RecursionError:
            _fail("input nested too deeply to process", _command_path(args))
        sys.exit(result if isinstance(result, int) else 0)


def _command_path(args: Any) -> str:
    """Return "napkin COMMAND" for the command named in `args`, or "napkin"."""
    argv = list(args) if args is not None else sys.argv[1:]
    first = next((a for a in argv if not a.startswith("-")), None)
    return f"napkin {first}" if first in main.commands else "napkin"


def _click_message(error: click.ClickException) -> tuple[str, str]:
    """Return the one-line message for a click error and the command path to prefix it with."""
    context = getattr(error, "ctx", None)
    command = context.command_path if context is not None else "napkin"
    message = error.format_message()
    # A bad value keeps its own message because that message already states the fix. Other usage
    # errors, such as a missing argument or an unknown option, point to the help page.
    if isinstance(error, click.BadParameter) and not isinstance(error, click.MissingParameter):
        if error.param is not None:
            message = f"{_param_label(error.param)}: {error.message}"
        return message, command
    if isinstance(error, click.UsageError):
        message += f" (see '{command} --help')"
    return message, command


def _param_label(param: click.Parameter) -> str:
    """Return ``--tokens`` for an option and ``MODEL`` for an argument."""
    if isinstance(param, click.Argument):
        return param.human_readable_name
    return "/".join(param.opts) or param.human_readable_name


def _fail(message: str, command: str = "napkin", status: int = 2) -> NoReturn:
    """Print `message` as one line on stderr, prefixed with the command, and exit."""
    sys.stderr.write(f"{command}: error: {one_line(message)}\n")
    sys.exit(status)


@click.group(cls=NapkinGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="napkin-ml", prog_name="napkin")
def main() -> None:
    """Napkin math for ML systems: FLOPs, memory, roofline and dollars for real model architectures.

    Every command prints a table and the derivation of each number; --json prints the same
    results as one JSON object in base units.
    """


# --- napkin model / models ----------------------------------------------------------------------


@main.command("model", short_help="Parameters, FLOPs/token, weights and KV bytes/token of a model.")
@click.argument("model")
@click.option("--seq", type=LENGTH, default="4096", show_default=True, help="Sequence length in tokens for the attention FLOPs (8k = 8,192).")
@click.option("--kv-dtype", type=click.Choice(["bf16", "fp16", "fp8", "int8", "fp32"]), default="bf16", show_default=True, help="KV-cache element type.")
@click.option("--int4-group-size", type=WHOLE, default="128", show_default=True, help="Weights per int4 quantisation group (one 16-bit scale and 4-bit zero point each).")
@click.option("--allow-long-context", is_flag=True, help="Estimate a context longer than the model's maximum positions.")
@json_option
@binary_option
def model_command(model: str, seq: int, kv_dtype: str, int4_group_size: int, allow_long_context: bool, as_json: bool, binary: bool) -> None:
    """Show a model's architecture, exact parameters, FLOPs/token, weights per dtype and KV bytes/token.

    MODEL is a preset name (see 'napkin models') or a path to a HuggingFace config.json.

    Example: napkin model llama-3-70b --seq 8k
    """
    from .presets import load_model
    from .summary import summarize_model

    arch = load_model(model)
    seq = _tokens(arch, "seq", seq, allow_long_context)
    summary = summarize_model(arch, seq, kv_dtype=kv_dtype, int4_group_size=int4_group_size)
    if as_json:
        _emit_json(summary.to_dict())
        return
    from .render import render_model

    render_model(summary, binary)


@main.command("models")
@json_option
def models_command(as_json: bool) -> None:
    """List the model presets with their sources.

    Example: napkin models
    """
    from .params import count_params
    from .presets import list_presets, load_model

    presets = list_presets()
    rows = []
    for preset in presets:
        counts = count_params(load_model(preset.name))
        rows.append(
            {
                "name": preset.name,
                "aliases": list(preset.aliases),
                "hf_id": preset.hf_id,
                "params_total": counts.total,
                "params_active": counts.active,
                "source": preset.source,
            }
        )
    if as_json:
        _emit_json({"models": rows})
        return
    from .render import render_models

    render_models(rows)


# --- napkin gpus ---------------------------------------------------------------------------------


@main.command("gpus", short_help="The GPU spec sheet: memory, bandwidth, peaks, ridge, price.")
@json_option
@binary_option
def gpus_command(as_json: bool, binary: bool) -> None:
    """Print the GPU spec sheet: memory, bandwidth, dense peaks, ridge point and a price default.

    Example: napkin gpus --json
    """
    from .hardware import list_gpus

    gpus = list_gpus()
    if as_json:
        _emit_json(
            [
                {
                    "name": gpu.name,
                    "display_name": gpu.display_name,
                    "aliases": list(gpu.aliases),
                    "hbm_bytes": gpu.hbm_bytes,
                    "hbm_reported_bytes": gpu.hbm_reported_bytes,
                    "hbm_cuda_bytes": gpu.hbm_cuda_bytes,
                    "hbm_bandwidth_bytes_per_s": gpu.hbm_bandwidth_bytes_per_s,
                    "bf16_flop_per_s": gpu.bf16_flop_per_s,
                    "fp8_flop_per_s": gpu.fp8_flop_per_s,
                    "int8_op_per_s": gpu.int8_op_per_s,
                    "ridge_flop_per_byte": gpu.ridge_flop_per_byte,
                    "intra_node_bytes_per_s": gpu.intra_node_bytes_per_s,
                    "inter_node_bytes_per_s": gpu.inter_node_bytes_per_s,
                    "gpus_per_node": gpu.gpus_per_node,
                    "usd_per_hour": gpu.usd_per_hour,
                    "source": gpu.source,
                    "as_of": gpu.as_of,
                }
                for gpu in gpus
            ]
        )
        return
    from .render import render_gpus

    render_gpus(gpus, binary)


# --- napkin train --------------------------------------------------------------------------------


@main.command("train", short_help="Training compute, wall-clock, GPU-hours and cost; one parallel layout.")
@click.argument("model", required=False)
@click.option("--params", type=PARAMS, help="Bare parameter count instead of a model, e.g. 70B.")
@click.option("--tokens", type=TOKENS, required=True, help="Training tokens D, e.g. 15T.")
@gpu_options(required=True)
@click.option("--gpus", type=WHOLE, default="1", show_default=True, help="Number of GPUs (with a layout: tp · cp · dp · pp, or omit it).")
@click.option("--mfu", type=FRACTION, default="40%", show_default=True, help="Model FLOPs utilisation, e.g. 40% or 0.4 (with a layout: replaces the modelled step time).")
@click.option("--price", type=PRICE, help="USD per GPU-hour, e.g. 2 or $2/hr [default: the GPU's catalog rate].")
@click.option("--seq", type=LENGTH, help="Sequence length: count attention with PaLM's 6N + 12·L·H·Q·T (needs a model); with a layout, tokens per sequence [default: 8192, as in napkin plan].")
@click.option("--allow-long-context", is_flag=True, help="Estimate a context longer than the model's maximum positions.")
@layout_options
@json_option
def train_command(model, params, tokens, gpu_name, peak, bandwidth, hbm, gpus, mfu, price, seq, allow_long_context, as_json, **layout) -> None:
    """Estimate a training run's compute, wall-clock, GPU-hours and cost from 6·N·D.

    With a parallel layout (--tp, --pp, --dp, --zero, --micro-batch, --global-batch, ...), also
    memory per GPU, step time, MFU and HFU of that layout.

    Example: napkin train llama-3-70b --tokens 15T --gpu h100 --gpus 1024 --mfu 40% --price 2

    Example: napkin train llama-3-70b --tokens 15T --gpu h100 --gpus 1024 --tp 8 --pp 4 --dp 32 --zero 1 --micro-batch 1 --global-batch 4M --seq 8k --recompute selective
    """
    from .training import training_bill

    layout_given = _given(*LAYOUT_PARAMS)
    if layout_given:
        from .cli_plan import train_with_layout

        train_with_layout(model, params, tokens, gpu_name, peak, bandwidth, hbm, gpus, mfu, price, seq, allow_long_context, as_json, layout)
        return
    arch, bare = _load_model(model, params, required_arch="--seq" if seq else None)
    gpu = _resolve_gpu(gpu_name, peak, bandwidth, hbm)
    price = _price(gpu, price)
    per_token, formula = None, "6 · N"
    if arch is not None:
        from .params import count_params

        n = count_params(arch).active
        if seq:
            from .training import palm_flop_per_token

            seq = _tokens(arch, "seq", seq, allow_long_context)
            per_token, formula = palm_flop_per_token(arch, seq)
    else:
        n = bare
    if allow_long_context and not seq:
        raise OptionError("--allow-long-context applies to a typed --seq: add one or drop the flag")
    bill = training_bill(n, tokens, gpus, gpu.bf16_flop_per_s, mfu, price, per_token, formula)
    if as_json:
        payload = {"model": arch.name if arch else None, "gpu": gpu.name, **bill.to_dict()}
        _emit_json(payload)
        return
    from .render import render_training

    render_training(bill, arch.name if arch else f"{units.format_count(n)} parameters", gpu)


def _price(gpu: Any, price: float | None) -> float:
    """Return the typed price, or the GPU's catalog rate."""
    if price is not None:
        return price
    if gpu.usd_per_hour is None:
        raise OptionError(f"no price for {gpu.name}: give --price in USD per GPU-hour, e.g. --price 2")
    return gpu.usd_per_hour


# --- napkin memory -------------------------------------------------------------------------------


@main.command("memory", short_help="Memory per GPU: weights, optimizer, gradients, activations, KV.")
@click.argument("model", required=False)
@click.option("--params", type=PARAMS, help="Bare parameter count instead of a model, e.g. 70B.")
@click.option("--train", "mode", flag_value="train", help="Training memory: weights, gradients, optimizer, activations.")
@click.option("--infer", "mode_infer", is_flag=True, help="Inference memory: weights, KV cache, activations.")
@gpu_options(required=True)
@click.option("--optimizer", type=click.Choice(["adam", "adam-fp32", "adam-8bit", "sgd", "sgd-fp32"]), default="adam", show_default=True, help="Optimizer and precision (adam = mixed-precision Adam, 16 bytes/param).")
@click.option("--zero", type=click.IntRange(0, 3), default=0, show_default=True, help="ZeRO stage: 1 shards optimizer state, 2 also gradients, 3 also weights.")
@click.option("--fsdp", is_flag=True, help="FSDP full sharding (same memory as --zero 3).")
@click.option("--dp", type=WHOLE, default="1", show_default=True, help="Data-parallel size that ZeRO/FSDP shards over.")
@click.option("--tp", type=WHOLE, default="1", show_default=True, help="Tensor-parallel size (divides weights and most activations).")
@click.option("--sp", "sequence_parallel", is_flag=True, help="Sequence parallelism with --tp (divides the remaining activations).")
@click.option("--batch", type=WHOLE, default="1", show_default=True, help="Micro-batch size in sequences (training).")
@click.option("--seq", type=LENGTH, default="4096", show_default=True, help="Training sequence length in tokens (8k = 8,192).")
@click.option("--recompute", type=click.Choice(["none", "selective", "full"]), default="none", show_default=True, help="Activation recomputation, as in Korthikanti et al. 2022 (assumes no dropout).")
@click.option("--attention", "attention_kernel", type=click.Choice(["flash", "eager"]), default="flash", show_default=True, help="Attention kernel: flash keeps no s×s scores; eager keeps the softmax output.")
@click.option("--saved-tensors", type=click.Choice(["fused", "transformers"]), default="fused", show_default=True, help="What is kept for backward: fused kernels (Korthikanti et al. 2022) or transformers' eager code, as napkin verify measures it.")
@click.option("--context", type=LENGTH, default="4096", show_default=True, help="Inference context per request in tokens.")
@click.option("--requests", type=WHOLE, default="1", show_default=True, help="Concurrent requests (inference).")
@click.option("--gpus", type=WHOLE, default="1", show_default=True, help="GPUs sharing weights and KV cache (inference, tensor parallel).")
@click.option("--dtype", "weights_dtype", type=click.Choice(["fp32", "bf16", "fp16", "fp8", "int8", "int4"]), default="bf16", show_default=True, help="Weight type for inference.")
@click.option("--kv-dtype", type=click.Choice(["bf16", "fp16", "fp8", "int8", "fp32"]), default="bf16", show_default=True, help="KV-cache element type.")
@click.option("--int4-group-size", type=WHOLE, default="128", show_default=True, help="Weights per int4 quantisation group (one 16-bit scale and 4-bit zero point each).")
@click.option("--allow-long-context", is_flag=True, help="Estimate a context longer than the model's maximum positions.")
@json_option
@binary_option
def memory_command(model, params, mode, mode_infer, gpu_name, peak, bandwidth, hbm, optimizer, zero, fsdp, dp, tp, sequence_parallel,
                   batch, seq, recompute, attention_kernel, saved_tensors, context, requests, gpus, weights_dtype, kv_dtype, int4_group_size,
                   allow_long_context, as_json, binary) -> None:
    """Estimate GPU memory per GPU: weights, optimizer state, gradients, activations, KV cache.

    Example: napkin memory llama-3-70b --train --gpu h100 --zero 3 --dp 64 --batch 1 --seq 8k --recompute full
    """
    from .fit import inference_memory, training_memory

    if mode == "train" and mode_infer:
        raise OptionError("--train and --infer contradict each other: choose one")
    if mode != "train" and not mode_infer:
        raise OptionError("choose --train or --infer")
    training_only = _given("optimizer", "zero", "fsdp", "dp", "tp", "sequence_parallel", "batch", "seq", "recompute", "attention_kernel", "saved_tensors")
    inference_only = _given("context", "requests", "gpus", "weights_dtype", "kv_dtype", "int4_group_size")
    if mode == "train" and inference_only:
        them = "it" if len(inference_only) == 1 else "them"
        raise OptionError(f"{_subject(inference_only, 'applies', 'apply')} to --infer, not --train: drop {them}")
    if mode_infer and training_only:
        them = "it" if len(training_only) == 1 else "them"
        hint = " (use --gpus to split the weights over GPUs)" if "--tp" in training_only else ""
        raise OptionError(f"{_subject(training_only, 'applies', 'apply')} to --train, not --infer: drop {them}{hint}")
    if fsdp:
        if _given("zero") and zero != 3:
            raise OptionError(f"--fsdp shards like ZeRO stage 3 and contradicts --zero {zero}: drop one of them")
        zero = 3
    if zero and not _given("dp"):
        raise OptionError(f"ZeRO stage {zero} shards over data-parallel ranks: add --dp N")
    if sequence_parallel and tp < 2:
        raise OptionError("--sp needs tensor parallelism: add --tp N with N ≥ 2")
    arch, bare = _load_model(model, params)
    needs_arch = _given("seq", "batch", "recompute", "attention_kernel", "saved_tensors") if mode == "train" else []
    if arch is None and needs_arch:
        raise OptionError(
            f"{_subject(needs_arch, 'sets', 'set')} activations, which need an architecture: "
            "name a model or a config.json instead of --params"
        )
    length_option = "seq" if mode == "train" else "context"
    if _given("allow_long_context") and not _given(length_option):
        raise OptionError(f"--allow-long-context applies to a typed --{length_option}: add one or drop the flag")
    if arch is None and _given("context", "requests", "kv_dtype", "allow_long_context"):
        raise OptionError("the KV cache and context checks need an architecture: name a model or a config.json instead of --params")
    if weights_dtype != "int4" and _given("int4_group_size"):
        raise OptionError("--int4-group-size applies to --dtype int4 only: drop it or add --dtype int4")
    gpu = _resolve_gpu(gpu_name, peak, bandwidth, hbm)
    if mode == "train":
        seq = _tokens(arch, "seq", seq, allow_long_context)
        estimate = training_memory(
            gpu, params=bare, arch=arch, optimizer=optimizer, zero_stage=zero, dp=dp, micro_batch=batch, seq=seq,
            recompute=recompute, attention_kernel=attention_kernel, tp=tp, sequence_parallel=sequence_parallel,
            saved_tensors=saved_tensors, binary=binary,
        )
    else:
        context = _tokens(arch, "context", context, allow_long_context)
        estimate = inference_memory(
            gpu, params=bare, arch=arch, context=context, requests=requests, weights_dtype=weights_dtype, kv_dtype=kv_dtype,
            gpus=gpus, int4_group_size=int4_group_size, binary=binary,
        )
    if as_json:
        _emit_json({"model": arch.name if arch else None, **estimate.to_dict()})
        return
    from .render import render_memory

    render_memory(estimate, arch.name if arch else f"{units.format_count(bare)} parameters", binary)


# --- napkin kv -----------------------------------------------------------------------------------


@main.command("kv", short_help="KV-cache bytes, and the requests that fit beside the weights.")
@click.argument("model")
@click.option("--context", type=LENGTH, required=True, help="Context per request in tokens (8k = 8,192).")
@gpu_options(required=False)
@click.option("--gpus", type=WHOLE, default="1", show_default=True, help="GPUs holding one copy of the weights.")
@click.option("--requests", type=WHOLE, help="Concurrent requests: also report the fewest GPUs that hold them.")
@click.option("--dtype", "weights_dtype", type=click.Choice(["fp32", "bf16", "fp16", "fp8", "int8", "int4"]), default="bf16", show_default=True, help="Weight type.")
@click.option("--kv-dtype", type=click.Choice(["bf16", "fp16", "fp8", "int8", "fp32"]), default="bf16", show_default=True, help="KV-cache element type.")
@click.option("--int4-group-size", type=WHOLE, default="128", show_default=True, help="Weights per int4 quantisation group (one 16-bit scale and 4-bit zero point each).")
@click.option("--allow-long-context", is_flag=True, help="Estimate a context longer than the model's maximum positions.")
@json_option
@binary_option
def kv_command(model, context, gpu_name, peak, bandwidth, hbm, gpus, requests, weights_dtype, kv_dtype, int4_group_size,
               allow_long_context, as_json, binary) -> None:
    """KV-cache bytes per token and per request, and, with --gpu, how many requests fit beside the weights.

    Example: napkin kv llama-3-70b --context 8k --gpu h100 --gpus 2
    """
    from .kv import kv_capacity, kv_size
    from .presets import load_model

    arch = load_model(model)
    context = _tokens(arch, "context", context, allow_long_context)
    gpu = _resolve_gpu(gpu_name, peak, bandwidth, hbm, required=False)
    if gpu is None:
        needs_gpu = _given("gpus", "requests", "weights_dtype", "int4_group_size")
        if needs_gpu:
            raise OptionError(f"{_subject(needs_gpu, 'needs', 'need')} a GPU: add --gpu NAME (run 'napkin gpus' to list them)")
        size = kv_size(arch, context, kv_dtype, binary)
        if as_json:
            _emit_json({"model": arch.name, **size.to_dict()})
            return
        from .render import render_kv_size

        render_kv_size(size, arch.name, binary)
        return
    if weights_dtype != "int4" and _given("int4_group_size"):
        raise OptionError("--int4-group-size applies to --dtype int4 only: drop it or add --dtype int4")
    capacity = kv_capacity(
        arch, gpu, context, gpus=gpus, weights_dtype=weights_dtype, kv_dtype=kv_dtype, requests=requests,
        int4_group_size=int4_group_size, binary=binary,
    )
    if as_json:
        _emit_json({"model": arch.name, **capacity.to_dict()})
        return
    from .render import render_kv

    render_kv(capacity, arch.name, binary)


# --- napkin roofline -----------------------------------------------------------------------------


@main.command("roofline", short_help="Ridge point, and where prefill and decode sit on the roofline.")
@gpu_options(required=True)
@click.option("--model", "model", help="Model preset or config.json to place on the roofline.")
@click.option("--batch", "batches", type=BATCHES, default="1", show_default=True, help="Batch sizes, comma-separated (e.g. 1,8,64,512).")
@click.option("--context", type=LENGTH_OR_ZERO, default="0", show_default=True, help="Cached tokens per request read in each decode step (0: weights only).")
@click.option("--prompt", type=LENGTH, default="2048", show_default=True, help="Prompt tokens per request for the prefill point.")
@click.option("--allow-long-context", is_flag=True, help="Estimate a context longer than the model's maximum positions.")
@json_option
def roofline_command(gpu_name, peak, bandwidth, hbm, model, batches, context, prompt, allow_long_context, as_json) -> None:
    """Ridge point of a GPU, and where a model's prefill and decode steps sit on its roofline.

    Example: napkin roofline --gpu h100 --model llama-3-8b --batch 1,8,64,512
    """
    from .roofline import analyze_roofline

    gpu = _resolve_gpu(gpu_name, peak, bandwidth, hbm)
    needs_model = _given("batches", "context", "prompt", "allow_long_context")
    if not model and needs_model:
        raise OptionError(f"{_subject(needs_model, 'needs', 'need')} a model to place on the roofline: add --model NAME")
    arch = None
    if model:
        from .presets import load_model

        arch = load_model(model)
    if arch is not None:
        context = _tokens(arch, "context", context, allow_long_context)
        prompt = _tokens(arch, "prompt", prompt, allow_long_context)
    result = analyze_roofline(gpu, arch, tuple(batches), context, prompt)
    if as_json:
        _emit_json({"model": arch.name if arch else None, **result.to_dict()})
        return
    from .render import render_roofline

    render_roofline(result, arch.name if arch else None)


# --- napkin serve-cost ---------------------------------------------------------------------------


@main.command("serve-cost", short_help="$ per million tokens from tokens/s per GPU and $/GPU-hour.")
@click.option("--tokens-per-s", type=COUNT, required=True, help="Sustained tokens per second per GPU.")
@click.option("--price", type=PRICE, help="USD per GPU-hour [default: the --gpu's catalog rate].")
@click.option("--gpu", "gpu_name", metavar="NAME", help="GPU whose catalog price to use.")
@json_option
def serve_cost_command(tokens_per_s, price, gpu_name, as_json) -> None:
    """Serving cost in $ per million tokens from throughput per GPU and $/GPU-hour.

    Example: napkin serve-cost --tokens-per-s 2500 --price 2
    """
    from .hardware import get_gpu
    from .serving import serving_cost

    gpu = get_gpu(gpu_name) if gpu_name else None
    if price is None:
        if gpu is None:
            raise OptionError("missing price: give --price in USD per GPU-hour or --gpu for its catalog rate")
        if gpu.usd_per_hour is None:
            raise OptionError(f"no price for {gpu.name}: give --price")
        price = gpu.usd_per_hour
    cost = serving_cost(tokens_per_s, price)
    if as_json:
        _emit_json(cost.to_dict())
        return
    from .render import render_serving

    render_serving(cost)


# Commands that live in their own modules register themselves on `main` when imported.
# Each of these modules imports only click and the core at import time.
from . import cli_plan, cli_serve, cli_verify, cli_web  # noqa: E402,F401

if __name__ == "__main__":  # pragma: no cover
    main()
