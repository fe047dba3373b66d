"""A teacher the workflow starts itself: an OpenAI-compatible server run inside the job that needs it.

`teacher.serve.command` is any command that serves the protocol on the port it is given as `{port}`
(vLLM's `vllm serve <model> --port {port}`, llama.cpp's `llama-server -m <gguf> --port {port}`, the
offline teacher). The job starts it, waits until GET /v1/models answers, runs the stage against it,
and stops it. A server that never becomes ready, or that dies before the stage ends, fails the job
with the command and the last lines of its log; every answer received is already in the cache.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import shlex
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

POLL_S = 0.2
STOP_GRACE_S = 30.0
LOG_TAIL_LINES = 20


class ServeError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:]) or "(its log is empty)"


def _answers(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


class _Server:
    """One server process: started in its own process group, so stopping it stops what it started."""

    def __init__(self, command: str, log_path: Path):
        self.port = free_port()
        self.command = command.replace("{port}", str(self.port))
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(shlex.split(self.command), stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        self.stopping = False
        self.died = False

    def failure(self, what: str) -> ServeError:
        return ServeError(f"the teacher server {what}: {self.command}\nlast lines of {self.log_path}:\n"
                          f"{log_tail(self.log_path)}")

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not _answers(self.base_url):
            if self.process.poll() is not None:
                raise self.failure(f"exited with code {self.process.returncode} before it was ready")
            if time.monotonic() > deadline:
                raise self.failure(f"was not ready within {timeout_s:g} s (GET {self.base_url}/models)")
            time.sleep(POLL_S)

    def watch(self) -> None:
        """Interrupt the stage (KeyboardInterrupt in the main thread) if the server dies before it ends."""
        def wait() -> None:
            self.process.wait()
            if not self.stopping:
                self.died = True
                _thread.interrupt_main()
        threading.Thread(target=wait, daemon=True).start()

    def stop(self) -> None:
        self.stopping = True
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@contextlib.contextmanager
def served(serve: dict, log_path: str | Path) -> Iterator[str]:
    """Start `serve["command"]` on a free port, yield its base URL once it answers, stop it after."""
    server = _Server(serve["command"], Path(log_path))
    try:
        server.wait_ready(serve["ready_timeout_s"])
        server.watch()
        try:
            yield server.base_url
        except BaseException as e:
            if server.died or server.process.poll() is not None:
                raise server.failure(f"exited with code {server.process.returncode} during the stage") from e
            raise
        if server.died or server.process.poll() is not None:  # the stage ended before the watcher's interrupt
            raise server.failure(f"exited with code {server.process.returncode} during the stage")
    finally:
        server.stop()
