import os
import shutil
import signal
import socket
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.needs import missing
from phi1repro.sandbox import STATUSES, Limits, Outcome, Sandbox


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(2, Limits(timeout_s=3.0)) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def impatient():
    with Sandbox(1, Limits(timeout_s=0.5)) as sandbox:
        yield sandbox


@pytest.fixture
def read_only_sandbox(sandbox):
    if not sandbox.read_only_fs:
        missing("no mount namespace here, so no read-only mounts: programs can write wherever the user can")
    return sandbox


def sandbox_processes(sandbox: Sandbox) -> set[int]:
    """The live processes whose command line holds the sandbox's root: its workers and whatever
    their zygotes fork, wherever it was reparented (a zombie's command line is empty)."""
    root, pids = sandbox._root.encode(), set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if root in Path(f"/proc/{pid}/cmdline").read_bytes():
                pids.add(int(pid))
        except OSError:  # it has gone meanwhile
            pass
    return pids


def run_leaving_no_process(sandbox: Sandbox, program: str) -> Outcome:
    """Run the program and check that no process it started outlives it: killed processes may take
    a moment to die outside a PID namespace, where the zygote does not wait for them."""
    workers = sandbox_processes(sandbox)
    outcome = sandbox.run_one(program)
    deadline = time.monotonic() + 2
    while (left := sandbox_processes(sandbox) - workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, f"{len(left)} processes outlived the program"
    return outcome


@pytest.mark.parametrize(("program", "status", "detail"), [
    ("x = [i * i for i in range(10)]\nassert x[3] == 9\n", "passed", ""),
    ("assert 1 + 1 == 3, 'arithmetic'", "assertion_failed", "AssertionError: arithmetic"),
    ("int('seven')", "exception", "ValueError: invalid literal for int()"),
    ("len(5)", "exception", "TypeError: object of type 'int' has no len()"),
    ("def f(:\n    pass\n", "syntax_error", "SyntaxError: invalid syntax"),
    ("import sys\nsys.exit(0)\n", "exited_early", "SystemExit: 0"),
    ("import sys\nsys.exit(0)\nassert False\n", "exited_early", "SystemExit: 0"),
    ("import os\nos._exit(0)\nassert False\n", "exited_early", "exit status 0"),
    ("input()", "exception", "EOFError: EOF when reading a line"),
    ("import sys\nsys.exit('bye')\n", "exited_early", "SystemExit: 'bye'"),
    ("raise SystemExit", "exited_early", "SystemExit: None"),
    ("import os\nos._exit(0)\n", "exited_early", "exit status 0"),
    ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", "killed", "SIGKILL"),
    ("import ctypes\nctypes.string_at(0)\n", "killed", "SIGSEGV"),
])
def test_how_a_program_ends(sandbox, program, status, detail):
    outcome = sandbox.run_one(program)
    assert outcome.status in STATUSES
    assert (outcome.status, outcome.detail[:len(detail)]) == (status, detail), outcome.stderr


def test_an_early_exit_never_passes_even_after_its_output(sandbox):
    outcome = sandbox.run_one("print('all good')\nimport os\nos._exit(0)\nraise AssertionError('never reached')\n")
    assert (outcome.status, outcome.stdout) == ("exited_early", "all good\n")


def test_a_forked_process_that_reaches_the_end_does_not_make_the_program_pass(impatient):
    outcome = impatient.run_one("import os\nif os.fork():\n    while True:\n        pass\n")
    assert outcome.status == "timeout"


def test_traceback_of_an_exception_is_on_stderr(sandbox):
    outcome = sandbox.run_one("def f():\n    return 1 / 0\n\nf()\n")
    assert outcome.status == "exception"
    assert 'File "<program>", line 2, in f' in outcome.stderr
    assert outcome.stderr.rstrip().endswith("ZeroDivisionError: division by zero")


def test_wall_time_limit(impatient):
    start = time.monotonic()
    outcome = impatient.run_one("while True:\n    pass\n")
    elapsed = time.monotonic() - start
    assert (outcome.status, outcome.detail) == ("timeout", "wall time limit of 0.5 s")
    assert 0.5 <= outcome.seconds < 0.8
    assert elapsed < 1.0


def test_cpu_time_limit():
    with Sandbox(1, Limits(timeout_s=10.0, cpu_s=1)) as sandbox:
        outcome = sandbox.run_one("while True:\n    pass\n")
    assert outcome.status == "timeout"
    assert outcome.detail.startswith("CPU time limit of 1 s")
    assert outcome.seconds < 3


def test_memory_limit():
    with Sandbox(1, Limits(memory_mb=256)) as sandbox:
        outcome = sandbox.run_one("x = bytearray(2 * 1024**3)")
    assert (outcome.status, outcome.detail) == ("out_of_memory", "MemoryError")


def test_killed_near_the_memory_limit_counts_as_out_of_memory():
    # What a C library does when an allocation fails under the address-space limit, simulated.
    program = "import os, signal\nx = b'x' * (470 * 2**20)\nos.kill(os.getpid(), signal.SIGSEGV)\n"
    with Sandbox(1, Limits(memory_mb=512)) as sandbox:
        outcome = sandbox.run_one(program)
    assert outcome.status == "out_of_memory", outcome.detail
    assert outcome.detail == "SIGSEGV near the memory limit of 512 MB"


def test_descendants_do_not_survive_the_program(sandbox):
    markers = ["same_group", "forked", *(["new_session"] if sandbox.namespaces else [])]
    # The markers go to the zygote's own directory, writable even where the rest is read-only.
    program = f"""
import os, subprocess, time
own = os.path.dirname(os.getcwd())
print(own)
subprocess.Popen(["sh", "-c", f"sleep 0.3; touch {{own}}/same_group"])
if {"new_session" in markers}:
    subprocess.Popen(["sh", "-c", f"sleep 0.3; touch {{own}}/new_session"], start_new_session=True)
if os.fork() == 0:
    time.sleep(0.3)
    open(f"{{own}}/forked", "w").close()
    os._exit(0)
"""
    outcome = sandbox.run_one(program)
    assert outcome.status == "passed", outcome.detail
    time.sleep(0.8)
    own = Path(outcome.stdout.strip())
    assert not [name for name in markers if (own / name).exists()]


@pytest.mark.parametrize(("program", "statuses"), [
    # An exception where RLIMIT_NPROC applies: os.fork() fails once the program has its share.
    pytest.param("import os\nwhile True:\n    os.fork()\n", {"timeout", "exception"}, id="fork bomb"),
    pytest.param("""
import os
if os.fork() == 0:
    if os.fork() == 0:
        while True:
            pass
    os._exit(0)
os.wait()
""", {"passed"}, id="orphaned grandchild"),
    pytest.param("while True:\n    pass\n", {"timeout"}, id="infinite loop"),
    pytest.param("import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nsignal.alarm(1)\n"
                 "while True:\n    pass\n", {"timeout"}, id="ignoring SIGALRM"),
])
def test_hostile_programs_leave_no_process_behind(impatient, program, statuses):
    outcome = run_leaving_no_process(impatient, program)
    assert outcome.status in statuses, outcome.detail
    assert outcome.status != "exception" or outcome.detail.startswith("BlockingIOError"), outcome.detail
    assert impatient.run_one("print('still here')").stdout == "still here\n"


def test_memory_bomb():
    with Sandbox(1, Limits(memory_mb=256)) as sandbox:
        outcome = run_leaving_no_process(sandbox, "hoard = []\nwhile True:\n    hoard.append(bytearray(2**24))\n")
    assert (outcome.status, outcome.detail) == ("out_of_memory", "MemoryError")


def test_printing_gigabytes_is_capped(impatient):
    outcome = impatient.run_one("while True:\n    print('x' * 2**20)\n")
    assert (outcome.status, outcome.detail) == ("timeout", "wall time limit of 0.5 s")
    assert outcome.stdout == "x" * Limits().max_output_bytes
    assert impatient.run_one("print('still here')").stdout == "still here\n"


@pytest.mark.parametrize("where", ["tmp_path", "home", "sandbox root"])
def test_writing_outside_the_working_directory_fails(read_only_sandbox, tmp_path, where):
    directory = {"tmp_path": tmp_path, "home": Path.home(), "sandbox root": Path(read_only_sandbox._root)}[where]
    target = directory / f"phi1repro-sandbox-test-{uuid.uuid4().hex}"
    outcome = read_only_sandbox.run_one(f"open({str(target)!r}, 'w').write('harm')\n")
    assert outcome.status == "exception"
    assert outcome.detail.startswith("OSError: [Errno 30] Read-only file system"), outcome.detail
    assert not target.exists()


@pytest.fixture
def open_directory():
    """A directory anyone may write in, on a path anyone may traverse: only the read-only mount stops a write."""
    directory = Path(tempfile.mkdtemp())
    directory.chmod(0o777)
    yield directory
    shutil.rmtree(directory)


def test_a_program_cannot_make_the_file_system_writable_again(read_only_sandbox, open_directory):
    target = open_directory / "harm"
    program = f"""
import ctypes, importlib, os
mount = {str(open_directory)!r}
while not os.path.ismount(mount):
    mount = os.path.dirname(mount)
importlib.reload(os)  # as if restoring a function that a guard had removed
os.system(f"mount -o remount,bind,rw {{mount}}; echo harm > {target}")
libc = ctypes.CDLL(None, use_errno=True)
writable = (ctypes.c_uint64 * 4)(0, 1, 0, 0)  # struct mount_attr clearing MOUNT_ATTR_RDONLY
libc.syscall(442, -100, mount.encode(), 0, writable, 32)  # mount_setattr(AT_FDCWD, mount, 0, ...)
libc.unshare(0x10000000 | 0x20000)  # new user and mount namespaces: capabilities over copies of the mounts
libc.syscall(442, -100, mount.encode(), 0, writable, 32)
open({str(target)!r}, "w")
"""
    outcome = read_only_sandbox.run_one(program)
    assert outcome.status == "exception"
    assert outcome.detail.startswith("OSError: [Errno 30] Read-only file system"), outcome.detail
    assert not target.exists()


def test_no_devices_but_harmless_ones(read_only_sandbox):
    program = """
import os
with open("/dev/null", "w") as null, open("/dev/zero", "rb") as zero, open("/dev/urandom", "rb") as urandom:
    null.write("x")
    assert zero.read(2) == bytes(2) and len(urandom.read(2)) == 2
os.open("/dev/ptmx", os.O_RDWR)
"""
    outcome = read_only_sandbox.run_one(program)
    assert (outcome.status, outcome.detail) == ("exception",
                                                "PermissionError: [Errno 13] Permission denied: '/dev/ptmx'")


def test_what_a_program_writes_beside_its_working_directory_is_removed(impatient):
    wrote, looked = impatient.run(["open('../beside', 'w').write('left behind')\n",
                                   "import os\nassert os.listdir('..') == [os.path.basename(os.getcwd())]\n"])
    assert (wrote.status, looked.status) == ("passed", "passed"), looked.detail


def test_without_a_mount_namespace_programs_can_write_outside(monkeypatch, tmp_path):
    monkeypatch.setattr("phi1repro.sandbox._unshare_options", lambda network: ())  # as where unshare fails
    target = tmp_path / "written"
    with Sandbox(1) as sandbox:
        outcome = sandbox.run_one(f"open({str(target)!r}, 'w').write('anywhere')\n")
        assert not sandbox.read_only_fs
    assert (outcome.status, target.read_text()) == ("passed", "anywhere")


def test_environment_is_not_passed_on(monkeypatch):
    monkeypatch.setenv("PHI1REPRO_TEST_SECRET", "hunter2")
    program = """
import os
assert dict(os.environ) == {"HOME": os.getcwd(), "TMPDIR": os.getcwd()}, dict(os.environ)
"""
    with Sandbox(1) as sandbox:
        if "--mount-proc" in sandbox.namespaces:  # nor can it read them from /proc
            program += """
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        environ = open(f"/proc/{pid}/environ", "rb").read()
    except OSError:
        continue
    assert b"hunter2" not in environ, pid
"""
        outcome = sandbox.run_one(program)
    assert outcome.status == "passed", outcome.detail


def test_working_directory_is_a_fresh_temporary_directory_removed_afterwards(sandbox):
    program = """
import os, tempfile
assert os.listdir(".") == []
assert tempfile.gettempdir() == os.getcwd() == os.environ["HOME"]
with open("notes.txt", "w") as f:
    f.write("scratch")
os.mkdir("sub")
print(os.getcwd())
"""
    first, second = sandbox.run([program, program])
    assert (first.status, second.status) == ("passed", "passed"), first.detail
    assert first.stdout != second.stdout
    assert not os.path.exists(first.stdout.strip())


def test_file_size_limit():
    with Sandbox(1, Limits(max_file_bytes=1000)) as sandbox:
        small, big = sandbox.run([f"with open('f', 'wb') as f:\n    f.write(b'x' * {size})\n" for size in (1000, 1001)])
    assert small.status == "passed"
    assert (big.status, big.detail) == ("exception", "OSError: [Errno 27] File too large")


def test_open_files_core_dumps_and_stdin():
    program = """
import resource, sys
assert resource.getrlimit(resource.RLIMIT_CORE) == (0, 0)
assert sys.stdin.read() == ""
files = [open("/dev/null") for _ in range(32)]
"""
    with Sandbox(1, Limits(max_open_files=16)) as sandbox:
        outcome = sandbox.run_one(program)
    assert (outcome.status, outcome.detail) == ("exception", "OSError: [Errno 24] Too many open files: '/dev/null'")


def test_output_is_captured_and_capped():
    program = "import sys\nprint('start')\nsys.stderr.write('oops')\nprint('x' * 200_000)\n"
    with Sandbox(1, Limits(max_output_bytes=1000)) as sandbox:
        outcome = sandbox.run_one(program)
    assert outcome.status == "passed"
    assert outcome.stdout.startswith("start\nxxx") and len(outcome.stdout) == 1000
    assert outcome.stderr == "oops"


@pytest.fixture
def listening_port():
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


def test_no_network_when_isolated(sandbox, listening_port):
    if not sandbox.network_isolated:
        missing("unshare is unavailable here: the sandbox cannot isolate the network")
    outcome = sandbox.run_one(f"import socket\nsocket.create_connection(('127.0.0.1', {listening_port}), timeout=1)\n")
    assert outcome.status == "exception"
    assert outcome.detail.startswith("OSError: [Errno 101] Network is unreachable")


def test_network_when_asked_for(listening_port):
    with Sandbox(1, network=True) as sandbox:
        outcome = sandbox.run_one(f"import socket\nsocket.create_connection(('127.0.0.1', {listening_port}), timeout=1)\n")
    assert not sandbox.network_isolated
    assert outcome.status == "passed", outcome.detail


def test_a_fork_loop_is_stopped_by_the_process_limit_not_the_wall_time():
    """As root too: programs then run as an unprivileged user, whom the kernel does not exempt."""
    with Sandbox(1, Limits(max_processes=4, timeout_s=10.0)) as sandbox:
        if not sandbox.process_limited:
            missing("unshare is unavailable here: RLIMIT_NPROC binds programs only inside their user namespace")
        assert sandbox.programs_as_user == (os.geteuid() == 0)
        outcome = sandbox.run_one("import os, time\nwhile True:\n    if os.fork() == 0:\n        time.sleep(30)\n")
    assert (outcome.status, outcome.detail) == ("exception", "BlockingIOError: [Errno 11] Resource temporarily unavailable")
    assert outcome.seconds < 2


def test_outcomes_come_back_in_input_order(sandbox):
    programs = [f"import time\ntime.sleep({i % 3 * 0.01})\nprint({i})\n" for i in range(30)]
    outcomes = sandbox.run(programs)
    assert [outcome.stdout for outcome in outcomes] == [f"{i}\n" for i in range(30)]
    assert sandbox.run([]) == []


def test_a_killed_worker_is_restarted():
    with Sandbox(1, Limits(timeout_s=10.0)) as sandbox:
        [pid], read_only = sandbox.worker_pids, sandbox.read_only_fs
        threading.Timer(0.5, os.kill, (pid, signal.SIGKILL)).start()
        start = time.monotonic()
        lost, after = sandbox.run(["import time\ntime.sleep(5)\n", "print('still here')"])
        assert time.monotonic() - start < 3
        assert (sandbox.worker_pids != [pid], sandbox.read_only_fs) == (True, read_only)
    assert (lost.status, lost.detail.startswith("the sandbox worker died")) == ("killed", True)
    assert (after.status, after.stdout) == ("passed", "still here\n")


def test_default_cpu_limit_follows_the_wall_time_limit():
    assert Limits(timeout_s=2.5).cpu_s == 4
    assert Limits(timeout_s=2.5, cpu_s=10).cpu_s == 10
