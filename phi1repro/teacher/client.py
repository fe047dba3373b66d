"""The teacher: the one client every stage uses to ask an OpenAI-compatible LLM.

    teacher = Teacher(TeacherConfig(base_url=..., cache_path=..., budget_usd=50, prices=PRICES), stage="annotate")
    print(teacher.estimate(requests))         # pre-flight: cache hits, tokens and an upper bound on the cost
    results = teacher.run(requests)           # or teacher.run_batch(requests, group="annotate-shard-3")

Cache first: a request already answered (same model, messages and sampling parameters) is
served from the cache and costs nothing. Every answer is committed to the cache, and its cost
to the ledger, the moment it arrives, so a killed job loses only what was in flight and a rerun
resumes. Transient failures (429, 408, 409, 5xx, timeouts, dropped connections, malformed
bodies) are retried with exponential backoff and full jitter, honouring Retry-After; other 4xx
are permanent and reported per item in `Result.error` while the other items go on. A budget
cap stops issuing requests before the ledger could pass it. The API key never appears in a
result, an error, a log line or the cache.

Estimates: prompt tokens are guessed as CHARS_PER_TOKEN characters per token plus
MESSAGE_OVERHEAD_TOKENS per message; completion tokens are bounded by max_tokens (or
max_completion_tokens, else DEFAULT_MAX_TOKENS) times n. These bounds size the TPM reservation,
the budget reservation and `Teacher.estimate`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import ipaddress
import json
import logging
import math
import os
import random
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

import openai

from ..config import ConfigError
from ..progress import progress
from .cache import TeacherCache, canonical_json, request_key
from .limiter import RateLimiter

log = logging.getLogger(__name__)

BATCH_DISCOUNT = 0.5  # Batch API price = the price table times this
CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD_TOKENS = 4
DEFAULT_MAX_TOKENS = 4096
RETRYABLE_STATUS = frozenset({408, 409, 429})  # and every 5xx
BATCH_MAX_REQUESTS = 50_000  # the Batch API's limits on one input file: 50,000 requests, 200 MB
BATCH_MAX_BYTES = 190 * 2**20
BATCH_FINAL = frozenset({"completed", "failed", "expired", "cancelled"})
CHAT_ENDPOINT = "/v1/chat/completions"
OFFLINE_API_KEY = "offline-teacher"  # sent to a loopback server when the key variable is unset
REDACTED = "[REDACTED]"


@dataclass(frozen=True)
class TeacherConfig:
    base_url: str
    cache_path: str
    api_key_env: str = "OPENAI_API_KEY"  # read when a request is to be sent; a loopback base_url works without it
    max_concurrency: int = 64
    rpm: float | None = None
    tpm: float | None = None
    max_retries: int = 8
    timeout_s: float = 60.0
    backoff_s: float = 0.5  # first retry's bound; doubles per retry, capped at backoff_max_s; full jitter
    backoff_max_s: float = 30.0
    budget_usd: float | None = None  # cap on the ledger's total spend, all stages together
    prices: dict[str, dict[str, float]] = field(default_factory=dict)  # model -> {"prompt", "completion"}: $/1M tokens
    batch_poll_s: float = 30.0
    teacher: str = ""  # the answering teacher's identity: the cache keeps each teacher's answers apart


@dataclass(frozen=True)
class Request:
    item_id: str
    model: str
    messages: list[dict]
    params: dict  # sampling parameters: temperature, max_tokens, seed, n, stop, ...; None values are dropped

    @cached_property
    def key(self) -> str:
        return request_key(self.model, self.messages, self.params)

    @cached_property
    def body(self) -> dict:
        """The JSON body of the chat completion request."""
        params = {k: v for k, v in self.params.items() if v is not None}
        return {"model": self.model, "messages": self.messages, **params}

    @cached_property
    def prompt_tokens_estimate(self) -> int:
        chars = sum(len(m["content"] if isinstance(m.get("content"), str) else json.dumps(m.get("content")))
                    for m in self.messages)
        return math.ceil(chars / CHARS_PER_TOKEN) + MESSAGE_OVERHEAD_TOKENS * len(self.messages)

    @cached_property
    def completion_tokens_bound(self) -> int:
        p = self.params
        return (p.get("max_tokens") or p.get("max_completion_tokens") or DEFAULT_MAX_TOKENS) * (p.get("n") or 1)


@dataclass
class Result:
    item_id: str
    key: str
    texts: list[str] | None  # one per choice; None when the request failed for good
    error: str | None  # e.g. "400 content_policy_violation: ..."
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float  # paid by this run: 0 for a cache hit (its tokens are those of the cached answer)
    cached: bool


@dataclass
class Estimate:
    requests: int
    cached: int  # requests the cache answers
    prompt_tokens: int  # estimated, for the distinct requests to send
    completion_tokens: int  # upper bound
    cost_usd: float  # upper bound, at synchronous (not Batch API) prices

    def __str__(self) -> str:
        return (f"{self.requests:,} requests ({self.cached:,} cached): ~{self.prompt_tokens:,} prompt + "
                f"<= {self.completion_tokens:,} completion tokens, <= ${self.cost_usd:,.2f}")


class BudgetExceeded(RuntimeError):
    """The next request could take the ledger past budget_usd; finished work is cached."""


class _Malformed(Exception):
    pass


@dataclass
class _Budget:
    """Spending of one run: the ledger's total plus this run's payments, and reservations in flight."""

    cap: float | None
    spent: float
    reserved: float = 0.0
    stopped: bool = False

    def reserve(self, bound: float) -> bool:
        if not self.stopped and self.cap is not None and self.spent + self.reserved + bound > self.cap:
            self.stopped = True
        if self.stopped:
            return False
        self.reserved += bound
        return True

    def settle(self, bound: float, cost: float) -> None:
        self.reserved -= bound
        self.spent += cost


@dataclass
class _Batch:
    group_key: str
    batch_id: str
    requests: list[Request]


class Teacher:
    """Chat completions for one stage, cached, retried, rate-limited and accounted."""

    def __init__(self, config: TeacherConfig, stage: str):
        self.config = config
        self.stage = stage
        offline_key = OFFLINE_API_KEY if _is_loopback(config.base_url) else None
        self._api_key = os.environ.get(config.api_key_env) or offline_key
        self.cache = TeacherCache(config.cache_path, config.teacher)
        self._unpriced: set[str] = set()

    def close(self) -> None:
        self.cache.close()

    def __enter__(self) -> Teacher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def spent(self) -> dict:
        """Ledger totals {requests, tokens, usd, ...} for this stage and for all stages."""
        return {"stage": self.cache.spent(self.stage), "total": self.cache.spent()}

    def estimate(self, requests: list[Request]) -> Estimate:
        """What running `requests` would send and cost at most (see the module docstring)."""
        known = self.cache.get_many(r.key for r in requests).keys()
        todo = _distinct(r for r in requests if r.key not in known)
        return Estimate(
            requests=len(requests),
            cached=sum(r.key in known for r in requests),
            prompt_tokens=sum(r.prompt_tokens_estimate for r in todo),
            completion_tokens=sum(r.completion_tokens_bound for r in todo),
            cost_usd=sum(self._cost_bound(r) for r in todo),
        )

    def run(self, requests: list[Request]) -> list[Result]:
        """Answer `requests` (see arun)."""
        return asyncio.run(self.arun(requests))

    async def arun(self, requests: list[Request]) -> list[Result]:
        """Answer `requests`, in their order: from the cache, else from the API (each distinct request once).

        Raises BudgetExceeded when the budget stops the run (after the requests in flight finish).
        """
        results, todo = self._from_cache(requests)
        if todo:
            total = len(results) + len(todo)
            budget = _Budget(self.config.budget_usd, self.cache.spent()["usd"])
            results |= await self._send_all(todo, budget)
            if budget.stopped:
                raise self._budget_exceeded(budget.spent, total, len(results))
            _log_failures(self.stage, results.values())
        return _in_order(requests, results)

    def run_batch(self, requests: list[Request], group: str) -> list[Result]:
        """Answer `requests` through the Batch API (at BATCH_DISCOUNT times the prices), in their order.

        Requests not in the cache are submitted in batches under group keys (sha256 of `group` and
        the batch's request keys) saved in the cache before polling, so a rerun after a kill polls
        the same batches instead of paying twice; a batch that ended with failed lines leaves
        those requests to a new batch. Blocks until every batch ends. Raises BudgetExceeded,
        before submitting, when a batch could take the ledger past budget_usd.
        """
        results, todo = self._from_cache(requests)
        if todo:
            with openai.OpenAI(base_url=self.config.base_url, api_key=self._key(),
                               max_retries=self.config.max_retries, timeout=self.config.timeout_s) as client:
                batches = self._submit_batches(client, todo, group, len(results))
                results |= self._await_batches(client, batches)
            _log_failures(self.stage, results.values())
        return _in_order(requests, results)

    # -- the chat completions API --------------------------------------------------------------

    async def _send_all(self, todo: list[Request], budget: _Budget) -> dict[str, Result]:
        """Send `todo` with at most max_concurrency in flight; stop issuing when the budget says so."""
        cfg = self.config
        limiter = RateLimiter(cfg.rpm, cfg.tpm)
        client = openai.AsyncOpenAI(base_url=cfg.base_url, api_key=self._key(), max_retries=0, timeout=cfg.timeout_s)
        bar = progress(desc=f"teacher {self.stage}", total=len(todo), unit="req")
        results: dict[str, Result] = {}
        queue = iter(todo)  # shared by the workers
        start, tokens, paid = time.monotonic(), 0, 0.0

        async def worker() -> None:
            nonlocal tokens, paid
            for req in queue:
                bound = self._cost_bound(req)
                if not budget.reserve(bound):
                    return
                result = results[req.key] = await self._send(client, limiter, req)
                budget.settle(bound, result.cost_usd)
                tokens += result.prompt_tokens + result.completion_tokens
                paid += result.cost_usd
                elapsed = time.monotonic() - start
                bar.set_postfix_str(f"{tokens / elapsed:,.0f} tok/s, ${paid:,.2f} spent", refresh=False)
                bar.update()  # the bar shows req/s itself

        with bar:
            async with client, asyncio.TaskGroup() as tasks:
                for _ in range(min(cfg.max_concurrency, len(todo))):
                    tasks.create_task(worker())
        return results

    async def _send(self, client: openai.AsyncOpenAI, limiter: RateLimiter, req: Request) -> Result:
        """One request, retried on transient failures; its answer is cached and paid for on arrival."""
        reserve = req.prompt_tokens_estimate + req.completion_tokens_bound
        for attempt in range(self.config.max_retries + 1):
            await limiter.acquire(reserve)
            try:
                # untyped post: create() runs the params through its TypedDict transform, costlier than the rest
                body = _completion(await client.post("/chat/completions", body=req.body, cast_to=object))
            except openai.APIStatusError as e:
                limiter.refund(reserve)
                error = self._scrub(_status_error(e))
                if not _retryable(e):
                    return self._failed(req, error)
                delay = _retry_after(e.response.headers)
            except (openai.APIConnectionError, json.JSONDecodeError, _Malformed) as e:  # timeouts included
                limiter.refund(reserve)
                error, delay = self._scrub(f"{type(e).__name__}: {e}"), None
            else:
                usage = body["usage"]
                limiter.refund(reserve - usage["prompt_tokens"] - usage["completion_tokens"])
                return self._store(req, body)
            if attempt < self.config.max_retries:
                log.debug("%s: attempt %d failed (%s); retrying", req.item_id, attempt + 1, error)
                await asyncio.sleep(delay if delay is not None else self._backoff(attempt))
        return self._failed(req, f"{error} (gave up after {self.config.max_retries + 1} attempts)")

    def _backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.config.backoff_max_s, self.config.backoff_s * 2**attempt))

    # -- Batch API ------------------------------------------------------------------------------

    def _submit_batches(self, client: openai.OpenAI, todo: list[Request], group: str, cached: int) -> list[_Batch]:
        """Resume the batches saved for `todo`'s groups; create the others, budget permitting."""
        batches, reserved = [], 0.0
        spent = self.cache.spent()["usd"]
        for chunk, lines in _batch_chunks(todo):
            group_key = hashlib.sha256("\n".join([group, *sorted(r.key for r in chunk)]).encode()).hexdigest()
            reserved += sum(self._cost_bound(r) for r in chunk) * BATCH_DISCOUNT
            saved = self.cache.batch(group_key)
            if saved and saved["status"] not in BATCH_FINAL:
                if self._known(client, saved["batch_id"]):
                    log.info("%s: resuming batch %s (%d requests)", self.stage, saved["batch_id"], len(chunk))
                    batches.append(_Batch(group_key, saved["batch_id"], chunk))
                    continue
                log.warning("%s: the server no longer knows batch %s (an offline teacher keeps batches only while "
                            "it runs); submitting its %d requests again", self.stage, saved["batch_id"], len(chunk))
            cap = self.config.budget_usd
            if cap is not None and spent + reserved > cap:
                raise self._budget_exceeded(spent, cached + len(todo), cached)
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp, f"batch-{group_key[:16]}.jsonl")
                path.write_bytes(b"".join(lines))
                upload = client.files.create(file=path, purpose="batch")
            batch = client.batches.create(input_file_id=upload.id, endpoint=CHAT_ENDPOINT, completion_window="24h",
                                          metadata={"stage": self.stage, "group": group[:512]})
            self.cache.save_batch(group_key, batch.id, upload.id, batch.status)
            log.info("%s: created batch %s (%d requests)", self.stage, batch.id, len(chunk))
            batches.append(_Batch(group_key, batch.id, chunk))
        return batches

    @staticmethod
    def _known(client: openai.OpenAI, batch_id: str) -> bool:
        """Whether the server still has the batch: nothing of a batch it lost was paid for."""
        try:
            client.batches.retrieve(batch_id)
        except openai.NotFoundError:
            return False
        return True

    def _await_batches(self, client: openai.OpenAI, batches: list[_Batch]) -> dict[str, Result]:
        """Poll every batch_poll_s until each batch ends; cache and pay for its answers as it does."""
        results: dict[str, Result] = {}
        pending = list(batches)
        with progress(desc=f"teacher {self.stage} (Batch API)", total=sum(len(b.requests) for b in batches),
                      unit="req") as bar:
            while True:
                for job in list(pending):
                    batch = client.batches.retrieve(job.batch_id)
                    if batch.status in BATCH_FINAL:
                        results |= self._ingest(client, job, batch)
                        pending.remove(job)
                        bar.update(len(job.requests))
                    # a final status is saved only after ingesting: a job killed before polls this batch again
                    self.cache.save_batch(job.group_key, batch.id, batch.input_file_id, batch.status)
                if not pending:
                    return results
                time.sleep(self.config.batch_poll_s)

    def _ingest(self, client: openai.OpenAI, job: _Batch, batch) -> dict[str, Result]:
        """Results of a finished batch from its output and error files, stored in one transaction."""
        lines = []
        for file_id in (batch.output_file_id, batch.error_file_id):
            if file_id:
                lines += client.files.content(file_id).text.splitlines()
        requests = {r.key: r for r in job.requests}
        results = {}
        with self.cache.transaction():
            for line in filter(str.strip, lines):
                record = json.loads(line)
                req = requests.get(record.get("custom_id"))
                if req is None:
                    continue
                error = _batch_line_error(record)
                if error is None:
                    try:
                        body = _completion((record.get("response") or {}).get("body"))
                    except _Malformed as e:
                        error = str(e)
                if error is None:
                    results[req.key] = self._store(req, body, BATCH_DISCOUNT, commit=False)
                else:
                    results[req.key] = self._failed(req, self._scrub(error))
        why = "; ".join(e.message or e.code or "" for e in (batch.errors.data or [])) if batch.errors else ""
        missing = self._scrub(f"batch {batch.id} {batch.status}: no result" + (f" ({why})" if why else ""))
        for req in job.requests:
            results.setdefault(req.key, self._failed(req, missing))
        return results

    # -- shared -------------------------------------------------------------------------------

    def _from_cache(self, requests: list[Request]) -> tuple[dict[str, Result], list[Request]]:
        """Results of the cache hits by key, and the distinct requests left to send."""
        hits = self.cache.get_many(r.key for r in requests)
        results = {}
        for req in _distinct(r for r in requests if r.key in hits):
            usage = hits[req.key]["usage"]
            results[req.key] = Result(req.item_id, req.key, _texts(hits[req.key]), None, usage["prompt_tokens"],
                                      usage["completion_tokens"], 0.0, cached=True)
        todo = _distinct(r for r in requests if r.key not in hits)
        log.info("%s: %d requests, %d answered by the cache, %d to send", self.stage, len(requests),
                 sum(r.key in hits for r in requests), len(todo))
        return results, todo

    def _store(self, req: Request, body: dict, discount: float = 1.0, commit: bool = True) -> Result:
        """Cache a paid answer and add its cost to the ledger, together (in the caller's transaction
        when commit is False)."""
        pt, ct = body["usage"]["prompt_tokens"], body["usage"]["completion_tokens"]
        cost = discount * self._cost(req.model, pt, ct)
        with self.cache.transaction() if commit else contextlib.nullcontext():
            self.cache.put(req.key, req.model, req.body, body, body["usage"])
            self.cache.record_usage(self.stage, req.model, req.key, pt, ct, cost)
        return Result(req.item_id, req.key, _texts(body), None, pt, ct, cost, cached=False)

    def _failed(self, req: Request, error: str) -> Result:
        return Result(req.item_id, req.key, None, error, 0, 0, 0.0, cached=False)

    def _cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> float:
        price = self.config.prices.get(model)
        if price is None:
            if model not in self._unpriced:
                self._unpriced.add(model)
                log.warning("no price for model %r: its requests are counted as $0", model)
            return 0.0
        return (prompt_tokens * price["prompt"] + completion_tokens * price["completion"]) / 1e6

    def _cost_bound(self, req: Request) -> float:
        return self._cost(req.model, req.prompt_tokens_estimate, req.completion_tokens_bound)

    def _budget_exceeded(self, spent: float, total: int, done: int) -> BudgetExceeded:
        return BudgetExceeded(
            f"budget exceeded: ${spent:,.4f} spent of the ${self.config.budget_usd:,.4f} cap (all stages); "
            f"stage {self.stage!r}: {done:,} distinct requests done, about {total - done:,} left. "
            "Finished work is cached: rerun with a higher budget_usd to resume without paying for it again."
        )

    def _key(self) -> str:
        """The API key, needed only once something is to be sent (estimates and cache hits go without)."""
        if self._api_key is None:
            raise ConfigError(f"environment variable {self.config.api_key_env} is not set: it must hold the API key "
                              f"for {self.config.base_url}")
        return self._api_key

    def _scrub(self, text: str) -> str:
        return text.replace(self._api_key, REDACTED) if self._api_key else text


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _completion(body) -> dict:
    """A chat completion body, checked for choices with messages and for usage; else _Malformed."""
    try:
        _texts(body)
        int(body["usage"]["prompt_tokens"]), int(body["usage"]["completion_tokens"])
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise _Malformed(f"malformed response ({type(e).__name__}: {e})") from None
    return body


def _texts(body: dict) -> list[str]:
    choices = sorted(body["choices"], key=lambda c: c.get("index", 0))
    if not choices:
        raise ValueError("no choices")
    return [c["message"]["content"] or "" for c in choices]


def _retryable(e: openai.APIStatusError) -> bool:
    """429 (but not an exhausted quota), 408, 409 and 5xx are worth retrying; other statuses are permanent."""
    if e.code == "insufficient_quota":  # a 429 that waiting does not cure
        return False
    return e.status_code in RETRYABLE_STATUS or e.status_code >= 500


def _status_error(e: openai.APIStatusError) -> str:
    message = e.body.get("message") if isinstance(e.body, dict) else None
    return f"{e.status_code} {e.code or e.type or 'error'}: {message or e.message}"


def _batch_line_error(record: dict) -> str | None:
    """The error of a Batch API output line, or None when it holds an answer."""
    response = record.get("response") or {}
    status = response.get("status_code")
    if not record.get("error") and status == 200:
        return None
    body = response.get("body")
    error = record.get("error") or (body.get("error") if isinstance(body, dict) else None) or {}
    return f"{status or 'batch'} {error.get('code') or error.get('type') or 'error'}: {error.get('message', '')}"


def _retry_after(headers) -> float | None:
    """Seconds the server asks to wait (retry-after-ms, else retry-after in seconds), or None."""
    for name, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        try:
            return max(0.0, float(headers[name]) * scale)
        except (KeyError, ValueError):
            continue
    return None


def _batch_chunks(todo: list[Request]) -> Iterator[tuple[list[Request], list[bytes]]]:
    """Requests and their JSONL lines, in chunks within the Batch API's limits on one file."""
    chunk, lines, size = [], [], 0
    for req in todo:
        line = (canonical_json({"custom_id": req.key, "method": "POST", "url": CHAT_ENDPOINT, "body": req.body})
                + "\n").encode()
        if chunk and (len(chunk) == BATCH_MAX_REQUESTS or size + len(line) > BATCH_MAX_BYTES):
            yield chunk, lines
            chunk, lines, size = [], [], 0
        chunk.append(req)
        lines.append(line)
        size += len(line)
    if chunk:
        yield chunk, lines


def _distinct(requests: Iterable[Request]) -> list[Request]:
    """The first request of each key."""
    first: dict[str, Request] = {}
    for req in requests:
        first.setdefault(req.key, req)
    return list(first.values())


def _in_order(requests: list[Request], results: dict[str, Result]) -> list[Result]:
    """One result per request; a repeated request gets its first occurrence's answer, at no cost."""
    out, seen = [], set()
    for req in requests:
        result = results[req.key]
        if req.key in seen:
            result = dataclasses.replace(result, cost_usd=0.0, cached=result.texts is not None)
        seen.add(req.key)
        out.append(dataclasses.replace(result, item_id=req.item_id))
    return out


def _log_failures(stage: str, results) -> None:
    failed = [r for r in results if r.error is not None]
    if failed:
        log.warning("%s: %d requests failed for good; first: %s: %s", stage, len(failed), failed[0].item_id,
                    failed[0].error)
