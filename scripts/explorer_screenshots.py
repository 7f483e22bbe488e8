"""Screenshots of every view of the explorer, from a real headless Chromium (Playwright).

    python scripts/explorer_screenshots.py [OUT_DIR] [--readme]

Starts ``python -m symbackprop serve`` on a free loopback port and writes one PNG per view to
OUT_DIR (default ``/tmp/explorer-shots``): WE-5 as it opens, a weight selected, a neuron
selected, a forward and a backward step, a sign-slipped answer checked, a worked solution
checked, a spec with a mistake, WE-2's weight with six paths, a narrow window, and the
notebook view (``Derivation._repr_html_`` in a page of its own). ``--readme`` also writes the
WE-2 view to ``docs/explorer.png``. Look at them: they are what a student sees.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server() -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-m", "symbackprop", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                if json.load(r)["status"] == "ok":
                    return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


def notebook_page(out: Path) -> Path:
    """``_repr_html_`` of WE-5 in a page of its own, as a trusted notebook would show it."""
    sys.path.insert(0, str(ROOT))
    from symbackprop import derive, load_spec

    html = derive(load_spec(EXAMPLES / "we05-221-sigmoid.yaml"))._repr_html_()
    page = out / "notebook.html"
    page.write_text(f"<!doctype html><meta charset='utf-8'><body style='font-family:sans-serif;margin:1em'>{html}",
                    encoding="utf-8")
    return page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=Path("/tmp/explorer-shots"))
    parser.add_argument("--readme", action="store_true", help="also write the WE-2 view to docs/explorer.png")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    proc, url = start_server()
    shots: list[Path] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=ARGS)
            context = browser.new_context(viewport={"width": 1400, "height": 900}, device_scale_factor=1)
            page = context.new_page()

            def shot(name: str, full: bool = True) -> None:
                page.wait_for_timeout(150)
                path = args.out / f"{name}.png"
                page.screenshot(path=str(path), full_page=full)
                shots.append(path)

            page.goto(url + "/")
            page.wait_for_selector("body[data-ready='1']")
            shot("01-we05-start")
            page.click("button.param[data-param='w_AT']")
            shot("02-we05-weight")
            page.click("svg .node[data-entity='neuron:T']")
            shot("03-we05-neuron")
            page.click("#picture")
            for _ in range(3):
                page.keyboard.press("ArrowRight")
            shot("04-we05-forward-step")
            for _ in range(6):
                page.keyboard.press("ArrowRight")
            shot("05-we05-backward-step")
            page.select_option("#check-wrt", "w_AT")
            page.fill("#check-answer", r"-\delta_{T} A")
            page.click("#check")
            page.wait_for_selector("#check-report")
            shot("06-we05-check-sign-slip")
            page.fill("#check-answer", "")
            page.fill("#check-solution", "out_T: 0.68\nnet_F: 0.80\ndelta_T: 0.0027")
            page.click("#check")
            page.wait_for_selector("#check-report")
            shot("07-we05-check-solution")
            page.fill("#spec", (EXAMPLES / "we05-221-sigmoid.yaml").read_text().replace(
                "activation: sigmoid}", "activation: sigmod}", 1))
            page.click("#derive")
            page.wait_for_selector("#spec-error:not([hidden])")
            shot("08-spec-error")
            page.select_option("#examples", label="we02-paths-3-3-3-3-2")
            page.wait_for_selector("#title:has-text('WE-2')")
            page.click("button.param[data-param='w2_1_1']")
            shot("09-we02-weight", full=False)
            if args.readme:
                page.screenshot(path=str(ROOT / "docs" / "explorer.png"))
            page.set_viewport_size({"width": 900, "height": 900})
            page.select_option("#examples", label="we05-221-sigmoid")
            page.wait_for_selector("#title:has-text('WE-5')")
            page.click("button.param[data-param='w_AT']")
            shot("10-narrow-window")
            notebook = context.new_page()
            notebook.set_viewport_size({"width": 1100, "height": 800})
            notebook.goto(notebook_page(args.out).as_uri())
            notebook.wait_for_selector(".sbp-explorer svg")
            notebook.click(".sbp-explorer button.param >> nth=0")
            notebook.wait_for_timeout(150)
            path = args.out / "11-notebook.png"
            notebook.screenshot(path=str(path), full_page=True)
            shots.append(path)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
    for path in shots:
        print(path)


if __name__ == "__main__":
    main()
