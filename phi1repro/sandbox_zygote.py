"""The worker side of `phi1repro.sandbox`: a zygote that forks one child per program.

`Sandbox` starts this file's text as `python -I -S -c <text> <workdir root> [--read-only]`
(under `unshare` where it can), so it must need nothing but the standard library. The zygote
imports the modules that programs commonly use once, makes its own directory under the root,
and with --read-only (given in a mount namespace of its own) makes every mount but that
directory read-only for its programs. It says it is ready, whether read-only is in effect and
if not why, then serves requests on its stdin/stdout, each a 4-byte big-endian length and a
JSON object:

    ready {"ready": true, "read_only_fs": bool, "why_writable": str}
    in    {"program": str, "limits": {Limits fields}}
    out   {"status": str, "detail": str, "stdout": str, "stderr": str, "seconds": float}

For each request it forks a child that runs the program in a fresh `__main__` module, in its
own session, in a fresh directory in the zygote's own, with resource limits. The child writes a
completion record tagged with a per-run nonce to a dedicated pipe only once the program has
run to its end (or raised), so a program that exits early never produces one. The zygote
waits for the child up to the wall-time limit, then kills everything the program started,
reaps, empties its own directory and answers.
"""

import builtins
import ctypes
import gc
import json
import linecache
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
FILENAME = "<program>"
DETAIL_CHARS = 2000  # a completion record's detail is cut to this length
RECORD_BYTES = 1 << 16  # the tail of the completion pipe that is kept
CHUNK = 1 << 16
NEAR_MEMORY_LIMIT = 0.9  # a child killed by a signal with this share of the memory limit resident ran out of memory
HARMLESS_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")  # all others are off limits
# Linux ABI (mount_setattr has the same number on every architecture but alpha)
SYS_MOUNT_SETATTR = 442
AT_FDCWD, AT_RECURSIVE = -100, 0x8000
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NODEV = 0x1, 0x4
MS_BIND = 0x1000
PR_CAPBSET_DROP = 24
LINUX_CAPABILITY_VERSION_3 = 0x20080522

libc = ctypes.CDLL(None, use_errno=True)


class MountAttr(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in ("attr_set", "attr_clr", "propagation", "userns_fd")]


class CapabilityHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


def main() -> None:
    # The protocol moves to private descriptors; 0 and 1 point at /dev/null, so that nothing
    # else (a stray print, a child that forgets to close them) can write into it.
    requests, answers = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    for name in PRELOADED:
        try:
            __import__(name)
        except ImportError:  # e.g. an interpreter built without readline
            pass
    own_root = tempfile.mkdtemp(dir=sys.argv[1])
    why_writable = make_read_only_but(own_root) if "--read-only" in sys.argv[2:] else "no mount namespace of its own"
    del sys.argv[1:]  # programs see sys.argv == ["-c"], as with `python -c`
    gc.collect()
    gc.freeze()  # keeps the collector from touching (and so copying) the zygote's objects in children
    # As PID 1 of its own PID namespace, the zygote can kill every process a program starts.
    contained = os.getpid() == 1
    read_only = not why_writable
    send(answers, {"ready": True, "read_only_fs": read_only, "why_writable": why_writable})
    while (request := receive(requests)) is not None:
        send(answers, run(request["program"], request["limits"], own_root, contained, read_only, (requests, answers)))


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
    """Drop every capability; with the bounding set empty, executing a program does not restore them."""
    no_capabilities = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable, for two 32-bit words
    check(libc.capset(ctypes.byref(CapabilityHeader(LINUX_CAPABILITY_VERSION_3, 0)), no_capabilities), "capset")


def check(result: int, operation: str) -> None:
    """Raise OSError for the errno of a libc call that returned nonzero."""
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{operation}: {os.strerror(error)}")


def receive(fd: int) -> dict | None:
    """The next request; None once the parent has closed the pipe (or died)."""
    header = read_exactly(fd, HEADER.size)
    body = None if header is None else read_exactly(fd, HEADER.unpack(header)[0])
    return None if body is None else json.loads(body)


def read_exactly(fd: int, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def send(fd: int, message: dict) -> None:
    body = json.dumps(message).encode()
    view = memoryview(HEADER.pack(len(body)) + body)
    while view:
        view = view[os.write(fd, view):]


def run(program: str, limits: dict, own_root: str, contained: bool, read_only: bool,
        private_fds: tuple[int, int]) -> dict:
    """Run one program in a forked child, in a fresh directory in `own_root` (emptied afterwards), and
    classify how it ended."""
    workdir = tempfile.mkdtemp(dir=own_root)
    nonce = os.urandom(8).hex()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    record_r, record_w = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            for fd in (*private_fds, out_r, err_r, record_r):
                os.close(fd)
            child(program, limits, workdir, nonce, out_w, err_w, record_w, contained, read_only)
        except BaseException:  # setting up the child failed (the program's own errors are caught in execute)
            traceback.print_exc()
        os._exit(125)
    for fd in (out_w, err_w, record_w):
        os.close(fd)
    stdout, stderr = Capture(out_r, limits["max_output_bytes"]), Capture(err_r, limits["max_output_bytes"])
    record = Capture(record_r, RECORD_BYTES, keep_tail=True)  # the record comes last
    captures = (stdout, stderr, record)
    timed_out = not wait(pid, start + limits["timeout_s"], captures)
    seconds = time.monotonic() - start
    status, usage = kill_and_reap(pid, contained)
    for capture in captures:
        capture.drain()
    empty(own_root)  # the working directory, and whatever the program wrote beside it
    outcome = completion_record(record.data, nonce, pid) or classify_death(status, usage, timed_out, limits)
    return {**outcome, "seconds": seconds,
            "stdout": stdout.data.decode(errors="replace"), "stderr": stderr.data.decode(errors="replace")}


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
    """Collect the child's output until it exits (True) or the deadline passes (False)."""
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


def kill_and_reap(pid: int, contained: bool) -> tuple[int, resource.struct_rusage]:
    """Kill the child and everything it started; return its wait status and resource usage."""
    if contained:
        kill_all_but_self()
    else:
        os.kill(pid, signal.SIGKILL)  # in case it has not reached setsid() yet
        try:
            os.killpg(pid, signal.SIGKILL)  # its process group; descendants that left it survive
        except ProcessLookupError:
            pass
    _, status, usage = os.wait4(pid, 0)
    if contained:
        while True:  # orphans of the program are reparented to the zygote, PID 1
            kill_all_but_self()
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
    return status, usage


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


def child(program: str, limits: dict, workdir: str, nonce: str, out_w: int, err_w: int, record_w: int,
          contained: bool, read_only: bool) -> None:
    """In the forked child: isolate, run the program, write the completion record, exit."""
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
    if read_only:
        drop_capabilities()  # so that the program cannot make the mounts writable again
    # Bound before the program runs, so that nothing it replaces can stop the record.
    write, exit_, getpid, dumps, stdout, stderr = os.write, os._exit, os.getpid, json.dumps, sys.stdout, sys.stderr
    status, detail = execute(program)
    for stream in (stdout, stderr):
        try:
            stream.flush()
        except Exception:  # a program may close its own streams
            pass
    record = {"nonce": nonce, "pid": getpid(), "status": status, "detail": detail[:DETAIL_CHARS]}
    write(record_w, (dumps(record) + "\n").encode())
    exit_(0)


def set_limits(limits: dict, contained: bool) -> None:
    wanted = {
        resource.RLIMIT_AS: limits["memory_mb"] * 2**20,
        resource.RLIMIT_NOFILE: limits["max_open_files"],
        resource.RLIMIT_FSIZE: limits["max_file_bytes"],
        resource.RLIMIT_CORE: 0,
    }
    if contained:
        # RLIMIT_NPROC counts the tasks of a user in a user namespace: here unshare, the zygote
        # and the program's own. Outside a namespace it would count all of the user's processes.
        wanted[resource.RLIMIT_NPROC] = limits["max_processes"] + 2
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


def execute(program: str) -> tuple[str, str]:
    """Compile and run the program as `__main__`; how it ended, as (status, detail)."""
    try:
        code = compile(program, FILENAME, "exec")
    except (SyntaxError, ValueError) as error:  # ValueError: null bytes in the source
        sys.stderr.write("".join(traceback.format_exception_only(error)))
        return "syntax_error", describe(error)
    linecache.cache[FILENAME] = (len(program), None, program.splitlines(True), FILENAME)  # for tracebacks
    main_module = types.ModuleType("__main__")
    main_module.__builtins__ = builtins
    sys.modules["__main__"] = main_module
    try:
        exec(code, main_module.__dict__)
    except SystemExit as error:
        return "exited_early", describe(error)
    except BaseException as error:
        try:  # as Python would print it, from the program's frame on
            traceback.print_exception(type(error), error, error.__traceback__.tb_next)
        except BaseException:  # e.g. no memory left to format it
            pass
        if isinstance(error, AssertionError):
            return "assertion_failed", describe(error)
        if isinstance(error, MemoryError):
            return "out_of_memory", describe(error)
        return "exception", describe(error)
    return "passed", ""


def describe(error: BaseException) -> str:
    try:
        message = str(error) if not isinstance(error, SystemExit) else repr(error.code)
    except Exception:
        message = "<unprintable>"
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


if __name__ == "__main__":
    main()
