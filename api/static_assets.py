"""Content-hashed static URLs (issue 16; docs/decisions/0010-content-hashed-static-urls.md).

Every file under /static/ and /sw/ also answers at a URL that names its content: app.js is
/static/js/app.<10 hex of sha256>.js. Such a URL is sent with `Cache-Control: public,
max-age=31536000, immutable`: a phone keeps it for a year without asking again, and the service
worker's precache takes it from the HTTP cache with no request when the page has just loaded it.
Another hash for a file that exists is a 404, never the current file (a URL names one content).
The plain URL keeps working, revalidated every time (`no-cache`), for old page copies and old
workers.

The hash is of the bytes served: the minified copy where there is one (api/main.py's
MinifiedFirst), and after the file's own references to other assets are rewritten to their hashed
URLs (a stylesheet's url("/static/…"), a module's import, the worker's importScripts and precache
list). So a changed icon changes the stylesheet's URL too, and a changed script changes the
worker's bytes, which is how browsers find a new worker.

Templates get URLs from `static_url` (api/templating.py); nothing else builds them.
"""

from __future__ import annotations

import hashlib
import math
import mimetypes
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import Response

HASH_LENGTH = 10
#: app.0123456789.js → (app, 0123456789, .js). The same pattern as service_worker/caches.js.
HASHED_NAME = re.compile(r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{10})(?P<ext>\.[A-Za-z0-9]+)$")
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
#: A quoted (or, in CSS, url(…)) path under /static/ or /sw/ in a stylesheet or script.
REFERENCE = re.compile(r"""(?<=["'(])/(?:static|sw)/[A-Za-z0-9_.\-/]+(?=["')])""")
#: Files whose references are rewritten: the others are served byte for byte.
REWRITTEN_SUFFIXES = (".css", ".js", ".mjs")
#: Never at a hashed URL: the worker's own script must be refetched to find updates (/sw.js).
NEVER_HASHED = frozenset({"/sw/sw.js"})


def split_hashed(url: str) -> tuple[str, str | None]:
    """(/static/js/app.js, "0123456789") for /static/js/app.0123456789.js; (url, None) otherwise."""
    folder, _, name = url.rpartition("/")
    match = HASHED_NAME.match(name)
    if match is None:
        return url, None
    return f"{folder}/{match['stem']}{match['ext']}", match["digest"]


@dataclass(frozen=True)
class Asset:
    url: str  # as written in templates: /static/js/app.js
    hashed_url: str  # /static/js/app.0123456789.js
    digest: str
    file: Path  # the file served (the minified copy if there is one)
    body: bytes | None  # the bytes served when references were rewritten; None: the file as is
    stamp: tuple[int, int]  # the file's mtime_ns and size when this was built
    references: tuple[tuple[str, str], ...]  # (url, hashed_url) of each asset it names

    @property
    def media_type(self) -> str:
        return mimetypes.guess_type(self.url)[0] or "application/octet-stream"

    def content(self) -> bytes:
        return self.body if self.body is not None else self.file.read_bytes()


class StaticAssets:
    """The hashed URL of every file under the static mounts, built from the bytes served.

    `mounts` maps a URL prefix to the folders it serves from, first match wins (as MinifiedFirst
    looks them up). Each asset is hashed when first asked for and again when its file (or a file
    it names) changes on disk, so a development server picks up an edit; in production the files
    do not change and each asset is hashed once a process. A page asks for ~20 URLs: the files
    are looked at again at most every `recheck_seconds` (checking each time cost ~5 ms a page on
    a busy machine), except when a hashed URL is served (`fresh`: never old bytes at it)."""

    def __init__(self, mounts: dict[str, Iterable[Path]], *, recheck_seconds: float = 1.0) -> None:
        self.mounts = {
            prefix: [Path(d).resolve() for d in folders] for prefix, folders in mounts.items()
        }
        self.recheck_seconds = recheck_seconds
        self._built: dict[str, Asset] = {}
        self._checked: dict[str, float] = {}

    def find(self, url: str) -> Path | None:
        """The file served at `url`, or None (never outside the mounted folders)."""
        for prefix, folders in self.mounts.items():
            if not url.startswith(prefix):
                continue
            relative = url[len(prefix) :]
            if (
                not relative
                or relative.startswith(("/", "\\"))
                or "\\" in relative
                or "\x00" in relative  # no file has such a name (and Path refuses it: a 500)
            ):
                return None
            for root in folders:
                candidate = (root / relative).resolve()
                if candidate.is_relative_to(root) and candidate.is_file():
                    return candidate
        return None

    def asset(self, url: str, *, fresh: bool = False) -> Asset | None:
        """The asset at `url` (unhashed), or None if no file is served there. `fresh`: checked
        against the files now, not up to `recheck_seconds` ago."""
        built = self._built.get(url)
        now = time.monotonic()
        recent = now - self._checked.get(url, -math.inf) < self.recheck_seconds
        if built is not None and not fresh and recent:
            return built
        asset = self._asset(url, ())
        self._checked[url] = now
        return asset

    def url(self, url: str) -> str:
        """The hashed URL for `url`. A path that names no file is a mistake in a template."""
        if url in NEVER_HASHED:
            return url
        asset = self.asset(url)
        if asset is None:
            raise LookupError(f"no static file at {url}")
        return asset.hashed_url

    def _asset(self, url: str, visiting: tuple[str, ...]) -> Asset | None:
        if url in visiting:
            raise ValueError(f"static files name each other in a circle: {' → '.join(visiting)}")
        file = self.find(url)
        if file is None:
            return None
        status = file.stat()
        stamp = (status.st_mtime_ns, status.st_size)
        built = self._built.get(url)
        if (
            built is not None
            and built.file == file
            and built.stamp == stamp
            and all(
                (current := self._asset(name, (*visiting, url))) is not None
                and current.hashed_url == hashed
                for name, hashed in built.references
            )
        ):
            return built
        data = file.read_bytes()
        body: bytes | None = None
        references: list[tuple[str, str]] = []
        if file.suffix in REWRITTEN_SUFFIXES:
            text = data.decode("utf-8")
            hashed_urls: dict[str, str] = {}
            for name in sorted(set(REFERENCE.findall(text))):
                if name == url or name in NEVER_HASHED:
                    continue
                named = self._asset(name, (*visiting, url))
                if named is not None:
                    hashed_urls[name] = named.hashed_url
                    references.append((name, named.hashed_url))
            if hashed_urls:
                body = REFERENCE.sub(lambda m: hashed_urls.get(m[0], m[0]), text).encode("utf-8")
        digest = hashlib.sha256(body if body is not None else data).hexdigest()[:HASH_LENGTH]
        folder, _, name = url.rpartition("/")
        stem, dot, ext = name.rpartition(".")
        hashed_url = f"{folder}/{stem}.{digest}.{ext}" if dot else f"{url}.{digest}"
        built = Asset(url, hashed_url, digest, file, body, stamp, tuple(references))
        self._built[url] = built
        return built


def asset_response(asset: Asset, request_headers: Headers, *, hashed: bool) -> Response:
    """The asset's bytes: immutable at its hashed URL, revalidated every time at its plain URL.
    Both carry an ETag (the hash), so a revalidation of an unchanged file is a 304: browsers
    revalidate even immutable files in places, such as a new service worker's importScripts (in
    Chromium, whenever the registration was last checked over 24 hours ago, or never)."""
    etag = f'"{asset.digest}"'
    headers = {"Cache-Control": IMMUTABLE if hashed else REVALIDATE, "ETag": etag}
    sent = [
        t.strip().removeprefix("W/") for t in request_headers.get("if-none-match", "").split(",")
    ]
    if etag in sent:
        return Response(status_code=304, headers=headers)
    content = asset.content()
    read_again = asset.body is None  # a rewritten file's bytes are the ones hashed, in memory
    if hashed and read_again and hashlib.sha256(content).hexdigest()[:HASH_LENGTH] != asset.digest:
        # The file changed between the check and the read (a deploy under a running process):
        # nothing may be kept for a year under a URL that names other bytes.
        return Response(status_code=404, headers={"Cache-Control": REVALIDATE})
    return Response(content, media_type=asset.media_type, headers=headers)
