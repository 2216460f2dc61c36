"""The estimator page in a real browser: Playwright driving Debian's Chromium (flags in DEVELOPERS.md).

A module fixture serves the app with uvicorn on a free loopback port in a thread. Every wait has
a timeout, so a broken page fails the test instead of hanging it. The screenshot test writes one
PNG per panel into docs/img/, which the README shows.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

sync_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("uvicorn")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 15_000
ROOT = os.path.join(os.path.dirname(__file__), "..")
SCREENSHOTS = os.path.join(ROOT, "docs", "img")
LLAMA_3_8B_CONFIG = os.path.join(ROOT, "src", "napkin", "data", "models", "meta-llama__Meta-Llama-3-8B.json")
PANELS = ("train", "memory", "kv", "latency", "roofline", "layout", "plan", "compare")


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    from live_server import serving
    from napkin.web import create_app

    with serving(create_app(allowed_hosts=["127.0.0.1"])) as port:
        yield f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        message = f"{CHROMIUM} not found: install Debian's chromium package (.ci/run does)"
        if os.environ.get("NAPKIN_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server_url):
    context = browser.new_context(viewport={"width": 1320, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    open_page(tab, server_url)
    yield tab
    context.close()
    assert errors == [], errors


def open_page(tab, url: str) -> None:
    tab.goto(url)
    tab.wait_for_selector("body[data-ready='1']")


def settle(tab) -> None:
    """Wait until every panel shows the response to the latest input."""
    # A selector, not wait_for_function: the page's Content-Security-Policy forbids eval.
    tab.wait_for_selector("body[data-busy='0']", state="attached")


def by_testid(tab, name: str):
    return tab.get_by_test_id(name)


def run_plan(tab) -> None:
    """Press the plan panel's button and wait for its table."""
    button = by_testid(tab, "plan-run")
    # Focus first: leaving a text field and scrolling the button into view can move the page
    # between mouse down and mouse up, and then the button gets no click.
    button.focus()
    button.click()
    settle(tab)


def value_of(tab, name: str) -> float:
    return float(by_testid(tab, name).get_attribute("data-value"))


def test_page_shows_training_bill(page) -> None:
    assert by_testid(page, "cost").inner_text().startswith("$")
    assert value_of(page, "cost") > 0
    assert value_of(page, "total-flop") > 0
    assert value_of(page, "wall-clock") > 0
    assert value_of(page, "gpu-hours") * 3600 == pytest.approx(value_of(page, "wall-clock") * 1024)


def test_pick_model_changes_bill(page) -> None:
    before = value_of(page, "total-flop")
    by_testid(page, "model").select_option("llama-3-8b")
    settle(page)
    assert value_of(page, "total-flop") < before
    assert "llama-3-8b (llama)" in by_testid(page, "model-info").inner_text()
    by_testid(page, "model").select_option("@params")
    by_testid(page, "params").fill("70B")
    settle(page)
    # 6 · 70e9 · 15e12 FLOP, the default 15T tokens.
    assert value_of(page, "total-flop") == pytest.approx(6.3e24)


def test_mfu_40_to_20_doubles_cost(page) -> None:
    by_testid(page, "price").fill("2")
    by_testid(page, "mfu").fill("40")
    settle(page)
    at_40 = value_of(page, "cost")
    wall_clock_40 = value_of(page, "wall-clock")
    by_testid(page, "mfu").fill("20")
    settle(page)
    assert value_of(page, "cost") == pytest.approx(2 * at_40, rel=1e-9)
    assert value_of(page, "wall-clock") == pytest.approx(2 * wall_clock_40, rel=1e-9)
    assert page.locator("output.range-value").first.inner_text() == "20%"


def test_upload_config_matches_preset(page, tmp_path) -> None:
    by_testid(page, "model").select_option("llama-3-8b")
    settle(page)
    preset_flop = value_of(page, "total-flop")
    upload = tmp_path / "config.json"
    shutil.copy(LLAMA_3_8B_CONFIG, upload)
    by_testid(page, "upload").set_input_files(str(upload))
    sync_api.expect(by_testid(page, "model")).to_have_value("@upload", timeout=TIMEOUT_MS)
    settle(page)
    assert "uploaded config.json" in by_testid(page, "model-info").inner_text()
    assert value_of(page, "total-flop") == preset_flop
    assert int(by_testid(page, "max-requests").get_attribute("data-value")) > 0


def test_bad_upload_is_reported(page, tmp_path) -> None:
    upload = tmp_path / "config.json"
    upload.write_text('{"model_type": "bert"}')
    by_testid(page, "upload").set_input_files(str(upload))
    settle(page)
    assert "unsupported model_type 'bert'" in by_testid(page, "model-info").inner_text()
    assert "unsupported model_type 'bert'" in by_testid(page, "error-train").inner_text()


def test_bad_tokens_show_error(page) -> None:
    before = by_testid(page, "cost").inner_text()
    by_testid(page, "tokens").fill("15X")
    settle(page)
    assert "invalid token count '15X'" in by_testid(page, "error-train").inner_text()
    assert by_testid(page, "cost").inner_text() == before


def test_charts_rendered(page) -> None:
    for chart in ("chart-train-0", "chart-kv-0", "chart-roofline-0"):
        figure = by_testid(page, chart)
        assert figure.get_attribute("data-rendered") == "1"
        assert figure.locator("svg polyline").count() >= 1
        assert figure.locator("svg circle").count() >= 1
    bar = by_testid(page, "chart-memory-0")
    assert bar.locator("svg rect.segment").count() == 4
    assert bar.locator("svg line.rule").count() == 1
    assert by_testid(page, "chart-roofline-0").locator("circle.point-decode").count() == 4


def test_train_seq_adds_attention_term(page) -> None:
    from napkin.presets import load_model
    from napkin.training import palm_flop_per_token

    by_testid(page, "model").select_option("llama-3-70b")
    settle(page)
    plain = value_of(page, "flop-per-token")
    by_testid(page, "train-seq").fill("8k")
    settle(page)
    # napkin train --seq 8k computes the same 6·N + 12·L·H·Q·T with the core function.
    assert value_of(page, "flop-per-token") == palm_flop_per_token(load_model("llama-3-70b"), 8192)[0]
    assert value_of(page, "flop-per-token") > plain


def test_serving_panels_render(page) -> None:
    assert value_of(page, "kv-cache-tokens") > 0
    assert by_testid(page, "chart-kv-0").get_attribute("data-rendered") == "1"
    latency = by_testid(page, "panel-latency")
    assert latency.locator("table.figures tbody tr").count() == 4
    assert value_of(page, "ttft") > 0
    chart = by_testid(page, "chart-latency-0")
    assert chart.get_attribute("data-rendered") == "1"
    assert chart.locator("svg circle").count() == 4
    by_testid(page, "latency-batches").fill("1,2,4")
    settle(page)
    assert latency.locator("table.figures tbody tr").count() == 3


def test_engine_plain_holds_more_kv(page) -> None:
    vllm = value_of(page, "kv-cache-tokens")
    by_testid(page, "engine").select_option("plain")
    settle(page)
    assert value_of(page, "kv-cache-tokens") > vllm


def test_layout_panel_updates(page) -> None:
    assert 0 < value_of(page, "layout-mfu") <= value_of(page, "layout-hfu") <= 1
    assert by_testid(page, "chart-layout-0").locator("svg line.rule").count() == 1
    before = value_of(page, "layout-memory")
    by_testid(page, "layout-tp").fill("4")
    by_testid(page, "layout-dp").fill("64")
    settle(page)
    assert value_of(page, "layout-memory") > before
    by_testid(page, "layout-tp").fill("3")
    settle(page)
    assert "does not divide the 64 attention heads" in by_testid(page, "error-layout").inner_text()


def test_plan_button_runs_search(page) -> None:
    table = by_testid(page, "panel-plan").locator("table.figures tbody tr")
    assert table.count() == 0
    by_testid(page, "plan-max-gpus").fill("2048")
    settle(page)
    assert table.count() == 0
    run_plan(page)
    # Six layouts of 2,048 or fewer H100s train llama-3-70b on 15T tokens within 90 days.
    assert table.count() == 6
    assert value_of(page, "plan-best-cost") > 0
    assert "plan_run=1" in page.url
    by_testid(page, "plan-days").fill("60")
    settle(page)
    assert "stale" in by_testid(page, "panel-plan").get_attribute("class")
    assert "plan_run" not in page.url


def test_url_restores_new_panels(page, browser) -> None:
    by_testid(page, "train-seq").fill("8k")
    by_testid(page, "engine").select_option("plain")
    by_testid(page, "latency-batches").fill("1,64")
    by_testid(page, "layout-tp").fill("4")
    by_testid(page, "layout-pp").fill("2")
    by_testid(page, "layout-dp").fill("64")
    by_testid(page, "plan-max-gpus").fill("8192")
    settle(page)
    run_plan(page)
    names = ("flop-per-token", "kv-cache-tokens", "ttft", "layout-memory", "layout-cost", "plan-best-cost")
    expected = {name: by_testid(page, name).get_attribute("data-value") for name in names}
    rows = by_testid(page, "panel-plan").locator("table.figures tbody").inner_text()

    context = browser.new_context(viewport={"width": 1320, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    copy = context.new_page()
    try:
        open_page(copy, page.url)
        assert by_testid(copy, "train-seq").input_value() == "8k"
        assert by_testid(copy, "engine").input_value() == "plain"
        assert by_testid(copy, "latency-batches").input_value() == "1,64"
        assert by_testid(copy, "layout-tp").input_value() == "4"
        assert by_testid(copy, "plan-max-gpus").input_value() == "8192"
        for name, value in expected.items():
            assert by_testid(copy, name).get_attribute("data-value") == value, name
        assert by_testid(copy, "panel-plan").locator("table.figures tbody").inner_text() == rows
    finally:
        context.close()


def test_derivation_one_click_away(page) -> None:
    panel = by_testid(page, "panel-train")
    panel.locator("details.derivation summary").click()
    assert "6 · N · D" in panel.locator("details.derivation table").inner_text()


def test_url_restores_state(page, browser) -> None:
    by_testid(page, "model").select_option("mixtral-8x7b")
    by_testid(page, "gpu").select_option("h200")
    by_testid(page, "tokens").fill("2T")
    by_testid(page, "gpus").fill("256")
    by_testid(page, "mfu").fill("35")
    by_testid(page, "mem-mode").select_option("infer")
    by_testid(page, "context").fill("32k")
    settle(page)
    url = page.url
    expected = {name: by_testid(page, name).get_attribute("data-value") for name in ("total-flop", "cost", "mem-total", "max-requests")}

    context = browser.new_context(viewport={"width": 1320, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    copy = context.new_page()
    try:
        open_page(copy, url)
        assert by_testid(copy, "model").input_value() == "mixtral-8x7b"
        assert by_testid(copy, "gpu").input_value() == "h200"
        assert by_testid(copy, "tokens").input_value() == "2T"
        assert by_testid(copy, "gpus").input_value() == "256"
        assert by_testid(copy, "mfu").input_value() == "35"
        assert by_testid(copy, "mem-mode").input_value() == "infer"
        assert by_testid(copy, "context").input_value() == "32k"
        for name, value in expected.items():
            assert by_testid(copy, name).get_attribute("data-value") == value, name
    finally:
        context.close()


def test_url_restores_uploaded_config(page, browser, tmp_path) -> None:
    upload = tmp_path / "config.json"
    shutil.copy(LLAMA_3_8B_CONFIG, upload)
    by_testid(page, "upload").set_input_files(str(upload))
    sync_api.expect(by_testid(page, "model")).to_have_value("@upload", timeout=TIMEOUT_MS)
    settle(page)
    expected = by_testid(page, "total-flop").get_attribute("data-value")
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    copy = context.new_page()
    try:
        open_page(copy, page.url)
        assert by_testid(copy, "model").input_value() == "@upload"
        assert by_testid(copy, "total-flop").get_attribute("data-value") == expected
    finally:
        context.close()


def test_screenshots_of_each_panel(browser, server_url) -> None:
    # Chromium antialiases rounded corners differently from run to run. Square corners keep the
    # committed PNGs byte for byte unchanged while the page is, but the style that squares them is
    # injected, which the page's Content-Security-Policy would block, so this page bypasses it.
    context = browser.new_context(viewport={"width": 1320, "height": 1000}, bypass_csp=True)
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    try:
        open_page(tab, server_url)
        by_testid(tab, "panel-train").locator("details.derivation summary").click()
        run_plan(tab)
        tab.mouse.move(0, 0)
        os.makedirs(SCREENSHOTS, exist_ok=True)
        square = ".panel, .setup { border-radius: 0 !important; }"
        tab.locator("#setup").screenshot(path=os.path.join(SCREENSHOTS, "web-setup.png"), style=square, animations="disabled")
        for panel in PANELS:
            path = os.path.join(SCREENSHOTS, f"web-{panel}.png")
            by_testid(tab, f"panel-{panel}").screenshot(path=path, style=square, animations="disabled")
            assert os.path.getsize(path) > 10_000
    finally:
        context.close()


def test_short_window_model_fits_defaults(page) -> None:
    # gpt2's config.json sets max_position_embeddings to 1,024, shorter than every default length.
    by_testid(page, "model").select_option("gpt2")
    # gpt2 has 12 attention heads, which the default tensor-parallel size 8 does not divide.
    page.locator('[data-key="tp"]').fill("4")
    by_testid(page, "layout-tp").fill("4")
    settle(page)
    for panel in ("train", "memory", "kv", "latency", "roofline", "layout", "compare"):
        assert by_testid(page, f"error-{panel}").inner_text() == "", panel
    assert by_testid(page, "model-info").inner_text().startswith("gpt2")
    assert page.locator('[data-key="seq"]').get_attribute("placeholder") == "1,024"
    assert by_testid(page, "context").get_attribute("placeholder") == "1,024"
    assert by_testid(page, "roofline-prompt").get_attribute("placeholder") == "1,024"
    assert by_testid(page, "layout-seq").get_attribute("placeholder") == "1,024"
    # The prompt leaves room for the default output of 512 tokens.
    assert by_testid(page, "latency-prompt").get_attribute("placeholder") == "512"
    by_testid(page, "model").select_option("llama-3-70b")
    settle(page)
    assert by_testid(page, "roofline-prompt").get_attribute("placeholder") == "2,048"
    assert by_testid(page, "context").get_attribute("placeholder") == "8,192"
