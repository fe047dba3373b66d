"""The config as the workflow sees it: validated, defaults filled in, keys in one order."""

from pathlib import Path

import yaml

from phi1repro.config import validate_config

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "schemas/config.schema.yaml"


def reversed_keys(value):
    if isinstance(value, dict):
        return {key: reversed_keys(value[key]) for key in reversed(list(value))}
    return [reversed_keys(item) for item in value] if isinstance(value, list) else value


def test_the_same_settings_in_another_order_give_the_same_params():
    demo = yaml.safe_load((REPO / "configs/demo.yaml").read_text())
    shuffled = reversed_keys(demo)
    shuffled["train"]["seed"] = 0  # a default, now given: Snakemake would see it as a new param otherwise
    assert repr(validate_config(demo, SCHEMA)) == repr(validate_config(shuffled, SCHEMA))
    assert list(demo) == sorted(demo) and list(demo["corpus"]["sources"][0]) == sorted(demo["corpus"]["sources"][0])
