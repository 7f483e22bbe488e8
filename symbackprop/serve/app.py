"""The web app: the JSON API and the static explorer page (FastAPI).

Routes: ``POST /api/derive`` (the ``derive --format json`` contract), ``POST /api/check`` (the
``check --format json`` contract), ``POST /api/explore`` (the derive contract and the explorer's
data), ``POST /api/download`` (one file), ``GET /api/examples``, ``GET /healthz``, and the page
at ``/``. Every computation runs in the :class:`~symbackprop.serve.pool.WorkerPool`; this
process only parses requests, caps their size and sets the security headers. Errors are
``{"error": {"message", "key"}}`` with 400 (a malformed request), 413 (too large, too slow)
or 422 (a mistake in the spec or the answers), never a traceback.
"""
from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections import OrderedDict
from importlib import resources
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from .limits import MAX_BODY_BYTES
from .pool import WorkerPool

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
       "font-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
       "frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "no-referrer", "Cross-Origin-Opener-Policy": "same-origin"}
# The fields each POST route accepts, and which of them a request must give.
FIELDS: dict[str, tuple[set[str], set[str]]] = {
    "derive": ({"spec", "method"}, {"spec"}),
    "explore": ({"spec"}, {"spec"}),
    "check": ({"spec", "answers", "solution", "syntax", "seed"}, {"spec"}),
    "download": ({"spec", "kind"}, {"spec", "kind"}),
}
STATIC = resources.files("symbackprop.serve") / "static"


CACHE_BYTES = 64 << 20        # answers kept for identical requests (a class opening the same example)
UNCACHED = {413, 500, 503}    # answers that depend on the load (time limits, a busy pool), not the request


class ResultCache:
    """Serialised answers of deterministic requests, least recently used first out, at most
    ``budget`` bytes. Checks are deterministic only with a ``seed``; the others always are.

    >>> c = ResultCache(40)                  # an answer over a quarter of the budget is not kept
    >>> for k in "abcde": c.put(k, 200, b"0123456789")
    >>> c.get("a"), c.get("e"), c.size
    (None, (200, b'0123456789'), 40)
    """

    def __init__(self, budget: int = CACHE_BYTES):
        self.budget, self.size = budget, 0
        self.entries: OrderedDict[str, tuple[int, bytes]] = OrderedDict()
        self.lock = threading.Lock()

    @staticmethod
    def key(route: str, body: dict[str, Any]) -> str | None:
        if route == "check" and body.get("seed") is None:
            return None
        return hashlib.sha256(json.dumps([route, body], sort_keys=True).encode("utf-8", "surrogatepass")).hexdigest()

    def get(self, key: str) -> tuple[int, bytes] | None:
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, key: str, status: int, data: bytes) -> None:
        if status in UNCACHED or len(data) > self.budget // 4:
            return
        with self.lock:
            if key in self.entries:
                return
            self.entries[key] = (status, data)
            self.size += len(data)
            while self.size > self.budget:
                _, (_, old) = self.entries.popitem(last=False)
                self.size -= len(old)


def _error(message: str, status: int, key: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "key": key}}, status_code=status)


class _TooLarge(Exception):
    pass


async def _body(request: Request) -> bytes:
    """The request body, refused past :data:`MAX_BODY_BYTES` without reading further."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _fields(route: str, raw: bytes) -> dict[str, Any] | JSONResponse:
    """The JSON object of a request, its fields checked (400 for anything malformed)."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return _error("the body must be a JSON object", 400)
    if not isinstance(body, dict):
        return _error("the body must be a JSON object", 400)
    allowed, required = FIELDS[route]
    unknown = sorted(set(body) - allowed)
    if unknown:
        return _error(f"unknown field '{unknown[0][:40]}' (allowed: {', '.join(sorted(allowed))})", 400,
                      unknown[0][:40])
    missing = sorted(required - set(body))
    if missing:
        return _error(f"the request needs '{missing[0]}'", 400, missing[0])
    return body


def create_app(pool: WorkerPool, *, start: dict[str, str] | None = None, cache_bytes: int = CACHE_BYTES) -> FastAPI:
    """The app over ``pool``; ``start`` (``{name, title, spec}``) is the spec the page opens on
    (default: the WE-5 example); identical deterministic requests are answered from a cache of
    ``cache_bytes`` (0: none)."""
    app = FastAPI(title="symbackprop explorer", docs_url=None, redoc_url=None, openapi_url=None)
    limiter = anyio.CapacityLimiter(64)
    results = ResultCache(cache_bytes)
    cache: dict[str, Any] = {}
    cache_lock = threading.Lock()

    async def run(name: str, **kwargs: Any) -> dict[str, Any]:
        return await anyio.to_thread.run_sync(lambda: pool.run(name, **kwargs), limiter=limiter)

    def encode(result: dict[str, Any]) -> tuple[int, bytes]:
        status = result.pop("status", 200) if "error" in result else 200
        return status, json.dumps(result, ensure_ascii=False).encode("utf-8", "surrogatepass")

    def respond(result: dict[str, Any] | tuple[int, bytes]) -> Response:
        status, data = encode(result) if isinstance(result, dict) else result
        return Response(data, status_code=status, media_type="application/json", headers={"Cache-Control": "no-store"})

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.update(HEADERS)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return _error(str(exc.detail), exc.status_code)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):  # pragma: no cover - a bug, never a trace
        return _error("internal error", 500)

    async def api(route: str, request: Request) -> Response:
        try:
            raw = await _body(request)
        except _TooLarge:
            return _error(f"the request is larger than {MAX_BODY_BYTES} bytes", 413)
        body = _fields(route, raw)
        if isinstance(body, JSONResponse):
            return body
        key = results.key(route, body) if cache_bytes else None
        cached = results.get(key) if key else None
        if cached is None:
            cached = encode(await run(route, **body))
            if key:
                results.put(key, *cached)
        return respond(cached)

    @app.post("/api/derive")
    async def api_derive(request: Request) -> Response:
        return await api("derive", request)

    @app.post("/api/check")
    async def api_check(request: Request) -> Response:
        return await api("check", request)

    @app.post("/api/explore")
    async def api_explore(request: Request) -> Response:
        return await api("explore", request)

    @app.post("/api/download")
    async def api_download(request: Request) -> Response:
        response = await api("download", request)
        if response.status_code != 200:
            return response
        result = json.loads(response.body)
        return Response(base64.b64decode(result["base64"]), media_type=result["media_type"],
                        headers={"Content-Disposition": f'attachment; filename="{result["filename"]}"',
                                 "Cache-Control": "no-store"})

    @app.get("/api/examples")
    async def api_examples() -> Response:
        with cache_lock:
            listed = cache.get("examples")
        if listed is None:
            listed = await run("examples")
            if "error" in listed:
                return respond(listed)
            with cache_lock:
                cache["examples"] = listed
        first = start or next((e for e in listed["examples"] if e["name"] == "we05-221-sigmoid"),
                              listed["examples"][0] if listed["examples"] else None)
        return respond({**listed, "start": first})

    @app.get("/healthz")
    async def healthz() -> Response:
        return respond({"status": "ok", "workers": pool.size, "replaced": pool.replaced})

    @app.get("/favicon.ico")
    async def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/")
    async def index() -> Response:
        return FileResponse(str(STATIC / "index.html"), media_type="text/html")

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    return app
