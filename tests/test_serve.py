"""Serving capacity against published vLLM start-up logs and the KV traps of other tools.

vLLM prints "GB" and "GiB" for bytes ÷ 2^30, so every logged size here is in GiB. Tolerances:
KV tokens and concurrency within 3%, the weights line ("model loading took X GiB") within 2%.
"""

from __future__ import annotations

import pytest

from napkin.engine import EngineSettings, kv_budget
from napkin.hardware import get_gpu
from napkin.params import count_params
from napkin.presets import load_model
from napkin.serve import request_kv_bytes_per_gpu, serve_size
from napkin.weights import expert_params, serving_weights, weight_element_bytes

GIB = 2**30


def arch_total(arch) -> int:
    return count_params(arch).total


def _vllm(model: str, gpu: str, context: int, *, gpus: int = 1, utilization: float = 0.9, **settings: object):
    engine = EngineSettings(engine="vllm", gpu_memory_utilization=utilization, **settings)  # type: ignore[arg-type]
    return serve_size(load_model(model), get_gpu(gpu), context, engine, gpus=gpus)


def test_vllm_rtx3090_llama31_8b() -> None:
    # github.com/vllm-project/vllm issue 10517: vLLM 0.6 (V0) on one RTX 3090, utilization 0.9,
    # max_model_len 20,000: weights 14.9888 GiB, non-torch 0.35 GiB, 1,952 blocks = 31,232 tokens,
    # concurrency 1.56. V0 profiles the whole max_model_len in one pass (no chunked prefill).
    size = _vllm("llama-3.1-8b", "rtx-3090", 20000, max_num_batched_tokens=20000, non_torch_bytes=0.35 * GIB)
    assert size.budget.gpu_total_bytes / GIB == pytest.approx(23.58, abs=0.005)
    assert size.budget.weights.per_gpu_bytes / GIB == pytest.approx(14.9888, rel=0.02)
    assert size.budget.kv_cache_tokens == pytest.approx(31232, rel=0.03)
    assert size.max_concurrency == pytest.approx(1.56, rel=0.03)


def test_vllm_h100_llama3_8b() -> None:
    # github.com/vllm-project/vllm pull 10511: Meta-Llama-3-8B, total_gpu_memory 79.22 GiB,
    # utilization 0.9, weights 14.96 GiB, non-torch 1.79 GiB, activation peak 1.26 GiB, KV 53.29 GiB.
    # The log does not name the GPU; pull 12126, by the same author a month later, logs the same
    # 79.22 GiB and names it an H100 80GB, so the catalog files 79.22 GiB under the H100.
    size = _vllm("llama-3-8b", "h100", 8192, max_num_batched_tokens=8192, non_torch_bytes=1.79 * GIB)
    assert size.budget.gpu_total_bytes / GIB == pytest.approx(79.22, abs=0.005)
    assert size.budget.weights.per_gpu_bytes / GIB == pytest.approx(14.96, rel=0.02)
    assert size.budget.kv_cache_bytes_per_gpu / GIB == pytest.approx(53.29, rel=0.03)


def test_vllm_h100_llama3_8b_logged_overheads() -> None:
    # The same log with its own activation figure: the accounting alone, to the log's rounding.
    size = _vllm("llama-3-8b", "h100", 8192, non_torch_bytes=1.79 * GIB, activation_peak_bytes=1.26 * GIB)
    assert size.budget.kv_cache_bytes_per_gpu / GIB == pytest.approx(53.29, abs=0.03)


@pytest.mark.parametrize(
    ("log", "gpus", "utilization", "weights_gib", "tokens", "concurrency"),
    [
        ("log/vllm-7B-1gpuA10080GB-0.25GRAM.log", 1, 0.25, 14.2488, 93872, 5.73),
        ("log/vllm-7B-1gpuA10080GB-0.5GRAM.log", 1, 0.5, 14.2488, 464848, 28.37),
        ("log/vllm-7B-2gpuA10080GB-0.25GRAM-same-node.log", 2, 0.25, 7.1217, 450192, 27.48),
    ],
)
def test_vllm_a100_qwen2_7b(log: str, gpus: int, utilization: float, weights_gib: float, tokens: int, concurrency: float) -> None:
    # github.com/dennislee22/vLLM-benchmarking, the file named in `log`: vLLM 0.10.1.1 (V1),
    # Qwen2-7B-Instruct, max_model_len 16,384, defaults otherwise.
    size = _vllm("qwen2-7b-instruct", "a100-80gb", 16384, gpus=gpus, utilization=utilization)
    assert size.budget.weights.per_gpu_bytes / GIB == pytest.approx(weights_gib, rel=0.02)
    assert size.budget.kv_cache_tokens == pytest.approx(tokens, rel=0.03)
    assert size.max_concurrency == pytest.approx(concurrency, rel=0.03)


def test_vllm_h100_llama31_70b_tokens_from_budget() -> None:
    # github.com/LMCache/LMCache pull 1769 (FAQ): Llama-3.1-70B on 4 × H100, tp 4, max_model_len
    # 131,072: 32.06 GiB of KV per GPU holds 420,208 tokens, concurrency 3.21. The FAQ gives
    # neither the utilization nor the vLLM version, so only the tokens from the budget are checked.
    size = _vllm("llama-3.1-70b", "h100", 131072, gpus=4, kv_cache_memory_bytes=32.06 * GIB)
    assert size.budget.kv_cache_tokens == pytest.approx(420208, rel=0.03)
    assert size.max_concurrency == pytest.approx(3.21, rel=0.03)


def test_vllm_mistral_7b_weights() -> None:
    # github.com/vllm-project/vllm issue 2140: vLLM 0.5.0.post1 loads Mistral-7B-v0.1 in 13.4966 GiB.
    weights = serving_weights(load_model("mistral-7b"), "bf16")
    assert weights.per_gpu_bytes / GIB == pytest.approx(13.4966, rel=0.02)


def test_a100_cuda_total_matches_two_logs() -> None:
    # The two single-GPU logs above differ only in utilization (0.25, 0.5); their KV budgets,
    # 5.01 and 24.83 GiB, differ by 0.25 × total.
    total = get_gpu("a100-80gb").hbm_cuda_bytes / GIB
    assert (24.83 - 5.01) / 0.25 == pytest.approx(total, abs=0.01)


def test_engine_budget_parts_sum() -> None:
    budget = kv_budget(load_model("llama-3-70b"), get_gpu("h100"), EngineSettings(), tp=4)
    parts = (
        budget.weights.per_gpu_bytes + budget.activation_peak_bytes + budget.non_torch_bytes
        + budget.cuda_graph_bytes + budget.kv_cache_bytes_per_gpu
    )
    assert parts == pytest.approx(budget.requested_bytes, rel=1e-12)
    assert budget.gpu_blocks * budget.block_bytes_per_gpu <= budget.kv_cache_bytes_per_gpu


def test_plain_engine_matches_kv_command() -> None:
    # Plain accounting is `napkin kv`'s: 160 GB − 141.1 GB of weights on two H100s.
    size = serve_size(load_model("llama-3-70b"), get_gpu("h100"), 8192, EngineSettings(engine="plain"), gpus=2)
    assert size.budget.kv_cache_bytes_per_gpu * 2 == pytest.approx(18.89e9, rel=1e-3)
    assert int(size.max_concurrency) == 7


# --- KV traps from other tools' bug reports --------------------------------------------------


def test_trap_gemma3_sliding_window() -> None:
    # github.com/unslothai/unsloth pull 4757: Gemma-3-27B at 131,072 tokens needs 10.41 GiB of
    # bf16 KV (not 81.38 GiB): 52 of its 62 layers keep only a 1,024-token window.
    per_request = request_kv_bytes_per_gpu(load_model("gemma-3-27b"), 131072, "bf16", 1, 16)
    assert per_request / GIB == pytest.approx(10.41, rel=0.01)


def test_trap_deepseek_mla() -> None:
    # github.com/unslothai/unsloth pull 4757: DeepSeek-V3(.1) at 163,840 tokens caches the MLA
    # latent, 10.72 GiB in bf16 (not 2.08 GiB). Tensor parallelism keeps the whole latent on each GPU.
    arch = load_model("deepseek-v3")
    assert request_kv_bytes_per_gpu(arch, 163840, "bf16", 1, 16) / GIB == pytest.approx(10.72, rel=0.01)
    assert request_kv_bytes_per_gpu(arch, 163840, "bf16", 8, 16) / GIB == pytest.approx(10.72, rel=0.01)


def test_trap_quantized_kv_doubles_tokens() -> None:
    arch, gpu = load_model("llama-3.1-8b"), get_gpu("h100")
    bf16 = serve_size(arch, gpu, 8192, EngineSettings(), kv_dtype="bf16")
    fp8 = serve_size(arch, gpu, 8192, EngineSettings(), kv_dtype="fp8")
    assert fp8.budget.kv_bytes_per_token_per_gpu * 2 == bf16.budget.kv_bytes_per_token_per_gpu
    assert fp8.budget.kv_cache_tokens == pytest.approx(2 * bf16.budget.kv_cache_tokens, abs=16)


def test_trap_gqa_counts_kv_heads() -> None:
    # Llama-3-70B: 64 query heads share 8 KV heads: 2 · 80 · 8 · 128 · 2 bytes per token, not 8× more.
    budget = kv_budget(load_model("llama-3-70b"), get_gpu("h200"), EngineSettings(), tp=1)
    assert budget.kv_bytes_per_token_per_gpu == 2 * 80 * 8 * 128 * 2


def test_trap_kv_heads_replicated_beyond_tp() -> None:
    # At tp 16 each GPU still keeps one of the 8 KV heads: the per-GPU share stops at 1/8.
    budget = kv_budget(load_model("llama-3-70b"), get_gpu("h100"), EngineSettings(), tp=16)
    assert budget.kv_bytes_per_token_per_gpu == 2 * 80 * 1 * 128 * 2


def test_trap_experts_divided_under_ep() -> None:
    # github.com/ai-dynamo/aiconfigurator pull 1390: under expert parallelism 8 each GPU keeps
    # 1/8 of the experts, not all of them.
    arch = load_model("qwen3-30b-a3b")
    weights = serving_weights(arch, "bf16", tp=1, ep=8)
    experts = expert_params(arch) * 2
    assert weights.expert_bytes == experts
    assert weights.per_gpu_bytes == pytest.approx(weights.total_bytes - experts + experts / 8, rel=1e-12)


def test_weights_parts_sum() -> None:
    weights = serving_weights(load_model("mixtral-8x7b"), "fp8", tp=2)
    assert weights.embedding_bytes + weights.expert_bytes + weights.other_bytes == weights.total_bytes
    assert weights.per_gpu_bytes == pytest.approx(weights.total_bytes / 2, rel=1e-12)


def test_int4_and_mxfp4_bytes() -> None:
    assert weight_element_bytes("int4", 128) == pytest.approx(0.5 + 2.5 / 128)
    assert weight_element_bytes("mxfp4") == pytest.approx(0.5 + 1 / 32)
    # gpt-oss keeps attention in bf16 and its experts in MXFP4.
    arch = load_model("gpt-oss-120b")
    weights = serving_weights(arch, "mxfp4")
    experts = expert_params(arch)
    assert weights.expert_bytes == pytest.approx(experts * (0.5 + 1 / 32))
    assert weights.other_bytes + weights.embedding_bytes == 2 * (arch_total(arch) - experts)


def test_max_context_bound_by_kv() -> None:
    size = _vllm("llama-3.1-8b", "rtx-3090", 8192, max_num_batched_tokens=8192)
    assert size.max_context_tokens == size.budget.kv_cache_tokens
    assert size.max_context_binding == "KV cache memory"


def test_max_context_bound_by_positions() -> None:
    size = _vllm("mixtral-8x7b", "h200", 4096, gpus=2)
    assert size.max_context_tokens == load_model("mixtral-8x7b").max_position_embeddings
    assert size.max_context_binding.startswith("the model's maximum positions")
