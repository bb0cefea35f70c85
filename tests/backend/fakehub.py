"""A local stand-in for the Hugging Face Hub on 127.0.0.1, serving a repo's files the way the Hub's API and
resolve routes do (reached through ``HF_ENDPOINT``), for download tests without network.

Routes: ``GET /api/models/<repo>/revision/<rev>`` (repo info with ``sha`` and ``siblings``), ``HEAD`` and ``GET
/<repo>/resolve/<rev>/<file>`` with ``X-Repo-Commit``, ``ETag``, ``Content-Length`` and ``Range`` requests
(resume). ``throttle`` slows file bodies down (bytes per chunk, seconds per chunk) so a test can cancel midway.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class FakeHub:
    """Serves ``files`` (``{path: bytes}``) as the repo ``repo_id`` at one commit."""

    def __init__(self, repo_id: str, files: dict[str, bytes]):
        self.repo_id, self.files = repo_id, files
        self.commit = hashlib.sha1(b"".join(sorted(files.values()))).hexdigest()
        self.throttle: tuple[int, float] | None = None
        self.ranges: list[str] = []
        self.gets: list[str] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def _file(self):
                m = re.match(rf"^/{re.escape(hub.repo_id)}/resolve/([^/]+)/(.+)$", self.path.split("?")[0])
                return (m.group(2), hub.files.get(m.group(2))) if m else (None, None)

            def _headers(self, name, data, status=200, start=0):
                self.send_response(status)
                self.send_header("X-Repo-Commit", hub.commit)
                self.send_header("ETag", '"' + hashlib.sha256(data).hexdigest() + '"')
                self.send_header("Content-Length", str(len(data) - start))
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()

            def do_HEAD(self):
                name, data = self._file()
                if data is None:
                    self.send_response(404)
                    self.send_header("X-Error-Code", "EntryNotFound")
                    self.end_headers()
                    return
                self._headers(name, data)

            def do_GET(self):
                if self.path.startswith("/api/models/"):
                    m = re.match(r"^/api/models/(.+?)/(revision|tree)/([^/?]+)", self.path)
                    if not m or m.group(1) != hub.repo_id:
                        self.send_response(404)
                        self.send_header("X-Error-Code", "RepoNotFound")
                        self.end_headers()
                        return
                    if m.group(2) == "tree":
                        dirs = sorted({str(Path(f).parent) for f in hub.files} - {"."})
                        body = json.dumps(
                            [{"type": "directory", "path": d, "oid": "0" * 40} for d in dirs]
                            + [
                                {"type": "file", "path": f, "size": len(d), "oid": hashlib.sha1(d).hexdigest()}
                                for f, d in hub.files.items()
                            ]
                        )
                    else:
                        body = json.dumps(
                            {
                                "id": hub.repo_id,
                                "sha": hub.commit,
                                "private": False,
                                "siblings": [{"rfilename": f, "size": len(d)} for f, d in hub.files.items()],
                            }
                        )
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body.encode())
                    return
                name, data = self._file()
                if data is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                hub.gets.append(name)
                rng = self.headers.get("Range")
                start = 0
                if rng:
                    hub.ranges.append(rng)
                    start = int(re.match(r"bytes=(\d+)-", rng).group(1))
                self._headers(name, data, 206 if start else 200, start)
                chunk, delay = hub.throttle or (len(data), 0.0)
                import time

                try:
                    for i in range(start, len(data), chunk):
                        self.wfile.write(data[i : i + chunk])
                        self.wfile.flush()
                        if delay:
                            time.sleep(delay)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeHub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def tiny_repo_files(folder: Path) -> dict[str, bytes]:
    """Every file of a saved tiny pipeline as ``{relative path: bytes}``."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}
