"""The offline teacher's state and logic behind the HTTP layer: chat requests, injected faults, Files, Batches.

Faults (Faults) are drawn for /v1/chat/completions, and for the Files and Batch APIs too with
faults_on_batches: one draw from random.Random(seed) per request, in the order requests arrive, picks
at most one of 429 (with Retry-After, or retry-after-ms), 500, a dropped connection, a 200 whose body
is not JSON, or a slow answer; a script of faults may fix the first requests' outcomes before the
draws begin. The arrival time and fault of each chat request are logged (the last ARRIVALS_KEPT).
A last user message containing "[[refuse]]" is always refused with 400 "content_policy_violation". A
response_format type not in ServerConfig.response_formats is refused as OpenAI refuses it (400, param
response_format), and JSON mode, as at OpenAI, needs the word "json" in the messages. Files and
batches are kept in memory; a batch moves through its statuses with time and is run when it completes.

GET /stats counts: "requests", every request by endpoint group, faulted or not; "chat_by_key", by
request_key(body), the chat requests that were answered (a completion or the refusal), over HTTP or
as batch lines, so faulted and invalid requests are not counted; "faults" by kind; "completed",
the successful chat completions (HTTP and batch lines); "batch_lines", the batch input lines run.

A thinking teacher (ServerConfig.thinking) answers as reasoning models do: "tags" opens each answer
with a <think> block, as DeepSeek-R1 and Qwen3 do on a server without a reasoning parser; "field" puts
the thinking in message.reasoning_content, as servers with one do. Either way the thinking names
another score (THINKING) and its tokens count as completion tokens.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from .answers import answer
from .messages import last_user_text, message_text
from .protocol import (
    JSON_FORMATS,
    canonical_json,
    count_tokens,
    error_body,
    invalid_chat_request,
    new_id,
    off_schema,
    request_key,
    response_format_type,
)

REFUSE_TRIGGER = "[[refuse]]"
OFFLINE_MODEL = "offline-teacher"
BATCH_ENDPOINT = "/v1/chat/completions"
BATCH_PHASES = (("in_progress", 0.25), ("finalizing", 0.75), ("completed", 1.0))  # status, share of batch_seconds
ACTIVE_BATCH = frozenset({"validating", "in_progress", "finalizing"})
RETRY_AFTER_HEADERS = ("retry-after", "retry-after-ms")  # seconds, milliseconds
ARRIVALS_KEPT = 10_000
THINKING_MODES = ("none", "tags", "field")
THINKING = "The user wants a score. At first glance I would say score: 0, but let me read it again."
ENDPOINT_GROUPS = {  # path prefix -> key in /stats "requests"
    "/v1/chat/completions": "chat_completions",
    "/v1/files": "files",
    "/v1/batches": "batches",
    "/v1/models": "models",
}


@dataclass(frozen=True)
class Faults:
    """Injected failures. Each request draws once, so the rates are of exclusive outcomes (sum <= 1)."""

    rate_429: float = 0.0  # 429 asking to wait retry_after_s seconds, in the header retry_after_header names
    retry_after_s: float = 0.05
    retry_after_header: str = "retry-after"  # in seconds; "retry-after-ms": in milliseconds
    rate_500: float = 0.0  # 500 with an OpenAI-style error body
    rate_drop: float = 0.0  # the connection is closed without a response
    rate_malformed: float = 0.0  # 200 with a body that is not valid JSON
    rate_slow: float = 0.0  # a normal answer after slow_s seconds more
    slow_s: float = 2.0
    seed: int = 0  # faults are drawn from random.Random(seed), per request, in arrival order
    script: tuple[str | None, ...] = ()  # the first requests' faults (None: none), in arrival order; then draws

    def __post_init__(self) -> None:
        rates = self.rates.values()
        if not all(0 <= r <= 1 for r in rates) or sum(rates) > 1 + 1e-9:
            raise ValueError(f"fault rates must lie in [0, 1] and sum to at most 1, got {self.rates}")
        if self.retry_after_header not in RETRY_AFTER_HEADERS:
            raise ValueError(f"retry_after_header must be one of {RETRY_AFTER_HEADERS}, "
                             f"got {self.retry_after_header!r}")
        if unknown := set(self.script) - {None, *self.rates}:
            raise ValueError(f"unknown faults in the script: {sorted(unknown)}")

    @property
    def rates(self) -> dict[str, float]:
        """Fault kind (as counted in /stats "faults") -> its rate."""
        return {"429": self.rate_429, "500": self.rate_500, "drop": self.rate_drop,
                "malformed": self.rate_malformed, "slow": self.rate_slow}

    def retry_after(self) -> dict[str, str]:
        """A 429's header asking to wait retry_after_s."""
        scale = 1000 if self.retry_after_header == "retry-after-ms" else 1
        return {self.retry_after_header: f"{self.retry_after_s * scale:g}"}


@dataclass(frozen=True)
class ServerConfig:
    latency_s: float = 0.0  # added to every chat completion (asyncio.sleep, so concurrent requests overlap)
    faults: Faults = Faults()
    batch_seconds: float = 0.5  # a batch goes validating -> in_progress -> finalizing -> completed over this long
    faults_on_batches: bool = False  # faults apply to /v1/chat/completions only unless this is set
    answer_style: str = "plain"  # or "varied": the annotation's and grader's free text as phrasing.py words it
    response_formats: frozenset[str] = frozenset(JSON_FORMATS)  # the response_format types accepted
    seed: int = 0  # another seed, another teacher: every answer is drawn anew (0: the demo's answers)
    exit_after: int | None = None  # the process dies (exit code 3) at the chat request after this many answers
    thinking: str = "none"  # or "tags" or "field": answers as a reasoning model's (see the module docstring)

    def __post_init__(self) -> None:
        if self.thinking not in THINKING_MODES:
            raise ValueError(f"thinking must be one of {THINKING_MODES}, got {self.thinking!r}")


@dataclass(frozen=True)
class Arrival:
    """A chat request as it arrived: when (time.monotonic()) and the fault it drew."""

    at: float
    fault: str | None


@dataclass
class StoredFile:
    obj: dict[str, Any]  # the File object, as returned
    data: bytes


@dataclass
class StoredBatch:
    obj: dict[str, Any]  # the Batch object, as returned
    lines: list[str]  # the input file's non-blank lines
    started: float = field(default_factory=time.monotonic)


class Teacher:
    """The server's state and logic; the aiohttp handlers (server.py) only translate HTTP."""

    def __init__(self, config: ServerConfig):
        self.config = config
        self.created = int(time.time())
        self.fault_rng = random.Random(config.faults.seed)
        self.scripted = 0  # script entries used
        self.arrivals: deque[Arrival] = deque(maxlen=ARRIVALS_KEPT)
        self.models: dict[str, None] = {OFFLINE_MODEL: None}  # an ordered set
        self.files: dict[str, StoredFile] = {}
        self.batches: dict[str, StoredBatch] = {}
        self.requests = Counter(dict.fromkeys(ENDPOINT_GROUPS.values(), 0))
        self.chat_by_key: Counter[str] = Counter()
        self.faults = Counter(dict.fromkeys(config.faults.rates, 0))
        self.completed = 0
        self.batch_lines = 0

    def stats(self) -> dict[str, Any]:
        return {"requests": dict(self.requests), "chat_by_key": dict(self.chat_by_key), "faults": dict(self.faults),
                "completed": self.completed, "batch_lines": self.batch_lines}

    def draw_fault(self) -> str | None:
        """The kind of fault for this request, or None: the script's next entry, else one draw."""
        script = self.config.faults.script
        if self.scripted < len(script):
            kind = script[self.scripted]
            self.scripted += 1
        else:
            kind = self._draw()
        if kind is not None:
            self.faults[kind] += 1
        return kind

    def _draw(self) -> str | None:
        u = self.fault_rng.random()
        for kind, rate in self.config.faults.rates.items():
            if u < rate:
                return kind
            u -= rate
        return None

    def chat(self, body: Any) -> tuple[int, dict[str, Any]]:
        """(HTTP status, chat.completion or error body) for a request, over HTTP or in a batch."""
        if error := invalid_chat_request(body):
            return 400, error
        self.chat_by_key[request_key(body)] += 1
        self.models.setdefault(body["model"])
        if REFUSE_TRIGGER in last_user_text(body["messages"]):
            return 400, error_body("The request was refused by the content policy (the offline teacher's "
                                   f"{REFUSE_TRIGGER} trigger).", "messages", "content_policy_violation")
        if error := self._refused_format(body):
            return 400, error
        completion = answer(body, self.config.answer_style, self.config.seed)
        if response_format_type(body) == "json_schema" and (error := off_schema(completion, body["response_format"])):
            return 400, error
        if self.config.thinking != "none":
            _think(completion, self.config.thinking)
        self.completed += 1
        return 200, completion

    def _refused_format(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """OpenAI's refusals of a response_format: a type the model lacks, or JSON mode without 'json'."""
        kind = response_format_type(body)
        if kind in JSON_FORMATS and kind not in self.config.response_formats:
            return error_body(f"Invalid parameter: 'response_format' of type '{kind}' is not supported with this "
                              "model.", "response_format")
        if kind == "json_object" and not any("json" in message_text(m).lower() for m in body["messages"]):
            return error_body("'messages' must contain the word 'json' in some form, to use 'response_format' of "
                              "type 'json_object'.", "messages")
        return None

    def add_file(self, data: bytes, filename: str, purpose: str) -> dict[str, Any]:
        obj = {"id": new_id("file"), "object": "file", "bytes": len(data), "created_at": int(time.time()),
               "filename": filename, "purpose": purpose, "status": "processed", "expires_at": None,
               "status_details": None}
        self.files[obj["id"]] = StoredFile(obj, data)
        return obj

    def create_batch(self, body: Any) -> tuple[int, dict[str, Any]]:
        if not isinstance(body, dict):
            return 400, error_body("The request body must be a JSON object.")
        source = self.files.get(body.get("input_file_id"))
        if source is None or source.obj["purpose"] != "batch":
            return 400, error_body("'input_file_id' must name a file uploaded with purpose 'batch'.", "input_file_id")
        if body.get("endpoint") != BATCH_ENDPOINT:
            return 400, error_body(f"The offline teacher batches only {BATCH_ENDPOINT}.", "endpoint")
        if body.get("completion_window") != "24h":
            return 400, error_body("'completion_window' must be '24h'.", "completion_window")
        if not isinstance(body.get("metadata") or {}, dict):
            return 400, error_body("'metadata' must be an object.", "metadata")
        lines = [line for line in source.data.decode(errors="replace").splitlines() if line.strip()]
        now = int(time.time())
        obj = {
            "id": new_id("batch"), "object": "batch", "endpoint": BATCH_ENDPOINT, "errors": None,
            "input_file_id": source.obj["id"], "completion_window": "24h", "status": "validating",
            "output_file_id": None, "error_file_id": None, "created_at": now, "in_progress_at": None,
            "expires_at": now + 24 * 3600, "finalizing_at": None, "completed_at": None, "failed_at": None,
            "expired_at": None, "cancelling_at": None, "cancelled_at": None,
            "request_counts": {"total": len(lines), "completed": 0, "failed": 0}, "metadata": body.get("metadata"),
        }
        batch = self.batches[obj["id"]] = StoredBatch(obj, lines)
        self.advance(batch)
        return 200, batch.obj

    def advance(self, batch: StoredBatch) -> None:
        """Bring a batch's status up to date with the time since its creation (lazily, when it is read)."""
        obj = batch.obj
        if obj["status"] == "cancelling":
            obj.update(status="cancelled", cancelled_at=int(time.time()))
        if obj["status"] not in ACTIVE_BATCH:
            return
        span = self.config.batch_seconds
        progress = (time.monotonic() - batch.started) / span if span > 0 else math.inf
        for status, at in BATCH_PHASES:
            if progress >= at and obj[f"{status}_at"] is None:
                obj.update({"status": status, f"{status}_at": int(time.time())})
                if status == "completed":
                    self._run(batch)

    def cancel_batch(self, batch: StoredBatch) -> tuple[int, dict[str, Any]]:
        self.advance(batch)
        if batch.obj["status"] not in ACTIVE_BATCH:
            return 409, error_body(f"Cannot cancel a batch with status '{batch.obj['status']}'.")
        batch.obj.update(status="cancelling", cancelling_at=int(time.time()))
        return 200, batch.obj

    def _run(self, batch: StoredBatch) -> None:
        """Answer every line of a batch; write the output file and, if any line failed, the error file."""
        results = [self._batch_line(lineno, line) for lineno, line in enumerate(batch.lines, 1)]
        self.batch_lines += len(results)
        done: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for r in results:
            (done if r["error"] is None and r["response"]["status_code"] == 200 else failed).append(r)
        batch.obj["request_counts"] = {"total": len(results), "completed": len(done), "failed": len(failed)}
        for kind, records in (("output", done), ("error", failed)):
            if records:
                data = b"".join(canonical_json(r) + b"\n" for r in records)
                file = self.add_file(data, f"{batch.obj['id']}_{kind}.jsonl", "batch_output")
                batch.obj[f"{kind}_file_id"] = file["id"]

    def _batch_line(self, lineno: int, line: str) -> dict[str, Any]:
        try:
            request = json.loads(line)
        except ValueError:
            request = None
        request = request if isinstance(request, dict) else {}
        custom_id = request.get("custom_id")
        record = {"id": new_id("batch_req"), "custom_id": custom_id if isinstance(custom_id, str) else None,
                  "response": None, "error": None}
        if record["custom_id"] is None or request.get("method") != "POST" or request.get("url") != BATCH_ENDPOINT:
            message = f"line {lineno}: expected a JSON object with custom_id, method POST and url {BATCH_ENDPOINT}"
            return {**record, "error": {"code": "invalid_request", "message": message}}
        status, body = self.chat(request.get("body"))
        return {**record, "response": {"status_code": status, "request_id": new_id("req"), "body": body}}


def _think(completion: dict[str, Any], how: str) -> None:
    """Add THINKING to each choice, in a <think> block opening the content ("tags") or in reasoning_content."""
    messages = [choice["message"] for choice in completion["choices"]]
    for message in messages:
        if how == "tags":
            message["content"] = f"<think>\n{THINKING}\n</think>\n\n{message['content']}"
        else:
            message["reasoning_content"] = THINKING
    usage = completion["usage"]
    usage["completion_tokens"] = sum(count_tokens(m["content"]) + count_tokens(m.get("reasoning_content", ""))
                                     for m in messages)
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
