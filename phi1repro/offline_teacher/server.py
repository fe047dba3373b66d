"""The offline teacher: a local HTTP server speaking the OpenAI protocol, for runs without network or key.

It is NOT a language model: it answers from procedural generators (answers.py), deterministically.
Endpoints: POST /v1/chat/completions (not streaming), GET /v1/models, the Files API
(/v1/files, /v1/files/{id}, /v1/files/{id}/content) and the Batch API (/v1/batches,
/v1/batches/{id}, /v1/batches/{id}/cancel), all in memory; and GET /stats for tests and benchmarks.
The handlers here only translate HTTP; the state, the injected faults and what /stats counts are in
state.py. Any bearer token, or none, is accepted; headers are never logged.

Run it with `python -m phi1repro.offline_teacher [flags]` (or `-m phi1repro.offline_teacher.server`),
or in a thread with serve_in_thread.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from .protocol import JSON_FORMATS, error_body
from .state import (
    ENDPOINT_GROUPS,
    OFFLINE_MODEL,
    RETRY_AFTER_HEADERS,
    THINKING_MODES,
    Arrival,
    Faults,
    ServerConfig,
    StoredBatch,
    StoredFile,
    Teacher,
)

MAX_UPLOAD_BYTES = 200 * 1024 * 1024  # the OpenAI limit for a batch input file
CRASH_EXIT_CODE = 3

TEACHER = web.AppKey("teacher", Teacher)


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(body, status=status, headers=headers)


def _endpoint_group(path: str) -> str | None:
    return next((g for p, g in ENDPOINT_GROUPS.items() if path == p or path.startswith(p + "/")), None)


@web.middleware
async def _count_and_inject_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count the request by endpoint group; draw and apply a fault where faults apply; log a chat request's
    arrival."""
    teacher = request.app[TEACHER]
    group = _endpoint_group(request.path)
    if group is None:
        return await handler(request)
    teacher.requests[group] += 1
    faults = teacher.config.faults
    faultable = group == "chat_completions" or (teacher.config.faults_on_batches and group in ("files", "batches"))
    fault = teacher.draw_fault() if faultable else None
    if group == "chat_completions":
        teacher.arrivals.append(Arrival(time.monotonic(), fault))
    match fault:
        case "429":
            return _json(429, error_body("Rate limit reached (injected fault).", code="rate_limit_exceeded",
                                         type="requests"), faults.retry_after())
        case "500":
            return _json(500, error_body("The server had an error processing your request (injected fault).",
                                         type="server_error"))
        case "drop":
            if request.transport is not None:
                request.transport.close()
            return web.Response()  # never sent: the connection is closed
        case "malformed":
            return web.Response(text='{"id": "chatcmpl-', content_type="application/json")
        case "slow":
            await asyncio.sleep(faults.slow_s)
    return await handler(request)


async def _json_body(request: web.Request) -> Any:
    """The request's JSON body, or None when it is not valid JSON."""
    try:
        return await request.json()
    except ValueError:
        return None


async def chat_completions(request: web.Request) -> web.Response:
    teacher = request.app[TEACHER]
    body = await _json_body(request)
    await asyncio.sleep(teacher.config.latency_s)
    if teacher.config.exit_after is not None and teacher.completed >= teacher.config.exit_after:
        os._exit(CRASH_EXIT_CODE)  # a crash: no answer, no cleanup, as a server killed for memory dies
    return _json(*teacher.chat(body))


async def list_models(request: web.Request) -> web.Response:
    teacher = request.app[TEACHER]
    data = [{"id": m, "object": "model", "created": teacher.created, "owned_by": OFFLINE_MODEL}
            for m in teacher.models]
    return _json(200, {"object": "list", "data": data})


async def create_file(request: web.Request) -> web.Response:
    form = await request.post()
    upload, purpose = form.get("file"), form.get("purpose")
    if not isinstance(upload, web.FileField):
        return _json(400, error_body("'file' must be a multipart file upload.", "file"))
    if not isinstance(purpose, str) or not purpose:
        return _json(400, error_body("'purpose' is required.", "purpose"))
    return _json(200, request.app[TEACHER].add_file(upload.file.read(), upload.filename, purpose))


async def list_files(request: web.Request) -> web.Response:
    """Every stored file, newest first, or those of the `purpose` asked (no paging: the offline teacher holds few)."""
    purpose = request.query.get("purpose")
    data = [f.obj for f in reversed(request.app[TEACHER].files.values()) if purpose in (None, f.obj["purpose"])]
    return _json(200, {"object": "list", "data": data, "has_more": False})


def _stored(request: web.Request, table: dict, kind: str):
    """The stored object named by the URL's id, or a 404 in OpenAI's shape."""
    object_id = request.match_info["id"]
    if stored := table.get(object_id):
        return stored
    raise web.HTTPNotFound(text=json.dumps(error_body(f"No such {kind} object: {object_id}", "id")),
                           content_type="application/json")


def _stored_file(request: web.Request) -> StoredFile:
    return _stored(request, request.app[TEACHER].files, "File")


async def retrieve_file(request: web.Request) -> web.Response:
    return _json(200, _stored_file(request).obj)


async def file_content(request: web.Request) -> web.Response:
    return web.Response(body=_stored_file(request).data, content_type="application/octet-stream")


async def delete_file(request: web.Request) -> web.Response:
    file_id = _stored_file(request).obj["id"]
    del request.app[TEACHER].files[file_id]
    return _json(200, {"id": file_id, "object": "file", "deleted": True})


async def create_batch(request: web.Request) -> web.Response:
    return _json(*request.app[TEACHER].create_batch(await _json_body(request)))


def _stored_batch(request: web.Request) -> StoredBatch:
    return _stored(request, request.app[TEACHER].batches, "Batch")


async def retrieve_batch(request: web.Request) -> web.Response:
    batch = _stored_batch(request)
    request.app[TEACHER].advance(batch)
    return _json(200, batch.obj)


async def cancel_batch(request: web.Request) -> web.Response:
    return _json(*request.app[TEACHER].cancel_batch(_stored_batch(request)))


async def list_batches(request: web.Request) -> web.Response:
    """Newest first, `limit` (1..100, default 20) at a time, after the batch id `after`."""
    teacher = request.app[TEACHER]
    try:
        limit = int(request.query.get("limit", 20))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 100:
        return _json(400, error_body("'limit' must be an integer from 1 to 100.", "limit"))
    ids = list(reversed(teacher.batches))
    after = request.query.get("after")
    start = ids.index(after) + 1 if after in teacher.batches else 0
    page = [teacher.batches[i] for i in ids[start: start + limit]]
    for batch in page:
        teacher.advance(batch)
    data = [b.obj for b in page]
    return _json(200, {"object": "list", "data": data, "first_id": data[0]["id"] if data else None,
                       "last_id": data[-1]["id"] if data else None, "has_more": start + limit < len(ids)})


async def stats(request: web.Request) -> web.Response:
    return _json(200, request.app[TEACHER].stats())


def make_app(config: ServerConfig) -> web.Application:
    app = web.Application(middlewares=[_count_and_inject_faults], client_max_size=MAX_UPLOAD_BYTES)
    app[TEACHER] = Teacher(config)
    app.add_routes([
        web.post("/v1/chat/completions", chat_completions),
        web.get("/v1/models", list_models),
        web.post("/v1/files", create_file),
        web.get("/v1/files", list_files),
        web.get("/v1/files/{id}", retrieve_file),
        web.get("/v1/files/{id}/content", file_content),
        web.delete("/v1/files/{id}", delete_file),
        web.post("/v1/batches", create_batch),
        web.get("/v1/batches", list_batches),
        web.get("/v1/batches/{id}", retrieve_batch),
        web.post("/v1/batches/{id}/cancel", cancel_batch),
        web.get("/stats", stats),
    ])
    return app


# --- running it -----------------------------------------------------------------------------------


def _base_url(host: str, port: int) -> str:
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/v1"


async def _start(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve `app` on host:port (a free port when 0); return the runner and the bound port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner, runner.addresses[0][1]


class RunningServer:
    """The offline teacher serving on its own event loop in a daemon thread. A context manager."""

    def __init__(self, config: ServerConfig, host: str, port: int):
        self._app = make_app(config)
        self._loop = asyncio.new_event_loop()
        bound: concurrent.futures.Future[int] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._serve, args=(host, port, bound), name="offline-teacher",
                                        daemon=True)
        self._thread.start()
        self.base_url = _base_url(host, bound.result())

    def _serve(self, host: str, port: int, bound: concurrent.futures.Future[int]) -> None:
        try:
            runner, bound_port = self._loop.run_until_complete(_start(self._app, host, port))
        except BaseException as e:
            self._loop.close()
            bound.set_exception(e)
            return
        bound.set_result(bound_port)
        try:
            self._loop.run_forever()
        finally:
            self._loop.run_until_complete(runner.cleanup())
            self._loop.close()

    def stats(self) -> dict[str, Any]:
        """The same as GET /stats (also after stop)."""
        return self._snapshot(self._app[TEACHER].stats)

    def arrivals(self) -> list[Arrival]:
        """The chat requests' arrivals (time.monotonic() of this process) and faults, oldest first."""
        return self._snapshot(lambda: list(self._app[TEACHER].arrivals))

    def _snapshot(self, read: Callable[[], Any]) -> Any:
        """read() on the server's loop while it runs (so no request changes the state meanwhile)."""
        if not self._thread.is_alive():
            return read()

        async def snapshot() -> Any:
            return read()

        return asyncio.run_coroutine_threadsafe(snapshot(), self._loop).result()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve_in_thread(config: ServerConfig = ServerConfig(), host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Start the offline teacher in a daemon thread; return once it accepts connections."""
    return RunningServer(config, host, port)


async def _serve_until_signalled(config: ServerConfig, host: str, port: int) -> None:
    runner, bound_port = await _start(make_app(config), host, port)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    print(f"listening on {_base_url(host, bound_port)}", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    """Serve until SIGTERM or SIGINT; print one line, 'listening on <base_url>', once ready."""
    parser = argparse.ArgumentParser(prog="python -m phi1repro.offline_teacher.server",
                                     description=__doc__.partition("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every chat completion")
    parser.add_argument("--rate-429", type=float, default=0.0)
    parser.add_argument("--retry-after", type=float, default=0.05, help="seconds a 429 asks to wait")
    parser.add_argument("--retry-after-header", choices=RETRY_AFTER_HEADERS, default="retry-after",
                        help="the 429's header: retry-after (seconds) or retry-after-ms (milliseconds)")
    parser.add_argument("--rate-500", type=float, default=0.0)
    parser.add_argument("--rate-drop", type=float, default=0.0)
    parser.add_argument("--rate-malformed", type=float, default=0.0)
    parser.add_argument("--rate-slow", type=float, default=0.0)
    parser.add_argument("--slow-s", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=0, help="of the answers (0: the demo's) and the fault draws")
    parser.add_argument("--exit-after", type=int, default=None, help="die at the chat request after this many answers")
    parser.add_argument("--batch-seconds", type=float, default=0.5, help="from a batch's creation to its completion")
    parser.add_argument("--faults-on-batches", action="store_true", help="faults on the Files and Batch APIs too")
    parser.add_argument("--answer-style", choices=("plain", "varied"), default="plain",
                        help="of the annotation's and grader's free-text answers")
    parser.add_argument("--thinking", choices=THINKING_MODES, default="none",
                        help="answer as a reasoning model: a <think> block in the content (tags) or reasoning_content")
    parser.add_argument("--response-formats", default=",".join(JSON_FORMATS),
                        help="comma-separated response_format types accepted (empty: none)")
    args = parser.parse_args(argv)
    try:
        faults = Faults(rate_429=args.rate_429, retry_after_s=args.retry_after,
                        retry_after_header=args.retry_after_header, rate_500=args.rate_500,
                        rate_drop=args.rate_drop, rate_malformed=args.rate_malformed, rate_slow=args.rate_slow,
                        slow_s=args.slow_s, seed=args.seed)
    except ValueError as e:
        parser.error(str(e))
    config = ServerConfig(latency_s=args.latency_ms / 1000, faults=faults, batch_seconds=args.batch_seconds,
                          faults_on_batches=args.faults_on_batches, answer_style=args.answer_style, seed=args.seed,
                          exit_after=args.exit_after, thinking=args.thinking,
                          response_formats=frozenset(filter(None, args.response_formats.split(","))))
    asyncio.run(_serve_until_signalled(config, args.host, args.port))


if __name__ == "__main__":
    main()
