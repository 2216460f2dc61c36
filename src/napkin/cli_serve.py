"""Serving: `napkin serve-size` and `napkin latency`."""

from __future__ import annotations

import re
from typing import Any

import click

from .errors import OptionError, UnitError
from .options import BATCHES, BYTES, COUNT, FRACTION, LENGTH, PRICE, WHOLE, UnitType, binary_option, json_option

_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*(ms|s|us|µs)?\s*$", re.IGNORECASE)


def parse_duration(text: str, what: str = "time") -> float:
    """Parse a time in seconds: ``50ms`` → 0.05, ``0.05s`` → 0.05, ``200us`` → 0.0002; a bare number is seconds."""
    match = _DURATION.match(str(text))
    if not match:
        raise UnitError(f"invalid {what} {text!r}: expected a time such as 50ms or 0.05s")
    scale = {"ms": 1e-3, "s": 1.0, "us": 1e-6, "µs": 1e-6, None: 1.0}[match.group(2) and match.group(2).lower()]
    value = float(match.group(1)) * scale
    if not value > 0:
        raise UnitError(f"invalid {what} {text!r}: must be greater than zero, e.g. 50ms")
    return value


DURATION = UnitType("TIME", parse_duration, "time")
WEIGHT_DTYPES = click.Choice(["bf16", "fp16", "fp8", "int8", "int4", "mxfp4"])
KV_DTYPES = click.Choice(["bf16", "fp16", "fp8", "int8"])


def _main() -> Any:
    from .cli import main

    return main


def _engine_options(func: Any) -> Any:
    options = [
        click.option("--engine", type=click.Choice(["vllm", "plain"]), default="vllm", show_default=True, help="Accounting: vllm subtracts what vLLM's start-up profiling does; plain uses the nominal memory with no overheads."),
        click.option("--gpu-memory-utilization", "utilization", type=FRACTION, help="Fraction of GPU memory the engine may use [default: 0.9 for vllm, 1 for plain]."),
        click.option("--gpu-total", "gpu_total", type=BYTES, help="GPU memory total the engine starts from, e.g. 79.2GiB [default: the catalog's CUDA-visible figure]."),
        click.option("--block-size", type=WHOLE, default="16", show_default=True, help="Tokens per KV-cache block."),
        click.option("--max-num-batched-tokens", type=WHOLE, default="2048", show_default=True, help="Tokens in vLLM's profiling pass (its scheduler's token budget)."),
        click.option("--max-num-seqs", type=WHOLE, default="256", show_default=True, help="Sequences in vLLM's profiling sampler pass."),
        click.option("--non-torch-memory", "non_torch", type=BYTES, help="CUDA memory outside PyTorch per GPU, e.g. 0.35GiB [default: 0.15 GiB, 0.40 GiB with tp > 1]."),
        click.option("--activation-peak", type=BYTES, help="Activation peak of the profiling pass per GPU, e.g. 1.2GiB [default: estimated]."),
        click.option("--cuda-graph-memory", type=BYTES, help="CUDA-graph memory to subtract per GPU [default: 0, as vLLM 0.10 does]."),
        click.option("--kv-cache-memory", type=BYTES, help="KV-cache bytes per GPU, skipping the profiling estimate, e.g. 32GiB."),
        click.option("--weights-dtype", type=WEIGHT_DTYPES, default="bf16", show_default=True, help="Weight type of the linear layers (embeddings stay bf16)."),
        click.option("--kv-dtype", type=KV_DTYPES, default="bf16", show_default=True, help="KV-cache element type."),
        click.option("--int4-group-size", type=WHOLE, default="128", show_default=True, help="Weights per int4 group (one 16-bit scale and 4-bit zero point each)."),
        click.option("--gpus", type=WHOLE, default="1", show_default=True, help="GPUs in all; replicas are gpus ÷ tp."),
        click.option("--tp", type=WHOLE, help="Tensor-parallel size of one replica [default: --gpus]."),
        click.option("--ep", type=WHOLE, default="1", show_default=True, help="Expert-parallel size: each GPU keeps E ÷ ep whole experts."),
        click.option("--allow-long-context", is_flag=True, help="Estimate a context longer than the model's maximum positions."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _settings(engine, utilization, gpu_total, block_size, max_num_batched_tokens, max_num_seqs, non_torch, activation_peak, cuda_graph_memory, kv_cache_memory):
    from .engine import EngineSettings

    if engine == "plain":
        from .cli import _given

        vllm_only = _given("gpu_total", "max_num_batched_tokens", "max_num_seqs", "non_torch", "activation_peak", "cuda_graph_memory")
        if vllm_only:
            raise OptionError(f"{', '.join(vllm_only)} set vLLM's overheads, which --engine plain leaves out: drop them or use --engine vllm")
    return EngineSettings(
        engine=engine,
        gpu_memory_utilization=utilization,
        gpu_total_bytes=gpu_total,
        max_num_batched_tokens=max_num_batched_tokens,
        max_num_seqs=max_num_seqs,
        non_torch_bytes=non_torch,
        activation_peak_bytes=activation_peak,
        cuda_graph_bytes=cuda_graph_memory or 0.0,
        kv_cache_memory_bytes=kv_cache_memory,
        block_size=block_size,
    )


def _context(arch: Any, context: int | None, max_model_len: int | None, allow_long_context: bool) -> int:
    """Return the context per request: --context, or --max-model-len, or the model's maximum positions."""
    from .cli import _tokens

    if context and max_model_len and context != max_model_len:
        raise OptionError(f"--context {context:,} and --max-model-len {max_model_len:,} differ: give one of them")
    if context:
        return _tokens(arch, "context", context, allow_long_context)
    if max_model_len:
        return _tokens(arch, "max_model_len", max_model_len, allow_long_context)
    if not arch.max_position_embeddings:
        raise OptionError(f"{arch.name} has no maximum positions in its config: give --context, e.g. --context 8k")
    return arch.max_position_embeddings


def _request_tokens(arch: Any, prompt: int, output: int, allow_long_context: bool) -> int:
    """Return --prompt after checking it, and prompt + output, against the model's maximum positions.

    The KV cache of a request stores both, so their sum must fit. A default --prompt is lowered
    to leave room for --output, so a short-window model such as gpt2 works without options. A
    default --output is never shortened, because the tables print the output length they were given.
    """
    from .cli import _given, _tokens
    from .lengths import prompt_room

    prompt = _tokens(arch, "prompt", prompt, allow_long_context)
    room = prompt_room(arch, prompt, output, allow_long_context)
    if room is None:
        return prompt
    limit = arch.max_position_embeddings
    if room < 1:
        raise OptionError(
            f"--output {output:,} leaves no room for a prompt in {arch.name}'s maximum of {limit:,} positions; "
            f"use --output {limit - 1:,} or fewer, or pass --allow-long-context to estimate it anyway"
        )
    if not _given("prompt"):
        return room
    fixes = [f"--{name} to {value:,}" for name, value in (("prompt", limit - output), ("output", limit - prompt)) if value >= 1]
    raise OptionError(
        f"--prompt {prompt:,} plus --output {output:,} is {prompt + output:,} tokens, longer than {arch.name}'s maximum of "
        f"{limit:,} positions; shorten {' or '.join(fixes) or '--prompt and --output'}, or pass --allow-long-context to estimate it anyway"
    )


def _gpu_list(text: str) -> list[Any]:
    from .hardware import get_gpu

    names = [name.strip() for name in text.split(",")]
    if any(not name for name in names):
        raise OptionError(f"invalid --gpu {text!r}: empty name in the list; give names separated by commas, e.g. h100,h200")
    # An alias or a repeated name would list the same GPU type twice.
    return list({gpu.name: gpu for gpu in map(get_gpu, names)}.values())


@_main().command("serve-size", short_help="Weights and KV per GPU, KV tokens, concurrency; inverse questions.")
@click.argument("model")
@click.option("--gpu", "gpu_names", metavar="NAME[,NAME]", required=True, help="GPU from 'napkin gpus'; with --cheapest, a comma-separated list.")
@click.option("--context", type=LENGTH, help="Context per request in tokens (8k = 8,192) [default: the model's maximum].")
@click.option("--max-model-len", type=LENGTH, help="vLLM's name for --context.")
@click.option("--max-context", "max_context", is_flag=True, help="Report the longest context that fits at --batch requests.")
@click.option("--batch", type=WHOLE, default="1", show_default=True, help="Concurrent requests for --max-context.")
@click.option("--qps", type=COUNT, help="Requests per second to serve (with --cheapest).")
@click.option("--tpot", type=DURATION, help="Time-per-output-token target, e.g. 50ms (with --cheapest).")
@click.option("--cheapest", is_flag=True, help="Find the cheapest fleet per GPU type for --qps at --tpot.")
@click.option("--prompt", type=LENGTH, default="2048", show_default=True, help="Prompt tokens per request (with --cheapest).")
@click.option("--output", "output_tokens", type=LENGTH, default="512", show_default=True, help="Output tokens per request (with --cheapest).")
@_engine_options
@json_option
@binary_option
def serve_size_command(model, gpu_names, context, max_model_len, max_context, batch, qps, tpot, cheapest, prompt, output_tokens,
                       engine, utilization, gpu_total, block_size, max_num_batched_tokens, max_num_seqs, non_torch, activation_peak,
                       cuda_graph_memory, kv_cache_memory, weights_dtype, kv_dtype, int4_group_size, gpus, tp, ep,
                       allow_long_context, as_json, binary) -> None:
    """Weights per GPU, KV budget, KV-cache tokens and blocks, max concurrency and longest context.

    With --engine vllm (the default) the figures are those vLLM prints at start-up. With --qps,
    --tpot and --cheapest: the GPUs needed per GPU type and the cheapest fleet.

    Example: napkin serve-size llama-3-8b --gpu a100-80gb --gpu-memory-utilization 0.9 --max-model-len 8192
    """
    from .cli import _emit_json, _given
    from .presets import load_model

    arch = load_model(model)
    settings = _settings(engine, utilization, gpu_total, block_size, max_num_batched_tokens, max_num_seqs, non_torch, activation_peak, cuda_graph_memory, kv_cache_memory)
    if weights_dtype != "int4" and _given("int4_group_size"):
        raise OptionError("--int4-group-size applies to --weights-dtype int4 only: drop it or add --weights-dtype int4")
    if cheapest or qps is not None or tpot is not None:
        if not (cheapest and qps is not None and tpot is not None):
            raise OptionError("--cheapest, --qps and --tpot go together: give all three, e.g. --qps 20 --tpot 50ms --cheapest")
        clash = _given("context", "max_model_len", "max_context", "batch", "gpus", "tp", "ep", "kv_cache_memory")
        if clash:
            raise OptionError(f"{', '.join(clash)} do not apply to --cheapest, which picks the layout: drop them")
        from .serve import cheapest_fleet

        prompt = _request_tokens(arch, prompt, output_tokens, allow_long_context)
        options = cheapest_fleet(arch, _gpu_list(gpu_names), qps, tpot, settings, prompt=prompt, output=output_tokens, weights_dtype=weights_dtype, kv_dtype=kv_dtype)
        payload = {
            "model": arch.name, "qps": qps, "tpot_s": tpot, "prompt": prompt, "output": output_tokens,
            "options": [option.to_dict() for option in options],
        }
        if as_json:
            _emit_json(payload)
            return
        _render_options(payload)
        return
    if "," in gpu_names:
        raise OptionError(f"--gpu {gpu_names!r} lists several GPUs, which only --cheapest compares: name one GPU")
    if _given("batch") and not max_context:
        raise OptionError("--batch sets the concurrency for --max-context: add --max-context or drop --batch")
    from .serve import request_kv_bytes_per_gpu, serve_size

    gpu = _gpu_list(gpu_names)[0]
    context = _context(arch, context, max_model_len, allow_long_context)
    limit = None
    if allow_long_context:
        limit = max(context, arch.max_position_embeddings or context) * 4
    size = serve_size(
        arch, gpu, context, settings, gpus=gpus, tp=tp, ep=ep, weights_dtype=weights_dtype, kv_dtype=kv_dtype, batch=batch,
        context_limit=limit, int4_group_size=int4_group_size, binary=binary,
    )
    if max_context and size.max_context_tokens == 0:
        most = size.budget.gpu_blocks * size.budget.block_bytes_per_gpu // request_kv_bytes_per_gpu(arch, 1, kv_dtype, size.tp, size.budget.block_size)
        raise OptionError(
            f"--batch {batch:,} requests do not fit in the KV cache even at one token each, because each needs a whole block: "
            f"use --batch {int(most):,} or fewer"
        )
    if as_json:
        _emit_json(size.to_dict())
        return
    _render_size(size, binary, max_context)


def _render_size(size: Any, binary: bool, max_context: bool) -> None:
    from .render import _console, _derivation, _figures
    from .units import format_bytes

    budget = size.budget
    fmt = lambda value: format_bytes(value, binary)  # noqa: E731
    rows = [
        ("weights per GPU", fmt(budget.weights.per_gpu_bytes)),
        ("KV cache per GPU", fmt(budget.kv_cache_bytes_per_gpu)),
        ("GPU KV cache size", f"{budget.kv_cache_tokens:,} tokens"),
        ("GPU blocks", f"{budget.gpu_blocks:,} × {budget.block_size} tokens"),
        (f"max concurrency at {size.context:,} tokens", f"{size.max_concurrency:,.2f}×"),
        (f"longest context at batch {size.batch:,}", f"{size.max_context_tokens:,} tokens"),
    ]
    if max_context:
        rows.append(("bound by", size.max_context_binding))
    if size.replicas > 1:
        rows.append(("replicas", f"{size.replicas:,} ({size.gpus:,} GPUs ÷ tp {size.tp})"))
    layout = f"tp {size.tp}" + (f", ep {size.ep}" if size.ep > 1 else "")
    _figures(f"Serving {size.model} on {size.gpus:,} × {budget.gpu.name} ({layout}, {budget.engine} accounting)", rows)
    _derivation(size.steps)
    if budget.sources:
        _console.print("\nDefaults and their sources: napkin serve-size … --json (key 'sources').")


def _render_options(payload: dict[str, Any]) -> None:
    from .render import _console
    from rich.table import Table

    table = Table(title=f"{payload['model']}: {payload['qps']:g} requests/s at TPOT ≤ {payload['tpot_s'] * 1e3:g} ms "
                  f"({payload['prompt']:,} in, {payload['output']:,} out)", title_justify="left")
    for header in ("gpu", "GPUs", "tp", "replicas", "batch", "TPOT (ms)", "bound by", "$/hour"):
        table.add_column(header, justify="left" if header in ("gpu", "bound by") else "right")
    for option in payload["options"]:
        table.add_row(
            option["gpu"], f"{option['gpus']:,}", str(option["tp"]), f"{option['replicas']:,}", f"{option['batch']:,}",
            f"{option['tpot_s'] * 1e3:.3g}", option["binding"], f"{option['usd_per_hour']:,.2f}",
        )
    _console.print(table)


@_main().command("latency", short_help="TTFT, TPOT, tokens/s per GPU and $/1M tokens against batch size.")
@click.argument("model")
@click.option("--gpu", "gpu_name", metavar="NAME", required=True, help="GPU from 'napkin gpus'.")
@click.option("--batch", "batches", type=BATCHES, default="1,8,32,128", show_default=True, help="Decode batch sizes, comma-separated.")
@click.option("--prompt", type=LENGTH, default="2048", show_default=True, help="Prompt tokens per request (2k = 2,048).")
@click.option("--output", "output_tokens", type=LENGTH, default="512", show_default=True, help="Output tokens per request.")
@click.option("--price", type=PRICE, help="USD per GPU-hour [default: the GPU's catalog rate].")
@click.option("--compute-efficiency", type=FRACTION, default="1", show_default=True, help="Fraction of the peak FLOP/s reached (1 = roofline bound).")
@click.option("--bandwidth-efficiency", type=FRACTION, default="1", show_default=True, help="Fraction of the memory bandwidth reached (1 = roofline bound).")
@_engine_options
@json_option
def latency_command(model, gpu_name, batches, prompt, output_tokens, price, compute_efficiency, bandwidth_efficiency,
                    engine, utilization, gpu_total, block_size, max_num_batched_tokens, max_num_seqs, non_torch, activation_peak,
                    cuda_graph_memory, kv_cache_memory, weights_dtype, kv_dtype, int4_group_size, gpus, tp, ep,
                    allow_long_context, as_json) -> None:
    """Time to first token, time per output token, output tokens/s per GPU and $/1M tokens at each batch size.

    Rows whose batch exceeds the KV cache (as --engine counts it) are marked as not fitting.

    Example: napkin latency llama-3-70b --gpu h100 --gpus 4 --tp 4 --batch 1,8,32,128 --prompt 2k --output 512
    """
    from .cli import _emit_json
    from .hardware import get_gpu
    from .latency import LatencySettings
    from .latency_table import latency_table
    from .presets import load_model

    arch = load_model(model)
    gpu = get_gpu(gpu_name)
    settings = _settings(engine, utilization, gpu_total, block_size, max_num_batched_tokens, max_num_seqs, non_torch, activation_peak, cuda_graph_memory, kv_cache_memory)
    prompt = _request_tokens(arch, prompt, output_tokens, allow_long_context)
    total = prompt + output_tokens
    if price is None:
        price = gpu.usd_per_hour
    table = latency_table(arch, gpu, batches, prompt, output_tokens, price, settings, LatencySettings(compute_efficiency, bandwidth_efficiency),
                          gpus=gpus, tp=tp, ep=ep, weights_dtype=weights_dtype, kv_dtype=kv_dtype, int4_group_size=int4_group_size,
                          kv_context=total)
    payload = table.to_dict()
    steps = table.steps
    if as_json:
        _emit_json(payload)
        return
    _render_latency(payload, steps)


def _render_latency(payload: dict[str, Any], steps: list[Any]) -> None:
    from rich.table import Table

    from .render import _console, _derivation

    title = (f"{payload['model']} on {payload['gpus']} × {payload['gpu']} (tp {payload['tp']}), "
             f"{payload['prompt']:,} in, {payload['output']:,} out")
    table = Table(title=title, title_justify="left")
    for header in ("batch", "TTFT (ms)", "TPOT (ms)", "tok/s/GPU", "bound", "$/1M out", "$/1M in", "fits"):
        table.add_column(header, justify="right", no_wrap=True)
    for row in payload["rows"]:
        out, inp = row["usd_per_million_output_tokens"], row["usd_per_million_input_tokens"]
        table.add_row(
            f"{row['batch']:,}", f"{row['ttft_s'] * 1e3:.3g}", f"{row['tpot_s'] * 1e3:.3g}", f"{row['tokens_per_s_per_gpu']:,.0f}",
            row["bound"], f"{out:.3g}" if out is not None else "—", f"{inp:.3g}" if inp is not None else "—",
            "yes" if row["fits"] else "no",
        )
    _console.print(table)
    _derivation(steps)
