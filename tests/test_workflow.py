"""The corpus stage through Snakemake: tiny configs in a temporary directory, the demo's dry run, lint,
and the errors a user sees for bad config and bad input."""

import contextlib
import inspect
import json
import os
import re
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from tests.needs import needs
from phi1repro.archive import read_manifest
from tests.corpus.test_readers import stack_row, write_stack
from tests.corpus.test_stackexchange import answer, question, write_posts

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
FUNCTION = inspect.getsource(textwrap.dedent)
MBPP = REPO.parent / "shared/data/mbpp/mbpp.jsonl"
needs_mbpp = needs(MBPP.exists(), f"{MBPP} is not on this machine")
EVALPLUS = REPO.parent / "shared/data/evalplus"


def snakemake(workdir, *args, config=None, snakefile=REPO / "Snakefile"):
    cmd = [str(SNAKEMAKE), "-s", str(snakefile), "-d", str(workdir), "--cores", "2", *args]
    if config is not None:  # last: --configfile takes every value after it
        path = Path(workdir) / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        cmd += ["--configfile", str(path)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=1800)


def job_counts(output):
    """The 'Job stats' table of a dry run as {rule: count}."""
    table = output.split("Job stats:")[1].split("total")[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


@pytest.fixture
def corpus(tmp_path):
    """A local tree, two The Stack parquet files and a Posts.xml, with planted duplicates."""
    code = tmp_path / "code"
    (code / "pkg").mkdir(parents=True)
    (code / "dedent.py").write_text(FUNCTION)
    (code / "pkg" / "dedent_copy.py").write_text(FUNCTION.replace("margin", "indent_margin", 2))
    (code / "pkg" / "latin1.py").write_bytes("name = 'caf\xe9'\n".encode("latin-1"))
    (code / "pkg" / "empty.py").write_text("")
    stack = tmp_path / "stack"
    stack.mkdir()
    write_stack(stack / "data-00000.parquet", [stack_row(1, content=FUNCTION), stack_row(2, content=inspect.getsource(textwrap.indent))])
    write_stack(stack / "data-00001.parquet", [stack_row(3, content=inspect.getsource(json.dumps))])
    so = tmp_path / "so"
    so.mkdir()
    write_posts(so / "Posts.xml", [
        question(1, "<python>", "2015-01-01T00:00:00.000", AcceptedAnswerId=2),
        answer(2, 1, score=3, body="<pre><code>def f(x):\n    return x * 2\n</code></pre>"),
    ])
    return {
        "corpus": {
            "sources": [
                {"name": "local", "kind": "local", "paths": [str(code)], "shards": 2},
                {"name": "stack", "kind": "the_stack", "paths": [str(stack / "*.parquet")], "extensions": ["py"]},
                {"name": "so", "kind": "stackexchange", "paths": [str(so / "Posts*.xml")]},
            ]
        }
    }


CORPUS_AND_LABELS = ("results/corpus/stats.json", "results/quality/labels.parquet")


def test_corpus_stage_runs_end_to_end(tmp_path, corpus):
    run = snakemake(tmp_path, *CORPUS_AND_LABELS, config=corpus)
    assert run.returncode == 0, run.stderr
    stats = json.loads((tmp_path / "results/corpus/stats.json").read_text())
    assert stats["sources"]["local"]["shards"] == 2 and stats["sources"]["stack"]["shards"] == 2
    # 4 local files (one not UTF-8, one empty), 3 Stack rows, 1 StackOverflow question.
    assert stats["records_in"] == 8
    assert stats["dropped"] == {"empty": 1, "exact_duplicate": 1, "near_duplicate": 1, "non_utf8": 1}
    assert stats["records_out"] == 4 and stats["records_held_out"] == 0  # validation.share 0.02 draws none of the 4
    texts = [
        t
        for f in sorted((tmp_path / "results/corpus/dedup").glob("*-*.parquet"))
        for t in pq.read_table(f).column("text").to_pylist()
    ]
    assert texts.count(FUNCTION) == 1 and len(texts) == 4
    assert any("```\ndef f(x):\n    return x * 2\n```" in t for t in texts)
    assert all((tmp_path / "logs/corpus/read" / s).exists() for s in ("local/00000.log", "stack/00001.log"))
    labels = pq.read_table(tmp_path / "results/quality/labels.parquet").to_pylist()
    assert sorted(r["source"] for r in labels) == ["local", "so", "stack", "stack"]
    assert all(r["score"] is not None for r in labels)
    assert len(list((tmp_path / ".cache").glob("teacher-offline.sqlite"))) == 1

    again = snakemake(tmp_path, "-n", *CORPUS_AND_LABELS, config=corpus)
    assert "Nothing to be done" in again.stdout + again.stderr


def test_changing_dedup_threshold_reruns_dedup_not_reading(tmp_path, corpus):
    assert snakemake(tmp_path, *CORPUS_AND_LABELS, config=corpus).returncode == 0
    corpus["corpus"]["dedup"] = {"threshold": 0.8}
    plan = job_counts(snakemake(tmp_path, "-n", *CORPUS_AND_LABELS, config=corpus).stdout)
    assert "corpus_read" not in plan
    assert plan["corpus_minhash"] == 5 and plan["corpus_clusters"] == 1 and plan["corpus_dedup"] == 5
    assert plan["annotate_labels"] == 1


def test_demo_dry_run_lists_every_job(tmp_path):
    run = snakemake(tmp_path, "-n", "--configfile", str(REPO / "configs/demo.yaml"))
    assert run.returncode == 0, run.stderr
    assert job_counts(run.stdout) == {
        "all": 1, "corpus_read": 4, "corpus_minhash": 4, "corpus_clusters": 1, "corpus_dedup": 4, "corpus_stats": 1,
        "corpus_validation": 1, "annotate_sample": 1, "annotate_labels": 1, "quality_embed": 4, "quality_embed_sample": 1,
        "quality_classifier": 1, "quality_score": 4, "quality_threshold": 1, "quality_filter": 4,
        "quality_filter_stats": 1, "synth_textbooks": 4, "synth_exercises": 4, "synth_stats": 1, "synth_diversity": 1,
        "benchmarks_prepare": 2, "benchmarks_heldout": 1, "decontam_match": 12, "decontam_prune": 4, "decontam_report": 1,
        "tokenizer": 1, "tokens_pack": 20, "tokens_stats": 1, "train": 16, "evaluate_selfcheck": 3,
        "evaluate_generate": 29, "evaluate_score": 29, "paper_grade": 3, "paper_figure_2_1": 1, "paper_table_1": 1,
        "paper_table_2": 1, "paper_table_3": 1, "paper_figure_3_1": 1,
    }


def test_demo_runs_offline(demo_run):
    workdir = demo_run["workdir"]
    demo = yaml.safe_load(demo_run["config"].read_text())
    stats = json.loads((workdir / "results/quality/labels.stats.json").read_text())
    assert stats["records"] == stats["labelled"] == 200 and stats["cost_usd"] > 0
    metrics = json.loads((workdir / "results/quality/classifier_metrics.json").read_text())
    assert metrics["n_train"] + metrics["n_test"] == 200
    assert all((workdir / "results/quality/plots" / p).exists() for p in ("roc.png", "retained_tokens.png"))
    kept = json.loads((workdir / "results/filtered/stats.json").read_text())
    assert 0 < kept["tokens_out"] < kept["tokens_in"] and kept["files_in"] == 499  # 539 less 40 held out for validation

    synthetic = json.loads((workdir / "results/synthetic/stats.json").read_text())
    assert synthetic["textbooks"]["tokens"] >= 160_000 and synthetic["textbooks"]["failures"] == {}
    assert synthetic["exercises"]["requested"] == 2000 and 0 < synthetic["exercises"]["rejected_total"] < 200
    diversity = json.loads((workdir / "results/synthetic/diversity.json").read_text())
    assert diversity["exercises"]["names"]["unique_share"] == 1.0 and diversity["exercises"]["imports"]["modules"]
    assert diversity["textbooks"]["coverage"]["topic"]["vocabulary_used"] > 0.9
    assert (workdir / "results/synthetic/plots/exercises/imports.png").exists()

    report = json.loads((workdir / "results/decontam/report.json").read_text())
    heldout = json.loads((workdir / "results/benchmarks/heldout.stats.json").read_text())
    assert heldout["requested"] == demo["synth"]["heldout"]["count"] and heldout["problems"] >= 150
    realcode = json.loads((workdir / "results/validation/realcode.stats.json").read_text())
    assert realcode["files"] == 40 and realcode["pairs"] >= 200 and report["realcode"]["problems"] == realcode["pairs"]
    assert report["problems_compared"] == {"humaneval": 164, "heldout": heldout["problems"], "realcode": realcode["pairs"]}
    assert report["datasets"]["exercises"]["items"] == synthetic["exercises"]["valid"]
    assert report["datasets"]["code"]["items"] == kept["files_out"] and not report["datasets"]["code"]["embedding"]
    for tau in ("0.95", "0.9", "0.85", "0.8"):
        pruned = pq.read_metadata(workdir / f"results/decontam/exercises.tau-{tau}.parquet").num_rows
        assert pruned == report["pruning"]["by_tau"][tau]["kept"]
        assert len(report["humaneval_subsets"][tau]["similar"]) + len(report["humaneval_subsets"][tau]["non_similar"]) == 164
    assert (workdir / "results/decontam/plots/similarity.png").exists()

    tokens = json.loads((workdir / "results/tokens/stats.json").read_text())["datasets"]
    assert tokens["codeexercises"]["documents"] == synthetic["exercises"]["valid"]
    assert tokens["codetextbook"]["shards"] == 8 and tokens["codetextbook"]["tokens"] > 0
    for model in ("phi1_base", "phi1"):
        training = json.loads((workdir / f"results/checkpoints/{model}/training.json").read_text())
        assert training["steps"] == demo["models"][model]["steps"]
        assert (workdir / f"results/checkpoints/{model}/model.safetensors").exists()
    result = json.loads((workdir / "results/phi1/humaneval.json").read_text())
    assert result["n_problems"] == 164 and result["n_samples_per_problem"] == 1 and 0 <= result["pass@1"] <= 1
    assert sum(result["outcomes"].values()) == 164 and result["provenance"]["self_check"]["references_passed"] == 164
    generation = result["provenance"]["generation"]
    assert generation["checkpoint_sha256"] and generation["decoding"]["temperature"] == 0.0
    assert len((workdir / "results/phi1/humaneval.problems.jsonl").read_text().splitlines()) == 164
    learned = json.loads((workdir / "results/phi1/heldout.json").read_text())
    assert learned["n_problems"] == heldout["problems"]
    # every model measured on real code no teacher wrote, every eval_every steps and at the end
    for model, recipe in demo["models"].items():
        training = json.loads((workdir / f"results/checkpoints/{model}/training.json").read_text())
        steps = [e["step"] for e in training["evaluations"]]
        assert steps == sorted({*range(demo["train"]["eval_every"], recipe["steps"] + 1, demo["train"]["eval_every"]),
                                recipe["steps"]}), model
        assert all(e["realcode_nll"] > 0 and e["own_loss"] > 0 for e in training["evaluations"]), model
        assert training["validation"]["pairs"] == realcode["pairs"] and training["held_out_windows"] == 32
    likelihood = json.loads((workdir / "results/phi1/humaneval.json").read_text())["solution_likelihood"]
    assert likelihood["problems"] == 164 and likelihood["nll_per_token"] > 0 and likelihood["bits_per_byte"] > 0


def test_a_dry_run_plans_exactly_what_a_change_touches(demo_run):
    """After the complete demo: each change plans exactly its own jobs and those downstream."""
    source, workdir = demo_run["source"], demo_run["workdir"]
    demo = yaml.safe_load(demo_run["config"].read_text())

    def plan(config=demo):
        run = snakemake(workdir, "-n", snakefile=source / "Snakefile", config=config)
        assert run.returncode == 0, run.stdout + run.stderr
        return {} if "Nothing to be done" in run.stdout else job_counts(run.stdout)

    assert plan() == {}
    # the figures and tables that show scores
    scores = {"paper_figure_2_1": 1, "paper_table_1": 1, "paper_table_2": 1, "paper_table_3": 1}
    # the demo's tokenizer learns from CodeTextbook, so a new filter retrains the tokenizer and every model
    retrain = {"tokenizer": 1, "tokens_pack": 20, "tokens_stats": 1, "train": 16, "evaluate_generate": 29,
               "evaluate_score": 29, "paper_grade": 3, **scores}
    changed = {**demo, "filter": {"target_token_share": 0.3}}
    assert plan(changed) == {"quality_threshold": 1, "quality_filter": 4, "quality_filter_stats": 1,
                             "decontam_match": 4, "decontam_report": 1, **retrain, "all": 1}
    # a new finetuning learning rate retrains phi1 and evaluates it again (on HumanEval, the held-out
    # exercises and Table 2's problems); Table 3 retrains another model (phi1_small_short) at demo scale
    changed = {**demo, "models": {**demo["models"], "phi1": {**demo["models"]["phi1"], "lr": 5.0e-4}}}
    assert plan(changed) == {"train": 1, "evaluate_generate": 3, "evaluate_score": 3, "paper_grade": 1,
                             "paper_figure_2_1": 1, "paper_table_1": 1, "paper_table_2": 1, "all": 1}
    # more training exercises move the held-out names on: the held-out set is asked for again
    changed = {**demo, "synth": {**demo["synth"], "exercises": {**demo["synth"]["exercises"], "count": 2100}}}
    assert plan(changed)["benchmarks_heldout"] == 1
    # a new textbook teacher writes the textbooks again, and not the annotation
    changed = {**demo, "synth": {**demo["synth"], "textbooks": {**demo["synth"]["textbooks"], "model": "gpt-4"}}}
    assert plan(changed) == {"synth_textbooks": 4, "synth_stats": 1, "synth_diversity": 1, "decontam_match": 4,
                             "decontam_report": 1, "paper_figure_3_1": 1, **retrain, "all": 1}
    # longer timeouts re-execute the samples and the self-checks; nothing is generated or graded again
    changed = {**demo, "evaluate": {**demo["evaluate"], "execution": {"workers": 2, "timeout_s": 10.0}}}
    assert plan(changed) == {"evaluate_selfcheck": 3, "evaluate_score": 29, **scores, "all": 1}
    # a new tau prunes once more and retrains Table 3's model on that set; nothing is matched again
    changed = {**demo, "decontam": {**demo["decontam"], "ast": {"taus": [0.95, 0.9, 0.85, 0.8, 0.99]}}}
    assert plan(changed) == {"decontam_prune": 1, "decontam_report": 1, "tokens_pack": 1, "tokens_stats": 1,
                             "train": 1, "evaluate_generate": 1, "evaluate_score": 1, "paper_table_3": 1, "all": 1}

    # an edited script: its rule and what is downstream
    with edited(source / "scripts/quality_threshold.py"):
        assert plan() == {"quality_threshold": 1, "quality_filter": 4, "quality_filter_stats": 1, "decontam_match": 4,
                          "decontam_report": 1, **retrain, "all": 1}
        table = subprocess.run([sys.executable, "-m", "phi1repro.plan", "-s", str(source / "Snakefile"),
                                "-d", str(workdir), "--configfile", str(demo_run["config"])],
                               capture_output=True, text=True, timeout=600)
        assert table.returncode == 0, table.stderr
        assert re.search(r"^quality_threshold\s+1\s+code changed$", table.stdout, re.M), table.stdout
        assert re.search(r"^quality_filter\s+4\s+input from quality_threshold$", table.stdout, re.M), table.stdout
        assert re.search(r"^total\s+115$", table.stdout, re.M), table.stdout
    # an edited library module: the rules whose scripts reach it, and what is downstream
    with edited(source / "phi1repro/evaluate/generate.py"):
        assert plan() == {"evaluate_generate": 29, "evaluate_score": 29, "paper_grade": 3, **scores, "all": 1}
    with edited(source / "phi1repro/paper/figures.py"):
        assert plan() == {"paper_figure_2_1": 1, "paper_figure_3_1": 1, "all": 1}
    assert plan() == {}


TEACHER_FED = ("annotate_labels", "synth_textbooks", "synth_exercises", "benchmarks_heldout", "paper_grade")


def test_which_teacher_answers_is_part_of_every_teacher_fed_rules_identity(demo_run):
    """After the complete demo: another teacher plans exactly the teacher-fed rules and what is downstream
    (what --forcerun of those rules plans); how the client connects plans nothing; the offline teacher's
    files count only where it is the configured teacher."""
    source, workdir = demo_run["source"], demo_run["workdir"]
    demo = yaml.safe_load(demo_run["config"].read_text())

    def plan(config, *args):
        run = snakemake(workdir, "-n", *args, snakefile=source / "Snakefile", config=config)
        assert run.returncode == 0, run.stdout + run.stderr
        return {} if "Nothing to be done" in run.stdout else job_counts(run.stdout)

    def teacher(**settings):
        return {**demo, "teacher": {**demo["teacher"], **settings}}

    fed = plan(demo, "--forcerun", *TEACHER_FED)
    assert {rule: fed[rule] for rule in TEACHER_FED} == {"annotate_labels": 1, "synth_textbooks": 4,
                                                         "synth_exercises": 4, "benchmarks_heldout": 1,
                                                         "paper_grade": 3}
    served = teacher(base_url="http://127.0.0.1:8000/v1")
    assert plan(served) == fed
    assert plan(teacher(offline={**demo["teacher"]["offline"], "answer_style": "plain"})) == fed
    assert plan(teacher(offline={**demo["teacher"]["offline"], "seed": 1})) == fed
    assert plan({**demo, "annotate": {**demo["annotate"], "model": "gpt-4o"}}) == plan(demo, "--forcerun",
                                                                                        "annotate_labels")
    # how the client connects, and the offline teacher's latency and faults
    assert plan(teacher(max_concurrency=3, rpm=100, timeout_s=7, max_retries=2, batch_poll_s=5)) == {}
    assert plan(teacher(offline={**demo["teacher"]["offline"], "latency_ms": 5, "rate_429": 0.1})) == {}

    data_file = sorted((source / "phi1repro/offline_teacher").rglob("*.json"))[:1]
    for path in [source / "phi1repro/offline_teacher/rubric.py", *data_file]:
        served_plan = plan(served)
        with edited(path):
            assert plan(demo) == fed, path
            assert plan(served) == served_plan, path


def test_the_papers_figures_and_tables_at_demo_scale(demo_run):
    workdir = demo_run["workdir"]
    demo = yaml.safe_load(demo_run["config"].read_text())
    paper = workdir / "results/paper"
    for name in ("figure_2_1", "figure_3_1"):
        assert (paper / f"{name}.png").read_bytes()[:4] == b"\x89PNG" and (paper / f"{name}.pdf").read_bytes()[:4] == b"%PDF"
    figure = json.loads((paper / "figure_2_1.json").read_text())
    assert figure["scale"].startswith("demo scale")
    groups = demo["paper"]["figure_2_1"]["groups"]
    assert [g["label"] for g in figure["groups"]] == [g["label"] for g in groups]
    for drawn, configured in zip(figure["groups"], groups):
        assert {d: bar["model"] for d, bar in drawn["bars"].items()} == configured["bars"]
        assert all(0 <= bar["ours"] <= 100 and bar["tokens_seen"] > 0 for bar in drawn["bars"].values())
    assert figure["groups"][2]["bars"]["codeexercises"]["paper"] == 50.6
    for group in figure["groups"]:  # equal compute: the bars of a group saw the same tokens
        assert len({bar["tokens_seen"] for bar in group["bars"].values()}) == 1, group
    assert [g["label"] for g in figure["heldout_groups"]] == [g["label"] for g in groups]
    assert all(bar["ours"] > 0 and bar["ci95"][0] <= bar["ours"] <= bar["ci95"][1]
               for g in figure["likelihood_groups"] for bar in g["bars"].values())
    assert all(bar["paper"] is None for g in figure["heldout_groups"] for bar in g["bars"].values())

    def rows(table):
        return json.loads((paper / f"{table}.json").read_text())["rows"]

    table_1 = rows("table_1")
    assert [r[0] for r in table_1] == demo["paper"]["table_1"]["models"] + ["phi-1 (paper)", "phi-1-base (paper)",
                                                                          "phi-1-small (paper)"]
    assert all(len(r) == 8 for r in table_1) and "| Model | Size | Training tokens |" in (paper / "table_1.md").read_text()
    assert "Held-out exercises pass@1 (%)" in (paper / "table_1.md").read_text()
    assert r"\begin{tabular}{llllllll}" in (paper / "table_1.tex").read_text()
    ours = table_1[:len(demo["paper"]["table_1"]["models"])]
    assert all(re.fullmatch(r"\d+\.\d\d \[\d+\.\d\d, \d+\.\d\d\]", row[5]) for row in ours)  # HumanEval solution NLL

    table_2 = json.loads((paper / "table_2.json").read_text())
    assert [r[0] for r in table_2["rows"]] == demo["paper"]["table_2"]["models"]
    assert all(g["samples"] == g["graded"] == 50 and g["failures"] == {} for g in table_2["grades"].values())
    assert "offline teacher" in table_2["headers"][2]

    report = json.loads((workdir / "results/decontam/report.json").read_text())
    table_3 = rows("table_3")
    assert len(table_3) == 4 * 3
    for tau, subset, count, *_ in table_3:
        subsets = report["humaneval_subsets"][tau]
        expected = {"similar": subsets["similar"], "non-similar": subsets["non_similar"]}.get(subset)
        assert int(count) == (len(expected) if expected is not None else 164), (tau, subset)
    base = demo["paper"]["table_3"]["model"]
    for tau in ("0.95", "0.9", "0.85", "0.8"):
        retrained = json.loads((workdir / f"results/checkpoints/{base}.tau-{tau}/training.json").read_text())
        assert retrained["data"][0]["index"] == f"results/tokens/codeexercises.tau-{tau}/exercises.json"
        assert retrained["init_from"] == f"results/checkpoints/{demo['models'][base]['init']}"


@contextlib.contextmanager
def edited(path):
    """`path` with a line appended, put back afterwards with its old modification time."""
    text, stat = path.read_text(), path.stat()
    path.write_text(text + "# an edit\n")
    try:
        yield
    finally:
        path.write_text(text)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_the_paper_archive_is_complete(demo_run):
    workdir = demo_run["workdir"]
    paper = workdir / "results/paper"
    for config in ("demo", "paper"):
        for graph in ("rulegraph", "dag"):
            for fmt in ("dot", "svg", "pdf"):
                assert (paper / "graphs" / config / f"{graph}.{fmt}").stat().st_size > 0, (config, graph, fmt)
    assert "corpus_read" in (paper / "graphs/paper/rulegraph.dot").read_text()
    assert "data/mbpp/mbpp.jsonl" in (paper / "graphs/paper/PLACEHOLDERS").read_text()
    report = (paper / "report.html").read_text()
    for registered in ("roc.png", "stats.json", "training.json", "humaneval.json", "similarity.png", "imports.png",
                       "figure_2_1.png", "figure_3_1.png", "table_1.md", "table_2.md", "table_3.md",
                       "unconventional.graded.json"):
        assert registered in report, registered

    manifest = read_manifest(paper / "manifest.tsv")
    # every file under results/ but the archive's own, DeepSpeed's run directories and Snakemake's markers
    archive = [paper / name for name in ("graphs", "report.html", "manifest.tsv", "source.tar.gz")]
    outputs = {p.relative_to(workdir).as_posix() for p in (workdir / "results").rglob("*")
               if p.is_file() and p.name != ".snakemake_timestamp"
               and not any(p.is_relative_to(a) for a in archive) and not p.is_relative_to(workdir / "results/runs")}
    assert "results/paper/figure_2_1.pdf" in outputs and "results/paper/table_3.tex" in outputs
    assert {row["path"] for row in manifest} == outputs
    by_path = {row["path"]: row for row in manifest}
    model = by_path["results/checkpoints/phi1/model.safetensors"]
    assert model["rule"] == "train" and model["deterministic"] == "True" and len(model["code"]) == 64
    assert by_path["results/corpus/stats.json"]["deterministic"] == "False"
    assert all(row["sha256"] and row["params_sha256"] for row in manifest)

    with tarfile.open(paper / "source.tar.gz") as tar:
        names = set(tar.getnames())
        source_info = json.loads(tar.extractfile("SOURCE.json").read())
        requirements = tar.extractfile("requirements.txt").read().decode()
    assert {"Snakefile", "rules/common.smk", "scripts/train.py", "phi1repro/train/trainer.py", "config.run.yaml",
            "requirements.txt", "SOURCE.json", "slurm/config.yaml"} <= names
    assert re.search(r"^snakemake==\d", requirements, re.M) and re.search(r"^torch==\d", requirements, re.M)
    assert source_info["config"] == "demo.yaml" and source_info["snakemake"]


@needs(EVALPLUS.exists(), f"{EVALPLUS} is not on this machine")
def test_humaneval_plus_scores_a_demo_model(demo_run):
    """HumanEval+ configured beside the finished demo (after the tests that read its plans and archive):
    its expected outputs, self-check and phi1's score."""
    workdir = demo_run["workdir"]
    config = yaml.safe_load(demo_run["config"].read_text())
    config["benchmarks"] = {**config.get("benchmarks", {}), "humanevalplus": {
        "source": str(EVALPLUS / "HumanEvalPlus.jsonl.gz"),
        "sha256": "272720b90ac375502c8ed23cd791c2a93dfb22a911641a494da74a426c09f101"}}
    run = snakemake(workdir, "results/phi1/humanevalplus.json", snakefile=demo_run["source"] / "Snakefile",
                    config=config)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    expected = json.loads((workdir / "results/evaluate/expected/humanevalplus.stats.json").read_text())
    assert expected["problems"] == 164 and expected["plus"]["inputs"] > 100_000
    check = json.loads((workdir / "results/evaluate/selfcheck/humanevalplus.json").read_text())
    assert check["references_passed"] == check["known_wrong_failed"] == 164
    result = json.loads((workdir / "results/phi1/humanevalplus.json").read_text())
    assert result["n_problems"] == 164 and result["pass@1"] == result["plus"]["pass@1"] <= result["base"]["pass@1"]
    assert result["provenance"]["expected_outputs"]["path"] == "results/evaluate/expected/humanevalplus.json.gz"


def test_lint_is_clean():
    run = subprocess.run([str(SNAKEMAKE), "--lint"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "Congratulations" in run.stdout + run.stderr, run.stdout + run.stderr


def test_bad_config_stops_at_parse_time_naming_the_key(tmp_path, corpus):
    """The message of a cross-field check reaches the user (tests/test_config.py has one test for each check)."""
    corpus["decontam"] = {"prune": {"benchmarks": ["mbpp"]}}
    run = snakemake(tmp_path, "-n", config=corpus)
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert re.search(r"decontam\.prune\.benchmarks: mbpp not configured under benchmarks "
                     r"\(configured: humaneval, unconventional\)", output), output
    assert f"invalid configuration ({tmp_path / 'config.yaml'})" in output


def test_corrupt_input_names_the_file_and_keeps_finished_work(tmp_path, corpus):
    bad = Path(corpus["corpus"]["sources"][1]["paths"][0]).parent / "data-00001.parquet"
    bad.write_bytes(b"PAR1 this is not a parquet file")
    run = snakemake(tmp_path, "--keep-going", *CORPUS_AND_LABELS, config=corpus)
    assert run.returncode != 0
    assert f"{bad}: not a readable parquet file" in run.stdout + run.stderr
    assert not (tmp_path / "results/corpus/raw/stack/00001.jsonl.zst").exists()
    assert (tmp_path / "results/corpus/raw/stack/00000.jsonl.zst").exists()
    assert (tmp_path / "results/corpus/minhash/local-00001.parquet").exists()

    corpus["corpus"]["on_error"] = "skip"
    run = snakemake(tmp_path, *CORPUS_AND_LABELS, config=corpus)
    assert run.returncode == 0, run.stderr
    stats = json.loads((tmp_path / "results/corpus/stats.json").read_text())
    assert [s["path"] for s in stats["skipped_inputs"]] == [str(bad)]


def test_missing_dataset_is_reported_as_missing_input(tmp_path, corpus):
    corpus["corpus"]["sources"][1]["paths"] = [str(tmp_path / "nowhere/*.parquet")]
    run = snakemake(tmp_path, "-n", config=corpus)
    assert run.returncode != 0
    output = run.stdout + run.stderr
    assert "Missing input files" in output and str(tmp_path / "nowhere/*.parquet") in output


def test_minhash_benchmark_runs(tmp_path):
    """Not a timing test: the benchmark script still runs and writes its report."""
    out = tmp_path / "minhash.json"
    run = subprocess.run(
        [sys.executable, str(REPO / "benchmarks/minhash.py"), "--files", "40", "--pairs", "20", "--repeats", "1",
         "--out", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(out.read_text())
    assert report["signatures"]["ours"]["files_per_s"] > 0
    assert {"ours", "datasketch"} <= set(report["lsh"])


def test_synth_benchmark_runs(tmp_path):
    """Not a timing test: the benchmark script still runs and writes its report."""
    out = tmp_path / "synth.json"
    run = subprocess.run(
        [sys.executable, str(REPO / "benchmarks/synth.py"), "--exercises", "60", "--textbook-tokens", "5000",
         "--latency-ms", "10", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(out.read_text())
    assert report["generation"]["answered"] == 60 and report["validation_clean"]["valid"] == 60


def test_decontam_benchmark_runs(tmp_path):
    """Not a timing test: the benchmark script still runs, writes its report and finds its planted copies."""
    out = tmp_path / "decontam.json"
    run = subprocess.run(
        [sys.executable, str(REPO / "benchmarks/decontam.py"), "--exercises", "600", "--planted", "10",
         "--brute-sample", "20", "--embed-sample", "20", "--workers", "2", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(out.read_text())
    assert report["planted_found_recall"] == 1.0 and report["problems"] == {"humaneval": 164}
    assert report["ast"]["matches"] == report["ast"]["rapidfuzz_matches"]


def test_train_benchmark_runs(tmp_path):
    """Not a timing test: the benchmark script still runs the trainer and reads its log."""
    out = tmp_path / "train.json"
    run = subprocess.run([sys.executable, str(REPO / "benchmarks/train.py"), "--steps", "8", "--out", str(out)],
                         cwd=REPO, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr
    results = json.loads(out.read_text())["results"]
    assert results["tiny fp32 sdpa (cpu)"]["tokens_per_s"] > 0 and results["tiny fp32 sdpa compiled (cpu)"]["tokens_per_s"] > 0


@needs_mbpp
def test_evaluate_benchmark_runs(tmp_path):
    """Not a timing test: both executors score the references, with the same verdicts."""
    out = tmp_path / "evaluate.json"
    run = subprocess.run([sys.executable, str(REPO / "benchmarks/evaluate.py"), "--mbpp", str(MBPP), "--repeats", "1",
                          "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    results = json.loads(out.read_text())["results"]
    assert results["humaneval"]["ours"]["passed"] == 164 and results["mbpp"]["ours"]["passed"] == 500
    assert results["humaneval"]["identical_verdicts"], results["humaneval"]["disagreements"]
