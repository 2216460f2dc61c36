"""The plan endpoint runs every layout search on one thread, so the server's memory stays flat.

Each thread of a thread pool allocates from its own glibc malloc arena, which keeps the pages a
search frees. Searches spread over the pool made the server's RSS grow by hundreds of MB under
load (benchmarks/bench_load.py), while on one thread it stayed flat.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

pytest.importorskip("fastapi")
import httpx  # noqa: E402

import napkin.plan  # noqa: E402
from napkin.web import create_app  # noqa: E402

PLAN = {"model": "llama-3-8b", "tokens": "2T", "gpu": "h100", "max_gpus": 64, "top": 1}


def test_concurrent_plans_share_one_thread(monkeypatch) -> None:
    threads: set[int] = set()
    search = napkin.plan.plan_layouts

    def recording_search(*args, **kwargs):
        threads.add(threading.get_ident())
        return search(*args, **kwargs)

    monkeypatch.setattr(napkin.plan, "plan_layouts", recording_search)

    async def post_concurrently() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await asyncio.gather(*(client.post("/api/plan", json=PLAN) for _ in range(6)))

    responses = asyncio.run(post_concurrently())
    assert [response.status_code for response in responses] == [200] * 6
    assert len(threads) == 1
