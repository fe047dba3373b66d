"""Does a rule's conda env list, at pyproject.toml's pins, every third-party distribution its code imports?

The code a rule runs is its script and the phi1repro modules the script reaches (codeversion); an
import anywhere in them counts, at module level or inside a function. So does a `package:<module>`
source (benchmarks, embedder models), a module imported by name at run time, named in that code or
in the rule's params.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import yaml

from .codeversion import PACKAGE, CodeIndex

PACKAGE_SOURCE = re.compile(r"package:(\w+)")
CONDA_NAMES = {"pytorch": "torch"}  # conda-forge names that are not the distribution's
# Distributions the code imports that pyproject.toml does not pin: each comes with (is a requirement
# of) the pinned distribution named here, which the env must list.
PULLED_IN_BY = {"huggingface-hub": "transformers"}


def normalise(name: str) -> str:
    """A distribution name as PEP 503 compares it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_modules(path: Path) -> set[str]:
    """Top-level names of the third-party modules the file at `path` imports, anywhere in it."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and PACKAGE_SOURCE.fullmatch(node.value):
            names.add(node.value.removeprefix("package:"))
    return {name.split(".")[0] for name in names} - set(sys.stdlib_module_names) - {PACKAGE}


@cache
def _distributions() -> dict[str, list[str]]:
    return packages_distributions()


def needed_distributions(script: Path, index: CodeIndex, params: object = ()) -> dict[str, str]:
    """Distribution -> the first module that imports it ("script", "params", then phi1repro modules by name)."""
    modules = {"script": imported_modules(script), "params": set(PACKAGE_SOURCE.findall(repr(params))) - {PACKAGE}}
    modules |= {name: imported_modules(path) for name, path in index.reached_modules(script).items()}
    needed = {}
    for importer, names in modules.items():
        for name in sorted(names):
            for dist in _distributions().get(name, [name]):  # an uninstalled module: its own name
                needed.setdefault(normalise(dist), importer)
    return needed


def pyproject_pins(pyproject: Path) -> dict[str, str]:
    """Distribution -> version, from every `name==version` in [project] (optional) dependencies."""
    project = tomllib.loads(pyproject.read_text())["project"]
    specs = [*project["dependencies"], *(s for group in project["optional-dependencies"].values() for s in group)]
    return {normalise(name): version for name, version in (spec.split("==") for spec in specs)}


def env_versions(env_file: Path) -> dict[str, str | None]:
    """Distribution -> version (None if unpinned), from an env file's conda (`=`) and pip (`==`) specs."""
    specs = []
    for dependency in yaml.safe_load(env_file.read_text())["dependencies"]:
        specs += dependency["pip"] if isinstance(dependency, dict) else [dependency]
    versions = {}
    for spec in specs:
        name, version = re.match(r"([\w.-]+)\s*(?:==?\s*([^=\s]+))?", spec).groups()
        versions[normalise(CONDA_NAMES.get(name, name))] = version
    return versions


def env_problems(rule: str, env_file: Path, needed: dict[str, str], pins: dict[str, str]) -> list[str]:
    """One line per distribution the rule needs that its env lacks, and per distribution the env pins
    other than pyproject.toml does."""
    listed = env_versions(env_file)
    where = f"rule {rule}: {env_file}"
    problems = []
    for dist in sorted(needed.keys() | (listed.keys() & pins.keys())):
        wanted = PULLED_IN_BY.get(dist, dist)
        by = f", imported by {needed[dist]}" if dist in needed else ""
        if wanted not in pins:
            problems.append(f"{where}: {dist}{by}, is not pinned in pyproject.toml")
        elif wanted not in listed:
            brings = f" (which brings {dist})" if wanted != dist else ""
            problems.append(f"{where} lacks {wanted}=={pins[wanted]}{brings}{by}")
        elif listed[wanted] != pins[wanted]:
            problems.append(f"{where} pins {wanted} at {listed[wanted] or 'no version'}, "
                            f"pyproject.toml at {pins[wanted]}{by}")
    return problems
