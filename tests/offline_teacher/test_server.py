import asyncio
import http.client
import io
import json
import re
import signal
import subprocess
import sys
import time
from urllib.parse import urlsplit

import openai
import pytest
from openai.types.chat import ChatCompletion

from phi1repro.offline_teacher.rubric import educational_value, extract_code
from phi1repro.quality.annotate import ANNOTATION_MARKER
from phi1repro.offline_teacher.protocol import count_tokens, request_key
from phi1repro.offline_teacher.server import serve_in_thread
from phi1repro.offline_teacher.state import RETRY_AFTER_HEADERS, THINKING, Faults, ServerConfig

HELLO = [{"role": "user", "content": "Say hello."}]

GOOD = '''"""Prime numbers by trial division."""


def is_prime(n: int) -> bool:
    """Return True if n is a prime number."""
    if n < 2:
        return False
    # Only divisors up to the square root need checking.
    for d in range(2, int(n ** 0.5) + 1):
        if n % d == 0:
            return False
    return True


def primes_below(limit: int) -> list[int]:
    """All primes smaller than limit."""
    return [n for n in range(limit) if is_prime(n)]
'''
CONFIG = '''# Database settings
DB_HOST = "localhost"
DB_PORT = 5432
DEBUG = True
ALLOWED_HOSTS = ["example.com", "www.example.com"]
TIMEOUT = 30 * 60
'''
GUI = '''import tkinter as tk

root = tk.Tk()
root.title("Hello")
tk.Label(root, text="Hello, world").pack()
tk.Button(root, text="Quit", command=root.destroy).pack()
root.mainloop()
'''
RELATIVE = '''from .models import User
from ..db import session


def active_users():
    """Users who are active."""
    return [u for u in session.query(User) if u.active]
'''
LONG = (
    "def process(data):\n    total = 0\n"
    + "".join(f"    if data[{i}] > {i}:\n        total += data[{i}] * {i}\n" for i in range(30))
    + "    return total\n"
)


def annotation_prompt(code):
    return (f"Below is a Python snippet. Please {ANNOTATION_MARKER}.\n\n```python\n{code}```\n\n"
            "Answer in exactly two lines:\nscore: <0-5>\nreason: <one line>")


@pytest.fixture(scope="module")
def server():
    with serve_in_thread(ServerConfig(batch_seconds=0.2)) as running:
        yield running


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0)


def faulty(**faults):
    return serve_in_thread(ServerConfig(faults=Faults(**faults)))


def raw_request(base_url, method, path, body=None, headers=None):
    """An HTTP request without the openai client (and without an Authorization header)."""
    url = urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers or {})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_chat_completion_round_trips_with_usage(client):
    r = client.chat.completions.create(model="gpt-4", messages=HELLO)
    assert r.object == "chat.completion" and r.model == "gpt-4" and r.id.startswith("chatcmpl-")
    [choice] = r.choices
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    assert "offline teacher" in choice.message.content
    assert r.usage.prompt_tokens == 3  # "Say", "hello", "."
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens > 3


def test_same_request_same_answer(client):
    ask = lambda **kw: client.chat.completions.create(model="gpt-4", messages=HELLO, **kw).choices[0].message.content
    assert ask(temperature=0.7, seed=1) == ask(temperature=0.7, seed=1)
    assert len({ask(seed=s) for s in range(5)}) > 1


def test_max_tokens_truncates(client):
    r = client.chat.completions.create(model="gpt-4", messages=HELLO, max_tokens=3)
    assert r.choices[0].finish_reason == "length" and r.usage.completion_tokens == 3
    assert r.choices[0].message.content == "This is the"
    r = client.chat.completions.create(model="gpt-4", messages=HELLO, max_completion_tokens=2)
    assert r.choices[0].message.content == "This is"


def test_n_choices(client):
    r = client.chat.completions.create(model="gpt-4", messages=HELLO, n=3)
    assert [c.index for c in r.choices] == [0, 1, 2]
    assert len({c.message.content for c in r.choices}) == 3


def test_async_client_requests_overlap():
    async def ask_many(base_url):
        async with openai.AsyncOpenAI(base_url=base_url, api_key="test", max_retries=0) as aclient:
            messages = [[{"role": "user", "content": f"question {i}"}] for i in range(10)]
            return await asyncio.gather(*(aclient.chat.completions.create(model="m", messages=m) for m in messages))

    with serve_in_thread(ServerConfig(latency_s=0.3)) as running:
        start = time.perf_counter()
        answers = asyncio.run(ask_many(running.base_url))
        assert time.perf_counter() - start < 1.5  # ten 0.3 s answers, concurrently
        assert running.stats()["completed"] == len(answers) == 10


def test_annotation_answers_in_the_asked_format(client):
    content = client.chat.completions.create(
        model="gpt-4", messages=[{"role": "user", "content": annotation_prompt(GOOD)}], temperature=0
    ).choices[0].message.content
    assert re.fullmatch(r"score: [0-5]\nreason: [^\n]+", content)
    assert content == "score: {}\nreason: {}".format(*educational_value(GOOD))


@pytest.mark.parametrize("thinking", ["tags", "field"])
def test_a_thinking_teacher_answers_as_reasoning_models_do(client, thinking):
    body = {"model": "m", "messages": [{"role": "user", "content": annotation_prompt(GOOD)}], "temperature": 0}
    plain = client.chat.completions.create(**body)
    with serve_in_thread(ServerConfig(thinking=thinking)) as running:
        status, thought = raw_request(running.base_url, "POST", "/v1/chat/completions", body)
    message, answer = thought["choices"][0]["message"], plain.choices[0].message.content
    if thinking == "tags":  # as DeepSeek-R1 and Qwen3 answer on a server without a reasoning parser
        assert message["content"] == f"<think>\n{THINKING}\n</think>\n\n{answer}"
        extra_tokens = count_tokens(f"<think></think>{THINKING}")
    else:
        assert message["content"] == answer and message["reasoning_content"] == THINKING
        extra_tokens = count_tokens(THINKING)
    assert status == 200 and thought["usage"]["completion_tokens"] == plain.usage.completion_tokens + extra_tokens


def test_refuse_trigger_is_a_bad_request(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "x [[refuse]] y"}])
    assert e.value.code == "content_policy_violation"


@pytest.mark.parametrize(
    "body, param",
    [
        ({"model": "gpt-4", "messages": []}, "messages"),
        ({"messages": HELLO}, "model"),
        ({"model": "gpt-4", "messages": [{"role": "wizard", "content": "hi"}]}, "messages[0]"),
        ({"model": "gpt-4", "messages": HELLO, "stream": True}, "stream"),
        ({"model": "gpt-4", "messages": HELLO, "n": "2"}, "n"),
        ({"model": "gpt-4", "messages": HELLO, "max_tokens": 0}, "max_tokens"),
    ],
)
def test_invalid_requests_get_openai_error_bodies(server, body, param):
    status, payload = raw_request(server.base_url, "POST", "/v1/chat/completions", body)
    assert status == 400
    assert payload["error"]["type"] == "invalid_request_error" and payload["error"]["param"] == param


def test_requests_without_a_key_are_accepted(server):
    body = {"model": "gpt-4", "messages": HELLO}
    status, payload = raw_request(server.base_url, "POST", "/v1/chat/completions", body)
    assert status == 200 and payload["choices"][0]["message"]["content"]
    status, _ = raw_request(server.base_url, "POST", "/v1/chat/completions", body, {"Authorization": "Bearer sk-x"})
    assert status == 200


def test_models_lists_requested_models(client):
    client.chat.completions.create(model="my-model", messages=HELLO)
    assert {"offline-teacher", "my-model"} <= {m.id for m in client.models.list()}


@pytest.mark.parametrize("header, value", [("retry-after", "0.25"), ("retry-after-ms", "250")])
def test_rate_limit_fault(header, value):
    with faulty(rate_429=1.0, retry_after_s=0.25, retry_after_header=header) as running:
        client = openai.OpenAI(base_url=running.base_url, api_key="test", max_retries=0)
        with pytest.raises(openai.RateLimitError) as e:
            client.chat.completions.create(model="m", messages=HELLO)
        sent = {name: e.value.response.headers.get(name) for name in RETRY_AFTER_HEADERS}
        assert sent == {name: value if name == header else None for name in RETRY_AFTER_HEADERS}
        assert running.stats()["faults"]["429"] == 1


def test_a_fault_script_comes_before_the_draws_and_arrivals_are_logged():
    with faulty(script=("429", None, "slow"), rate_500=1.0, slow_s=0.1) as running:
        client = openai.OpenAI(base_url=running.base_url, api_key="test", max_retries=0)
        outcomes = []
        for _ in range(4):
            try:
                outcomes.append(client.chat.completions.create(model="m", messages=HELLO).object)
            except openai.APIStatusError as e:
                outcomes.append(e.status_code)
        client.models.list()  # not a chat request: not logged
        arrivals = running.arrivals()
    assert outcomes == [429, "chat.completion", "chat.completion", 500]
    assert [a.fault for a in arrivals] == ["429", None, "slow", "500"]
    assert arrivals[3].at - arrivals[2].at >= 0.1  # the slow answer was held before the next request came


@pytest.mark.parametrize("faults", [dict(script=("fire",)), dict(retry_after_header="x-retry")])
def test_unknown_fault_options_are_refused(faults):
    with pytest.raises(ValueError):
        Faults(**faults)


@pytest.mark.parametrize(
    "fault, error",
    [("rate_500", openai.InternalServerError), ("rate_drop", openai.APIConnectionError),
     ("rate_malformed", json.JSONDecodeError)],
)
def test_faults_fail_the_client(fault, error):
    with faulty(**{fault: 1.0}) as running:
        client = openai.OpenAI(base_url=running.base_url, api_key="test", max_retries=0)
        with pytest.raises(error):
            client.chat.completions.create(model="m", messages=HELLO)
        stats = running.stats()
    assert stats["faults"][fault.removeprefix("rate_")] == 1
    assert stats["completed"] == 0 and stats["chat_by_key"] == {}


@pytest.mark.parametrize("on_batches", [False, True])
def test_faults_reach_files_and_batches_only_when_asked(on_batches):
    with serve_in_thread(ServerConfig(faults=Faults(rate_500=1.0), faults_on_batches=on_batches)) as running:
        client = openai.OpenAI(base_url=running.base_url, api_key="test", max_retries=0)
        upload = lambda: client.files.create(file=("in.jsonl", b"{}"), purpose="batch")
        if on_batches:
            with pytest.raises(openai.InternalServerError):
                upload()
        else:
            assert upload().id.startswith("file-")
        assert running.stats()["requests"]["files"] == 1


def test_slow_fault_answers_late():
    with faulty(rate_slow=1.0, slow_s=0.3) as running:
        client = openai.OpenAI(base_url=running.base_url, api_key="test", max_retries=0)
        start = time.perf_counter()
        client.chat.completions.create(model="m", messages=HELLO)
        assert time.perf_counter() - start >= 0.3
        assert running.stats()["faults"]["slow"] == 1


def test_faults_are_a_seeded_sequence():
    def outcomes(seed):
        with faulty(rate_429=0.2, rate_500=0.2, rate_drop=0.1, rate_malformed=0.1, seed=seed) as running:
            client = openai.OpenAI(base_url=running.base_url, api_key="test", max_retries=0)
            seen = []
            for _ in range(20):
                try:
                    client.chat.completions.create(model="m", messages=HELLO)
                    seen.append("ok")
                except Exception as e:
                    seen.append(type(e).__name__)
            return seen

    first = outcomes(seed=7)
    assert first == outcomes(seed=7) != outcomes(seed=8)
    assert {"ok", "RateLimitError", "InternalServerError", "APIConnectionError", "JSONDecodeError"} == set(first)


def test_client_retries_rate_limits_and_stats_count_each_answered_request_once():
    with faulty(rate_429=0.5, retry_after_s=0.01) as running:
        client = openai.OpenAI(base_url=running.base_url, api_key="test", max_retries=20)
        for i in range(10):
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": str(i)}])
        stats = running.stats()
    assert stats["completed"] == 10 and set(stats["chat_by_key"].values()) == {1}
    assert stats["faults"]["429"] > 0 and stats["requests"]["chat_completions"] == 10 + stats["faults"]["429"]


def test_stats_count_requests_by_key():
    with serve_in_thread() as running:
        client = openai.OpenAI(base_url=running.base_url, api_key="test", max_retries=0)
        for _ in range(2):
            client.chat.completions.create(model="gpt-4", messages=HELLO, temperature=0)
        client.chat.completions.create(model="gpt-4", messages=HELLO, temperature=0, max_tokens=5)
        status, over_http = raw_request(running.base_url, "GET", "/stats")
    assert status == 200 and over_http == running.stats()
    key = request_key({"model": "gpt-4", "messages": HELLO, "temperature": 0})
    assert over_http["chat_by_key"][key] == 2 and len(over_http["chat_by_key"]) == 2
    assert over_http["requests"] == {"chat_completions": 3, "files": 0, "batches": 0, "models": 0}
    assert over_http["faults"] == {"429": 0, "500": 0, "drop": 0, "malformed": 0, "slow": 0}
    assert over_http["completed"] == 3 and over_http["batch_lines"] == 0


def batch_line(custom_id, content, **params):
    body = {"model": "gpt-4", "messages": [{"role": "user", "content": content}], **params}
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}


def test_batch_lifecycle(server, client):
    lines = [batch_line("a", "Say hello.", temperature=0), batch_line("b", annotation_prompt(CONFIG)),
             batch_line("c", "please [[refuse]]")]
    data = "\n".join(json.dumps(line) for line in lines) + "\nnot json\n"
    uploaded = client.files.create(file=("in.jsonl", io.BytesIO(data.encode())), purpose="batch")
    assert uploaded.bytes == len(data) and client.files.retrieve(uploaded.id).filename == "in.jsonl"
    before = server.stats()["batch_lines"]

    batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions",
                                  completion_window="24h", metadata={"stage": "test"})
    seen = [batch.status]
    while batch.status != "completed":
        time.sleep(0.02)
        batch = client.batches.retrieve(batch.id)
        seen.append(batch.status)
    assert [s for i, s in enumerate(seen) if s not in seen[:i]] == ["validating", "in_progress", "finalizing",
                                                                        "completed"]
    assert batch.request_counts.model_dump() == {"total": 4, "completed": 2, "failed": 2}
    assert batch.metadata == {"stage": "test"} and batch.completed_at >= batch.created_at
    assert batch.id in {b.id for b in client.batches.list()}
    assert server.stats()["batch_lines"] == before + 4

    output = [json.loads(line) for line in client.files.content(batch.output_file_id).text.splitlines()]
    assert [o["custom_id"] for o in output] == ["a", "b"]
    answers = {o["custom_id"]: ChatCompletion.model_validate(o["response"]["body"]) for o in output}
    direct = client.chat.completions.create(**lines[0]["body"])
    assert answers["a"].choices[0].message.content == direct.choices[0].message.content
    assert answers["b"].choices[0].message.content.startswith("score: ")

    errors = [json.loads(line) for line in client.files.content(batch.error_file_id).text.splitlines()]
    assert errors[0]["custom_id"] == "c" and errors[0]["response"]["status_code"] == 400
    assert errors[0]["response"]["body"]["error"]["code"] == "content_policy_violation"
    assert errors[1]["custom_id"] is None and errors[1]["error"]["code"] == "invalid_request"

    assert client.files.delete(uploaded.id).deleted
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(uploaded.id)


def test_batch_cancel():
    with serve_in_thread(ServerConfig(batch_seconds=60)) as running:
        client = openai.OpenAI(base_url=running.base_url, api_key="test", max_retries=0)
        data = json.dumps(batch_line("a", "hi")).encode()
        uploaded = client.files.create(file=("in.jsonl", data), purpose="batch")
        batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions",
                                      completion_window="24h")
        assert client.batches.cancel(batch.id).status == "cancelling"
        assert client.batches.retrieve(batch.id).status == "cancelled"
        with pytest.raises(openai.ConflictError):
            client.batches.cancel(batch.id)
        assert running.stats()["batch_lines"] == 0


def test_batch_needs_a_batch_file(client):
    with pytest.raises(openai.BadRequestError):
        client.batches.create(input_file_id="file-missing", endpoint="/v1/chat/completions", completion_window="24h")


def test_cli_prints_listening_line_and_stops_on_sigterm():
    proc = subprocess.Popen([sys.executable, "-m", "phi1repro.offline_teacher.server", "--port", "0", "--latency-ms", "10"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert re.fullmatch(r"listening on http://127\.0\.0\.1:\d+/v1\n", line)
        client = openai.OpenAI(base_url=line.split()[-1], api_key="test", max_retries=0)
        assert client.chat.completions.create(model="m", messages=HELLO).choices[0].message.content
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0 and out == "" and "Traceback" not in err


def test_rubric_ranks_textbook_code_above_the_papers_complaints():
    good, _ = educational_value(GOOD)
    assert good >= 4
    for snippet in (CONFIG, GUI, RELATIVE, LONG):
        score, reason = educational_value(snippet)
        assert 0 <= score < good and reason and "\n" not in reason
    assert "no meaningful computation" in educational_value(CONFIG)[1]
    assert "GUI setup" in educational_value(GUI)[1]
    assert "relative imports" in educational_value(RELATIVE)[1]
    assert "long undocumented function" in educational_value(LONG)[1]


def test_rubric_scores_unparsable_code_low_and_is_deterministic():
    assert educational_value("def f(:\n    return")[0] <= 1
    assert educational_value("")[0] == 0
    assert educational_value(GOOD) == educational_value(GOOD)


def test_extract_code():
    assert extract_code(annotation_prompt(GOOD)) == GOOD
    assert extract_code(f"Please {ANNOTATION_MARKER}.\nx = 1\n") == "x = 1\n"
    indented = "Look:\n  ```python\n  def f():\n      return 1\n  ```\n"
    assert extract_code(indented) == "def f():\n    return 1\n"
