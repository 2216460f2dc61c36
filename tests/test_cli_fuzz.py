"""Random argument vectors over every command: each run exits 0 or 2, and 2 means one line.

The vectors mix valid values with broken ones (zero, negative, NaN, inf, huge, tiny, empty,
unicode, misspelled names, options missing their value, contradictory flags, hostile
config.json files). The default is 10,000 vectors, about a minute on one core; set
NAPKIN_FUZZ_VECTORS to run more or fewer, and NAPKIN_FUZZ_SEED to draw other vectors.

`napkin verify` and `napkin web` get only vectors with at least one invalid part, so that they
stop at argument validation: the test replaces the PyTorch measurement and the web server with
functions that fail the test if a vector ever reaches them.
"""

from __future__ import annotations

import collections
import json
import math
import os
import random
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from napkin.cli import main

VECTORS = int(os.environ.get("NAPKIN_FUZZ_VECTORS", "10000"))
SEED = int(os.environ.get("NAPKIN_FUZZ_SEED", "20261204"))

MODELS = ["llama-3-8b", "llama-3-70b", "mixtral-8x7b", "deepseek-v3", "gemma-2-9b", "qwen2-7b-instruct", "gpt-2-xl",
          "lama-3-8b", "LLAMA-3-8B", "", "🦙", "/nonexistent/config.json"]
BAD_MODELS = ["lama-3-8b", "", "🦙", "/nonexistent/config.json"]
GPUS = ["h100", "h200", "a100-80gb", "l4", "rtx-3090", "mi300x", "b200", "t4", "H100", "h10", "", "ｈ100", "h100,h200", "h100,,l4"]
# Broken values every numeric option meets, next to its valid ones.
NOISE = ["0", "-1", "nan", "inf", "-inf", "1e400", "1e-30", "99999999999999999999999", "", "１", "abc", "1.5", "0.0", " ",
         "NaN%", "1e308", "-0", "0x10", "1_000", "8\u00a0", "\u200b8", "٨", "1,5", "8" * 400]
# config.json files a user may pass by mistake or on purpose; written by the `hostile_configs` fixture.
HOSTILE_CONFIGS = {
    "huge-int.json": '{"model_type": "llama", "hidden_size": 1' + "0" * 5000 + '}',
    "nan.json": '{"model_type": "llama", "hidden_size": NaN}',
    "deep.json": "[" * 100_000 + "]" * 100_000,
    "duplicate.json": '{"model_type": "llama", "model_type": "mistral"}',
    "list.json": "[1, 2, 3]",
    "rope-list.json": json.dumps({"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 2,
                                  "num_attention_heads": 32, "intermediate_size": 11008, "vocab_size": 32000,
                                  "rope_scaling": [1, 2]}),
    "bool-layers.json": json.dumps({"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": True,
                                    "num_attention_heads": 32, "intermediate_size": 11008, "vocab_size": 32000}),
    "latin1.json": b'{"model_type": "llama\xe9"}',
    "empty.json": "",
}
HOSTILE_PATHS = ["/dev/zero", "/dev/null", "/nonexistent/config.json", "/", "."]

COUNTS = ["1", "2", "4", "8", "16", "64", "3", "7"]
OPTIONS: dict[str, list[str]] = {
    "--tokens": ["15T", "1T", "2M", "1", "1e13"],
    "--params": ["70B", "8B", "1", "1e15"],
    "--gpus": ["1", "2", "4", "8", "64", "1024", "3", "6"],
    "--tp": COUNTS, "--pp": COUNTS, "--dp": COUNTS, "--ep": COUNTS, "--cp": COUNTS, "--interleave": ["1", "2", "3"],
    "--zero": ["0", "1", "2", "3", "4"],
    "--micro-batch": ["1", "2", "8", "1000"],
    "--global-batch": ["4M", "8k", "1000", "2M"],
    "--seq": ["2k", "8k", "128k", "1", "100"],
    "--context": ["2k", "8k", "128k", "1M", "1"],
    "--max-model-len": ["4k", "8k", "20000"],
    "--recompute": ["none", "selective", "full", "partial"],
    "--optimizer": ["adam", "adam-fp32", "adam-8bit", "sgd", "lion"],
    "--achieved-tflops": ["100", "400", "2000"],
    "--mfu": ["40%", "0.5", "100%", "150%"],
    "--price": ["2", "$2/hr", "0", "1e9"],
    "--peak": ["990T", "1P", "1"], "--bandwidth": ["3.35TB/s", "1GB/s"], "--hbm": ["80GB", "141GiB", "1B"],
    "--batch": ["1", "8", "1,8,64", "100000", "1,,2"],
    "--prompt": ["2k", "512", "1M"], "--output": ["512", "1", "100k"],
    "--qps": ["20", "0.5", "1e6"], "--tpot": ["50ms", "1s", "1e-30s", "0"],
    "--gpu-memory-utilization": ["0.9", "0.5", "1", "1.5", "0", "90%"],
    "--gpu-total": ["79.2GiB", "1GB", "1TB"],
    "--block-size": ["16", "32", "7", "1000000000"],
    "--max-num-batched-tokens": ["2048", "20000", "1e12"], "--max-num-seqs": ["256", "1"],
    "--non-torch-memory": ["0.35GiB", "100GB"], "--activation-peak": ["1.2GiB", "1e30B"],
    "--cuda-graph-memory": ["0", "1GiB"], "--kv-cache-memory": ["32GiB", "1000TB", "1GB"],
    "--weights-dtype": ["bf16", "fp8", "int4", "mxfp4", "fp4"], "--kv-dtype": ["bf16", "fp8", "int8", "fp4"],
    "--int4-group-size": ["128", "7", "32"],
    "--compute-efficiency": ["1", "0.5", "2"], "--bandwidth-efficiency": ["1", "0.7", "1e-300"],
    "--engine": ["vllm", "plain", "sglang"],
    "--max-gpus": ["8", "64", "256", "1"], "--days": ["90", "0.001", "1e6"], "--budget": ["10M", "1", "1e12"],
    "--top": ["1", "3", "100000"], "--rank": ["16", "1024", "4096", "cost", "time"],
    "--method": ["full", "lora", "qlora", "dora"], "--targets": ["q,v", "q,k,v,o,gate,up,down", "q,zz", "q,,v"],
    "--tokens-per-s": ["1000", "1e6"], "--model": ["llama-3-8b", "deepseek-v3", "lama"],
}
FLAGS = ["--json", "--binary", "--allow-long-context", "--fsdp", "--sp", "--train", "--infer", "--max-context", "--cheapest"]

# Options each command accepts; an option from elsewhere tests the unknown-option path.
COMMANDS: dict[str, tuple[bool, list[str]]] = {
    "model": (True, ["--seq"]),
    "models": (False, []),
    "gpus": (False, []),
    "train": (True, ["--params", "--tokens", "--gpu", "--gpus", "--mfu", "--price", "--seq", "--tp", "--pp", "--dp", "--ep",
                     "--cp", "--zero", "--micro-batch", "--global-batch", "--recompute", "--interleave", "--optimizer",
                     "--achieved-tflops", "--peak", "--bandwidth", "--hbm"]),
    "memory": (True, ["--params", "--gpu", "--zero", "--dp", "--tp", "--seq", "--context", "--optimizer", "--recompute",
                      "--kv-dtype", "--hbm"]),
    "kv": (True, ["--context", "--gpu", "--gpus", "--kv-dtype"]),
    "roofline": (False, ["--gpu", "--model", "--batch", "--context", "--prompt", "--peak", "--bandwidth", "--hbm"]),
    "serve-cost": (False, ["--tokens-per-s", "--price", "--gpu"]),
    "serve-size": (True, ["--gpu", "--context", "--max-model-len", "--batch", "--qps", "--tpot", "--prompt", "--output",
                          "--engine", "--gpu-memory-utilization", "--gpu-total", "--block-size", "--max-num-batched-tokens",
                          "--max-num-seqs", "--non-torch-memory", "--activation-peak", "--cuda-graph-memory",
                          "--kv-cache-memory", "--weights-dtype", "--kv-dtype", "--int4-group-size", "--gpus", "--tp", "--ep"]),
    "latency": (True, ["--gpu", "--batch", "--prompt", "--output", "--price", "--compute-efficiency",
                       "--bandwidth-efficiency", "--engine", "--gpu-memory-utilization", "--kv-cache-memory",
                       "--weights-dtype", "--kv-dtype", "--gpus", "--tp", "--ep"]),
    "plan": (True, ["--tokens", "--gpu", "--max-gpus", "--days", "--budget", "--top", "--rank", "--seq", "--global-batch",
                    "--price", "--optimizer"]),
    "finetune": (True, ["--gpu", "--method", "--rank", "--targets", "--seq", "--micro-batch", "--recompute", "--optimizer",
                        "--gpus", "--zero"]),
}


# Options of the two commands that fuzzing may only validate, never run, with an invalid value each.
VERIFY_OPTIONS = {"--seq": ["512", "2k", "1M"], "--batch": ["1", "2"], "--layers": ["1", "2", "100000"],
                  "--device": ["auto", "cpu", "meta", "cuda", "gpu", ""]}
WEB_OPTIONS = {"--host": ["127.0.0.1", "localhost", "0.0.0.0", "", "🦙"], "--port": ["0", "8765", "65536", "-1", "http", "1e400", "８０"]}
# Options that contradict each other or the command, as pairs or groups given together.
CONTRADICTIONS: dict[str, list[list[str]]] = {
    "memory": [["--train", "--infer"], ["--fsdp", "--zero", "1"], ["--params", "70B"], ["--sp"]],
    "train": [["--params", "70B"], ["--mfu", "40%", "--achieved-tflops", "400"], ["--tp", "8", "--gpus", "3"],
              ["--allow-long-context"], ["--fsdp", "--zero", "1"]],
    "kv": [["--requests", "0"], ["--gpus", "3"]],
    "serve-size": [["--tp", "4", "--gpus", "2"], ["--ep", "3"], ["--kv-cache-memory", "1GB", "--gpu-memory-utilization", "0.5"]],
    "latency": [["--tp", "4", "--gpus", "2"], ["--ep", "16"]],
    "plan": [["--days", "0.0001", "--budget", "1"], ["--rank", "speed"]],
    "finetune": [["--method", "full", "--rank", "16"], ["--zero", "3", "--gpus", "1"]],
    "roofline": [["--context", "1M", "--model", "gpt-2-xl"]],
}
# Values that every numeric option of verify and web rejects (unlike "1_000" or "8\u00a0", which parse).
INVALID = ["-1", "nan", "inf", "-inf", "1e400", "1e-30", "99999999999999999999999", "", "１", "abc", "1.5", " ", "٨", "1,5"]
UNKNOWN_COMMANDS = ["trian", "Train", "", "🦙", "--json", "compare", "serve", "-x"]


def _value(rng: random.Random, option: str) -> str:
    if option in ("--gpu",):
        return rng.choice(GPUS)
    if option == "--model":
        return rng.choice(OPTIONS[option] + MODELS)
    return rng.choice(NOISE) if rng.random() < 0.1 else rng.choice(OPTIONS[option])


def _model_spec(rng: random.Random, hostile: list[str]) -> str:
    roll = rng.random()
    if roll < 0.8:
        return rng.choice(MODELS[:7])
    if roll < 0.9:
        return rng.choice(MODELS)
    return rng.choice(hostile)


def _invalid_only(rng: random.Random, command: str, options: dict[str, list[str]], hostile: list[str]) -> list[str]:
    """Return a vector for `command` with at least one invalid part, so that it stops at validation."""
    args = [command]
    if command == "verify":
        args.append(rng.choice(MODELS[:7]) if rng.random() < 0.6 else rng.choice(BAD_MODELS + hostile))
    chosen = rng.sample(sorted(options), k=rng.randint(0, len(options)))
    for option in chosen:
        args += [option, rng.choice(options[option])]
    broken = rng.choice(["noise", "unknown-option", "missing-value", "stray", "help"] + (["model"] if command == "verify" else []))
    if broken == "noise":
        option = rng.choice([name for name in sorted(options) if name != "--host"])
        # click's IntRange takes any Unicode digits as Python's int() does, so --port gets ASCII ones.
        invalid = [value for value in INVALID if value not in ("１", "٨")] + ["65536"] if option == "--port" else INVALID + ["0"]
        args += [option, rng.choice(invalid)]
    elif broken == "unknown-option":
        # An option of another command: one this command also takes, such as --batch for verify,
        # would make the vector valid and run it.
        own_options = {name for param in main.commands[command].params for name in param.opts}
        args += [rng.choice(sorted(set(OPTIONS) - own_options)), "1"]
    elif broken == "missing-value":
        args.append(rng.choice(sorted(options)))
    elif broken == "stray":
        args.insert(1 + (command == "verify"), rng.choice(NOISE[:8]))
    elif broken == "model":
        args[1] = rng.choice(BAD_MODELS + hostile)
    else:
        args.append("--help")
    return args


def _vector(rng: random.Random, hostile: list[str]) -> list[str]:
    roll = rng.random()
    if roll < 0.04:
        return _invalid_only(rng, "verify", VERIFY_OPTIONS, hostile)
    if roll < 0.06:
        return _invalid_only(rng, "web", WEB_OPTIONS, hostile)
    if roll < 0.07:
        return [rng.choice(UNKNOWN_COMMANDS), *rng.sample(["--json", "llama-3-8b", "--gpu", "h100"], k=rng.randint(0, 2))]
    args = _command_vector(rng, hostile)
    command = args[0]
    if command in CONTRADICTIONS and rng.random() < 0.1:
        args += rng.choice(CONTRADICTIONS[command])
    if rng.random() < 0.03:
        args.append(rng.choice(sorted(OPTIONS)))  # an option missing its value at the end
    return args


def _command_vector(rng: random.Random, hostile: list[str]) -> list[str]:
    command = rng.choice(sorted(COMMANDS))
    takes_model, options = COMMANDS[command]
    args = [command]
    if takes_model and rng.random() < 0.95:
        args.append(_model_spec(rng, hostile))
    # Most vectors stay within the command's options and give its required ones, so that
    # they reach the arithmetic instead of stopping at a missing option.
    required = {"train": ["--tokens", "--gpu"], "plan": ["--tokens", "--gpu", "--max-gpus"], "kv": ["--context"],
                "serve-size": ["--gpu"], "latency": ["--gpu"], "finetune": ["--gpu"], "roofline": ["--gpu"], "memory": ["--gpu"],
                "serve-cost": ["--tokens-per-s"]}.get(command, [])
    chosen = list(required) + rng.sample(options, k=min(len(options), rng.randint(0, 4)))
    if rng.random() < 0.05:
        chosen.append(rng.choice(sorted(OPTIONS)))
    for option in dict.fromkeys(chosen):
        value = _value(rng, option)
        if command == "plan" and option == "--max-gpus":
            value = rng.choice(["8", "64", "256"])  # keeps the layout search short
        args += [option, value]
    if command == "memory" and rng.random() < 0.8:
        args.append(rng.choice(["--train", "--infer"]))
    for flag in FLAGS:
        if rng.random() < (0.3 if flag == "--json" else 0.04):
            args.append(flag)
    if rng.random() < 0.03:
        args.insert(rng.randrange(1, len(args) + 1), rng.choice(NOISE))  # a stray positional value
    return args


def _numbers(value: Any) -> list[tuple[str, float]]:
    """Return every (key, number) pair in a parsed JSON value."""
    found: list[tuple[str, float]] = []
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        key, item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.items())
        elif isinstance(item, list):
            stack.extend((key, element) for element in item)
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            found.append((key, float(item)))
    return found


def _check(args: list[str], runner: CliRunner) -> int:
    result = runner.invoke(main, args, catch_exceptions=True)
    command_line = " ".join(repr(a) for a in args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"napkin {command_line} raised {result.exception!r}") from result.exception
    assert result.exit_code in (0, 2), f"napkin {command_line} exited {result.exit_code}: {result.stderr}"
    if result.exit_code == 2:
        lines = result.stderr.splitlines()
        assert len(lines) == 1, f"napkin {command_line} printed {len(lines)} lines on stderr: {result.stderr}"
        assert ": error: " in lines[0], f"napkin {command_line}: {lines[0]}"
        assert result.stdout == "", f"napkin {command_line} failed after printing: {result.stdout[:200]}"
        return 2
    if "--json" in args and "--help" not in args:
        payload = json.loads(result.stdout)
        for key, number in _numbers(payload):
            assert math.isfinite(number), f"napkin {command_line}: {key} = {number}"
            # free_bytes is signed: below zero it is the shortfall of weights that do not fit.
            if key.endswith(("_bytes", "_usd", "_s")) and key != "free_bytes":
                assert number >= 0, f"napkin {command_line}: {key} = {number}"
    return 0


@pytest.fixture(scope="module")
def hostile_configs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Write the hostile config.json files once and return their paths with the special paths."""
    folder = tmp_path_factory.mktemp("hostile")
    paths = []
    for name, text in HOSTILE_CONFIGS.items():
        path = folder / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    (folder / "no-config").mkdir()
    paths.append(str(folder / "no-config"))
    return paths + [path for path in HOSTILE_PATHS if Path(path).exists() or path.startswith("/nonexistent")]


def _never_run(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("a fuzz vector got past argument validation into a PyTorch measurement or a web server")


def test_cli_fuzz_contract(hostile_configs: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    monkeypatch.setattr("napkin.verify.verify_model", _never_run)
    monkeypatch.setattr(uvicorn.Server, "run", _never_run)
    rng = random.Random(SEED)
    runner = CliRunner()
    outcomes: collections.Counter[tuple[str, int]] = collections.Counter()
    for _ in range(VECTORS):
        args = _vector(rng, hostile_configs)
        outcomes[(args[0] if args and args[0] in main.commands else "(no command)", _check(args, runner))] += 1
    exits = collections.Counter()
    for (_, code), count in outcomes.items():
        exits[code] += count
    print(f"\nfuzz seed {SEED}: {VECTORS:,} vectors, exit 0: {exits[0]:,}, exit 2: {exits[2]:,}")
    for (command, code), count in sorted(outcomes.items()):
        print(f"  {command:14} exit {code}: {count:,}")
    assert sum(exits.values()) == VECTORS


@pytest.mark.parametrize("command", sorted(COMMANDS) + ["verify", "web"])
def test_cli_fuzz_help(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0


def _json(*args: str) -> Any:
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("model", ["llama-3-70b", "mixtral-8x7b"])
def test_layout_memory_parts_and_tp(model: str) -> None:
    previous = math.inf
    for tp in (1, 2, 4, 8):
        result = _json("train", model, "--tokens", "1T", "--gpu", "h100", "--tp", str(tp), "--dp", "8", "--zero", "1")
        assert sum(result["memory_parts_bytes"].values()) == pytest.approx(result["memory_per_gpu_bytes"])
        assert result["memory_per_gpu_bytes"] <= previous, f"tp {tp}"
        previous = result["memory_per_gpu_bytes"]


@pytest.mark.parametrize("method", ["full", "lora", "qlora"])
def test_finetune_parts_sum(method: str) -> None:
    result = _json("finetune", "mixtral-8x7b", "--gpu", "h100", "--method", method)
    parts = ("weights_bytes", "gradients_bytes", "optimizer_bytes", "activations_bytes", "kv_cache_bytes",
             "dequantization_bytes", "framework_reserve_bytes")
    assert sum(result[part] for part in parts) == pytest.approx(result["total_bytes"])


@pytest.mark.parametrize("model", ["llama-3-8b", "gemma-2-9b", "deepseek-v2-lite", "mixtral-8x7b"])
def test_serve_size_monotone(model: str) -> None:
    bf16 = _json("serve-size", model, "--gpu", "h200", "--gpus", "2", "--context", "4k")
    fp8 = _json("serve-size", model, "--gpu", "h200", "--gpus", "2", "--context", "4k", "--kv-dtype", "fp8")
    assert fp8["kv_cache_tokens"] >= 2 * bf16["kv_cache_tokens"] - bf16["block_size"]
    assert fp8["max_concurrency"] > bf16["max_concurrency"]
    tp_one = _json("serve-size", model, "--gpu", "h200", "--gpus", "2", "--tp", "1", "--context", "4k")
    assert bf16["weights_bytes_per_gpu"] <= tp_one["weights_bytes_per_gpu"]
    assert bf16["kv_cache_bytes_per_gpu"] >= tp_one["kv_cache_bytes_per_gpu"]


def test_latency_rows_monotone() -> None:
    rows = _json("latency", "llama-3-70b", "--gpu", "h100", "--gpus", "4", "--batch", "1,2,8,32,128,512")["rows"]
    for smaller, larger in zip(rows, rows[1:]):
        assert larger["tpot_s"] >= smaller["tpot_s"]
        assert larger["tokens_per_s_per_gpu"] >= smaller["tokens_per_s_per_gpu"]
        assert larger["ttft_s"] == pytest.approx(smaller["ttft_s"])
