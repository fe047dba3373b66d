"""The code a rule's script runs: which phi1repro modules it reaches, and when the digest changes."""

import shutil
from pathlib import Path

from phi1repro.codeversion import code_digest, reached_modules

REPO = Path(__file__).resolve().parents[1]


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def package(root: Path) -> Path:
    """A phi1repro package with every way a module is reached, and one module nothing reaches."""
    write(root / "phi1repro/__init__.py", "")
    write(root / "phi1repro/stage/__init__.py", "")
    write(root / "phi1repro/stage/core.py", "from . import helper\nfrom ..io import write\n")
    write(root / "phi1repro/stage/helper.py", "import subprocess\nsubprocess.run(['python', '-m', 'phi1repro.tool'])\n")
    write(root / "phi1repro/tool/__init__.py", "")
    write(root / "phi1repro/tool/__main__.py", "from phi1repro.io import write\nZYGOTE = 'zygote.py'\n")
    write(root / "phi1repro/tool/zygote.py", "print('ready')\n")
    write(root / "phi1repro/io.py", "def write(): pass\n")
    write(root / "phi1repro/unused.py", "x = 1\n")
    script = root / "scripts/stage_run.py"
    write(script, "import json\nfrom phi1repro.stage import core\n")
    return script


def test_a_script_reaches_imports_relative_imports_module_strings_and_sibling_files(tmp_path):
    script = package(tmp_path)
    assert list(reached_modules(script, tmp_path)) == [
        "phi1repro", "phi1repro.io", "phi1repro.stage", "phi1repro.stage.core", "phi1repro.stage.helper",
        "phi1repro.tool", "phi1repro.tool.__main__", "phi1repro.tool.zygote",
    ]


def test_the_digest_changes_with_the_script_and_the_modules_it_reaches_only(tmp_path):
    script = package(tmp_path)
    before = code_digest(script, tmp_path)
    assert code_digest(script, tmp_path) == before
    write(tmp_path / "phi1repro/unused.py", "x = 2\n")
    assert code_digest(script, tmp_path) == before
    for edited in (tmp_path / "phi1repro/tool/zygote.py", tmp_path / "phi1repro/io.py", script):
        text = edited.read_text()
        write(edited, text + "# edited\n")
        changed = code_digest(script, tmp_path)
        assert changed != before
        write(edited, text)
        assert code_digest(script, tmp_path) == before


def test_the_workflow_scripts_reach_what_they_run():
    train = reached_modules(REPO / "scripts/train.py", REPO)
    assert {"phi1repro.train.__main__", "phi1repro.train.trainer", "phi1repro.train.model"} <= set(train)
    textbooks = reached_modules(REPO / "scripts/synth_textbooks.py", REPO)
    assert {"phi1repro.teacher.client", "phi1repro.sandbox", "phi1repro.sandbox.zygote"} <= set(textbooks)
    assert not any(name.startswith("phi1repro.train") for name in reached_modules(REPO / "scripts/corpus_read.py", REPO))


def test_no_script_and_no_pipeline_module_reaches_the_offline_teacher():
    """The offline teacher is a tool beside the pipeline: its version enters a rule only as the configured
    teacher (the `teacher` param), never through the code digest."""
    scripts = sorted((REPO / "scripts").glob("*.py"))
    assert len(scripts) > 30
    for script in scripts:
        reached = reached_modules(script, REPO)
        assert not [m for m in reached if m.startswith("phi1repro.offline_teacher")], script.name
    textbooks = reached_modules(REPO / "scripts/synth_textbooks.py", REPO)
    assert {"phi1repro.teacher.endpoint", "phi1repro.teacher.serve"} <= set(textbooks)
    pipeline = [p for p in (REPO / "phi1repro").rglob("*.py") if "offline_teacher" not in p.parts]
    assert not [p for p in pipeline if "offline_teacher" in p.read_text()]


def test_generation_does_not_reach_the_sandbox(tmp_path):
    """An edit of the sandbox reruns scoring, not generation on the GPU."""
    shutil.copytree(REPO / "phi1repro", tmp_path / "phi1repro", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "scripts", tmp_path / "scripts", ignore=shutil.ignore_patterns("__pycache__"))
    generate, score = tmp_path / "scripts/evaluate_generate.py", tmp_path / "scripts/evaluate_score.py"
    reached = reached_modules(generate, tmp_path)
    assert not [m for m in reached if m.startswith(("phi1repro.sandbox", "phi1repro.evaluate.score"))]
    before = code_digest(generate, tmp_path), code_digest(score, tmp_path)
    zygote = tmp_path / "phi1repro/sandbox/zygote.py"
    write(zygote, zygote.read_text() + "# edited\n")
    after = code_digest(generate, tmp_path), code_digest(score, tmp_path)
    assert after[0] == before[0] and after[1] != before[1]
