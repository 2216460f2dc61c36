"""Read a HuggingFace ``config.json`` into a `ModelArch`.

Written by hand rather than through ``transformers.AutoConfig`` because the CLI must start in
tens of milliseconds, and because each family's defaults that matter for counting (tied
embeddings, biases, norm placement) have to be stated here anyway. Defaults follow the
``transformers`` configuration class of each family.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from .arch import Attention, DenseMLP, Layer, ModelArch, MoE
from .errors import ConfigError

__all__ = ["SUPPORTED_MODEL_TYPES", "arch_from_config", "load_config_text"]

_MISSING = object()

# Upper bounds on config integers, far above any published model (the largest have about 130
# layers, hidden sizes near 25,600 and vocabularies near 260,000). A larger value is a broken or
# hostile file, and rejecting it keeps every estimate fast and finite.
_MAX_CONFIG_INT = 2**31
_MAX_BY_KEY = {
    "num_hidden_layers": 10_000,
    "n_layer": 10_000,
    "hidden_size": 2**20,
    "n_embd": 2**20,
    "num_attention_heads": 2**16,
    "n_head": 2**16,
    "num_key_value_heads": 2**16,
    "num_kv_heads": 2**16,
    "n_head_kv": 2**16,
    "head_dim": 2**16,
    "intermediate_size": 2**24,
    "moe_intermediate_size": 2**24,
    "ffn_hidden_size": 2**24,
    "n_inner": 2**24,
    "vocab_size": 2**24,
    "num_local_experts": 2**16,
    "num_experts": 2**16,
    "n_routed_experts": 2**16,
}
_LAYER_TYPES = {"full_attention": False, "sliding_attention": True}
# Keys that transformers reads as nested objects (dicts). napkin counts without most of them,
# but `napkin verify` hands the config to transformers, so every entry point rejects a list or
# a number there instead of passing it on.
_OBJECT_KEYS = ("rope_scaling", "rope_parameters", "quantization_config", "text_config", "vision_config")


def load_config_text(text: str | bytes, source: str) -> dict[str, Any]:
    """Parse config.json text into a dict; reject malformed JSON, duplicate keys and NaN."""

    def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise ConfigError(f"{source}: duplicate key {key!r}; keep one of them")
            result[key] = value
        return result

    def _reject_constant(name: str) -> None:
        raise ConfigError(f"{source}: {name} is not a valid JSON number; replace it with a number")

    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ConfigError(
                f"{source}: not UTF-8 text (invalid byte at offset {error.start}); a config.json is UTF-8 JSON"
            ) from None
    try:
        data = json.loads(text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise ConfigError(
            f"{source}: invalid JSON at line {error.lineno} column {error.colno} ({error.msg}); "
            "check that the file is a complete config.json"
        ) from None
    except RecursionError:
        raise ConfigError(f"{source}: JSON nested too deeply to be a model config") from None
    except ConfigError:
        raise
    except ValueError:
        # Python rejects integer literals of more than 4,300 digits with a ValueError.
        raise ConfigError(f"{source}: a number in the file has more than 4,300 digits; no model config has such numbers") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a JSON object at the top level, got {_json_type(data)}")
    return data


def _json_type(value: Any) -> str:
    """Return the JSON name of a parsed value's type: null, a boolean, a number, a string, an array or an object."""
    if isinstance(value, Mapping):
        return "an object"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array"


class _Reader:
    """Typed access to one config dict; errors name the file and the key."""

    def __init__(self, config: Mapping[str, Any], source: str, model_type: str) -> None:
        self.config = config
        self.source = source
        self.model_type = model_type

    def _fail(self, key: str, expected: str, value: Any) -> ConfigError:
        return ConfigError(
            f"{self.source}: {key!r} must be {expected}, got {json.dumps(value)[:40]}; fix the value in config.json"
        )

    def get(self, *keys: str, default: Any = _MISSING) -> Any:
        for key in keys:
            if key in self.config and self.config[key] is not None:
                return self.config[key]
        if default is _MISSING:
            names = " or ".join(repr(k) for k in keys)
            raise ConfigError(
                f"{self.source}: missing required key {names} for model_type {self.model_type!r}; add it to config.json"
            )
        return default

    def _present(self, keys: tuple[str, ...]) -> str | None:
        return next((key for key in keys if self.config.get(key) is not None), None)

    def int(self, *keys: str, default: Any = _MISSING, minimum: int = 1) -> int:
        key = self._present(keys)
        if key is None and default is not _MISSING:
            return default
        value = self.get(*keys)
        if isinstance(value, float) and value.is_integer() and math.isfinite(value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(key or keys[0], "an integer", value)
        maximum = _MAX_BY_KEY.get(key or keys[0], _MAX_CONFIG_INT)
        if value < minimum or value > maximum:
            raise self._fail(key or keys[0], f"an integer from {minimum:,} to {maximum:,}", value)
        return value

    def optional_int(self, *keys: str, minimum: int = 1) -> int | None:
        value = self.get(*keys, default=None)
        return None if value is None else self.int(*keys, minimum=minimum)

    def bool(self, *keys: str, default: bool) -> bool:
        value = self.get(*keys, default=default)
        if not isinstance(value, bool):
            raise self._fail(keys[0], "true or false", value)
        return value

    def int_list(self, key: str) -> list[int]:
        value = self.get(key, default=[])
        if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise self._fail(key, "a list of integers", value)
        return value

    def layer_types(self, num_layers: int) -> list[str] | None:
        value = self.get("layer_types", default=None)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._fail("layer_types", "a list of strings", value)
        unknown = sorted({v for v in value if v not in _LAYER_TYPES})
        if unknown:
            raise ConfigError(
                f"{self.source}: unsupported layer type {unknown[0]!r} in 'layer_types'; "
                f"supported: {', '.join(_LAYER_TYPES)}"
            )
        if len(value) != num_layers:
            raise ConfigError(
                f"{self.source}: 'layer_types' has {len(value)} entries but num_hidden_layers is {num_layers}; "
                "make them agree"
            )
        return value


def _windows_from_layer_types(
    reader: _Reader, num_layers: int, window: int | None, fallback: Callable[[int], bool]
) -> list[int | None]:
    """Return each layer's sliding window: from ``layer_types`` if present, else from `fallback(i)`."""
    types = reader.layer_types(num_layers)
    if types is not None:
        sliding = [_LAYER_TYPES[t] for t in types]
    else:
        sliding = [fallback(i) for i in range(num_layers)]
    if any(sliding) and window is None:
        raise ConfigError(f"{reader.source}: sliding-window layers are listed but 'sliding_window' is missing")
    return [window if s else None for s in sliding]


def _mha(r: _Reader, hidden: int, **overrides: Any) -> Attention:
    heads = r.int("num_attention_heads", "n_head")
    kv_heads = r.int("num_key_value_heads", "num_kv_heads", "n_head_kv", default=heads)
    head_dim = r.int("head_dim", default=0, minimum=1) or None
    if head_dim is None:
        if hidden % heads:
            raise ConfigError(
                f"{r.source}: hidden_size {hidden} is not divisible by num_attention_heads {heads} "
                "and no 'head_dim' is given; add 'head_dim'"
            )
        head_dim = hidden // heads
    if heads % kv_heads:
        raise ConfigError(
            f"{r.source}: num_attention_heads {heads} is not a multiple of num_key_value_heads {kv_heads}"
        )
    return Attention(num_heads=heads, num_kv_heads=kv_heads, head_dim=head_dim, **overrides)


def _llama_like(
    r: _Reader,
    *,
    qkv_bias: bool | None = None,
    qk_norm: str = "none",
    norms: int = 2,
    tie_default: bool = False,
    windows: Callable[[_Reader, int], list[int | None]] | None = None,
    moe_layer: Callable[[_Reader, int], MoE | None] | None = None,
    gated: bool = True,
) -> dict[str, Any]:
    hidden = r.int("hidden_size")
    num_layers = r.int("num_hidden_layers")
    bias = r.bool("attention_bias", default=False)
    attention = _mha(
        r,
        hidden,
        qkv_bias=bias if qkv_bias is None else qkv_bias,
        out_bias=bias,
        qk_norm=qk_norm,  # type: ignore[arg-type]
    )
    dense = DenseMLP(r.int("intermediate_size"), gated=gated, bias=r.bool("mlp_bias", default=False))
    layer_windows = windows(r, num_layers) if windows else [None] * num_layers
    layers = []
    for i in range(num_layers):
        moe = moe_layer(r, i) if moe_layer else None
        layers.append(Layer(attention, moe or dense, sliding_window=layer_windows[i], norms=norms))
    return dict(
        hidden_size=hidden,
        vocab_size=r.int("vocab_size"),
        layers=tuple(layers),
        tie_word_embeddings=r.bool("tie_word_embeddings", default=tie_default),
        max_position_embeddings=r.optional_int("max_position_embeddings"),
    )


def _mistral_windows(r: _Reader, num_layers: int) -> list[int | None]:
    window = r.optional_int("sliding_window")
    return [window] * num_layers


def _qwen_windows(r: _Reader, num_layers: int) -> list[int | None]:
    """Qwen2/Qwen3 use a window only when ``use_sliding_window`` is true, and only from layer
    ``max_window_layers`` on; Qwen2.5 configs carry an inactive ``sliding_window`` value."""
    if not r.bool("use_sliding_window", default=False):
        return [None] * num_layers
    window = r.optional_int("sliding_window")
    first = r.int("max_window_layers", default=num_layers, minimum=0)
    return _windows_from_layer_types(r, num_layers, window, lambda i: window is not None and i >= first)


def _experts_per_token(r: _Reader, experts: int, *keys: str) -> int:
    """Return the experts each token is routed to, which must not exceed the experts there are."""
    per_token = r.int(*keys)
    if per_token > experts:
        raise ConfigError(
            f"{r.source}: {keys[0]!r} is {per_token} but the model has only {experts} experts; "
            "fix one of them in config.json"
        )
    return per_token


def _mixtral_moe(r: _Reader, i: int) -> MoE:
    experts = r.int("num_local_experts")
    return MoE(
        num_experts=experts,
        experts_per_token=_experts_per_token(r, experts, "num_experts_per_tok"),
        expert=DenseMLP(r.int("intermediate_size")),
    )


def _qwen3_moe_layer(r: _Reader, i: int) -> MoE | None:
    experts = r.int("num_experts", default=0, minimum=0)
    step = r.int("decoder_sparse_step", default=1)
    if experts == 0 or i in r.int_list("mlp_only_layers") or (i + 1) % step:
        return None
    return MoE(
        num_experts=experts,
        experts_per_token=_experts_per_token(r, experts, "num_experts_per_tok"),
        expert=DenseMLP(r.int("moe_intermediate_size")),
    )


def _parse_llama(r: _Reader) -> dict[str, Any]:
    return _llama_like(r)


def _parse_mistral(r: _Reader) -> dict[str, Any]:
    return _llama_like(r, windows=_mistral_windows)


def _parse_mixtral(r: _Reader) -> dict[str, Any]:
    return _llama_like(r, windows=_mistral_windows, moe_layer=_mixtral_moe)


def _parse_qwen2(r: _Reader) -> dict[str, Any]:
    parts = _llama_like(r, qkv_bias=True, windows=_qwen_windows)
    # Qwen2 has biases on q, k and v but not on the output projection.
    return _with_attention(parts, out_bias=False)


def _parse_qwen3(r: _Reader) -> dict[str, Any]:
    return _llama_like(r, qk_norm="per_head", windows=_qwen_windows)


def _parse_qwen3_moe(r: _Reader) -> dict[str, Any]:
    return _llama_like(r, qk_norm="per_head", windows=_qwen_windows, moe_layer=_qwen3_moe_layer)


def _parse_olmo2(r: _Reader) -> dict[str, Any]:
    # OLMo 2 normalises the whole projected q and k (widths a·d and a_kv·d), and places its two
    # norms after attention and after the MLP instead of before them.
    return _llama_like(r, qk_norm="full")


def _parse_phi3(r: _Reader) -> dict[str, Any]:
    return _llama_like(r, windows=_mistral_windows)


def _parse_gemma2(r: _Reader) -> dict[str, Any]:
    # Gemma 2 alternates sliding-window (even index) and global layers; each block has four norms.
    def windows(r: _Reader, n: int) -> list[int | None]:
        return _windows_from_layer_types(r, n, r.optional_int("sliding_window"), lambda i: (i + 1) % 2 == 1)

    return _llama_like(r, norms=4, tie_default=True, windows=windows)


def _parse_gemma3(r: _Reader) -> dict[str, Any]:
    # Gemma 3: `pattern - 1` local sliding-window layers, then one global layer; q/k norms per head.
    def windows(r: _Reader, n: int) -> list[int | None]:
        pattern = r.int("sliding_window_pattern", "_sliding_window_pattern", default=6)
        return _windows_from_layer_types(r, n, r.optional_int("sliding_window"), lambda i: (i + 1) % pattern != 0)

    return _llama_like(r, qk_norm="per_head", norms=4, tie_default=True, windows=windows)


def _parse_gpt2(r: _Reader) -> dict[str, Any]:
    hidden = r.int("n_embd", "hidden_size")
    heads = r.int("n_head", "num_attention_heads")
    if hidden % heads:
        raise ConfigError(f"{r.source}: n_embd {hidden} is not divisible by n_head {heads}")
    attention = Attention(heads, heads, hidden // heads, qkv_bias=True, out_bias=True)
    mlp = DenseMLP(r.int("n_inner", default=4 * hidden), gated=False, bias=True)
    num_layers = r.int("n_layer", "num_hidden_layers")
    positions = r.int("n_positions", "max_position_embeddings")
    return dict(
        hidden_size=hidden,
        vocab_size=r.int("vocab_size"),
        layers=tuple(Layer(attention, mlp, norms=2, norm_bias=True) for _ in range(num_layers)),
        tie_word_embeddings=r.bool("tie_word_embeddings", default=True),
        learned_positions=positions,
        final_norm_bias=True,
        max_position_embeddings=positions,
    )


def _parse_falcon(r: _Reader) -> dict[str, Any]:
    # Two key layouts: the original release ('RefinedWeb': n_head, n_head_kv, n_layer) and the
    # in-library one (num_attention_heads, num_kv_heads, num_hidden_layers).
    hidden = r.int("hidden_size")
    heads = r.int("num_attention_heads", "n_head")
    new_arch = r.bool("new_decoder_architecture", default=r.model_type in {"RefinedWeb"})
    multi_query = r.bool("multi_query", default=True)
    if new_arch:
        kv_heads = r.int("num_kv_heads", "n_head_kv", default=heads)
    else:
        kv_heads = 1 if multi_query else heads
    if r.bool("alibi", default=False):
        raise ConfigError(f"{r.source}: Falcon with alibi=true is not supported; only rotary Falcon models are")
    # transformers' FalconAttention raises unless the heads split hidden_size evenly; a floored
    # head width would silently undercount every projection.
    if hidden % heads:
        raise ConfigError(f"{r.source}: hidden_size {hidden} is not divisible by num_attention_heads {heads}; fix one of them")
    if heads % kv_heads:
        raise ConfigError(
            f"{r.source}: num_attention_heads {heads} is not a multiple of num_kv_heads {kv_heads}; fix one of them"
        )
    bias = r.bool("bias", default=False)
    attention = Attention(heads, kv_heads, hidden // heads, qkv_bias=bias, out_bias=bias)
    mlp = DenseMLP(r.int("ffn_hidden_size", default=4 * hidden), gated=False, bias=bias)
    # The new decoder architecture has separate input norms for attention and MLP (ln_attn,
    # ln_mlp); the 7B layout shares one input_layernorm.
    norms = r.int("num_ln_in_parallel_attn", default=2) if new_arch else 1
    if not r.bool("parallel_attn", default=True) and not new_arch:
        norms = 2
    num_layers = r.int("num_hidden_layers", "n_layer")
    return dict(
        hidden_size=hidden,
        vocab_size=r.int("vocab_size"),
        layers=tuple(Layer(attention, mlp, norms=norms, norm_bias=True) for _ in range(num_layers)),
        tie_word_embeddings=r.bool("tie_word_embeddings", default=True),
        final_norm_bias=True,
        max_position_embeddings=r.optional_int("max_position_embeddings"),
    )


def _parse_deepseek(r: _Reader) -> dict[str, Any]:
    """DeepSeek-V2 and V3: MLA attention, then MoE blocks after `first_k_dense_replace` dense ones.

    The multi-token-prediction module of V3 (`num_nextn_predict_layers`) is a training add-on
    that the published 671B total excludes, so it is left out here too.
    """
    hidden = r.int("hidden_size")
    heads = r.int("num_attention_heads")
    attention = Attention(
        num_heads=heads,
        num_kv_heads=heads,
        head_dim=r.int("qk_nope_head_dim") + r.int("qk_rope_head_dim"),
        out_bias=False,
        qkv_bias=r.bool("attention_bias", default=False),
        kind="mla",
        q_lora_rank=r.optional_int("q_lora_rank"),
        kv_lora_rank=r.int("kv_lora_rank"),
        qk_nope_head_dim=r.int("qk_nope_head_dim"),
        qk_rope_head_dim=r.int("qk_rope_head_dim"),
        v_head_dim=r.int("v_head_dim"),
    )
    dense = DenseMLP(r.int("intermediate_size"))
    expert_size = r.int("moe_intermediate_size")
    routed = r.int("n_routed_experts", default=0, minimum=0)
    shared_count = r.int("n_shared_experts", default=0, minimum=0)
    shared = DenseMLP(expert_size * shared_count) if shared_count else None
    first_dense = r.int("first_k_dense_replace", default=0, minimum=0)
    frequency = r.int("moe_layer_freq", default=1)
    # V3's auxiliary-loss-free balancing keeps a per-expert score-correction bias. It is
    # updated by the balancing rule, not by the optimizer, so it is a buffer, not a parameter.
    router_bias = False
    num_layers = r.int("num_hidden_layers")
    layers = []
    for i in range(num_layers):
        if routed and i >= first_dense and i % frequency == 0:
            per_token = _experts_per_token(r, routed, "num_experts_per_tok")
            mlp: DenseMLP | MoE = MoE(routed, per_token, DenseMLP(expert_size), shared, router_bias)
        else:
            mlp = dense
        layers.append(Layer(attention, mlp, norms=2))
    notes = ()
    if r.int("num_nextn_predict_layers", default=0, minimum=0):
        notes = ("multi-token-prediction layers in the checkpoint are not counted (not part of the published total)",)
    return dict(
        hidden_size=hidden,
        vocab_size=r.int("vocab_size"),
        layers=tuple(layers),
        tie_word_embeddings=r.bool("tie_word_embeddings", default=False),
        max_position_embeddings=r.optional_int("max_position_embeddings"),
        notes=notes,
    )


def _parse_gpt_oss(r: _Reader) -> dict[str, Any]:
    hidden = r.int("hidden_size")
    attention = _mha(r, hidden, qkv_bias=r.bool("attention_bias", default=True),
                     out_bias=r.bool("attention_bias", default=True), sinks=True)
    experts = r.int("num_local_experts")
    moe = MoE(
        num_experts=experts,
        experts_per_token=_experts_per_token(r, experts, "num_experts_per_tok", "experts_per_token"),
        expert=DenseMLP(r.int("intermediate_size"), gated=True, bias=True),
        router_bias=True,
    )
    num_layers = r.int("num_hidden_layers")
    windows = _windows_from_layer_types(r, num_layers, r.optional_int("sliding_window"), lambda i: i % 2 == 0)
    return dict(
        hidden_size=hidden,
        vocab_size=r.int("vocab_size"),
        layers=tuple(Layer(attention, moe, sliding_window=w, norms=2) for w in windows),
        tie_word_embeddings=r.bool("tie_word_embeddings", default=False),
        max_position_embeddings=r.optional_int("max_position_embeddings"),
    )


def _with_attention(parts: dict[str, Any], **changes: Any) -> dict[str, Any]:
    from dataclasses import replace

    attention = replace(parts["layers"][0].attention, **changes)
    parts["layers"] = tuple(replace(layer, attention=attention) for layer in parts["layers"])
    return parts


_PARSERS: dict[str, Callable[[_Reader], dict[str, Any]]] = {
    "llama": _parse_llama,
    "mistral": _parse_mistral,
    "mixtral": _parse_mixtral,
    "qwen2": _parse_qwen2,
    "qwen3": _parse_qwen3,
    "qwen3_moe": _parse_qwen3_moe,
    "olmo2": _parse_olmo2,
    "phi3": _parse_phi3,
    "gemma2": _parse_gemma2,
    "gemma3": _parse_gemma3,
    "gemma3_text": _parse_gemma3,
    "gpt2": _parse_gpt2,
    "falcon": _parse_falcon,
    "RefinedWeb": _parse_falcon,
    "RefinedWebModel": _parse_falcon,
    "deepseek_v2": _parse_deepseek,
    "deepseek_v3": _parse_deepseek,
    "gpt_oss": _parse_gpt_oss,
}

SUPPORTED_MODEL_TYPES = tuple(sorted(_PARSERS))


def _siglip_params(vision: Mapping[str, Any], text_hidden: int, source: str) -> tuple[int, int]:
    """Return the parameters of a SigLIP vision tower and of Gemma 3's projector into the text width."""
    r = _Reader(vision, source + " vision_config", "siglip_vision_model")
    width = r.int("hidden_size")
    mlp = r.int("intermediate_size")
    patch = r.int("patch_size")
    channels = r.int("num_channels", default=3)
    patches = (r.int("image_size") // patch) ** 2
    per_layer = 4 * (width * width + width) + 2 * 2 * width + (width * mlp + mlp) + (mlp * width + width)
    embeddings = channels * patch * patch * width + width + patches * width
    post_norm = 2 * width
    projector = width * text_hidden + width  # mm_input_projection_weight and mm_soft_emb_norm
    return embeddings + r.int("num_hidden_layers") * per_layer + post_norm, projector


def _check_objects(config: Mapping[str, Any], source: str) -> None:
    for key in _OBJECT_KEYS:
        value = config.get(key)
        if value is not None and not isinstance(value, Mapping):
            raise ConfigError(
                f"{source}: {key!r} must be a JSON object or null, got {_json_type(value)}; fix the value in config.json"
            )


def arch_from_config(config: Mapping[str, Any], name: str, source: str | None = None) -> ModelArch:
    """Build a `ModelArch` from a parsed config.json dict.

    Raises `ConfigError` naming the file and key when a required key is missing or has the
    wrong type, and listing the supported families for an unknown ``model_type``.
    """
    source = source or name
    if not isinstance(config, Mapping):
        raise ConfigError(f"{source}: expected a JSON object, got {type(config).__name__}")
    model_type = config.get("model_type")
    if model_type is None:
        raise ConfigError(f"{source}: missing required key 'model_type'; add it to config.json")
    if not isinstance(model_type, str) or model_type not in _PARSERS:
        supported = ", ".join(SUPPORTED_MODEL_TYPES)
        raise ConfigError(f"{source}: unsupported model_type {str(model_type)[:40]!r}; supported: {supported}")

    _check_objects(config, source)
    vision_params = projector_params = 0
    text = config
    if model_type == "gemma3" and "text_config" in config:
        text = config["text_config"]
        if not isinstance(text, Mapping):
            raise ConfigError(f"{source}: 'text_config' must be a JSON object")
        vision = config.get("vision_config")
        if vision is not None and not isinstance(vision, Mapping):
            raise ConfigError(f"{source}: 'vision_config' must be a JSON object")
        if isinstance(vision, Mapping):
            hidden = _Reader(text, source, "gemma3_text").int("hidden_size")
            vision_params, projector_params = _siglip_params(vision, hidden, source)
        if "model_type" not in text:
            text = {**text, "model_type": "gemma3_text"}
        _check_objects(text, source + " text_config")

    reader = _Reader(text, source, model_type)
    parts = _PARSERS[model_type](reader)
    if model_type in {"RefinedWeb", "RefinedWebModel"}:
        model_type = "falcon"
    return ModelArch(
        name=name, model_type=model_type, vision_params=vision_params, projector_params=projector_params, **parts
    )
