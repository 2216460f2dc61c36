"""Properties of the core over generated architectures: parts add up, estimates are monotone."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from napkin.arch import Attention, DenseMLP, Layer, ModelArch, MoE
from napkin.flops import count_flops
from napkin.memory import activation_bytes_total, kv_cache_bytes, training_state
from napkin.params import count_params
from napkin.training import training_bill


@st.composite
def architectures(draw: st.DrawFn) -> ModelArch:
    kv_heads = draw(st.sampled_from([1, 2, 4, 8]))
    heads = kv_heads * draw(st.sampled_from([1, 2, 4]))
    head_dim = draw(st.sampled_from([32, 64, 128]))
    hidden = heads * head_dim
    attention = Attention(heads, kv_heads, head_dim, qkv_bias=draw(st.booleans()))
    dense = DenseMLP(draw(st.integers(1, 8)) * hidden, gated=draw(st.booleans()))
    experts = draw(st.sampled_from([0, 4, 8]))
    window = draw(st.sampled_from([None, 64, 256]))
    layers = []
    for _ in range(draw(st.integers(1, 6))):
        mlp: DenseMLP | MoE = dense
        if experts and draw(st.booleans()):
            mlp = MoE(experts, draw(st.integers(1, experts)), DenseMLP(hidden, gated=True))
        layers.append(Layer(attention, mlp, sliding_window=window if draw(st.booleans()) else None))
    return ModelArch(
        name="generated",
        model_type="llama",
        hidden_size=hidden,
        vocab_size=draw(st.integers(100, 50_000)),
        layers=tuple(layers),
        tie_word_embeddings=draw(st.booleans()),
    )


@settings(max_examples=200, deadline=None)
@given(architectures())
def test_property_param_parts_sum(arch: ModelArch) -> None:
    counts = count_params(arch)
    assert counts.embedding + counts.non_embedding == counts.total
    assert counts.attention + counts.mlp + counts.norms == counts.non_embedding
    assert 0 < counts.active <= counts.total


@settings(max_examples=200, deadline=None)
@given(architectures(), st.integers(1, 4096), st.integers(1, 4096))
def test_property_kv_monotone_in_context(arch: ModelArch, first: int, second: int) -> None:
    short, long = sorted((first, second))
    assert kv_cache_bytes(arch, short) <= kv_cache_bytes(arch, long)


@settings(max_examples=200, deadline=None)
@given(architectures(), st.integers(1, 8192), st.integers(1, 8192))
def test_property_flops_monotone_in_seq(arch: ModelArch, first: int, second: int) -> None:
    short, long = sorted((first, second))
    assert count_flops(arch, short).forward_flop_per_token_at_seq <= count_flops(arch, long).forward_flop_per_token_at_seq
    assert count_flops(arch, short).forward_flop_per_token_causal <= count_flops(arch, long).forward_flop_per_token_causal


@settings(max_examples=200, deadline=None)
@given(
    architectures(),
    st.integers(1, 4096),
    st.integers(1, 16),
    st.sampled_from(["none", "selective", "full"]),
)
def test_property_activations_monotone(arch: ModelArch, seq: int, batch: int, recompute: str) -> None:
    base = sum(activation_bytes_total(arch, seq, batch, recompute).values())  # type: ignore[arg-type]
    longer = sum(activation_bytes_total(arch, seq + 1, batch, recompute).values())  # type: ignore[arg-type]
    bigger = sum(activation_bytes_total(arch, seq, batch + 1, recompute).values())  # type: ignore[arg-type]
    assert base <= longer
    assert base <= bigger


@settings(max_examples=200, deadline=None)
@given(st.floats(1e6, 1e13), st.integers(1, 4096), st.sampled_from(["adam", "adam-fp32", "adam-8bit", "sgd", "sgd-fp32"]))
def test_property_zero3_shards_sum_to_whole(params: float, dp: int, optimizer: str) -> None:
    whole = training_state(params, optimizer).total_bytes
    shard = training_state(params, optimizer, zero_stage=3, dp=dp).total_bytes
    assert abs(shard * dp - whole) <= 1e-9 * whole


@settings(max_examples=100, deadline=None)
@given(architectures(), st.floats(1e9, 1e13), st.integers(1, 4096))
def test_property_bare_count_bill_equals_architecture(arch: ModelArch, tokens: float, gpus: int) -> None:
    # The 6·N rule depends on N alone, so a bare count equal to the active parameters gives the same bill.
    active = count_params(arch).active
    from_count = training_bill(active, tokens, gpus, 1e15, 0.4, 2.0)
    from_arch = training_bill(float(active), tokens, gpus, 1e15, 0.4, 2.0, flop_per_token=6.0 * active)
    assert from_count.cost_usd == from_arch.cost_usd


@settings(max_examples=200, deadline=None)
@given(st.floats(1e6, 1e13), st.floats(1e6, 1e13), st.floats(1e9, 1e14))
def test_property_bill_monotone_in_tokens(params: float, tokens: float, extra: float) -> None:
    assert training_bill(params, tokens, 8, 1e15, 0.4, 2.0).cost_usd <= training_bill(params, tokens + extra, 8, 1e15, 0.4, 2.0).cost_usd
