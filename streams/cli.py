"""``news-streams``: one entry point for the service (broker, topics, poll, worker, run) and the
offline text core (split, tag, process). Imports are lazy so offline commands start fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from typing import IO, Any

import orjson

from streams import settings as settings_mod
from streams.kafka import KafkaAuthError, KafkaUnreachableError

MAX_LINE_BYTES = 8 * 1024 * 1024
"""Longest JSONL input line accepted by the offline commands; longer lines are reported."""


class LineError(ValueError):
    """A bad input line: reported on stderr with its number, processing goes on."""


def _open_input(path: str) -> IO[bytes]:
    return sys.stdin.buffer if path == "-" else open(path, "rb")


def _jsonl(stream: IO[bytes]) -> Iterator[tuple[int, dict[str, Any] | LineError]]:
    """Yield (line number, object or error); never raises on bad content."""
    for number, raw in enumerate(stream, start=1):
        if len(raw) > MAX_LINE_BYTES:
            yield number, LineError(f"line too long ({len(raw):,} bytes > {MAX_LINE_BYTES:,})")
            continue
        if not raw.strip():
            continue
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            reason = "not UTF-8" if b"\x00" in raw or not _is_utf8(raw) else f"invalid JSON: {exc}"
            yield number, LineError(reason)
            continue
        if not isinstance(obj, dict):
            yield number, LineError(f"expected a JSON object, got {type(obj).__name__}")
            continue
        yield number, obj


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _binary_reason(data: bytes) -> str | None:
    """Why ``data`` is not a text document (as the JSONL path reports a bad line), or None."""
    if b"\x00" in data:
        return "binary input (NUL bytes), not a text document"
    if not _is_utf8(data):
        return "not UTF-8"
    return None


def _document(obj: dict[str, Any]) -> tuple[str, str]:
    """(content, content_type) from an input object with ``text`` or ``html``."""
    for key, ctype in (("html", "text/html"), ("text", "text/plain")):
        value = obj.get(key)
        if value is not None:
            if not isinstance(value, str):
                raise LineError(f"field {key!r} must be a string")
            return value, ctype
    raise LineError("missing field: 'text' or 'html'")


def _emit(out: IO[bytes], obj: Any) -> None:
    out.write(orjson.dumps(obj) + b"\n")


def _run_lines(path: str, handle: Callable[[dict[str, Any], IO[bytes]], None], command: str) -> int:
    """Drive a JSONL command: errors go to stderr with the line number; exit 1 if any."""
    out = sys.stdout.buffer
    failed = total = 0
    try:
        stream = _open_input(path)
    except OSError as exc:
        print(f"news-streams {command}: cannot open {path}: {exc.strerror}", file=sys.stderr)
        return 2
    with stream:
        for number, item in _jsonl(stream):
            total += 1
            try:
                if isinstance(item, LineError):
                    raise item
                handle(item, out)
            except LineError as exc:
                failed += 1
                print(f"news-streams {command}: line {number}: {exc}", file=sys.stderr)
            except Exception as exc:  # keep going: one odd document must not stop a batch
                failed += 1
                print(
                    f"news-streams {command}: line {number}: internal error "
                    f"{type(exc).__name__}: {exc}",
                    file=sys.stderr,
                )
    out.flush()
    if failed:
        print(f"news-streams {command}: {failed} of {total} line(s) failed", file=sys.stderr)
    return 1 if failed else 0


def _split_json(content: str, ctype: str) -> dict[str, Any]:
    from streams.text.units import split_item

    result = split_item(content, ctype)
    return {
        "title": result.title,
        "lead": result.lead,
        "teasers": [t.text for t in result.teasers],
        "teaser_meta": [{"position": t.position, "link": t.link} for t in result.teasers],
    }


def cmd_split(args: argparse.Namespace) -> int:
    if args.jsonl:

        def handle(obj: dict[str, Any], out: IO[bytes]) -> None:
            content, ctype = _document(obj)
            _emit(out, {"id": obj.get("id"), **_split_json(content, ctype)})

        return _run_lines(args.path, handle, "split")
    try:
        with _open_input(args.path) as stream:
            data = stream.read()
    except OSError as exc:
        print(f"news-streams split: cannot open {args.path}: {exc.strerror}", file=sys.stderr)
        return 2
    reason = _binary_reason(data)
    if reason:
        print(
            f"news-streams split: {args.path}: {reason}; expected UTF-8 text or HTML",
            file=sys.stderr,
        )
        return 1
    text = data.decode("utf-8")
    is_html = args.html or text.lstrip().startswith("<")
    _emit(sys.stdout.buffer, _split_json(text, "text/html" if is_html else "text/plain"))
    return 0


def cmd_tag(args: argparse.Namespace) -> int:
    from streams.text.tag import tag

    def handle(obj: dict[str, Any], out: IO[bytes]) -> None:
        text = obj.get("text")
        if not isinstance(text, str):
            raise LineError("missing field: 'text' (a string)")
        _emit(out, {"id": obj.get("id"), "tags": tag(text)})

    return _run_lines(args.path, handle, "tag")


def cmd_process(args: argparse.Namespace) -> int:
    """The stream's logic offline: split -> dedup in the window (by ``published``) -> tag."""
    from streams.events import build_event, validation_errors
    from streams.text.dedup import Deduplicator
    from streams.text.units import units_from_item
    from streams.times import now_iso

    dedup = Deduplicator(window_s=args.window_s)
    fetched_default = now_iso()

    def handle(obj: dict[str, Any], out: IO[bytes]) -> None:
        content, ctype = _document(obj)
        ident = obj.get("id")
        if not isinstance(ident, str | int) or ident == "":
            raise LineError("missing field: 'id'")
        published = obj.get("published")
        item = {
            "item_id": str(ident),
            "feed": str(obj.get("feed") or "cli"),
            "url": obj.get("url"),
            "title": obj.get("title"),
            "published": published if isinstance(published, str) else None,
            "fetched_at": obj.get("fetched_at") or published or fetched_default,
            "content": content,
            "content_type": ctype,
        }
        for unit in units_from_item(item):
            first = dedup.check(unit.sig, unit.event_id, unit.ts)
            if first is None:
                event = build_event(unit)
                if args.validate:
                    errors = validation_errors(event)
                    if errors:
                        raise LineError("event fails the schema: " + "; ".join(errors))
                _emit(out, event)
            elif args.all:
                _emit(
                    out,
                    {
                        "event_id": unit.event_id,
                        "kind": unit.kind,
                        "item_id": unit.item_id,
                        "text": unit.text,
                        "fingerprint": unit.sig.fingerprint,
                        "duplicate_of": first.event_id,
                    },
                )

    return _run_lines(args.path, handle, "process")


def cmd_settings(args: argparse.Namespace) -> int:
    if args.markdown:
        print(settings_mod.markdown_table())
    else:
        for env, value in settings_mod.display(settings_mod.load()).items():
            print(f"{env}={value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="news-streams",
        description="Live news feeds -> deduplicated, topic-tagged events on Kafka.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("split", help="split one document (or JSONL) into title, lead, teasers")
    p.add_argument("path", nargs="?", default="-", help="file, or - for stdin (default)")
    p.add_argument("--jsonl", action="store_true", help='lines of {"id", "text"|"html"}')
    p.add_argument("--html", action="store_true", help="treat a single document as HTML")
    p.set_defaults(func=cmd_split)

    p = sub.add_parser("tag", help='tag JSONL lines {"id", "text"} -> {"id", "tags"}')
    p.add_argument("path", nargs="?", default="-", help="JSONL file, or - for stdin (default)")
    p.add_argument("--jsonl", action="store_true", help="accepted for compatibility (always JSONL)")
    p.set_defaults(func=cmd_tag)

    p = sub.add_parser("process", help="the whole core as the stream runs it, offline")
    p.add_argument("path", nargs="?", default="-", help="JSONL file, or - for stdin (default)")
    p.add_argument("--jsonl", action="store_true", help="accepted for compatibility (always JSONL)")
    p.add_argument("--all", action="store_true", help="also print dropped duplicates")
    p.add_argument("--validate", action="store_true", help="check each event against the schema")
    p.add_argument(
        "--window-s", type=float, default=None, help="dedup window (default NEWS_DEDUP_WINDOW_S)"
    )
    p.set_defaults(func=cmd_process)

    p = sub.add_parser("settings", help="show the effective NEWS_* settings (secrets masked)")
    p.add_argument("--markdown", action="store_true", help="print the README table")
    p.set_defaults(func=cmd_settings)

    from streams import service_cli

    service_cli.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "window_s", 0) is None:
        args.window_s = settings_mod.load().dedup_window_s
    try:
        return int(args.func(args) or 0)
    except settings_mod.SettingsError as exc:
        print(f"news-streams: configuration error: {exc}", file=sys.stderr)
        return 2
    except (KafkaAuthError, KafkaUnreachableError) as exc:
        print(f"news-streams: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
