"""Inputs that once broke the CLI's contract: a traceback, a wrong number, or a missing hint."""

from __future__ import annotations

import pytest

from napkin_runner import napkin_json, run_napkin


def test_plan_at_zero_price(capsys: pytest.CaptureFixture[str]) -> None:
    # Every layout costs $0, so the ranking falls back to wall-clock.
    result = napkin_json(capsys, "plan", "llama-3-70b", "--tokens", "15T", "--gpu", "h100", "--max-gpus", "4096", "--price", "0")
    layouts = result["layouts"]
    assert layouts[0]["cost_usd"] == 0
    assert layouts[0]["days"] <= layouts[1]["days"]
    assert "$0" in result["why_winner"][0]


def test_short_gpu_typo_suggests_match(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_napkin(capsys, "finetune", "llama-3-8b", "--gpu", "t4")
    assert code == 2
    assert "did you mean 'l4'?" in err


def test_lora_rank_above_matrix_dimension(capsys: pytest.CaptureFixture[str]) -> None:
    # Llama-3-8B's k and v projections are 4,096 × 1,024 (8 KV heads of 128).
    code, _, err = run_napkin(capsys, "finetune", "llama-3-8b", "--gpu", "l4", "--rank", "4096")
    assert code == 2
    assert "use --rank 1,024 or less" in err
    assert napkin_json(capsys, "finetune", "llama-3-8b", "--gpu", "l4", "--rank", "1024")["rank"] == 1024


def test_kv_cache_memory_larger_than_gpu(capsys: pytest.CaptureFixture[str]) -> None:
    # An H100 shows 79.2 GiB to CUDA; Llama-3-8B's bf16 weights take 15.0 GiB of it.
    code, _, err = run_napkin(capsys, "serve-size", "llama-3-8b", "--gpu", "h100", "--kv-cache-memory", "70GiB", "--binary")
    assert code == 2
    assert "use --kv-cache-memory 64.26GiB or less" in err
    fits = napkin_json(capsys, "serve-size", "llama-3-8b", "--gpu", "h100", "--kv-cache-memory", "64.26GiB")
    assert fits["kv_cache_bytes_per_gpu"] == pytest.approx(64.26 * 2**30)


def test_max_context_batch_beyond_blocks(capsys: pytest.CaptureFixture[str]) -> None:
    # 28,544 blocks of 16 tokens: one request per block is the most that fits.
    args = ["serve-size", "llama-3-8b", "--gpu", "h100", "--max-context"]
    code, _, err = run_napkin(capsys, *args, "--batch", "28545")
    assert code == 2
    assert "use --batch 28,544 or fewer" in err
    assert napkin_json(capsys, *args, "--batch", "28544")["max_context_tokens"] == 16


@pytest.mark.parametrize("command", [["latency"], ["serve-size", "--qps", "1", "--tpot", "50ms", "--cheapest"]])
def test_prompt_plus_output_over_max_positions(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    # Llama-3-8B has 8,192 positions; 8,000 prompt tokens leave room for 192 output tokens, not
    # the default 512, which was once shortened without a word.
    args = [command[0], "llama-3-8b", "--gpu", "h100", *command[1:]]
    code, _, err = run_napkin(capsys, *args, "--prompt", "8000")
    assert code == 2
    assert "--prompt 8,000 plus --output 512 is 8,512 tokens" in err
    assert "shorten --prompt to 7,680 or --output to 192" in err
    result = napkin_json(capsys, *args, "--prompt", "8000", "--allow-long-context")
    assert result["output"] == 512


def test_cheapest_names_lowest_reachable_tpot(capsys: pytest.CaptureFixture[str]) -> None:
    # An empty table with exit status 0 used to be the answer to a target no GPU reaches.
    args = ["serve-size", "llama-3-8b", "--gpu", "h100,h200", "--qps", "10", "--cheapest"]
    code, _, err = run_napkin(capsys, *args, "--tpot", "1e-30s")
    assert code == 2
    assert "the lowest is 0.428 ms (h200, tp 8, batch 1); raise --tpot to 0.43ms or more" in err
    options = napkin_json(capsys, *args, "--tpot", "0.43ms")["options"]
    assert options[0]["tpot_s"] <= 0.43e-3


def test_cheapest_model_too_large_for_node(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_napkin(capsys, "serve-size", "deepseek-v3", "--gpu", "l4", "--qps", "1", "--tpot", "50ms", "--cheapest")
    assert code == 2
    assert "cannot hold one request of 2,560 tokens on one node of l4" in err


def test_plan_budget_suggestion_is_enough(capsys: pytest.CaptureFixture[str]) -> None:
    # The cheapest layout costs $10.91M; "raise --budget to $10.9M" once led to the same error.
    plan = ["plan", "llama-3-70b", "--tokens", "15T", "--gpu", "h100", "--max-gpus", "4096"]
    code, _, err = run_napkin(capsys, *plan, "--budget", "1")
    assert code == 2
    assert "raise --budget to $11.0M" in err
    assert napkin_json(capsys, *plan, "--budget", "11.0M")["layouts"][0]["cost_usd"] <= 11.0e6


def test_plan_days_names_max_gpus(capsys: pytest.CaptureFixture[str]) -> None:
    plan = ["plan", "llama-3-8b", "--tokens", "1T", "--gpu", "h100"]
    code, _, err = run_napkin(capsys, *plan, "--max-gpus", "7")
    assert code == 2
    assert "raise --days to 308 or raise --max-gpus to 16" in err
    assert napkin_json(capsys, *plan, "--max-gpus", "16")["layouts"][0]["days"] <= 90


@pytest.mark.parametrize(
    ("option", "value", "fix"),
    [
        ("--gpu-memory-utilization", "0.2", "--gpu-memory-utilization 0.21"),
        ("--block-size", "1000000000", "--block-size 16"),
        ("--max-num-batched-tokens", "1e12", "--max-num-batched-tokens 2048"),
        ("--non-torch-memory", "100GB", "drop --non-torch-memory"),
        ("--gpu-total", "1GB", "drop --gpu-total"),
    ],
)
def test_serve_size_names_engine_setting_fix(capsys: pytest.CaptureFixture[str], option: str, value: str, fix: str) -> None:
    # These once ended in "use GPUs with more memory", though the setting alone was the cause.
    code, _, err = run_napkin(capsys, "serve-size", "llama-3-8b", "--gpu", "h100", option, value)
    assert code == 2
    assert fix in err


@pytest.mark.parametrize("targets", ["", "q,,v", "q,"])
def test_finetune_empty_target_name(capsys: pytest.CaptureFixture[str], targets: str) -> None:
    # These once answered "unknown LoRA target (none)".
    code, _, err = run_napkin(capsys, "finetune", "llama-3-8b", "--gpu", "l4", "--targets", targets)
    assert code == 2
    assert f"invalid --targets {targets!r}: empty name in the list" in err


def test_serve_ep_below_tp_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    # tp 8 with ep 2 once put a whole half of Mixtral's experts on each GPU: 45.5 GB of weights
    # per GPU, four times tp 8 alone, as if more parallelism cost memory.
    code, _, err = run_napkin(capsys, "serve-size", "mixtral-8x7b", "--gpu", "h100", "--gpus", "8", "--tp", "8", "--ep", "2")
    assert code == 2
    assert "--ep 2 is not a multiple of --tp 8" in err
    tp_only = napkin_json(capsys, "serve-size", "mixtral-8x7b", "--gpu", "h100", "--gpus", "8", "--tp", "8")
    with_ep = napkin_json(capsys, "serve-size", "mixtral-8x7b", "--gpu", "h100", "--gpus", "8", "--tp", "8", "--ep", "8")
    assert with_ep["weights_bytes_per_gpu"] <= tp_only["weights_bytes_per_gpu"]


@pytest.mark.parametrize(
    "args",
    [
        ["train", "llama-3-8b", "--tokens", "1", "--gpu", "h100", "--tp", "8"],
        ["train", "llama-3-8b", "--tokens", "1T", "--gpu", "h100", "--tp", "8", "--global-batch", "1e21"],
        ["plan", "llama-3-8b", "--tokens", "1M", "--gpu", "h100", "--max-gpus", "8"],
    ],
)
def test_tokens_fewer_than_one_step(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    # --tokens 1 once gave a 16 µs run of 68.8 s steps.
    code, _, err = run_napkin(capsys, *args)
    assert code == 2
    assert "tokens of one optimizer step (--global-batch)" in err


def test_repeated_gpu_names_counted_once(capsys: pytest.CaptureFixture[str]) -> None:
    # h100-sxm is an alias of h100; both lists once searched the H100 two or three times.
    plan = napkin_json(capsys, "plan", "llama-3-8b", "--tokens", "1T", "--gpu", "h100,h100-sxm,H100", "--max-gpus", "64")
    single = napkin_json(capsys, "plan", "llama-3-8b", "--tokens", "1T", "--gpu", "h100", "--max-gpus", "64")
    assert plan["evaluated"] == single["evaluated"]
    fleet = napkin_json(capsys, "serve-size", "llama-3-8b", "--gpu", "h100,h100", "--qps", "1", "--tpot", "50ms", "--cheapest")
    assert len(fleet["options"]) == 1


def test_long_value_is_cut_in_the_error(capsys: pytest.CaptureFixture[str]) -> None:
    # A 100,000-character model name used to be echoed whole in the one-line error.
    code, _, err = run_napkin(capsys, "model", "x" * 100_000)
    assert code == 2
    assert err.count("\n") == 1
    assert len(err) < 400
    assert "[100,003 characters]" in err  # the name, its quotes and the colon


def test_one_line_keeps_short_words() -> None:
    from napkin.errors import one_line

    assert one_line("unknown GPU 'h10':\n  did you mean 'h100'?") == "unknown GPU 'h10': did you mean 'h100'?"
    cut = one_line("a" * 201)
    assert cut == "a" * 120 + "…[201 characters]…" + "a" * 40



@pytest.mark.parametrize("command", [["latency"], ["serve-size", "--qps", "1", "--tpot", "50ms", "--cheapest"]])
def test_default_prompt_fits_short_window(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    # gpt2 has 1,024 positions. The default prompt was lowered to 1,024, so with the default
    # 512 output tokens the command failed without any option typed.
    result = napkin_json(capsys, command[0], "gpt2", "--gpu", "h100", *command[1:])
    assert result["prompt"] == 512
    assert result["output"] == 512


def test_output_alone_over_max_positions(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_napkin(capsys, "latency", "gpt2", "--gpu", "h100", "--output", "2000")
    assert code == 2
    assert "--output 2,000 leaves no room for a prompt in gpt2's maximum of 1,024 positions" in err
    assert "use --output 1,023 or fewer" in err


def test_ctrl_c_exits_130_quietly(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # Ctrl+C during a command printed "napkin: error: aborted" and exited 1.
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("napkin.summary.summarize_model", interrupted)
    code, out, err = run_napkin(capsys, "model", "llama-3-8b")
    assert code == 130
    assert out == ""
    assert err.strip() == ""


@pytest.mark.parametrize("name", ["-", "x"])
def test_unknown_short_model_suggests_nothing(capsys: pytest.CaptureFixture[str], name: str) -> None:
    # "-" (a stdin path, which napkin does not read) is a substring of most preset names, so the
    # message once suggested three unrelated models.
    code, _, err = run_napkin(capsys, "model", name)
    assert code == 2
    assert err == f"napkin model: error: unknown model '{name}': run 'napkin models' to list them\n"


def test_micro_batch_too_large_suggests_micro_batch(capsys: pytest.CaptureFixture[str]) -> None:
    # 4M tokens of 8,192 are 512 sequences, 16 per data-parallel rank at dp 32; the message used to
    # suggest a global batch of 32,000,000 sequences, although --global-batch was never given.
    code, _, err = run_napkin(
        capsys, "train", "llama-3-70b", "--tokens", "15T", "--gpu", "h100", "--gpus", "1024", "--tp", "8", "--pp", "4",
        "--micro-batch", "1000000",
    )
    assert code == 2
    assert "use --micro-batch 16," in err
    code, _, err = run_napkin(
        capsys, "train", "llama-3-70b", "--tokens", "15T", "--gpu", "h100", "--gpus", "1024", "--tp", "8", "--pp", "4",
        "--micro-batch", "3",
    )
    assert "use --micro-batch 2," in err
