"""Load-test `napkin web` on loopback: many keep-alive connections for a fixed time, with the
server's latency, errors and memory recorded.

The script starts `napkin web --no-browser` itself on a free 127.0.0.1 port and stops it at
the end; it never sends a request to another address. After a short warm-up (three requests per
endpoint, so lazy imports and caches are loaded before the memory is measured), every
connection sends POST requests back to back for --duration seconds. The connections rotate
through the ten estimate endpoints in equal shares, the way the page calls one endpoint per
panel. `/api/plan` searches hundreds of thousands of layouts per request (about 100 ms), so one
of the connections sends only plan requests and its latencies are reported apart from the
estimates'. A request body changes from one request to the next, so no response comes from a
cache.

The load generator is asyncio with raw HTTP/1.1 streams in this process. It records each
request's status and latency per endpoint, which wrk does not: wrk keeps one latency histogram
for all requests. The price is CPU: on /api/model alone (50 connections, 10 s, 2-core AMD EPYC
VM) wrk 4.1 used 3% of the CPU and reached about 870 requests/s, while this generator used 10%
and reached about 0.8 × that. On the full mix of endpoints it uses about 4%, and the report
states its share. A sampler reads the server's VmRSS from /proc every second. The run passes when no request
failed (non-2xx status or connection error) and the server's memory is flat. Flat means that
the mean RSS of the last window is within --rss-tolerance of the mean of the first window. A
window is 10 s, or a third of a shorter run.

Usage: python benchmarks/bench_load.py [--duration 60] [--connections 200] [--output FILE]
Exits 1 when a request failed or the RSS is not flat.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import benchlib
from benchlib import PLAN

VARIANTS = 64  # distinct bodies per endpoint, cycled
WARM_UP_PER_ENDPOINT = 3
ESTIMATES = [path for path in benchlib.bodies(0) if path != PLAN]


def _request_bytes(host_header: str, path: str, body: dict) -> bytes:
    payload = json.dumps(body).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: {host_header}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n")
    return head.encode("ascii") + payload


def _read_status_bytes(pid: int, field: str) -> int | None:
    """Return a `field` of /proc/<pid>/status (VmRSS, VmHWM) in bytes, or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def _cpu_seconds(pid: int) -> float:
    """Return user + system CPU seconds of process `pid` from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime and stime, fields 14 and 15


class Recorder:
    """Latencies in seconds and failures per endpoint."""

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {path: [] for path in benchlib.bodies(0)}
        self.errors: dict[str, int] = {path: 0 for path in benchlib.bodies(0)}
        self.error_examples: list[str] = []

    def fail(self, path: str, reason: str) -> None:
        self.errors[path] += 1
        if len(self.error_examples) < 10:
            self.error_examples.append(f"{path}: {reason}")


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bool]:
    """Send one request and read its response; return the status and whether the server keeps the connection open."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "content-length" not in headers:
        raise ValueError(f"response without Content-Length (status {status})")
    await reader.readexactly(int(headers["content-length"]))
    return status, headers.get("connection", "").lower() != "close"


async def _connection(port: int, paths: list[str], requests: dict[str, list[bytes]], offset: int,
                      deadline: float, recorder: Recorder) -> None:
    """Send requests over one keep-alive connection until `deadline`, reconnecting after a failure."""
    reader = writer = None
    turn = offset
    while time.monotonic() < deadline:
        path = paths[turn % len(paths)]
        request = requests[path][turn % VARIANTS]
        turn += 1
        start = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(benchlib.LOOPBACK, port)
            status, keep_alive = await _exchange(reader, writer, request)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as error:
            recorder.fail(path, f"{type(error).__name__}: {error}")
            if writer is not None:
                writer.close()
            reader = writer = None
            await asyncio.sleep(0.05)  # a server that is down would otherwise be retried in a busy loop
            continue
        recorder.latencies[path].append(time.perf_counter() - start)
        if not 200 <= status < 300:
            recorder.fail(path, f"status {status}")
        if not keep_alive:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def _sample_rss(pid: int, deadline: float, samples: list[tuple[float, int]]) -> None:
    start = time.monotonic()
    while time.monotonic() < deadline:
        rss = _read_status_bytes(pid, "VmRSS")
        if rss is not None:
            samples.append((time.monotonic() - start, rss))
        await asyncio.sleep(1.0)


async def drive(port: int, connections: int, duration: float, with_plan: bool, pid: int) -> tuple[Recorder, list[tuple[float, int]], float]:
    """Run the load; return the recorder, the server's RSS samples (seconds, bytes) and the elapsed seconds."""
    host_header = f"{benchlib.LOOPBACK}:{port}"
    requests = {path: [_request_bytes(host_header, path, benchlib.bodies(i)[path]) for i in range(VARIANTS)]
                for path in benchlib.bodies(0)}
    recorder = Recorder()
    samples: list[tuple[float, int]] = []
    start = time.monotonic()
    deadline = start + duration
    tasks = [_sample_rss(pid, deadline, samples)]
    estimate_connections = connections - 1 if with_plan else connections
    tasks += [_connection(port, ESTIMATES, requests, index, deadline, recorder) for index in range(estimate_connections)]
    if with_plan:
        tasks.append(_connection(port, [PLAN], requests, 0, deadline, recorder))
    await asyncio.gather(*tasks)
    return recorder, samples, time.monotonic() - start


def _latency_summary(samples: list[float], errors: int) -> dict[str, float | int]:
    if not samples:
        return {"requests": 0, "errors": errors, "p50_ms": None, "p99_ms": None}
    return {
        "requests": len(samples),
        "errors": errors,
        "p50_ms": round(benchlib.percentile(samples, 0.50) * 1e3, 2),
        "p99_ms": round(benchlib.percentile(samples, 0.99) * 1e3, 2),
    }


def rss_flatness(samples: list[tuple[float, int]], duration: float, tolerance: float) -> dict[str, object]:
    """Compare the mean RSS of the first and the last window of the run (10 s, or a third of a shorter run)."""
    window = min(10.0, duration / 3)
    first = [rss for t, rss in samples if t < window]
    last = [rss for t, rss in samples if t >= duration - window]
    if not first or not last:
        return {"window_s": window, "flat": False, "reason": "too few RSS samples"}
    ratio = statistics.fmean(last) / statistics.fmean(first)
    return {
        "window_s": window,
        "first_mean_bytes": round(statistics.fmean(first)),
        "last_mean_bytes": round(statistics.fmean(last)),
        "last_over_first": round(ratio, 4),
        "tolerance": tolerance,
        "flat": abs(ratio - 1) <= tolerance,
        "samples": [[round(t, 2), rss] for t, rss in samples],
    }


def _warm_up(base: str) -> None:
    import httpx

    with httpx.Client(base_url=base, timeout=30.0) as client:
        for i in range(WARM_UP_PER_ENDPOINT):
            for path, body in benchlib.bodies(i).items():
                client.post(path, json=body).raise_for_status()


def _print_report(result: dict) -> None:
    print(f"{result['requests']:,} requests in {result['elapsed_s']:.1f} s over {result['connections']} connections: "
          f"{result['throughput_rps']:,.0f} requests/s, {result['errors']} errors")
    print(f"{'endpoint':<18}{'requests':>10}{'errors':>8}{'p50':>11}{'p99':>11}")
    rows = {"estimates (all)": result["estimates"], **result["per_endpoint"]}
    for label, row in rows.items():
        if row["requests"]:
            print(f"{label:<18}{row['requests']:>10,}{row['errors']:>8}{row['p50_ms']:>8.1f} ms{row['p99_ms']:>8.1f} ms")
    rss = result["server_rss"]
    if "last_over_first" in rss:
        print(f"server RSS: first {rss['window_s']:.0f} s mean {rss['first_mean_bytes'] / 2**20:.1f} MiB, last "
              f"{rss['window_s']:.0f} s mean {rss['last_mean_bytes'] / 2**20:.1f} MiB, ratio {rss['last_over_first']:.3f} "
              f"({'flat' if rss['flat'] else 'NOT flat'} within ±{rss['tolerance']:.0%})")
    print(f"peak RSS: server {result['server_peak_rss_bytes'] / 2**20:.1f} MiB, "
          f"load generator {result['generator_peak_rss_bytes'] / 2**20:.1f} MiB")
    print(f"CPU: server {result['server_cpu_s']:.1f} s, load generator {result['generator_cpu_s']:.1f} s "
          f"({result['generator_cpu_share']:.0%} of the two)")
    print("PASS" if result["passed"] else "FAIL")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="Seconds of load (default 60).")
    parser.add_argument("--connections", type=int, default=200, help="Concurrent keep-alive connections (default 200).")
    parser.add_argument("--host", default=benchlib.LOOPBACK, help="Address the server listens on; only 127.0.0.1 is accepted.")
    parser.add_argument("--no-plan", action="store_true", help="Leave out the connection that sends /api/plan requests.")
    parser.add_argument("--rss-tolerance", type=float, default=0.10, help="Maximum accepted change of mean RSS, last window over first (default 0.10).")
    parser.add_argument("--output", type=Path, default=None, help="Result file (default benchmarks/results/load.json).")
    args = parser.parse_args()
    if args.host != benchlib.LOOPBACK:
        parser.error(f"invalid --host {args.host}: the load test serves and sends only on 127.0.0.1; leave --host out")
    if args.connections < (2 if not args.no_plan else 1):
        parser.error("--connections must be at least 2 (one sends the plan requests), or 1 with --no-plan")
    if args.duration <= 0:
        parser.error("--duration must be positive")

    port = benchlib.free_port()
    base = f"http://{benchlib.LOOPBACK}:{port}"
    napkin_exe = shutil.which("napkin") or str(Path(sys.executable).with_name("napkin"))
    with tempfile.TemporaryFile() as server_log:
        server = subprocess.Popen([napkin_exe, "web", "--host", args.host, "--port", str(port), "--no-browser"],
                                  stdout=server_log, stderr=subprocess.STDOUT)
        try:
            benchlib.wait_until_up(base, server)
            _warm_up(base)
            cpu_before = _cpu_seconds(server.pid)
            generator_cpu_before = time.process_time()
            recorder, samples, elapsed = asyncio.run(drive(port, args.connections, args.duration, not args.no_plan, server.pid))
            generator_cpu = time.process_time() - generator_cpu_before
            server_cpu = _cpu_seconds(server.pid) - cpu_before
            server_peak = _read_status_bytes(server.pid, "VmHWM") or 0
        finally:
            benchlib.stop(server)
        server_log.seek(0)
        log_tail = server_log.read().decode("utf-8", "replace").splitlines()[-20:]

    estimates = [latency for path in ESTIMATES for latency in recorder.latencies[path]]
    estimate_errors = sum(recorder.errors[path] for path in ESTIMATES)
    requests = sum(len(samples_of) for samples_of in recorder.latencies.values())
    errors = sum(recorder.errors.values())
    rss = rss_flatness(samples, args.duration, args.rss_tolerance)
    result = {
        "duration_s": args.duration,
        "elapsed_s": round(elapsed, 2),
        "connections": args.connections,
        "plan_connections": 0 if args.no_plan else 1,
        "requests": requests,
        "errors": errors,
        "error_examples": recorder.error_examples,
        "throughput_rps": round(requests / elapsed, 1),
        "estimates": _latency_summary(estimates, estimate_errors),
        "per_endpoint": {path: _latency_summary(recorder.latencies[path], recorder.errors[path]) for path in recorder.latencies},
        "server_rss": rss,
        "server_peak_rss_bytes": server_peak,
        "generator_peak_rss_bytes": benchlib.self_peak_rss_bytes(),
        "server_cpu_s": round(server_cpu, 2),
        "generator_cpu_s": round(generator_cpu, 2),
        "generator_cpu_share": round(generator_cpu / max(generator_cpu + server_cpu, 1e-9), 3),
        "passed": errors == 0 and bool(rss["flat"]),
    }
    command = f"python benchmarks/bench_load.py --duration {args.duration:g} --connections {args.connections}" + (" --no-plan" if args.no_plan else "")
    benchlib.write_result("load", result, command, args.output)
    _print_report(result)
    if result["error_examples"]:
        print("first failures:", *result["error_examples"], sep="\n  ")
        print("server log (last lines):", *log_tail, sep="\n  ")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
