"""Chaos scenarios on the real pipeline, black box (issue 6): what consumers of ``news.events``
see when a worker or the broker dies. A command, not a test: it prints the issue's table and
writes ``bench/results/chaos.json``.

Each scenario runs on a broker of its own with a fresh ``NEWS_APP_ID`` (see
``tests/integration/chaos.py``): N scraped-like items from the shared excerpts corpus, the
worker(s) as ``news-streams worker``, one fault, a plain ``read_committed`` aiokafka consumer,
and ``news-streams process --all`` on the same items as the expectation, grouped by dedup group.

    python -m bench.chaos [--items 20000] [--guarantees at_least_once,exactly_once]
                          [--scenarios baseline,kill-worker,two-workers,scale-out,zombie,
                                       kill-broker,sigterm] [--json PATH]

scale-out: a second worker joins the busy one; zombie: another process takes the final
partitions' transactional ids mid-stream (what a former owner's late batch does).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from bench.corpus import ROOT, SharedMissing
from tests.integration.chaos import Report, Scenario, build_items, expected_for, run_scenario

RESULTS = ROOT / "bench" / "results" / "chaos.json"
SCENARIOS = (
    "baseline",
    "kill-worker",
    "two-workers",
    "scale-out",
    "zombie",
    "kill-broker",
    "sigterm",
)


def scenario(name: str, guarantee: str, items: int, timeout: float) -> Scenario:
    """The scenarios of the issue's table, sized for ``items``."""
    common: dict[str, Any] = {"guarantee": guarantee, "items": items, "timeout_s": timeout}
    if name == "baseline":
        return Scenario(f"{name}-{guarantee}", fault="none", **common)
    if name == "kill-worker":  # backlog produced at once, kill -9 halfway, restart on its dir
        return Scenario(f"{name}-{guarantee}", fault="kill_worker", kill_at_events=0.5, **common)
    if name == "sigterm":
        return Scenario(f"{name}-{guarantee}", fault="sigterm", kill_at_events=0.5, **common)
    if name == "kill-broker":
        return Scenario(
            f"{name}-{guarantee}",
            fault="kill_broker",
            kill_at_events=0.4,
            broker_down_s=20,
            **common,
        )
    # Input keeps arriving in these, so the moved or fenced partitions have work.
    faults = {"two-workers": "kill_one_of_two", "scale-out": "add_worker", "zombie": "zombie_fence"}
    if name in faults:
        return Scenario(
            f"{name}-{guarantee}",
            fault=faults[name],
            kill_at_produced=0.6,
            burst=0.5,
            rate=max(20.0, items / 100.0),
            **common,
        )
    raise ValueError(f"unknown scenario {name!r}")


def notes(r: Report) -> str:
    out = []
    if r.fault in ("kill_worker", "sigterm"):
        out.append(f"restart→first event {_s(r.restart_to_first_event_s)}")
    if r.sigterm_exit_s is not None:
        out.append(f"SIGTERM exit {_s(r.sigterm_exit_s)}")
    if r.fault == "kill_one_of_two":
        out.append(f"takeover {_s(r.takeover_s)} (partitions {r.stalled_partitions})")
    if r.outage_log_lines is not None:
        top = r.outage_top_lines[0] if r.outage_top_lines else ("", 0)
        out.append(
            f"worker logged {r.outage_log_lines} lines in the {_s(r.outage_s)} outage "
            f"({r.outage_log_lines_per_s or 0:.0f}/s; top ×{top[1]}: {top[0][:60]!r}); "
            f"broker back→first new event {_s(r.restart_to_first_event_s)}"
        )
    if r.lost_reordered:
        out.append(f"{r.lost_reordered} groups absorbed by a near-duplicate (order)")
    if r.extra_in_group or r.unknown_event_ids:
        out.append(f"{r.extra_in_group} duplicates through, {r.unknown_event_ids} unknown ids")
    if not r.completed:
        out.append("INCOMPLETE: not every partition processed before the timeout")
    out.append(f"run {r.duration_s:.0f} s")
    return "; ".join(out)


def _s(v: float | None) -> str:
    return "never" if v is None else f"{v:.1f} s"


def table(reports: list[Report]) -> str:
    rows = [
        "| scenario | guarantee | lost dedup groups | event_id read twice | notes |",
        "|---|---|---|---|---|",
    ]
    for r in reports:
        rows.append(
            f"| {r.scenario.rsplit('-', 1)[0]} | {r.guarantee} | "
            f"{r.lost_groups} of {r.expected_groups:,} | {r.read_twice} | {notes(r)} |"
        )
    return "\n".join(rows)


async def main_async(args: argparse.Namespace) -> list[Report]:
    items = build_items(args.items, seed=args.seed)
    t0 = time.monotonic()
    expected = await asyncio.to_thread(expected_for, items, 86400.0)
    print(
        f"{len(items):,} items, {len(expected.group_of):,} units, {len(expected.groups):,} dedup "
        f"groups (news-streams process --all, {time.monotonic() - t0:.1f} s)",
        flush=True,
    )
    timeout = args.timeout or 180 + args.items / 40
    reports = []
    for guarantee in args.guarantees.split(","):
        for name in args.scenarios.split(","):
            sc = scenario(name, guarantee, args.items, timeout)
            sc.seed = args.seed
            print(f"--- {sc.name}", flush=True)
            rep = await run_scenario(
                sc, items=items, expected=expected, log=lambda m: print(m, flush=True)
            )
            reports.append(rep)
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--guarantees", default="at_least_once,exactly_once")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--timeout", type=float, default=0, help="per scenario (0 = by items)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # retries during outages: expected
    try:
        reports = asyncio.run(main_async(args))
    except SharedMissing as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        return 0
    print()
    print(table(reports))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_bytes(
        orjson.dumps(
            {
                "items": args.items,
                "cpus": os.cpu_count(),
                "note": "measured on a shared, loaded machine",
                "scenarios": [r.as_dict() for r in reports],
                "table": table(reports),
            },
            option=orjson.OPT_INDENT_2,
        )
    )
    print(f"written {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
