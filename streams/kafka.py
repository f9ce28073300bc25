"""One place that turns settings into Kafka client options (aiokafka and Faust).

Every client the project creates (poller producer, worker, admin, live view, bench) takes its
connection options from here, so a security setting added once reaches all of them.

Secrets (SASL password, key password) are read here, from the environment or a file, and passed
straight to the client; nothing here logs them: :func:`describe` is the loggable summary.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

from streams.settings import Settings, SettingsError

__all__ = [
    "KafkaAuthError",
    "KafkaUnreachableError",
    "check_connection",
    "client_kwargs",
    "describe",
    "explain",
    "faust_broker_urls",
    "faust_credentials",
    "sasl_credentials",
    "ssl_context",
]


class KafkaAuthError(RuntimeError):
    """Kafka refused us (bad credentials, untrusted certificate): retrying will not help."""


class KafkaUnreachableError(RuntimeError):
    """No bootstrap server accepted a connection within the timeout."""


def _read_secret(path: str, env: str) -> str:
    try:
        return Path(path).expanduser().read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SettingsError(f"{env}={path!r}: cannot read: {exc.strerror}") from None


def sasl_credentials(settings: Settings) -> tuple[str, str]:
    """(username, password); a ``*_FILE`` setting wins over the plain value (mounted secrets)."""
    user = settings.kafka_sasl_username
    if settings.kafka_sasl_username_file:
        user = _read_secret(settings.kafka_sasl_username_file, "NEWS_KAFKA_SASL_USERNAME_FILE")
    password = settings.kafka_sasl_password
    if settings.kafka_sasl_password_file:
        password = _read_secret(settings.kafka_sasl_password_file, "NEWS_KAFKA_SASL_PASSWORD_FILE")
    return user, password


def uses_ssl(settings: Settings) -> bool:
    return settings.kafka_security_protocol in ("SSL", "SASL_SSL")


def uses_sasl(settings: Settings) -> bool:
    return settings.kafka_security_protocol.startswith("SASL_")


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """TLS context for SSL/SASL_SSL (CA, optional client cert for mTLS), else ``None``."""
    if not uses_ssl(settings):
        return None
    ctx = ssl.create_default_context(
        ssl.Purpose.SERVER_AUTH, cafile=settings.kafka_ssl_cafile or None
    )
    ctx.check_hostname = settings.kafka_ssl_check_hostname
    if settings.kafka_ssl_certfile:
        try:
            ctx.load_cert_chain(
                settings.kafka_ssl_certfile,
                settings.kafka_ssl_keyfile or None,
                password=settings.kafka_ssl_key_password or None,
            )
        except (ssl.SSLError, OSError) as exc:
            raise SettingsError(
                f"NEWS_KAFKA_SSL_CERTFILE/NEWS_KAFKA_SSL_KEYFILE cannot be loaded: {exc}"
            ) from None
    return ctx


def client_kwargs(settings: Settings) -> dict[str, Any]:
    """Connection options common to aiokafka producers, consumers and admin clients."""
    kwargs: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "security_protocol": settings.kafka_security_protocol,
    }
    ctx = ssl_context(settings)
    if ctx is not None:
        kwargs["ssl_context"] = ctx
    if uses_sasl(settings):
        user, password = sasl_credentials(settings)
        kwargs.update(
            sasl_mechanism=settings.kafka_sasl_mechanism,
            sasl_plain_username=user,
            sasl_plain_password=password,
        )
    return kwargs


def faust_broker_urls(settings: Settings) -> list[str]:
    return [f"kafka://{h.strip()}" for h in settings.bootstrap_servers.split(",") if h.strip()]


def faust_credentials(settings: Settings) -> Any:
    """``broker_credentials`` for ``faust.App`` (``None`` for PLAINTEXT)."""
    from faust.auth import SASLCredentials, SSLCredentials

    ctx = ssl_context(settings)
    if uses_sasl(settings):
        user, password = sasl_credentials(settings)
        return SASLCredentials(
            username=user,
            password=password,
            ssl_context=ctx,
            mechanism=settings.kafka_sasl_mechanism,
        )
    if ctx is not None:
        return SSLCredentials(ctx)
    return None


def describe(settings: Settings) -> str:
    """Loggable summary of how we connect (never a secret)."""
    parts = [settings.bootstrap_servers, settings.kafka_security_protocol]
    if uses_sasl(settings):
        user = settings.kafka_sasl_username or f"<{settings.kafka_sasl_username_file}>"
        parts.append(f"{settings.kafka_sasl_mechanism} user {user}")
    if settings.kafka_ssl_certfile:
        parts.append("client certificate")
    return " ".join(parts)


def explain(exc: BaseException, settings: Settings) -> KafkaAuthError | None:
    """A :class:`KafkaAuthError` with a clear message if ``exc`` means "refused", else ``None``.

    Authentication and TLS failures are not transient: callers stop at once instead of
    retrying until a timeout.
    """
    from aiokafka.errors import (
        IllegalSaslStateError,
        SaslAuthenticationFailed,
        UnsupportedSaslMechanismError,
    )

    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        where = f"Kafka at {describe(settings)}"
        if isinstance(cur, SaslAuthenticationFailed):
            return KafkaAuthError(
                f"{where} rejected the SASL credentials ({cur}); check NEWS_KAFKA_SASL_USERNAME, "
                "NEWS_KAFKA_SASL_PASSWORD(_FILE) and NEWS_KAFKA_SASL_MECHANISM"
            )
        if isinstance(cur, UnsupportedSaslMechanismError | IllegalSaslStateError):
            return KafkaAuthError(
                f"{where}: SASL mechanism {settings.kafka_sasl_mechanism} refused ({cur}); "
                "check NEWS_KAFKA_SASL_MECHANISM and NEWS_KAFKA_SECURITY_PROTOCOL"
            )
        if isinstance(cur, ssl.SSLCertVerificationError):
            return KafkaAuthError(
                f"{where}: the broker certificate is not trusted ({cur.verify_message}); "
                "check NEWS_KAFKA_SSL_CAFILE and NEWS_KAFKA_SSL_CHECK_HOSTNAME"
            )
        if isinstance(cur, ssl.SSLError):
            return KafkaAuthError(
                f"{where}: TLS handshake failed ({cur.reason or cur}); check "
                "NEWS_KAFKA_SECURITY_PROTOCOL, NEWS_KAFKA_SSL_CAFILE and, if the broker wants a "
                "client certificate, NEWS_KAFKA_SSL_CERTFILE/NEWS_KAFKA_SSL_KEYFILE"
            )
        cur = cur.__cause__ or cur.__context__
    return None


async def check_connection(settings: Settings, timeout: float | None = None) -> None:
    """Connect to a bootstrap server as every client will (TLS, SASL) and ask for metadata.

    Raises :class:`KafkaAuthError` at once when the cluster refuses us (wrong password,
    untrusted certificate, missing client certificate) and :class:`KafkaUnreachableError` when
    nothing answers within ``timeout`` (default ``NEWS_KAFKA_CONNECT_TIMEOUT_S``). aiokafka's own
    clients log such failures and retry or report only "Unable to bootstrap", so processes call
    this first to fail fast with a message that names the setting to fix.
    """
    import asyncio
    import time

    from aiokafka.conn import create_conn
    from aiokafka.protocol.metadata import MetadataRequest

    limit = settings.kafka_connect_timeout_s if timeout is None else timeout
    deadline = time.monotonic() + limit
    opts = client_kwargs(settings)
    opts.pop("bootstrap_servers")
    hosts = [h.strip() for h in settings.bootstrap_servers.split(",") if h.strip()]
    last: BaseException | None = None
    while True:
        for host in hosts:
            name, _, port = host.rpartition(":")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            conn = None
            try:
                conn = await asyncio.wait_for(
                    create_conn(
                        name.strip("[]") or host,
                        int(port or 9092),
                        request_timeout_ms=max(1000, int(remaining * 1000)),
                        **opts,
                    ),
                    remaining,
                )
                await asyncio.wait_for(conn.send(MetadataRequest([])), deadline - time.monotonic())
                return
            except Exception as exc:
                refused = explain(exc, settings)
                if refused is not None:
                    raise refused from None
                last = exc
            finally:
                if conn is not None:
                    conn.close()
        if time.monotonic() >= deadline:
            raise KafkaUnreachableError(
                f"no Kafka broker answered at {describe(settings)} within {limit:.0f}s "
                f"(last error: {type(last).__name__ if last else 'timeout'}: {last}); check "
                "NEWS_BOOTSTRAP_SERVERS and NEWS_KAFKA_SECURITY_PROTOCOL"
            )
        await asyncio.sleep(0.2)
