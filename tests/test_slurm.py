"""The demo through `--profile slurm` on a real one-node Slurm cluster: munge, slurmctld and slurmd from
Debian's packages, a cpu and a gpu partition, two fake GPUs through gres. The cluster is installed and
started here when the tests run as root with apt (as in CI), and stopped by its PIDs afterwards;
elsewhere the tests skip, saying why."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from test_workflow import REPO, SNAKEMAKE, job_counts

pytestmark = pytest.mark.slow

PACKAGES = ("munge", "slurmctld", "slurmd", "slurm-client")
PID_FILES = ("/run/slurmd.pid", "/run/slurmctld.pid", "/run/munge/munged.pid")
SLURM_CONF = """\
ClusterName=local
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
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
NodeName={host} CPUs={cpus} RealMemory={memory_mb} Gres=gpu:2 State=UNKNOWN
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
    memory_mb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())[1]) // 1024 * 9 // 10
    Path("/etc/slurm").mkdir(exist_ok=True)
    Path("/etc/slurm/slurm.conf").write_text(SLURM_CONF.format(host=host, cpus=os.cpu_count(), memory_mb=memory_mb))
    Path("/etc/slurm/gres.conf").write_text(GRES_CONF.format(host=host))
    for directory in ("/var/spool/slurmctld", "/var/spool/slurmd", "/var/log/slurm", "/run/munge"):
        Path(directory).mkdir(parents=True, exist_ok=True)
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


@pytest.fixture(scope="module")
def cluster():
    why = why_no_cluster()
    if why:
        pytest.skip(why)
    try:
        yield start_cluster()
    finally:
        stop_cluster()


def test_gpu_partition_allocates_a_gpu(cluster):
    done = run("srun", "-p", "gpu", "--gres=gpu:1", "bash", "-c", "echo $CUDA_VISIBLE_DEVICES")
    assert done.stdout.strip() == "0"


def test_the_demo_through_the_slurm_profile(cluster, tmp_path):
    """The repository's slurm profile, with the status command this accounting-free cluster needs,
    runs the demo (asking one GPU for training and generation); every job but the local ones is a
    Slurm job, and training ran on the gpu partition with a GPU."""
    profile = yaml.safe_load((REPO / "slurm/config.yaml").read_text())
    profile.update({"slurm-status-command": "squeue", "slurm-init-seconds-before-status-checks": 2, "jobs": 4,
                    "slurm-keep-successful-logs": True})
    (tmp_path / "profile").mkdir()
    (tmp_path / "profile/config.yaml").write_text(yaml.safe_dump(profile))
    demo = yaml.safe_load((REPO / "configs/demo.yaml").read_text())
    demo["train"] = {**demo.get("train", {}), "gpus": 1}
    demo["evaluate"]["generation"]["gpus"] = 1
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(demo))
    command = [str(SNAKEMAKE), "results/phi1/humaneval.json", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path),
               "--profile", str(tmp_path / "profile"), "--configfile", str(tmp_path / "config.yaml")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]

    planned = job_counts(done.stdout + done.stderr)
    submitted = {p.name.removeprefix("rule_") for p in (tmp_path / ".snakemake/slurm_logs").iterdir()}
    assert submitted == set(planned) - {"all"}, (planned, submitted)
    for model in ("phi1_base", "phi1"):
        launch = json.loads((tmp_path / f"results/checkpoints/{model}/training.json").read_text())["launch"]
        assert launch["SLURM_JOB_ID"] and launch["SLURM_JOB_PARTITION"] == "gpu"
        assert launch["CUDA_VISIBLE_DEVICES"] == "0"
    result = json.loads((tmp_path / "results/phi1/humaneval.json").read_text())
    assert result["n_problems"] == 164 and result["provenance"]["generation"]["checkpoint_sha256"]
