"""Serving weights per GPU: quantised types, tensor parallelism and expert parallelism.

Quantised checkpoints keep the input embedding and the output head in bf16 and quantise the
linear layers of the blocks, as fp8, AWQ and GPTQ checkpoints served by vLLM do. MXFP4
checkpoints (gpt-oss) quantise only the MoE expert weights; a dense model in mxfp4 quantises
every linear layer. Norms and biases are counted at the quantised width, which is well under
0.1% of any block.
"""

from __future__ import annotations

from dataclasses import dataclass

from .arch import ModelArch, MoE
from .errors import OptionError
from .memory import INT4_GROUP_SIZE, int4_bytes_per_param
from .params import count_params, mlp_params

__all__ = ["SERVING_WEIGHT_DTYPES", "ServingWeights", "expert_params", "serving_weights", "weight_element_bytes"]

SERVING_WEIGHT_DTYPES = ("bf16", "fp16", "fp8", "int8", "int4", "mxfp4")

MXFP4_BLOCK = 32
"""Weights per MXFP4 block; each block of 4-bit values shares one 8-bit power-of-two scale."""


def weight_element_bytes(dtype: str, int4_group_size: int = INT4_GROUP_SIZE) -> float:
    """Return bytes per quantised weight: 2 (bf16), 1 (fp8, int8), 0.5 + 2.5/g (int4), 0.5 + 1/32 (mxfp4)."""
    if dtype in ("bf16", "fp16"):
        return 2.0
    if dtype in ("fp8", "int8"):
        return 1.0
    if dtype == "int4":
        return int4_bytes_per_param(int4_group_size)
    if dtype == "mxfp4":
        return 0.5 + 1 / MXFP4_BLOCK
    raise OptionError(f"unknown weight type {dtype!r}: use one of {', '.join(SERVING_WEIGHT_DTYPES)}")


def expert_params(arch: ModelArch) -> int:
    """Return the parameters of all routed experts (shared experts and routers excluded)."""
    return sum(
        layer.mlp.num_experts * mlp_params(layer.mlp.expert, arch.hidden_size) for layer in arch.layers if isinstance(layer.mlp, MoE)
    )


@dataclass(frozen=True)
class ServingWeights:
    """Weight bytes of one model copy and of each GPU's share."""

    dtype: str
    params: int
    total_bytes: float
    embedding_bytes: float
    expert_bytes: float
    other_bytes: float
    tp: int
    ep: int
    per_gpu_bytes: float

    @property
    def bytes_per_param(self) -> float:
        """Average bytes per parameter over the whole model."""
        return self.total_bytes / self.params


def serving_weights(
    arch: ModelArch, dtype: str = "bf16", *, tp: int = 1, ep: int = 1, int4_group_size: int = INT4_GROUP_SIZE
) -> ServingWeights:
    """Return weight bytes in total and per GPU.

    Per GPU = (embedding + non-expert blocks) ÷ tp + experts ÷ (ep if ep > 1 else tp). With
    expert parallelism each GPU keeps E ÷ ep whole experts; without it, tensor parallelism
    splits every expert. Tensor parallelism also splits the vocabulary (vLLM's
    VocabParallelEmbedding).
    """
    if tp < 1 or ep < 1:
        raise OptionError(f"invalid parallel sizes tp {tp}, ep {ep}: each must be 1 or more")
    element = weight_element_bytes(dtype, int4_group_size)
    params = count_params(arch)
    experts = expert_params(arch)
    if ep > 1:
        counts = {layer.mlp.num_experts for layer in arch.layers if isinstance(layer.mlp, MoE)}
        if not counts:
            raise OptionError(f"--ep {ep} needs a mixture-of-experts model; {arch.name} has no experts: drop --ep")
        uneven = sorted(count for count in counts if count % ep)
        if uneven:
            raise OptionError(f"--ep {ep} does not divide the {uneven[0]} experts of {arch.name}: use a divisor of {uneven[0]}")

    # 1. What stays bf16 and what takes the quantised width.
    embedding_bytes = params.embedding * 2.0
    if dtype == "mxfp4" and experts:
        expert_bytes = experts * element
        other_bytes = (params.non_embedding - experts) * 2.0
    else:
        expert_bytes = experts * element
        other_bytes = (params.non_embedding - experts) * element

    # 2. Each GPU's share.
    per_gpu = (embedding_bytes + other_bytes) / tp + expert_bytes / (ep if ep > 1 else tp)
    total = embedding_bytes + expert_bytes + other_bytes
    return ServingWeights(dtype, params.total, total, embedding_bytes, expert_bytes, other_bytes, tp, ep, per_gpu)
