"""napkin-ml: the napkin math of ML system design, on real model architectures.

The public API, importable from ``napkin`` directly (each name is loaded on first use, so that
``import napkin`` stays fast)::

    import napkin

    arch = napkin.load_model("llama-3-70b")            # a preset, or a path to a config.json
    napkin.count_params(arch).total                     # 70,553,706,496
    napkin.summarize_model(arch, seq=8192).steps        # the derivation, step by step
    napkin.training_bill(70e9, 15e12, 1024, 989.4e12, 0.4, 2.0).cost_usd
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Attention": "arch",
    "DenseMLP": "arch",
    "Layer": "arch",
    "ModelArch": "arch",
    "MoE": "arch",
    "ConfigError": "errors",
    "NapkinError": "errors",
    "OptionError": "errors",
    "UnitError": "errors",
    "UnknownNameError": "errors",
    "Step": "derivation",
    "FlopCount": "flops",
    "count_flops": "flops",
    "palm_model_flop_per_token": "flops",
    "GPU": "hardware",
    "custom_gpu": "hardware",
    "get_gpu": "hardware",
    "list_gpus": "hardware",
    "arch_from_config": "hf",
    "load_config_text": "hf",
    "activation_bytes_per_layer": "memory",
    "activation_bytes_total": "memory",
    "kv_cache_bytes": "memory",
    "kv_cache_bytes_per_token": "memory",
    "min_gpus": "memory",
    "training_state": "memory",
    "weight_bytes": "memory",
    "ParamCount": "params",
    "count_params": "params",
    "list_presets": "presets",
    "load_model": "presets",
    "resolve_preset": "presets",
    "MemoryEstimate": "fit",
    "inference_memory": "fit",
    "training_memory": "fit",
    "KVCapacity": "kv",
    "KVSize": "kv",
    "kv_capacity": "kv",
    "kv_size": "kv",
    "Roofline": "roofline",
    "analyze_roofline": "roofline",
    "ServingCost": "serving",
    "serving_cost": "serving",
    "ModelSummary": "summary",
    "summarize_model": "summary",
    "TrainingBill": "training",
    "training_bill": "training",
    "Layout": "parallel",
    "LayoutEstimate": "layout",
    "estimate_layout": "layout",
    "Plan": "plan",
    "plan_layouts": "plan",
    "FinetuneMemory": "finetune",
    "finetune_memory": "finetune",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'napkin' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
