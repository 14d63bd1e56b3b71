"""Downloading one file, verified by sha256, resumable, with a local mirror first.

The file is written to ``FOLDER/NAME.part`` in chunks while its sha256 is computed, and
renamed to ``FOLDER/NAME`` only when the digest matches. An interrupted download keeps
its ``.part``: the next attempt continues from its size (an HTTP ``Range`` request, or a
seek for ``file://``) and the final check still covers every byte.

``CK_DOWNLOAD_MIRROR`` names folders (or ``file://`` bases), separated by ``os.pathsep``,
that are searched before the network for a file called like the URL's basename, like
the package's ``filename``, or like the sha256 itself.

Transient failures (a timeout, a reset or dropped connection, HTTP 408, 425, 429 and 5xx)
are retried ``CK_DOWNLOAD_RETRIES`` times (default 3) after 1, 2, 4... seconds (or the
server's ``Retry-After``, up to a minute); each retry continues the ``.part``.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import BinaryIO, Protocol

from ..errors import ChecksumError, DownloadError, InvalidInput
from .progress import Progress, human

CHUNK = 1 << 20
TIMEOUT = 60.0
MIRROR_VAR = "CK_DOWNLOAD_MIRROR"
RETRIES_VAR = "CK_DOWNLOAD_RETRIES"
RETRIES = 3
BACKOFF_S = 1.0
MAX_WAIT_S = 60.0
TRANSIENT_STATUS = {408, 425, 429, 500, 502, 503, 504}
_TRANSIENT_ERRORS = (TimeoutError, ConnectionResetError, ConnectionAbortedError,
                     BrokenPipeError, http.client.RemoteDisconnected,
                     http.client.IncompleteRead)
HINT = (f"check the network, or put the file in a local mirror folder named by {MIRROR_VAR}, "
        "or point the package's url at a local copy with file://")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check_sha256(value: object) -> str:
    """The declared digest in lower case (``sha256:`` prefix allowed), or InvalidInput."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("a download needs its sha256 (64 hex digits) in the package's "
                           "install section; refusing to install an unverified file")
    digest = value.strip().lower().removeprefix("sha256:")
    if not _SHA256.match(digest):
        raise InvalidInput(f"sha256 {value!r} is not 64 hexadecimal digits")
    return digest


def file_name(url: str, filename: object = None) -> str:
    """The local name: ``filename`` if given, else the URL's basename; one safe name."""
    if filename is None:
        path = urllib.parse.urlsplit(url).path
        filename = urllib.parse.unquote(path.rstrip("/").rsplit("/", 1)[-1]) \
            if not path.endswith("/") else ""
    if not isinstance(filename, str) or not filename or filename in (".", "..") \
            or "/" in filename or "\\" in filename or "\0" in filename:
        raise InvalidInput(f"cannot take a file name from {url!r}: give the package a plain "
                           "`filename` (no folders)")
    return filename


def mirror_dirs(value: str | None = None) -> list[str]:
    """The folders named by ``CK_DOWNLOAD_MIRROR`` (plain paths or ``file://`` URLs)."""
    value = os.environ.get(MIRROR_VAR, "") if value is None else value
    items = re.split(r":(?!//)", value) if os.pathsep == ":" else value.split(os.pathsep)
    out = []
    for item in (i.strip() for i in items):
        if item.startswith("file://"):
            item = urllib.request.url2pathname(urllib.parse.urlsplit(item).path)
        if item:
            out.append(item)
    return out


class _Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class _Sink:
    """The ``.part`` file, its running sha256 and size; ``offset`` keeps that many bytes."""

    def __init__(self, part: str, offset: int) -> None:
        self.sha = hashlib.sha256()
        self.done = 0
        if offset:
            with open(part, "rb") as old:
                while self.done < offset and (block := old.read(min(CHUNK, offset - self.done))):
                    self.sha.update(block)
                    self.done += len(block)
        self.fh: BinaryIO = open(part, "r+b" if offset else "wb")
        self.fh.seek(self.done)
        self.fh.truncate()

    def copy(self, src: _Readable, label: str, total: int | None, report: Progress | None) -> None:
        if report is not None:
            report(label, self.done, total)
        while block := src.read(CHUNK):
            self.fh.write(block)
            self.sha.update(block)
            self.done += len(block)
            if report is not None:
                report(label, self.done, total)

    def close(self) -> None:
        self.fh.close()


def fetch(url: str, sha256: str, folder: str, name: str,
          report: Progress | None = None) -> dict[str, str]:
    """Put the verified file at ``folder/name``; return ``{"path", "source"}``."""
    os.makedirs(folder, exist_ok=True)
    final = os.path.join(folder, name)
    part = final + ".part"
    source = url
    found = _find_in_mirror(url, name, sha256)
    if found is not None:
        source = found
        digest = _copy_local(found, part, name, report, resume=False)
    else:
        resumed = os.path.isfile(part) and os.path.getsize(part) > 0
        digest = _retrying(url, part, name, report)
        if digest != sha256 and resumed:  # a stale .part (another file?): start over once
            os.unlink(part)
            digest = _retrying(url, part, name, report)
    if digest != sha256:
        os.unlink(part)
        where = url if source == url else f"{url} (found in the mirror as {source})"
        raise ChecksumError(f"sha256 of {where} is {digest}, expected {sha256}; the file was "
                            "deleted (the URL may serve another version than the package "
                            "declares)", url=url, expected=sha256, actual=digest, source=source)
    os.replace(part, final)
    return {"path": final, "source": source}


def check_url(url: object) -> str:
    """``url`` if it is an http, https or file URL, else InvalidInput."""
    if not isinstance(url, str) or not url:
        raise InvalidInput("a download install needs `url`")
    if urllib.parse.urlsplit(url).scheme.lower() not in ("http", "https", "file"):
        raise InvalidInput(f"cannot download {url!r}: only http://, https:// and file:// URLs "
                           "are supported")
    return url


def retries() -> int:
    """How many times a transient failure is retried (``$CK_DOWNLOAD_RETRIES``, default 3)."""
    raw = os.environ.get(RETRIES_VAR, "").strip()
    if not raw:
        return RETRIES
    if not raw.isdigit():
        raise InvalidInput(f"${RETRIES_VAR} must be a whole number of retries, not {raw!r}")
    return int(raw)


def _retrying(url: str, part: str, name: str, report: Progress | None) -> str:
    """:func:`_get`, again after a pause while the failure is transient."""
    allowed = retries()
    attempt = 0
    while True:
        try:
            return _get(url, part, name, report)
        except DownloadError as exc:
            if not exc.details.get("transient"):
                raise
            if attempt >= allowed:
                tries = f"{attempt + 1} attempt{'s' if attempt else ''}"
                details = {k: v for k, v in exc.details.items() if k != "transient"}
                raise DownloadError(f"{exc.message} (gave up after {tries})", attempts=attempt + 1,
                                    **details) from None
            wait = BACKOFF_S * 2 ** attempt
            after = exc.details.get("retry_after")
            if isinstance(after, (int, float)):
                wait = max(wait, float(after))
            wait = min(wait, MAX_WAIT_S)
            note = getattr(report, "note", None)
            if callable(note):
                note(f"{name}: {exc.details.get('why') or 'transient failure'}; retry "
                     f"{attempt + 1} of {allowed} in {wait:g} s")
            time.sleep(wait)
            attempt += 1


def _retry_after(value: str | None) -> float | None:
    if value and value.strip().isdigit():
        return float(value.strip())
    return None


def _is_transient(exc: BaseException) -> bool:
    reason = getattr(exc, "reason", None)
    return isinstance(exc, _TRANSIENT_ERRORS) or isinstance(reason, _TRANSIENT_ERRORS)


def _get(url: str, part: str, name: str, report: Progress | None) -> str:
    """Fetch ``url`` into ``part`` (continuing it if it exists); return the sha256."""
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme == "file":
        path = urllib.request.url2pathname(urllib.parse.urlsplit(url).path)
        return _copy_local(path, part, name, report, resume=True, url=url)
    if scheme in ("http", "https"):
        return _http(url, part, name, report)
    raise InvalidInput(f"cannot download {url!r}: only http://, https:// and file:// URLs "
                       "are supported")


def _find_in_mirror(url: str, name: str, sha256: str) -> str | None:
    names = [name, urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1]),
             sha256]
    for folder in mirror_dirs():
        for candidate in names:
            path = os.path.join(folder, candidate)
            if candidate and candidate not in (".", "..") and os.path.isfile(path):
                return path
    return None


def _copy_local(path: str, part: str, name: str, report: Progress | None, resume: bool,
                url: str | None = None) -> str:
    try:
        size = os.path.getsize(path)
        src = open(path, "rb")
    except OSError as exc:
        raise DownloadError(f"cannot read {url or path}: {exc.strerror or exc}; {HINT}",
                            url=url or path) from None
    with src:
        offset = os.path.getsize(part) if resume and os.path.isfile(part) else 0
        if offset > size:
            offset = 0
        sink = _Sink(part, offset)
        try:
            src.seek(offset)
            sink.copy(src, name, size, report)
        except OSError as exc:
            raise DownloadError(f"copying {url or path} failed after {human(sink.done)}: "
                                f"{exc}", url=url or path) from None
        finally:
            sink.close()
    return sink.sha.hexdigest()


def _http(url: str, part: str, name: str, report: Progress | None) -> str:
    offset = os.path.getsize(part) if os.path.isfile(part) else 0
    headers = {"User-Agent": "cknowledge-install", "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    context = None
    if url.lower().startswith("https:"):  # the CA bundle the environment names, as the hub client
        from ..client.http import ssl_context

        context = ssl_context()
    try:
        resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                      timeout=TIMEOUT, context=context)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # the .part is stale or complete: start over
            os.unlink(part)
            return _http(url, part, name, report)
        extra: dict[str, object] = {}
        if exc.code in TRANSIENT_STATUS:
            extra = {"transient": True, "why": f"HTTP {exc.code}",
                     "retry_after": _retry_after(exc.headers.get("Retry-After")
                                                 if exc.headers else None)}
        raise DownloadError(f"cannot download {url}: HTTP {exc.code} {exc.reason}; {HINT}",
                            url=url, status=exc.code, **extra) from None
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", None) or exc
        extra = {"transient": True, "why": str(reason) or type(exc).__name__} \
            if _is_transient(exc) else {}
        raise DownloadError(f"cannot download {url}: {reason}; {HINT}", url=url,
                            **extra) from None
    with resp:
        start = 0
        if offset and resp.status == 206:
            match = re.match(r"bytes (\d+)-", resp.headers.get("Content-Range", ""))
            start = int(match.group(1)) if match else -1
            if start != offset:  # not the part we asked for: start over
                resp.close()
                os.unlink(part)
                return _http(url, part, name, report)
        length = resp.headers.get("Content-Length")
        total = start + int(length) if length and length.isdigit() else None
        sink = _Sink(part, start)
        try:
            sink.copy(resp, name, total, report)
        except (OSError, http.client.HTTPException) as exc:
            raise _interrupted(url, sink.done, total, str(exc) or type(exc).__name__) from None
        finally:
            sink.close()
    if total is not None and sink.done < total:
        raise _interrupted(url, sink.done, total, "the connection closed early")
    return sink.sha.hexdigest()


def _interrupted(url: str, done: int, total: int | None, why: str) -> DownloadError:
    of = f" of {human(total)}" if total is not None else ""
    return DownloadError(f"download of {url} was interrupted after {human(done)}{of} ({why}); "
                         f"run the install again to resume it, or {HINT}", url=url, done=done,
                         total=total, transient=True, why=f"interrupted after {human(done)}")
