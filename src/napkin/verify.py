"""Measure napkin's estimates on the real architecture with PyTorch and transformers.

Each function builds the model that ``transformers`` builds from a config.json (no weights are
downloaded) and measures one quantity with PyTorch's own tools:

- parameters: ``sum(p.numel())`` of the full-depth model on the meta device;
- FLOPs: ``torch.utils.flop_counter.FlopCounterMode`` over one forward pass, and over forward
  plus backward, on the meta device. Routed experts run through transformers' ``batched_mm``
  experts implementation, which gathers each token's k expert matrices and multiplies them in
  one ``bmm``. It has no data-dependent indexing, so the meta device runs every routed
  token-expert product and FlopCounterMode counts all of them;
- KV cache: the tensors in the cache that a forward pass with ``use_cache=True`` returns;
- activations: the storages saved for backward, seen through
  ``torch.autograd.graph.saved_tensors_hooks`` (parameters excluded, each storage once);
- optimizer and gradients: the state tensors of a real ``torch.optim`` step.

Byte measurements run on CPU when the shrunk model fits in `CPU_BYTES_LIMIT` and its attention
scores in `CPU_SCORES_LIMIT`, else on the meta device, where tensors have shapes and dtypes but no data. torch and transformers are
imported inside functions, so importing this module is cheap.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .arch import Layer, ModelArch, MoE
from .errors import NapkinError, OptionError
from .flops import count_flops
from .hf import arch_from_config
from .memory import OPTIMIZERS, activation_bytes_per_layer, kv_cache_bytes, transformers_profile
from .params import count_params

__all__ = [
    "INSTALL_HINT",
    "MissingDependencyError",
    "Row",
    "TOLERANCES",
    "VerifyReport",
    "require_torch",
    "verify_model",
]

INSTALL_HINT = "pip install 'napkin-ml[verify]'"

TOLERANCES: dict[str, float] = {
    "params_total": 0.0,
    "params_active": 0.0,
    "forward_flop_per_token": 0.01,
    "train_flop_per_token": 0.01,
    "kv_cache_bytes_per_token": 0.0,
    "optimizer_bytes": 0.0,
    "optimizer_bytes_sgd": 0.0,
    "gradients_bytes": 0.0,
    "activations_bytes_per_layer_none": 0.10,
    "activations_bytes_per_layer_selective": 0.10,
    "activations_bytes_per_layer_full": 0.10,
}
"""Relative error each quantity may have; FLOPs of MoE models may have `MOE_FLOP_TOLERANCE`."""

MOE_FLOP_TOLERANCE = 0.02
CPU_BYTES_LIMIT = 3e9
"""Largest CPU allocation (bytes of weights, gradients and optimizer state) a byte measurement
may make before it moves to the meta device."""

CPU_SCORES_LIMIT = 4 * 4096 * 4096
"""Largest batch · seq² (attention scores per head and block) a byte measurement computes on CPU
before it moves to the meta device: CPU attention time grows with it, and at seq 131,072 one
block takes minutes."""

SHRUNK_VOCAB = 1024
"""Vocabulary of the copies used for byte measurements; per-layer bytes do not depend on it."""

_PER_LAYER_WINDOW_FAMILIES = ("gemma2", "gemma3_text", "gpt_oss", "qwen2", "qwen3", "qwen3_moe")
_TOKEN_ID_KEYS = ("pad_token_id", "bos_token_id", "eos_token_id", "decoder_start_token_id")


class MissingDependencyError(NapkinError):
    """Raised when torch or transformers is not installed."""


def require_torch() -> None:
    """Raise `MissingDependencyError` unless torch and transformers can be imported."""
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as error:
        raise MissingDependencyError(
            f"napkin verify needs PyTorch and transformers ({error.name} is not installed): run {INSTALL_HINT}"
        ) from None


# --- report types ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One quantity: napkin's estimate, PyTorch's measurement and the tolerance claimed for it."""

    quantity: str
    estimate: float
    measured: float
    tolerance: float
    note: str = ""

    @property
    def relative_error(self) -> float:
        """(estimate − measured) ÷ measured; 0 when both are 0."""
        if self.measured == 0:
            return 0.0 if self.estimate == 0 else float("inf")
        return (self.estimate - self.measured) / self.measured

    @property
    def passed(self) -> bool:
        return abs(self.relative_error) <= self.tolerance + 1e-12

    def to_dict(self) -> dict[str, Any]:
        return {
            "quantity": self.quantity,
            "estimate": self.estimate,
            "measured": self.measured,
            "relative_error": self.relative_error,
            "tolerance": self.tolerance,
            "passed": self.passed,
            "note": self.note,
        }


@dataclass(frozen=True)
class VerifyReport:
    """All rows of one verification, with the settings the measurements used."""

    model: str
    seq: int
    batch: int
    layers_measured: int
    layers_total: int
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return all(row.passed for row in self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "seq": self.seq,
            "batch": self.batch,
            "layers_measured": self.layers_measured,
            "layers_total": self.layers_total,
            "passed": self.passed,
            "rows": [row.to_dict() for row in self.rows],
            "notes": list(self.notes),
        }


# --- configs: the text model, shrunk copies ----------------------------------------------------


def hf_text_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Return the config of the language model that transformers builds for `config`.

    Gemma 3's multimodal config nests the language model under ``text_config``. The original
    Falcon release ('RefinedWeb') uses other key names than transformers' FalconConfig.
    """
    text = dict(config)
    if config.get("model_type") == "gemma3" and "text_config" in config:
        text = {**config["text_config"], "model_type": "gemma3_text"}
    if text.get("model_type") in ("RefinedWeb", "RefinedWebModel"):
        renamed = {"n_head": "num_attention_heads", "n_head_kv": "num_kv_heads", "n_layer": "num_hidden_layers"}
        text = {renamed.get(key, key): value for key, value in text.items()}
        text["model_type"] = "falcon"
        text.setdefault("new_decoder_architecture", True)
    for key in ("auto_map", "quantization_config", "architectures"):
        text.pop(key, None)
    # Measure without dropout, as current models train and as the estimates assume by default.
    for key, value in list(text.items()):
        if ("dropout" in key or "pdrop" in key) and isinstance(value, float):
            text[key] = 0.0
    return text


def _layer_count_key(text: Mapping[str, Any]) -> str:
    return "n_layer" if "n_layer" in text else "num_hidden_layers"


def _kept_layers(arch: ModelArch, layers: int | None) -> list[int]:
    """Return the layer indices a shrunk copy keeps: each distinct kind of block, twice where it
    occurs twice, then the first layers until there are `layers`."""
    if layers is None or layers >= arch.num_layers:
        return list(range(arch.num_layers))
    seen = _blocks_by_kind(arch)
    if layers < len(seen):
        raise OptionError(
            f"--layers {layers} is too few for {arch.name}: it has {len(seen)} kinds of block; use --layers {len(seen)} or more"
        )
    kept = sorted({index for indices in seen.values() for index in indices[:2]})
    if len(kept) > layers:
        kept = sorted(indices[0] for indices in seen.values())
    for index in range(arch.num_layers):
        if len(kept) >= layers:
            break
        if index not in kept:
            kept = sorted([*kept, index])
    return kept


def shrink_config(text: Mapping[str, Any], arch: ModelArch, kept: list[int], vocab: int | None = None) -> dict[str, Any]:
    """Return `text` with only the blocks at `kept` (and optionally a smaller vocabulary).

    Raises `OptionError` if napkin's reading of the shrunk config does not list exactly the kept
    blocks, which would make every per-layer comparison wrong.
    """
    shrunk = dict(text)
    shrunk[_layer_count_key(text)] = len(kept)
    model_type = text.get("model_type")
    # Families whose windows vary by layer take an explicit per-layer list; uniform windows
    # (Mistral, Phi-3) need nothing.
    has_windows = any(layer.sliding_window for layer in arch.layers)
    if "layer_types" in text or (has_windows and model_type in _PER_LAYER_WINDOW_FAMILIES):
        shrunk["layer_types"] = ["sliding_attention" if arch.layers[i].sliding_window else "full_attention" for i in kept]
    if model_type in ("deepseek_v2", "deepseek_v3"):
        shrunk["first_k_dense_replace"] = sum(1 for i in kept if not arch.layers[i].is_moe)
    if model_type == "qwen3_moe" and text.get("mlp_only_layers"):
        shrunk["mlp_only_layers"] = [j for j, i in enumerate(kept) if not arch.layers[i].is_moe]
    if vocab is not None:
        shrunk["vocab_size"] = vocab
        for key in _TOKEN_ID_KEYS:
            value = shrunk.get(key)
            if isinstance(value, int) and value >= vocab:
                shrunk[key] = 0
            elif isinstance(value, list):
                shrunk[key] = [v for v in value if v < vocab] or [0]

    check = arch_from_config(shrunk, arch.name)
    if check.layers != tuple(arch.layers[i] for i in kept):
        raise OptionError(f"cannot shrink {arch.name} to {len(kept)} layers without changing its blocks; drop --layers")
    return shrunk


# --- building models ---------------------------------------------------------------------------


def build_model(
    text: Mapping[str, Any], device: str, dtype: str = "bfloat16", attention: str = "eager", experts: str | None = None
):
    """Build `AutoModelForCausalLM.from_config` on `device` ("meta" or "cpu") with random weights."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    config = AutoConfig.for_model(**text)
    kwargs: dict[str, Any] = {"dtype": getattr(torch, dtype), "attn_implementation": attention}
    if experts is not None:
        kwargs["experts_implementation"] = experts
    from transformers.initialization import no_init_weights

    # transformers' own initialisation takes seconds per billion weights on CPU; the values only
    # need to be finite, so one normal_ pass replaces it.
    generator = torch.Generator().manual_seed(0)
    with torch.device(device), no_init_weights():
        model = AutoModelForCausalLM.from_config(config, **kwargs)
    model.tie_weights()  # no_init_weights also skips the tying of input and output embeddings
    if device != "meta":
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.normal_(0.0, 0.02, generator=generator)
    return model


def _decoder_layers(model) -> Any:
    """Return the ModuleList of decoder blocks (``model.layers`` or GPT-2/Falcon's ``transformer.h``)."""
    base = getattr(model, "model", None) or getattr(model, "transformer", None)
    blocks = getattr(base, "layers", None)
    if blocks is None:
        blocks = base.h
    return blocks


def _inputs(seq: int, batch: int, device: str) -> dict[str, Any]:
    """Return token ids and an all-ones attention mask (without the explicit mask, transformers'
    mask code calls ``.item()``, which fails on the meta device)."""
    import torch

    ids = torch.zeros((batch, seq), dtype=torch.long, device=device)
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}


def _experts_for(arch: ModelArch) -> str | None:
    """Return transformers' default experts implementation for byte measurements.

    ``grouped_mm`` multiplies each expert's rows in one call and has no data-dependent loop, so
    it runs on the meta device too. (``batched_mm`` would gather a weight copy per token, far
    too much memory on CPU.)
    """
    return "grouped_mm" if arch.is_moe else None


def _attention_for(arch: ModelArch, device: str) -> str:
    """Return the attention implementation for a byte measurement: SDPA where transformers runs
    it, eager on the meta device (SDPA's mask code calls ``.item()`` there) and for MLA, whose
    differing q/k and v widths send CPU SDPA to its math backend."""
    return "sdpa" if _sdpa_ok(arch) and device == "cpu" and arch.attention.kind != "mla" else "eager"


def _per_kind(arch: ModelArch, kept: list[int], measured_by_position: list[float]) -> list[float]:
    """Scale per-block measurements of a shrunk copy back to every block of the full model.

    Each block of the full model takes the value of the last kept block of the same kind. The
    last one is used because tensors shared by all blocks (rotary cos/sin tables, token ids) are
    counted where they are first saved, in the first block.
    """
    by_kind: dict[Layer, float] = {}
    for position, index in enumerate(kept):
        by_kind[arch.layers[index]] = measured_by_position[position]
    return [by_kind[layer] for layer in arch.layers]


# --- parameters --------------------------------------------------------------------------------


def _experts_per_token(config) -> tuple[int, int]:
    experts = getattr(config, "num_local_experts", None) or getattr(config, "n_routed_experts", None) or getattr(config, "num_experts", None)
    per_token = getattr(config, "num_experts_per_tok", None) or getattr(config, "experts_per_token", None)
    return int(experts or 0), int(per_token or 0)


def measure_params(text: Mapping[str, Any]) -> tuple[int, int]:
    """Return (total, active per token) parameters of the full model, built on the meta device.

    Routed experts are stored as 3-D tensors whose first dimension is the expert; a token uses
    k of the E slices, so each contributes numel · k / E to the active count. Shared experts
    (``shared_experts``) and routers are used by every token.
    """
    model = build_model(text, "meta")
    total = sum(p.numel() for p in model.parameters())
    experts, per_token = _experts_per_token(model.config)
    inactive = 0
    for name, parameter in model.named_parameters():
        if ".experts." in name:
            if parameter.shape[0] != experts:
                raise NapkinError(f"expert tensor {name} has {parameter.shape[0]} slices, expected {experts}")
            inactive += parameter.numel() // experts * (experts - per_token)
    return total, total - inactive


# --- FLOPs -------------------------------------------------------------------------------------


def measure_flops(text: Mapping[str, Any], arch: ModelArch, kept: list[int], seq: int, batch: int) -> tuple[float, float]:
    """Return (forward, forward + backward) FLOPs per token of the full model, measured on
    meta-device copies and scaled back block by block.

    The copy with the blocks at `kept` is counted, then for each kind of block that the full
    model has more of, a copy with one more block of that kind: the difference is one block's
    count. Eager attention multiplies the whole s×s score matrix (the causal mask only sets
    entries to −inf), so the measurement is compared with the full-matrix attention term.
    """
    base = _count_flops(text, arch, kept, seq, batch)
    forward, train = base
    for indices in _blocks_by_kind(arch).values():
        missing = len(indices) - sum(1 for index in indices if index in kept)
        if missing == 0:
            continue
        extra = next(index for index in indices if index not in kept)
        more = _count_flops(text, arch, sorted([*kept, extra]), seq, batch)
        forward += missing * (more[0] - base[0])
        train += missing * (more[1] - base[1])
    tokens = seq * batch
    return forward / tokens, train / tokens


def _blocks_by_kind(arch: ModelArch) -> dict[Layer, list[int]]:
    groups: dict[Layer, list[int]] = {}
    for index, layer in enumerate(arch.layers):
        groups.setdefault(layer, []).append(index)
    return groups


def _count_flops(text: Mapping[str, Any], arch: ModelArch, kept: list[int], seq: int, batch: int) -> tuple[float, float]:
    """Return the total FLOPs of one forward pass and of forward plus backward of a shrunk copy."""
    from torch.utils.flop_counter import FlopCounterMode

    model = build_model(shrink_config(text, arch, kept), "meta", attention="eager", experts="batched_mm")
    model.train()
    counts = []
    for backward in (False, True):
        counter = FlopCounterMode(display=False)
        with counter:
            output = model(**_inputs(seq, batch, "meta"), use_cache=False)
            if backward:
                output.logits.sum().backward()
        counts.append(float(counter.get_total_flops()))
    return counts[0], counts[1]


# --- bytes: KV cache, activations, optimizer ---------------------------------------------------


def _bytes_device(arch: ModelArch, bytes_per_param: float, device: str, seq: int = 1, batch: int = 1) -> str:
    if device != "auto":
        return device
    fits = count_params(arch).total * bytes_per_param <= CPU_BYTES_LIMIT and batch * seq * seq <= CPU_SCORES_LIMIT
    return "cpu" if fits else "meta"


def _tensor_bytes(tensor) -> int:
    return tensor.numel() * tensor.element_size()


def measure_kv(
    text: Mapping[str, Any], arch: ModelArch, kept: list[int], seq: int, batch: int, device: str = "auto"
) -> tuple[float, str]:
    """Return (KV bytes per token of the full model, device) after one `seq`-token forward pass.

    The bytes are those of the keys and values in each layer of the returned cache. For MLA,
    transformers 5.25 caches the compressed latent and the shared rope key, as MLA inference does.
    """
    import torch

    shrunk = shrink_config(text, arch, kept, vocab=SHRUNK_VOCAB)
    small = arch_from_config(shrunk, arch.name)
    device = _bytes_device(small, 2, device, seq, batch)
    model = build_model(shrunk, device, attention=_attention_for(arch, device), experts=_experts_for(arch))
    model.eval()
    with torch.no_grad():
        output = model(**_inputs(seq, batch, device), use_cache=True)
    cache_bytes = [
        float(sum(_tensor_bytes(t) for t in (layer.keys, layer.values) if t is not None))
        for layer in output.past_key_values.layers
    ]
    return sum(_per_kind(arch, kept, cache_bytes)) / (seq * batch), device


def _sdpa_ok(arch: ModelArch) -> bool:
    """Whether transformers' SDPA attention runs this family: Gemma 2 soft-caps its scores and
    gpt-oss adds attention sinks, which only the eager implementation applies."""
    return arch.model_type not in ("gemma2", "gpt_oss")


_SELECTIVE = "napkin_selective_sdpa"


def _register_selective_attention() -> None:
    """Register an attention implementation that recomputes SDPA in backward.

    It checkpoints only the attention core (scores, softmax, weighted sum), which is selective
    recomputation in the sense of Korthikanti et al. 2022, section 4.
    """
    import torch.utils.checkpoint
    from transformers import AttentionInterface
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    def selective(module, query, key, value, attention_mask, **kwargs):
        def core(query, key, value):
            return sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)[0]

        return torch.utils.checkpoint.checkpoint(core, query, key, value, use_reentrant=True), None

    AttentionInterface.register(_SELECTIVE, selective)


@contextlib.contextmanager
def _saved_bytes_by_block(model) -> Iterator[list[float]]:
    """Count the bytes of the storages saved for backward, attributed to the block that saves them.

    Parameter storages are skipped and each storage is counted once. Attribution opens when the
    input embedding has run; a block's pre-hook then claims what follows, and its forward hook
    hands over to the next block, so a checkpointed block's saved inputs, which the checkpoint
    stores before the block's own hooks run, count for that block. Anything saved after the
    last block (final norm, LM head) is left out.
    """
    import torch

    blocks = list(_decoder_layers(model))
    per_block = [0.0] * len(blocks)
    parameters = {p.untyped_storage()._cdata for p in model.parameters()}
    seen: set[int] = set()
    current = [len(blocks)]  # nothing is attributed until the input embedding has run

    def pack(tensor):
        storage = tensor.untyped_storage()
        key = storage._cdata
        if key not in parameters and key not in seen and current[0] < len(blocks):
            seen.add(key)
            keep.append(tensor)  # keeps the storage alive so that its address is not reused
            per_block[current[0]] += storage.nbytes()
        return tensor

    keep: list[Any] = []
    handles = [model.get_input_embeddings().register_forward_hook(lambda module, args, output: current.__setitem__(0, 0))]
    for index, block in enumerate(blocks):
        handles.append(block.register_forward_pre_hook(lambda module, args, index=index: current.__setitem__(0, index)))
        handles.append(block.register_forward_hook(lambda module, args, output, index=index: current.__setitem__(0, index + 1)))
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
            yield per_block
    finally:
        for handle in handles:
            handle.remove()


def measure_activations(
    text: Mapping[str, Any], arch: ModelArch, kept: list[int], seq: int, batch: int, device: str = "auto"
) -> tuple[dict[str, float], str, str]:
    """Return (bytes saved per block averaged over the full model, by recompute mode; device; kernel).

    The model runs in bf16 in training mode. "none" saves what autograd saves; "selective"
    checkpoints the SDPA call; "full" checkpoints every block (reentrant, so that the saved
    block inputs pass through the saved-tensor hooks).
    """
    import torch

    shrunk = shrink_config(text, arch, kept, vocab=SHRUNK_VOCAB)
    small = arch_from_config(shrunk, arch.name)
    device = _bytes_device(small, 2, device, seq, batch)
    sdpa = _attention_for(arch, device) == "sdpa"
    experts = _experts_for(arch)
    modes = ("none", "selective", "full") if sdpa else ("none", "full")
    results: dict[str, float] = {}
    if sdpa:
        _register_selective_attention()
    model = build_model(shrunk, device, attention="sdpa" if sdpa else "eager", experts=experts)
    model.train()
    for mode in modes:
        if mode == "selective":
            model.set_attn_implementation(_SELECTIVE)
        if mode == "full":
            model.set_attn_implementation("sdpa" if sdpa else "eager")
            model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": True})
        with _saved_bytes_by_block(model) as per_block:
            model(**_inputs(seq, batch, device), use_cache=False)
        results[mode] = sum(_per_kind(arch, kept, per_block)) / arch.num_layers
    return results, device, "flash" if sdpa else "eager"


def measure_training_state(text: Mapping[str, Any], arch: ModelArch, kept: list[int], seq: int, device: str = "auto") -> tuple[dict[str, float], ModelArch, str]:
    """Return the gradient and optimizer-state bytes of a real fp32 step on a shrunk copy.

    AdamW keeps exp_avg and exp_avg_sq per parameter, SGD with momentum one momentum buffer.
    AdamW's per-tensor ``step`` counters (one 4-byte scalar per parameter tensor) are left out,
    as the per-parameter estimate leaves them out.
    """
    import torch

    shrunk = shrink_config(text, arch, kept[:1], vocab=SHRUNK_VOCAB)
    small = arch_from_config(shrunk, arch.name)
    device = _bytes_device(small, 16, device)
    # grouped_mm runs only in bf16 on CPU: fp32 experts use the per-expert loop on CPU, and the
    # loop-free batched_mm on the meta device.
    experts = None
    if arch.is_moe:
        experts = "eager" if device == "cpu" else "batched_mm"
    model = build_model(shrunk, device, dtype="float32", attention=_attention_for(arch, device), experts=experts)
    model.train()
    tokens = min(seq, 64)
    output = model(**_inputs(tokens, 1, device), use_cache=False)
    output.logits.sum().backward()
    parameters = list(model.parameters())
    gradients = float(sum(_tensor_bytes(p.grad) for p in parameters if p.grad is not None))

    def state_bytes(optimizer) -> float:
        optimizer.step()
        return float(sum(
            _tensor_bytes(value)
            for parameter in parameters
            for value in optimizer.state[parameter].values()
            if isinstance(value, torch.Tensor) and value.shape == parameter.shape
        ))

    adam = state_bytes(torch.optim.AdamW(parameters, lr=1e-4, foreach=False))
    sgd = state_bytes(torch.optim.SGD(parameters, lr=1e-4, momentum=0.9, foreach=False))
    return {"gradients": gradients, "adam": adam, "sgd": sgd}, small, device


# --- the whole check ---------------------------------------------------------------------------


def _flop_tolerance(arch: ModelArch) -> float:
    return MOE_FLOP_TOLERANCE if arch.is_moe else TOLERANCES["forward_flop_per_token"]


def verify_model(
    config: Mapping[str, Any], name: str, seq: int, batch: int = 1, layers: int | None = None, device: str = "auto"
) -> VerifyReport:
    """Measure every estimate of the model in `config` and return the rows side by side.

    Parameters are counted at full depth. FLOPs run on the meta device with the blocks that
    `layers` keeps (all when None) and are scaled back to full depth. Byte measurements use a
    copy with two blocks of each kind (or `layers` blocks) and a 1,024-token vocabulary, on
    `device`: "cpu", "meta", or "auto" (CPU while the copy fits in `CPU_BYTES_LIMIT` and its
    attention in `CPU_SCORES_LIMIT`).
    """
    if device not in ("auto", "cpu", "meta"):
        raise OptionError(f"unknown device {device!r}: use auto, cpu or meta")
    if seq < 1 or batch < 1:
        raise OptionError(f"invalid sequence {seq} or batch {batch}: each must be 1 or more")
    require_torch()
    import warnings

    with warnings.catch_warnings():
        # transformers warns about deprecated names and untied weights on every build.
        warnings.simplefilter("ignore")
        return _verify(config, name, seq, batch, layers, device)


def _verify(config: Mapping[str, Any], name: str, seq: int, batch: int, layers: int | None, device: str) -> VerifyReport:
    arch = arch_from_config(config, name)
    text = hf_text_config(config)
    rows: list[Row] = []
    notes: list[str] = []

    # 1. Parameters, exact, at full depth.
    counts = count_params(arch)
    total, active = measure_params(text)
    rows.append(Row("params_total", counts.total, total, TOLERANCES["params_total"]))
    rows.append(Row("params_active", counts.active, active, TOLERANCES["params_active"]))

    # 2. FLOPs per token: the estimate's full-matrix attention term against eager attention.
    flop_kept = _kept_layers(arch, layers)
    forward, train = measure_flops(text, arch, flop_kept, seq, batch)
    flops = count_flops(arch, seq)
    tolerance = _flop_tolerance(arch)
    rows.append(Row("forward_flop_per_token", flops.forward_flop_per_token_at_seq, forward, tolerance))
    rows.append(Row("train_flop_per_token", flops.train_flop_per_token_at_seq, train, tolerance))

    # 3. Bytes, on a copy with a few blocks.
    byte_kept = _kept_layers(arch, layers if layers is not None else _default_byte_layers(arch))
    kv, kv_device = measure_kv(text, arch, byte_kept, seq, batch, device)
    rows.append(Row("kv_cache_bytes_per_token", kv_cache_bytes(arch, seq) / seq, kv, TOLERANCES["kv_cache_bytes_per_token"]))

    state, small, state_device = measure_training_state(text, arch, byte_kept, seq, device)
    n_small = count_params(small).total
    state_note = f"fp32 copy with {small.num_layers} layer{'s' if small.num_layers != 1 else ''} and V = {small.vocab_size:,} ({n_small:,} parameters), {state_device}"
    rows.append(Row("gradients_bytes", OPTIMIZERS["adam-fp32"].gradients * n_small, state["gradients"], 0.0, state_note))
    rows.append(Row("optimizer_bytes", OPTIMIZERS["adam-fp32"].optimizer * n_small, state["adam"], 0.0, "AdamW; " + state_note))
    rows.append(Row("optimizer_bytes_sgd", OPTIMIZERS["sgd-fp32"].optimizer * n_small, state["sgd"], 0.0, "SGD with momentum; " + state_note))

    activations, act_device, kernel = measure_activations(text, arch, byte_kept, seq, batch, device)
    profile = transformers_profile(arch.model_type)
    for mode, measured in activations.items():
        estimate = sum(
            activation_bytes_per_layer(
                layer, arch.hidden_size, seq, batch, mode, attention_kernel=kernel, profile=profile
            ).total
            for layer in arch.layers
        ) / arch.num_layers
        rows.append(Row(f"activations_bytes_per_layer_{mode}", estimate, measured, TOLERANCES[f"activations_bytes_per_layer_{mode}"],
                        f"{'SDPA' if kernel == 'flash' else 'eager'} attention, bf16, {act_device}"))

    if device == "auto" and "meta" in (kv_device, act_device, state_device):
        notes.append(
            f"byte measurements on the meta device ran there because the copy needs more than {CPU_BYTES_LIMIT / 1e9:g} GB "
            f"or batch · seq² exceeds {CPU_SCORES_LIMIT:,} on CPU"
        )
    return VerifyReport(name, seq, batch, len(flop_kept), arch.num_layers, tuple(rows), tuple(notes))


def _default_byte_layers(arch: ModelArch) -> int:
    """Return two blocks of each kind, so that each kind is measured in a block other than the
    first, which also saves tensors that every block shares (token ids, rotary tables)."""
    return min(arch.num_layers, 2 * len(set(arch.layers)))


def config_from_file(path: str) -> dict[str, Any]:
    with open(path, "rb") as handle:
        return json.loads(handle.read())
