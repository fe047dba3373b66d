"""The worker side of `phi1repro.sandbox`: a zygote that forks the processes of each program.

`Sandbox` starts this file's text as `python -I -S -c <text> <workdir root> [--read-only]
[--programs-as-user]` (under `unshare` where it can), so it must need nothing but the standard
library. With --programs-as-user (a sandbox run by root, whose user namespace maps PROGRAM_USER to
an unprivileged user outside) programs run as that user, so that RLIMIT_NPROC binds them. The zygote
imports the modules that programs commonly use once, makes its own directory under the root,
and with --read-only (given in a mount namespace of its own) makes every mount but that
directory read-only for its programs. It says it is ready, whether read-only is in effect and
if not why, then serves requests on its stdin/stdout, each a 4-byte big-endian length and a
JSON object:

    ready {"ready": true, "read_only_fs": bool, "why_writable": str}
    in    {"program": str, "limits": {Limits fields},
           "judge": null | {"tests", "functions", "context", "references", "data"}}
    out   {"status": str, "detail": str, "stdout": str, "stderr": str, "seconds": float, "results": null | list}

For each request it forks a child that runs the program in a fresh `__main__` module, in its
own session, in a fresh directory in the zygote's own, with resource limits and no capabilities.

Without a judge the program passes when it runs to its end: the child writes a completion
record tagged with a per-run nonce to a dedicated pipe once the program has run to its end (or
raised), so a program that exits early never produces one.

With a judge the program only defines functions; the verdict is the judge's. The zygote forks a
second child, the judge, which never executes the program: it runs the benchmark's `context` and
`tests` with each name in `functions` bound to a stand-in that sends the call's arguments to the
program as plain data and rebuilds the result from the plain data that comes back (`to_plain`,
`from_plain`). The program's child serves those calls and nothing else. The judge writes the
verdict to a pipe that only it holds; it is not dumpable, so the program, without capabilities,
can neither trace it nor open its memory or descriptors. Nothing the program writes or how it
exits makes a pass: only tests that ran to their end in the judge do.

Tests that compare outputs with expected ones (EvalPlus) call `call_each(function, inputs,
time_limits)`: one message carries every input, the program answers each as it finishes, and
the judge times each answer from the previous one, so a slow input fails at its own limit
without a round trip per input. The judge stops reading at the first failure; the program is
killed with everything else it started.

The zygote waits (for the judge, if any) up to the wall-time limit, then kills everything the
program started, reaps, empties its own directory and answers.
"""

from __future__ import annotations

import builtins
import collections
import ctypes
import functools
import gc
import hashlib
import json
import linecache
import marshal
import os
import resource
import select
import shutil
import signal
import struct
import sys
import tempfile
import time
import traceback
import types

# Imported once here so that forked children find them loaded: doctest alone (which pulls in
# pdb, inspect, unittest, difflib) would otherwise cost a child about 30 ms, and readline,
# which every doctest run imports (pdb.Pdb does), about 1 ms.
PRELOADED = (
    "doctest", "readline", "collections", "itertools", "functools", "math", "re", "typing",
    "dataclasses", "string", "heapq", "bisect", "statistics", "datetime", "random", "json",
    "decimal", "fractions", "operator", "copy", "enum",
)
HEADER = struct.Struct(">I")
FILENAME, CONTEXT_FILENAME, TESTS_FILENAME = "<program>", "<context>", "<tests>"
ZYGOTE_FILENAME = "<string>"  # python -c
DETAIL_CHARS = 2000  # a completion record's detail is cut to this length
RECORD_BYTES = 1 << 16  # the tail of the completion pipe that is kept
MAX_REPLY_BYTES = 16 << 20  # a larger result of a call goes as its Digest
MAX_REPLY_ITEMS = 1 << 16  # and so does one of more items (or characters)
DIGEST_SLICE = 1 << 14  # the items of a long list hashed at a time
FLAT_TYPES = {type(None), bool, int, float, complex, str, bytes}
MAX_VERDICT_BYTES = 256 << 20  # a verdict with the results the tests recorded (expected outputs)
MAX_DEPTH = 100  # plain data nested deeper is unserialisable
BIG_INT = 1 << 63  # larger integers travel as hex, which has no digit limit
CHUNK = 1 << 16
NEAR_MEMORY_LIMIT = 0.9  # a child killed by a signal with this share of the memory limit resident ran out of memory
HARMLESS_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")  # all others are off limits
# Linux ABI (mount_setattr has the same number on every architecture but alpha)
SYS_MOUNT_SETATTR = 442
AT_FDCWD, AT_RECURSIVE = -100, 0x8000
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NODEV = 0x1, 0x4
MS_BIND = 0x1000
PR_SET_DUMPABLE, PR_SET_KEEPCAPS, PR_CAPBSET_DROP = 4, 8, 24
CAP_DAC_READ_SEARCH = 2
PROGRAM_USER = 1  # inside the user namespace; see --programs-as-user
LINUX_CAPABILITY_VERSION_3 = 0x20080522

# A judge rebuilds the program's exceptions of these built-in types; StopIteration and
# StopAsyncIteration are left out, since raised in a test they would end its iterations early.
REBUILT_EXCEPTIONS = {name: kind for name, kind in vars(builtins).items() if isinstance(kind, type)
                      and issubclass(kind, Exception) and not issubclass(kind, (StopIteration, StopAsyncIteration))}
# How the program can fail before the tests start, as its child reports it to the judge.
PROGRAM_FAILURES = ("syntax_error", "exception", "assertion_failed", "out_of_memory", "exited_early")
# What a batch call returns of each result, applied by the program before it serialises the result
# (EvalPlus keeps only this of results that are not data, such as re.Match objects).
PROJECTIONS = {
    None: lambda value: value,
    "not_none": lambda value: value is not None,
    "bool_or_not_none": lambda value: value if isinstance(value, bool) else value is not None,
}

libc = ctypes.CDLL(None, use_errno=True)
programs_as_user = False  # set by main from --programs-as-user


class MountAttr(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in ("attr_set", "attr_clr", "propagation", "userns_fd")]


class CapabilityHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


def main() -> None:
    global programs_as_user
    # The protocol moves to private descriptors; 0 and 1 point at /dev/null, so that nothing
    # else (a stray print, a child that forgets to close them) can write into it.
    requests, answers = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    # Not dumpable, nor are the children it forks: a program cannot trace the zygote, a judge or
    # another program, nor open their memory or descriptors, without CAP_SYS_PTRACE.
    check(libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "prctl(PR_SET_DUMPABLE)")
    for name in PRELOADED:
        try:
            __import__(name)
        except ImportError:  # e.g. an interpreter built without readline
            pass
    programs_as_user = "--programs-as-user" in sys.argv[2:]
    own_root = tempfile.mkdtemp(dir=sys.argv[1])
    if programs_as_user:
        os.chown(own_root, PROGRAM_USER, PROGRAM_USER)
    why_writable = make_read_only_but(own_root) if "--read-only" in sys.argv[2:] else "no mount namespace of its own"
    del sys.argv[1:]  # programs see sys.argv == ["-c"], as with `python -c`
    gc.collect()
    gc.freeze()  # keeps the collector from touching (and so copying) the zygote's objects in children
    # As PID 1 of its own PID namespace, the zygote can kill every process a program starts.
    contained = os.getpid() == 1
    read_only = not why_writable
    send(answers, {"ready": True, "read_only_fs": read_only, "why_writable": why_writable})
    while (request := receive(requests)) is not None:
        run = run_judged if request.get("judge") else run_plain
        send(answers, run(request, own_root, contained))


def make_read_only_but(writable: str) -> str:
    """In a mount namespace of its own, make every mount read-only and unable to open devices,
    except `writable` (writable, no devices) and HARMLESS_DEVICES (read-only, which does not
    stop writes to a device), each made a mount of its own. The capability bounding set is
    emptied too: children that drop their capabilities cannot undo this, and a user namespace
    they create gets copies of these mounts with the flags locked. '' if done, else why not."""
    try:
        with open("/proc/sys/kernel/cap_last_cap") as file:
            last_capability = int(file.read())
        for capability in range(last_capability + 1):
            check(libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(capability), 0, 0, 0), "dropping capabilities")
        devices = [device for device in HARMLESS_DEVICES if os.path.exists(device)]
        for path in (writable, *devices):
            check(libc.mount(os.fsencode(path), os.fsencode(path), None, ctypes.c_ulong(MS_BIND), None), "bind mount")
        mount_setattr("/", AT_RECURSIVE, MountAttr(attr_set=MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV))
        mount_setattr(writable, 0, MountAttr(attr_clr=MOUNT_ATTR_RDONLY))
        for device in devices:
            mount_setattr(device, 0, MountAttr(attr_clr=MOUNT_ATTR_NODEV))
    except OSError as error:
        return str(error)
    return ""


def mount_setattr(path: str, flags: int, attributes: MountAttr) -> None:
    check(libc.syscall(ctypes.c_long(SYS_MOUNT_SETATTR), ctypes.c_int(AT_FDCWD), os.fsencode(path),
                       ctypes.c_uint(flags), ctypes.byref(attributes), ctypes.c_size_t(ctypes.sizeof(attributes))),
          "mount_setattr")


def drop_capabilities() -> None:
    """Empty the capability bounding set where this process may (so that executing a program does
    not restore any), then drop every capability. With --programs-as-user, become PROGRAM_USER
    first, keeping CAP_DAC_READ_SEARCH alone (over the namespace's files: root's and the program
    user's), so that the program still reads what root can, such as an interpreter's library in
    root's home, but can write, signal and trace nothing of root's."""
    with open("/proc/sys/kernel/cap_last_cap") as file:
        last_capability = int(file.read())
    for capability in range(last_capability + 1):
        if libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(capability), 0, 0, 0) != 0:
            break  # without CAP_SETPCAP: an unprivileged user, whose bounding set grants nothing on exec
    kept = 0
    if programs_as_user:
        os.setgroups([])
        os.setresgid(PROGRAM_USER, PROGRAM_USER, PROGRAM_USER)
        check(libc.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), "prctl(PR_SET_KEEPCAPS)")
        os.setresuid(PROGRAM_USER, PROGRAM_USER, PROGRAM_USER)
        kept = 1 << CAP_DAC_READ_SEARCH
    capabilities = (ctypes.c_uint32 * 6)(kept, kept)  # effective, permitted, inheritable, for two 32-bit words
    check(libc.capset(ctypes.byref(CapabilityHeader(LINUX_CAPABILITY_VERSION_3, 0)), capabilities), "capset")


def check(result: int, operation: str) -> None:
    """Raise OSError for the errno of a libc call that returned nonzero."""
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{operation}: {os.strerror(error)}")


def receive(fd: int) -> dict | None:
    """The next message; None once the writer has closed the pipe (or died). One that is not a
    JSON object raises ValueError."""
    header = read_exactly(fd, HEADER.size)
    if header is None:
        return None
    size = HEADER.unpack(header)[0]
    body = read_exactly(fd, size)
    message = None if body is None else json.loads(body)
    if body is not None and not isinstance(message, dict):
        raise ValueError("a message that is not a JSON object")
    return message


def read_exactly(fd: int, size: int) -> bytearray | None:
    data = bytearray()
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def send(fd: int, message: dict) -> None:
    body = json.dumps(message).encode()
    write_all(fd, HEADER.pack(len(body)) + body)


def send_reply(fd: int, reply: dict) -> None:
    """A reply to the judge; a value too large to send goes as its Digest (see `answer`)."""
    body = json.dumps(reply).encode()
    if len(body) > MAX_REPLY_BYTES and "value" in reply:
        body = json.dumps({"value": to_plain(Digest.of(from_plain(reply["value"])))}).encode()
    write_all(fd, HEADER.pack(len(body)) + body)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def spawn(keep: tuple[int, ...], body) -> int:
    """Fork a child that closes every descriptor but 0-2 and `keep`, then runs `body`."""
    pid = os.fork()
    if pid == 0:
        try:
            low = 3
            for fd in sorted(keep):
                os.closerange(low, fd)
                low = fd + 1
            os.closerange(low, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
            body()
        except BaseException:  # setting up the child failed (the program's own errors are caught in execute)
            traceback.print_exc()
        os._exit(125)
    return pid


def run_plain(request: dict, own_root: str, contained: bool) -> dict:
    """Run one program in a forked child, in a fresh directory in `own_root` (emptied afterwards); it
    passes when it runs to its end."""
    program, limits = request["program"], request["limits"]
    workdir = tempfile.mkdtemp(dir=own_root)
    nonce = os.urandom(8).hex()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    record_r, record_w = os.pipe()
    start = time.monotonic()
    pid = spawn((out_w, err_w, record_w),
                lambda: run_to_end(program, limits, workdir, nonce, out_w, err_w, record_w, contained))
    for fd in (out_w, err_w, record_w):
        os.close(fd)
    stdout, stderr = Capture(out_r, limits["max_output_bytes"]), Capture(err_r, limits["max_output_bytes"])
    record = Capture(record_r, RECORD_BYTES, keep_tail=True)  # the record comes last
    timed_out = not wait(pid, start + limits["timeout_s"], (stdout, stderr, record))
    seconds = time.monotonic() - start
    [(status, usage)] = kill_and_reap((pid,), contained)
    outcome = completion_record(finish(own_root, stdout, stderr, record), nonce, pid)
    outcome = outcome or classify_death(status, usage, timed_out, limits)
    return {**outcome, "seconds": seconds, **output(stdout, stderr)}


def run_judged(request: dict, own_root: str, contained: bool) -> dict:
    """Run one program in a forked child that serves calls, and its tests in a second, the judge;
    the verdict is the judge's (see the module docstring)."""
    program, limits, judge = request["program"], request["limits"], request["judge"]
    workdir = tempfile.mkdtemp(dir=own_root)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    calls_r, calls_w = os.pipe()  # judge -> program
    replies_r, replies_w = os.pipe()  # program -> judge
    start = time.monotonic()
    program_pid = spawn((out_w, err_w, calls_r, replies_w),
                        lambda: serve_calls(program, limits, workdir, out_w, err_w, calls_r, replies_w, contained))
    verdict_r, verdict_w = os.pipe()  # made after the program's fork: only the judge holds its end
    judge_pid = spawn((err_w, calls_w, replies_r, verdict_w),
                      lambda: run_tests(judge, limits, err_w, calls_w, replies_r, verdict_w))
    for fd in (out_w, err_w, calls_r, calls_w, replies_r, replies_w, verdict_w):
        os.close(fd)
    stdout, stderr = Capture(out_r, limits["max_output_bytes"]), Capture(err_r, limits["max_output_bytes"])
    verdict = Capture(verdict_r, MAX_VERDICT_BYTES)
    timed_out = not wait(judge_pid, start + limits["timeout_s"], (stdout, stderr, verdict))
    seconds = time.monotonic() - start
    (program_status, program_usage), (judge_status, judge_usage) = kill_and_reap((program_pid, judge_pid), contained)
    record = finish(own_root, stdout, stderr, verdict)
    if timed_out:
        outcome = {"status": "timeout", "detail": f"wall time limit of {limits['timeout_s']:g} s"}
    elif (outcome := judge_verdict(record)) is None:  # the program may kill the judge: never a pass
        outcome = {"status": "killed", "detail": "the judge ended without a verdict "
                   f"({classify_death(judge_status, judge_usage, False, limits)['detail']})"}
    elif outcome["status"] == "lost":  # the program's process ended while the tests ran
        outcome = classify_death(program_status, program_usage, False, limits)
    return {**outcome, "seconds": seconds, **output(stdout, stderr)}


def judge_verdict(record: bytearray) -> dict | None:
    """The judge's verdict, None unless it wrote one whole."""
    try:
        verdict = json.loads(record)
    except ValueError:
        return None
    return verdict if isinstance(verdict, dict) and {"status", "detail", "results"} <= verdict.keys() else None


def finish(own_root: str, *captures: Capture) -> bytearray:
    """Drain and close the captures, empty the zygote's directory (the working directory and
    whatever the program wrote beside it); the last capture's data."""
    for capture in captures:
        capture.drain()
    empty(own_root)
    return captures[-1].data


def output(stdout: Capture, stderr: Capture) -> dict:
    return {"stdout": stdout.data.decode(errors="replace"), "stderr": stderr.data.decode(errors="replace")}


class Capture:
    """What a child writes to a pipe, at most `cap` bytes of it: the head, or the tail."""

    def __init__(self, fd: int, cap: int, keep_tail: bool = False):
        self.fd, self.cap, self.keep_tail = fd, cap, keep_tail
        self.data = bytearray()

    def read(self) -> bool:
        """Read what is available; False at end of file."""
        chunk = os.read(self.fd, CHUNK)
        if self.keep_tail:
            self.data += chunk
            del self.data[:-self.cap]
        else:
            self.data += chunk[: self.cap - len(self.data)]
        return bool(chunk)

    def drain(self) -> None:
        """Read what is left, without waiting for writers that may have escaped the kill; close."""
        os.set_blocking(self.fd, False)
        try:
            while self.read():
                pass
        except BlockingIOError:
            pass
        os.close(self.fd)


def empty(directory: str) -> None:
    """Remove everything in `directory`."""
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                try:
                    os.unlink(entry.path)
                except OSError:
                    pass


def wait(pid: int, deadline: float, captures: tuple[Capture, ...]) -> bool:
    """Collect the children's output until `pid` exits (True) or the deadline passes (False)."""
    pidfd = os.pidfd_open(pid)
    by_fd = {capture.fd: capture for capture in captures}
    poller = select.poll()
    for fd in (pidfd, *by_fd):
        poller.register(fd, select.POLLIN)
    try:
        while (remaining := deadline - time.monotonic()) > 0:
            for fd, _ in poller.poll(remaining * 1000):
                if fd == pidfd:
                    return True
                if not by_fd[fd].read():
                    poller.unregister(fd)
        return False
    finally:
        os.close(pidfd)


def kill_and_reap(pids: tuple[int, ...], contained: bool) -> list[tuple[int, resource.struct_rusage]]:
    """Kill the children and everything they started; return each one's wait status and resource usage."""
    if contained:
        kill_all_but_self()
    else:
        for pid in pids:
            os.kill(pid, signal.SIGKILL)  # in case it has not reached setsid() yet
            try:
                os.killpg(pid, signal.SIGKILL)  # its process group; descendants that left it survive
            except ProcessLookupError:  # a judge leads no group
                pass
    ended = [os.wait4(pid, 0)[1:] for pid in pids]
    if contained:
        while True:  # orphans of the program are reparented to the zygote, PID 1
            kill_all_but_self()
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
    return ended


def kill_all_but_self() -> None:
    try:
        os.kill(-1, signal.SIGKILL)  # every process in the namespace but its init, the zygote
    except ProcessLookupError:
        pass


def completion_record(data: bytearray, nonce: str, pid: int) -> dict | None:
    """The child's record of how the program ended, if it wrote one. Whatever else the program
    wrote to the pipe is ignored, and so is a record from a process it forked: such a process
    also runs the rest of the program, and may reach its end while the child itself never does."""
    for line in reversed(data.splitlines()):
        if nonce.encode() not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("nonce") == nonce and record.get("pid") == pid:
            return {"status": record["status"], "detail": record["detail"]}
    return None


def classify_death(status: int, usage: resource.struct_rusage, timed_out: bool, limits: dict) -> dict:
    """How a child that wrote no completion record ended: the program never reached its end."""
    if timed_out:
        return {"status": "timeout", "detail": f"wall time limit of {limits['timeout_s']:g} s"}
    if os.WIFEXITED(status):
        return {"status": "exited_early", "detail": f"exit status {os.WEXITSTATUS(status)}"}
    signum = os.WTERMSIG(status)
    name = signal.Signals(signum).name if signum in signal.valid_signals() else f"signal {signum}"
    if signum == signal.SIGXCPU or usage.ru_utime + usage.ru_stime >= limits["cpu_s"]:
        return {"status": "timeout", "detail": f"CPU time limit of {limits['cpu_s']} s ({name})"}
    if usage.ru_maxrss * 1024 >= NEAR_MEMORY_LIMIT * limits["memory_mb"] * 2**20:
        return {"status": "out_of_memory", "detail": f"{name} near the memory limit of {limits['memory_mb']} MB"}
    return {"status": "killed", "detail": name}


def isolate(limits: dict, workdir: str, out_w: int, err_w: int, contained: bool) -> None:
    """In a program's forked child: its own session, directory, environment and limits, stdin
    /dev/null, stdout and stderr to the capture pipes, no capabilities."""
    os.setsid()  # its own process group and session, killed as a whole
    os.chdir(workdir)
    os.environ.clear()
    os.environ.update(HOME=workdir, TMPDIR=workdir)
    tempfile.tempdir = workdir
    stdin = os.open(os.devnull, os.O_RDONLY)
    for source, target in ((stdin, 0), (out_w, 1), (err_w, 2)):
        os.dup2(source, target)
        os.close(source)
    sys.stdout.reconfigure(line_buffering=True)  # what a killed program printed still arrives
    set_limits(limits, contained)
    if programs_as_user:
        os.chown(workdir, PROGRAM_USER, PROGRAM_USER)
    drop_capabilities()  # so that the program can neither make the mounts writable again nor trace anything


def run_to_end(program: str, limits: dict, workdir: str, nonce: str, out_w: int, err_w: int, record_w: int,
               contained: bool) -> None:
    """In the forked child: isolate, run the program, write the completion record, exit."""
    isolate(limits, workdir, out_w, err_w, contained)
    # Bound before the program runs, so that nothing it replaces can stop the record.
    write, exit_, getpid, dumps = os.write, os._exit, os.getpid, json.dumps
    status, detail, _ = execute(program)
    flush_streams()
    record = {"nonce": nonce, "pid": getpid(), "status": status, "detail": detail[:DETAIL_CHARS]}
    write(record_w, (dumps(record) + "\n").encode())
    exit_(0)


def serve_calls(program: str, limits: dict, workdir: str, out_w: int, err_w: int, calls_r: int, replies_w: int,
                contained: bool) -> None:
    """In the program's forked child: isolate, run the program, tell the judge whether it ran to its
    end, then answer the judge's calls to its functions until the judge closes the pipe."""
    isolate(limits, workdir, out_w, err_w, contained)
    # Bound before the program runs, so that what it replaces cannot garble the protocol by accident.
    reply, next_call, exit_ = functools.partial(send, replies_w), functools.partial(receive, calls_r), os._exit
    reply_in_batch = functools.partial(send_reply, replies_w)
    status, detail, namespace = execute(program)
    flush_streams()
    if status != "passed":
        reply({"status": status, "detail": detail[:DETAIL_CHARS]})
        exit_(0)
    reply({"ready": True})
    try:
        while (call := next_call()) is not None:
            if "inputs" in call:  # a batch: one answer per input, each sent as soon as it is known
                project = PROJECTIONS[call["project"]]
                for args in call["inputs"]:
                    reply_in_batch(answer(namespace, call["function"], args, {"dict": []}, project))
            else:
                reply(answer(namespace, call["function"], call["args"], call["kwargs"]))
    except BrokenPipeError:  # the judge stopped reading: a batch's first failure ends its tests
        pass
    exit_(0)


def answer(namespace: dict, name: str, args, kwargs, project=None) -> dict:
    """The result of one call to a function of the program, as plain data, or the exception it raised.
    In a batch (`project` given) a result of more than MAX_REPLY_ITEMS values goes as its Digest."""
    try:
        function = namespace[name]
    except KeyError:
        return {"raised": "NameError", "args": [f"name {name!r} is not defined"]}
    try:
        value = function(*from_plain(args, namespace), **from_plain(kwargs, namespace))
        value = project(value) if project else value
    except BaseException as error:  # SystemExit too: the judge calls that an early exit
        flush_streams()
        try:
            args = to_plain(error.args)
        except (NotPlainData, RecursionError):
            args = [describe(error).partition(": ")[2]]
        return {"raised": type(error).__name__, "args": args}
    flush_streams()
    try:
        if project and type(value) in (list, tuple, str, bytes) and len(value) > MAX_REPLY_ITEMS:
            raise TooManyItems
        return {"value": to_plain(value, budget=[MAX_REPLY_ITEMS] if project else None)}
    except TooManyItems:  # EvalPlus has outputs of a gigabyte: such a value goes as its Digest
        try:
            return {"value": to_plain(Digest.of(value))}
        except (NotPlainData, RecursionError) as error:
            return {"unserialisable": str(error)}
    except (NotPlainData, RecursionError) as error:
        return {"unserialisable": str(error)}


def run_tests(judge: dict, limits: dict, err_w: int, calls_w: int, replies_r: int, verdict_w: int) -> None:
    """In the judge's forked child: run the tests against the program's functions, write the verdict."""
    stdin = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1):
        os.dup2(stdin, target)
    os.close(stdin)
    os.dup2(err_w, 2)  # tracebacks of failed tests beside the program's stderr
    os.close(err_w)
    for kind, value in ((resource.RLIMIT_AS, limits["memory_mb"] * 2**20), (resource.RLIMIT_CPU, limits["cpu_s"])):
        resource.setrlimit(kind, (min_limit(kind, value),) * 2)
    recorded = []
    status, detail = judge_program(judge, Channel(calls_w, replies_r), recorded)
    flush_streams()
    verdict = {"status": status, "detail": detail[:DETAIL_CHARS], "results": recorded if recorded else None}
    write_all(verdict_w, json.dumps(verdict).encode())
    os._exit(0)


def judge_program(judge: dict, channel: Channel, recorded: list) -> tuple[str, str]:
    """The verdict: (status, detail); "lost" when the program's process ended during the tests.
    What the tests pass to `record` is appended to `recorded`, as plain data."""
    try:
        report = channel.receive()
    except ProgramLost:
        return "lost", ""
    except Unserialisable as error:
        return "unserialisable_result", str(error)
    if report.get("ready") is not True:  # the program did not run to its end; never a pass
        status = report.get("status")
        return status if status in PROGRAM_FAILURES else "exception", str(report.get("detail", ""))
    namespace = {"__name__": "__tests__", "__builtins__": builtins, "DATA": from_plain(judge["data"]),
                 "call_each": functools.partial(call_each, channel),
                 "record": lambda value: recorded.append(to_plain(value))}
    try:
        exec(compile(judge["context"], CONTEXT_FILENAME, "exec"), namespace)
        namespace.update({name: Candidate(name, channel) for name in judge["functions"]})
        namespace.update({name: Reference(name) for name in judge["references"]})
        exec(compile(judge["tests"], TESTS_FILENAME, "exec"), namespace)
    except ProgramLost:
        return "lost", ""
    except ProgramExited as error:
        return "exited_early", where(error) + str(error)
    except Unserialisable as error:
        return "unserialisable_result", str(error)
    except CallTimeout as error:
        return "timeout", str(error)
    except BaseException as error:
        return failure(error)
    return "passed", ""


class ProgramLost(BaseException):
    """The program's process ended (or closed its pipe) before answering."""


class ProgramExited(BaseException):
    """A function of the program raised SystemExit. Not an Exception: tests cannot catch it."""


class Unserialisable(BaseException):
    """A reply that is not plain data. Not an Exception: tests cannot catch it."""


class TooLarge(Unserialisable):
    pass


class CallTimeout(BaseException):
    """A call of a batch took longer than its time limit. Not an Exception: tests cannot catch it."""


class NotPlainData(Exception):
    """A value `to_plain` does not take."""


class TooManyItems(Exception):
    """A value with more items than `to_plain`'s budget."""


class ProgramError(Exception):
    """An exception of the program's own type (or one the judge does not rebuild), by name."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name


class Reference:
    """One of the program's objects, named in the tests and passed to its functions by name (as
    MBPP's setup code builds trees of the program's own class)."""

    def __init__(self, name: str):
        self.name = name


class Channel:
    """The judge's end of the pipes to the program. Replies are read in chunks, so that the many
    small replies to a batch cost a read each only when they come one by one."""

    def __init__(self, calls_w: int, replies_r: int):
        self.calls_w, self.replies_r = calls_w, replies_r
        self.buffer, self.start = bytearray(), 0
        self.readable = select.poll()
        self.readable.register(replies_r, select.POLLIN)

    def send(self, message: dict) -> None:
        try:
            send(self.calls_w, message)
        except BrokenPipeError:
            raise ProgramLost from None

    def call(self, message: dict) -> dict:
        self.send(message)
        return self.receive()

    def receive(self, deadline: float | None = None) -> dict:
        """The next reply; CallTimeout if it has not come whole by `deadline` (monotonic seconds)."""
        self.fill(HEADER.size, deadline)
        size = HEADER.unpack_from(self.buffer, self.start)[0]
        if size > MAX_REPLY_BYTES:
            raise TooLarge(f"a reply of {size} bytes, over the limit of {MAX_REPLY_BYTES}")
        self.fill(HEADER.size + size, deadline)
        body_start = self.start + HEADER.size
        self.start = body_start + size
        try:
            reply = json.loads(self.buffer[body_start:self.start])
        except (ValueError, RecursionError):
            raise Unserialisable("a malformed reply") from None
        if not isinstance(reply, dict):
            raise Unserialisable("a malformed reply")
        return reply

    def fill(self, size: int, deadline: float | None) -> None:
        """Read until `size` unread bytes are buffered."""
        if self.start and len(self.buffer) - self.start < size:
            del self.buffer[:self.start]
            self.start = 0
        while len(self.buffer) - self.start < size:
            if deadline is not None and not self.readable.poll(max(0.0, deadline - time.monotonic()) * 1000):
                raise CallTimeout
            chunk = os.read(self.replies_r, max(CHUNK, size - len(self.buffer) + self.start))
            if not chunk:
                raise ProgramLost
            self.buffer += chunk


def call_each(channel: Channel, function: str, inputs: list, time_limits: list, project: str | None = None):
    """Call the program's `function` with each of `inputs` (argument lists), sent in one message;
    yield each result (rebuilt) and the seconds it took, as the judge saw it: from the previous
    result (or the send) to this one. A result later than its time limit raises CallTimeout; an
    exception of the function is raised as Candidate raises it.
    `project` names what the program returns of each result (PROJECTIONS)."""
    channel.send({"function": function, "inputs": to_plain(inputs), "project": project})
    previous = time.monotonic()
    for index, limit in enumerate(time_limits):
        try:
            reply = channel.receive(previous + limit)
        except CallTimeout:
            raise CallTimeout(f"input {index}: no result within its time limit of {limit:g} s") from None
        now = time.monotonic()
        if "value" not in reply:
            if "unserialisable" in reply:
                raise Unserialisable(f"input {index}: {reply['unserialisable']}")
            error = rebuilt(reply)
            error.add_note(f"input {index}")  # the verdict's detail names it (describe)
            raise error
        try:
            value = from_plain(reply["value"])
        except (NotPlainData, TypeError, ValueError, RecursionError):
            raise Unserialisable("a malformed reply") from None
        yield value, now - previous
        previous = now


class Candidate:
    """Stands in the tests for the program's function `name`: a call sends the arguments to the
    program as plain data and returns the result rebuilt from plain data, or raises the exception
    the function raised, rebuilt from its type's name and arguments."""

    def __init__(self, name: str, channel: Channel):
        self.name, self.channel = name, channel

    def __call__(self, *args, **kwargs):
        reply = self.channel.call({"function": self.name, "args": to_plain(args), "kwargs": to_plain(kwargs)})
        if "value" in reply:
            try:
                return from_plain(reply["value"])
            except (NotPlainData, TypeError, ValueError, RecursionError):
                raise Unserialisable("a malformed reply") from None
        if "unserialisable" in reply:
            raise Unserialisable(str(reply["unserialisable"]))
        raise rebuilt(reply)


def rebuilt(reply: dict) -> BaseException:
    """The exception a function of the program raised, as the judge raises it."""
    name = str(reply.get("raised"))
    try:
        args = from_plain(reply.get("args"))
    except (NotPlainData, TypeError, ValueError, RecursionError):
        args = ()
    args = args if type(args) is tuple else (args,)
    if name == "SystemExit":
        return ProgramExited(f"SystemExit: {args[0]!r}" if args else "SystemExit: None")
    if name in REBUILT_EXCEPTIONS:
        try:
            return REBUILT_EXCEPTIONS[name](*args)
        except Exception:  # arguments its constructor does not take
            pass
    return ProgramError(name, ", ".join(map(str, args)))


def to_plain(value, depth: int = 0, budget: list[int] | None = None):
    """`value` as JSON-ready data, if it is plain data: None, bool, int, float, complex, str, bytes,
    and lists, tuples, dicts, sets and frozensets of plain data (of exactly these types; the
    standard library's dicts, such as a Counter, as the dict they hold), or a judge's Reference or
    Digest. Raises NotPlainData otherwise, TooManyItems beyond `budget[0]` values in all."""
    kind = type(value)
    if depth > MAX_DEPTH:
        raise NotPlainData(f"plain data nested deeper than {MAX_DEPTH}")
    if budget is not None:
        budget[0] -= 1
        if budget[0] < 0:
            raise TooManyItems
    if kind in (type(None), bool, float, str) or kind is int and -BIG_INT < value < BIG_INT:
        return value
    if kind is int:
        return {"int": hex(value)}
    if kind is list:
        return [to_plain(item, depth + 1, budget) for item in value]
    if kind in (tuple, set, frozenset):
        return {kind.__name__: [to_plain(item, depth + 1, budget) for item in value]}
    if kind is dict or kind in STANDARD_DICTS:
        return {"dict": [[to_plain(key, depth + 1, budget), to_plain(item, depth + 1, budget)]
                         for key, item in dict.items(value)]}
    if kind is bytes:
        return {"bytes": value.hex()}
    if kind is complex:
        return {"complex": [value.real, value.imag]}
    if kind is Reference:
        return {"ref": value.name}
    if kind is Digest:
        return {"digest": value.hexdigest}
    raise NotPlainData(f"a {kind.__module__}.{kind.__qualname__} is not plain data")


def from_plain(data, references: dict | None = None):
    """The value `to_plain` made `data` from, built of fresh built-in objects; a Reference is
    looked up in `references` (the program's namespace) where given. NotPlainData, TypeError
    (an unhashable key) or ValueError for anything else."""
    kind = type(data)
    if kind in (type(None), bool, int, float, str):
        return data
    if kind is list:
        return [from_plain(item, references) for item in data]
    if kind is not dict or len(data) != 1:
        raise NotPlainData("malformed plain data")
    [(tag, body)] = data.items()
    if tag == "int" and type(body) is str:
        return int(body, 16)
    if tag in CONTAINERS and type(body) is list:
        return CONTAINERS[tag](from_plain(item, references) for item in body)
    if tag == "dict" and type(body) is list and all(type(pair) is list and len(pair) == 2 for pair in body):
        return {from_plain(key, references): from_plain(item, references) for key, item in body}
    if tag == "bytes" and type(body) is str:
        return bytes.fromhex(body)
    if tag == "complex" and type(body) is list and len(body) == 2 and all(type(part) is float for part in body):
        return complex(*body)
    if tag == "digest" and type(body) is str:
        return Digest(body)
    if tag == "ref" and references is not None and type(body) is str and body in references:
        return references[body]
    raise NotPlainData("malformed plain data")


CONTAINERS = {"tuple": tuple, "set": set, "frozenset": frozenset}


class Digest:
    """Stands for a value too large to send: a sha256 of its text, so that equal values of the same
    types have the same digest. It equals another Digest of the same value, or a value whose digest
    it is. The text is the value's type and, a slice of DIGEST_SLICE items of a list or tuple at a
    time: their marshal (version 2, which has no back-references) where each item is a number, a
    string or None; else their repr, or where that shows a set or dict (whose repr depends on the
    order of insertion) the JSON of their plain data made canonical."""

    def __init__(self, hexdigest: str):
        self.hexdigest = hexdigest

    @classmethod
    def of(cls, value) -> Digest:
        digest = hashlib.sha256(type(value).__name__.encode())
        items = value if type(value) in (list, tuple) else [value]
        for start in range(0, len(items), DIGEST_SLICE):
            part = list(items[start:start + DIGEST_SLICE])
            if {type(item) for item in part} <= FLAT_TYPES:
                digest.update(b"M" + marshal.dumps(part, 2))
                continue
            text = repr(part)
            digest.update(("J" + json.dumps(canonical(to_plain(part))) if "{" in text else text).encode())
        return cls(digest.hexdigest())

    def __eq__(self, other) -> bool:
        if isinstance(other, Digest):
            return self.hexdigest == other.hexdigest
        try:
            return Digest.of(other).hexdigest == self.hexdigest
        except (NotPlainData, RecursionError):
            return False

    __hash__ = None

    def __repr__(self) -> str:
        return f"<a value with sha256 {self.hexdigest[:16]}...>"


def canonical(plain):
    """Plain data with the items of its sets and dicts in the order of their JSON text."""
    if type(plain) is list:
        return [canonical(item) for item in plain]
    if type(plain) is not dict:
        return plain
    [(tag, body)] = plain.items()
    if tag in ("set", "frozenset"):
        return {tag: sorted((canonical(item) for item in body), key=json.dumps)}
    if tag == "dict":
        return {tag: sorted(([canonical(k), canonical(v)] for k, v in body), key=lambda pair: json.dumps(pair[0]))}
    if tag == "tuple":
        return {tag: [canonical(item) for item in body]}
    return plain
STANDARD_DICTS = (collections.Counter, collections.OrderedDict, collections.defaultdict)  # travel as plain dicts


def flush_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a program may close or replace its own streams
            pass


def set_limits(limits: dict, contained: bool) -> None:
    wanted = {
        resource.RLIMIT_AS: limits["memory_mb"] * 2**20,
        resource.RLIMIT_NOFILE: limits["max_open_files"],
        resource.RLIMIT_FSIZE: limits["max_file_bytes"],
        resource.RLIMIT_CORE: 0,
    }
    if programs_as_user:  # RLIMIT_NPROC counts the tasks of PROGRAM_USER in the namespace: the program's
        wanted[resource.RLIMIT_NPROC] = limits["max_processes"]
    elif contained:
        # RLIMIT_NPROC counts the tasks of a user in a user namespace: here unshare, the zygote,
        # a judge and the program's own. Outside a namespace it would count all of the user's processes.
        wanted[resource.RLIMIT_NPROC] = limits["max_processes"] + 3
    for kind, value in wanted.items():
        resource.setrlimit(kind, (min_limit(kind, value),) * 2)
    # The soft limit sends SIGXCPU; the hard one a second later SIGKILL, should that be ignored.
    cpu = limits["cpu_s"]
    soft, hard = min_limit(resource.RLIMIT_CPU, cpu), min_limit(resource.RLIMIT_CPU, cpu + 1)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def min_limit(kind: int, value: int) -> int:
    """`value`, lowered to the current hard limit, which an unprivileged process cannot raise."""
    hard = resource.getrlimit(kind)[1]
    return value if hard == resource.RLIM_INFINITY else min(value, hard)


def execute(program: str) -> tuple[str, str, dict]:
    """Compile and run the program as `__main__`; how it ended, as (status, detail), and its namespace."""
    main_module = types.ModuleType("__main__")
    main_module.__builtins__ = builtins
    try:
        code = compile(program, FILENAME, "exec")
    except (SyntaxError, ValueError) as error:  # ValueError: null bytes in the source
        sys.stderr.write("".join(traceback.format_exception_only(error)))
        return "syntax_error", describe(error), main_module.__dict__
    linecache.cache[FILENAME] = (len(program), None, program.splitlines(True), FILENAME)  # for tracebacks
    sys.modules["__main__"] = main_module
    try:
        exec(code, main_module.__dict__)
    except SystemExit as error:
        return "exited_early", describe(error), main_module.__dict__
    except BaseException as error:
        return (*failure(error), main_module.__dict__)
    return "passed", "", main_module.__dict__


def failure(error: BaseException) -> tuple[str, str]:
    """An uncaught exception's status and detail; its traceback on stderr, without the zygote's frames."""
    try:
        frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename != ZYGOTE_FILENAME]
        lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)] if frames else []
        sys.stderr.write("".join(lines + traceback.format_exception_only(error)))
    except BaseException:  # e.g. no memory left to format it
        pass
    if isinstance(error, AssertionError):
        return "assertion_failed", describe(error)
    if isinstance(error, MemoryError):
        return "out_of_memory", describe(error)
    return "exception", describe(error)


def describe(error: BaseException) -> str:
    try:
        message = str(error) if not isinstance(error, SystemExit) else repr(error.code)
    except Exception:
        message = "<unprintable>"
    name = error.name if isinstance(error, ProgramError) else type(error).__name__
    return where(error) + (f"{name}: {message}" if message else name)


def where(error: BaseException) -> str:
    """'input 3: ' for an exception of a batch's call (call_each), else ''."""
    return "".join(f"{note}: " for note in getattr(error, "__notes__", ()))


if __name__ == "__main__":
    main()
