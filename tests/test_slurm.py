"""The demo through `--profile slurm` on a real one-node Slurm cluster: munge, slurmctld and slurmd from
Debian's packages, a cpu and a gpu partition, two fake GPUs through gres. The cluster is installed and
started here when the tests run as root with apt (as in CI), and stopped by its PIDs afterwards;
elsewhere the tests skip, saying why (with CI=true they fail)."""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tarfile
import time
from pathlib import Path

import pytest
import yaml

from tests.needs import missing
from phi1repro.archive import manifest_differences, manifest_rows, read_manifest
from tests.test_workflow import SNAKEMAKE, job_counts

pytestmark = pytest.mark.slow

PACKAGES = ("munge", "slurmctld", "slurmd", "slurm-client")
CONF_FILES = ("/etc/slurm/slurm.conf", "/etc/slurm/gres.conf")
BACKUP = ".before-phi1repro-tests"
PID_FILES = ("/run/slurmd.pid", "/run/slurmctld.pid", "/run/munge/munged.pid")
# The cluster's state, fresh for each start: a controller never recovers jobs of an earlier, interrupted test run.
SPOOL = Path("/var/spool/phi1repro-tests")
SLURM_CONF = """\
ClusterName=local
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation={spool}/slurmctld
SlurmdSpoolDir={spool}/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
MinJobAge=600
GresTypes=gpu
# The node says it has 8 CPUs and 64 GB whatever the machine has, so the profile's requests (2 CPUs and
# 8 GB for a data job) fit four jobs at once, as on a real node; config_overrides lets slurmd accept that.
SlurmdParameters=config_overrides
NodeName={host} CPUs=8 RealMemory=64000 Gres=gpu:2 State=UNKNOWN
PartitionName=cpu Nodes={host} Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes={host} Default=NO MaxTime=INFINITE State=UP
"""
GRES_CONF = "AutoDetect=off\nNodeName={host} Name=gpu File=/dev/null\nNodeName={host} Name=gpu File=/dev/zero\n"


def why_no_cluster() -> str | None:
    if os.geteuid() != 0:
        return "a Slurm cluster is started only as root"
    if not all(shutil.which(tool) for tool in ("slurmctld", "slurmd", "munged", "sbatch")) and not shutil.which("apt-get"):
        return "Slurm is not installed and there is no apt-get to install it"
    if Path("/run/slurmctld.pid").exists():
        return "a Slurm controller is already running here (/run/slurmctld.pid); not touching it"
    return None


def run(*command: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=600, **kwargs)


def start_cluster() -> str:
    """Install (if needed), configure and start munge, slurmctld and slurmd; the node's name."""
    if not all(shutil.which(tool) for tool in ("slurmctld", "slurmd", "munged", "sbatch")):
        run("apt-get", "update")
        run("apt-get", "install", "-y", "--no-install-recommends", *PACKAGES,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    host = socket.gethostname().split(".")[0]
    try:
        socket.gethostbyname(host)
    except OSError:
        with open("/etc/hosts", "a") as hosts:
            hosts.write(f"127.0.0.1 {host}\n")
    Path("/etc/slurm").mkdir(exist_ok=True)
    for conf in CONF_FILES:
        if Path(conf).exists():
            Path(conf).rename(conf + BACKUP)
    Path("/etc/slurm/slurm.conf").write_text(SLURM_CONF.format(host=host, spool=SPOOL))
    Path("/etc/slurm/gres.conf").write_text(GRES_CONF.format(host=host))
    shutil.rmtree(SPOOL, ignore_errors=True)
    for directory in (SPOOL / "slurmctld", SPOOL / "slurmd", Path("/var/log/slurm"), Path("/run/munge")):
        directory.mkdir(parents=True, exist_ok=True)
    key = Path("/etc/munge/munge.key")
    if not key.exists() or key.stat().st_size == 0:
        key.write_bytes(os.urandom(1024))
    run("chown", "munge:munge", "/run/munge", "/etc/munge", str(key))
    os.chmod("/run/munge", 0o755)
    os.chmod(key, 0o400)
    run("runuser", "-u", "munge", "--", "/usr/sbin/munged")
    run("/usr/sbin/slurmctld")
    time.sleep(2)
    run("/usr/sbin/slurmd")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        subprocess.run(["scontrol", "update", f"nodename={host}", "state=resume"], capture_output=True)
        state = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], capture_output=True, text=True).stdout
        if "idle" in state or "mixed" in state:
            return host
        time.sleep(2)
    raise RuntimeError(f"the Slurm node did not become idle: {state!r}\n{Path('/var/log/slurm/slurmd.log').read_text()[-2000:]}")


def stop_cluster() -> None:
    """Stop the daemons by their PIDs and put back the config found: with a slurm.conf whose controller
    is down, every later `snakemake` waits ~10 s on `scontrol show config` (the Slurm plugin's probe)."""
    for pid_file in PID_FILES:
        try:
            pid = int(Path(pid_file).read_text())
            os.kill(pid, signal.SIGTERM)
        except (OSError, ValueError):
            continue
        for _ in range(50):
            try:
                os.kill(pid, 0)
            except OSError:
                break
            time.sleep(0.2)
    for conf in CONF_FILES:
        Path(conf).unlink(missing_ok=True)
        if Path(conf + BACKUP).exists():
            Path(conf + BACKUP).rename(conf)


@pytest.fixture(scope="module")
def cluster():
    why = why_no_cluster()
    if why:
        missing(why)
    try:
        yield start_cluster()
    finally:
        stop_cluster()


def test_gpu_partition_allocates_a_gpu(cluster):
    done = run("srun", "-p", "gpu", "--gres=gpu:1", "bash", "-c", "echo $CUDA_VISIBLE_DEVICES")
    assert done.stdout.strip() == "0"


def test_the_demo_rebuilt_from_its_archive_through_the_slurm_profile(cluster, demo_run, tmp_path):
    """The paper archive of the local demo run, unpacked, runs through the repository's slurm profile
    (with the status command this accounting-free cluster needs, and one GPU for training, launched by
    srun, and for generation): every job is a Slurm job, training ran on the gpu partition with a GPU,
    and every deterministic output has the bytes of the local run. The targets take every kind of rule
    but the figure grid's and Table 3's extra models: phi1 and its evaluation, Table 2's grading by the
    teacher, Figure 3.1, and a second model that trains alongside phi1_base."""
    targets = ["results/phi1/humaneval.json", "results/phi1/unconventional.graded.json",
               "results/checkpoints/stack_plus", "results/paper/figure_3_1.png"]
    with tarfile.open(demo_run["workdir"] / "results/paper/source.tar.gz") as tar:
        tar.extractall(tmp_path / "source", filter="tar")
    source, workdir = tmp_path / "source", tmp_path / "work"
    profile = yaml.safe_load((source / "slurm/config.yaml").read_text())
    profile.update({"slurm-status-command": "squeue", "slurm-init-seconds-before-status-checks": 2, "jobs": 4,
                    "slurm-keep-successful-logs": True})
    profile["set-resources"]["train"].update({"gpu": 1, "launcher": "srun"})
    profile["set-resources"]["evaluate_generate"]["gpu"] = 1
    (tmp_path / "profile").mkdir()
    (tmp_path / "profile/config.yaml").write_text(yaml.safe_dump(profile))
    # the targets first: --configfile takes every value after it
    command = [str(SNAKEMAKE), *targets, "-s", str(source / "Snakefile"), "-d", str(workdir),
               "--profile", str(tmp_path / "profile"), "--configfile", str(source / "config.run.yaml")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600, cwd=source)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]

    planned = job_counts(done.stdout + done.stderr)
    submitted = {p.name.removeprefix("rule_") for p in (workdir / ".snakemake/slurm_logs").iterdir()}
    assert submitted == set(planned), (planned, submitted)
    for model in ("phi1_base", "phi1", "stack_plus"):
        launch = json.loads((workdir / f"results/checkpoints/{model}/training.json").read_text())["launch"]
        assert launch["SLURM_JOB_ID"] and launch["SLURM_JOB_PARTITION"] == "gpu"
        assert launch["CUDA_VISIBLE_DEVICES"] in ("0", "1")  # one of the node's two GPUs
    assert "srun --overlap --nodes=1" in (workdir / "logs/train/phi1.log").read_text()
    result = json.loads((workdir / "results/phi1/humaneval.json").read_text())
    assert result["n_problems"] == 164 and result["provenance"]["generation"]["checkpoint_sha256"]

    rebuilt = manifest_rows(workdir)
    paths = {row["path"] for row in rebuilt}
    local = [row for row in read_manifest(demo_run["workdir"] / "results/paper/manifest.tsv") if row["path"] in paths]
    assert manifest_differences(local, rebuilt) == []
    deterministic = {row["path"] for row in rebuilt if row["deterministic"]}
    assert {"results/checkpoints/phi1/model.safetensors", "results/checkpoints/stack_plus/model.safetensors",
            "results/phi1/samples/humaneval.jsonl", "results/phi1/samples/unconventional.jsonl",
            "results/paper/figure_3_1.png", "results/paper/figure_3_1.pdf"} <= deterministic


def slurm_jobs() -> list[tuple[str, str, str]]:
    """(job id, comment, state) of every queued or running job; the executor's comment names the rule."""
    out = subprocess.run(["squeue", "-h", "-o", "%i|%k|%T"], capture_output=True, text=True).stdout
    return [tuple(line.split("|")) for line in out.splitlines() if line.count("|") == 2]


def test_killed_jobs_lose_only_their_own_work(cluster, demo_run, tmp_path):
    """A synthetic-data job killed mid-run: the next run redoes that part alone, and the teacher calls it
    had made are answered by the cache. A training job killed hard, as by a node failure: the
    profile's retry resumes it from its newest checkpoint."""
    profile = yaml.safe_load((demo_run["source"] / "slurm/config.yaml").read_text())
    profile.update({"slurm-status-command": "squeue", "slurm-init-seconds-before-status-checks": 2, "jobs": 2,
                    "keep-going": True})
    demo = yaml.safe_load(demo_run["config"].read_text())
    demo["teacher"]["offline"] = {"latency_ms": 2000}  # ~10 s for an exercise part: time to kill one
    workdir = tmp_path / "work"

    def snakemake_run(*targets, retries):
        (tmp_path / "profile").mkdir(exist_ok=True)
        (tmp_path / "profile/config.yaml").write_text(yaml.safe_dump({**profile, "retries": retries}))
        (tmp_path / "config.yaml").write_text(yaml.safe_dump(demo))
        return subprocess.Popen([str(SNAKEMAKE), *targets, "-s", str(demo_run["source"] / "Snakefile"), "-d",
                                 str(workdir), "--profile", str(tmp_path / "profile"),
                                 "--configfile", str(tmp_path / "config.yaml")],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def running(rule, ready):
        """The Slurm job id of a running `rule` job, once `ready()`."""
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            jobs = [job for job, comment, state in slurm_jobs() if comment.startswith(f"rule_{rule}") and state == "RUNNING"]
            if jobs and ready():
                return jobs[0]
            time.sleep(0.5)
        raise AssertionError(f"no {rule} job ran")

    def cached_answers():
        try:
            with contextlib.closing(sqlite3.connect(next((workdir / ".cache").glob("teacher-offline.sqlite")))) as db:
                return db.execute("SELECT count(*) FROM responses").fetchone()[0]
        except (StopIteration, sqlite3.Error):
            return 0

    first = snakemake_run("results/synthetic/stats.json", retries=0)
    job = running("synth_exercises", lambda: cached_answers() >= 600)  # a part done, the next one underway
    run("scancel", "--signal=KILL", "--full", job)
    output = first.communicate(timeout=1800)[0]
    assert first.returncode != 0, output[-3000:]
    lost = [p for p in range(4) if not (workdir / f"results/synthetic/exercises/{p:05d}.parquet").exists()]
    assert len(lost) == 1, (lost, output[-3000:])

    plan = subprocess.run([str(SNAKEMAKE), "-n", "results/synthetic/stats.json", "-s",
                           str(demo_run["source"] / "Snakefile"), "-d", str(workdir),
                           "--configfile", str(tmp_path / "config.yaml")], capture_output=True, text=True)
    assert job_counts(plan.stdout) == {"synth_exercises": 1, "synth_stats": 1}, plan.stdout[-3000:]
    second = snakemake_run("results/synthetic/stats.json", retries=0)
    output = second.communicate(timeout=1800)[0]
    assert second.returncode == 0, output[-3000:]
    redone = json.loads((workdir / f"results/synthetic/exercises/{lost[0]:05d}.stats.json").read_text())
    assert redone["requests_cached"] > 0, redone

    # Training: from the finished demo's tokens and phi1_base, a phi1 of 100 steps, hard-killed after a checkpoint.
    demo["teacher"] = yaml.safe_load(demo_run["config"].read_text())["teacher"]
    demo["models"]["phi1"]["steps"] = 100
    demo["train"]["checkpoint_every"] = 20
    shutil.copytree(demo_run["workdir"] / "results", workdir / "results", dirs_exist_ok=True)
    shutil.copytree(demo_run["workdir"] / ".snakemake/metadata", workdir / ".snakemake/metadata", dirs_exist_ok=True)
    runs = workdir / "results/runs/phi1"
    earlier = set(runs.iterdir())
    third = snakemake_run("results/checkpoints/phi1", retries=2)
    running("train", lambda: any((new / "latest").exists() for new in set(runs.iterdir()) - earlier))
    run("pkill", "-KILL", "-f", "phi1repro.train --recipe")  # dead at once, as on a failed node: no checkpoint on the way out
    output = third.communicate(timeout=1800)[0]
    assert third.returncode == 0, output[-3000:]
    log = (workdir / "logs/train/phi1.log").read_text()
    assert re.search(r"resuming at step [1-9]\d* of 100", log), log[-3000:]
    assert json.loads((workdir / "results/checkpoints/phi1/training.json").read_text())["steps"] == 100
