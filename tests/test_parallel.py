"""Layout memory per GPU: ZeRO sharding, in-flight micro-batches, parts, divisibility."""

from __future__ import annotations

import numpy as np
import pytest

from napkin.arch import Attention, DenseMLP, Layer, ModelArch
from napkin.errors import OptionError
from napkin.memory import activation_bytes_total
from napkin.parallel import FRAMEWORK_RESERVE_BYTES, Layout, check_layout, in_flight_micro_batches, layout_memory_arrays, model_shape
from napkin.presets import load_model

PARTS = ("weights", "gradients", "optimizer", "activations", "gathered_weights", "communication_buffers", "framework_reserve")


def _memory(arch: ModelArch, layout: Layout) -> dict[str, float]:
    arrays = layout_memory_arrays(model_shape(arch), layout.arrays(), layout.seq, layout.global_batch, layout.optimizer)
    return {key: float(value[0]) for key, value in arrays.items()}


def _gpt(h: int, layers: int, heads: int, vocab: int = 51200, positions: int = 2048) -> ModelArch:
    layer = Layer(Attention(heads, heads, h // heads, qkv_bias=True, out_bias=True), DenseMLP(4 * h, gated=False, bias=True), norm_bias=True)
    return ModelArch(f"gpt-{h}-{layers}", "gpt2", h, vocab, (layer,) * layers, tie_word_embeddings=True, learned_positions=positions)


def test_layout_memory_parts_add_up() -> None:
    arch = load_model("llama-3-70b")
    memory = _memory(arch, Layout(tp=8, pp=4, dp=32, zero=1, global_batch=512, seq=8192))
    assert sum(memory[part] for part in PARTS) == pytest.approx(memory["total"])


@pytest.mark.parametrize(("dp", "stage", "gigabytes"), [(1, 1, 120), (4, 1, 52.5), (64, 1, 31.4), (4, 2, 41.3), (64, 2, 16.6), (64, 3, 1.88)])
def test_layout_state_matches_zero_paper_table_1(dp: int, stage: int, gigabytes: float) -> None:
    # ZeRO paper (Rajbhandari et al. 2020, arXiv:1910.02054) Table 1: model states of a 7.5B
    # model in GB per GPU. Scaled from this model's bytes per parameter to Ψ = 7.5B.
    arch = _gpt(4096, 36, 32)
    memory = _memory(arch, Layout(dp=dp, zero=stage, global_batch=dp, seq=2048))
    state = memory["weights"] + memory["gradients"] + memory["optimizer"]
    per_param_at_dp1 = state * 7.5e9 / memory["params_per_gpu"]
    assert per_param_at_dp1 / 1e9 == pytest.approx(gigabytes, rel=0.01)


def test_layout_activations_1f1b_in_flight() -> None:
    # Korthikanti et al. 2022, section 4.2.3: under 1F1B the first stage keeps p micro-batches of
    # its L/p layers, so the whole model's activations of one micro-batch (L layers) in total.
    arch = load_model("llama-3-70b")
    seq = 4096
    memory = _memory(arch, Layout(tp=8, pp=4, dp=1, zero=1, global_batch=64, seq=seq, recompute="selective"))
    parts = activation_bytes_total(arch, seq, 1, "selective", tp=8, sequence_parallel=True)
    assert memory["activations"] == pytest.approx(parts["layers"])


def test_layout_interleaved_schedule_holds_more() -> None:
    # Interleaving v chunks keeps L · (1 + (p − 1)/(p · v)) layer-micro-batches on the first stage.
    held = in_flight_micro_batches(np.array([4]), np.array([2]), np.array([16]))
    assert held[0] == pytest.approx(4 * (1 + 3 / 8))


def test_layout_zero3_counts_gathered_blocks() -> None:
    arch = load_model("llama-3-8b")
    zero1 = _memory(arch, Layout(dp=8, zero=1, global_batch=8))
    zero3 = _memory(arch, Layout(dp=8, zero=3, global_batch=8))
    assert zero1["gathered_weights"] == 0
    # Two gathered units in bf16; the largest is the 128,256 × 4,096 embedding table.
    assert zero3["gathered_weights"] == pytest.approx(2 * 128256 * 4096 * 2)


def test_layout_deepspeed_zero3_report_parts() -> None:
    # github.com/deepspeedai/DeepSpeed/issues/4093: GPT-J-6B under ZeRO-3 on 2 GPUs used about
    # 13 GB per GPU where estimate_zero3_model_states_mem_needs printed 0.77 GB (4 bytes per
    # parameter of the largest layer, with parameters and optimizer offloaded to the CPU). That
    # figure leaves out activations, the gathered weights in flight, buffers and the framework
    # reserve. The report gives no sequence length or batch; assumed here: micro-batch 1 at
    # GPT-J's 2,048 positions with eager attention, as transformers ran GPT-J then.
    layer = Layer(Attention(16, 16, 256), DenseMLP(16384, gated=False, bias=True), norms=1, norm_bias=True)
    gptj = ModelArch("gpt-j-6b", "gptj", 4096, 50400, (layer,) * 28)
    layout = Layout(dp=2, zero=3, global_batch=2, seq=2048, recompute="none", attention_kernel="eager")
    arrays = layout_memory_arrays(model_shape(gptj), layout.arrays(), 2048, 2, "adam", "eager")
    left_out = sum(float(arrays[part][0]) for part in ("activations", "gathered_weights", "communication_buffers", "framework_reserve"))
    assert left_out > 10 * 0.77e9 * 1.0737  # 0.77 GiB in bytes
    assert left_out == pytest.approx(13e9, rel=0.3)
    assert FRAMEWORK_RESERVE_BYTES > 0


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        (Layout(tp=3, global_batch=8), "does not divide the 64 attention heads"),
        (Layout(pp=3, global_batch=8), "does not divide the 80 layers"),
        (Layout(pp=4, interleave=3, global_batch=8), "--interleave 3 does not divide the 80 layers"),
        (Layout(dp=3, global_batch=8), "not a multiple of --dp × --micro-batch"),
        (Layout(ep=2, dp=2, global_batch=8), "needs a mixture-of-experts model"),
        (Layout(cp=3, global_batch=8, seq=4096), "--cp 3 needs a sequence divisible"),
        (Layout(micro_batch=0, global_batch=8), "invalid --micro-batch 0"),
    ],
)
def test_layout_rejects_what_does_not_divide(layout: Layout, message: str) -> None:
    with pytest.raises(OptionError, match=message):
        check_layout(model_shape(load_model("llama-3-70b")), layout)


def test_layout_expert_parallel_must_divide_experts() -> None:
    with pytest.raises(OptionError, match="does not divide the 8 experts"):
        check_layout(model_shape(load_model("mixtral-8x7b")), Layout(ep=3, dp=3, global_batch=9))


def test_layout_expert_parallel_divides_expert_memory() -> None:
    arch = load_model("mixtral-8x7b")
    one = _memory(arch, Layout(dp=8, ep=1, zero=1, global_batch=8))
    eight = _memory(arch, Layout(dp=8, ep=8, zero=1, global_batch=8))
    assert eight["weights"] < one["weights"] / 4
