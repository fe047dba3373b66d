"""What the workflow derives from its validated config, and the checks that span several keys.

rules/common.smk calls `derive_config` once, after `validate_config`, and builds its paths and params
from the result. A check that fails raises ConfigError naming the key (see phi1repro.config).
"""

from __future__ import annotations

import glob
from collections.abc import Callable
from dataclasses import dataclass

from .config import config_error
from .evaluate.tasks import BENCHMARKS as TASK_BENCHMARKS, PLUS_BENCHMARKS, default_stop
from .synth import vocabulary
from .synth.prompts import NameLedger
from .teacher.endpoint import OFFLINE, SERVE, identity

DECONTAM_DATASETS = ("exercises", "textbooks", "code")
TRAIN_SETTINGS = ("seq_len", "micro_batch", "precision", "zero_stage", "attention", "compile", "dropout", "grad_clip",
                  "seed", "checkpoint_every", "log_every", "eval_every", "eval_sequences")  # what weights depend on
PAPER_BENCHMARK_NAMES = ("humaneval", "mbpp")  # the paper's: exercises are pruned against those configured


@dataclass(frozen=True)
class DerivedConfig:
    """The values the rules read beyond the config's own, as lists and dicts (their params' text)."""

    teacher: dict  # the teacher section; the offline teacher as the served one it stands for
    teacher_identity: str  # which teacher answers: a param of every teacher-fed rule
    teacher_is_offline: bool
    teacher_resources: dict  # what a teacher-fed job asks of the cluster
    corpus_sources: dict  # name -> source, in priority order
    corpus_inputs: dict  # name -> its input files, one a shard (none for a local source)
    corpus_shard_counts: dict  # name -> its number of shards
    corpus_shards: list  # (name, shard) of every shard, in corpus order
    synth_textbooks: dict  # the sections, each empty vocabulary filled in with the built-in one
    synth_exercises: dict
    heldout: list  # ["heldout"] when the demo's held-out benchmark is made, else []
    benchmarks: dict  # name -> spec, those configured (MBPP may be null)
    decontam_benchmarks: list  # what the training data is matched against: the paper's and the held-out
    decontam_prune: dict  # the prune section, its benchmarks filled in
    decontam_taus: list  # as text, as the pruned sets' names spell them
    decontam_match_settings: dict  # dataset -> what its match tables depend on
    models: dict  # name -> recipe, with Table 3's retrainings ('<model>.tau-<tau>')
    training_datasets: list
    train_recipes: dict  # model -> everything its weights depend on
    train_resources: dict  # what a training job asks of the cluster
    evaluate_models: list
    evaluate_benchmarks: list
    evaluate_prompts: dict  # benchmark -> its prompt variant
    evaluate_decoding: dict  # benchmark -> its generation settings, the stop sequences spelt out
    paper_models: dict  # figure or table -> the models it shows
    paper_benchmarks: dict  # figure or table -> the benchmarks it reads of them
    paper_items: list  # the figures and tables made


def derive_config(config: dict, source: str, offline_as_served: Callable[[dict], dict]) -> DerivedConfig:
    """The derived values of `config` (validated, defaults filled in) from `source`, the config file's
    name; raise ConfigError naming the key of the first cross-field problem. Corpus paths are globbed
    in the working directory. `offline_as_served` turns the teacher section of base_url 'offline' into
    the served teacher it stands for: the workflow passes the offline teacher's, which no module of the
    pipeline imports."""
    teacher, teacher_is_offline = served_teacher(config["teacher"], source, offline_as_served)
    corpus_sources = {s["name"]: s for s in config["corpus"]["sources"]}
    if len(corpus_sources) != len(config["corpus"]["sources"]):
        raise config_error(source, {"corpus.sources": "source names must be unique"})
    corpus_inputs = {name: source_inputs(s) for name, s in corpus_sources.items()}
    corpus_shard_counts = {name: s["shards"] if s["kind"] == "local" else len(corpus_inputs[name])
                           for name, s in corpus_sources.items()}

    synth_textbooks = with_vocabularies(config["synth"]["textbooks"], ["topics", "audiences", "styles"])
    synth_exercises = with_vocabularies(config["synth"]["exercises"], ["verbs", "modifiers", "nouns", "domains"])
    check_name_space(synth_exercises, config["synth"]["seed"], source)
    heldout = ["heldout"] if config["synth"]["heldout"]["count"] else []

    benchmarks = {name: spec for name, spec in config["benchmarks"].items() if spec is not None}
    paper_benchmark_names = [b for b in PAPER_BENCHMARK_NAMES if b in benchmarks]
    prune = config["decontam"]["prune"]
    unknown = [b for b in prune["benchmarks"] if b not in benchmarks]
    if unknown:
        raise config_error(source, {"decontam.prune.benchmarks": (
            f"{', '.join(unknown)} not configured under benchmarks (configured: {', '.join(benchmarks)})")})
    decontam_taus = [str(tau) for tau in config["decontam"]["ast"]["taus"]]

    models = {**config["models"], **pruned_recipes(config, decontam_taus, source)}
    check_recipes(models, config["sizes"], source)
    evaluate = config["evaluate"]
    evaluate_models = list(models) if evaluate["models"] is None else evaluate["models"]
    check_models(models, {"evaluate.models": evaluate_models}, source)
    plus_benchmarks = [b for b in PLUS_BENCHMARKS if b in benchmarks]  # EvalPlus's, judged by outputs
    evaluate_benchmarks = [b for b in paper_benchmark_names + plus_benchmarks + heldout if b in evaluate["benchmarks"]]
    evaluate_prompts = {b: evaluate["mbpp_prompt"] if b in ("mbpp", "mbppplus") else "humaneval"
                        for b in TASK_BENCHMARKS}
    decoding = evaluate["decoding"]
    evaluate_decoding = {b: {**decoding, "stop": decoding["stop"] or default_stop(b, prompt)}
                         for b, prompt in evaluate_prompts.items()}

    paper = config["paper"]
    paper_models = {
        "figure_2_1": list(dict.fromkeys(m for group in paper["figure_2_1"]["groups"] for m in group["bars"].values())),
        "table_1": paper["table_1"]["models"],
        "table_2": paper["table_2"]["models"] if "unconventional" in benchmarks else [],
    }
    check_models(models, {f"paper.{item}": names for item, names in paper_models.items()}, source)

    return DerivedConfig(
        teacher=teacher,
        teacher_identity=identity(teacher),
        teacher_is_offline=teacher_is_offline,
        teacher_resources=served_teacher_resources(teacher, teacher_is_offline),
        corpus_sources=corpus_sources,
        corpus_inputs=corpus_inputs,
        corpus_shard_counts=corpus_shard_counts,
        corpus_shards=[(name, f"{i:05d}") for name, count in corpus_shard_counts.items() for i in range(count)],
        synth_textbooks=synth_textbooks,
        synth_exercises=synth_exercises,
        heldout=heldout,
        benchmarks=benchmarks,
        decontam_benchmarks=paper_benchmark_names + heldout,
        # exercises are pruned against the paper's benchmarks, never the held-out or validation sets, only reported
        decontam_prune={**prune, "benchmarks": prune["benchmarks"] or paper_benchmark_names},
        decontam_taus=decontam_taus,
        decontam_match_settings={dataset: match_settings(config["decontam"], dataset) for dataset in DECONTAM_DATASETS},
        models=models,
        training_datasets=sorted({recipe["dataset"] for recipe in models.values()}),
        train_recipes={name: train_recipe(recipe, config) for name, recipe in models.items()},
        train_resources=train_resources(config["train"]),
        evaluate_models=evaluate_models,
        evaluate_benchmarks=evaluate_benchmarks,
        evaluate_prompts=evaluate_prompts,
        evaluate_decoding=evaluate_decoding,
        paper_models=paper_models,
        paper_benchmarks={
            "figure_2_1": ["humaneval"] + heldout,
            "table_1": paper_benchmark_names + [b for b in plus_benchmarks if b in evaluate_benchmarks] + heldout,
            "table_2": ["unconventional", "humaneval"],
        },
        paper_items=paper_items(paper, paper_models),
    )


def served_teacher(teacher: dict, source: str, offline_as_served: Callable[[dict], dict]) -> tuple[dict, bool]:
    """The teacher section as the rules use it (base_url 'offline' as the served teacher it stands for),
    and whether it is the offline teacher."""
    if teacher["base_url"] == OFFLINE:
        if teacher["identity"] is not None:
            raise config_error(source, {"teacher.identity": "the offline teacher's identity is its version and "
                                        "teacher.offline's answer settings; leave it out"})
        return offline_as_served(teacher), True
    if teacher["base_url"] == SERVE and not teacher["serve"]["command"]:
        raise config_error(source, {"teacher.serve.command": (
            "base_url 'serve' needs the command that starts the server")})
    return teacher, False


def served_teacher_resources(teacher: dict, teacher_is_offline: bool) -> dict:
    """What a teacher-fed job asks of the cluster: a served model's GPUs, memory and time, as one task."""
    serve = teacher["serve"]
    if teacher["base_url"] != SERVE or teacher_is_offline:
        return {}
    partition = {"slurm_partition": serve["slurm_partition"]} if serve["slurm_partition"] else {}
    return {"gpu": serve["gpus"], "tasks_per_gpu": 0, "cpus_per_task": serve["cpus"], "mem_mb": serve["mem_mb"],
            "runtime": serve["runtime_min"], **partition}


def source_inputs(source: dict) -> list[str]:
    """The input files of a file-sharded source (one shard each), sorted; none for `local`.

    Patterns that match nothing stand in as the single input, so Snakemake reports them as
    missing input files when a target needs them (and a config for data you do not have
    still parses, lints and dry-runs its other targets).
    """
    if source["kind"] == "local":
        return []
    files = sorted({f for pattern in source["paths"] for f in glob.glob(pattern, recursive=True)})
    return files or source["paths"][:1]


def with_vocabularies(section: dict, names: list[str]) -> dict:
    """The synth section with each empty vocabulary list replaced by the built-in one."""
    return {**section, **{n: section.get(n) or list(getattr(vocabulary, n.upper())) for n in names}}


def check_name_space(exercises: dict, seed: int, source: str) -> None:
    """Every exercise needs a function name of its own."""
    words = (tuple(exercises[n]) for n in ("verbs", "modifiers", "nouns"))
    names = NameLedger(*words, seed, exercises["max_modifiers"])
    if exercises["count"] > names.size:
        raise config_error(source, {"synth.exercises.count": (
            f"{exercises['count']:,} exercises, but the verbs, modifiers and nouns give only {names.size:,} "
            "distinct function names: add words or raise max_modifiers")})


def match_settings(decontam: dict, dataset: str) -> dict:
    """What a match table depends on: the lowest tau alone, and embeddings only where enabled for the dataset."""
    embedding = decontam["embedding"]
    enabled = embedding["enabled"] and dataset in embedding["datasets"]
    return {
        "ngram": decontam["ngram"],
        "embedding": {"enabled": enabled, "threshold": embedding["threshold"], "nearest": embedding["nearest"]},
        "ast": {"taus": [min(decontam["ast"]["taus"])]},
        "on_unparseable": decontam["on_unparseable"],
        "mbpp_splits": decontam["mbpp_splits"],
    }


def pruned_recipes(config: dict, taus: list[str], source: str) -> dict:
    """Table 3's retrainings: the recipe of paper.table_3.model on the exercises pruned at each tau."""
    name = config["paper"]["table_3"]["model"]
    if name is None:
        return {}
    if name not in config["models"] or config["models"][name]["dataset"] != "codeexercises":
        raise config_error(source, {"paper.table_3.model": f"{name!r} is not a model finetuned on codeexercises"})
    return {f"{name}.tau-{tau}": {**config["models"][name], "dataset": f"codeexercises.tau-{tau}"} for tau in taus}


def check_recipes(models: dict, sizes: dict, source: str) -> None:
    """Each recipe names a configured size, and a model to start from, if any."""
    for name, recipe in models.items():
        if recipe["size"] not in sizes:
            raise config_error(source, {f"models.{name}.size": (
                f"{recipe['size']!r} is not one of the sizes ({', '.join(sizes)})")})
        if recipe["init"] is not None and recipe["init"] not in models:
            raise config_error(source, {f"models.{name}.init": f"{recipe['init']!r} is not a model"})


def train_recipe(recipe: dict, config: dict) -> dict:
    """Everything a model's weights depend on: its recipe with the size spelt out, and the training settings."""
    return {
        **{k: v for k, v in recipe.items() if k not in ("size", "dataset", "init")},
        "schedule_steps": recipe["schedule_steps"] or recipe["steps"],
        "size": config["sizes"][recipe["size"]],
        **{k: config["train"][k] for k in TRAIN_SETTINGS},
    }


def train_resources(train: dict) -> dict:
    """What a training job asks of the cluster. One node: `gpu` GPUs (the Slurm executor's --gpus). Several:
    `gres` GPUs on each (--gres is per node) and the srun launcher; `launcher=srun` forces it on one node."""
    nodes, gpus = train["nodes"], train["gpus"]
    per_node = {"gres": f"gpu:{gpus}"} if nodes > 1 and gpus else {"gpu": gpus}
    return {**per_node, "nodes": nodes, "launcher": "srun" if nodes > 1 else "torchrun",
            "mem_mb": train["mem_mb"], "runtime": train["runtime_min"]}


def check_models(models: dict, named: dict[str, list[str]], source: str) -> None:
    """The models each key (key -> model names) names are models."""
    for key, names in named.items():
        for name in names:
            if name not in models:
                raise config_error(source, {key: f"{name!r} is not a model ({', '.join(models)})"})


def paper_items(paper: dict, paper_models: dict) -> list[str]:
    """The figures and tables made: Figure 3.1, and each of the others that shows something."""
    shows = {"figure_2_1": paper["figure_2_1"]["groups"], "table_1": paper_models["table_1"],
             "table_2": paper_models["table_2"], "table_3": paper["table_3"]["model"], "figure_3_1": True}
    return [item for item, shown in shows.items() if shown]
