"""Time the web API on loopback, and the estimator page's time to interactive in Chromium.

The server runs in a subprocess (uvicorn, one worker) on a free 127.0.0.1 port. Each endpoint
gets warm-up requests, then timed requests over one keep-alive connection, with inputs that
change on every request so that no response comes from a cache. The page is timed from
navigation start until it has drawn every panel (body[data-ready] set; performance.now() read
by the page itself); the plan panel runs only on its button, so a load does not include it.

`/api/plan` searches hundreds of thousands of layouts per request, so it gets its own, smaller
request count and its own target, and stays out of the estimates' overall median.

Usage: python benchmarks/bench_api.py [--requests 300] [--plan-requests 20] [--loads 10]
Targets: median estimate request under 5 ms; plan request under 1 s at p99; page interactive under 1 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import httpx

import benchlib
from benchlib import PLAN

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SERVER = "import sys, uvicorn; from napkin.web import create_app; uvicorn.run(create_app(), host='127.0.0.1', port=int(sys.argv[1]), log_level='warning')"


def _time_endpoint(client: httpx.Client, path: str, count: int, warm_up: int) -> list[float]:
    for i in range(warm_up):
        client.post(path, json=benchlib.bodies(i)[path]).raise_for_status()
    samples = []
    for i in range(warm_up, warm_up + count):
        body = benchlib.bodies(i)[path]
        start = time.perf_counter()
        response = client.post(path, json=body)
        samples.append(time.perf_counter() - start)
        response.raise_for_status()
    return samples


def _report(label: str, samples: list[float], note: str = "") -> None:
    print(f"{label:<18}{statistics.median(samples) * 1e3:>8.2f} ms{benchlib.percentile(samples, 0.99) * 1e3:>9.2f} ms{note}")


def time_requests(base: str, count: int, plan_count: int) -> None:
    print(f"API on loopback, {count} requests per estimate endpoint ({plan_count} for {PLAN}) after warm-up, one keep-alive connection")
    print(f"{'endpoint':<18}{'median':>11}{'p99':>12}")
    everything: list[float] = []
    with httpx.Client(base_url=base, timeout=30.0) as client:
        for path in benchlib.bodies(0):
            if path == PLAN:
                continue
            samples = _time_endpoint(client, path, count, warm_up=20)
            everything += samples
            _report(path, samples)
        _report("all estimates", everything, "   (target: median under 5 ms)")
        _report(PLAN, _time_endpoint(client, PLAN, plan_count, warm_up=3), "   (target: p99 under 1,000 ms)")


def time_page(base: str, loads: int) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("page: skipped (playwright is not installed)")
        return
    if not os.access(CHROMIUM, os.X_OK):
        print(f"page: skipped ({CHROMIUM} not found)")
        return
    ready_ms = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
        for _ in range(loads + 1):
            context = browser.new_context(viewport={"width": 1320, "height": 1000})
            page = context.new_page()
            page.goto(base + "/", timeout=15_000)
            page.wait_for_selector("body[data-ready='1']", state="attached", timeout=15_000)
            ready_ms.append(float(page.get_attribute("body", "data-ready-ms")))
            context.close()
        browser.close()
    ready_ms = ready_ms[1:]  # the first load also warms Chromium's caches
    print(f"page interactive (all panels drawn) after {statistics.median(ready_ms):.0f} ms median, "
          f"{max(ready_ms):.0f} ms max over {loads} loads   (target: under 1,000 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="Timed requests per estimate endpoint (default 300).")
    parser.add_argument("--plan-requests", type=int, default=20, help="Timed requests of the plan search (default 20).")
    parser.add_argument("--loads", type=int, default=10, help="Timed page loads (default 10).")
    args = parser.parse_args()

    port = benchlib.free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)])
    try:
        benchlib.wait_until_up(base, server)
        time_requests(base, args.requests, args.plan_requests)
        time_page(base, args.loads)
    finally:
        benchlib.stop(server)


if __name__ == "__main__":
    main()
