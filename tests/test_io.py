import os
import signal
import subprocess
import sys
import textwrap

import pyarrow as pa
import pytest

from phi1repro.errors import InputError
from phi1repro.io import JsonlZstWriter, iter_jsonl_zst, read_parquet, write_parquet

RECORDS = [{"id": str(i), "text": f"def f{i}():\n    return {i}\n" * 50} for i in range(2000)]


def write(path, records=RECORDS):
    with JsonlZstWriter(path) as w:
        for r in records:
            w.write(r)
    return path


def test_jsonl_zst_round_trip(tmp_path):
    path = write(tmp_path / "a.jsonl.zst")
    assert list(iter_jsonl_zst(path)) == RECORDS
    assert [p.name for p in tmp_path.iterdir()] == ["a.jsonl.zst"]


def test_reads_concatenated_frames(tmp_path):
    a, b = write(tmp_path / "a.zst", RECORDS[:10]), write(tmp_path / "b.zst", RECORDS[10:20])
    both = tmp_path / "ab.jsonl.zst"
    both.write_bytes(a.read_bytes() + b.read_bytes())
    assert list(iter_jsonl_zst(both)) == RECORDS[:20]


def test_truncated_stream_is_an_error_naming_the_file(tmp_path):
    path = write(tmp_path / "a.jsonl.zst")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(InputError, match=r"a\.jsonl\.zst: truncated zstandard stream"):
        list(iter_jsonl_zst(path))


def test_corrupt_stream_is_an_error_naming_the_file(tmp_path):
    path = write(tmp_path / "a.jsonl.zst")
    data = bytearray(path.read_bytes())
    data[100:200] = os.urandom(100)
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"a\.jsonl\.zst: (corrupt zstandard data|line \d+: not valid JSON)"):
        list(iter_jsonl_zst(path))


def test_failed_writer_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with JsonlZstWriter(tmp_path / "a.jsonl.zst") as w:
            w.write(RECORDS[0])
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_killed_writer_leaves_no_complete_looking_output(tmp_path):
    target = tmp_path / "out.jsonl.zst"
    script = textwrap.dedent(f"""
        import sys, time
        from phi1repro.io import JsonlZstWriter
        with JsonlZstWriter({str(target)!r}) as w:
            for i in range(10**9):
                w.write({{"i": i, "text": "x" * 1000}})
                if i == 1000:
                    print("writing", flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not target.exists()


def test_parquet_round_trip_and_corrupt_file(tmp_path):
    schema = pa.schema([("id", pa.string()), ("text", pa.large_string())])
    path = tmp_path / "a.parquet"
    assert write_parquet(path, RECORDS, schema) == len(RECORDS)
    assert read_parquet(path).to_pylist() == RECORDS
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(InputError, match=r"a\.parquet: not a readable parquet file"):
        read_parquet(path)
    with pytest.raises(InputError, match=r"missing\.parquet: file not found"):
        read_parquet(tmp_path / "missing.parquet")
