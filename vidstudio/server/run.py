"""Running the server: the address checks, one server per data folder, the listening socket, uvicorn.

:func:`serve` binds the socket itself (so that ``--port 0`` gets a free port that it can print before
serving), prints ``vidstudio server listening on http://HOST:PORT`` on stdout, writes ``server.json`` (url,
port, pid) into the data folder and runs uvicorn until SIGINT or SIGTERM (a graceful stop: the worker is asked
to finish, and a job it was running is marked failed with ``server restarted`` at the next start).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

from vidstudio.errors import VidStudioError
from vidstudio.procs import process_alive
from vidstudio.protocol.constants import TOKEN_ENV
from vidstudio.server.app import ServerConfig, create_app
from vidstudio.server.security import is_loopback

__all__ = ["TOKEN_ENV", "bind_socket", "check_address", "default_data_dir", "serve", "url_of"]


def default_data_dir() -> Path:
    """``$VIDSTUDIO_DATA_DIR/server``, else ``server`` in the platform's user data folder."""
    env = os.environ.get("VIDSTUDIO_DATA_DIR")
    if env:
        return Path(env).expanduser() / "server"
    import platformdirs

    return Path(platformdirs.user_data_dir("vidstudio", "VidStudio")) / "server"


def check_address(host: str, token: str | None) -> None:
    """Refuses a non-loopback address without a token.

    Raises:
        VidStudioError: naming the address and what to do.
    """
    if not is_loopback(host) and not token:
        raise VidStudioError(
            f"--host {host} is not a loopback address: anyone who can reach it could use this machine's GPU and "
            f"files, so the server refuses to listen there without a token (--token TOKEN, or the {TOKEN_ENV} "
            "environment variable)"
        )


def _lock_data_dir(data_dir: Path):
    """Holds ``server.lock`` in the data folder for the life of the process (one server per folder)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    f = open(data_dir / "server.lock", "a+")
    try:
        import fcntl

        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except ImportError:  # pragma: no cover - Windows: no lock
        return f
    except OSError:
        f.close()
        other = ""
        try:
            other = f" (pid {json.loads((data_dir / 'server.json').read_text()).get('pid')})"
        except (OSError, ValueError):
            pass
        raise VidStudioError(
            f"another VidStudio server{other} uses the data folder {data_dir}; stop it or choose another --data-dir"
        ) from None
    return f


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: a free port).

    Raises:
        VidStudioError: when the address cannot be bound (in use, not this machine's).
    """
    h = "127.0.0.1" if host.strip().lower() == "localhost" else host.strip().strip("[]")
    family = socket.AF_INET6 if ":" in h else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((h, port))
        sock.listen(2048)
    except OSError as e:
        sock.close()
        raise VidStudioError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    sock.set_inheritable(False)
    return sock


def url_of(sock: socket.socket) -> str:
    """``http://HOST:PORT`` of a bound socket (IPv6 hosts in brackets)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _server_class():
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, except that a SIGINT or SIGTERM ends in a clean exit (status 0, the data folder's
        ``server.json`` removed) instead of being raised again after the graceful shutdown."""

        def handle_exit(self, sig, frame) -> None:  # type: ignore[override]
            super().handle_exit(sig, frame)
            self._captured_signals.clear()

    return Server


def _watch_parent(server, pid: int, interval: float = 0.5, data_dir: Path | None = None) -> threading.Thread:
    """Starts a daemon thread that asks ``server`` (a uvicorn server) to stop gracefully once ``pid`` ends and no
    window holds a lease on ``data_dir`` (:mod:`vidstudio.client.lease`: other windows still using it)."""
    from vidstudio.client.lease import live_leases

    def watch() -> None:
        told = False
        while not server.should_exit:
            if not process_alive(pid):
                if data_dir is not None and live_leases(data_dir):
                    if not told:
                        print(
                            f"vidstudio server: process {pid} (--parent-pid) ended; other windows use this server, "
                            "running on",
                            file=sys.stderr,
                            flush=True,
                        )
                        told = True
                else:
                    print(
                        f"vidstudio server: process {pid} (--parent-pid) ended; stopping", file=sys.stderr, flush=True
                    )
                    server.should_exit = True
                    return
            time.sleep(interval)

    t = threading.Thread(target=watch, name="vidstudio-parent-watch", daemon=True)
    t.start()
    return t


def serve(
    config: ServerConfig, *, log_level: str = "warning", access_log: bool = False, parent_pid: int | None = None
) -> int:
    """Runs the server until it is stopped; returns the exit status (0, or 1 when start-up failed).

    Args:
        config: how it runs.
        log_level, access_log: uvicorn's logging.
        parent_pid: stop gracefully (as on SIGTERM) when this process ends, checked twice a second.

    Raises:
        VidStudioError: a non-loopback host without a token, a data folder in use, an address that cannot be
            bound.
    """
    import uvicorn

    check_address(config.host, config.token)
    data_dir = Path(config.data_dir).expanduser().resolve()
    config.data_dir = data_dir
    lock = _lock_data_dir(data_dir)
    sock = bind_socket(config.host, config.port)
    url = url_of(sock)
    try:
        app = create_app(config)
        uconfig = uvicorn.Config(
            app,
            log_level=log_level,
            access_log=access_log,
            ws="websockets-sansio",
            lifespan="on",
            timeout_graceful_shutdown=3,
        )
        server = _server_class()(uconfig)
        info = {"url": url, "port": sock.getsockname()[1], "pid": os.getpid(), "auth": bool(config.token)}
        (data_dir / "server.json").write_text(json.dumps(info))
        print(f"vidstudio server listening on {url} (data folder {data_dir})", flush=True)
        if parent_pid is not None:
            _watch_parent(server, parent_pid, data_dir=config.data_dir)
        server.run(sockets=[sock])
        return 0 if server.started else 1
    finally:
        sock.close()
        try:
            (data_dir / "server.json").unlink()
        except OSError:
            pass
        lock.close()
        sys.stdout.flush()
