import functools
import os
import re
import sys

from phi1repro.codeversion import CodeIndex
from phi1repro.config import validate_config
from phi1repro.derived_config import derive_config
from phi1repro.evaluate.tasks import BENCHMARKS as TASK_BENCHMARKS, PLUS_BENCHMARKS
from phi1repro.offline_teacher.workflow import as_served

CONFIG_SOURCE = ", ".join(map(str, workflow.overwrite_configfiles)) or "config.yaml"
validate_config(config, workflow.source_path("../schemas/config.schema.yaml"), source=CONFIG_SOURCE)
DERIVED = derive_config(config, CONFIG_SOURCE, functools.partial(as_served, python=sys.executable))
config["teacher"] = DERIVED.teacher  # the scripts reach the offline teacher as the served one it stands for

wildcard_constraints:
    source="[a-z0-9_]+", shard=r"\d{5}", part=r"\d{5}",


# ---- corpus: each shard's input and params; the shards are known at parse time, so a dry run lists every job ----

def corpus_raw_input(wildcards):
    """The shard's input file, so Snakemake reruns the shard when the file changes."""
    files = DERIVED.corpus_inputs[wildcards.source]
    return {"data": files[int(wildcards.shard)]} if files else {}


def corpus_shard_params(wildcards):
    source = wildcards.source
    return {"source": DERIVED.corpus_sources[source], "shard": int(wildcards.shard),
            "num_shards": DERIVED.corpus_shard_counts[source]}


def corpus_shard_files(directory, suffix="parquet"):
    """One file per corpus shard under `directory` ({source}-{shard}.{suffix}), in corpus order."""
    return [f"{directory}/{s}-{i}.{suffix}" for s, i in DERIVED.corpus_shards]


# The validation set: the dedup rule holds out a seeded share of the files; the held-out Python files
# (not StackExchange's posts, prose with code in it) give the prompt/target pairs, which decontam checks.
VALIDATION_SPLIT = {key: config["validation"][key] for key in ("share", "seed")}
VALIDATION_CODE_SHARDS = [f"results/corpus/validation/{s}-{i}.parquet" for s, i in DERIVED.corpus_shards
                          if DERIVED.corpus_sources[s]["kind"] != "stackexchange"]
VALIDATION_PAIRS = ["results/validation/realcode.jsonl"] if VALIDATION_SPLIT["share"] else []


# ---- synth and benchmarks: the part lists, and benchmark files as inputs ----

def synth_generation_params(section):
    """What a part's output depends on: the section without the settings that only change how it runs."""
    return {k: v for k, v in section.items() if k not in ("round_size", "validation")}


def synth_part_files(dataset, suffix="parquet"):
    parts = config["synth"][dataset]["parts"]
    return [f"results/synthetic/{dataset}/{p:05d}.{suffix}" for p in range(parts)]


def benchmark_source_input(wildcards):
    """A benchmark's source, when it is a local file, as an input: a changed file is prepared again."""
    source = DERIVED.benchmarks[wildcards.benchmark]["source"]
    return [] if source.startswith(("http://", "https://", "package:")) else [source]


# ---- decontam: one match job per file of each training dataset ----

def file_stem(path):
    return os.path.basename(path).removesuffix(".parquet")


DECONTAM_SOURCES = {
    "exercises": ("code", synth_part_files("exercises")),
    "textbooks": ("markdown", synth_part_files("textbooks")),
    "code": ("code", corpus_shard_files("results/filtered")),
}
DECONTAM_FILES = {dataset: {file_stem(f): f for f in files} for dataset, (_, files) in DECONTAM_SOURCES.items()}
DECONTAM_BENCHMARKS = [f"results/benchmarks/{b}.jsonl" for b in DERIVED.decontam_benchmarks] + VALIDATION_PAIRS


def decontam_match_files(dataset, suffix="parquet"):
    return [f"results/decontam/matches/{dataset}/{stem}.{suffix}" for stem in DECONTAM_FILES[dataset]]


def decontam_data_input(wildcards):
    files = DECONTAM_FILES[wildcards.dataset]
    if wildcards.file not in files:
        raise ValueError(f"{wildcards.dataset} has no file {wildcards.file!r} (it has {', '.join(files)})")
    return files[wildcards.file]


def decontam_match_settings(wildcards):
    return DERIVED.decontam_match_settings[wildcards.dataset]


def decontam_embedder(wildcards):
    return config["quality"]["embedder"] if decontam_match_settings(wildcards)["embedding"]["enabled"] else None


# ---- tokens and train: the training datasets as token shards, and the model recipes ----

@functools.cache  # once per dataset: a dry run at paper scale asks for every one of thousands of shards
def token_sources(dataset):
    """Shard name -> parquet file, for a training dataset."""
    if dataset == "codetextbook":
        return {**{f"filtered-{file_stem(f)}": f for f in corpus_shard_files("results/filtered")},
                **{f"textbooks-{file_stem(f)}": f for f in synth_part_files("textbooks")}}
    if dataset == "codeexercises":
        return {f"exercises-{file_stem(f)}": f for f in synth_part_files("exercises")}
    if dataset == "stack_plus":
        return {f"dedup-{file_stem(f)}": f for f in corpus_shard_files("results/corpus/dedup")}
    if dataset.startswith("codeexercises.tau-"):
        return {"exercises": f"results/decontam/exercises.{dataset.removeprefix('codeexercises.')}.parquet"}
    raise ValueError(f"unknown training dataset {dataset!r}")


def token_index_files(dataset):
    return [f"results/tokens/{dataset}/{shard}.json" for shard in token_sources(dataset)]


def train_recipe(wildcards):
    return DERIVED.train_recipes[wildcards.model]


def train_resources():
    return DERIVED.train_resources


def train_inputs(wildcards):
    recipe = DERIVED.models[wildcards.model]
    inputs = {"data": token_index_files(recipe["dataset"]), "tokenizer": "results/tokenizer",
              **({"validation": VALIDATION_PAIRS[0]} if VALIDATION_PAIRS and config["train"]["eval_every"] else {})}
    if recipe["init"] is not None:
        inputs["init"] = f"results/checkpoints/{recipe['init']}"
    return inputs


# ---- evaluate: which models on which benchmarks, and how ----

MODEL_NAMES = "|".join(map(re.escape, DERIVED.models)) or "(?!)"
EVALUATED_BENCHMARKS = "|".join(TASK_BENCHMARKS)  # every benchmark the evaluate rules can score


def evaluate_prompt(wildcards):
    return DERIVED.evaluate_prompts[wildcards.benchmark]


def evaluate_expected(wildcards):
    """HumanEval+ and MBPP+: the canonical solutions' outputs that samples are judged against."""
    benchmark = wildcards.benchmark
    return {"expected": f"results/evaluate/expected/{benchmark}.json.gz"} if benchmark in PLUS_BENCHMARKS else {}


def evaluate_decoding(wildcards):
    return DERIVED.evaluate_decoding[wildcards.benchmark]


def evaluate_execution(wildcards):
    return config["evaluate"]["execution"]


# ---- paper: the models each figure and table shows, with what they read of them ----

def model_chain(name):
    """The checkpoints a model's tokens seen add up over: its own, then those it was initialised from."""
    return [] if name is None else [f"results/checkpoints/{name}", *model_chain(DERIVED.models[name]["init"])]


def paper_models(item):
    """Model -> its checkpoint chain and its result per benchmark, for a figure or table (a script param)."""
    benchmarks = DERIVED.paper_benchmarks[item]
    return {name: {"chain": model_chain(name), "results": {b: f"results/{name}/{b}.json" for b in benchmarks}}
            for name in DERIVED.paper_models[item]}


def paper_inputs(item):
    models = paper_models(item).values()
    return sorted({path for m in models for path in [*m["chain"], *m["results"].values()]})


def table_3_inputs(wildcards):
    base = config["paper"]["table_3"]["model"]
    if base is None:
        raise ValueError("Table 3 needs paper.table_3.model: the model to retrain on each pruned exercise set")
    return {"report": "results/decontam/report.json", "base": f"results/{base}/humaneval.problems.jsonl",
            "retrained": [f"results/{base}.tau-{tau}/humaneval.problems.jsonl" for tau in DERIVED.decontam_taus]}


PAPER_TARGETS = [f"results/paper/{item}.{'png' if item.startswith('figure') else 'md'}" for item in DERIVED.paper_items]


def track_code(rules):
    """Give every script rule a `code` param, the digest of its script and of the phi1repro modules the
    script reaches: an edit to either reruns the rule, and the digest is recorded with its outputs."""
    code = CodeIndex(workflow.basedir)
    for each in rules:
        if each.script:
            script = each.basedir.join(each.script).get_path_or_uri(secret_free=True)
            each.set_params(code=f"code:{code.digest(script)}")
