"""HTTP for feeds: hard limits, conditional GET, and a guard against fetching internal hosts.

Why we fetch ourselves instead of letting feedparser do it: feedparser has no timeout and no
size limit, and we need the validators (ETag/Last-Modified) and status codes for scheduling.

Limits that hold whatever the server does:

- one deadline for the whole fetch (DNS, connect, redirects, every byte of the body), because
  per-operation client timeouts and a server dripping a byte a second never trips them;
- a byte cap checked against ``Content-Length`` before reading and against the decoded body
  while streaming (inflating at most cap + 1 bytes), so a 50 MB answer or a gzip bomb is
  refused without being held in memory;
- redirects followed by hand (at most :data:`MAX_REDIRECTS`) so the guard checks every hop.

The guard resolves the host and refuses loopback, private, link-local, multicast and other
non-global addresses unless ``allow_private_hosts``. Limitation: aiohttp resolves again when it
connects, so a DNS answer that changes in between (rebinding) is not caught.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp

from streams.feeds.schedule import parse_retry_after
from streams.settings import Settings

MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
CONNECT_TIMEOUT_S = 10.0
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


class FetchError(Exception):
    """A fetch that produced no usable body. ``reason`` is a short stable label (metrics)."""

    reason = "error"

    def __init__(self, url: str, detail: str) -> None:
        super().__init__(f"{self.reason}: {detail} ({url})")
        self.url = url
        self.detail = detail


class FetchTimeout(FetchError):
    reason = "timeout"


class FetchTooLarge(FetchError):
    reason = "too_large"


class FetchHTTPStatus(FetchError):
    """The server answered with a status we cannot use (4xx, 5xx, odd 3xx)."""

    reason = "http_status"

    def __init__(
        self,
        url: str,
        status: int,
        retry_after_s: float | None = None,
        permanent_url: str | None = None,
    ) -> None:
        hint = f", retry after {retry_after_s:.0f}s" if retry_after_s is not None else ""
        super().__init__(url, f"HTTP {status}{hint}")
        self.status = status
        self.retry_after_s = retry_after_s
        self.permanent_url = permanent_url


class FetchDNSError(FetchError):
    reason = "dns"


class FetchConnectError(FetchError):
    reason = "connect"


class FetchRefused(FetchError):
    """Refused by our SSRF guard before any connection was made."""

    reason = "refused"


class FetchTooManyRedirects(FetchError):
    reason = "redirects"


class FetchProtocolError(FetchError):
    """Broken HTTP, bad content encoding, TLS failure and other transport trouble."""

    reason = "protocol"


@dataclass(frozen=True, slots=True)
class Validators:
    """What a conditional GET sends back: remembered per feed by the poller."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    status: int
    url: str
    """Final URL after redirects (base for relative links)."""
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Response headers, names lower-cased."""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    permanent_url: str | None = None
    """Where a chain of permanent redirects (301/308) from the requested URL ends, if any:
    the URL to store. A temporary redirect (302/303/307) anywhere in the chain stops it."""

    @property
    def validators(self) -> Validators:
        return Validators(self.etag, self.last_modified)


class Fetcher:
    """One shared connection pool for all feeds; use as an async context manager.

    aiohttp, not httpx: at hundreds of fetches per second httpx's pool cost ~5 ms of CPU per
    request on this machine, aiohttp ~0.15 ms (see ``bench/poller.py``).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.timeout_s = settings.fetch_timeout_s
        self.max_bytes = settings.fetch_max_bytes
        self.allow_private_hosts = settings.allow_private_hosts
        self._connect_s = min(CONNECT_TIMEOUT_S, settings.fetch_timeout_s)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:  # created on first use: aiohttp wants a running loop
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=max(1, self.settings.fetch_concurrency)),
                timeout=aiohttp.ClientTimeout(
                    total=None, connect=self._connect_s, sock_connect=self._connect_s
                ),
                # Environment proxies would make the guard meaningless and tests non-hermetic.
                trust_env=False,
                # We inflate ourselves, within the byte cap (see _BoundedDecoder).
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                headers={
                    "User-Agent": self.settings.user_agent,
                    "Accept": ACCEPT,
                    # Only codings _BoundedDecoder can inflate within the byte cap.
                    "Accept-Encoding": "gzip, deflate",
                },
            )
        return self._session

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(self, url: str, validators: Validators | None = None) -> FetchResult:
        """GET ``url`` within every limit; raise a :class:`FetchError` subclass otherwise."""
        try:
            async with asyncio.timeout(self.timeout_s):
                return await self._fetch(url, validators)
        except TimeoutError:
            raise FetchTimeout(url, f"no complete answer within {self.timeout_s:g}s") from None

    async def _fetch(self, url: str, validators: Validators | None) -> FetchResult:
        headers: dict[str, str] = {}
        if validators is not None:
            if validators.etag:
                headers["If-None-Match"] = validators.etag
            if validators.last_modified:
                headers["If-Modified-Since"] = validators.last_modified
        current = url
        permanent: str | None = None
        still_permanent = True
        client = self._client()
        for _hop in range(MAX_REDIRECTS + 1):
            await self._guard(current)
            try:
                async with client.get(current, headers=headers, allow_redirects=False) as response:
                    location = response.headers.get("Location")
                    if response.status in _REDIRECTS and location:
                        current = urljoin(current, location)
                        if still_permanent and response.status in (301, 308):
                            permanent = current
                        else:
                            still_permanent = False
                        continue
                    return await self._result(current, response, permanent)
            except FetchError:
                raise
            except TimeoutError:
                raise
            except aiohttp.ClientConnectorDNSError as exc:
                raise FetchDNSError(current, f"cannot resolve host: {exc}") from None
            except aiohttp.ClientConnectorError as exc:
                if _is_dns_failure(exc):
                    raise FetchDNSError(current, f"cannot resolve host: {exc}") from None
                raise FetchConnectError(current, str(exc) or type(exc).__name__) from None
            except aiohttp.InvalidURL as exc:
                raise FetchRefused(current, f"invalid URL: {exc}") from None
            except (aiohttp.ClientError, ValueError) as exc:
                raise FetchProtocolError(current, f"{type(exc).__name__}: {exc}") from None
        raise FetchTooManyRedirects(url, f"more than {MAX_REDIRECTS} redirects")

    async def _result(
        self, url: str, response: aiohttp.ClientResponse, permanent: str | None = None
    ) -> FetchResult:
        status = response.status
        hdrs = {k.lower(): v for k, v in response.headers.items()}
        if status == 304:
            return FetchResult(
                status=status,
                url=url,
                headers=hdrs,
                content_type=hdrs.get("content-type"),
                etag=hdrs.get("etag"),
                last_modified=hdrs.get("last-modified"),
                not_modified=True,
                permanent_url=permanent,
            )
        if not 200 <= status < 300:
            retry_after = parse_retry_after(hdrs.get("retry-after"), time.time())
            raise FetchHTTPStatus(url, status, retry_after, permanent)
        declared = hdrs.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchTooLarge(
                url, f"Content-Length {int(declared)} > limit {self.max_bytes} bytes"
            )
        coding = hdrs.get("content-encoding", "identity").strip().lower()
        try:
            decoder = _BoundedDecoder(coding, self.max_bytes)
        except ValueError as exc:
            raise FetchProtocolError(url, str(exc)) from None
        body = bytearray()
        try:
            async for raw in response.content.iter_any():
                body += decoder.feed(raw)
                if len(body) > self.max_bytes:
                    raise FetchTooLarge(url, f"body exceeds limit {self.max_bytes} bytes")
            body += decoder.flush()
        except zlib.error as exc:
            raise FetchProtocolError(url, f"bad {coding} body: {exc}") from None
        if len(body) > self.max_bytes:
            raise FetchTooLarge(url, f"body exceeds limit {self.max_bytes} bytes")
        return FetchResult(
            status=status,
            url=url,
            body=bytes(body),
            headers=hdrs,
            content_type=hdrs.get("content-type"),
            etag=hdrs.get("etag"),
            last_modified=hdrs.get("last-modified"),
            permanent_url=permanent,
        )

    async def _guard(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchRefused(url, "only absolute http(s) URLs are fetched")
        if self.allow_private_hosts:
            return
        host = parts.hostname
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise FetchRefused(url, "invalid port") from None
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host, port, type=socket.SOCK_STREAM
                )
            except socket.gaierror as exc:
                raise FetchDNSError(url, f"cannot resolve {host!r}: {exc.strerror}") from None
            addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
        for address in addresses:
            if not is_public_address(address):
                raise FetchRefused(
                    url,
                    f"{host} resolves to non-public address {address} "
                    "(set NEWS_ALLOW_PRIVATE_HOSTS=1 to allow)",
                )


class _BoundedDecoder:
    """Inflate gzip/deflate never producing more than ``limit + 1`` bytes in total.

    Client decoders inflate each network chunk whole, so one 64 KiB chunk of a gzip bomb
    could become ~64 MB before our cap is checked; ``max_length`` keeps it at the cap.
    """

    def __init__(self, coding: str, limit: int) -> None:
        if coding not in ("identity", "", "gzip", "x-gzip", "deflate"):
            raise ValueError(f"unsupported Content-Encoding {coding!r}")
        self.coding = coding
        self.budget = limit + 1
        self._zlib: Any = None
        if coding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            self._zlib = zlib.decompressobj()
        self._first = True

    def feed(self, data: bytes) -> bytes:
        if self._zlib is None:
            return data
        if self.coding == "deflate" and self._first and data:
            self._first = False
            try:  # "deflate" is meant to be zlib-wrapped; some servers send it raw
                return self._take(data)
            except zlib.error:
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
        return self._take(data)

    def _take(self, data: bytes) -> bytes:
        out = self._zlib.decompress(data, self.budget)
        self.budget = max(1, self.budget - len(out))
        # Anything left in unconsumed_tail would only push us over the cap.
        return bytes(out)

    def flush(self) -> bytes:
        return bytes(self._zlib.flush(self.budget)) if self._zlib is not None else b""


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for globally routable unicast addresses only."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _is_dns_failure(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, socket.gaierror):
            return True
        current = current.__cause__ or current.__context__
    text = str(exc).lower()
    return "name or service not known" in text or "nodename nor servname" in text
