"""A teacher the workflow starts itself (teacher.serve), shown with the offline teacher's server as the
command; which teacher answered as the cache's namespace and the rules' identity."""

import json
import shlex
import shutil
import sys
import time
import urllib.request

import pyarrow.parquet as pq
import pytest

from phi1repro.config import validate_config
from phi1repro.offline_teacher.workflow import PACKAGE, as_served, identity as offline_identity, version
from phi1repro.quality.annotate import label_sample, sample_corpus
from phi1repro.teacher.cache import TeacherCache
from phi1repro.teacher.endpoint import identity, teacher_endpoint
from phi1repro.teacher.serve import ServeError, served
from tests.quality.test_annotate import SCHEMA_PATH, write_shards

PYTHON = shlex.quote(sys.executable)


def section(tmp_path, command, **serve):
    config = {"corpus": {"sources": [{"name": "x", "kind": "local", "paths": ["x"], "shards": 1}]},
              "teacher": {"base_url": "serve", "identity": "offline-for-tests", "backoff_s": 0.01, "max_retries": 2,
                          "cache": str(tmp_path / "cache" / "teacher.sqlite"),
                          "serve": {"command": command, "ready_timeout_s": 30, **serve}}}
    return validate_config(config, SCHEMA_PATH)


def offline_command(*flags):
    return f"{PYTHON} -m phi1repro.offline_teacher --port {{port}} {' '.join(flags)}"


def stats(base_url):
    with urllib.request.urlopen(base_url.removesuffix("/v1") + "/stats") as response:
        return json.load(response)


def test_a_served_teacher_answers_once_ready_and_is_stopped_after(tmp_path):
    log = tmp_path / "server.log"
    with served({"command": offline_command(), "ready_timeout_s": 30}, log) as base_url:
        with urllib.request.urlopen(f"{base_url}/models") as response:
            assert response.status == 200
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{base_url}/models", timeout=2)


def test_a_server_that_is_never_ready_fails_within_its_timeout_naming_command_and_log(tmp_path):
    command = f"{PYTHON} -c \"import time; print('loading weights', flush=True); time.sleep(600)\" --port {{port}}"
    start = time.monotonic()
    with pytest.raises(ServeError, match=r"(?s)was not ready within 1 s.*import time.*loading weights"):
        with served({"command": command, "ready_timeout_s": 1}, tmp_path / "server.log"):
            pytest.fail("the stage ran without a server")
    assert time.monotonic() - start < 15


def test_a_server_that_exits_before_it_is_ready_says_so(tmp_path):
    command = f"{PYTHON} -c \"import sys; print('CUDA out of memory'); sys.exit(3)\" {{port}}"
    with pytest.raises(ServeError, match=r"(?s)exited with code 3 before it was ready.*CUDA out of memory"):
        with served({"command": command, "ready_timeout_s": 30}, tmp_path / "server.log"):
            pass


def test_a_server_that_dies_mid_stage_fails_the_job_and_the_rerun_asks_nothing_twice(tmp_path):
    shards = write_shards(tmp_path, {"local-00000": 40})
    sample = str(tmp_path / "s.parquet")
    sample_corpus(shards, 40, 0, sample, str(tmp_path / "s.json"))
    out, stats_out = tmp_path / "labels.parquet", str(tmp_path / "labels.json")

    dying = section(tmp_path, offline_command("--exit-after", "12"))
    with pytest.raises(ServeError, match=r"(?s)exited with code \d+ during the stage.*--exit-after 12"):
        with teacher_endpoint(dying["teacher"], tmp_path / "server.log") as teacher:
            label_sample(sample, dying["annotate"], teacher, False, str(out), stats_out)
    out.unlink(missing_ok=True)  # a stage that ended before the interrupt wrote it; Snakemake removes a failed job's outputs
    with TeacherCache(dying["teacher"]["cache"], identity(dying["teacher"])) as cache:
        kept = len(cache)
    assert 0 < kept <= 12

    healthy = section(tmp_path, offline_command())  # the same identity: the same teacher
    with teacher_endpoint(healthy["teacher"], tmp_path / "server.log") as teacher:
        result = label_sample(sample, healthy["annotate"], teacher, False, str(out), stats_out)
        asked = stats(teacher.base_url)
    assert result["labelled"] == 40 and result["requests_cached"] == kept
    assert asked["completed"] == 40 - kept and max(asked["chat_by_key"].values()) == 1
    assert len(pq.read_table(out)) == 40


def test_the_cache_keeps_each_teachers_answers_apart(tmp_path):
    path = tmp_path / "teacher.sqlite"
    usage = {"prompt_tokens": 1, "completion_tokens": 1}
    with TeacherCache(path, "http://a/v1") as a:
        a.put("k", "m", {}, {"answer": "a"}, usage)
    with TeacherCache(path, "http://b/v1") as b:
        assert b.get("k") is None and b.get_many(["k"]) == {}
    with TeacherCache(path, "http://a/v1") as a:
        assert a.get("k") == {"answer": "a"} and a.get_many(["k", "x"]) == {"k": {"answer": "a"}}


def test_a_teachers_identity_is_its_endpoint_its_command_or_its_name():
    base = {"identity": None, "serve": {"command": "vllm serve m --port {port}"}}
    assert identity({**base, "base_url": "http://a:8000/v1"}) == "http://a:8000/v1"
    assert identity({**base, "base_url": "serve"}) == "vllm serve m --port {port}"
    assert identity({**base, "base_url": "http://a:8000/v1", "identity": "m"}) == identity(
        {**base, "base_url": "http://b:9000/v1", "identity": "m"})


def test_the_offline_teachers_identity_is_its_version_and_answer_settings(tmp_path):
    config = section(tmp_path, None)
    offline = config["teacher"]["offline"]
    served_offline = as_served({**config["teacher"], "base_url": "offline"}, sys.executable)
    assert served_offline["identity"] == offline_identity(offline) and version() in served_offline["identity"]
    assert served_offline["cache"].endswith("teacher-offline.sqlite")
    for answer_setting in ({"answer_style": "varied"}, {"seed": 1}, {"response_formats": ["json_object"]}):
        assert offline_identity({**offline, **answer_setting}) != offline_identity(offline)
    for connection in ({"latency_ms": 5}, {"rate_429": 0.5}, {"rate_drop": 0.1}):
        assert offline_identity({**offline, **connection}) == offline_identity(offline)
        assert as_served({**config["teacher"], "base_url": "offline", "offline": {**offline, **connection}},
                         sys.executable)["serve"]["command"] != served_offline["serve"]["command"]


def test_the_offline_teachers_version_is_of_its_code_and_data_files(tmp_path):
    copy = tmp_path / "offline_teacher"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert version(copy) == version()
    for litter in ("__pycache__/x.pyc", ".ruff_cache/0.1/x", "data/.swp"):  # what tools leave beside the files
        (copy / litter).parent.mkdir(parents=True, exist_ok=True)
        (copy / litter).write_bytes(b"litter")
    assert version(copy) == version()
    for path in (copy / "rubric.py", sorted(copy.rglob("*.json"))[0]):
        before = version(copy)
        path.write_bytes(path.read_bytes() + b" ")
        assert version(copy) != before, path
