"""Readers of local source trees and of The Stack's parquet files."""

from __future__ import annotations

import collections
import logging
import sysconfig
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from phi1repro.corpus.readers import expand_placeholders, read_local, read_the_stack
from phi1repro.corpus.records import SCHEMA, content_id
from phi1repro.errors import InputError

# --- local files ------------------------------------------------------------------------------

MAX_BYTES = 100


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    files = {
        "a.py": b"import os\n",
        "b.py": b"\xef\xbb\xbfprint('bom')\n",
        "pkg/__init__.py": b"",
        "pkg/deep/mod.py": b"def f():\n    return 1\n",
        "latin1.py": "s = 'caf\xe9'\n".encode("latin-1"),
        "big.py": b"x = 1\n" * 50,
        "tests/test_a.py": b"assert True\n",
        "notes.txt": b"not python\n",
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def read(patterns, exclude=("tests/*",), shard=0, num_shards=1, counts=None, max_bytes=MAX_BYTES):
    counts = collections.Counter() if counts is None else counts
    return list(
        read_local(
            [str(p) for p in patterns],
            list(exclude),
            source="local",
            shard=shard,
            num_shards=num_shards,
            max_bytes=max_bytes,
            counts=counts,
        )
    )


def test_read_local_records_and_counts(tree: Path, caplog: pytest.LogCaptureFixture) -> None:
    counts = collections.Counter()
    with caplog.at_level(logging.WARNING):
        records = read([tree], counts=counts)

    by_path = {r["path"]: r for r in records}
    assert sorted(by_path) == ["a.py", "b.py", "pkg/__init__.py", "pkg/deep/mod.py"]
    assert by_path["b.py"]["text"] == "print('bom')\n"  # BOM stripped
    mod = by_path["pkg/deep/mod.py"]
    assert mod["origin"] == str(tree / "pkg/deep/mod.py")
    assert (mod["source"], mod["repo"], mod["license"], mod["stars"]) == ("local", None, None, None)
    assert (mod["text"], mod["n_lines"]) == ("def f():\n    return 1\n", 2)
    assert mod["id"] == content_id(mod["text"])
    assert counts == {"files_seen": 6, "too_large": 1, "non_utf8": 1}
    assert "latin1.py" in caplog.text


def test_read_local_glob_root_and_excludes(tree: Path) -> None:
    records = read([f"{tree}/**/*.py"], exclude=["*/deep/*", "latin1.py", "big.py"])
    assert [r["path"] for r in records] == ["a.py", "b.py", "pkg/__init__.py", "tests/test_a.py"]

    records = read([f"{tree}/pkg/**/*.py"], exclude=[])
    assert [r["path"] for r in records] == ["__init__.py", "deep/mod.py"]


def test_read_local_files_seen_under_two_patterns_are_read_once(tree: Path) -> None:
    records = read([tree / "pkg", tree])
    assert sorted(r["path"] for r in records) == ["__init__.py", "a.py", "b.py", "deep/mod.py"]


@pytest.mark.parametrize("num_shards", [2, 3])
def test_read_local_shards_partition_the_files(tree: Path, num_shards: int) -> None:
    whole_counts = collections.Counter()
    whole = read([tree], counts=whole_counts)
    parts, part_counts = [], collections.Counter()
    for shard in range(num_shards):
        parts += read([tree], shard=shard, num_shards=num_shards, counts=part_counts)
    assert sorted(r["origin"] for r in parts) == sorted(r["origin"] for r in whole)
    assert len({r["origin"] for r in parts}) == len(parts)
    assert part_counts == whole_counts


def test_read_local_missing_directory(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(InputError, match="no such directory") as e:
        read([missing])
    assert e.value.path == str(missing)


def test_read_local_pattern_matching_nothing(tree: Path) -> None:
    pattern = f"{tree}/**/*.pyx"
    with pytest.raises(InputError, match="matches no file") as e:
        read([pattern])
    assert e.value.path == pattern
    with pytest.raises(InputError, match="excluded"):
        read([f"{tree}/tests/*.py"], exclude=["test_*"])


def test_read_local_rejects_a_shard_out_of_range(tree: Path) -> None:
    with pytest.raises(ValueError):
        read([tree], shard=2, num_shards=2)


def test_expand_placeholders() -> None:
    stdlib = expand_placeholders("{stdlib}")
    assert stdlib == sysconfig.get_paths()["stdlib"]
    assert (Path(stdlib) / "os.py").is_file()
    assert expand_placeholders("{stdlib}/json/**/*.py") == f"{stdlib}/json/**/*.py"
    assert expand_placeholders("src/*.py") == "src/*.py"


def test_read_local_stdlib_package() -> None:
    records = read(["{stdlib}/json"], exclude=[], max_bytes=1 << 20)
    assert "__init__.py" in {r["path"] for r in records}


# --- The Stack --------------------------------------------------------------------------------

STACK_SCHEMA = pa.schema(
    [
        ("hexsha", pa.string()),
        ("size", pa.int64()),
        ("ext", pa.string()),
        ("lang", pa.string()),
        ("max_stars_repo_path", pa.string()),
        ("max_stars_repo_name", pa.string()),
        ("max_stars_repo_licenses", pa.list_(pa.string())),
        ("max_stars_count", pa.int64()),
        ("content", pa.string()),
    ]
)


def stack_row(i: int, **overrides) -> dict:
    row = {
        "hexsha": f"{i:040x}",
        "size": 10,
        "ext": "py",
        "lang": "Python",
        "max_stars_repo_path": f"src/m{i}.py",
        "max_stars_repo_name": f"owner/repo{i}",
        "max_stars_repo_licenses": ["MIT"],
        "max_stars_count": i,
        "content": f"x = {i}\n",
    }
    return row | overrides


def write_stack(path: Path, rows: list[dict], schema: pa.Schema = STACK_SCHEMA) -> Path:
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path, row_group_size=4)
    return path


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    rows = [stack_row(i) for i in range(10)]
    rows[1] |= {"max_stars_count": None, "max_stars_repo_licenses": ["MIT", "Apache-2.0"]}
    rows[2] |= {"ext": "pyw"}
    rows[3] |= {"content": None}
    rows[4] |= {"max_stars_repo_licenses": []}
    return write_stack(tmp_path / "data.parquet", rows)


def test_read_the_stack_records_and_counts(stack: Path) -> None:
    counts = collections.Counter()
    records = list(read_the_stack(stack, source="the_stack", counts=counts, batch_size=3, extensions=["py"]))

    assert [r["path"] for r in records] == [f"src/m{i}.py" for i in (0, 1, 4, 5, 6, 7, 8, 9)]
    assert records[0] == {
        "id": content_id("x = 0\n"),
        "source": "the_stack",
        "origin": "owner/repo0/src/m0.py",
        "repo": "owner/repo0",
        "path": "src/m0.py",
        "license": "MIT",
        "stars": 0,
        "text": "x = 0\n",
        "n_bytes": 6,
        "n_lines": 1,
    }
    assert (records[1]["license"], records[1]["stars"]) == ("MIT, Apache-2.0", None)
    assert records[2]["license"] is None
    assert counts == {"rows_seen": 10, "wrong_extension": 1, "null_content": 1}
    assert pa.Table.from_pylist(records, schema=SCHEMA).num_rows == 8


def test_read_the_stack_without_extension_filter(stack: Path) -> None:
    counts = collections.Counter()
    records = list(read_the_stack(stack, source="the_stack", counts=counts))
    assert len(records) == 9
    assert counts == {"rows_seen": 10, "null_content": 1}


def test_read_the_stack_binary_content(tmp_path: Path) -> None:
    schema = STACK_SCHEMA.set(STACK_SCHEMA.get_field_index("content"), pa.field("content", pa.binary()))
    rows = [stack_row(0, content=b"ok = 1\n"), stack_row(1, content=b"s = '\xe9'\n")]
    path = write_stack(tmp_path / "binary.parquet", rows, schema)
    counts = collections.Counter()
    records = list(read_the_stack(path, source="the_stack", counts=counts))
    assert [r["text"] for r in records] == ["ok = 1\n"]
    assert counts == {"rows_seen": 2, "non_utf8": 1}


def test_read_the_stack_optional_columns(tmp_path: Path) -> None:
    path = tmp_path / "bare.parquet"
    pq.write_table(pa.table({"content": ["a = 1\n"]}), path)
    [record] = read_the_stack(path, source="the_stack", counts=collections.Counter())
    assert (record["repo"], record["path"], record["license"], record["stars"]) == (None, None, None, None)
    assert record["origin"] == f"{path}#row0"
    with pytest.raises(InputError, match="'ext'"):
        list(read_the_stack(path, source="the_stack", counts=collections.Counter(), extensions=["py"]))


def test_read_the_stack_missing_content_column(tmp_path: Path) -> None:
    path = tmp_path / "nocontent.parquet"
    pq.write_table(pa.table({"text": ["a"], "ext": ["py"]}), path)
    with pytest.raises(InputError, match="'content'.*text, ext") as e:
        list(read_the_stack(path, source="the_stack", counts=collections.Counter()))
    assert e.value.path == str(path)


def test_read_the_stack_not_parquet(tmp_path: Path) -> None:
    path = tmp_path / "random.parquet"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(InputError, match="not a readable parquet file") as e:
        list(read_the_stack(path, source="the_stack", counts=collections.Counter()))
    assert e.value.path == str(path)


def test_read_the_stack_truncated(stack: Path, tmp_path: Path) -> None:
    path = tmp_path / "truncated.parquet"
    path.write_bytes(stack.read_bytes()[: stack.stat().st_size // 2])
    with pytest.raises(InputError) as e:
        list(read_the_stack(path, source="the_stack", counts=collections.Counter()))
    assert e.value.path == str(path)


def test_read_the_stack_corrupt_row_group(tmp_path: Path) -> None:
    rows = [stack_row(i, content=f"{i}" * 200) for i in range(8)]
    path = write_stack(tmp_path / "corrupt.parquet", rows)
    data = bytearray(path.read_bytes())
    data[4:600] = bytes(596)  # zero the first row group's pages, keep the footer
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="corrupt parquet data") as e:
        list(read_the_stack(path, source="the_stack", counts=collections.Counter()))
    assert e.value.path == str(path)


def test_read_the_stack_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        list(read_the_stack(tmp_path / "none.parquet", source="the_stack", counts=collections.Counter()))
