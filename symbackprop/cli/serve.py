"""``symbackprop serve``: the interactive explorer in the browser (registered in :mod:`symbackprop.cli`)."""
from __future__ import annotations

import ipaddress
from pathlib import Path

import click

from ..errors import SpecError, fail
from ..serve.limits import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT
from ..spec import read_text, spec_from_text

LOOPBACK_WARNING = ("symbackprop: warning: serving on {host}, not loopback: anyone who can reach this "
                    "machine can use the explorer (each request is limited, but there is no login)")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("serve", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("spec", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to listen on (anything but loopback prints a warning)")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True,
              help="worker processes that derive and check")
@click.option("--timeout", type=click.FloatRange(0.5, 600), default=DEFAULT_TIMEOUT, show_default=True,
              help="seconds one request may compute before its worker is replaced")
@click.option("--memory-mb", type=click.IntRange(256, 1 << 20), default=DEFAULT_MEMORY_MB, show_default=True,
              help="address-space limit of each worker")
def serve_command(spec: Path | None, port: int, host: str, workers: int, timeout: float, memory_mb: int) -> None:
    """Explore SPEC (default: the WE-5 example) in the browser: the network, each weight's
    paths, each neuron's formulas, the passes step by step, and the checker."""
    start = None
    if spec is not None:
        try:
            text = read_text(spec)
            parsed = spec_from_text(text, str(spec))
        except SpecError as exc:
            fail(str(exc.located(str(spec))))
            return
        start = {"name": spec.stem, "title": parsed.title or parsed.name, "spec": text}
    try:
        import uvicorn

        from ..serve.app import create_app
    except ImportError:
        fail("symbackprop serve needs FastAPI and uvicorn: pip install 'symbackprop[serve]'")
        return
    from ..serve.pool import WorkerPool

    if not _loopback(host):
        click.echo(LOOPBACK_WARNING.format(host=host), err=True)
    with WorkerPool(workers, timeout=timeout, memory_mb=memory_mb) as pool:
        app = create_app(pool, start=start)
        shown = f"[{host}]" if ":" in host else host
        click.echo(f"symbackprop explorer on http://{shown}:{port}/  (Ctrl-C stops it)", err=True)
        uvicorn.run(app, host=host, port=port, log_level="warning", limit_concurrency=256,
                    timeout_graceful_shutdown=2)
