"""Request and response bodies of the web API, as pydantic models.

Quantities accept a number in base units or a string with a unit, parsed by the same
`napkin.units` functions as the command line: ``"15T"`` tokens, ``"40%"`` MFU, ``"$2/hr"``, ``"8k"``
tokens of context. A value that does not parse is rejected with status 422, the field's name and
the parser's message. Every model forbids unknown fields, so a misspelled one is named, not ignored.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator

from .. import units
from ..errors import NapkinError

MAX_CONFIG_CHARS = 64 * 1024
"""Maximum length of an uploaded config.json text. The shipped configs, Gemma 3 with its vision tower included, are under 8 kB."""

MAX_BATCHES = 16

FITTED = " When left out, the default is lowered to the model's maximum positions, as the command line lowers an option not typed."
"""Description of a length field whose default is fitted to the model (see `napkin.lengths`)."""

MAX_PLAN_GPU_TYPES = 4
MAX_PLAN_TOP = 50
MAX_PLAN_GPUS = 1 << 20


def _parsed_with(parse: Any, label: str, example: str) -> Any:
    """Return pydantic annotations that parse a field with `parse` and document it as number-or-string."""

    def convert(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError(f"invalid {label} {value!r}: give a number or a string such as {example!r}")
        try:
            return parse(value, label)
        except NapkinError as error:
            raise ValueError(str(error)) from None

    schema = {"anyOf": [{"type": "number"}, {"type": "string"}], "examples": [example]}
    return (BeforeValidator(convert), WithJsonSchema(schema))


def _length_or_zero(value: Any, label: str) -> int:
    return units.parse_length(value, label, allow_zero=True)


Tokens = Annotated[float, *_parsed_with(units.parse_count, "token count", "15T")]
ParamCount = Annotated[float, *_parsed_with(units.parse_param_count, "parameter count", "70B")]
Fraction = Annotated[float, *_parsed_with(units.parse_fraction, "MFU", "40%")]
Efficiency = Annotated[float, *_parsed_with(units.parse_fraction, "efficiency", "70%")]
USD = Annotated[float, *_parsed_with(lambda value, label: units.parse_count(str(value).strip().lstrip("$"), label), "budget", "10M")]
Price = Annotated[float, *_parsed_with(units.parse_price, "price", "$2/hr")]
Throughput = Annotated[float, *_parsed_with(units.parse_count, "throughput", "2500")]
Whole = Annotated[int, *_parsed_with(units.parse_integer, "count", "1024")]
BatchSize = Annotated[int, *_parsed_with(units.parse_integer, "batch size", "64")]
Days = Annotated[float, *_parsed_with(units.parse_count, "days", "90")]
Length = Annotated[int, *_parsed_with(units.parse_length, "length", "8k")]
LengthOrZero = Annotated[int, *_parsed_with(_length_or_zero, "length", "0")]

WeightsDtype = Literal["fp32", "bf16", "fp16", "fp8", "int8", "int4"]
KVDtype = Literal["bf16", "fp16", "fp8", "int8", "fp32"]
ServeWeightsDtype = Literal["bf16", "fp16", "fp8", "int8", "int4", "mxfp4"]
ServeKVDtype = Literal["bf16", "fp16", "fp8", "int8"]
Optimizer = Literal["adam", "adam-fp32", "adam-8bit", "sgd", "sgd-fp32"]
Recompute = Literal["none", "selective", "full"]


def _checked_by_core(check: Any) -> Any:
    """Return a validator that passes None through and turns the core's NapkinError into ValueError."""

    def validate(value: Any) -> Any:
        if value is None:
            return None
        try:
            return check(value)
        except NapkinError as error:
            raise ValueError(str(error)) from None

    return validate


@_checked_by_core
def _preset_name(name: str) -> str:
    from ..presets import resolve_preset

    return resolve_preset(name).name


@_checked_by_core
def _config_text(text: str) -> str:
    """Return `text` once it parses as a supported config.json (parsed in memory and cached)."""
    from .resolve import arch_from_text

    arch_from_text(text)
    return text


@_checked_by_core
def _gpu_name(name: str) -> str:
    """Return the catalog name of GPU `name`, which may be an alias or another spelling."""
    from ..hardware import get_gpu

    return get_gpu(name).name


@_checked_by_core
def _gpu_names(text: str) -> str:
    """Return comma-separated GPU names as their catalog names, at most `MAX_PLAN_GPU_TYPES` of them."""
    from ..errors import OptionError
    from ..hardware import get_gpu

    names = [name.strip() for name in text.split(",")]
    if any(not name for name in names):
        raise OptionError(f"invalid GPU list {text!r}: empty name; give names separated by commas, e.g. h100,h200")
    if len(names) > MAX_PLAN_GPU_TYPES:
        raise OptionError(f"{len(names)} GPU types is more than the page searches ({MAX_PLAN_GPU_TYPES} at most): name fewer")
    return ",".join(get_gpu(name).name for name in names)


class _Body(BaseModel):
    # Strict: a JSON string or number is not taken for a boolean, nor "2" or 2.0 for an integer field,
    # matching the OpenAPI types. Quantity fields still take strings, through their parsers.
    model_config = ConfigDict(extra="forbid", strict=True)


class ModelChoice(_Body):
    """One model: a preset name, the text of a config.json, or a bare parameter count (exactly one)."""

    model: str | None = Field(None, max_length=200, description="Preset name or alias, e.g. llama-3-70b.")
    config: str | None = Field(
        None, max_length=MAX_CONFIG_CHARS, description="Text of a HuggingFace config.json, parsed in memory."
    )
    params: ParamCount | None = Field(None, description="Bare parameter count instead of a model, e.g. 70B.")

    _known_preset = field_validator("model")(_preset_name)
    _readable_config = field_validator("config")(_config_text)


class GPUChoice(_Body):
    gpu: str = Field("h100", max_length=100, description="GPU name or alias from /api/meta, e.g. h100.")

    _known_gpu = field_validator("gpu")(_gpu_name)


class Side(ModelChoice, GPUChoice):
    """A model on a GPU: one side of a comparison, and the base of every estimate request."""


class ModelRequest(ModelChoice):
    seq: Length = Field(4096, description=f"Sequence length for the attention FLOPs, in tokens.{FITTED}")
    kv_dtype: KVDtype = "bf16"


class TrainRequest(Side):
    tokens: Tokens = Field(..., description="Training tokens D, e.g. 15T.")
    gpus: Whole = Field(1, description="GPUs in the training cluster.")
    mfu: Fraction = Field(0.4, description="Model FLOPs utilisation, e.g. 40% or 0.4.")
    price: Price | None = Field(None, description="USD per GPU-hour; the GPU's catalog rate when left out.")
    seq: Length | None = Field(
        None, description="Sequence length: count attention with PaLM's 6N + 12·L·H·Q·T (needs an architecture); 6·N when left out."
    )
    allow_long_context: bool = False


class MemoryRequest(Side):
    """Memory per GPU. Training reads the fields from `optimizer` to `attention_kernel`, inference
    the fields from `context` on; the other mode's fields are accepted and ignored."""

    mode: Literal["train", "infer"] = "train"
    optimizer: Literal["adam", "adam-fp32", "adam-8bit", "sgd", "sgd-fp32"] = "adam"
    zero_stage: int = Field(0, ge=0, le=3, description="ZeRO stage: 1 shards optimizer state, 2 gradients too, 3 weights too.")
    dp: Whole = Field(1, description="Data-parallel size that ZeRO shards over.")
    tp: Whole = Field(1, description="Tensor-parallel size.")
    sequence_parallel: bool = False
    micro_batch: Whole = Field(1, description="Micro-batch in sequences.")
    seq: Length = Field(4096, description=f"Training sequence length in tokens.{FITTED}")
    recompute: Literal["none", "selective", "full"] = "none"
    attention_kernel: Literal["flash", "eager"] = "flash"
    context: Length = Field(4096, description=f"Inference context per request in tokens.{FITTED}")
    requests: Whole = Field(1, description="Concurrent inference requests.")
    gpus: Whole = Field(1, description="GPUs sharing the weights and KV cache (inference, tensor parallel).")
    weights_dtype: WeightsDtype = "bf16"
    kv_dtype: KVDtype = "bf16"
    allow_long_context: bool = False


class KVRequest(Side):
    context: Length = Field(8192, description=f"Context per request in tokens.{FITTED}")
    gpus: Whole = Field(1, description="GPUs holding one copy of the weights (tensor parallel).")
    weights_dtype: WeightsDtype = "bf16"
    kv_dtype: KVDtype = "bf16"
    requests: Whole | None = Field(None, description="Concurrent requests: also report the fewest GPUs that hold them.")
    allow_long_context: bool = False


class RooflineRequest(Side):
    batches: list[BatchSize] = Field([1, 8, 64, 512], min_length=1, max_length=MAX_BATCHES, description="Batch sizes.")
    context: LengthOrZero = Field(0, description="Cached tokens per request read in each decode step.")
    prompt: Length = Field(2048, description=f"Prompt tokens per request for the prefill point.{FITTED}")
    allow_long_context: bool = False


class ServeCostRequest(_Body):
    tokens_per_s_per_gpu: Throughput = Field(..., description="Sustained tokens per second per GPU.")
    price: Price | None = Field(None, description="USD per GPU-hour; the catalog rate of `gpu` when left out.")
    gpu: str | None = Field(None, max_length=100, description="GPU whose catalog price to use.")

    _known_gpu = field_validator("gpu")(_gpu_name)


class CompareRequest(_Body):
    """Two models or two GPUs on the same training and serving inputs."""

    a: Side
    b: Side
    tokens: Tokens = Field(..., description="Training tokens D, e.g. 15T.")
    gpus: Whole = Field(1, description="GPUs in the training cluster.")
    mfu: Fraction = Field(0.4, description="Model FLOPs utilisation.")
    price: Price | None = Field(None, description="USD per GPU-hour for both sides; each GPU's catalog rate when left out.")
    context: Length = Field(8192, description=f"Serving context per request in tokens.{FITTED}")
    seq: Length = Field(4096, description=f"Training sequence length for the activations.{FITTED}")
    micro_batch: Whole = Field(1, description="Training micro-batch in sequences.")
    tp: Whole = Field(1, description="Training tensor-parallel size.")
    sequence_parallel: bool = False
    recompute: Literal["none", "selective", "full"] = "none"


class EngineRequest(Side):
    """A serving replica and the engine that accounts its KV cache, as `napkin serve-size` and `napkin latency` take them."""

    engine: Literal["vllm", "plain"] = Field("vllm", description="vllm subtracts vLLM's start-up profiling; plain uses the nominal memory.")
    gpu_memory_utilization: Efficiency | None = Field(None, description="Fraction of GPU memory the engine may use [0.9 for vllm, 1 for plain].")
    block_size: Whole = Field(16, description="Tokens per KV-cache block.")
    max_num_batched_tokens: Whole = Field(2048, description="Tokens in vLLM's profiling pass.")
    max_num_seqs: Whole = Field(256, description="Sequences in vLLM's profiling sampler pass.")
    weights_dtype: ServeWeightsDtype = "bf16"
    kv_dtype: ServeKVDtype = "bf16"
    gpus: Whole = Field(1, description="GPUs in all; replicas are gpus ÷ tp.")
    tp: Whole | None = Field(None, description="Tensor-parallel size of one replica; gpus when left out.")
    ep: Whole = Field(1, description="Expert-parallel size.")
    allow_long_context: bool = False


class ServeSizeRequest(EngineRequest):
    context: Length | None = Field(None, description="Context per request in tokens; the model's maximum positions when left out.")
    batch: Whole = Field(1, description="Concurrent requests for the longest context.")


class LatencyRequest(EngineRequest):
    batches: list[BatchSize] = Field([1, 8, 32, 128], min_length=1, max_length=MAX_BATCHES, description="Decode batch sizes.")
    prompt: Length = Field(2048, description="Prompt tokens per request. When left out, 2,048 lowered to leave room for output in the model's maximum positions.")
    output: Length = Field(512, description="Output tokens per request.")
    price: Price | None = Field(None, description="USD per GPU-hour; the GPU's catalog rate when left out.")
    compute_efficiency: Efficiency = Field(1.0, description="Fraction of the peak FLOP/s reached (1 = roofline bound).")
    bandwidth_efficiency: Efficiency = Field(1.0, description="Fraction of the memory bandwidth reached (1 = roofline bound).")


class LayoutRequest(Side):
    """One parallel training layout, as `napkin train` takes it with --tp, --pp, --dp and the rest."""

    tokens: Tokens = Field(..., description="Training tokens D, e.g. 15T.")
    tp: Whole = Field(1, description="Tensor-parallel size.")
    pp: Whole = Field(1, description="Pipeline-parallel size.")
    dp: Whole = Field(1, description="Data-parallel size.")
    ep: Whole = Field(1, description="Expert-parallel size (taken from dp · cp).")
    cp: Whole = Field(1, description="Context-parallel size.")
    zero: int = Field(1, ge=0, le=3, description="ZeRO stage over dp · cp.")
    micro_batch: Whole = Field(1, description="Sequences per micro-batch.")
    global_batch: Length = Field(4 * 1024 * 1024, description="Tokens per optimizer step; a multiple of seq.")
    seq: Length = Field(8192, description=f"Tokens per sequence, as in the plan.{FITTED}")
    recompute: Recompute = "selective"
    interleave: Whole = Field(1, description="Model chunks per GPU (interleaved 1F1B).")
    optimizer: Optimizer = "adam"
    mfu: Fraction | None = Field(None, description="MFU that replaces the modelled step time.")
    achieved_tflops: Throughput | None = Field(None, description="Achieved TFLOP/s per GPU that replaces the modelled step time.")
    price: Price | None = Field(None, description="USD per GPU-hour; the GPU's catalog rate when left out.")
    allow_long_context: bool = False


class PlanRequest(ModelChoice):
    """A layout search, as `napkin plan` takes it; the search size is capped (see `MAX_PLAN_LAYOUTS` in api.py)."""

    gpu: str = Field("h100", max_length=200, description="GPU name, or several separated by commas, e.g. h100,h200.")
    tokens: Tokens = Field(..., description="Training tokens D, e.g. 15T.")
    max_gpus: Whole = Field(..., le=MAX_PLAN_GPUS, description="Most GPUs a layout may use.")
    days: Days | None = Field(None, description="Maximum wall-clock in days; 90 when left out.")
    budget: USD | None = Field(None, description="Most USD the run may cost, e.g. 10M.")
    top: Whole = Field(10, le=MAX_PLAN_TOP, description="Layouts to return.")
    rank: Literal["cost", "time"] = "cost"
    seq: Length = Field(8192, description=f"Tokens per sequence.{FITTED}")
    global_batch: Length = Field(4 * 1024 * 1024, description="Tokens per optimizer step; a multiple of seq.")
    price: Price | None = Field(None, description="USD per GPU-hour for every GPU type; each GPU's catalog rate when left out.")
    optimizer: Optimizer = "adam"
    allow_long_context: bool = False

    _known_gpus = field_validator("gpu")(_gpu_names)


# --- responses ---------------------------------------------------------------------------------


class StepOut(BaseModel):
    label: str
    formula: str
    substituted: str
    result: str


class Tick(BaseModel):
    value: float
    label: str


class Axis(BaseModel):
    label: str
    scale: Literal["linear", "log"]
    min: float
    max: float
    ticks: list[Tick]


class Chart(BaseModel):
    """A chart in data coordinates; the page only maps it to pixels. Tick and point labels are
    formatted here, as the command line formats them."""

    title: str
    x: Axis
    y: Axis | None = None
    lines: list[dict[str, Any]] = []
    points: list[dict[str, Any]] = []
    bars: list[dict[str, Any]] = []
    rules: list[dict[str, Any]] = []
    point_labels: dict[str, str] = {}
    """Legend text of each point kind; the kind itself when absent."""


class Estimate(BaseModel):
    """An estimate: the command line's ``--json`` keys (base units), the figures as the command
    line prints them under `formatted`, the derivation, and charts."""

    model_config = ConfigDict(extra="allow")

    formatted: dict[str, str]
    derivation: list[StepOut] = []
    charts: list[Chart] = []


class ErrorDetail(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    error: str
    detail: list[ErrorDetail]
