"""Hostile config.json files through every entry point that takes one.

Each broken file must end in exit status 2 and one line on stderr (command line), a
`ConfigError` with a one-line message (Python API) or a 422 with the message (web API),
naming the key or value at fault. The 100 MB file and the endless devices run in a subprocess
under a 1.5 GB address-space limit and a 60 s timeout, so a reader that slurps them fails the
test instead of the machine.
"""

from __future__ import annotations

import copy
import json
import math
import os
import resource
import stat
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from napkin_runner import run_napkin

import napkin
from napkin.errors import ConfigError
from napkin.flops import count_flops
from napkin.hf import arch_from_config, load_config_text
from napkin.memory import kv_cache_bytes
from napkin.params import count_params

MODELS = Path(napkin.__file__).parent / "data" / "models"


def _config(file_name: str) -> dict[str, Any]:
    return json.loads((MODELS / file_name).read_text(encoding="utf-8"))


LLAMA = _config("meta-llama__Llama-3.2-1B.json")
GEMMA3 = _config("google__gemma-3-27b-it.json")
QWEN3_MOE = _config("Qwen__Qwen3-30B-A3B.json")
GPT_OSS = _config("openai__gpt-oss-20b.json")
FALCON = _config("tiiuae__falcon-40b.json")


def _llama(**changes: Any) -> bytes:
    return json.dumps({**LLAMA, **changes}).encode()


def _replace_value(key: str, literal: str) -> bytes:
    """Return the Llama config with `key`'s value written as the raw JSON text `literal`."""
    text = json.dumps({**LLAMA, key: "@@"})
    return text.replace('"@@"', literal).encode()


# (case id, file bytes, fragment the one-line error must contain)
CASES: list[tuple[str, bytes, str]] = [
    ("integer of 5,000 digits", _replace_value("hidden_size", "9" * 5000), "more than 4,300 digits"),
    ("integer 2**64", _llama(hidden_size=2**64), "'hidden_size' must be an integer from 1 to"),
    ("NaN", _replace_value("hidden_size", "NaN"), "NaN is not a valid JSON number"),
    ("Infinity", _replace_value("vocab_size", "Infinity"), "Infinity is not a valid JSON number"),
    ("-Infinity", _replace_value("vocab_size", "-Infinity"), "-Infinity is not a valid JSON number"),
    ("1e308", _replace_value("num_hidden_layers", "1e308"), "'num_hidden_layers' must be an integer from 1 to 10,000"),
    ("1e400", _replace_value("num_hidden_layers", "1e400"), "'num_hidden_layers' must be an integer"),
    ("arrays nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ("objects nested 100,000 deep", b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nested too deeply"),
    ("duplicate key", b'{"model_type": "llama", "hidden_size": 8, "hidden_size": 16}', "duplicate key 'hidden_size'"),
    ("top-level array", json.dumps([LLAMA]).encode(), "expected a JSON object at the top level, got an array"),
    ("top-level string", b'"llama"', "got a string"),
    ("top-level null", b"null", "got null"),
    ("rope_scaling array", _llama(rope_scaling=[1, 2]), "'rope_scaling' must be a JSON object or null, got an array"),
    ("rope_parameters number", _llama(rope_parameters=8), "'rope_parameters' must be a JSON object or null, got a number"),
    ("quantization_config array", _llama(quantization_config=["fp8"]), "'quantization_config' must be a JSON object"),
    ("text_config array", json.dumps({**GEMMA3, "text_config": [1]}).encode(), "'text_config' must be a JSON object"),
    ("vision_config array", json.dumps({**GEMMA3, "vision_config": [1]}).encode(), "'vision_config' must be a JSON object"),
    ("text_config rope_scaling array", json.dumps({**GEMMA3, "text_config": {**GEMMA3["text_config"], "rope_scaling": [1]}}).encode(),
     "text_config: 'rope_scaling' must be a JSON object"),
    ("vision_config boolean width", json.dumps({**GEMMA3, "vision_config": {**GEMMA3["vision_config"], "hidden_size": True}}).encode(),
     "'hidden_size' must be an integer"),
    ("layer_types object", json.dumps({**GPT_OSS, "layer_types": {"0": "full_attention"}}).encode(), "'layer_types' must be a list of strings"),
    ("mlp_only_layers object", json.dumps({**QWEN3_MOE, "mlp_only_layers": {"0": 1}}).encode(), "'mlp_only_layers' must be a list of integers"),
    ("mlp_only_layers booleans", json.dumps({**QWEN3_MOE, "mlp_only_layers": [True]}).encode(), "'mlp_only_layers' must be a list of integers"),
    ("Falcon width not divisible by heads", json.dumps({**FALCON, "hidden_size": 8193}).encode(),
     "hidden_size 8193 is not divisible by num_attention_heads 128"),
    ("Falcon heads not a multiple of KV heads", json.dumps({**FALCON, "num_kv_heads": 7}).encode(),
     "num_attention_heads 128 is not a multiple of num_kv_heads 7"),
    ("number as string", _llama(hidden_size="2048"), "'hidden_size' must be an integer"),
    ("true for an integer", _llama(num_hidden_layers=True), "'num_hidden_layers' must be an integer"),
    ("false for an integer", _llama(num_key_value_heads=False), "'num_key_value_heads' must be an integer"),
    ("integer for a boolean", _llama(tie_word_embeddings=1), "'tie_word_embeddings' must be true or false"),
    ("fractional float", _llama(hidden_size=2048.5), "'hidden_size' must be an integer"),
    ("negative", _llama(num_attention_heads=-32), "'num_attention_heads' must be an integer from 1"),
    ("zero", _llama(vocab_size=0), "'vocab_size' must be an integer from 1"),
    ("minus zero", _replace_value("intermediate_size", "-0"), "'intermediate_size' must be an integer from 1"),
    ("minus zero float", _replace_value("intermediate_size", "-0.0"), "'intermediate_size' must be an integer from 1"),
    ("object for an integer", _llama(hidden_size={"value": 2048}), "'hidden_size' must be an integer"),
    ("array for an integer", _llama(hidden_size=[2048]), "'hidden_size' must be an integer"),
    ("null for a required integer", _llama(hidden_size=None), "missing required key 'hidden_size'"),
    ("model_type of a million characters", _llama(model_type="x" * 1_000_000), "unsupported model_type"),
    ("model_type number", _llama(model_type=7), "unsupported model_type"),
    ("model_type missing", json.dumps({k: v for k, v in LLAMA.items() if k != "model_type"}).encode(), "missing required key 'model_type'"),
    ("invalid UTF-8", b'{"model_type": "llama\xff"}', "not UTF-8 text (invalid byte at offset 21)"),
    ("UTF-16", json.dumps(LLAMA).encode("utf-16"), "not UTF-8 text"),
    ("Latin-1 byte", b'{"model_type": "caf\xe9"}', "not UTF-8 text"),
    ("empty", b"", "invalid JSON at line 1 column 1"),
    ("whitespace", b" \n\t ", "invalid JSON at line 2"),
    ("truncated", _llama()[:-20], "invalid JSON"),
    ("trailing garbage", _llama() + b" {}", "invalid JSON"),
    ("NUL bytes", b"\x00" * 64, "invalid JSON"),
]
IDS = [case[0] for case in CASES]
# A message longer than this is not a one-line message any more, whatever the input.
MAX_MESSAGE_CHARS = 600

COMMANDS: list[list[str]] = [
    ["model", "{path}"],
    ["train", "{path}", "--tokens", "1T", "--gpu", "h100"],
    ["train", "{path}", "--tokens", "1T", "--gpu", "h100", "--tp", "2", "--dp", "4"],
    ["memory", "{path}", "--train", "--gpu", "h100"],
    ["memory", "{path}", "--infer", "--gpu", "h100"],
    ["kv", "{path}", "--context", "4k"],
    ["roofline", "--gpu", "h100", "--model", "{path}"],
    ["plan", "{path}", "--tokens", "1T", "--gpu", "h100", "--max-gpus", "8"],
    ["finetune", "{path}", "--gpu", "h100"],
    ["serve-size", "{path}", "--gpu", "h100"],
    ["latency", "{path}", "--gpu", "h100"],
    ["verify", "{path}"],
]


def _assert_one_line_error(code: int, out: str, err: str, fragment: str, command: str) -> None:
    assert code == 2, f"exit {code}: {err}{out[:200]}"
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"napkin {command}: error: "), lines[0]
    assert fragment in lines[0], lines[0]
    assert len(lines[0]) <= MAX_MESSAGE_CHARS, lines[0][:200]


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile-configs")
    paths = {}
    for index, (case, content, _) in enumerate(CASES):
        path = folder / f"case-{index}.json"
        path.write_bytes(content)
        paths[case] = path
    return paths


# --- command line -------------------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c[:1] + c[2:3]) for c in COMMANDS])
def test_cli_rejects_every_case(command: list[str], hostile_files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    for case, _, fragment in CASES:
        args = [part.replace("{path}", str(hostile_files[case])) for part in command]
        code, out, err = run_napkin(capsys, *args)
        _assert_one_line_error(code, out, err, fragment, command[0])


@pytest.mark.parametrize(("case", "content", "fragment"), CASES[:12], ids=IDS[:12])
def test_cli_folder_with_hostile_config(case: str, content: bytes, fragment: str, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "config.json").write_bytes(content)
    code, out, err = run_napkin(capsys, "model", str(tmp_path))
    _assert_one_line_error(code, out, err, fragment, "model")


def test_cli_folder_without_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_napkin(capsys, "model", str(tmp_path))
    _assert_one_line_error(code, out, err, "has no config.json", "model")


def test_cli_folder_named_like_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "config.json"
    folder.mkdir()
    code, out, err = run_napkin(capsys, "model", str(folder))
    _assert_one_line_error(code, out, err, "has no config.json", "model")


def test_cli_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_napkin(capsys, "model", str(tmp_path / "absent.json"))
    _assert_one_line_error(code, out, err, "not found", "model")


@pytest.mark.parametrize("device", ["/dev/null", "/dev/zero", "/dev/urandom"])
def test_cli_device_is_not_read(device: str, capsys: pytest.CaptureFixture[str]) -> None:
    if not os.path.exists(device):
        pytest.skip(f"{device} does not exist here")
    code, out, err = run_napkin(capsys, "model", device)
    _assert_one_line_error(code, out, err, "is not a regular file", "model")


def test_cli_symlink_to_device(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    link = tmp_path / "config.json"
    link.symlink_to("/dev/zero")
    for spec in (link, tmp_path):
        code, out, err = run_napkin(capsys, "model", str(spec))
        _assert_one_line_error(code, out, err, "not a regular file" if spec == link else "has no config.json", "model")


def test_cli_fifo_is_not_opened(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Opening a FIFO for reading blocks until a writer appears, so the size guard must come first.
    fifo = tmp_path / "config.json"
    os.mkfifo(fifo)
    code, out, err = run_napkin(capsys, "model", str(fifo))
    _assert_one_line_error(code, out, err, "is not a regular file", "model")


def test_cli_symlink_to_valid_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    link = tmp_path / "linked.json"
    link.symlink_to(MODELS / "meta-llama__Llama-3.2-1B.json")
    code, _, err = run_napkin(capsys, "model", str(link), "--json")
    assert code == 0, err


def _total_params(capsys: pytest.CaptureFixture[str], path: Path) -> int:
    code, out, err = run_napkin(capsys, "model", str(path), "--json")
    assert code == 0, err
    return json.loads(out)["params_total"]


def test_cli_bom_and_integral_floats_read_as_plain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A UTF-8 byte-order mark and integers written as 2048.0 give the same count as the plain file."""
    plain = tmp_path / "plain.json"
    plain.write_bytes(_llama())
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + _llama())
    floats = tmp_path / "floats.json"
    floats.write_bytes(_llama(hidden_size=2048.0, num_hidden_layers=16.0, vocab_size=128256.0))
    expected = _total_params(capsys, plain)
    assert _total_params(capsys, bom) == expected
    assert _total_params(capsys, floats) == expected


def test_cli_long_key_is_ignored(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(_llama(**{"k" * 100_000: 1}))
    code, _, err = run_napkin(capsys, "model", str(path))
    assert code == 0, err


# --- Python API ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("case", "content", "fragment"), CASES, ids=IDS)
def test_api_load_model_raises_config_error(case: str, content: bytes, fragment: str, hostile_files: dict[str, Path]) -> None:
    for spec in (str(hostile_files[case]), hostile_files[case]):
        with pytest.raises(napkin.ConfigError) as error:
            napkin.load_model(spec)
        message = str(error.value)
        assert fragment in message
        assert "\n" not in message
        assert len(message) <= MAX_MESSAGE_CHARS


@pytest.mark.parametrize(("case", "content", "fragment"), CASES, ids=IDS)
def test_api_text_functions_raise_config_error(case: str, content: bytes, fragment: str) -> None:
    with pytest.raises(ConfigError) as error:
        arch_from_config(load_config_text(content, "upload"), "upload")
    assert fragment in str(error.value)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_api_device_is_not_read(device: str) -> None:
    if not os.path.exists(device):
        pytest.skip(f"{device} does not exist here")
    with pytest.raises(napkin.ConfigError, match="is not a regular file"):
        napkin.load_model(device)


@pytest.mark.parametrize("case", ["integer of 5,000 digits", "arrays nested 100,000 deep", "objects nested 100,000 deep",
                                  "model_type of a million characters"])
def test_api_parse_memory_bounded(case: str) -> None:
    """Rejecting a hostile file allocates a bounded multiple of its size (tracemalloc peak)."""
    content = next(content for name, content, _ in CASES if name == case)
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError):
            arch_from_config(load_config_text(content, "upload"), "upload")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= 64 * 2**20 + 40 * len(content), f"peak {peak:,} bytes for a {len(content):,}-byte file"


# --- web API ------------------------------------------------------------------------------------

def _as_text(content: bytes) -> str | None:
    """Return the text a browser would upload, or None when the bytes are not UTF-8."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


WEB_CASES = [(case, text, fragment) for case, content, fragment in CASES if (text := _as_text(content)) is not None]
# Deep enough to overflow the parser's recursion while short enough for the page's 64k-character limit.
WEB_CASES.append(("arrays nested 30,000 deep", "[" * 30_000 + "]" * 30_000, "nested too deeply"))
WEB_BODIES = {
    "/api/model": {},
    "/api/train": {"tokens": "1T", "gpu": "h100"},
    "/api/memory": {"gpu": "h100"},
    "/api/kv": {"gpu": "h100", "context": "4k"},
    "/api/serve-size": {"gpu": "h100"},
    "/api/latency": {"gpu": "h100"},
    "/api/layout": {"gpu": "h100", "tokens": "1T"},
    "/api/plan": {"gpus": "h100", "tokens": "1T", "max_gpus": 8},
}


@pytest.fixture(scope="module")
def client():
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from napkin.web import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


def _assert_web_rejected(client, path: str, body: dict[str, Any], text: str, field: str, fragment: str, case: str) -> None:
    """Check the status and the one-line error: 413 for a body over the byte limit, 422 otherwise."""
    from napkin.web.guard import MAX_BODY_BYTES
    from napkin.web.schemas import MAX_CONFIG_CHARS

    response = client.post(path, json=body)
    error = response.json()["error"]
    assert "\n" not in error
    if len(json.dumps(body).encode()) > MAX_BODY_BYTES:
        assert response.status_code == 413, f"{case}: {response.status_code} {error[:200]}"
        assert "exceeds the limit" in error, f"{case}: {error[:200]}"
        return
    assert response.status_code == 422, f"{case}: {response.status_code} {error[:200]}"
    assert error.startswith(f"{field}: "), f"{case}: {error[:200]}"
    expected = f"at most {MAX_CONFIG_CHARS} characters" if len(text) > MAX_CONFIG_CHARS else fragment
    assert expected in error, f"{case}: {error[:200]}"


@pytest.mark.parametrize("path", sorted(WEB_BODIES))
def test_web_rejects_every_case(path: str, client) -> None:
    for case, text, fragment in WEB_CASES:
        _assert_web_rejected(client, path, {**WEB_BODIES[path], "config": text}, text, "config", fragment, case)


def test_web_compare_names_the_side(client) -> None:
    for case, text, fragment in WEB_CASES:
        body = {"a": {"model": "llama-3-8b", "gpu": "h100"}, "b": {"config": text, "gpu": "h100"}}
        _assert_web_rejected(client, "/api/compare", body, text, "b.config", fragment, case)


# --- bounded time and memory, in a subprocess ---------------------------------------------------

_LIMIT_BYTES = 1536 * 2**20
_TIMEOUT_S = 60

_PROBE = textwrap.dedent(
    """
    import sys
    from napkin.cli import main

    try:
        main(sys.argv[1:])
    finally:
        sys.stderr.write(f"torch imported: {'torch' in sys.modules}\\n")
    """
)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (_LIMIT_BYTES, _LIMIT_BYTES))


def _run_limited(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, timeout=_TIMEOUT_S,
                          preexec_fn=_limit_memory, env=env)


def _assert_limited_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr[-500:]
    assert result.stdout == ""
    assert len(lines) == 2, result.stderr[-500:]  # the error line, then the probe's torch line
    assert fragment in lines[0], lines[0]
    assert lines[1] == "torch imported: False"


@pytest.fixture
def file_of_100_mb(tmp_path: Path):
    path = tmp_path / "config.json"
    with open(path, "wb") as handle:
        handle.write(b'{"model_type": "llama", "padding": "')
        handle.truncate(100 * 2**20)  # sparse: quick to write, and still 100 MB to a reader
    yield path
    path.unlink()


@pytest.mark.parametrize("command", [["model"], ["kv", "--context", "4k"], ["verify"]])
def test_limited_100_mb_file(command: list[str], file_of_100_mb: Path) -> None:
    result = _run_limited(command[0], str(file_of_100_mb), *command[1:])
    _assert_limited_error(result, "104,857,600 bytes, larger than any model config")


@pytest.mark.parametrize("command", ["model", "verify"])
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_limited_endless_device(command: str, device: str) -> None:
    if not os.path.exists(device):
        pytest.skip(f"{device} does not exist here")
    _assert_limited_error(_run_limited(command, device), "is not a regular file")


def test_limited_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "config.json"
    os.mkfifo(fifo)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    _assert_limited_error(_run_limited("verify", str(fifo)), "is not a regular file")


def test_verify_rejects_before_importing_torch(hostile_files: dict[str, Path]) -> None:
    """napkin verify checks the config before it imports torch, so a broken file fails in milliseconds."""
    for case in ("NaN", "rope_scaling array", "duplicate key", "invalid UTF-8"):
        fragment = next(fragment for name, _, fragment in CASES if name == case)
        _assert_limited_error(_run_limited("verify", str(hostile_files[case])), fragment)


# --- mutated real configs -----------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
REAL_CONFIGS = {path.name: json.loads(path.read_text(encoding="utf-8")) for path in sorted(MODELS.glob("*.json"))}


@given(st.sampled_from(sorted(REAL_CONFIGS)), st.data())
def test_property_mutated_config_fails_cleanly(file_name: str, data: st.DataObject) -> None:
    """Any JSON value at any key of a shipped config (nested ones included) either parses into a
    model whose estimates are finite numbers or raises ConfigError: never another exception."""
    config = copy.deepcopy(REAL_CONFIGS[file_name])
    target = config
    if isinstance(config.get("text_config"), dict) and data.draw(st.booleans()):
        target = config["text_config"]
    key = data.draw(st.sampled_from(sorted(target)) | st.sampled_from(["rope_scaling", "layer_types", "mlp_only_layers",
                                                                       "sliding_window", "head_dim", "text_config"]))
    target[key] = data.draw(JSON_VALUES)
    try:
        arch = arch_from_config(config, "mutated")
    except ConfigError as error:
        assert "\n" not in str(error)
        assert len(str(error)) <= MAX_MESSAGE_CHARS
        return
    counts = count_params(arch)
    assert counts.total > 0
    assert math.isfinite(count_flops(arch, 4096).forward_flop_per_token_causal)
    assert math.isfinite(kv_cache_bytes(arch, 4096))
