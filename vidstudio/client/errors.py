"""The errors the client raises, by what happened, so that callers tell them apart by type, never by words.

::

    ClientError                  (a vidstudio.errors.VidStudioError: exit 2 in the command line)
    ├── InvalidServerUrl         the URL is not http(s)://HOST:PORT
    ├── ServerUnreachable        no answer: refused connection, unknown host, time-out, dropped connection
    │   └── LocalServerFailed    a local ``vidstudio serve`` did not start or did not answer
    ├── ServerRefused            a 4xx answer, with the server's own detail (message, error type, field)
    │   ├── TokenRefused         401 / 403: no token, or the wrong one
    │   ├── NotFound             404: no such job, asset, frame or route
    │   └── Conflict             409: e.g. cancelling a finished job, the video of a job still running
    ├── ServerFailed             a 5xx answer (an internal error of the server)
    ├── StreamClosed             the event stream ended
    └── JobFailed                a job ended failed (``job`` holds its record)
        └── JobCancelled         ... or cancelled

:data:`ServerError` is the old name of :class:`ClientError`, kept for existing callers.
"""

from __future__ import annotations

from typing import Any

from vidstudio.errors import VidStudioError


class ClientError(VidStudioError):
    """Something went wrong talking to a generation server.

    Attributes:
        status: the HTTP status (None when there was no answer); kind: the server's error type
        (``invalid_request``, ``not_found``, ``unauthorized``, ``conflict``, ``too_large``, ...); field: the request
        field it names; details: ``[(field, message), ...]``; url: the server's URL (None when unknown).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        kind: str | None = None,
        field: str | None = None,
        details: list[tuple[str | None, str]] | None = None,
        url: str | None = None,
    ):
        super().__init__(message)
        self.status, self.kind, self.field, self.url = status, kind, field, url
        self.details = list(details or [])

    @property
    def detail(self) -> str:
        """The server's message alone (without the ``server URL answered STATUS:`` prefix), else the message."""
        msg = str(self)
        prefix = f"server {self.url} answered {self.status}: "
        return msg[len(prefix) :] if self.url and msg.startswith(prefix) else msg


#: The old name of :class:`ClientError`.
ServerError = ClientError


class InvalidServerUrl(ClientError):
    """The URL is not a server URL (``http://HOST:PORT`` or ``https://...``)."""


class ServerUnreachable(ClientError):
    """No answer came: the connection was refused or dropped, the host is unknown, or it timed out.

    Attributes:
        reason: the network error in words (``"[Errno 111] Connection refused"``).
    """

    def __init__(self, message: str, *, reason: str = "", url: str | None = None):
        super().__init__(message, url=url)
        self.reason = reason or message


class LocalServerFailed(ServerUnreachable):
    """A local ``vidstudio serve`` (:class:`vidstudio.client.LocalServer`) did not start or did not answer (the
    message ends with its last output)."""


class ServerRefused(ClientError):
    """The server answered 4xx; its own message, which names the field, is :attr:`detail`."""


class TokenRefused(ServerRefused):
    """401 or 403: the server needs a token and got none, or the wrong one."""


class NotFound(ServerRefused):
    """404: the job, asset, frame or route does not exist on this server."""


class Conflict(ServerRefused):
    """409: the request does not fit the resource's state (cancel a finished job, download a running one)."""


class ServerFailed(ClientError):
    """The server answered 5xx (an internal error; its message says which)."""


class StreamClosed(ClientError):
    """The event stream has ended (closed by the server, by :meth:`EventStream.close`, or the connection broke)."""


class JobFailed(ClientError):
    """A job ended without its video: ``job`` is its final record (:class:`vidstudio.protocol.Job`), whose
    ``error`` says why."""

    def __init__(self, message: str, job: Any, *, url: str | None = None):
        super().__init__(message, url=url)
        self.job = job


class JobCancelled(JobFailed):
    """A job was cancelled (by this client or another one, or by the server)."""


def refused(
    url: str,
    status: int,
    message: str,
    *,
    kind: str | None = None,
    field: str | None = None,
    details: list[tuple[str | None, str]] | None = None,
) -> ClientError:
    """The error of an answer with status ``status`` >= 400: :class:`TokenRefused`, :class:`NotFound`,
    :class:`Conflict` or :class:`ServerRefused` for 4xx, :class:`ServerFailed` for 5xx; the message is
    ``server URL answered STATUS: MESSAGE``."""
    cls: type[ClientError]
    if status in (401, 403):
        cls = TokenRefused
    elif status == 404:
        cls = NotFound
    elif status == 409:
        cls = Conflict
    elif status < 500:
        cls = ServerRefused
    else:
        cls = ServerFailed
    return cls(
        f"server {url} answered {status}: {message}", status=status, kind=kind, field=field, details=details, url=url
    )
