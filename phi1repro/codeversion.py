"""The code a rule's script runs: the script and the phi1repro modules it reaches, as one digest.

Snakemake reruns a job when its script's mtime is newer than its outputs, not when a module the
script imports changes. The Snakefile gives every script rule a `code` param, this digest, so an edit
to the script or to library code reruns exactly the rules that use it (and what is downstream), and
the digest is recorded with each output (see phi1repro.archive).

The modules are found statically, and followed transitively: `import` statements, relative imports,
string constants that name a module (`python -m phi1repro.train` in a subprocess) or a sibling
file (`Path(__file__).with_name("zygote.py")`). Importing `a.b.c` runs the `__init__` of `a` and
`a.b` too, so those count.
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

PACKAGE = "phi1repro"


def module_file(name: str, root: Path) -> Path | None:
    """The source file of module `name` (dotted) under `root`, the directory that holds the package."""
    path = root.joinpath(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _referenced(source: str, filename: str, this: str | None, root: Path) -> set[str]:
    """Every package module `source` imports or names; `this` is its own dotted name, for relative imports."""
    tree = ast.parse(source, filename)
    package = None
    if this is not None:
        package = this if Path(filename).name == "__init__.py" else this.rpartition(".")[0]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if package is None:
                    continue
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import submodule`
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value.startswith(PACKAGE + "."):  # `python -m phi1repro.x` runs x/__main__.py if x is a package
                names.update((node.value, f"{node.value}.__main__"))
            elif package and node.value.endswith(".py") and (Path(filename).parent / node.value).is_file():
                names.add(f"{package}.{node.value.removesuffix('.py')}")  # a sibling file it runs
    return {
        parent
        for name in names
        if name == PACKAGE or name.startswith(PACKAGE + ".")
        for parent in _parents(name)
        if module_file(parent, root) is not None
    }


class CodeIndex:
    """The package under `root` (the directory that holds phi1repro), each file read and parsed once."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._files: dict[Path, tuple[str, frozenset[str]]] = {}

    def _file(self, path: Path, name: str | None) -> tuple[str, frozenset[str]]:
        """(sha256, referenced modules) of one file."""
        if path not in self._files:
            source = path.read_bytes()
            references = _referenced(source.decode(), str(path), name, self.root)
            self._files[path] = hashlib.sha256(source).hexdigest(), frozenset(references)
        return self._files[path]

    def reached_modules(self, script: str | Path) -> dict[str, Path]:
        """Module name -> source file, for every package module `script` reaches, transitively."""
        seen: dict[str, Path] = {}
        pending = set(self._file(Path(script), None)[1])
        while pending:
            name = pending.pop()
            seen[name] = path = module_file(name, self.root)
            pending |= self._file(path, name)[1] - seen.keys()
        return dict(sorted(seen.items()))

    def digest(self, script: str | Path) -> str:
        """sha256 over `script` and the names and sources of the package modules it reaches."""
        digest = hashlib.sha256(self._file(Path(script), None)[0].encode())
        for name, path in self.reached_modules(script).items():
            digest.update(f"\n{name}\0{self._file(path, name)[0]}".encode())
        return digest.hexdigest()


def reached_modules(script: str | Path, root: str | Path) -> dict[str, Path]:
    return CodeIndex(root).reached_modules(script)


def code_digest(script: str | Path, root: str | Path) -> str:
    return CodeIndex(root).digest(script)
