"""The offline teacher: a local HTTP server speaking the OpenAI protocol, for runs without network or key.

It is NOT a language model. It answers chat completions from transparent, deterministic procedural
generators (GENERATORS; the first that matches answers), so the demo, the tests and CI exercise the
real `openai` client, retries, caching and the Batch API end to end. The same (model, messages,
temperature, seed, choice index) always gets the same content.

Endpoints: POST /v1/chat/completions (not streaming), GET /v1/models, the Files API
(/v1/files, /v1/files/{id}, /v1/files/{id}/content) and the Batch API (/v1/batches,
/v1/batches/{id}, /v1/batches/{id}/cancel), all in memory; and GET /stats for tests and benchmarks.

Tokens are counted by one documented rule (TOKEN): each run of word characters and each other
non-space character is a token. `max_tokens` (or `max_completion_tokens`) keeps that many tokens of
the content and sets finish_reason "length". A last user message containing "[[refuse]]" is
always refused with 400 "content_policy_violation".

Structured outputs: `response_format` {type: json_schema} gets the annotation's or grader's judgement as
a JSON object checked against the request's schema, {type: json_object} the same object; a type not in
ServerConfig.response_formats is refused as OpenAI refuses it (400, param response_format), and JSON
mode, as at OpenAI, needs the word "json" in the messages. Free-text answers to those prompts come in
ServerConfig.answer_style: 'plain' (the asked lines) or 'varied' (phrasing.py: as real models word them).

Faults (Faults) are injected on /v1/chat/completions, and on the Files and Batch APIs too with
faults_on_batches: one draw from random.Random(seed) per request, in the order requests arrive,
picks at most one of 429 (with Retry-After), 500, a dropped connection, a 200 whose body is not
JSON, or a slow answer. Any bearer token, or none, is accepted; headers are never logged.

GET /stats counts: "requests", every request by endpoint group, faulted or not; "chat_by_key", by
request_key(body), the chat requests that were answered (a completion or the refusal), over HTTP or
as batch lines, so faulted and invalid requests are not counted; "faults" by kind; "completed",
the successful chat completions (HTTP and batch lines); "batch_lines", the batch input lines run.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import hashlib
import itertools
import json
import math
import random
import re
import signal
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

import jsonschema
from aiohttp import web
from aiohttp.typedefs import Handler

from phi1repro.quality.annotate import ANNOTATION_MARKER
from phi1repro.teacher.scores import EDUCATIONAL_VALUE

from .grader import GradingGenerator
from .messages import Messages, last_user_text, marked_text, message_text
from .phrasing import vary
from .rubric import educational_value, extract_code
from .synthetic import ExerciseGenerator, TextbookGenerator

TOKEN = re.compile(r"\w+|[^\w\s]")
REFUSE_TRIGGER = "[[refuse]]"
OFFLINE_MODEL = "offline-teacher"
ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
JSON_FORMATS = ("json_schema", "json_object")
BATCH_ENDPOINT = "/v1/chat/completions"
BATCH_PHASES = (("in_progress", 0.25), ("finalizing", 0.75), ("completed", 1.0))  # status, share of batch_seconds
ACTIVE_BATCH = frozenset({"validating", "in_progress", "finalizing"})
MAX_UPLOAD_BYTES = 200 * 1024 * 1024  # the OpenAI limit for a batch input file
ENDPOINT_GROUPS = {  # path prefix -> key in /stats "requests"
    "/v1/chat/completions": "chat_completions",
    "/v1/files": "files",
    "/v1/batches": "batches",
    "/v1/models": "models",
}


@dataclass(frozen=True)
class Faults:
    """Injected failures. Each request draws once, so the rates are of exclusive outcomes (sum <= 1)."""

    rate_429: float = 0.0  # 429 with a Retry-After header of retry_after_s seconds
    retry_after_s: float = 0.05
    rate_500: float = 0.0  # 500 with an OpenAI-style error body
    rate_drop: float = 0.0  # the connection is closed without a response
    rate_malformed: float = 0.0  # 200 with a body that is not valid JSON
    rate_slow: float = 0.0  # a normal answer after slow_s seconds more
    slow_s: float = 2.0
    seed: int = 0  # faults are drawn from random.Random(seed), per request, in arrival order

    def __post_init__(self) -> None:
        rates = self.rates.values()
        if not all(0 <= r <= 1 for r in rates) or sum(rates) > 1 + 1e-9:
            raise ValueError(f"fault rates must lie in [0, 1] and sum to at most 1, got {self.rates}")

    @property
    def rates(self) -> dict[str, float]:
        """Fault kind (as counted in /stats "faults") -> its rate."""
        return {"429": self.rate_429, "500": self.rate_500, "drop": self.rate_drop,
                "malformed": self.rate_malformed, "slow": self.rate_slow}


@dataclass(frozen=True)
class ServerConfig:
    latency_s: float = 0.0  # added to every chat completion (asyncio.sleep, so concurrent requests overlap)
    faults: Faults = Faults()
    batch_seconds: float = 0.5  # a batch goes validating -> in_progress -> finalizing -> completed over this long
    faults_on_batches: bool = False  # faults apply to /v1/chat/completions only unless this is set
    answer_style: str = "plain"  # or "varied": the annotation's and grader's free text as phrasing.py words it
    response_formats: frozenset[str] = frozenset(JSON_FORMATS)  # the response_format types accepted
    seed: int = 0  # another seed, another teacher: every answer is drawn anew (0: the demo's answers)


# --- generators -------------------------------------------------------------------------------


class Generator(Protocol):
    """A procedural answerer for the requests it recognises."""

    def matches(self, messages: Messages) -> bool: ...

    def respond(self, messages: Messages, rng: random.Random) -> str: ...


class AnnotationGenerator:
    """phi-1's educational-value question, answered by the rubric in rubric.py as 'score: N\\nreason: ...'."""

    marker, scale, label = ANNOTATION_MARKER, EDUCATIONAL_VALUE, "Educational value"

    def matches(self, messages: Messages) -> bool:
        return any(ANNOTATION_MARKER in message_text(m) for m in messages)

    def judge(self, messages: Messages) -> tuple[int, str]:
        return educational_value(extract_code(marked_text(messages, ANNOTATION_MARKER)))

    def respond(self, messages: Messages, rng: random.Random) -> str:
        return "score: {}\nreason: {}".format(*self.judge(messages))


class FallbackGenerator:
    """Answers what no generator recognises with a short note saying what the offline teacher is."""

    def matches(self, messages: Messages) -> bool:
        return True

    def respond(self, messages: Messages, rng: random.Random) -> str:
        first_line = last_user_text(messages).strip().partition("\n")[0][:60]
        return (
            f"This is the offline teacher, a deterministic procedural stand-in for a language model; no "
            f"generator recognises the prompt starting {first_line!r}. Reply variant {rng.randrange(1000):03d}."
        )


GENERATORS: list[Generator] = [AnnotationGenerator(), GradingGenerator(), TextbookGenerator(), ExerciseGenerator()]
"""The generators, in order; the first whose `matches` is true answers. Append new ones here."""
FALLBACK: Generator = FallbackGenerator()


# --- chat completions ---------------------------------------------------------------------------


def count_tokens(text: str) -> int:
    """Tokens by the teacher's rule (TOKEN): each run of word characters and each other non-space character."""
    return sum(1 for _ in TOKEN.finditer(text))


def truncate(text: str, max_tokens: int | None) -> tuple[str, str]:
    """(content, finish_reason): the text up to its `max_tokens`-th token and "length", or all of it and "stop"."""
    if max_tokens is None:
        return text, "stop"
    ends = [m.end() for m in itertools.islice(TOKEN.finditer(text), max_tokens + 1)]
    return (text[: ends[max_tokens - 1]], "length") if len(ends) > max_tokens else (text, "stop")


def canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def max_tokens_of(body: dict[str, Any]) -> int | None:
    """The completion limit: max_completion_tokens if given, else max_tokens."""
    limit = body.get("max_completion_tokens")
    return body.get("max_tokens") if limit is None else limit


def request_key(body: dict[str, Any]) -> str:
    """The key of a chat request in /stats "chat_by_key": sha256 hex of the canonical JSON (sorted keys,
    no spaces, UTF-8) of {model, messages, temperature, top_p, max_tokens, seed, n}, where an absent
    field is null, n defaults to 1 and max_tokens is max_tokens_of(body); and response_format, when given."""
    fields = {name: body.get(name) for name in ("model", "messages", "temperature", "top_p", "seed")}
    fields.update(max_tokens=max_tokens_of(body), n=body.get("n") or 1)
    if body.get("response_format") is not None:
        fields["response_format"] = body["response_format"]
    return hashlib.sha256(canonical_json(fields)).hexdigest()


def error_body(message: str, param: str | None = None, code: str | None = None,
               type: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_content(value: Any) -> bool:
    return value is None or isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(p, dict) and isinstance(p.get("text", ""), str) for p in value)
    )


_OPTIONAL_PARAMS = {  # name -> valid value (None is always valid)
    "n": lambda v: _is_int(v) and 1 <= v <= 128,
    "max_tokens": lambda v: _is_int(v) and v >= 1,
    "max_completion_tokens": lambda v: _is_int(v) and v >= 1,
    "temperature": lambda v: _is_number(v) and 0 <= v <= 2,
    "top_p": lambda v: _is_number(v) and 0 <= v <= 1,
    "seed": _is_int,
}


def invalid_chat_request(body: Any) -> dict[str, Any] | None:
    """The OpenAI error body for an invalid chat completion request, or None if it is valid."""
    if not isinstance(body, dict):
        return error_body("The request body must be a JSON object.")
    if not isinstance(body.get("model"), str) or not body["model"]:
        return error_body("'model' must be a non-empty string.", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return error_body("'messages' must be a non-empty array.", "messages")
    for i, m in enumerate(messages):
        if not (isinstance(m, dict) and m.get("role") in ROLES and _is_content(m.get("content"))):
            return error_body(f"messages[{i}] must be an object with a valid 'role' and text 'content'.",
                              f"messages[{i}]")
    if body.get("stream"):
        return error_body("The offline teacher does not stream; send stream=false.", "stream")
    for name, valid in _OPTIONAL_PARAMS.items():
        if body.get(name) is not None and not valid(body[name]):
            return error_body(f"Invalid value for '{name}': {body[name]!r}.", name)
    return _invalid_response_format(body.get("response_format"))


def _invalid_response_format(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("type") not in ("text", *JSON_FORMATS):
        return error_body("'response_format' must be an object with type 'text', 'json_object' or 'json_schema'.",
                          "response_format")
    spec = value.get("json_schema")
    if value["type"] == "json_schema" and not (isinstance(spec, dict) and isinstance(spec.get("name"), str)
                                               and isinstance(spec.get("schema"), dict)):
        return error_body("'response_format.json_schema' must be an object with a 'name' and a 'schema'.",
                          "response_format.json_schema")
    return None


def answer(body: dict[str, Any], style: str = "plain", teacher_seed: int = 0) -> dict[str, Any]:
    """The chat.completion object for a valid request body, free-text judgements worded in `style`, drawn
    as the teacher of `teacher_seed` draws them."""
    model, messages = body["model"], body["messages"]
    generator = next((g for g in GENERATORS if g.matches(messages)), FALLBACK)
    choices = []
    for index in range(body.get("n") or 1):
        seed = canonical_json([model, messages, body.get("temperature"), body.get("seed"), index,
                               *([teacher_seed] if teacher_seed else [])])
        rng = random.Random(hashlib.sha256(seed).hexdigest())
        content, finish_reason = truncate(_content(generator, body, style, rng), max_tokens_of(body))
        choices.append({"index": index, "message": {"role": "assistant", "content": content, "refusal": None},
                        "logprobs": None, "finish_reason": finish_reason})
    prompt_tokens = sum(count_tokens(message_text(m)) for m in messages)
    completion_tokens = sum(count_tokens(c["message"]["content"]) for c in choices)
    return {
        "id": _new_id("chatcmpl"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


def _content(generator: Generator, body: dict[str, Any], style: str, rng: random.Random) -> str:
    """A generator's answer: a judge's as a JSON object when one is asked for, else in `style` when the
    judged question is the last message (a follow-up such as a repair prompt gets the asked lines)."""
    messages, judge = body["messages"], getattr(generator, "judge", None)
    if _format(body) in JSON_FORMATS:
        if judge is None:
            return json.dumps({"text": generator.respond(messages, rng)})
        return json.dumps(dict(zip((generator.scale.field, "reason"), judge(messages))))
    if judge is not None and style == "varied" and generator.marker in last_user_text(messages):
        return vary(generator.scale, generator.label, *judge(messages), rng)
    return generator.respond(messages, rng)


def _off_schema(completion: dict[str, Any], response_format: dict[str, Any]) -> dict[str, Any] | None:
    """An error body when an answer does not fit the requested JSON schema (this teacher cannot constrain
    its generators to an arbitrary schema), else None."""
    schema = response_format["json_schema"]["schema"]
    for choice in completion["choices"]:
        if choice["finish_reason"] == "length":  # cut by max_tokens, as a real server's would be
            continue
        try:
            jsonschema.validate(json.loads(choice["message"]["content"]), schema)
        except (ValueError, jsonschema.ValidationError, jsonschema.SchemaError) as e:
            return error_body(f"The offline teacher cannot answer in this schema: {str(e).partition(chr(10))[0]}",
                              "response_format.json_schema")
    return None


def _format(body: dict[str, Any]) -> str:
    return (body.get("response_format") or {}).get("type", "text")


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


# --- server state -------------------------------------------------------------------------------


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
    """The server's state and logic; the aiohttp handlers below only translate HTTP."""

    def __init__(self, config: ServerConfig):
        self.config = config
        self.created = int(time.time())
        self.fault_rng = random.Random(config.faults.seed)
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
        """One draw: the kind of fault for this request, or None."""
        u = self.fault_rng.random()
        for kind, rate in self.config.faults.rates.items():
            if u < rate:
                self.faults[kind] += 1
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
        if _format(body) == "json_schema" and (error := _off_schema(completion, body["response_format"])):
            return 400, error
        self.completed += 1
        return 200, completion

    def _refused_format(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """OpenAI's refusals of a response_format: a type the model lacks, or JSON mode without 'json'."""
        kind = _format(body)
        if kind in JSON_FORMATS and kind not in self.config.response_formats:
            return error_body(f"Invalid parameter: 'response_format' of type '{kind}' is not supported with this "
                              "model.", "response_format")
        if kind == "json_object" and not any("json" in message_text(m).lower() for m in body["messages"]):
            return error_body("'messages' must contain the word 'json' in some form, to use 'response_format' of "
                              "type 'json_object'.", "messages")
        return None

    def add_file(self, data: bytes, filename: str, purpose: str) -> dict[str, Any]:
        obj = {"id": _new_id("file"), "object": "file", "bytes": len(data), "created_at": int(time.time()),
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
            "id": _new_id("batch"), "object": "batch", "endpoint": BATCH_ENDPOINT, "errors": None,
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
        record = {"id": _new_id("batch_req"), "custom_id": custom_id if isinstance(custom_id, str) else None,
                  "response": None, "error": None}
        if record["custom_id"] is None or request.get("method") != "POST" or request.get("url") != BATCH_ENDPOINT:
            message = f"line {lineno}: expected a JSON object with custom_id, method POST and url {BATCH_ENDPOINT}"
            return {**record, "error": {"code": "invalid_request", "message": message}}
        status, body = self.chat(request.get("body"))
        return {**record, "response": {"status_code": status, "request_id": _new_id("req"), "body": body}}


# --- HTTP -----------------------------------------------------------------------------------------

TEACHER = web.AppKey("teacher", Teacher)


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(body, status=status, headers=headers)


def _endpoint_group(path: str) -> str | None:
    return next((g for p, g in ENDPOINT_GROUPS.items() if path == p or path.startswith(p + "/")), None)


@web.middleware
async def _count_and_inject_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count the request by endpoint group; draw and apply a fault where faults apply."""
    teacher = request.app[TEACHER]
    group = _endpoint_group(request.path)
    if group is None:
        return await handler(request)
    teacher.requests[group] += 1
    faults = teacher.config.faults
    faultable = group == "chat_completions" or (teacher.config.faults_on_batches and group in ("files", "batches"))
    match teacher.draw_fault() if faultable else None:
        case "429":
            return _json(429, error_body("Rate limit reached (injected fault).", code="rate_limit_exceeded",
                                         type="requests"), {"Retry-After": f"{faults.retry_after_s:g}"})
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
        teacher = self._app[TEACHER]
        if not self._thread.is_alive():
            return teacher.stats()

        async def snapshot() -> dict[str, Any]:
            return teacher.stats()

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
    parser = argparse.ArgumentParser(prog="python -m phi1repro.offline_teacher.server", description=__doc__.partition("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every chat completion")
    parser.add_argument("--rate-429", type=float, default=0.0)
    parser.add_argument("--retry-after", type=float, default=0.05, help="seconds, in the Retry-After header of a 429")
    parser.add_argument("--rate-500", type=float, default=0.0)
    parser.add_argument("--rate-drop", type=float, default=0.0)
    parser.add_argument("--rate-malformed", type=float, default=0.0)
    parser.add_argument("--rate-slow", type=float, default=0.0)
    parser.add_argument("--slow-s", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=0, help="of the answers (0: the demo's) and the fault draws")
    parser.add_argument("--batch-seconds", type=float, default=0.5, help="from a batch's creation to its completion")
    parser.add_argument("--faults-on-batches", action="store_true", help="faults on the Files and Batch APIs too")
    parser.add_argument("--answer-style", choices=("plain", "varied"), default="plain",
                        help="of the annotation's and grader's free-text answers")
    parser.add_argument("--response-formats", default=",".join(JSON_FORMATS),
                        help="comma-separated response_format types accepted (empty: none)")
    args = parser.parse_args(argv)
    try:
        faults = Faults(rate_429=args.rate_429, retry_after_s=args.retry_after, rate_500=args.rate_500,
                        rate_drop=args.rate_drop, rate_malformed=args.rate_malformed, rate_slow=args.rate_slow,
                        slow_s=args.slow_s, seed=args.seed)
    except ValueError as e:
        parser.error(str(e))
    config = ServerConfig(latency_s=args.latency_ms / 1000, faults=faults, batch_seconds=args.batch_seconds,
                          faults_on_batches=args.faults_on_batches, answer_style=args.answer_style, seed=args.seed,
                          response_formats=frozenset(filter(None, args.response_formats.split(","))))
    asyncio.run(_serve_until_signalled(config, args.host, args.port))


if __name__ == "__main__":
    main()
