"""The config as the workflow sees it: validated, defaults filled in, keys in one order; and what the
workflow derives from it (phi1repro.derived_config), each cross-field check naming its key."""

import functools
import re
import sys
from pathlib import Path

import pytest
import yaml

from phi1repro.config import ConfigError, validate_config
from phi1repro.derived_config import derive_config
from phi1repro.offline_teacher.workflow import as_served

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "schemas/config.schema.yaml"
SOURCE = "configs/demo.yaml"


def reversed_keys(value):
    if isinstance(value, dict):
        return {key: reversed_keys(value[key]) for key in reversed(list(value))}
    return [reversed_keys(item) for item in value] if isinstance(value, list) else value


def demo_config():
    return yaml.safe_load((REPO / SOURCE).read_text())


def derived(edit=lambda config: None):
    """The demo config, edited, validated and derived."""
    config = demo_config()
    edit(config)
    return derive_config(validate_config(config, SCHEMA, source=SOURCE), SOURCE, functools.partial(as_served, python=sys.executable))


def problem(key, message):
    """The error a config with one problem raises."""
    return f"invalid configuration ({SOURCE}):\n  {key}: {message}"


def test_the_same_settings_in_another_order_give_the_same_params():
    demo = demo_config()
    shuffled = reversed_keys(demo)
    shuffled["train"]["seed"] = 0  # a default, now given: Snakemake would see it as a new param otherwise
    assert repr(validate_config(demo, SCHEMA)) == repr(validate_config(shuffled, SCHEMA))
    assert list(demo) == sorted(demo) and list(demo["corpus"]["sources"][0]) == sorted(demo["corpus"]["sources"][0])


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c["corpus"].update(filtrs={}), r"\n  corpus: .*'filtrs' was unexpected"),
        (lambda c: c["corpus"]["sources"][0].update(shards="four"),
         r"corpus\.sources\[0\]\.shards: 'four' is not of type"),
        (lambda c: c["corpus"].pop("sources"), r"corpus: 'sources' is a required property"),
        (lambda c: c["corpus"].update(dedup={"threshold": 1.5}), r"corpus\.dedup\.threshold: 1\.5 is greater than"),
        (lambda c: c["corpus"]["sources"][0].update(kind="github"),
         r"corpus\.sources\[0\]\.kind: 'github' is not one"),
        (lambda c: c["corpus"]["sources"][0].update(kind="the_stack"),
         r"corpus\.sources\[0\]: key 'shards' is not allowed"),
        (lambda c: c["synth"].update(textbooks={"topics": ["loops", "loops"]}),
         r"synth\.textbooks\.topics: .* non-unique"),
        (lambda c: c.update(decontam={"ast": {"taus": ["high"]}}), r"decontam\.ast\.taus\[0\]: 'high' is not of type"),
    ],
)
def test_a_config_against_the_schema_names_the_bad_key(edit, message):
    config = demo_config()
    edit(config)
    with pytest.raises(ConfigError) as error:
        validate_config(config, SCHEMA, source=SOURCE)
    assert str(error.value).startswith(f"invalid configuration ({SOURCE}):\n")
    assert re.search(message, str(error.value)), error.value


def test_the_demos_derived_values():
    demo = derived()
    assert demo.teacher_is_offline and demo.teacher["base_url"] == "serve" and demo.teacher_resources == {}
    assert demo.teacher_identity.startswith("offline-teacher ") and demo.teacher["cache"].endswith("-offline.sqlite")
    assert demo.corpus_inputs == {"stdlib": []} and demo.corpus_shard_counts == {"stdlib": 4}
    assert len(demo.synth_textbooks["topics"]) > 50 and demo.synth_textbooks["parts"] == 4  # the built-in topics
    assert list(demo.benchmarks) == ["humaneval", "unconventional"] and demo.heldout == ["heldout"]
    assert demo.decontam_benchmarks == ["humaneval", "heldout"] and demo.decontam_prune["benchmarks"] == ["humaneval"]
    assert demo.decontam_taus == ["0.95", "0.9", "0.85", "0.8"]
    assert demo.decontam_match_settings["exercises"]["embedding"]["enabled"]
    assert not demo.decontam_match_settings["code"]["embedding"]["enabled"]
    pruned = demo.models["phi1_small_short.tau-0.8"]
    assert pruned == {**demo.models["phi1_small_short"], "dataset": "codeexercises.tau-0.8"}
    assert len(demo.models) == 12 + 4 and "codeexercises.tau-0.95" in demo.training_datasets
    assert demo.train_recipes["phi1"]["size"]["layers"] == 2 and demo.train_recipes["phi1"]["schedule_steps"] == 25
    assert demo.train_resources == {"gpu": 0, "nodes": 1, "launcher": "torchrun", "mem_mb": 4000, "runtime": 30}
    assert len(demo.evaluate_models) == 11 and demo.evaluate_benchmarks == ["humaneval", "heldout"]
    assert demo.evaluate_prompts["mbpp"] == "docstring" and demo.evaluate_decoding["humaneval"]["stop"][0] == "\nclass"
    assert demo.paper_models["table_2"] == ["phi1_small", "phi1_base", "phi1"]
    assert len(demo.paper_models["figure_2_1"]) == 9
    assert demo.paper_benchmarks["table_1"] == ["humaneval", "heldout"]
    assert demo.paper_items == ["figure_2_1", "table_1", "table_2", "table_3", "figure_3_1"]


def test_a_served_teacher_asks_the_cluster_for_its_gpus():
    serve = {"command": "vllm serve m --port {port}", "gpus": 2, "slurm_partition": "gpu"}
    served = derived(lambda c: c.update(teacher={"base_url": "serve", "serve": serve}))
    assert not served.teacher_is_offline and served.teacher_identity == "vllm serve m --port {port}"
    assert served.teacher_resources["gpu"] == 2 and served.teacher_resources["slurm_partition"] == "gpu"


def test_several_training_nodes_ask_for_gpus_on_each():
    multi = derived(lambda c: c["train"].update(nodes=2, gpus=4))
    assert multi.train_resources["gres"] == "gpu:4" and multi.train_resources["launcher"] == "srun"


def test_a_file_sharded_source_has_a_shard_per_file_and_a_pattern_that_matches_nothing_stands_in(tmp_path):
    for name in ("b.parquet", "a.parquet"):
        (tmp_path / name).touch()
    stack = {"name": "stack", "kind": "the_stack", "paths": [str(tmp_path / "*.parquet")]}
    missing = {"name": "missing", "kind": "the_stack", "paths": [str(tmp_path / "none/*.parquet")]}
    config = derived(lambda c: c["corpus"]["sources"].extend([stack, missing]))
    assert config.corpus_inputs["stack"] == [str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")]
    assert config.corpus_inputs["missing"] == missing["paths"]
    assert config.corpus_shard_counts == {"stdlib": 4, "stack": 2, "missing": 1}


def test_without_unconventional_problems_or_table_3_those_items_are_not_made():
    def edit(config):
        config["benchmarks"] = {"unconventional": None}
        config["paper"]["table_3"] = {"model": None}

    config = derived(edit)
    assert config.paper_models["table_2"] == [] and config.paper_items == ["figure_2_1", "table_1", "figure_3_1"]
    assert "phi1_small_short.tau-0.8" not in config.models


@pytest.mark.parametrize(
    "edit, key, message",
    [
        (lambda c: c["teacher"].update(identity="gpt-4"), "teacher.identity",
         "the offline teacher's identity is its version and teacher.offline's answer settings; leave it out"),
        (lambda c: c["teacher"].update(base_url="serve"), "teacher.serve.command",
         "base_url 'serve' needs the command that starts the server"),
        (lambda c: c["corpus"]["sources"].append(dict(c["corpus"]["sources"][0])), "corpus.sources",
         "source names must be unique"),
        (lambda c: c["synth"]["exercises"].update(count=3, verbs=["get"], modifiers=["first"], nouns=["item"]),
         "synth.exercises.count",
         "3 exercises, but the verbs, modifiers and nouns give only 2 distinct function names: add words or raise "
         "max_modifiers"),
        (lambda c: c["decontam"].update(prune={"benchmarks": ["mbpp"]}), "decontam.prune.benchmarks",
         "mbpp not configured under benchmarks (configured: humaneval, unconventional)"),
        (lambda c: c["paper"]["table_3"].update(model="phi1_base"), "paper.table_3.model",
         "'phi1_base' is not a model finetuned on codeexercises"),
        (lambda c: c["models"]["phi1"].update(size="huge"), "models.phi1.size",
         "'huge' is not one of the sizes (mini, tiny)"),
        (lambda c: c["models"]["phi1"].update(init="phi0"), "models.phi1.init", "'phi0' is not a model"),
        (lambda c: c["evaluate"].update(models=["phi2"]), "evaluate.models", "'phi2' is not a model"),
        (lambda c: c["paper"]["table_1"].update(models=["phi2"]), "paper.table_1", "'phi2' is not a model"),
        (lambda c: c["paper"]["figure_2_1"]["groups"][0]["bars"].update(stack_plus="phi2"), "paper.figure_2_1",
         "'phi2' is not a model"),
    ],
)
def test_a_cross_field_check_names_the_key(edit, key, message):
    with pytest.raises(ConfigError) as error:
        derived(edit)
    assert str(error.value).startswith(problem(key, message)), error.value


def test_a_model_list_names_every_model_when_one_is_not():
    with pytest.raises(ConfigError) as error:
        derived(lambda c: c["paper"]["table_2"].update(models=["phi2"]))
    assert str(error.value).endswith(", phi1_small_short.tau-0.85, phi1_small_short.tau-0.8)")
