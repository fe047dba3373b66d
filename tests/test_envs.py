"""Every script rule's conda env lists what its code imports, at pyproject.toml's pins (checked statically:
conda channels are not reachable offline)."""

import re
from importlib.metadata import requires
from pathlib import Path

import pytest
from snakemake.api import SnakemakeApi
from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings, StorageSettings

from phi1repro.codeversion import CodeIndex
from phi1repro.envcheck import PULLED_IN_BY, env_problems, needed_distributions, normalise, pyproject_pins

REPO = Path(__file__).resolve().parents[1]
PINS = pyproject_pins(REPO / "pyproject.toml")


@pytest.fixture(scope="module")
def script_rules(tmp_path_factory):
    """(name, script, env file, params) of every rule with a script, from the demo's workflow as Snakemake parses it."""
    with SnakemakeApi(OutputSettings()) as api:
        workflow = api.workflow(snakefile=REPO / "Snakefile", workdir=tmp_path_factory.mktemp("workdir"),
                                config_settings=ConfigSettings(configfiles=[REPO / "configs/demo.yaml"]),
                                resource_settings=ResourceSettings(), storage_settings=StorageSettings())
        rules = [rule for rule in workflow._workflow.rules if rule.script]  # no public accessor for the rules
        return [(rule.name, resolve(rule, rule.script), resolve(rule, rule.conda_env) if rule.conda_env else None,
                 list(rule.params)) for rule in rules]


def resolve(rule, path: str) -> Path:
    return Path(rule.basedir.join(path).get_path_or_uri(secret_free=True)).resolve()


def test_every_script_rule_is_found_and_names_an_env(script_rules):
    scripts_in_rules = sum(len(re.findall(r"^\s+script:", smk.read_text(), re.M)) for smk in REPO.glob("rules/*.smk"))
    assert len(script_rules) == scripts_in_rules > 30
    assert [name for name, _, env, _ in script_rules if env is None or not env.is_file()] == []


def test_every_env_lists_what_its_rules_import_at_the_pinned_versions(script_rules):
    index = CodeIndex(REPO)
    problems = [problem for name, script, env, params in script_rules
                for problem in env_problems(name, env, needed_distributions(script, index, params), PINS)]
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("dist, parent", PULLED_IN_BY.items())
def test_an_unpinned_distribution_is_a_requirement_of_the_one_that_brings_it(dist, parent):
    assert dist in {normalise(re.match(r"[\w.-]+", requirement)[0]) for requirement in requires(parent)}


@pytest.mark.parametrize("edit, problem", [
    (lambda text: text.replace("  - jsonschema=4.26.0\n", ""),
     "rule annotate_labels: {env} lacks jsonschema==4.26.0, imported by phi1repro.config"),
    (lambda text: text.replace("openai=3.51.0", "openai=3.50.0"),
     "rule annotate_labels: {env} pins openai at 3.50.0, pyproject.toml at 3.51.0, "
     "imported by phi1repro.teacher.client"),
], ids=["missing", "mispinned"])
def test_the_check_names_a_missing_or_mispinned_distribution(script_rules, tmp_path, edit, problem):
    name, script, env, params = next(rule for rule in script_rules if rule[0] == "annotate_labels")
    broken = tmp_path / env.name
    broken.write_text(edit(env.read_text()))
    needed = needed_distributions(script, CodeIndex(REPO), params)
    assert env_problems(name, env, needed, PINS) == []
    assert env_problems(name, broken, needed, PINS) == [problem.format(env=broken)]
