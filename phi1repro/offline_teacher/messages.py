"""Reading chat messages as the offline teacher's generators see them."""

from __future__ import annotations

from typing import Any

Messages = list[dict[str, Any]]


def message_text(message: dict[str, Any]) -> str:
    """A message's text: its string content, or its text parts joined by newlines."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    return "\n".join(part.get("text", "") for part in content or [])


def last_user_text(messages: Messages) -> str:
    return next((message_text(m) for m in reversed(messages) if m["role"] == "user"), "")


def marked_text(messages: Messages, marker: str) -> str:
    """The text of the first message holding `marker` (the question, before any follow-up)."""
    return next((message_text(m) for m in messages if marker in message_text(m)), "")
