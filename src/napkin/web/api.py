"""The JSON API: one endpoint per estimate, each a thin call into the core.

Each estimate returns the keys of the matching ``napkin … --json`` output (base units), the
figures formatted as the command line prints them under ``formatted``, the derivation, and
chart specs. To add an estimate, add an endpoint to `router` here; the app mounts it under
``/api``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import APIRouter, Depends, Request

from .. import __version__
from ..arch import ModelArch
from ..errors import NapkinError
from ..hardware import GPU, list_gpus
from ..memory import weight_bytes
from ..params import count_params
from ..units import format_bytes, format_count, format_duration, format_flop, format_number, format_rate, format_usd
from . import charts
from .problems import StrictJSONRoute
from .resolve import FieldError, check_length, gpu_of, length_of, model_of, preset_arch, price_of, reject, require_arch
from .schemas import (
    CompareRequest,
    EngineRequest,
    ErrorBody,
    Estimate,
    KVRequest,
    LatencyRequest,
    LayoutRequest,
    MemoryRequest,
    ModelRequest,
    PlanRequest,
    RooflineRequest,
    ServeCostRequest,
    ServeSizeRequest,
    Side,
    TrainRequest,
)


def reject_query(request: Request) -> None:
    """Reject query parameters: every endpoint takes its inputs in the JSON body, and an ignored parameter would hide a mistake."""
    for name in request.query_params:
        where = "takes no parameters" if request.method == "GET" else "takes its fields in the JSON body"
        raise FieldError(("query", name), f"unknown query parameter {name!r}: {request.url.path} {where}")


_ERRORS = {
    400: {"model": ErrorBody, "description": "Host header other than 127.0.0.1 or localhost, when serving on loopback"},
    408: {"model": ErrorBody, "description": "Request body not received within the time limit"},
    413: {"model": ErrorBody, "description": "Request body over the size limit"},
    422: {"model": ErrorBody, "description": "Invalid body, field or query parameter; `detail[0].loc` names it"},
}

router = APIRouter(prefix="/api", route_class=StrictJSONRoute, dependencies=[Depends(reject_query)], responses=_ERRORS)

MFU_CHART_RANGE = (0.20, 0.60)
MFU_CHART_STEP = 0.025


@contextlib.contextmanager
def blame(*loc: str | int) -> Iterator[None]:
    """Attribute a core error raised inside the block to the request field at `loc`."""
    try:
        yield
    except FieldError:
        raise
    except NapkinError as error:
        raise FieldError(("body", *loc), str(error)) from None


def _steps(steps: Any) -> list[dict[str, str]]:
    return [step.to_dict() for step in steps]


def _model_name(arch: ModelArch | None, params: float | None) -> str:
    return arch.name if arch is not None else f"{format_count(params)} parameters"  # type: ignore[arg-type]


# --- catalog -------------------------------------------------------------------------------------


@functools.cache
def _catalog() -> dict[str, Any]:
    from ..presets import list_presets

    models = []
    for preset in list_presets():
        counts = count_params(preset_arch(preset.name))
        models.append(
            {
                "name": preset.name,
                "aliases": list(preset.aliases),
                "hf_id": preset.hf_id,
                "params_total": counts.total,
                "params_active": counts.active,
                "max_position_embeddings": preset_arch(preset.name).max_position_embeddings,
                "formatted": {"params_total": format_count(counts.total), "params_active": format_count(counts.active)},
            }
        )
    gpus = [
        {
            "name": gpu.name,
            "display_name": gpu.display_name,
            "hbm_bytes": gpu.hbm_bytes,
            "hbm_bandwidth_bytes_per_s": gpu.hbm_bandwidth_bytes_per_s,
            "bf16_flop_per_s": gpu.bf16_flop_per_s,
            "usd_per_hour": gpu.usd_per_hour,
            "formatted": {
                "hbm": format_bytes(gpu.hbm_bytes),
                "bf16": format_rate(gpu.bf16_flop_per_s, "FLOP/s"),
                "price": f"{format_usd(gpu.usd_per_hour)}/GPU-hour" if gpu.usd_per_hour is not None else "no catalog price",
            },
        }
        for gpu in list_gpus()
    ]
    return {"version": __version__, "models": models, "gpus": gpus}


@router.get("/meta", summary="Model presets and GPUs, with their sizes and prices")
def meta() -> dict[str, Any]:
    return _catalog()


@router.post("/model", response_model=Estimate, summary="Parameters, FLOPs/token, weights and KV bytes/token")
def model_summary(body: ModelRequest) -> dict[str, Any]:
    from ..summary import describe_layers, summarize_model

    arch, params = model_of(body)
    if arch is None:
        return {
            "model": None,
            "params_total": params,
            "formatted": {"title": f"{format_count(params)} parameters (no architecture)"},  # type: ignore[arg-type]
            "derivation": [],
        }
    seq = length_of(body, arch, "seq")
    summary = summarize_model(arch, seq, kv_dtype=body.kv_dtype)
    counts = summary.params
    formatted = {
        "title": f"{arch.name} ({arch.model_type}): {arch.num_layers:,} layers, h = {arch.hidden_size:,}, V = {arch.vocab_size:,}",
        "params_total": f"{counts.total:,} ({format_count(counts.total)})",
        "params_active": f"{counts.active:,} ({format_count(counts.active)})",
        "train_flop_per_token": format_flop(summary.train_flop_per_token),
        "kv_cache_bytes_per_token": f"{summary.kv_cache_bytes_per_token:,.0f} bytes",
        "weights_bf16": format_bytes(summary.weights_bytes["bf16"]),
    }
    return {**summary.to_dict(), "layers": describe_layers(arch), "formatted": formatted}


# --- pretraining cost ----------------------------------------------------------------------------


def _bill(
    arch: ModelArch | None, params: float | None, gpu: GPU, tokens: float, gpus: int, mfu: float, price: float, seq: int | None = None
):
    """Return the training bill at 6·N, or at PaLM's 6·N + 12·L·H·Q·T when `seq` is given (as `napkin train --seq`)."""
    from ..training import palm_flop_per_token, training_bill

    n = count_params(arch).active if arch is not None else params
    if seq is None:
        return training_bill(n, tokens, gpus, gpu.bf16_flop_per_s, mfu, price)  # type: ignore[arg-type]
    per_token, formula = palm_flop_per_token(arch, seq)  # type: ignore[arg-type]
    return training_bill(n, tokens, gpus, gpu.bf16_flop_per_s, mfu, price, per_token, formula)  # type: ignore[arg-type]


def _mfu_chart(arch, params, gpu, body: TrainRequest, price: float, bill, seq: int | None) -> dict[str, Any]:
    low, high = MFU_CHART_RANGE
    low, high = min(low, body.mfu), max(high, body.mfu)
    count = round((high - low) / MFU_CHART_STEP)
    mfus = sorted({round(low + i * (high - low) / count, 6) for i in range(count + 1)})
    costs = [_bill(arch, params, gpu, body.tokens, body.gpus, mfu, price, seq).cost_usd for mfu in mfus]
    percent = lambda value: f"{value:.0%}"  # noqa: E731
    return {
        "title": "Cost against MFU",
        "x": charts.axis("MFU", low, high, percent),
        "y": charts.axis("cost", 0.0, max(costs) * 1.05, format_usd),
        "lines": [{"name": "cost", "points": [[m, c] for m, c in zip(mfus, costs)]}],
        "points": [
            {"x": bill.mfu, "y": bill.cost_usd, "label": f"{bill.mfu:.1%} MFU: {format_usd(bill.cost_usd)}", "kind": "chosen"}
        ],
    }


@router.post("/train", response_model=Estimate, summary="Training compute, wall-clock, GPU-hours and cost from 6·N·D")
def train(body: TrainRequest) -> dict[str, Any]:
    arch, params = model_of(body)
    gpu = gpu_of(body.gpu)
    price = price_of(body.price, gpu)
    seq = None
    if body.seq is not None:
        require_arch(arch, "seq (attention FLOPs)")
        seq = check_length(arch, "seq", body.seq, body.allow_long_context)
    elif body.allow_long_context:
        raise FieldError(("body", "allow_long_context"), "allow_long_context applies to a given seq: add seq or drop it")
    with blame("gpus"):
        bill = _bill(arch, params, gpu, body.tokens, body.gpus, body.mfu, price, seq)
    formatted = {
        "title": f"Training {_model_name(arch, params)} on {bill.gpus:,} × {gpu.name}",
        "total_flop": format_flop(bill.total_flop),
        "usable_rate": f"{format_rate(bill.usable_flop_per_s, 'FLOP/s')} ({bill.mfu:.1%} MFU)",
        "wall_clock": format_duration(bill.wall_clock_s),
        "gpu_hours": format_number(bill.gpu_hours),
        "cost": format_usd(bill.cost_usd),
        "price": f"{format_usd(bill.usd_per_gpu_hour)}/GPU-hour",
        "mfu": f"{bill.mfu:.1%}",
        "flop_per_token": format_flop(bill.flop_per_token),
    }
    return {
        "model": arch.name if arch else None,
        "gpu": gpu.name,
        **bill.to_dict(),
        "formatted": formatted,
        "charts": [_mfu_chart(arch, params, gpu, body, price, bill, seq)],
    }


# --- training layout and plan --------------------------------------------------------------------

MAX_PLAN_LAYOUTS = 1_000_000
"""Most candidate layouts one plan request may search, summed over its GPU types. The search's
target rate is a million layouts a second on one core (benchmarks/bench_plan.py), so a request
at the cap takes about a second. At a global batch of 512 sequences, llama-3-70b has 288,000
candidates per GPU type. deepseek-v2-lite has 806,400, so the page plans it on one GPU type only."""


@contextlib.contextmanager
def blame_option(body: Any, default: str, phrases: dict[str, str] | None = None) -> Iterator[None]:
    """Attribute a core error to the request field its message names as an option (``--micro-batch`` → micro_batch).

    Only fields the request sets count, so a defaulted tp that inherits gpus leaves the blame on
    gpus. A message that names none goes to the field of the first of `phrases` it contains, else
    to `default`.
    """
    try:
        yield
    except FieldError:
        raise
    except NapkinError as error:
        message = str(error)
        named = [flag.replace("-", "_") for flag in re.findall(r"--([a-z][a-z-]*)", message)]
        named += [field for phrase, field in (phrases or {}).items() if phrase in message]
        field = next((name for name in named if name in body.model_fields_set), default)
        raise FieldError(("body", field), message) from None


def _layout_of(body: LayoutRequest, arch: ModelArch, seq: int):
    """Return the Layout of the request and the model's shape, naming the field whose size does not divide what it splits."""
    from ..parallel import Layout, check_model_split, model_shape

    shape = model_shape(arch)
    with blame_option(body, "tp"):
        check_model_split(shape, body.tp, body.pp, body.interleave, body.ep)
    if body.global_batch % seq:
        raise FieldError(
            ("body", "global_batch"),
            f"global batch {body.global_batch:,} tokens is not a whole number of {seq:,}-token sequences: use a multiple of seq, "
            f"e.g. {max(1, round(body.global_batch / seq)) * seq:,}",
        )
    layout = Layout(
        tp=body.tp, pp=body.pp, dp=body.dp, ep=body.ep, cp=body.cp, zero=body.zero, micro_batch=body.micro_batch,
        global_batch=body.global_batch // seq, seq=seq, recompute=body.recompute, interleave=body.interleave, optimizer=body.optimizer,
    )
    return layout, shape


@router.post("/layout", response_model=Estimate, summary="One parallel layout: memory per GPU, step time, MFU/HFU, days and cost")
def training_layout(body: LayoutRequest) -> dict[str, Any]:
    from ..layout import estimate_layout, layout_training_bill
    from .training_views import layout_formatted, memory_chart

    arch, _ = model_of(body)
    arch = require_arch(arch, "a parallel layout")
    gpu = gpu_of(body.gpu)
    price = price_of(body.price, gpu)
    seq = length_of(body, arch, "seq")
    if body.mfu is not None and body.achieved_tflops is not None:
        raise FieldError(("body", "achieved_tflops"), "mfu and achieved_tflops both set the step time: give one of them")
    layout, shape = _layout_of(body, arch, seq)
    achieved = body.achieved_tflops * 1e12 if body.achieved_tflops is not None else None
    with blame_option(body, "dp", {"achieved rate": "achieved_tflops"}):
        estimate = estimate_layout(arch, gpu, layout, body.tokens, price, mfu=body.mfu, achieved_flop_per_s=achieved, shape=shape)
    bill = layout_training_bill(arch, estimate)
    derivation = _steps(bill.steps) + _steps(estimate.steps)
    return {
        "model": arch.name,
        "gpu": gpu.name,
        **bill.to_dict(),
        **estimate.to_dict(),
        "derivation": derivation,
        "formatted": layout_formatted(estimate, bill, arch.name),
        "charts": [memory_chart(estimate)],
    }


PLAN_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="napkin-plan")
"""The one thread that runs layout searches. A search allocates tens of MB of NumPy temporaries.
On the shared request thread pool each thread gets its own glibc malloc arena, and each arena
keeps its freed pages, so the server's RSS grew by hundreds of MB under a stream of plan
requests (benchmarks/bench_load.py). On one thread it stays flat, and searches queue instead of
competing for the GIL."""


CLIENT_CLOSED_REQUEST = 499
"""Status logged for a search dropped because its client disconnected (nginx's convention); no
client receives it."""


@router.post("/plan", response_model=Estimate, summary="Search parallel layouts: the cheapest or fastest that fit the limits")
async def training_plan(body: PlanRequest, request: Request) -> Any:
    from starlette.responses import Response

    search = asyncio.get_running_loop().run_in_executor(PLAN_EXECUTOR, _search_layouts, body)
    disconnect = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({search, disconnect}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        disconnect.cancel()
    if search.done():
        return search.result()
    # Searches queue on one thread, so a search left for a client that has gone would delay every
    # later one. A queued search is dropped; a running one cannot be stopped and finishes.
    search.cancel()
    request.app.state.rejections(request.method, request.url.path, CLIENT_CLOSED_REQUEST, "client disconnected before the plan search finished")
    return Response(status_code=CLIENT_CLOSED_REQUEST)


async def _disconnected(request: Request) -> None:
    """Wait until the client of `request`, whose body was already read, disconnects."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _search_layouts(body: PlanRequest) -> dict[str, Any]:
    from ..hardware import get_gpu
    from ..parallel import model_shape
    from ..training import DEFAULT_PLAN_DAYS
    from ..plan import candidate_grid, plan_layouts
    from .training_views import plan_formatted, plan_rows

    arch, _ = model_of(body)
    arch = require_arch(arch, "a layout search")
    gpus = [get_gpu(name) for name in body.gpu.split(",")]
    prices = [price_of(body.price, gpu) for gpu in gpus]
    seq = length_of(body, arch, "seq")
    if body.global_batch % seq:
        raise FieldError(
            ("body", "global_batch"),
            f"global batch {body.global_batch:,} tokens is not a whole number of {seq:,}-token sequences: use a multiple of seq, "
            f"e.g. {max(1, round(body.global_batch / seq)) * seq:,}",
        )
    sequences = body.global_batch // seq
    shape = model_shape(arch)
    sizes = [len(candidate_grid(shape, gpu, body.max_gpus, sequences)["tp"]) for gpu in gpus]
    if sum(sizes) > MAX_PLAN_LAYOUTS:
        field = "gpu" if len(gpus) > 1 and max(sizes) <= MAX_PLAN_LAYOUTS else "max_gpus"
        raise FieldError(
            ("body", field),
            f"the search has {sum(sizes):,} candidate layouts, more than the page evaluates per request ({MAX_PLAN_LAYOUTS:,}): "
            "name fewer GPU types, lower max_gpus, or run napkin plan on the command line",
        )
    days = DEFAULT_PLAN_DAYS if body.days is None else body.days
    with blame_option(body, "max_gpus"):
        plan = plan_layouts(arch, gpus, prices, body.tokens, seq, sequences, body.max_gpus, days=days, budget=body.budget,
                            rank_by=body.rank, top=body.top, optimizer=body.optimizer)
    return {
        "model": arch.name,
        "tokens": body.tokens,
        "seq": seq,
        "global_batch_tokens": body.global_batch,
        "days_limit": days,
        "budget_usd": body.budget,
        **plan.to_dict(),
        "formatted": plan_formatted(plan, arch.name, body.tokens),
        "table": plan_rows(plan),
    }


# --- memory --------------------------------------------------------------------------------------


def _memory_chart(estimate) -> dict[str, Any]:
    tenants = [("weights", estimate.weights_bytes)]
    if estimate.mode == "train":
        tenants += [("gradients", estimate.gradients_bytes), ("optimizer state", estimate.optimizer_bytes)]
    else:
        tenants.append(("KV cache", estimate.kv_cache_bytes))
    tenants.append(("activations", estimate.activations_bytes))
    parts = [(name, value) for name, value in tenants if value is not None]
    return charts.memory_bar("Memory per GPU", parts, estimate.total_bytes, estimate.gpu)


@router.post("/memory", response_model=Estimate, summary="Memory per GPU: weights, optimizer, gradients, activations, KV")
def memory(body: MemoryRequest) -> dict[str, Any]:
    from ..fit import inference_memory, training_memory

    arch, params = model_of(body)
    gpu = gpu_of(body.gpu)
    if body.mode == "train":
        seq = length_of(body, arch, "seq")
        if body.sequence_parallel and body.tp < 2:
            raise FieldError(("body", "sequence_parallel"), "sequence parallelism needs tp of 2 or more")
        with blame("tp"):
            estimate = training_memory(
                gpu, params=params, arch=arch, optimizer=body.optimizer, zero_stage=body.zero_stage, dp=body.dp,
                micro_batch=body.micro_batch, seq=seq, recompute=body.recompute, attention_kernel=body.attention_kernel,
                tp=body.tp, sequence_parallel=body.sequence_parallel,
            )
    else:
        context = length_of(body, arch, "context")
        with blame("gpus"):
            estimate = inference_memory(
                gpu, params=params, arch=arch, context=context, requests=body.requests, weights_dtype=body.weights_dtype,
                kv_dtype=body.kv_dtype, gpus=body.gpus,
            )
    fmt = lambda value: "not estimated" if value is None else format_bytes(value)  # noqa: E731
    verdict = "fits" if estimate.fits else "does NOT fit"
    formatted = {
        "title": f"{'Training' if estimate.mode == 'train' else 'Inference'} memory per GPU: "
        f"{_model_name(arch, params)} on {gpu.name} ({format_bytes(gpu.hbm_bytes)})",
        "weights": fmt(estimate.weights_bytes),
        "gradients": fmt(estimate.gradients_bytes),
        "optimizer": fmt(estimate.optimizer_bytes),
        "activations": fmt(estimate.activations_bytes),
        "kv_cache": fmt(estimate.kv_cache_bytes),
        "total": f"{format_bytes(estimate.total_bytes)} ({verdict})",
        "min_gpus": f"{estimate.min_gpus:,}" if estimate.min_gpus is not None else "none at these settings",
    }
    if estimate.min_gpus_tensor_parallel is not None:
        formatted["min_gpus_tensor_parallel"] = f"{estimate.min_gpus_tensor_parallel:,}"
    return {
        "model": arch.name if arch else None,
        **estimate.to_dict(),
        "formatted": formatted,
        "charts": [_memory_chart(estimate)],
    }


# --- KV cache and serving ------------------------------------------------------------------------


def _kv_contexts(arch: ModelArch, context: int) -> list[int]:
    """Return the contexts of the capacity chart: powers of two from 1,024 to the model's maximum, and `context`."""
    limit = max(context, min(arch.max_position_embeddings or 131072, 1 << 20))
    contexts = {context}
    length = 1024
    while length <= limit:
        contexts.add(length)
        length *= 2
    return sorted(contexts)


def _kv_chart(arch: ModelArch, gpu: GPU, body: KVRequest, capacity) -> dict[str, Any]:
    from ..kv import kv_capacity

    contexts = _kv_contexts(arch, capacity.context)
    fitting = [
        kv_capacity(arch, gpu, c, gpus=body.gpus, weights_dtype=body.weights_dtype, kv_dtype=body.kv_dtype).max_requests
        for c in contexts
    ]
    top = max(max(fitting), 1) * 1.1
    return {
        "title": "Requests that fit against context length",
        "x": charts.axis("context (tokens)", contexts[0], contexts[-1], lambda v: f"{v:,.0f}", scale="log", base=2),
        "y": charts.axis("max concurrent requests", 0.0, top, lambda v: f"{v:,.0f}", integer=True),
        "lines": [{"name": "max requests", "points": [[c, n] for c, n in zip(contexts, fitting)]}],
        "points": [
            {
                "x": capacity.context,
                "y": capacity.max_requests,
                "label": f"{capacity.context:,} tokens: {capacity.max_requests:,} requests",
                "kind": "chosen",
            }
        ],
    }


@router.post("/kv", response_model=Estimate, summary="KV-cache size and the requests that fit beside the weights (nominal memory)")
def kv(body: KVRequest) -> dict[str, Any]:
    from ..kv import kv_capacity

    arch, _ = model_of(body)
    arch = require_arch(arch, "the KV cache")
    gpu = gpu_of(body.gpu)
    context = length_of(body, arch, "context")
    with blame("gpus"):
        capacity = kv_capacity(
            arch, gpu, context, gpus=body.gpus, weights_dtype=body.weights_dtype, kv_dtype=body.kv_dtype, requests=body.requests
        )
    free = capacity.free_bytes
    formatted = {
        "title": f"KV cache: {arch.name}, context {capacity.context:,}, {capacity.gpus} × {gpu.name}",
        "kv_per_token": f"{capacity.kv_cache_bytes_per_token:,.0f} bytes",
        "kv_per_request": format_bytes(capacity.kv_cache_bytes_per_request),
        "weights": format_bytes(capacity.weights_bytes),
        "free": format_bytes(free) if free >= 0 else f"none (short by {format_bytes(-free)})",
        "max_requests": f"{capacity.max_requests:,}",
    }
    if capacity.requests is not None:
        needed = capacity.min_gpus_for_requests
        formatted["min_gpus_for_requests"] = f"{needed:,}" if needed else "no tensor-parallel size fits"
    return {
        "model": arch.name,
        **capacity.to_dict(),
        "formatted": formatted,
        "charts": [_kv_chart(arch, gpu, body, capacity)],
    }


@router.post("/serve-cost", response_model=Estimate, summary="$ per million tokens from tokens/s per GPU and $/GPU-hour")
def serve_cost(body: ServeCostRequest) -> dict[str, Any]:
    from ..serving import serving_cost

    if body.price is None and body.gpu is None:
        raise FieldError(("body", "price"), "missing price: give price in USD per GPU-hour or gpu for its catalog rate")
    price = body.price if body.price is not None else price_of(None, gpu_of(body.gpu))  # type: ignore[arg-type]
    cost = serving_cost(body.tokens_per_s_per_gpu, price)
    formatted = {
        "throughput": f"{format_number(cost.tokens_per_s_per_gpu)} tokens/s per GPU",
        "price": f"{format_usd(price)}/GPU-hour",
        "cost": f"{format_usd(cost.usd_per_million_tokens)} per 1M tokens",
    }
    return {**cost.to_dict(), "formatted": formatted}


def _replica(body: EngineRequest, estimate: str):
    """Return the architecture, GPU and engine settings of a serving request.

    Rejects a bare parameter count, and vLLM-only fields given with the plain engine.
    """
    from ..engine import EngineSettings

    arch, _ = model_of(body)
    arch = require_arch(arch, estimate)
    gpu = gpu_of(body.gpu)
    if body.engine == "plain":
        vllm_only = sorted({"max_num_batched_tokens", "max_num_seqs"} & body.model_fields_set)
        if vllm_only:
            raise FieldError(("body", vllm_only[0]), f"{vllm_only[0]} sets vLLM's profiling pass, which the plain engine leaves out: drop it or use engine vllm")
    with blame("engine"):
        settings = EngineSettings(
            engine=body.engine, gpu_memory_utilization=body.gpu_memory_utilization, block_size=body.block_size,
            max_num_batched_tokens=body.max_num_batched_tokens, max_num_seqs=body.max_num_seqs,
        )
    return arch, gpu, settings


@router.post("/serve-size", response_model=Estimate, summary="Weights and KV per GPU, KV tokens and blocks, max concurrency (engine-accounted)")
def serve_size(body: ServeSizeRequest) -> dict[str, Any]:
    from ..serve import serve_size as size_of
    from .serving_views import concurrency_chart, size_formatted

    arch, gpu, settings = _replica(body, "serving")
    if body.context is not None:
        context = check_length(arch, "context", body.context, body.allow_long_context)
    elif arch.max_position_embeddings:
        context = arch.max_position_embeddings
    else:
        raise FieldError(("body", "context"), f"{arch.name} has no maximum positions in its config: give context, e.g. 8k")
    limit = max(context, arch.max_position_embeddings or context) * 4 if body.allow_long_context else None
    with blame_option(body, "gpus"):
        size = size_of(arch, gpu, context, settings, gpus=body.gpus, tp=body.tp, ep=body.ep, weights_dtype=body.weights_dtype,
                       kv_dtype=body.kv_dtype, batch=body.batch, context_limit=limit)
    return {**size.to_dict(), "formatted": size_formatted(size), "charts": [concurrency_chart(arch, size)]}


@router.post("/latency", response_model=Estimate, summary="TTFT, TPOT, tokens/s per GPU and $/1M tokens against batch size")
def latency(body: LatencyRequest) -> dict[str, Any]:
    from ..latency import LatencySettings
    from ..latency_table import latency_table
    from .serving_views import latency_formatted, latency_rows, throughput_chart

    arch, gpu, settings = _replica(body, "latency")
    prompt = _prompt_length(body, arch)
    total = prompt + body.output
    price = body.price if body.price is not None else gpu.usd_per_hour
    with blame_option(body, "gpus"):
        table = latency_table(
            arch, gpu, body.batches, prompt, body.output, price, settings,
            LatencySettings(body.compute_efficiency, body.bandwidth_efficiency), gpus=body.gpus, tp=body.tp, ep=body.ep,
            weights_dtype=body.weights_dtype, kv_dtype=body.kv_dtype, kv_context=total,
        )
    return {
        **table.to_dict(),
        "formatted": latency_formatted(table),
        "table": latency_rows(table),
        "charts": [throughput_chart(table)],
    }


def _prompt_length(body: LatencyRequest, arch: ModelArch) -> int:
    """Return the prompt length, checked with the output against the model's maximum positions.

    The KV cache of a request stores prompt and output, so their sum must fit. A prompt the
    client left out is lowered to leave room for the output, as `napkin latency` lowers a default
    --prompt. Otherwise a sum that does not fit is rejected, naming output.
    """
    from ..lengths import prompt_room

    prompt = length_of(body, arch, "prompt")
    output = body.output
    room = prompt_room(arch, prompt, output, body.allow_long_context)
    if room is None:
        return prompt
    limit = arch.max_position_embeddings
    if "prompt" not in body.model_fields_set:
        if room >= 1:
            return room
        reject(
            f"output {output:,} leaves no room for a prompt in {arch.name}'s maximum of {limit:,} positions; "
            f"use output {limit - 1:,} or fewer, or set allow_long_context to estimate it anyway",
            "output",
        )
    fix = f"shorten output to {limit - prompt:,}" if limit - prompt >= 1 else "shorten prompt and output"
    reject(
        f"prompt {prompt:,} plus output {output:,} is {prompt + output:,} tokens, longer than {arch.name}'s maximum of {limit:,} "
        f"positions; {fix}, or set allow_long_context to estimate it anyway",
        "output",
    )


# --- roofline ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=128)
def _roofline(gpu: GPU, arch: ModelArch | None, batches: tuple[int, ...], context: int, prompt: int):
    """Cached `analyze_roofline`: its search for the compute-bound decode batch takes milliseconds."""
    from ..roofline import analyze_roofline

    return analyze_roofline(gpu, arch, batches, context, prompt)


def _roofline_chart(result) -> dict[str, Any]:
    gpu = result.gpu
    peak, bandwidth, ridge = gpu.bf16_flop_per_s, gpu.hbm_bandwidth_bytes_per_s, result.ridge_flop_per_byte
    points = []
    for point in (*result.decode, *result.prefill):
        attained = point.flop / point.time_s
        points.append(
            {
                "x": point.intensity_flop_per_byte,
                "y": attained,
                "kind": point.phase,
                "tag": f"{point.batch:,}",
                "label": f"{point.phase}, batch {point.batch:,}: {format_number(point.intensity_flop_per_byte)} FLOP/byte, "
                f"{format_rate(attained, 'FLOP/s')}",
            }
        )
    x_low, x_high = charts.padded_log_range([ridge, *(p["x"] for p in points)])
    y_low, y_high = charts.padded_log_range([bandwidth * x_low, peak])
    roof = [[x_low, bandwidth * x_low], [ridge, peak], [x_high, peak]]
    return {
        "title": f"Roofline of {gpu.name}",
        "x": charts.axis("arithmetic intensity (FLOP/byte)", x_low, x_high, format_number, scale="log"),
        "y": charts.axis("attainable FLOP/s", y_low, y_high, lambda v: format_rate(v, "FLOP/s"), scale="log"),
        "lines": [{"name": "roof", "points": roof}],
        "points": points,
        "rules": [{"axis": "x", "value": ridge, "label": f"ridge {format_number(ridge)} FLOP/byte"}],
    }


@router.post("/roofline", response_model=Estimate, summary="Ridge point, and where prefill and decode sit on the roofline")
def roofline(body: RooflineRequest) -> dict[str, Any]:
    arch, _ = model_of(body)
    arch = require_arch(arch, "the roofline of a model")
    gpu = gpu_of(body.gpu)
    context = length_of(body, arch, "context")
    prompt = length_of(body, arch, "prompt")
    with blame("batches"):
        result = _roofline(gpu, arch, tuple(body.batches), context, prompt)
    rows = [
        {
            "batch": decode.batch,
            "decode_intensity": format_number(decode.intensity_flop_per_byte),
            "decode_bound": decode.bound,
            "step_time": format_duration(decode.time_s),
            "tokens_per_s": format_number(decode.tokens_per_s),
            "prefill_intensity": format_number(prefill.intensity_flop_per_byte),
            "prefill_bound": prefill.bound,
        }
        for decode, prefill in zip(result.decode, result.prefill)
    ]
    formatted = {
        "title": f"{gpu.name}: {format_rate(gpu.bf16_flop_per_s, 'FLOP/s')} bf16, "
        f"{format_rate(gpu.hbm_bandwidth_bytes_per_s, 'B/s')}, ridge {format_number(result.ridge_flop_per_byte)} FLOP/byte",
        "ridge": f"{format_number(result.ridge_flop_per_byte)} FLOP/byte",
        "crossover": f"batch {result.crossover_batch:,}" if result.crossover_batch else "no batch",
    }
    return {
        "model": arch.name,
        **result.to_dict(),
        "formatted": formatted,
        "table": rows,
        "charts": [_roofline_chart(result)],
    }


# --- compare -------------------------------------------------------------------------------------


def _side_figures(side: Side, body: CompareRequest, loc: str) -> dict[str, tuple[float | None, str]]:
    """Return each compared figure of one side as (value in base units, text); text explains a gap."""
    from ..fit import training_memory
    from ..kv import fewest_tensor_parallel_gpus, kv_capacity
    from ..roofline import decode_point
    from ..serving import serving_cost

    arch, params = model_of(side, loc)
    gpu = gpu_of(side.gpu)
    price = price_of(body.price, gpu, loc)
    counts = count_params(arch) if arch is not None else None
    total = counts.total if counts else params
    figures: dict[str, tuple[float | None, str]] = {
        "params_total": (total, format_count(total)),  # type: ignore[arg-type]
        "params_active": (counts.active, format_count(counts.active)) if counts else (params, format_count(params)),  # type: ignore[arg-type]
    }
    with blame(loc):
        bill = _bill(arch, params, gpu, body.tokens, body.gpus, body.mfu, price)
    figures["total_flop"] = (bill.total_flop, format_flop(bill.total_flop))
    figures["wall_clock_s"] = (bill.wall_clock_s, format_duration(bill.wall_clock_s))
    figures["gpu_hours"] = (bill.gpu_hours, format_number(bill.gpu_hours))
    figures["cost_usd"] = (bill.cost_usd, format_usd(bill.cost_usd))
    with blame(loc):
        fewest_train = training_memory(
            gpu, params=params, arch=arch, micro_batch=body.micro_batch, seq=length_of(body, arch, "seq"),
            recompute=body.recompute, tp=body.tp, sequence_parallel=body.sequence_parallel and body.tp > 1,
        ).min_gpus
    figures["min_gpus_train"] = (fewest_train, f"{fewest_train:,}" if fewest_train else "none")
    no_arch = (None, "— (needs an architecture)")
    if arch is None:
        for key in ("min_gpus_serve", "max_requests", "tokens_per_s_per_gpu", "usd_per_million_tokens"):
            figures[key] = no_arch
        return figures
    weights = weight_bytes(counts.total, "bf16")  # type: ignore[union-attr]
    serving_gpus = fewest_tensor_parallel_gpus(arch, gpu, weights, 0.0)
    if serving_gpus is None:
        figures["min_gpus_serve"] = (None, "none (weights do not fit)")
        for key in ("max_requests", "tokens_per_s_per_gpu", "usd_per_million_tokens"):
            figures[key] = (None, "—")
        return figures
    context = length_of(body, arch, "context")
    capacity = kv_capacity(arch, gpu, context, gpus=serving_gpus)
    figures["min_gpus_serve"] = (serving_gpus, f"{serving_gpus:,}")
    figures["max_requests"] = (capacity.max_requests, f"{capacity.max_requests:,}")
    if capacity.max_requests < 1:
        figures["tokens_per_s_per_gpu"] = figures["usd_per_million_tokens"] = (None, "— (no request fits)")
        return figures
    tokens_per_s = decode_point(arch, gpu, capacity.max_requests, context).tokens_per_s
    cost = serving_cost(tokens_per_s, price).usd_per_million_tokens
    figures["tokens_per_s_per_gpu"] = (tokens_per_s, format_number(tokens_per_s))
    figures["usd_per_million_tokens"] = (cost, format_usd(cost))
    return figures


_COMPARED = (
    ("params_total", "parameters"),
    ("params_active", "active parameters"),
    ("total_flop", "training compute"),
    ("wall_clock_s", "wall-clock"),
    ("gpu_hours", "GPU-hours"),
    ("cost_usd", "training cost"),
    ("min_gpus_train", "fewest GPUs to train (memory)"),
    ("min_gpus_serve", "fewest GPUs to serve (tensor parallel, bf16)"),
    ("max_requests", "max requests at the context"),
    ("tokens_per_s_per_gpu", "decode tokens/s per GPU (roofline bound)"),
    ("usd_per_million_tokens", "$/1M tokens"),
)


@router.post("/compare", response_model=Estimate, summary="Two models or two GPUs side by side on the same inputs")
def compare(body: CompareRequest) -> dict[str, Any]:
    a = _side_figures(body.a, body, "a")
    b = _side_figures(body.b, body, "b")
    rows = []
    for key, label in _COMPARED:
        (a_value, a_text), (b_value, b_text) = a[key], b[key]
        ratio = b_value / a_value if a_value and b_value is not None and math.isfinite(b_value / a_value) else None
        rows.append(
            {
                "key": key,
                "label": label,
                "a": a_value,
                "b": b_value,
                "a_text": a_text,
                "b_text": b_text,
                "ratio": ratio,
                "ratio_text": f"{format_number(ratio)}×" if ratio is not None else "—",
            }
        )
    names = [_side_title(side) for side in (body.a, body.b)]
    lengths = {loc: _side_lengths(side, body, loc) for loc, side in (("a", body.a), ("b", body.b))}
    return {"rows": rows, "lengths": lengths, "formatted": {"a": names[0], "b": names[1]}}


def _side_lengths(side: Side, body: CompareRequest, loc: str) -> dict[str, int]:
    """Return the training sequence and serving context one side is estimated at, fitted to its model."""
    arch, _ = model_of(side, loc)
    return {"seq": length_of(body, arch, "seq"), "context": length_of(body, arch, "context")}


def _side_title(side: Side) -> str:
    if side.model is not None:
        model = side.model
    elif side.config is not None:
        from .resolve import arch_from_text

        model = arch_from_text(side.config).name
    else:
        model = f"{format_count(side.params)} parameters"  # type: ignore[arg-type]
    return f"{model} on {side.gpu}"
