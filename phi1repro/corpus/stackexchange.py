"""StackExchange `Posts.xml`: questions with a wanted tag, each joined with one answer, as text."""

from __future__ import annotations

import collections
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TypeVar
from xml.parsers import expat

from ..errors import InputError
from .records import make_record

T = TypeVar("T")

# The CC BY-SA version of a post, by its creation date (https://stackoverflow.com/help/licensing).
LICENSES = [("2011-04-08", "CC BY-SA 2.5"), ("2018-05-02", "CC BY-SA 3.0")]
LATEST_LICENSE = "CC BY-SA 4.0"


def license_for(creation_date: str) -> str:
    """The license of a post created at `creation_date` (ISO 8601, as in the dumps)."""
    return next((name for until, name in LICENSES if creation_date < until), LATEST_LICENSE)


# --- HTML to text ---------------------------------------------------------------------------

BLOCK_TAGS = frozenset({"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table"})
LINE_TAGS = frozenset({"br", "tr"})
FRAMED_TAGS = frozenset({"pre", "blockquote", "ul", "ol", "li"})


class _Laid(str):
    """Text already laid out (a code block, a list item, a quote): kept as is, never reflowed."""


# A token is inline text (reflowed: whitespace runs become one space), _Laid text, or an int:
# a break of that many newlines (1: new line, 2: blank line). Adjacent breaks merge to the largest.
Token = str | int


def html_to_text(html: str) -> str:
    """Readable text of a post's HTML: paragraphs, "- " lists, "> " quotes, fenced code blocks.

    Code blocks (`<pre>`) keep their text verbatim; inline `<code>` is put in backticks; links
    keep their text; images are dropped; there is never more than one blank line in a row
    outside code.
    """
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    return parser.text()


class _TextParser(HTMLParser):
    """Collects tokens; `pre`, `blockquote`, lists and list items collect theirs in a frame of
    their own, laid out as a unit when the element closes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._frames: list[tuple[str, list[Token]]] = [("", [])]

    def text(self) -> str:
        while len(self._frames) > 1:
            self._close_frame()
        return _lay_out(self._frames[0][1])

    @property
    def _tag(self) -> str:
        return self._frames[-1][0]

    @property
    def _tokens(self) -> list[Token]:
        return self._frames[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._tag == "pre":
            if tag == "br":
                self._tokens.append("\n")
        elif tag in FRAMED_TAGS:
            if tag == "li" and self._tag == "li":  # `</li>` may be omitted
                self._close("li")
            self._frames.append((tag, []))
        elif tag in BLOCK_TAGS:
            self._tokens.append(2)
        elif tag in LINE_TAGS:
            self._tokens.append(1)
        elif tag == "code":
            self._tokens.append("`")

    def handle_endtag(self, tag: str) -> None:
        if self._tag == "pre" and tag != "pre":
            return
        if tag in FRAMED_TAGS:
            self._close(tag)
        elif tag in BLOCK_TAGS:
            self._tokens.append(2)
        elif tag == "code":
            self._tokens.append("`")

    def handle_data(self, data: str) -> None:
        self._tokens.append(data)

    def _close(self, tag: str) -> None:
        """Close the innermost open `tag` and whatever was left open inside it."""
        if any(t == tag for t, _ in self._frames):
            while self._close_frame() != tag:
                pass

    def _close_frame(self) -> str:
        tag, tokens = self._frames.pop()
        if tag == "pre":
            code = "".join(tokens).strip("\n")
            laid: list[Token] = [2, _Laid(f"```\n{code}\n```"), 2]
        elif tag == "blockquote":
            laid = [2, _Laid(_prefix(_lay_out(tokens), "> ", "> ")), 2]
        elif tag == "li":
            laid = [1, _Laid(_prefix(_lay_out(tokens), "- ", "  ")), 1]
        else:  # a list: its items, set apart from the text around it unless nested in an item
            gap = 1 if any(t == "li" for t, _ in self._frames) else 2
            laid = [gap, *tokens, gap]
        self._tokens.extend(laid)
        return tag


def _lay_out(tokens: list[Token]) -> str:
    """Join tokens into text: inline runs reflowed into one line each, breaks between them."""
    out: list[str] = []
    inline: list[str] = []
    gap = 0

    def put(chunk: str) -> None:
        nonlocal gap
        if chunk:
            if out:
                out.append("\n" * gap)
            out.append(chunk)
            gap = 0

    for token in tokens:
        if isinstance(token, str) and not isinstance(token, _Laid):
            inline.append(token)
            continue
        put(" ".join("".join(inline).split()))
        inline.clear()
        if isinstance(token, int):
            gap = max(gap, token)
        else:
            put(token)
    put(" ".join("".join(inline).split()))
    return "".join(out)


def _prefix(text: str, first: str, rest: str) -> str:
    """Prefix the first line with `first`, the others with `rest` (right-trimmed on blank lines)."""
    lines = text.split("\n")
    prefixes = [first] + [rest] * (len(lines) - 1)
    return "\n".join(p + line if line else p.rstrip() for p, line in zip(prefixes, lines))


# --- Posts.xml ------------------------------------------------------------------------------


@dataclass
class _Question:
    id: int
    title: str
    body: str
    score: int
    created: str
    accepted_id: int | None
    best_answer: str | None = None  # body of the best-scored answer so far
    best_score: int = 0


def read_stackexchange(
    path: str | os.PathLike,
    *,
    source: str,
    counts: collections.Counter,
    tags: list[str],
    site: str = "stackoverflow.com",
) -> Iterator[dict]:
    """Records of the questions tagged with any of `tags`, each with one answer.

    The answer is the accepted one, else (none, or missing from the file) the best-scored one
    (ties: the lowest Id). A question is emitted when its accepted answer arrives; the others
    at the end of the file, in Id order. Rows must be in Id order, answers after their question.
    Counts: `questions_seen` (with a wanted tag), `documents`, `no_answer` (not emitted).
    """
    wanted = frozenset(tags)
    waiting: dict[int, _Question] = {}

    def document(question: _Question, answer_html: str) -> dict:
        counts["documents"] += 1
        text = (
            f"{question.title}\n\n{html_to_text(question.body)}\n\n"
            f"Answer:\n{html_to_text(answer_html)}"
        )
        return make_record(
            text,
            source=source,
            origin=f"https://{site}/questions/{question.id}",
            license=license_for(question.created),
            stars=question.score,
        )

    for row in _rows(path):
        kind = row.get("PostTypeId")
        if kind == "1" and wanted & _tags(row.get("Tags", "")):
            counts["questions_seen"] += 1
            accepted = row.get("AcceptedAnswerId")
            question = _Question(
                id=_attr(row, "Id", path, int),
                title=row.get("Title", ""),
                body=row.get("Body", ""),
                score=_attr(row, "Score", path, int),
                created=_attr(row, "CreationDate", path),
                accepted_id=None if accepted is None else _attr(row, "AcceptedAnswerId", path, int),
            )
            waiting[question.id] = question
        elif kind == "2" and (question := waiting.get(_attr(row, "ParentId", path, int))):
            answer_id, score = _attr(row, "Id", path, int), _attr(row, "Score", path, int)
            if answer_id == question.accepted_id:
                del waiting[question.id]
                yield document(question, row.get("Body", ""))
            elif question.best_answer is None or score > question.best_score:
                question.best_answer, question.best_score = row.get("Body", ""), score

    for question_id in sorted(waiting):
        question = waiting[question_id]
        if question.best_answer is None:
            counts["no_answer"] += 1
        else:
            yield document(question, question.best_answer)


def _tags(value: str) -> set[str]:
    """Tags in either dump format: "<a><b>" or "|a|b|"."""
    return set(re.findall(r"[^<>|]+", value))


def _attr(row: dict[str, str], name: str, path, convert: Callable[[str], T] = str) -> T:
    """A required attribute of a row, converted; a missing or malformed one is an InputError."""
    try:
        return convert(row[name])
    except (KeyError, ValueError):
        problem = f"post {row.get('Id', '?')}: bad or missing {name} ({row.get(name)!r})"
        raise InputError(path, problem) from None


def _rows(path: str | os.PathLike) -> Iterator[dict[str, str]]:
    """The attributes of each `<row>` under `<posts>`, streamed: rows are dropped once read."""
    try:
        file = open(path, "rb")
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    with file:
        events = ET.iterparse(file, events=("start", "end"))
        try:
            _, root = next(events)
            if root.tag != "posts":
                raise InputError(path, f"root element is <{root.tag}>, not <posts>")
            for event, element in events:
                if event == "end" and element.tag == "row":
                    yield element.attrib
                    root.clear()
        except ET.ParseError as e:
            line, column = e.position
            problem = f"malformed XML at line {line}, column {column}: {expat.errors.messages[e.code]}"
            raise InputError(path, problem) from None
