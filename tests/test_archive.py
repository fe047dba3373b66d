"""The paper archive's parts: the manifest from Snakemake's own records, its comparison, the source
archive (from git, and again from an unpacked archive), and the refusal to archive an unfinished run."""

import hashlib
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from phi1repro.archive import (SOURCE_LIST, ArchiveError, build_archive, manifest_differences, manifest_rows,
                               read_manifest, volatile, write_manifest, write_source_archive)
from phi1repro.archive import main as archive_main
from phi1repro.errors import InputError
from phi1repro.evaluate.tasks import BENCHMARKS as TASK_BENCHMARKS

REPO = Path(__file__).resolve().parents[1]
LONG = "/".join(["x" * 60] * 4)  # a record name longer than a file name may be: Snakemake splits it into directories
SNAKEFILE = f"""
rule all:
    input: "results/{LONG}.txt", "results/model", "results/run.stats.json"

rule long:
    output: "results/{LONG}.txt"
    params: code="code:{'a' * 64}", n=1
    shell: "echo long > {{output}}"

rule model:
    output: directory("results/model"), "results/run.stats.json"
    shell: "mkdir -p {{output[0]}} && echo w > {{output[0]}}/weights && echo c > {{output[0]}}/config && date +%N > {{output[1]}}"
"""


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("run")
    (workdir / "Snakefile").write_text(SNAKEFILE)
    done = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", "-d", str(workdir), "-s",
                           str(workdir / "Snakefile")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return workdir


def test_the_manifest_has_every_output_file_with_its_rule_params_and_code(finished, tmp_path):
    rows = {row["path"]: row for row in manifest_rows(finished)}
    assert set(rows) == {f"results/{LONG}.txt", "results/model/weights", "results/model/config", "results/run.stats.json"}
    long = rows[f"results/{LONG}.txt"]
    assert long["rule"] == "long" and long["code"] == "a" * 64 and long["deterministic"]
    assert long["sha256"] == hashlib.sha256(b"long\n").hexdigest() and long["size"] == 5
    assert rows["results/model/weights"]["rule"] == "model" and rows["results/model/weights"]["code"] == ""
    assert not rows["results/run.stats.json"]["deterministic"]

    write_manifest(list(rows.values()), tmp_path / "manifest.tsv")
    written = read_manifest(tmp_path / "manifest.tsv")
    assert manifest_differences(written, list(rows.values())) == []
    changed = [{**row, "sha256": "0" * 64} if row["path"].endswith("weights") else row for row in written]
    rewritten = [{**row, "sha256": "0" * 64} if row["path"].endswith("stats.json") else row for row in written]
    assert manifest_differences(written, changed) == [
        "results/model/weights: sha256 " + rows["results/model/weights"]["sha256"][:12] + " != 000000000000"]
    other_code = [{**row, "code": "b" * 64} if row["path"].endswith("stats.json") else row for row in written]
    assert manifest_differences(written, other_code) == ["results/run.stats.json: code  != bbbbbbbbbbbb"]
    assert manifest_differences(written, rewritten) == []
    assert manifest_differences(written, written[1:]) == [f"{written[0]['path']}: only in the first"]


def test_every_benchmarks_result_is_volatile_as_it_holds_execution_times():
    """A demo rebuild compares deterministic files byte for byte: each benchmark's result records its times."""
    for benchmark in TASK_BENCHMARKS:
        assert volatile(f"results/phi1/{benchmark}.json") and volatile(f"results/phi1/{benchmark}.problems.jsonl")
    assert volatile("results/evaluate/expected/humanevalplus.json.gz")
    assert not volatile("results/benchmarks/humaneval.jsonl") and not volatile("results/checkpoints/phi1/config.json")


def test_a_manifest_with_other_columns_is_named(tmp_path):
    (tmp_path / "other.tsv").write_text("path\tsize\nx\t1\n")
    with pytest.raises(InputError, match=r"other\.tsv: not a manifest \(columns path, size\)"):
        read_manifest(tmp_path / "other.tsv")


def test_the_source_archive_holds_the_tracked_files_config_and_versions_and_archives_again(tmp_path):
    config = REPO / "configs/demo.yaml"
    count = write_source_archive(REPO, config, tmp_path / "first.tar.gz")
    with tarfile.open(tmp_path / "first.tar.gz") as tar:
        tar.extractall(tmp_path / "source", filter="tar")
    source = tmp_path / "source"
    files = (source / SOURCE_LIST).read_text().split()
    assert len(files) == count and {"Snakefile", "rules/train.smk", "phi1repro/archive.py"} <= set(files)
    assert (source / "config.run.yaml").read_bytes() == config.read_bytes()
    assert (source / "scripts/phi1repro").is_symlink()
    info = json.loads((source / "SOURCE.json").read_text())
    assert len(info["git"]["commit"]) == 40 and "pip install -r requirements.txt" in info["rebuild"]

    assert write_source_archive(source, source / "config.run.yaml", tmp_path / "again.tar.gz") == count
    with tarfile.open(tmp_path / "again.tar.gz") as tar:
        again = json.loads(tar.extractfile("SOURCE.json").read())
        assert tar.extractfile(SOURCE_LIST).read().decode().split() == files
    assert again["unpacked_from"] == info["git"]


def test_an_unfinished_run_is_not_archived(tmp_path):
    with pytest.raises(ArchiveError, match="is not complete; run the workflow with .*demo.yaml first"):
        build_archive(REPO, tmp_path, REPO / "configs/demo.yaml", REPO / "config.yaml", ["all"])
    assert not (tmp_path / "results/paper/manifest.tsv").exists()


def test_a_rebuild_is_compared_with_the_archived_manifest(finished, tmp_path, capsys):
    write_manifest(manifest_rows(finished), tmp_path / "manifest.tsv")
    assert archive_main(["--compare", str(tmp_path / "manifest.tsv"), "-d", str(finished)]) == 0
    assert "matches" in capsys.readouterr().out
    weights = finished / "results/model/weights"
    original = weights.read_bytes()
    weights.write_bytes(b"other weights\n")
    try:
        assert archive_main(["--compare", str(tmp_path / "manifest.tsv"), "-d", str(finished)]) == 1
        assert capsys.readouterr().out.startswith("results/model/weights: sha256 ")
    finally:
        weights.write_bytes(original)
    assert archive_main(["--compare", str(tmp_path / "missing.tsv"), "-d", str(finished)]) == 1
    assert "missing.tsv" in capsys.readouterr().err
