"""Run untrusted Python programs (teacher exercises, model completions) in isolated processes.

A program is Python source, run one of two ways (`Outcome.status` is one of STATUSES):
- to its end (a `str`): it passes when it runs to its end without an uncaught exception; one that
  ends early (sys.exit, SystemExit, os._exit, whatever the code) is "exited_early", never
  "passed". The exercise validator runs teacher exercises this way. The child that runs the
  program writes the completion record, so a program that sets out to forge its own result can.
- judged (a `Judged`): the program only defines functions, and its tests run in a second,
  trusted process, the judge, that never executes the program. Each call the tests make is sent
  to the program as plain data and its result comes back as plain data only (None, bool, int,
  float, complex, str, bytes, and lists, tuples, dicts, sets and frozensets of them); the judge
  compares. Anything else returned is "unserialisable_result", never a pass; an exception comes
  back as its type and arguments. The verdict is the judge's alone: nothing the program writes,
  and no way it exits, makes a pass. Benchmarks are scored this way.

`Limits` and `Judged` live in `phi1repro.programs`, so that code that only builds programs does
not reach the sandbox.

A `Sandbox` keeps `workers` zygote processes (`phi1repro/sandbox/zygote.py`). Each is a bare
interpreter (`python -I -S`: no site-packages, no user site, no PYTHON* variables, no project
on sys.path, and no site builtins such as exit() or help()) that has imported the commonly used
standard library once and forks a child per program (and a judge), so a program costs a fork
rather than an interpreter start.

What is enforced, per program:
- its own process: a crash, `os._exit` or a corrupted interpreter ends only the child;
- limits (`Limits`): wall time (the zygote kills it), CPU time, address space, open files,
  size of any file it writes, captured output; no core dumps. The rlimits apply per process:
  each process a program starts gets its own; the wall time bounds them all;
- a fresh empty working directory, also HOME and TMPDIR, removed afterwards;
- an environment holding only HOME and TMPDIR: the parent's variables are not passed on;
- stdin is /dev/null;
- no capabilities (but CAP_DAC_READ_SEARCH as PROGRAM_UID, see below), and the zygote, the judge
  and other programs are not dumpable: a program can neither trace them nor read their memory
  or descriptors;
- when it ends, everything it started is killed: its process group always and, inside a PID
  namespace, every process in it (so also descendants that left the group with setsid).

Where `unshare` works, each zygote runs in its own user and PID namespaces, a network namespace
with no interface up unless `network=True` (no network, not even loopback), and where the
machine allows it a mount namespace with a private /proc (other processes, and so their
environments, are invisible); `sandbox.namespaces` lists the options in effect. Inside them the
processes and threads of a program are limited too (RLIMIT_NPROC, `sandbox.process_limited`).
The kernel exempts a real root user from that limit, so a sandbox run by root makes each zygote's
user namespace itself, mapping root to root and one more user to PROGRAM_UID outside, and runs
programs as that user (`sandbox.programs_as_user`): bound by the limit, unable to signal, trace
or write anything of root's. Without `unshare` (`namespaces == ()`, a warning is logged)
programs share the network and the process table, and descendants that call setsid survive.

Inside a mount namespace (`sandbox.read_only_fs`) programs can write only in their zygote's
own directory, which holds each program's working directory and is emptied after each program:
every other mount is read-only to them, and no device opens but /dev/null, zero, full, random
and urandom. They hold no capabilities that could undo this (none, or as PROGRAM_UID only
CAP_DAC_READ_SEARCH). Elsewhere (a warning is
logged) a program can write wherever the user who runs the sandbox can, within the file-size
limit per file.

What is not isolated: this is process isolation, not a virtual machine. A program runs as the
user who runs the sandbox (mapped to root inside its user namespace, without privileges
outside it), or as PROGRAM_UID when that is root, and can read every file that user can read
(as PROGRAM_UID it keeps CAP_DAC_READ_SEARCH for this: the interpreter's library may lie in
root's home).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import queue
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from threading import Lock

from ..programs import Judged, Limits
from ..progress import progress
from .zygote import PROGRAM_USER, to_plain

log = logging.getLogger(__name__)

STATUSES = ("passed", "assertion_failed", "exception", "syntax_error", "timeout", "out_of_memory", "killed",
            "exited_early", "unserialisable_result")
STARTUP_TIMEOUT_S = 60.0  # for a zygote to import its modules and say it is ready
ANSWER_GRACE_S = 10.0  # beyond the wall-time limit, for a zygote to clean up and answer
_HEADER = struct.Struct(">I")
_ZYGOTE_SOURCE = Path(__file__).with_name("zygote.py")
_USER_NAMESPACE = ("--user", "--map-root-user")
_NAMESPACES = (*_USER_NAMESPACE, "--pid", "--fork", "--kill-child")
_PRIVATE_PROC = ("--mount", "--mount-proc")
PROGRAM_UID = 65534  # outside the user namespace, the user that programs run as when root runs the sandbox
# Run by root, the sandbox makes the zygote's user namespace itself: this stage enters a new one, says
# so with one byte, waits until the sandbox has mapped root to root and PROGRAM_USER to PROGRAM_UID
# (only a writer outside may map two users), then executes the rest of its command line.
_USER_NAMESPACE_STAGE = """
import ctypes, os, sys
if ctypes.CDLL(None, use_errno=True).unshare(0x10000000) != 0:  # CLONE_NEWUSER
    sys.exit("unshare(CLONE_NEWUSER): " + os.strerror(ctypes.get_errno()))
os.write(1, b"u")
if os.read(0, 1) == b"m":
    os.execv(sys.argv[1], sys.argv[1:])
"""


@dataclass(frozen=True)
class Outcome:
    """How a program ended, `status` being one of
    passed            it ran to its end
    assertion_failed  an uncaught AssertionError
    exception         another uncaught exception
    syntax_error      it does not compile
    timeout           the wall or the CPU time limit
    out_of_memory     a MemoryError, or a signal while 90% of the memory limit was resident
    killed            another signal, or its worker died
    exited_early      SystemExit or os._exit before its end
    unserialisable_result  judged: a function returned something other than plain data
    and `detail` the exception type and message, the signal, exit status or limit. stdout and
    stderr are capped at `Limits.max_output_bytes` each."""

    status: str
    detail: str = ""
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0  # wall time of the program's run
    results: list | None = None  # judged: what the tests recorded, in order

    @property
    def passed(self) -> bool:
        return self.status == "passed"


class _WorkerLost(Exception):
    """A zygote died or stopped answering."""


class Sandbox:
    """`workers` zygotes that run programs in parallel under `limits`, without network unless
    `network` (where unshare works, see `namespaces`) and unable to write outside their own
    directories (see `read_only_fs`); a context manager.

    Safe to use from several threads: each call takes the zygotes it needs from a shared pool.
    """

    def __init__(self, workers: int, limits: Limits = Limits(), network: bool = False):
        if workers < 1:
            raise ValueError(f"a sandbox needs at least one worker, not {workers}")
        self.limits = limits
        self.namespaces = _unshare_options(network)
        self._root = tempfile.mkdtemp(prefix="phi1repro-sandbox-")
        self._limits = asdict(limits)
        self._workers = [_Zygote(self.namespaces, self._root) for _ in range(workers)]
        self._idle: queue.SimpleQueue[_Zygote] = queue.SimpleQueue()
        try:
            for worker in self._workers:
                worker.wait_ready()
                self._idle.put(worker)
        except BaseException:
            self.close()
            raise

    @property
    def network_isolated(self) -> bool:
        return "--net" in self.namespaces

    @property
    def read_only_fs(self) -> bool:
        """Whether programs can write only in the zygotes' own directories (see the module docstring)."""
        return all(worker.read_only_fs for worker in self._workers)

    @property
    def programs_as_user(self) -> bool:
        """Whether programs run as PROGRAM_UID rather than as the user who runs the sandbox (root)."""
        return self._workers[0].programs_as_user

    @property
    def process_limited(self) -> bool:
        """Whether `Limits.max_processes` binds programs (RLIMIT_NPROC, inside the zygotes' user namespaces,
        where the kernel does not exempt them: a sandbox run by root runs its programs as PROGRAM_UID)."""
        return bool(self.namespaces)

    @property
    def worker_pids(self) -> list[int]:
        """The pids of the worker processes (`unshare`, or the zygote itself without namespaces)."""
        return [worker.process.pid for worker in self._workers]

    def run(self, programs: Sequence[str | Judged], desc: str = "execute") -> list[Outcome]:
        """Run every program; their outcomes in input order."""
        if not programs:
            return []
        outcomes: list[Outcome | None] = [None] * len(programs)
        jobs: queue.SimpleQueue[int] = queue.SimpleQueue()
        for index in range(len(programs)):
            jobs.put(index)
        lock = Lock()

        def serve(bar) -> None:
            worker = self._idle.get()
            try:
                while True:
                    try:
                        index = jobs.get_nowait()
                    except queue.Empty:
                        return
                    outcomes[index] = self._execute(worker, programs[index])
                    with lock:
                        bar.update()
            finally:
                self._idle.put(worker)

        threads = min(len(self._workers), len(programs))
        with progress(total=len(programs), desc=desc, unit="prog") as bar, ThreadPoolExecutor(threads) as pool:
            for future in [pool.submit(serve, bar) for _ in range(threads)]:
                future.result()
        return outcomes

    def run_one(self, program: str | Judged) -> Outcome:
        worker = self._idle.get()
        try:
            return self._execute(worker, program)
        finally:
            self._idle.put(worker)

    def _execute(self, worker: _Zygote, program: str | Judged) -> Outcome:
        start = time.monotonic()
        limits = self._limits
        if isinstance(program, Judged):
            judge = {"tests": program.tests, "functions": list(program.functions), "context": program.context,
                     "references": list(program.references), "data": to_plain(program.data)}
            limits = asdict(program.limits) if program.limits else limits
            request = {"program": program.program, "judge": judge, "limits": limits}
        else:
            request = {"program": program, "limits": limits}
        try:
            answer = worker.ask(request, timeout_s=limits["timeout_s"] + ANSWER_GRACE_S)
        except _WorkerLost as lost:
            log.warning("%s; restarting it", lost)
            worker.restart()
            return Outcome("killed", str(lost), seconds=time.monotonic() - start)
        return Outcome(**answer)

    def close(self) -> None:
        """Stop the zygotes and remove their working directories."""
        for worker in self._workers:
            worker.stop()
        shutil.rmtree(self._root, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Zygote:
    """One zygote process and the length-prefixed JSON protocol on its stdin/stdout."""

    def __init__(self, namespaces: tuple[str, ...], root: str):
        self.namespaces, self.root = namespaces, root
        self.programs_as_user = bool(namespaces) and os.geteuid() == 0
        self._start()

    def _start(self) -> None:
        flags = ("--read-only",) if "--mount" in self.namespaces else ()
        if self.programs_as_user:
            flags += ("--programs-as-user",)
        command = [sys.executable, "-I", "-S", "-c", _ZYGOTE_SOURCE.read_text(), self.root, *flags]
        if self.programs_as_user:
            others = [option for option in self.namespaces if option not in _USER_NAMESPACE]
            command = [sys.executable, "-I", "-S", "-c", _USER_NAMESPACE_STAGE, shutil.which("unshare"), *others,
                       *command]
        elif self.namespaces:
            command = [shutil.which("unshare"), *self.namespaces, *command]
        # A new session: a Ctrl-C in the terminal reaches the parent, which then stops the zygotes.
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={}, bufsize=0,
                                        start_new_session=True)
        self._answers = select.poll()
        self._answers.register(self.process.stdout.fileno(), select.POLLIN)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        try:
            if self.programs_as_user:
                self._map_users(deadline)
            ready = self._receive(deadline)
        except _WorkerLost as lost:
            self.stop()
            raise RuntimeError(f"{lost} while starting (its stderr is above)") from None
        self.read_only_fs = ready["read_only_fs"]
        if not self.read_only_fs:
            _warn_writable(ready["why_writable"])

    def _map_users(self, deadline: float) -> None:
        """Map the stage's new user namespace (see _USER_NAMESPACE_STAGE), then let it go on."""
        if self._read(1, deadline) != b"u":
            raise self._died()
        mapping = f"0 0 1\n{PROGRAM_USER} {PROGRAM_UID} 1\n"
        for name in ("uid_map", "gid_map"):
            Path(f"/proc/{self.process.pid}/{name}").write_text(mapping)
        os.write(self.process.stdin.fileno(), b"m")

    def restart(self) -> None:
        self.stop()
        self._start()
        self.wait_ready()

    def ask(self, request: dict, timeout_s: float) -> dict:
        body = json.dumps(request).encode()
        message = memoryview(_HEADER.pack(len(body)) + body)
        try:
            while message:
                message = message[os.write(self.process.stdin.fileno(), message):]
        except BrokenPipeError:
            raise self._died() from None
        return self._receive(time.monotonic() + timeout_s)

    def _receive(self, deadline: float) -> dict:
        size = _HEADER.unpack(self._read(_HEADER.size, deadline))[0]
        return json.loads(self._read(size, deadline))

    def _read(self, size: int, deadline: float) -> bytes:
        fd, data = self.process.stdout.fileno(), bytearray()
        while len(data) < size:
            if not self._answers.poll(max(0.0, deadline - time.monotonic()) * 1000):
                self.process.kill()
                raise _WorkerLost("the sandbox worker did not answer in time")
            chunk = os.read(fd, size - len(data))
            if not chunk:
                raise self._died()
            data += chunk
        return data

    def _died(self) -> _WorkerLost:
        return _WorkerLost(f"the sandbox worker died (exit status {self.process.wait()})")

    def stop(self) -> None:
        """Closing stdin ends the zygote (after its current program); kill it if it lingers."""
        for pipe in (self.process.stdin, self.process.stdout):
            pipe.close()
        try:
            self.process.wait(timeout=ANSWER_GRACE_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@functools.cache
def _warn_writable(why: str) -> None:
    log.warning("sandboxed programs can write wherever the user can (%s)", why)


@functools.cache
def _unshare_options(network: bool) -> tuple[str, ...]:
    """The `unshare` options that work on this machine, most isolating first; () if none do."""
    unshare = shutil.which("unshare")
    network_options = () if network else ("--net",)
    for extra in (_PRIVATE_PROC, ()):
        options = (*_NAMESPACES, *network_options, *extra)
        if unshare and subprocess.run([unshare, *options, "true"], capture_output=True).returncode == 0:
            return options
    log.warning("unshare is unavailable here: sandboxed programs share the network and the process table")
    return ()
