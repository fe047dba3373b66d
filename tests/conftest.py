import os

import pytest

from tests.needs import missing

# No test reaches a model hub: a model load that needs the network fails here as it would offline.
os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")


def pytest_runtest_setup(item):
    for mark in item.iter_markers("needs"):
        available, what = mark.args
        if not available:
            missing(what)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models train and generate faster, and reproducibly, on one thread."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """The demo, run to completion from an unpacked source archive of this checkout (so a test may edit
    its code without touching the repository) and archived for the paper by `python -m phi1repro.archive`.

    {"source": the unpacked archive, "workdir": the run's directory, "config": its config, "output": the
    run's stdout and stderr}."""
    import shutil
    import subprocess
    import sys
    import tarfile
    from pathlib import Path

    from phi1repro.archive import write_source_archive

    if shutil.which("dot") is None:
        missing("graphviz's dot is not installed (apt-get install graphviz): the demo's archive draws its graphs")
    repo = Path(__file__).resolve().parents[1]
    root = tmp_path_factory.mktemp("demo")
    source, workdir = root / "source", root / "work"
    write_source_archive(repo, repo / "configs/demo.yaml", root / "source.tar.gz")
    with tarfile.open(root / "source.tar.gz") as tar:
        tar.extractall(source, filter="tar")
    config = source / "configs/demo.yaml"
    snakemake = [sys.executable, "-m", "snakemake", "-s", str(source / "Snakefile"), "-d", str(workdir)]
    run = subprocess.run([*snakemake, "--cores", "2", "--configfile", str(config)], capture_output=True, text=True,
                         timeout=3600)
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-5000:]
    archive = subprocess.run([sys.executable, "-m", "phi1repro.archive", "-s", str(source / "Snakefile"),
                              "-d", str(workdir), "--configfile", str(config)], capture_output=True, text=True,
                             timeout=1800)
    assert archive.returncode == 0, archive.stderr[-5000:]
    return {"source": source, "workdir": workdir, "config": config, "output": run.stdout + run.stderr}
