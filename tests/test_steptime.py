"""Step time, FLOPs per step, MFU and the published training runs they must reproduce."""

from __future__ import annotations

import numpy as np
import pytest

from napkin.arch import Attention, DenseMLP, Layer, ModelArch
from napkin.flops import palm_model_flop_per_token
from napkin.hardware import get_gpu
from napkin.layout import estimate_layout
from napkin.params import count_params
from napkin.parallel import Layout, model_shape
from napkin.presets import load_model
from napkin.steptime import flop_per_token, mfu_from_throughput, pipeline_bubble
from napkin.training import training_bill

V, S = 51200, 2048

# Narayanan et al. 2021 (arXiv:2104.04473), Table 1: heads, hidden size, layers, tensor and
# pipeline parallel sizes, GPUs, global batch, achieved TFLOP/s per A100, aggregate PFLOP/s.
MEGATRON_TABLE_1 = [
    (24, 2304, 24, 1, 1, 32, 512, 137, 4.4),
    (32, 3072, 30, 2, 1, 64, 512, 138, 8.8),
    (32, 4096, 36, 4, 1, 128, 512, 142, 18.2),
    (48, 6144, 40, 8, 1, 256, 1024, 135, 34.6),
    (64, 8192, 48, 8, 2, 512, 1536, 138, 70.8),
    (80, 10240, 60, 8, 4, 1024, 1792, 140, 143.8),
    (96, 12288, 80, 8, 8, 1536, 2304, 148, 227.1),
    (128, 16384, 96, 8, 16, 1920, 2160, 155, 297.4),
    (128, 20480, 105, 8, 35, 2520, 2520, 163, 410.2),
    (160, 25600, 128, 8, 64, 3072, 3072, 163, 502.0),
]


def _gpt(h: int, layers: int, heads: int) -> ModelArch:
    layer = Layer(Attention(heads, heads, h // heads, qkv_bias=True, out_bias=True), DenseMLP(4 * h, gated=False, bias=True), norm_bias=True)
    return ModelArch(f"gpt-{h}-{layers}", "gpt2", h, V, (layer,) * layers, tie_word_embeddings=True, learned_positions=S)


def _megatron_layout(tp: int, pp: int, gpus: int, batch: int, layers: int) -> Layout:
    dp = gpus // (tp * pp)
    return Layout(tp=tp, pp=pp, dp=dp, zero=0, global_batch=batch, seq=S, recompute="full")


@pytest.mark.parametrize(("heads", "h", "layers", "tp", "pp", "gpus", "batch", "tflops", "pflops"), MEGATRON_TABLE_1)
def test_megatron_table_1_flops_per_iteration(heads, h, layers, tp, pp, gpus, batch, tflops, pflops) -> None:
    # Narayanan et al. 2021, Eq. 3 (full recomputation): F = 96·B·s·l·h²·(1 + s/(6h) + V/(16·l·h));
    # Korthikanti et al. 2022, Eq. 7 (model FLOPs): 72·B·s·l·h²·(1 + s/(6h) + V/(12·l·h)).
    arch = _gpt(h, layers, heads)
    estimate = estimate_layout(arch, get_gpu("a100"), _megatron_layout(tp, pp, gpus, batch, layers), 1e9, 1.0, achieved_flop_per_s=tflops * 1e12)
    eq3 = 96 * batch * S * layers * h**2 * (1 + S / (6 * h) + V / (16 * layers * h))
    eq7 = 72 * batch * S * layers * h**2 * (1 + S / (6 * h) + V / (12 * layers * h))
    assert estimate.hardware_flop_per_step == pytest.approx(eq3, rel=1e-12)
    assert estimate.model_flop_per_step == pytest.approx(eq7, rel=1e-12)


@pytest.mark.parametrize(("heads", "h", "layers", "tp", "pp", "gpus", "batch", "tflops", "pflops"), MEGATRON_TABLE_1)
def test_megatron_table_1_iteration_time(heads, h, layers, tp, pp, gpus, batch, tflops, pflops) -> None:
    # With the paper's achieved TFLOP/s per GPU, iteration time is F ÷ (n · X), so the aggregate
    # rate F ÷ time matches the table's aggregate PFLOP/s (rounded to 0.1 PFLOP/s there).
    arch = _gpt(h, layers, heads)
    estimate = estimate_layout(arch, get_gpu("a100"), _megatron_layout(tp, pp, gpus, batch, layers), 1e9, 1.0, achieved_flop_per_s=tflops * 1e12)
    assert estimate.step_time_s == pytest.approx(estimate.hardware_flop_per_step / (gpus * tflops * 1e12), rel=1e-12)
    assert estimate.hardware_flop_per_step / estimate.step_time_s / 1e15 == pytest.approx(pflops, rel=0.01)


@pytest.mark.parametrize(
    ("heads", "h", "layers", "tp", "pp", "gpus", "batch", "tokens", "tflops", "days"),
    [
        (96, 12288, 96, 8, 8, 1024, 1536, 300e9, 140, 34),  # GPT-3 175B, Narayanan et al. 2021, section 5.1
        (160, 25600, 128, 8, 64, 3072, 3072, 450e9, 163, 84),  # 1T model, same section
    ],
)
def test_megatron_eq_4_training_days(heads, h, layers, tp, pp, gpus, batch, tokens, tflops, days) -> None:
    # Eq. 4: time ≈ 8·T·P ÷ (n·X); the paper's worked examples give about 34 and 84 days.
    estimate = estimate_layout(_gpt(h, layers, heads), get_gpu("a100"), _megatron_layout(tp, pp, gpus, batch, layers), tokens, 1.0,
                               achieved_flop_per_s=tflops * 1e12)
    assert estimate.wall_clock_s / 86400 == pytest.approx(days, rel=0.05)


@pytest.mark.parametrize(
    ("params", "layers", "heads", "head_dim", "tokens_per_s", "chips", "peak", "mfu"),
    [
        (540.35e9, 118, 48, 256, 238.3e3, 6144, 275e12, 0.462),  # PaLM 540B on TPU v4, PaLM Table 3
        (530e9, 105, 128, 160, 65.43e3, 2240, 312e12, 0.302),  # MT-NLG 530B on A100, PaLM Table 3
    ],
)
def test_palm_table_3_mfu_from_throughput(params, layers, heads, head_dim, tokens_per_s, chips, peak, mfu) -> None:
    # Chowdhery et al. 2022, Appendix B: model FLOPs per token 6N + 12·L·H·Q·T at T = 2,048.
    per_token = palm_model_flop_per_token(params, layers, heads, head_dim, 2048)
    assert mfu_from_throughput(tokens_per_s, per_token, chips, peak) == pytest.approx(mfu, abs=0.001)


def test_palm_tpu_v4_peak_in_catalog() -> None:
    assert get_gpu("tpu-v4").bf16_flop_per_s == 275e12


# Published compute budgets: (tokens, figure), with the source named at each use.
PUBLISHED = {
    "llama31_405b_gpu_hours": (15.6e12, 30.84e6),
    "llama31_405b_flops": (15.6e12, 3.8e25),
    "deepseek_v3_gpu_hours": (14.8e12, 2.788e6),
    "llama31_8b_gpu_hours": (15e12, 1.46e6),
    "llama31_70b_gpu_hours": (15e12, 7.0e6),
}


def _published(case: str) -> dict[str, float]:
    tokens, value = PUBLISHED[case]
    return {"tokens": tokens, "value": value}


def test_llama31_405b_gpu_hours_at_published_mfu() -> None:
    # Llama 3.1 model card: 30.84M H100 GPU-hours for 405B on 15.6T tokens; arXiv:2407.21783
    # Table 4: 43% BF16 MFU at sequence 8,192. Model FLOPs per token include attention at 8,192.
    row = _published("llama31_405b_gpu_hours")
    arch = load_model("llama-3.1-405b")
    per_token = flop_per_token(model_shape(arch), 8192)["model"]
    bill = training_bill(count_params(arch).active, float(row["tokens"]), 16384, get_gpu("h100").bf16_flop_per_s, 0.43, 2.0, per_token)
    assert bill.gpu_hours == pytest.approx(float(row["value"]), rel=0.15)


def test_llama31_405b_total_flops() -> None:
    # arXiv:2407.21783: 3.8e25 FLOPs, which is 6·N·D for N = 405.9B and D = 15.6T tokens.
    row = _published("llama31_405b_flops")
    n = count_params(load_model("llama-3.1-405b")).active
    assert 6 * n * 15.6e12 == pytest.approx(float(row["value"]), rel=0.01)


def test_deepseek_v3_gpu_hours_at_assumed_mfu() -> None:
    # arXiv:2412.19437 Table 1: 2.788M H800 GPU-hours for 14.8T tokens on 2,048 GPUs. DeepSeek
    # publishes no MFU: 33% is assumed here, with 6·N_active·D (37.6B active parameters).
    row = _published("deepseek_v3_gpu_hours")
    n = count_params(load_model("deepseek-v3")).active
    bill = training_bill(n, float(row["tokens"]), 2048, get_gpu("h800").bf16_flop_per_s, 0.33, 2.0)
    assert bill.gpu_hours == pytest.approx(float(row["value"]), rel=0.15)
    assert bill.cost_usd == pytest.approx(5.576e6, rel=0.15)  # at 2 USD per GPU-hour, as published


@pytest.mark.parametrize(("case", "model", "implied_mfu"), [("llama31_8b_gpu_hours", "llama-3.1-8b", 0.14), ("llama31_70b_gpu_hours", "llama-3.1-70b", 0.26)])
def test_llama31_model_card_gpu_hours_imply_low_mfu(case: str, model: str, implied_mfu: float) -> None:
    # The Llama 3.1 model card gives GPU-hours but no MFU for 8B and 70B. At 6·N·D they imply
    # about 14% and 26% MFU, far below the 405B run's 38–43%: no single MFU reproduces all three.
    row = _published(case)
    n = count_params(load_model(model)).active
    mfu = 6 * n * float(row["tokens"]) / (float(row["value"]) * 3600 * get_gpu("h100").bf16_flop_per_s)
    assert mfu == pytest.approx(implied_mfu, abs=0.01)


@pytest.mark.parametrize(("model", "gpu_hours", "implied_mfu"), [("llama-2-7b", 184_320, 0.39), ("llama-2-70b", 1_720_320, 0.43)])
def test_llama2_model_card_gpu_hours_imply_mfu(model: str, gpu_hours: float, implied_mfu: float) -> None:
    # Llama 2 model card (Table 52 of Touvron et al. 2023, arXiv:2307.09288): 184,320 and
    # 1,720,320 A100-80GB GPU-hours for 7B and 70B on 2.0T tokens. At 6·N·D and 312 TFLOP/s
    # these imply about 39% and 43% MFU, unlike the Llama 3.1 8B and 70B cards.
    n = count_params(load_model(model)).active
    mfu = 6 * n * 2.0e12 / (gpu_hours * 3600 * get_gpu("a100-80gb").bf16_flop_per_s)
    assert mfu == pytest.approx(implied_mfu, abs=0.01)
    bill = training_bill(n, 2.0e12, 1024, get_gpu("a100-80gb").bf16_flop_per_s, implied_mfu, 1.5)
    assert bill.gpu_hours == pytest.approx(gpu_hours, rel=0.03)


def test_pipeline_bubble_formula() -> None:
    # (p − 1) ÷ (m + p − 1) for 1F1B; interleaving v chunks: (p − 1) ÷ (v·m + p − 1).
    assert pipeline_bubble(np.array([4]), np.array([16]), np.array([1]))[0] == pytest.approx(3 / 19)
    assert pipeline_bubble(np.array([4]), np.array([16]), np.array([2]))[0] == pytest.approx(3 / 35)
    assert pipeline_bubble(np.array([1]), np.array([16]), np.array([1]))[0] == 0


def test_step_time_parts_and_mfu_consistency() -> None:
    arch = load_model("llama-3-70b")
    layout = Layout(tp=8, pp=4, dp=32, zero=1, global_batch=512, seq=8192)
    estimate = estimate_layout(arch, get_gpu("h100"), layout, 15e12, 2.0)
    parts = estimate.time_s
    assert estimate.step_time_s == pytest.approx(parts["compute"] + parts["bubble_time"] + parts["exposed_communication"])
    assert estimate.mfu == pytest.approx(estimate.model_flop_per_step / (1024 * 989.4e12 * estimate.step_time_s))
    assert estimate.hfu > estimate.mfu  # selective recomputation repeats the attention forward
    assert 0.2 < estimate.mfu < 0.55


def test_step_time_with_mfu_given() -> None:
    arch = load_model("llama-3-70b")
    layout = Layout(tp=8, pp=4, dp=32, zero=1, global_batch=512, seq=8192)
    estimate = estimate_layout(arch, get_gpu("h100"), layout, 15e12, 2.0, mfu=0.4)
    assert estimate.mfu == pytest.approx(0.4)


def test_last_stage_output_head_sets_pace() -> None:
    # With pp stages, the last one runs L/pp blocks plus the output head, so compute grows by
    # (blocks + pp·head) ÷ (blocks + head) over the balanced split.
    arch = load_model("llama-3-70b")
    gpu = get_gpu("h100")
    flat = estimate_layout(arch, gpu, Layout(tp=8, pp=1, dp=128, zero=1, global_batch=512, seq=8192), 15e12, 2.0)
    staged = estimate_layout(arch, gpu, Layout(tp=8, pp=4, dp=32, zero=1, global_batch=512, seq=8192), 15e12, 2.0)
    per_token = flop_per_token(model_shape(arch), 8192)
    head = 3 * per_token["head"]
    hardware = per_token["selective"]
    expected = (hardware - head + 4 * head) / hardware
    assert staged.time_s["compute"] / flat.time_s["compute"] == pytest.approx(expected, rel=1e-9)
    assert expected > 1.03  # the 128,256 × 8,192 head is about 1.3% of the FLOPs
