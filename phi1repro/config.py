"""Config validation against the JSON schema, filling in the schema's defaults.

Snakemake's own `validate` prints the whole schema on an error; this one prints one line per
problem, naming the key by its path (e.g. `corpus.sources[0].shards`).
"""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml


class ConfigError(ValueError):
    pass


def _set_defaults(validator_class):
    validate_properties = validator_class.VALIDATORS["properties"]

    def properties_with_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for key, subschema in properties.items():
                if "default" in subschema:
                    instance.setdefault(key, subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": properties_with_defaults})


_Validator = _set_defaults(jsonschema.Draft202012Validator)


def _key_path(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _message(error: jsonschema.ValidationError) -> str:
    if error.validator == "not" and "required" in error.validator_value:
        return f"key {error.validator_value['required'][0]!r} is not allowed here"
    return error.message


def validate_config(config: dict, schema_path: str | Path, source: str = "config") -> dict:
    """Validate `config` in place, filling in defaults and sorting its keys; raise ConfigError naming
    every bad key."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    errors = sorted(_Validator(schema).iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise config_error(source, {_key_path(e.absolute_path): _message(e) for e in errors})
    sort_keys(config)
    return config


def sort_keys(value) -> None:
    """Sort every mapping's keys, in place, at any depth. Snakemake compares a job's params as text, so
    the same settings in another order (a reordered file, a default filled in) would rerun the job."""
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda item: str(item[0]))
        value.clear()
        value.update(items)
        children = list(value.values())
    elif isinstance(value, list):
        children = value
    else:
        return
    for child in children:
        sort_keys(child)


def config_error(source: str, problems: dict[str, str]) -> ConfigError:
    """The error for `problems` (key path -> what is wrong) in the config from `source`, one line each."""
    lines = "\n".join(f"  {key}: {problem}" for key, problem in problems.items())
    return ConfigError(f"invalid configuration ({source}):\n{lines}")
