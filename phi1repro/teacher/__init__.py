"""The teacher: every LLM call goes through one OpenAI-compatible client; offline runs use a local server."""
