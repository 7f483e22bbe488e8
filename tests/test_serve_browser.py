"""End-to-end tests of the explorer in a real headless Chromium (Debian's ``chromium`` package,
driven by Playwright for Python), against ``python -m symbackprop serve`` on loopback.

The figures read from the page are the lectures' (WE-5: ∂E/∂w_AT = 0.000929 along its one path)
and, for a weight with two paths, WE-2's independent script (examples/independent/, stdlib only).
Skipped when Chromium or Playwright is missing, except under ``CI=true`` (then an error:
``.ci/run`` installs both).
"""
from __future__ import annotations

import json
import os
import runpy
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if os.environ.get("CI") and CHROMIUM is None:   # CI must run these, not skip them quietly
    raise RuntimeError("CI=true but no chromium on PATH: .ci/run installs Debian's chromium package")
if os.environ.get("CI"):
    from playwright import sync_api
else:
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright for Python")
pytestmark = [pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (apt-get install chromium)"),
              pytest.mark.slow, pytest.mark.subprocess]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
STARTUP = 60   # seconds for the server to answer /healthz (it only hangs past this)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "symbackprop", "serve", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                if json.load(r)["status"] == "ok":
                    break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("the server did not start: " + proc.stderr.read().decode()[-500:])
            time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server + "/")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    yield page
    context.close()
    # no script error, no CSP violation, no failed asset (a 422 is the answer to a spec with a mistake)
    assert [e for e in errors if "status of 422" not in e] == []


def test_a_weight_shows_its_path_its_gradient_and_the_update(page):
    page.click("button.param[data-param='w_AT']")
    panel = page.locator("#param-panel")
    assert panel.locator(".path").count() == 1                        # w_AT → T → F → E, one path
    assert [v.strip() for v in panel.locator(".path-value").all_inner_texts()] == ["= 0.000929"]
    assert page.inner_text("#param-value .gradient-value") == "0.000929"
    assert page.inner_text(".sum-value") == "0.000929"
    assert "0.002654⋅0.35=0.000929" in page.inner_text("#param-panel").replace(" ", "").replace("\n", "")
    assert "0.099071" in page.inner_text("#param-panel")                # w⁺ = 0.1 − 0.000929
    assert page.locator("svg .edge.hl").count() == 3                  # A→T (carries w_AT), T→F, F→E
    assert sorted(page.eval_on_selector_all("svg .node.hl", "ns => ns.map(n => n.dataset.entity)")) == [
        "loss", "neuron:F", "neuron:T"]


def test_a_weight_with_two_paths_lists_both_products(page):
    we2 = runpy.run_path(str(EXAMPLES / "independent" / "we02-paths-3-3-3-3-2.py"), run_name="we02")
    outs, W, sigp, dE_dout = we2["outs"], we2["W"], we2["sigp"], we2["dE_dout"]
    # w3_1_1: h2_1 → h3_1, then to y1 or y2 (layers 3 → 4)
    products = [outs[2][0] * sigp(3, 0) * W[(4, k + 1, 1)] * sigp(4, k) * dE_dout(k) for k in range(2)]
    page.select_option("#examples", label="we02-paths-3-3-3-3-2")
    page.wait_for_selector("#title:has-text('WE-2')")   # (wait_for_function would need unsafe-eval)
    page.click("button.param[data-param='w3_1_1']")
    values = [float(v.strip().removeprefix("= ")) for v in page.locator("#param-panel .path-value").all_inner_texts()]
    assert values == pytest.approx(products, abs=5e-7)
    assert float(page.inner_text("#param-value .gradient-value")) == pytest.approx(sum(products), abs=5e-7)


def test_stepping_through_the_forward_then_the_backward_pass(page):
    page.click("#picture")
    seen = []
    for _ in range(12):
        page.keyboard.press("ArrowRight")
        seen.append((page.get_attribute("#step-phase", "data-phase"),
                     page.eval_on_selector("svg .node.current", "n => n.dataset.entity")))
    assert seen[:7] == [("forward", "neuron:T"), ("forward", "neuron:Bo"), ("forward", "neuron:T"),
                        ("forward", "neuron:Bo"), ("forward", "neuron:F"), ("forward", "neuron:F"),
                        ("forward", "loss")]
    assert seen[7:10] == [("backward", "neuron:F"), ("backward", "neuron:T"), ("backward", "neuron:Bo")]
    assert seen[10] == seen[9]                                         # the last step stays
    assert "0.008172" in page.inner_text("#step-rows")                  # δ_Bo of WE-5
    page.keyboard.press("ArrowLeft")
    assert page.eval_on_selector("svg .node.current", "n => n.dataset.entity") == "neuron:T"
    assert "0.002654" in page.inner_text("#step-rows")                  # δ_T


def test_a_sign_slip_is_diagnosed(page):
    page.select_option("#check-wrt", "w_AT")
    page.fill("#check-answer", r"-\delta_{T} A")
    page.click("#check")
    page.wait_for_selector("#check-report")
    assert page.inner_text(".check-verdict") == "dE/dw_AT: wrong"
    assert page.inner_text(".check-diagnosis").startswith("Slip: sign flipped")
    assert "0.000929" in page.inner_text("#check-report")


def test_a_neuron_shows_its_three_formulas(page):
    page.click("svg .node[data-entity='neuron:T']")
    text = page.inner_text("#neuron-panel")
    for figure in ("0.012204", "0.217504", "0.002654", "0.000929"):   # ∂E/∂out_T, f′, δ_T, ∂E/∂w_AT
        assert figure in text


def test_spec_errors_are_shown_inline_with_their_key(page):
    page.fill("#spec", (EXAMPLES / "we05-221-sigmoid.yaml").read_text().replace("activation: sigmoid}",
                                                                               "activation: sigmod}", 1))
    page.click("#derive")
    page.wait_for_selector("#spec-error:not([hidden])")
    assert page.get_attribute("#spec-error", "data-key") == "neurons.T.activation"
    assert "unknown activation 'sigmod'" in page.inner_text("#spec-error")


def test_user_text_is_never_html(page):
    hostile = (EXAMPLES / "we05-221-sigmoid.yaml").read_text().replace(
        "title: 'WE-5", "title: '<img src=x onerror=alert(1)><b id=pwned>x</b> WE-5", 1)
    page.fill("#spec", hostile)
    page.click("#derive")
    page.wait_for_selector("#title:has-text('<img')")
    assert page.locator("#pwned").count() == 0 and page.locator("header img").count() == 0


def test_the_math_is_typeset(page, tmp_path):
    page.click("button.param[data-param='w_AT']")
    page.keyboard.press("ArrowRight")
    assert page.locator("#param-panel .katex").count() > 5 and page.locator("svg .katex").count() > 10
    assert page.locator(".katex-error").count() == 0
    body = page.inner_text("body")
    assert "\\frac" not in body and "\\partial" not in body and "\\mathrm" not in body
    shot = tmp_path / "explorer.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000                             # not blank
    loaded = page.evaluate("async () => (await document.fonts.load('16px KaTeX_Main')).length")
    assert loaded >= 1                                              # KaTeX's own font, from /static


def test_the_notebook_view_shows_a_weights_path_without_a_server(browser, tmp_path):
    from symbackprop import derive, load_spec

    html = derive(load_spec(EXAMPLES / "we05-221-sigmoid.yaml"))._repr_html_()
    (tmp_path / "notebook.html").write_text(f"<!doctype html><meta charset='utf-8'><body>{html}", encoding="utf-8")
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("http*://**", lambda route: (errors.append(route.request.url), route.abort()))  # nothing fetched
    page.goto((tmp_path / "notebook.html").as_uri())
    page.click(".sbp-explorer button.param[data-param='w_AT']")
    assert [v.strip() for v in page.locator(".sbp-explorer .path-value").all_inner_texts()] == ["= 0.000929"]
    assert page.locator(".sbp-explorer svg .edge.hl").count() == 3 and page.locator(".katex-error").count() == 0
    assert page.evaluate("async () => (await document.fonts.load('16px KaTeX_Main')).length") >= 1  # inlined
    page.close()
    assert errors == []
