"""The web app against a reference revision of itself, in one run: cached `GET /api/forecast`
on one web worker over the mock model, 16 and 64 users, the two versions taking turns (so a
busier stretch of the machine falls on both), with the ratio of answers per second.

    python -m bench.versus REV [--now REV2] [--seconds 10] [--rounds 2]

The reference is `git archive REV src` unpacked in a temporary folder and put first on the
web process's PYTHONPATH; "now" is the working tree, or REV2 the same way. Both run on this
environment's packages and the same model service.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import subprocess
import sys
import tarfile
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx

from bench.load import LoadResult
from bench.procs import ROOT
from bench.traffic import Row, log, measure, model, web, web_url

USERS = (16, 64)
STEADY = {"MAX_REQUESTS": "0"}  # no worker replaced while measuring


@contextlib.contextmanager
def reference_source(revision: str) -> Iterator[Path]:
    """The package sources of `revision`, unpacked in a folder removed afterwards."""
    archive = subprocess.run(
        ["git", "archive", revision, "src"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    with tempfile.TemporaryDirectory(prefix="tickercast-reference-") as folder:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(folder, filter="data")
        yield Path(folder) / "src"


def run(
    revision: str, now: str | None, seconds: float, rounds: int
) -> list[tuple[str, int, list[Row]]]:
    """For each version and number of users, one row per round."""
    rows: dict[tuple[str, int], list[Row]] = defaultdict(list)
    with contextlib.ExitStack() as stack:
        source = stack.enter_context(reference_source(revision))
        versions = {f"reference {revision}": {"PYTHONPATH": str(source)}}
        if now is None:
            versions["now"] = {}
        else:
            versions[f"now {now}"] = {"PYTHONPATH": str(stack.enter_context(reference_source(now)))}
        mock = stack.enter_context(model(1, mock=True, **STEADY))
        for round_ in range(rounds):
            for name, env in versions.items():
                with web(mock.url, 1, **STEADY, **env) as site:
                    for i in range(2):  # the two views the load asks for, cached from now on
                        httpx.get(web_url(site, i, cold=False), timeout=60).raise_for_status()
                    for users in USERS:
                        row = measure(
                            f"{name}, {users} users, round {round_ + 1}",
                            [site],
                            lambda i, site=site: ("GET", web_url(site, i % 2, cold=False), None),
                            users,
                            seconds=seconds,
                        )
                        rows[name, users].append(row)
    return [(name, users, found) for (name, users), found in rows.items()]


def render(results: list[tuple[str, int, list[Row]]]) -> str:
    def pooled(found: list[Row]) -> LoadResult:
        out = LoadResult(found[0].result.users, sum(r.result.seconds for r in found))
        for row in found:
            out.latencies += row.result.latencies
            out.statuses.update(row.result.statuses)
        return out

    rate = {(name, users): pooled(found).per_second for name, users, found in results}
    lines = [
        "| web app, cached GET /api/forecast, 1 worker | users | answers/s | p50 ms | p99 ms "
        "| errors | CPU ms per answer | answers/s ÷ reference |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    reference = next(name for name, _, _ in results if name.startswith("reference"))
    for name, users, found in results:
        result = pooled(found)
        cpu = sum(r.cpu_ms * r.result.answered for r in found) / max(1, result.answered)
        ratio = rate[name, users] / rate[reference, users]
        lines.append(
            f"| {name} | {users} | {result.per_second:,.0f} | "
            f"{result.percentile(50) * 1000:,.0f} | {result.percentile(99) * 1000:,.0f} | "
            f"{result.errors} | {cpu:,.2f} | {ratio:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.versus", description=__doc__)
    parser.add_argument("revision", help="the reference: a commit, branch or tag")
    parser.add_argument("--now", default=None, help="a revision instead of the working tree")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per load case")
    parser.add_argument("--rounds", type=int, default=2, help="turns each version takes")
    args = parser.parse_args(argv)
    log(f"web app now against {args.revision}: {args.rounds} rounds of {args.seconds:g} s")
    print(render(run(args.revision, args.now, args.seconds, args.rounds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
