"""What a test needs of the machine (shared benchmark data, user and mount namespaces, Slurm,
graphviz) and does not find: locally the test skips, saying what is missing; with CI=true (as
`.ci/run` sets it) it fails, saying the same, so that CI is never green without what it guards."""

import os

import pytest

IN_CI = os.environ.get("CI") == "true"


def missing(what: str) -> None:
    """Skip the running test for the want of `what`; under CI=true, fail it."""
    if IN_CI:
        pytest.fail(f"{what} (CI=true: CI must run this test)", pytrace=False)
    pytest.skip(what)


def needs(available: bool, what: str) -> pytest.MarkDecorator:
    """A mark for tests that need `available`, else `missing(what)` before they run."""
    return pytest.mark.needs(available, what)
