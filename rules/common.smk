import functools
import glob
import os
import re
import sys

from phi1repro.config import config_error, validate_config
from phi1repro.teacher.endpoint import OFFLINE, SERVE, identity


CONFIG_SOURCE = ", ".join(map(str, workflow.overwrite_configfiles)) or "config.yaml"
validate_config(config, workflow.source_path("../schemas/config.schema.yaml"), source=CONFIG_SOURCE)

wildcard_constraints:
    source="[a-z0-9_]+",
    shard=r"\d{5}",
    part=r"\d{5}",


# ---- teacher: which one answers is a param of every rule it feeds; how to reach it, the scripts read ----

OFFLINE_TEACHER = config["teacher"]["base_url"] == OFFLINE
if OFFLINE_TEACHER:
    if config["teacher"]["identity"] is not None:
        raise config_error(CONFIG_SOURCE, {"teacher.identity": "the offline teacher's identity is its version and "
                                           "teacher.offline's answer settings; leave it out"})
    from phi1repro.offline_teacher.workflow import as_served

    config["teacher"] = as_served(config["teacher"], sys.executable)
elif config["teacher"]["base_url"] == SERVE and not config["teacher"]["serve"]["command"]:
    raise config_error(CONFIG_SOURCE, {"teacher.serve.command": "base_url 'serve' needs the command that starts the server"})
TEACHER = identity(config["teacher"])


def teacher_resources():
    """What a teacher-fed job asks of the cluster: a served model's GPUs, memory and time, as one task."""
    serve = config["teacher"]["serve"]
    if config["teacher"]["base_url"] != SERVE or OFFLINE_TEACHER:
        return {}
    partition = {"slurm_partition": serve["slurm_partition"]} if serve["slurm_partition"] else {}
    return {"gpu": serve["gpus"], "tasks_per_gpu": 0, "cpus_per_task": serve["cpus"], "mem_mb": serve["mem_mb"],
            "runtime": serve["runtime_min"], **partition}


# ---- corpus: sources and their shards, known at parse time so a dry run lists every job ----

CORPUS_SOURCES = {source["name"]: source for source in config["corpus"]["sources"]}
if len(CORPUS_SOURCES) != len(config["corpus"]["sources"]):
    raise config_error(CONFIG_SOURCE, {"corpus.sources": "source names must be unique"})


def source_inputs(source):
    """The input files of a file-sharded source (one shard each), sorted; none for `local`.

    Patterns that match nothing stand in as the single input, so Snakemake reports them as
    missing input files when a target needs them (and a config for data you do not have
    still parses, lints and dry-runs its other targets).
    """
    if source["kind"] == "local":
        return []
    files = sorted({f for pattern in source["paths"] for f in glob.glob(pattern, recursive=True)})
    return files or source["paths"][:1]


CORPUS_INPUTS = {name: source_inputs(source) for name, source in CORPUS_SOURCES.items()}


def source_shard_count(name):
    source = CORPUS_SOURCES[name]
    return source["shards"] if source["kind"] == "local" else len(CORPUS_INPUTS[name])


CORPUS_SHARDS = [
    (name, f"{i:05d}")
    for name in CORPUS_SOURCES
    for i in range(source_shard_count(name))
]


def corpus_raw_input(wildcards):
    """The shard's input file, so Snakemake reruns the shard when the file changes."""
    files = CORPUS_INPUTS[wildcards.source]
    return {"data": files[int(wildcards.shard)]} if files else {}


def corpus_shard_params(wildcards):
    return {
        "source": CORPUS_SOURCES[wildcards.source],
        "shard": int(wildcards.shard),
        "num_shards": source_shard_count(wildcards.source),
    }


def corpus_shard_files(directory, suffix="parquet"):
    """One file per corpus shard under `directory` ({source}-{shard}.{suffix}), in corpus order."""
    return [f"{directory}/{s}-{i}.{suffix}" for s, i in CORPUS_SHARDS]


# The validation set: the dedup rule holds out a seeded share of the files; the held-out Python files
# (not StackExchange's posts, prose with code in it) give the prompt/target pairs, which decontam checks.
VALIDATION_SPLIT = {key: config["validation"][key] for key in ("share", "seed")}
VALIDATION_CODE_SHARDS = [f"results/corpus/validation/{s}-{i}.parquet" for s, i in CORPUS_SHARDS
                          if CORPUS_SOURCES[s]["kind"] != "stackexchange"]
VALIDATION_PAIRS = ["results/validation/realcode.jsonl"] if VALIDATION_SPLIT["share"] else []



# ---- synth: the part lists, and the prompt vocabularies with the built-in lists filled in ----

from phi1repro.synth import vocabulary
from phi1repro.synth.prompts import NameLedger


def with_vocabularies(section, names):
    """The config section with each empty vocabulary list replaced by the built-in one."""
    return {**section, **{n: section.get(n) or list(getattr(vocabulary, n.upper())) for n in names}}


SYNTH_TEXTBOOKS = with_vocabularies(config["synth"]["textbooks"], ["topics", "audiences", "styles"])
SYNTH_EXERCISES = with_vocabularies(config["synth"]["exercises"], ["verbs", "modifiers", "nouns", "domains"])
_names = NameLedger(*(tuple(SYNTH_EXERCISES[n]) for n in ("verbs", "modifiers", "nouns")),
                    config["synth"]["seed"], SYNTH_EXERCISES["max_modifiers"])
if SYNTH_EXERCISES["count"] > _names.size:
    raise config_error(CONFIG_SOURCE, {"synth.exercises.count": (
        f"{SYNTH_EXERCISES['count']:,} exercises, but the verbs, modifiers and nouns give only {_names.size:,} "
        "distinct function names: add words or raise max_modifiers")})


HELDOUT_COUNT = config["synth"]["heldout"]["count"]
HELDOUT = ["heldout"] if HELDOUT_COUNT else []  # the demo's held-out benchmark (rules/benchmarks.smk)


def synth_generation_params(section):
    """What a part's output depends on: the section without the settings that only change how it runs."""
    return {k: v for k, v in section.items() if k not in ("round_size", "validation")}


def synth_part_files(dataset, suffix="parquet"):
    parts = config["synth"][dataset]["parts"]
    return [f"results/synthetic/{dataset}/{p:05d}.{suffix}" for p in range(parts)]


# ---- benchmarks: those configured (MBPP may be null) ----

BENCHMARKS = {name: spec for name, spec in config["benchmarks"].items() if spec is not None}


def benchmark_source_input(wildcards):
    """A benchmark's source, when it is a local file, as an input: a changed file is prepared again."""
    source = BENCHMARKS[wildcards.benchmark]["source"]
    return [] if source.startswith(("http://", "https://", "package:")) else [source]


# ---- decontam: one match job per file of each training dataset ----

DECONTAM_SOURCES = {
    "exercises": ("code", synth_part_files("exercises")),
    "textbooks": ("markdown", synth_part_files("textbooks")),
    "code": ("code", corpus_shard_files("results/filtered")),
}
DECONTAM = config["decontam"]
PAPER_BENCHMARK_NAMES = [b for b in ("humaneval", "mbpp") if b in BENCHMARKS]
DECONTAM_BENCHMARKS = [f"results/benchmarks/{b}.jsonl" for b in PAPER_BENCHMARK_NAMES + HELDOUT] + VALIDATION_PAIRS
# Exercises are pruned against the paper's benchmarks, never the held-out or validation sets, which are only reported.
DECONTAM_PRUNE = {**DECONTAM["prune"], "benchmarks": DECONTAM["prune"]["benchmarks"] or PAPER_BENCHMARK_NAMES}
DECONTAM_TAUS = [str(tau) for tau in DECONTAM["ast"]["taus"]]
_unknown = [b for b in DECONTAM["prune"]["benchmarks"] if b not in BENCHMARKS]
if _unknown:
    raise config_error(CONFIG_SOURCE, {"decontam.prune.benchmarks": (
        f"{', '.join(_unknown)} not configured under benchmarks (configured: {', '.join(BENCHMARKS)})")})


def decontam_file_stem(path):
    return os.path.basename(path).removesuffix(".parquet")


def decontam_match_files(dataset, suffix="parquet"):
    return [f"results/decontam/matches/{dataset}/{decontam_file_stem(f)}.{suffix}" for f in DECONTAM_SOURCES[dataset][1]]


@functools.cache
def decontam_files(dataset):
    """File stem -> file, for a dataset that is decontaminated."""
    return {decontam_file_stem(f): f for f in DECONTAM_SOURCES[dataset][1]}


def decontam_data_input(wildcards):
    files = decontam_files(wildcards.dataset)
    if wildcards.file not in files:
        raise ValueError(f"{wildcards.dataset} has no file {wildcards.file!r} (it has {', '.join(files)})")
    return files[wildcards.file]


def decontam_match_settings(wildcards):
    """What a match table depends on: the lowest tau alone, and embeddings only where enabled for the dataset."""
    embedding = DECONTAM["embedding"]
    enabled = embedding["enabled"] and wildcards.dataset in embedding["datasets"]
    return {
        "ngram": DECONTAM["ngram"],
        "embedding": {"enabled": enabled, "threshold": embedding["threshold"], "nearest": embedding["nearest"]},
        "ast": {"taus": [min(DECONTAM["ast"]["taus"])]},
        "on_unparseable": DECONTAM["on_unparseable"],
        "mbpp_splits": DECONTAM["mbpp_splits"],
    }


def decontam_embedder(wildcards):
    return config["quality"]["embedder"] if decontam_match_settings(wildcards)["embedding"]["enabled"] else None


# ---- tokens and train: the training datasets as token shards, and the model recipes ----

def _stem(path):
    return os.path.basename(path).removesuffix(".parquet")


@functools.cache  # once per dataset: a dry run at paper scale asks for every one of thousands of shards
def token_sources(dataset):
    """Shard name -> parquet file, for a training dataset."""
    if dataset == "codetextbook":
        return {**{f"filtered-{_stem(f)}": f for f in corpus_shard_files("results/filtered")},
                **{f"textbooks-{_stem(f)}": f for f in synth_part_files("textbooks")}}
    if dataset == "codeexercises":
        return {f"exercises-{_stem(f)}": f for f in synth_part_files("exercises")}
    if dataset == "stack_plus":
        return {f"dedup-{_stem(f)}": f for f in corpus_shard_files("results/corpus/dedup")}
    if dataset.startswith("codeexercises.tau-"):
        return {"exercises": f"results/decontam/exercises.{dataset.removeprefix('codeexercises.')}.parquet"}
    raise ValueError(f"unknown training dataset {dataset!r}")


def token_index_files(dataset):
    return [f"results/tokens/{dataset}/{shard}.json" for shard in token_sources(dataset)]


PAPER = config["paper"]
PRUNED_BASE = PAPER["table_3"]["model"]


def pruned_recipes(name):
    """Table 3's retrainings: the recipe of `name` on the exercises pruned at each tau, as '<name>.tau-<tau>'."""
    if name is None:
        return {}
    if name not in config["models"] or config["models"][name]["dataset"] != "codeexercises":
        raise config_error(CONFIG_SOURCE, {"paper.table_3.model": f"{name!r} is not a model finetuned on codeexercises"})
    return {f"{name}.tau-{tau}": {**config["models"][name], "dataset": f"codeexercises.tau-{tau}"} for tau in DECONTAM_TAUS}


MODELS = {**config["models"], **pruned_recipes(PRUNED_BASE)}
SIZES = config["sizes"]
TRAINING_DATASETS = sorted({recipe["dataset"] for recipe in MODELS.values()})
for _name, _recipe in MODELS.items():
    if _recipe["size"] not in SIZES:
        raise config_error(CONFIG_SOURCE, {f"models.{_name}.size": (
            f"{_recipe['size']!r} is not one of the sizes ({', '.join(SIZES)})")})
    if _recipe["init"] is not None and _recipe["init"] not in MODELS:
        raise config_error(CONFIG_SOURCE, {f"models.{_name}.init": f"{_recipe['init']!r} is not a model"})


def train_recipe(wildcards):
    """Everything a model's weights depend on: its recipe with the size spelt out, and the training settings."""
    recipe = MODELS[wildcards.model]
    train = config["train"]
    return {
        **{k: v for k, v in recipe.items() if k not in ("size", "dataset", "init")},
        "schedule_steps": recipe["schedule_steps"] or recipe["steps"],
        "size": SIZES[recipe["size"]],
        **{k: train[k] for k in ("seq_len", "micro_batch", "precision", "zero_stage", "attention", "compile", "dropout",
                                 "grad_clip", "seed", "checkpoint_every", "log_every", "eval_every", "eval_sequences")},
    }


def train_resources():
    """What a training job asks of the cluster. One node: `gpu` GPUs (the Slurm executor's --gpus). Several:
    `gres` GPUs on each (--gres is per node) and the srun launcher; `launcher=srun` forces it on one node."""
    train = config["train"]
    nodes, gpus = train["nodes"], train["gpus"]
    per_node = {"gres": f"gpu:{gpus}"} if nodes > 1 and gpus else {"gpu": gpus}
    return {**per_node, "nodes": nodes, "launcher": "srun" if nodes > 1 else "torchrun",
            "mem_mb": train["mem_mb"], "runtime": train["runtime_min"]}


def train_inputs(wildcards):
    recipe = MODELS[wildcards.model]
    inputs = {"data": token_index_files(recipe["dataset"]), "tokenizer": "results/tokenizer",
              **({"validation": VALIDATION_PAIRS[0]} if VALIDATION_PAIRS and config["train"]["eval_every"] else {})}
    if recipe["init"] is not None:
        inputs["init"] = f"results/checkpoints/{recipe['init']}"
    return inputs


# ---- evaluate: which models on which benchmarks, and how ----

from phi1repro.evaluate.tasks import BENCHMARKS as TASK_BENCHMARKS, PLUS_BENCHMARKS, default_stop

EVALUATE = config["evaluate"]
EVALUATE_MODELS = list(MODELS) if EVALUATE["models"] is None else EVALUATE["models"]
PLUS_BENCHMARK_NAMES = [b for b in PLUS_BENCHMARKS if b in BENCHMARKS]  # EvalPlus's, judged by outputs
EVALUATE_BENCHMARKS = [b for b in PAPER_BENCHMARK_NAMES + PLUS_BENCHMARK_NAMES + HELDOUT if b in EVALUATE["benchmarks"]]
for _name in EVALUATE_MODELS:
    if _name not in MODELS:
        raise config_error(CONFIG_SOURCE, {"evaluate.models": f"{_name!r} is not a model ({', '.join(MODELS)})"})
MODEL_NAMES = "|".join(map(re.escape, MODELS)) or "(?!)"
EVALUATED_BENCHMARKS = "|".join(TASK_BENCHMARKS)  # every benchmark the evaluate rules can score


def evaluate_prompt(wildcards):
    return EVALUATE["mbpp_prompt"] if wildcards.benchmark in ("mbpp", "mbppplus") else "humaneval"


def evaluate_expected(wildcards):
    """HumanEval+ and MBPP+: the canonical solutions' outputs that samples are judged against."""
    benchmark = wildcards.benchmark
    return {"expected": f"results/evaluate/expected/{benchmark}.json.gz"} if benchmark in PLUS_BENCHMARKS else {}


def evaluate_decoding(wildcards):
    """The generation settings of a benchmark, its stop sequences spelt out."""
    decoding = EVALUATE["decoding"]
    return {**decoding, "stop": decoding["stop"] or default_stop(wildcards.benchmark, evaluate_prompt(wildcards))}


def evaluate_execution(wildcards):
    return EVALUATE["execution"]


# ---- paper: the models each figure and table shows, with what they read of them ----

FIGURE_2_1_GROUPS = PAPER["figure_2_1"]["groups"]
PAPER_MODELS = {
    "figure_2_1": list(dict.fromkeys(m for group in FIGURE_2_1_GROUPS for m in group["bars"].values())),
    "table_1": PAPER["table_1"]["models"],
    "table_2": PAPER["table_2"]["models"] if "unconventional" in BENCHMARKS else [],
}
for _item, _names in PAPER_MODELS.items():
    for _name in _names:
        if _name not in MODELS:
            raise config_error(CONFIG_SOURCE, {f"paper.{_item}": f"{_name!r} is not a model ({', '.join(MODELS)})"})
PAPER_BENCHMARKS = {
    "figure_2_1": ["humaneval"] + HELDOUT,
    "table_1": PAPER_BENCHMARK_NAMES + [b for b in PLUS_BENCHMARK_NAMES if b in EVALUATE_BENCHMARKS] + HELDOUT,
    "table_2": ["unconventional", "humaneval"],
}


def model_chain(name):
    """The checkpoints a model's tokens seen add up over: its own, then those it was initialised from."""
    chain = []
    while name is not None:
        chain.append(f"results/checkpoints/{name}")
        name = MODELS[name]["init"]
    return chain


def paper_models(item):
    """Model -> its checkpoint chain and its result per benchmark, for a figure or table (a script param)."""
    return {name: {"chain": model_chain(name), "results": {b: f"results/{name}/{b}.json" for b in PAPER_BENCHMARKS[item]}}
            for name in PAPER_MODELS[item]}


def paper_inputs(item):
    models = paper_models(item).values()
    return sorted({path for m in models for path in [*m["chain"], *m["results"].values()]})


def table_3_inputs(wildcards):
    if PRUNED_BASE is None:
        raise ValueError("Table 3 needs paper.table_3.model: the model to retrain on each pruned exercise set")
    return {"report": "results/decontam/report.json", "base": f"results/{PRUNED_BASE}/humaneval.problems.jsonl",
            "retrained": [f"results/{PRUNED_BASE}.tau-{tau}/humaneval.problems.jsonl" for tau in DECONTAM_TAUS]}


PAPER_TARGETS = [
    *(["results/paper/figure_2_1.png"] if FIGURE_2_1_GROUPS else []),
    *(["results/paper/table_1.md"] if PAPER_MODELS["table_1"] else []),
    *(["results/paper/table_2.md"] if PAPER_MODELS["table_2"] else []),
    *(["results/paper/table_3.md"] if PRUNED_BASE else []),
    "results/paper/figure_3_1.png",
]


# ---- code: edits to the package count, not only a rule's own script ----

from phi1repro.codeversion import CodeIndex


def track_code(rules):
    """Give every script rule a `code` param, the digest of its script and of the phi1repro modules the
    script reaches: an edit to either reruns the rule, and the digest is recorded with its outputs."""
    code = CodeIndex(workflow.basedir)
    for each in rules:
        if each.script:
            script = each.basedir.join(each.script).get_path_or_uri(secret_free=True)
            each.set_params(code=f"code:{code.digest(script)}")
