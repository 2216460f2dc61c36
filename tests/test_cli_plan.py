"""`napkin train` with a layout, `napkin plan` and `napkin finetune` on the command line."""

from __future__ import annotations

import pytest

from napkin_runner import napkin_json, run_napkin

LAYOUT = ["train", "llama-3-70b", "--tokens", "15T", "--gpu", "h100", "--gpus", "1024", "--tp", "8", "--pp", "4", "--dp", "32",
          "--zero", "1", "--micro-batch", "1", "--global-batch", "4M", "--seq", "8k", "--recompute", "selective"]
PLAN = ["plan", "llama-3-70b", "--tokens", "15T", "--gpu", "h100", "--max-gpus", "4096"]


def test_train_layout_json_keys(capsys: pytest.CaptureFixture[str]) -> None:
    result = napkin_json(capsys, *LAYOUT)
    for key in ("memory_per_gpu_bytes", "fits", "step_time_s", "tokens_per_s", "mfu", "hfu", "model_flop_per_step",
                "hardware_flop_per_step", "bubble_fraction", "communication_s_per_step"):
        assert key in result, key
    assert result["gpus"] == 1024
    assert result["fits"] is True
    assert result["micro_batches"] == 16
    assert result["bubble_fraction"] == pytest.approx(3 / 19)
    # The bill keys of plain `napkin train` stay, at the layout's MFU.
    assert result["wall_clock_s"] == pytest.approx(result["layout_wall_clock_s"])
    assert result["mfu"] == pytest.approx(result["model_flop_per_step"] / (1024 * 989.4e12 * result["step_time_s"]))


def test_train_without_layout_keeps_bill_keys(capsys: pytest.CaptureFixture[str]) -> None:
    result = napkin_json(capsys, "train", "llama-3-70b", "--tokens", "15T", "--gpu", "h100", "--gpus", "1024", "--mfu", "40%")
    assert "step_time_s" not in result
    assert result["mfu"] == 0.4


def test_train_layout_achieved_tflops(capsys: pytest.CaptureFixture[str]) -> None:
    result = napkin_json(capsys, *LAYOUT, "--achieved-tflops", "400")
    assert result["hfu"] == pytest.approx(400e12 / 989.4e12)


def test_train_layout_dp_from_gpus(capsys: pytest.CaptureFixture[str]) -> None:
    args = [a for a in LAYOUT]
    index = args.index("--dp")
    del args[index:index + 2]
    assert napkin_json(capsys, *args)["dp"] == 32


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--tp", "3"], "--tp 3 does not divide the 64 attention heads"),
        (["--pp", "3"], "--pp 3 does not divide the 80 layers"),
        (["--gpus", "2048"], "--gpus 2,048 differs from the 1,024 GPUs the layout uses"),
        (["--micro-batch", "0"], "--micro-batch"),
        (["--global-batch", "0"], "--global-batch"),
        (["--micro-batch", "-1"], "--micro-batch"),
        (["--global-batch", "4000000"], "is not a whole number of 8,192-token sequences"),
        (["--micro-batch", "3"], "not a multiple of --dp × --micro-batch"),
        (["--mfu", "40%", "--achieved-tflops", "400"], "--mfu and --achieved-tflops"),
        (["--achieved-tflops", "2000"], "invalid achieved rate 2000 TFLOP/s"),
        (["--fsdp", "--zero", "2"], "--fsdp shards like ZeRO stage 3"),
        (["--ep", "2"], "needs a mixture-of-experts model"),
    ],
)
def test_train_layout_bad_input(capsys: pytest.CaptureFixture[str], change: list[str], message: str) -> None:
    args = list(LAYOUT)
    for flag, value in zip(change[::2], change[1::2]) if "--fsdp" not in change else []:
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    if "--fsdp" in change:
        args += change
    code, out, err = run_napkin(capsys, *args)
    assert code == 2
    assert out == ""
    assert message in err
    assert err.count("\n") == 1


def test_train_layout_needs_architecture(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_napkin(capsys, "train", "--params", "70B", "--tokens", "15T", "--gpu", "h100", "--tp", "8")
    assert code == 2
    assert "needs an architecture" in err


def test_plan_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    result = napkin_json(capsys, *PLAN, "--top", "3")
    assert result["evaluated"] >= result["feasible"] > 0
    assert len(result["layouts"]) == 3
    keys = {"gpu", "gpus", "tp", "pp", "dp", "ep", "cp", "zero", "recompute", "micro_batch", "memory_per_gpu_bytes",
            "step_time_s", "mfu", "days", "cost_usd"}
    for layout in result["layouts"]:
        assert keys <= set(layout)
        assert layout["memory_per_gpu_bytes"] <= 80e9
        assert layout["days"] <= 90
        assert layout["gpus"] == layout["tp"] * layout["pp"] * layout["dp"] * layout["cp"] <= 4096
    costs = [layout["cost_usd"] for layout in result["layouts"]]
    assert costs == sorted(costs)
    assert result["why_winner"]


def test_plan_top_layout_matches_train(capsys: pytest.CaptureFixture[str]) -> None:
    # The search and `napkin train` share the arithmetic: the winner re-run alone gives the same figures.
    best = napkin_json(capsys, *PLAN, "--top", "1")["layouts"][0]
    args = ["train", "llama-3-70b", "--tokens", "15T", "--gpu", "h100", "--global-batch", "4M", "--seq", "8k"]
    for key in ("tp", "pp", "dp", "ep", "cp", "zero", "interleave"):
        args += [f"--{key}", str(best[key])]
    args += ["--micro-batch", str(best["micro_batch"]), "--recompute", best["recompute"]]
    alone = napkin_json(capsys, *args)
    assert alone["memory_per_gpu_bytes"] == pytest.approx(best["memory_per_gpu_bytes"])
    assert alone["step_time_s"] == pytest.approx(best["step_time_s"])
    assert alone["layout_cost_usd"] == pytest.approx(best["cost_usd"])


def test_plan_rank_by_time(capsys: pytest.CaptureFixture[str]) -> None:
    result = napkin_json(capsys, *PLAN, "--top", "3", "--rank", "time")
    days = [layout["days"] for layout in result["layouts"]]
    assert days == sorted(days)


def test_plan_several_gpu_types_moe(capsys: pytest.CaptureFixture[str]) -> None:
    result = napkin_json(capsys, "plan", "mixtral-8x7b", "--tokens", "1T", "--gpu", "h100,h200", "--max-gpus", "512", "--top", "5")
    assert {layout["gpu"] for layout in result["layouts"]} <= {"h100", "h200"}
    assert all(layout["ep"] >= 1 for layout in result["layouts"])


def test_plan_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_napkin(capsys, *PLAN, "--top", "3")
    assert code == 0
    assert "Why the winner wins" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--max-gpus", "8"], "fits in memory on at most 8"),
        (["--days", "5"], "finishes within --days 5"),
        (["--budget", "1M"], "costs at most --budget $1.00M"),
        (["--max-gpus", "0"], "--max-gpus"),
        (["--global-batch", "1000"], "is not a whole number of 8,192-token sequences"),
        (["--gpu", "h10"], "unknown GPU 'h10'"),
        (["--gpu", "h100,"], "empty entry"),
    ],
)
def test_plan_bad_input(capsys: pytest.CaptureFixture[str], extra: list[str], message: str) -> None:
    args = list(PLAN)
    for flag, value in zip(extra[::2], extra[1::2]):
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    code, out, err = run_napkin(capsys, *args)
    assert code == 2
    assert out == ""
    assert message in err
    assert err.count("\n") == 1


def test_plan_infeasible_names_smallest_change(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_napkin(capsys, "plan", "llama-3.1-405b", "--tokens", "15T", "--gpu", "l4", "--max-gpus", "64")
    assert code == 2
    assert "raise --max-gpus to" in err
    assert "use a GPU with at least" in err


def test_finetune_json(capsys: pytest.CaptureFixture[str]) -> None:
    result = napkin_json(capsys, "finetune", "llama-3-8b", "--gpu", "l4", "--method", "lora", "--rank", "16", "--seq", "2k")
    assert result["trainable_params"] == 41_943_040
    for key in ("weights_bytes", "gradients_bytes", "optimizer_bytes", "activations_bytes", "kv_cache_bytes", "total_bytes", "fits"):
        assert key in result
    assert result["memory_per_gpu_bytes"] == result["total_bytes"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "full", "--rank", "8"], "--rank applies to --method lora or qlora"),
        (["--rank", "0"], "--rank"),
        (["--targets", "q,x"], "unknown LoRA target x"),
        (["--zero", "3"], "ZeRO stage 3 shards over GPUs"),
        (["--method", "dora"], "dora"),
    ],
)
def test_finetune_bad_input(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, out, err = run_napkin(capsys, "finetune", "llama-3-8b", "--gpu", "l4", *args)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1


def test_plan_progress_bar_waits_one_second(monkeypatch: pytest.MonkeyPatch) -> None:
    from napkin import cli_plan

    clock = iter([0.0, 0.5, 2.0, 2.5])
    monkeypatch.setattr(cli_plan.time, "perf_counter", lambda: next(clock))
    update = cli_plan._progress_bar()
    update(10, 100)
    assert not getattr(update, "shown", False)
    update(20, 100)
    assert update.shown
    update(100, 100)
    update.close()


def test_train_layout_without_gpus_or_dp(capsys: pytest.CaptureFixture[str]) -> None:
    result = napkin_json(capsys, "train", "llama-3-70b", "--tokens", "15T", "--gpu", "h100", "--tp", "8", "--pp", "4")
    assert result["dp"] == 1
    assert result["gpus"] == 32


@pytest.mark.parametrize("days", ["0", "-5", "nan", "inf"])
def test_plan_rejects_bad_days(capsys: pytest.CaptureFixture[str], days: str) -> None:
    code, _, err = run_napkin(capsys, *PLAN, "--days", days)
    assert code == 2
    assert "--days" in err
