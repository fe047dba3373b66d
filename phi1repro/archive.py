"""The archive for a paper: `python -m phi1repro.archive --configfile CONFIG` (or `make paper`).

After a complete run it writes, under results/paper/:
- graphs/<config>/rulegraph.{dot,svg,pdf} and dag.{dot,svg,pdf}, for the run's config and for the
  paper config (config.yaml), drawn by Snakemake and graphviz;
- report.html, Snakemake's report with every stage's plots and stats;
- manifest.tsv, one row per output file: path, sha256, size, the rule that made it, a hash of the
  params it was made with, the code digest of that rule (its script and the phi1repro modules the
  script reaches) and whether the file is deterministic (a rebuild gives the same bytes);
- source.tar.gz, from which the run can be rebuilt: the source files (git's, tracked or not ignored,
  with the commit and whether the tree differed from it), the config the run used
  (as config.run.yaml), the exact versions of every installed package (requirements.txt) and
  SOURCE.json (commit, Python, platform, the command).

The manifest is read from Snakemake's own records in .snakemake/metadata: each output's rule and the
params it was made with, so the archive says how each file was made, not how it would be made now.
`python -m phi1repro.archive --compare MANIFEST -d RUN` checks a rebuild against an archive.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import json
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from importlib import metadata
from pathlib import Path

from .errors import InputError
from .io import file_sha256, read_json

MANIFEST_FIELDS = ("path", "sha256", "size", "rule", "params_sha256", "code", "deterministic")
SOURCE_LIST = "SOURCE_FILES"  # in an archive: the files it holds, for archiving again without git
# Outputs whose bytes change from run to run, and why. Every other output is expected to be identical
# when rebuilt from the archive on the same platform.
VOLATILE = {
    "results/**stats.json": "wall times and rates",
    "results/corpus/dedup/clusters.json": "wall time",
    "results/tokens/*/*.json": "packing time and rate (the token shards themselves are deterministic)",
    "results/checkpoints/*/training.json": "wall times, throughput and where the run ran",
    "results/decontam/report.json": "wall times per dataset",
    "results/*/humaneval.json": "execution time",
    "results/*/mbpp.json": "execution time",
    "results/*/unconventional.json": "execution time",
    "results/*/heldout.json": "execution time",
    "results/*/humanevalplus.json": "execution time",
    "results/*/mbppplus.json": "execution time",
    "results/evaluate/expected/*": "the reference solutions' time per input",
    "results/*/*.problems.jsonl": "execution time per sample",
    "results/*/unconventional.grades.jsonl": "whether each grade came from the teacher's cache, and its cost",
    "results/*/unconventional.graded.json": "grading time, cache hits and cost",
}
SNAKEMAKE_MARKER = ".snakemake_timestamp"  # Snakemake's own file in each directory output
GRAPHS = ("rulegraph", "dag")
GRAPH_FORMATS = ("svg", "pdf")


class ArchiveError(RuntimeError):
    pass


# ---- the manifest, from Snakemake's records ----

def read_records(workdir: Path) -> dict[str, dict]:
    """Output path -> Snakemake's metadata record for it (rule, params, ...), for every recorded output.

    Snakemake names each record by the urlsafe base64 of the output path, split into directories
    prefixed with '@' where it is longer than a file name may be."""
    root = workdir / ".snakemake/metadata"
    if not root.is_dir():
        raise ArchiveError(f"{root}: no Snakemake records; run the workflow in {workdir} first")
    records = {}
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        encoded = "".join(part.removeprefix("@") for part in file.relative_to(root).parts)
        try:
            records[base64.urlsafe_b64decode(encoded).decode()] = json.loads(file.read_text())
        except (ValueError, UnicodeDecodeError) as e:
            raise InputError(file, f"not a Snakemake metadata record ({e})") from e
    return records


def _glob(pattern: str) -> re.Pattern:
    """A glob over a whole path: `*` stays within one directory, `**` crosses them."""
    parts = re.split(r"(\*\*|\*)", pattern)
    return re.compile("".join({"**": ".*", "*": "[^/]*"}.get(part) or re.escape(part) for part in parts) + "$")


VOLATILE_PATHS = [_glob(pattern) for pattern in VOLATILE]


def volatile(path: str) -> bool:
    return any(pattern.match(path) for pattern in VOLATILE_PATHS)


def manifest_rows(workdir: Path) -> list[dict]:
    """One row per output file (the files inside a directory output each get one)."""
    rows = []
    for output, record in read_records(workdir).items():
        target = workdir / output
        if record.get("incomplete") or not target.exists():
            continue
        params = record.get("params") or []
        code = next((p.strip("'") for p in params if p.startswith("'code:")), "")
        files = sorted(p for p in target.rglob("*") if p.is_file() and p.name != SNAKEMAKE_MARKER) if target.is_dir() else [target]
        for file in files:
            path = file.relative_to(workdir).as_posix()
            rows.append({
                "path": path, "sha256": file_sha256(file), "size": file.stat().st_size, "rule": record["rule"],
                "params_sha256": hashlib.sha256(json.dumps(params).encode()).hexdigest(),
                "code": code.removeprefix("code:"), "deterministic": not volatile(path),
            })
    return sorted(rows, key=lambda row: row["path"])


def write_manifest(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, MANIFEST_FIELDS, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def read_manifest(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    if rows and set(rows[0]) != set(MANIFEST_FIELDS):
        raise InputError(path, f"not a manifest (columns {', '.join(rows[0])})")
    return rows


def manifest_differences(ours: list[dict], theirs: list[dict]) -> list[str]:
    """Where two manifests disagree: a file only one has, another rule, params or code, and for a
    deterministic file other bytes."""
    a, b = ({row["path"]: row for row in rows} for rows in (ours, theirs))
    differences = [f"{path}: only in the first" for path in sorted(a.keys() - b.keys())]
    differences += [f"{path}: only in the second" for path in sorted(b.keys() - a.keys())]
    for path in sorted(a.keys() & b.keys()):
        deterministic = str(a[path]["deterministic"]) == "True"
        for field in ("rule", "params_sha256", "code", *(("sha256",) if deterministic else ())):
            if a[path][field] != b[path][field]:
                differences.append(f"{path}: {field} {str(a[path][field])[:12]} != {str(b[path][field])[:12]}")
    return differences


# ---- the source archive ----

def source_files(repo: Path) -> list[str]:
    """The files of the workflow's source: git's tracked files and those it does not ignore (a new module
    not yet committed is part of the run), or the list an unpacked archive carries."""
    if (repo / SOURCE_LIST).is_file():
        return (repo / SOURCE_LIST).read_text().split("\n")[:-1]
    done = subprocess.run(["git", "-C", str(repo), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise ArchiveError(f"{repo}: neither a git checkout nor an unpacked source archive ({done.stderr.strip()})")
    return sorted(f for f in done.stdout.split("\0") if f and ((repo / f).is_symlink() or (repo / f).is_file()))


def git_state(repo: Path) -> dict:
    def git(*args):
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else None

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}


def installed_packages() -> str:
    """requirements.txt lines pinning every installed distribution to its exact version."""
    names = {(d.metadata["Name"] or "").lower(): d.version for d in metadata.distributions()}
    return "".join(f"{name}=={version}\n" for name, version in sorted(names.items()) if name)


def source_info(repo: Path, config: Path) -> dict:
    previous = read_json(repo / "SOURCE.json") if (repo / SOURCE_LIST).is_file() else {}
    return {
        **({"git": git_state(repo)} if (repo / ".git").exists() else {"unpacked_from": previous.get("git")}),
        "python": platform.python_version(), "platform": platform.platform(),
        "snakemake": metadata.version("snakemake"), "config": config.name,
        "rebuild": "python -m venv .venv && .venv/bin/pip install -r requirements.txt -e . --no-deps && "
                   ".venv/bin/snakemake --configfile config.run.yaml --cores all",
    }


def write_source_archive(repo: Path, config: Path, out: Path) -> int:
    """The source archive at `out`; returns the number of source files in it."""
    files = source_files(repo)
    extras = {
        "config.run.yaml": config.read_bytes(),
        "requirements.txt": installed_packages().encode(),
        "SOURCE.json": (json.dumps(source_info(repo, config), indent=2) + "\n").encode(),
        SOURCE_LIST: "".join(f"{f}\n" for f in files).encode(),
    }
    with tarfile.open(out, "w:gz") as tar:
        for name in files:
            tar.add(repo / name, arcname=name, recursive=False)
        for name, data in extras.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
            tar.addfile(info, io.BytesIO(data))
    return len(files)


# ---- graphs and report, by Snakemake ----

def snakemake(repo: Path, workdir: Path, config: Path, *arguments: str) -> str:
    command = [sys.executable, "-m", "snakemake", "-s", str(repo / "Snakefile"), "-d", str(workdir),
               "--nolock", *arguments, "--configfile", str(config)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise ArchiveError(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return done.stdout


def draw_graphs(repo: Path, workdir: Path, config: Path, out: Path) -> list[Path]:
    """The rule graph and the job DAG of `config` in `workdir`, as dot, SVG and PDF under `out`."""
    if shutil.which("dot") is None:
        raise ArchiveError("graphviz's `dot` is not installed (apt-get install graphviz, or `make paper` as root)")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for graph in GRAPHS:
        dot = out / f"{graph}.dot"
        text = snakemake(repo, workdir, config, f"--{graph}")
        dot.write_text(text[text.index("digraph"):])  # Snakemake may print notes before the graph
        written.append(dot)
        for fmt in GRAPH_FORMATS:
            subprocess.run(["dot", f"-T{fmt}", str(dot), "-o", str(out / f"{graph}.{fmt}")], check=True)
            written.append(out / f"{graph}.{fmt}")
    return written


def draw_graphs_elsewhere(repo: Path, config: Path, out: Path, attempts: int = 20) -> list[Path]:
    """The graphs of a config whose run is not here (the paper's, beside a demo run): drawn in an empty
    directory where each input file the config names but this machine lacks is an empty placeholder,
    so the graphs have the config's rules and one job per placeholder file. PLACEHOLDERS lists them."""
    with tempfile.TemporaryDirectory() as tmp:
        placeholders = []
        for _ in range(attempts):
            try:
                written = draw_graphs(repo, Path(tmp), config, out)
                break
            except ArchiveError as e:
                missing = re.findall(r"^\s{8}(\S.*)$", str(e).split("affected files:", 1)[-1], re.M)
                if "Missing input files" not in str(e) or not missing:
                    raise
                for name in missing:
                    (Path(tmp) / name).parent.mkdir(parents=True, exist_ok=True)
                    (Path(tmp) / name).touch()
                placeholders += missing
        else:
            raise ArchiveError(f"{config}: inputs still missing after {attempts} rounds of placeholders")
    if placeholders:
        (out / "PLACEHOLDERS").write_text("Drawn with these inputs as empty placeholder files:\n"
                                          + "".join(f"{name}\n" for name in placeholders))
    return written


def build_archive(repo: Path, workdir: Path, config: Path, paper_config: Path, targets: list[str]) -> Path:
    out = workdir / "results/paper"
    out.mkdir(parents=True, exist_ok=True)
    plan = snakemake(repo, workdir, config, "--dry-run", "--quiet", "rules", *targets)
    if "Nothing to be done" not in plan:
        raise ArchiveError(f"the run of {' '.join(targets)} in {workdir} is not complete; run the workflow with "
                           f"{config} first. It would run:\n{plan[-2000:]}")
    steps = [
        ("manifest", lambda: write_manifest(manifest_rows(workdir), out / "manifest.tsv")),
        ("source archive", lambda: write_source_archive(repo, config, out / "source.tar.gz")),
        ("report", lambda: snakemake(repo, workdir, config, "--report", str(out / "report.html"))),
        (f"graphs of {config.name}", lambda: draw_graphs(repo, workdir, config, out / "graphs" / config.stem)),
        (f"graphs of {paper_config.name}", lambda: draw_graphs_elsewhere(repo, paper_config, out / "graphs/paper")),
    ]
    for name, step in steps:
        started = time.monotonic()
        step()
        print(f"{name}: {time.monotonic() - started:.1f} s", file=sys.stderr)
    return out


def compare(manifest: Path, workdir: Path) -> int:
    """Print where the run in `workdir` differs from `manifest` (a rebuild's check); 1 if it does."""
    differences = manifest_differences(read_manifest(manifest), manifest_rows(workdir))
    print("\n".join(differences) or f"{workdir} matches {manifest}")
    return 1 if differences else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("targets", nargs="*", default=["all"], help="what the run built (default: all)")
    parser.add_argument("--configfile", type=Path, help="the config of the run to archive")
    parser.add_argument("--directory", "-d", type=Path, default=Path("."), help="the run's working directory")
    parser.add_argument("--snakefile", "-s", type=Path, default=None, help="default: the repository's")
    parser.add_argument("--paper-config", type=Path, default=None, help="default: config.yaml beside the Snakefile")
    parser.add_argument("--compare", type=Path, metavar="MANIFEST",
                        help="instead of archiving, compare the run with an archive's manifest.tsv")
    args = parser.parse_args(argv)
    repo = (args.snakefile or Path(__file__).resolve().parents[1] / "Snakefile").resolve().parent
    try:
        if args.compare:
            return compare(args.compare, args.directory.resolve())
        if args.configfile is None:
            parser.error("--configfile is required to archive a run")
        out = build_archive(repo, args.directory.resolve(), args.configfile.resolve(),
                            (args.paper_config or repo / "config.yaml").resolve(), args.targets)
    except (ArchiveError, InputError, OSError) as e:
        print(f"archive: {e}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
