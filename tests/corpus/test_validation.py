"""The validation set of real code: the seeded split in the dedup step, and the prompt/target pairs
cut from the held-out files' functions."""

import json
import textwrap
from collections import Counter

import pytest

from phi1repro.corpus import records as rec
from phi1repro.corpus.dedup import DUPLICATES_SCHEMA
from phi1repro.corpus.records import make_record
from phi1repro.corpus.stages import dedup_shard, summarise, validation_pairs
from phi1repro.corpus.validation import Pair, file_pairs, is_held_out, sample_problems, seeded_draw
from phi1repro.decontam.items import problems_of
from phi1repro.io import read_json, read_parquet, write_json, write_parquet
from tests.corpus.test_dedup import write_shard

SYNTHETIC_IDS = [f"{i:032x}" for i in range(20_000)]

MODULE = textwrap.dedent('''\
    """A module of every kind of function the pairs take and skip."""
    import functools


    def simple(a, b):
        """Add two numbers."""
        return a + b


    def multi_line_signature(
        first: int,
        second: int = 2,
    ) -> int:
        """Multiply.

        More words.
        """
        # a comment before the body
        product = first * second
        return product


    @functools.lru_cache(maxsize=None)
    @functools.wraps(
        print,
    )
    def decorated(n):
        """Cached."""
        return n


    def outer(x):
        """Has a nested function."""
        def inner(y):
            """Nested: part of outer's body."""
            return y + 1
        return inner(x)


    async def fetch(url):
        """Asynchronous."""
        await something(url)
        return url


    def undocumented(x):
        return x


    def docstring_only():
        """Nothing else."""


    def same_line():
        """Doc."""; return 1


    class Greeter:
        """A class."""

        def __init__(self, name):
            """Remember the name."""
            self.name = name

        def shout(self):
            """A literal further left than the method."""
            return """
    HELLO
    """.replace("    ", "")

        def plain(self):
            return 1
    ''')


# ----------------------------------------------------------------------------- the split


def test_the_split_is_a_stable_function_of_seed_and_id():
    assert seeded_draw(0, "abc") == seeded_draw(0, "abc") == 0.6858403315755376  # sha256 of "0:abc", on any machine
    held = {i for i in SYNTHETIC_IDS if is_held_out(i, 0.02, 0)}
    assert held == {i for i in SYNTHETIC_IDS if is_held_out(i, 0.02, 0)}
    assert abs(len(held) / len(SYNTHETIC_IDS) - 0.02) < 0.004  # 4 standard deviations
    assert {i for i in SYNTHETIC_IDS if is_held_out(i, 0.01, 0)} < held  # a smaller share holds out a subset
    other_seed = {i for i in SYNTHETIC_IDS if is_held_out(i, 0.02, 1)}
    assert abs(len(other_seed) - len(held)) < 120 and len(other_seed & held) < 0.1 * len(held)
    assert not any(is_held_out(i, 0.0, 0) for i in SYNTHETIC_IDS)


def test_dedup_writes_held_out_records_apart_from_training(tmp_path):
    texts = [f"def f_{i}():\n    return {i}\n" for i in range(400)]
    raw = write_shard(tmp_path / "raw.jsonl.zst", texts)
    duplicate = {"shard": "t-00000", "row": 3, "id": make_record(texts[3], source="t", origin="")["id"], "cluster": 0,
                 "cluster_size": 2, "keep": False, "reason": "near_duplicate"}
    write_parquet(tmp_path / "dups.parquet", [duplicate], DUPLICATES_SCHEMA)
    stats = dedup_shard(str(raw), str(tmp_path / "dups.parquet"), "t-00000", {"share": 0.25, "seed": 0},
                        str(tmp_path / "train.parquet"), str(tmp_path / "validation.parquet"),
                        str(tmp_path / "stats.json"))
    training, validation = read_parquet(tmp_path / "train.parquet"), read_parquet(tmp_path / "validation.parquet")
    assert training.schema == validation.schema == rec.SCHEMA
    train_ids, validation_ids = set(training.column("id").to_pylist()), set(validation.column("id").to_pylist())
    unique_ids = {make_record(t, source="t", origin="")["id"] for i, t in enumerate(texts) if i != 3}
    assert not train_ids & validation_ids and train_ids | validation_ids == unique_ids
    assert validation_ids == {i for i in unique_ids if is_held_out(i, 0.25, 0)} and 70 < len(validation_ids) < 130
    assert stats["records_held_out"] == len(validation_ids) and stats["records_out"] == len(train_ids)
    assert stats["records_in"] == 400 and stats["dropped"] == {"near_duplicate": 1}
    assert stats["bytes_held_out"] == sum(validation.column("n_bytes").to_pylist())

    read_stats = {"source": "t", "shard": 0, "records_in": 401, "records_out": 400, "bytes_in": 1, "dropped": {"empty": 1},
                  "skipped_inputs": []}
    write_json(tmp_path / "read.json", read_stats)
    write_json(tmp_path / "clusters.json", {})
    total = summarise([str(tmp_path / "read.json")], str(tmp_path / "clusters.json"), [str(tmp_path / "stats.json")],
                      str(tmp_path / "corpus.json"))
    assert total["records_held_out"] == total["sources"]["t"]["records_held_out"] == len(validation_ids)
    assert total["records_out"] == len(train_ids)


# ----------------------------------------------------------------------------- pairs


def pairs_of(text):
    counts, skipped = Counter(), Counter()
    return {p.name: p for p in file_pairs(text, counts, skipped)}, counts, skipped


def source_at(text, pair):
    """The lines of `text` from the pair's first line, as many as the pair has."""
    lines = text.splitlines(keepends=True)
    return "".join(lines[pair.line - 1:pair.line - 1 + len((pair.prompt + pair.solution).splitlines())])


def test_documented_functions_become_prompt_and_solution():
    pairs, counts, skipped = pairs_of(MODULE)
    assert list(pairs) == ["simple", "multi_line_signature", "decorated", "outer", "fetch", "__init__"]
    assert counts == {"files": 1, "functions": 8, "methods": 3}
    assert skipped == {"no_docstring": 2, "docstring_only": 1, "body_on_docstring_line": 1, "not_dedentable": 1}
    assert pairs["simple"] == Pair("simple", 'def simple(a, b):\n    """Add two numbers."""\n', "    return a + b\n", 5)
    for name in ("simple", "multi_line_signature", "decorated", "outer", "fetch"):  # top level: exactly as in the file
        assert pairs[name].prompt + pairs[name].solution == source_at(MODULE, pairs[name]), name
    signature = pairs["multi_line_signature"]
    assert signature.prompt.startswith("def multi_line_signature(\n    first: int,\n") and signature.prompt.endswith(
        '\n    More words.\n    """\n')
    assert signature.solution.startswith("    # a comment before the body\n")
    assert pairs["decorated"].prompt.startswith("@functools.lru_cache(maxsize=None)\n@functools.wraps(\n    print,\n)\n")
    assert "def inner(y):" in pairs["outer"].solution and "inner" not in pairs
    assert pairs["fetch"].prompt.startswith("async def fetch(url):")
    init = pairs["__init__"]  # a method, dedented by its class body's indentation
    assert init.prompt == 'def __init__(self, name):\n    """Remember the name."""\n'
    assert init.solution == "    self.name = name\n"
    assert textwrap.indent(init.prompt + init.solution, "    ") == source_at(MODULE, init)


def test_line_endings_and_form_feeds_are_numbered_as_the_parser_numbers_them():
    text = "def a():\n    'A.'\n    return 1\n\x0c\ndef b():\n    'B.'\n    return 2\n"
    pairs, _, _ = pairs_of(text)
    assert pairs["b"].prompt == "def b():\n    'B.'\n" and pairs["b"].solution == "    return 2\n"
    pairs, _, _ = pairs_of(MODULE.replace("\n", "\r\n"))
    assert pairs["simple"].prompt == 'def simple(a, b):\r\n    """Add two numbers."""\r\n'


@pytest.mark.parametrize("text", ['print "Python 2"\n', "def broken(:\n    pass\n", "x = 1\0\n"])
def test_a_file_that_does_not_parse_is_counted(text):
    pairs, counts, skipped = pairs_of(text)
    assert pairs == {} and counts == {"files": 1, "unparseable_files": 1} and not skipped


def candidates(n):
    return [(f"id-{i // 3}", f"file-{i // 3}.py", Pair(f"f{i}", f"def f{i}():\n    'Doc.'\n", "    pass\n", 1 + i % 3))
            for i in range(n)]


def test_max_pairs_keeps_a_seeded_sample_in_corpus_order():
    sample = sample_problems(candidates(60), 10, seed=0)
    assert [p["task_id"] for p in sample] == [f"RealCode/{n}" for n in range(10)]
    positions = [int(p["entry_point"][1:]) for p in sample]
    assert positions == sorted(positions) and sample == sample_problems(candidates(60), 10, seed=0)
    assert positions != [int(p["entry_point"][1:]) for p in sample_problems(candidates(60), 10, seed=1)]
    every = sample_problems(candidates(6), 10, seed=0)
    assert [p["entry_point"] for p in every] == [f"f{i}" for i in range(6)]
    assert every[4] == {"task_id": "RealCode/4", "prompt": "def f4():\n    'Doc.'\n", "canonical_solution": "    pass\n",
                        "entry_point": "f4", "test": "", "source": "file-1.py:2"}


def test_the_rule_writes_humaneval_problems_decontam_reads(tmp_path):
    shards = []
    for s, texts in enumerate([[MODULE, "def broken(:\n"], [MODULE.replace("Add", "Sum")]]):
        shards.append(str(tmp_path / f"t-{s:05d}.parquet"))
        write_parquet(shards[-1], [make_record(t, source="t", origin=f"s{s}-{i}.py") for i, t in enumerate(texts)],
                      rec.SCHEMA)
    out = tmp_path / "realcode.jsonl"
    stats = validation_pairs(shards, 8, 0, str(out), str(tmp_path / "realcode.stats.json"))
    problems = [json.loads(line) for line in out.read_text().splitlines()]
    assert stats == read_json(tmp_path / "realcode.stats.json")
    assert stats["files"] == 3 and stats["unparseable_files"] == 1 and stats["functions"] == 16
    assert stats["pairs_found"] == 12 and stats["pairs"] == len(problems) == 8 and stats["skipped"]["sampled_out"] == 4
    assert [p["task_id"] for p in problems] == [f"RealCode/{n}" for n in range(8)]
    assert all(p["test"] == "" and p["source"].startswith(("s0-0.py:", "s1-0.py:")) for p in problems)
    code = [p.code for p in problems_of(out)]
    assert code == [p["prompt"] + p["canonical_solution"] for p in problems]
    assert {p.benchmark for p in problems_of(out)} == {"realcode"}
