"""A local server in the background: start ``vidstudio serve`` as a subprocess on a free loopback port with a
fresh token, wait until it answers, stop it again.

::

    with LocalServer(data_dir) as server:          # or server = LocalServer(...).start(); ...; server.stop()
        client = server.client()
        print(server.url, server.port, server.token)

The token reaches the server through its environment (``VIDSTUDIO_SERVER_TOKEN``), never its command line. The
server's output goes to ``server.log`` in the data folder (its last lines are in the error when it does not
start). While it runs, ``local-server.json`` in the data folder (readable by the user only) holds its URL, pid and
token, so that another window or program of the same user can use it (:meth:`LocalServer.find_running`) instead
of failing on the data folder it holds.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vidstudio.client.client import Client
from vidstudio.client.errors import ClientError, LocalServerFailed
from vidstudio.managed import server_python
from vidstudio.procs import process_alive
from vidstudio.protocol.constants import TOKEN_ENV

#: The file in the data folder that tells other clients of the same user where the running local server is.
RUNNING_FILE = "local-server.json"

_LISTENING = re.compile(r"listening on (http://\S+)")


class LocalServer:
    """``vidstudio serve`` in a subprocess.

    Args:
        data_dir: the server's data folder (jobs, outputs, uploads, ``models``).
        host: the loopback address to listen on; port: 0 picks a free port.
        token: the token (default: a new random one; "" for none).
        default_model, models_dirs: as ``vidstudio serve --default-model`` / ``--models-dir``.
        extra_args: more ``vidstudio serve`` arguments; env: more environment variables for the server (and its
            worker); python: the interpreter (default: the managed backend's when one is installed, see
            :mod:`vidstudio.managed`, else this process's); log_file: where its output goes (default ``data_dir/server.log``).
        exit_with_parent: pass ``--parent-pid`` with this process's id, so that the server stops by itself when
            this process ends in any way (killed included) instead of being left running.

    Attributes (after :meth:`start`): ``url``, ``port``, ``token``, ``pid``.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        default_model: str | None = None,
        models_dirs: Sequence[str | os.PathLike] = (),
        extra_args: Sequence[str] = (),
        env: dict[str, str] | None = None,
        python: str | None = None,
        log_file: str | os.PathLike | None = None,
        exit_with_parent: bool = True,
    ):
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.host, self.requested_port = host, port
        self.token = secrets.token_urlsafe(24) if token is None else (token or None)
        self.default_model = default_model
        self.models_dirs = [str(d) for d in models_dirs]
        self.extra_args = list(extra_args)
        self.env = dict(env or {})
        self.python = python or server_python()
        self.log_file = Path(log_file) if log_file is not None else self.data_dir / "server.log"
        self.exit_with_parent = exit_with_parent
        self.url: str | None = None
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self._lines: list[str] = []

    @property
    def pid(self) -> int | None:
        """The server process's id while it runs."""
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def command(self) -> list[str]:
        """The command line that starts the server."""
        # The desktop bundle (PyInstaller) is its own command line: it takes "serve" without "-m vidstudio".
        frozen = getattr(sys, "frozen", False) and self.python == sys.executable
        cmd = [
            self.python,
            *([] if frozen else ["-m", "vidstudio"]),
            "serve",
            "--host",
            self.host,
            "--port",
            str(self.requested_port),
            "--data-dir",
            str(self.data_dir),
        ]
        if self.default_model:
            cmd += ["--default-model", self.default_model]
        for d in self.models_dirs:
            cmd += ["--models-dir", d]
        if self.exit_with_parent:
            cmd += ["--parent-pid", str(os.getpid())]
        return cmd + self.extra_args

    def _log_tail(self) -> str:
        try:
            lines = self.log_file.read_text(errors="replace").splitlines()[-15:]
        except OSError:
            lines = []
        return "\n".join(self._lines[-5:] + lines)

    def start(self, timeout: float = 60.0) -> LocalServer:
        """Starts the server and waits until ``/v1/health`` answers.

        Returns:
            self.

        Raises:
            LocalServerFailed: when it exits or does not answer within ``timeout`` seconds (with its last output).
        """
        if self.proc is not None:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env}
        env.pop(TOKEN_ENV, None)
        if self.token:
            env[TOKEN_ENV] = self.token
        import vidstudio

        root = str(Path(vidstudio.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        log = open(self.log_file, "ab")
        try:
            self.proc = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, env=env
            )
        finally:
            log.close()
        found = threading.Event()

        def read() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for raw in iter(self.proc.stdout.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip()
                self._lines.append(line)
                del self._lines[:-50]
                m = _LISTENING.search(line)
                if m and self.url is None:
                    self.url = m.group(1)
                    found.set()

        threading.Thread(target=read, name="vidstudio-local-server-out", daemon=True).start()
        deadline = time.monotonic() + timeout
        while not found.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise LocalServerFailed(
                    f"the local server did not start (exit status {self.proc.returncode if self.proc else '?'}):"
                    f"\n{self._log_tail()}"
                )
        assert self.url is not None
        self.port = int(self.url.rsplit(":", 1)[1])
        with self.client(timeout=5.0) as c:
            while True:
                try:
                    c.health()
                    break
                except ClientError:
                    if self.proc is None or self.proc.poll() is not None or time.monotonic() > deadline:
                        self.stop()
                        raise LocalServerFailed(
                            f"the local server at {self.url} did not answer:\n{self._log_tail()}", url=self.url
                        ) from None
                    time.sleep(0.05)
        try:
            self._write_running_file()
        except OSError:
            pass  # others cannot find it; this process still can use it
        return self

    @staticmethod
    def find_running(data_dir: str | os.PathLike, *, timeout: float = 3.0) -> tuple[str, str | None, int] | None:
        """The local server another :class:`LocalServer` started on ``data_dir`` and that still answers.

        Returns:
            ``(url, token, pid)``, or None when there is none (no ``local-server.json``, its process ended, or it
            does not answer its health check within ``timeout`` seconds with that token).
        """
        try:
            d = json.loads((Path(data_dir).expanduser() / RUNNING_FILE).read_text())
            url, token, pid = str(d["url"]), d.get("token") or None, int(d["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not process_alive(pid):
            return None
        try:
            with Client(url, token, timeout=timeout) as c:
                if c.health().server.pid != pid:
                    return None
        except ClientError:
            return None
        return url, token, pid

    def _write_running_file(self) -> None:
        path = self.data_dir / RUNNING_FILE
        tmp = path.with_name(f".{RUNNING_FILE}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the token: the user's eyes only
        with os.fdopen(fd, "w") as f:
            json.dump({"url": self.url, "token": self.token, "pid": self.proc.pid if self.proc else None}, f)
        os.replace(tmp, path)

    def _remove_running_file(self, pid: int) -> None:
        path = self.data_dir / RUNNING_FILE
        try:
            if json.loads(path.read_text()).get("pid") == pid:
                path.unlink()
        except (OSError, ValueError, AttributeError):
            pass

    def client(self, **kwargs: Any) -> Client:
        """A :class:`Client` of this server (with its token)."""
        if self.url is None:
            raise LocalServerFailed("the local server is not started")
        return Client(self.url, self.token, **kwargs)

    def stop(self, timeout: float = 15.0) -> int | None:
        """Stops the server (SIGTERM, a graceful stop; SIGKILL after ``timeout`` seconds).

        Returns:
            its exit status (None when it was not running).
        """
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        self._remove_running_file(proc.pid)
        self.proc = None
        return proc.returncode

    def stop_nowait(self, timeout: float = 15.0) -> None:
        """Stops the server without waiting: SIGTERM now, the wait (and SIGKILL after ``timeout`` seconds) in a
        daemon thread, so that a GUI thread never blocks on it. Should this process end first, the server still
        stops by itself (it watches its ``--parent-pid``)."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
            except OSError:
                pass
        threading.Thread(target=self.stop, args=(timeout,), name="vidstudio-local-server-stop", daemon=True).start()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
