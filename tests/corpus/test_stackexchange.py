"""StackExchange Posts.xml: HTML to text, the question/answer join, errors."""

from __future__ import annotations

import collections
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest

from phi1repro.corpus.stackexchange import html_to_text, license_for, read_stackexchange
from phi1repro.errors import InputError

# --- html_to_text -----------------------------------------------------------------------------


def test_paragraphs_entities_and_whitespace() -> None:
    html = "<p>Fish &amp; chips,\n  &lt;tag&gt; and&nbsp;more.</p>\n\n<p>Second.</p>"
    assert html_to_text(html) == "Fish & chips, <tag> and more.\n\nSecond."


def test_code_block_is_verbatim_and_fenced() -> None:
    html = (
        "<p>Try:</p>\n<pre><code>for i in range(3):\n    if i &lt; 2:\n\n\n"
        "        print(i)  # &quot;x&quot;\n</code></pre>\n<p>Done.</p>"
    )
    assert html_to_text(html) == (
        'Try:\n\n```\nfor i in range(3):\n    if i < 2:\n\n\n        print(i)  # "x"\n```\n\nDone.'
    )


def test_inline_code_links_and_images() -> None:
    html = (
        '<p>Call <code>f(a&lt;b)</code>, see <a href="https://x.org">the <em>docs</em></a>.'
        '<img src="i.png" alt="pic"></p>'
    )
    assert html_to_text(html) == "Call `f(a<b)`, see the docs."


def test_lists_nested_and_with_omitted_end_tags() -> None:
    html = "<p>Steps:</p>\n<ol>\n<li>one</li>\n<li>two\n<ul><li>a<li>b</ul></li>\n</ol>\n<p>After.</p>"
    assert html_to_text(html) == "Steps:\n\n- one\n- two\n  - a\n  - b\n\nAfter."


def test_list_item_with_paragraphs_and_code() -> None:
    html = "<ul><li><p>First:</p><pre><code>  x = 1\n</code></pre></li></ul>"
    assert html_to_text(html) == "- First:\n\n  ```\n    x = 1\n  ```"


def test_blockquote_headings_and_line_breaks() -> None:
    html = "<h2>Title</h2><blockquote><p>quoted<br>text</p><p>more</p></blockquote><hr><p>a<br/>b</p>"
    assert html_to_text(html) == "Title\n\n> quoted\n> text\n>\n> more\n\na\nb"


def test_never_more_than_one_blank_line_outside_code() -> None:
    assert html_to_text("<p>a</p><p></p><p> </p><br><br><br><div><p>b</p></div>") == "a\n\nb"
    assert html_to_text("") == ""


def test_unclosed_elements_are_closed_at_the_end() -> None:
    assert html_to_text("<blockquote><p>open") == "> open"
    assert html_to_text("<pre><code>x = 1\n") == "```\nx = 1\n```"


# --- read_stackexchange -----------------------------------------------------------------------

# Question 1 as the dumps write it: the body's HTML escaped once more, newlines as &#xA;.
QUESTION_1 = (
    '  <row Id="1" PostTypeId="1" AcceptedAnswerId="3" CreationDate="2009-01-01T10:00:00.000" '
    'Score="10" Title="Sort a list by key" Tags="&lt;python&gt;&lt;list&gt;" '
    'Body="&lt;p&gt;How do I sort a list &amp;amp; keep the &lt;code&gt;key&lt;/code&gt;? See '
    '&lt;a href=&quot;https://docs.python.org&quot;&gt;the docs&lt;/a&gt;.&lt;/p&gt;&#xA;&#xA;'
    "&lt;pre&gt;&lt;code&gt;def key(x):&#xA;    if x &amp;lt; 0:&#xA;&#xA;        return -x&#xA;"
    '    return x&#xA;&lt;/code&gt;&lt;/pre&gt;&#xA;" />'
)

DOCUMENT_1 = """Sort a list by key

How do I sort a list & keep the `key`? See the docs.

```
def key(x):
    if x < 0:

        return -x
    return x
```

Answer:
Use `sorted`:

- stable
- returns a new list"""


def row(**attrs: str | int) -> str:
    return "  <row " + " ".join(f"{k}={quoteattr(str(v))}" for k, v in attrs.items()) + " />"


def question(id: int, tags: str, created: str, score: int = 0, **attrs: int) -> str:
    body = f"<p>Question {id}?</p>"
    return row(
        Id=id, PostTypeId=1, CreationDate=created, Score=score, Tags=tags, Title=f"Q{id}", Body=body, **attrs
    )


def answer(id: int, parent: int, score: int, body: str = "") -> str:
    body = body or f"<p>Answer {id}.</p>"
    return row(Id=id, PostTypeId=2, ParentId=parent, CreationDate="2020-01-01", Score=score, Body=body)


ANSWER_3 = "<p>Use <code>sorted</code>:</p><ul><li>stable</li><li>returns a new list</li></ul>"


ROWS = [
    QUESTION_1,
    answer(2, 1, score=50),  # best-scored, not accepted
    answer(3, 1, score=5, body=ANSWER_3),  # accepted
    question(4, "|python|pandas|", "2015-06-01T00:00:00.000", score=3),  # no accepted answer
    answer(5, 4, score=2),
    answer(6, 4, score=7),  # best-scored, lowest Id among the ties
    answer(7, 4, score=7),
    question(8, "<java>", "2015-06-01T00:00:00.000", AcceptedAnswerId=9),  # not a wanted tag
    answer(9, 8, score=1),
    question(10, "<python>", "2020-01-01T00:00:00.000"),  # no answer
    question(11, "<python-3.x>", "2019-01-01T00:00:00.000", AcceptedAnswerId=99),  # accepted one missing
    answer(12, 11, score=-1),
    row(Id=13, PostTypeId=5, Body="<p>Tag wiki.</p>"),
    question(14, "<python>", "2011-04-08T00:00:00.000", score=2, AcceptedAnswerId=15),
    answer(15, 14, score=0),
]


def write_posts(path: Path, rows: list[str]) -> Path:
    path.write_text('<?xml version="1.0" encoding="utf-8"?>\n<posts>\n' + "\n".join(rows) + "\n</posts>\n")
    return path


def read(path: Path, counts: collections.Counter | None = None, **kwargs) -> list[dict]:
    counts = collections.Counter() if counts is None else counts
    return list(read_stackexchange(path, source="stackoverflow", counts=counts, **kwargs))


@pytest.fixture
def posts(tmp_path: Path) -> Path:
    return write_posts(tmp_path / "Posts.xml", ROWS)


def test_join_order_and_counts(posts: Path) -> None:
    counts = collections.Counter()
    records = read(posts, counts, tags=["python", "python-3.x"])

    # Questions with their accepted answer as it arrives, then the others in Id order.
    assert [r["origin"] for r in records] == [
        f"https://stackoverflow.com/questions/{i}" for i in (1, 14, 4, 11)
    ]
    answers = [r["text"].split("Answer:\n")[1] for r in records]
    assert answers[1:] == ["Answer 15.", "Answer 6.", "Answer 12."]
    assert answers[0] == "Use `sorted`:\n\n- stable\n- returns a new list"  # accepted, not best-scored
    assert counts == {"questions_seen": 5, "documents": 4, "no_answer": 1}


def test_document_text_and_fields(posts: Path) -> None:
    first = read(posts, tags=["python"])[0]
    assert first["text"] == DOCUMENT_1
    assert (first["source"], first["stars"], first["license"]) == ("stackoverflow", 10, "CC BY-SA 2.5")
    assert (first["repo"], first["path"]) == (None, None)


def test_licenses_by_creation_date(posts: Path) -> None:
    records = read(posts, tags=["python", "python-3.x"], site="example.stackexchange.com")
    licenses = {r["origin"].rsplit("/", 1)[1]: r["license"] for r in records}
    assert licenses == {"1": "CC BY-SA 2.5", "14": "CC BY-SA 3.0", "4": "CC BY-SA 3.0", "11": "CC BY-SA 4.0"}
    assert records[0]["origin"] == "https://example.stackexchange.com/questions/1"
    assert license_for("2011-04-07T23:59:59.999") == "CC BY-SA 2.5"
    assert license_for("2018-05-01T23:59:59.999") == "CC BY-SA 3.0"
    assert license_for("2018-05-02T00:00:00.000") == "CC BY-SA 4.0"


def test_tags_in_both_formats(posts: Path) -> None:
    assert [r["origin"][-1] for r in read(posts, tags=["pandas"])] == ["4"]
    assert [r["origin"][-1] for r in read(posts, tags=["list"])] == ["1"]
    assert read(posts, tags=["rust"]) == []


def test_truncated_xml(posts: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.xml"
    truncated.write_bytes(posts.read_bytes()[:-40])
    with pytest.raises(InputError, match=r"malformed XML at line \d+, column \d+: ") as e:
        read(truncated, tags=["python"])
    assert e.value.path == str(truncated)


def test_malformed_xml(tmp_path: Path) -> None:
    path = write_posts(tmp_path / "Posts.xml", [QUESTION_1, '  <row Id="2" Body="a < b" />', answer(3, 1, 1)])
    with pytest.raises(InputError, match=r"malformed XML at line 4, column 22: not well-formed"):
        read(path, tags=["python"])


@pytest.mark.parametrize(
    "content, problem",
    [
        ("", "malformed XML at line 1, column 0: no element found"),
        ("<comments><row Id='1'/></comments>", "root element is <comments>"),
        ("<posts><row Id='1' PostTypeId='1' Tags='|python|'/></posts>", "post 1: bad or missing Score"),
    ],
)
def test_broken_files(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "Posts.xml"
    path.write_text(content)
    with pytest.raises(InputError, match=problem):
        read(path, tags=["python"])


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found") as e:
        read(tmp_path / "Posts.xml", tags=["python"])
    assert e.value.path == str(tmp_path / "Posts.xml")
