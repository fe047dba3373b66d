"""The OpenAI chat-completions protocol as the offline teacher speaks it, apart from any answer.

Requests are checked as OpenAI checks them (invalid_chat_request) and refused with OpenAI's error body.
Tokens are counted by one documented rule (TOKEN): each run of word characters and each other non-space
character is a token. `max_tokens` (or `max_completion_tokens`) keeps that many tokens of the content
and sets finish_reason "length". request_key names a request in the server's /stats.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import uuid
from typing import Any

import jsonschema

TOKEN = re.compile(r"\w+|[^\w\s]")
ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
JSON_FORMATS = ("json_schema", "json_object")


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


def off_schema(completion: dict[str, Any], response_format: dict[str, Any]) -> dict[str, Any] | None:
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


def response_format_type(body: dict[str, Any]) -> str:
    """The type of the requested response_format: "text" unless one is given."""
    return (body.get("response_format") or {}).get("type", "text")


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:24]}"
