"""The results as one markdown document, each target marked PASS or MISS."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bench import fastfit, methods
from bench.cases import Latency, SoakPoint, Throughput
from bench.fastfit import FastResults
from bench.methods import MethodCosts
from bench.timing import Samples, ratio

COLD_X = 2.0
NEXT_DAY_X = 3.0
REPEAT_X = 50.0
REPEAT_MS = 10.0
WORKERS_X = 1.8
FLOOR_X = 1.3
FAST_FIT_X = 50.0  # the fast engine's one fit against CmdStan's optimize call, at N = 1,250
FAST_FIT_TARGET_ROWS = 1250
FAST_COLD_X = 5.0  # a cold `engine: "fast"` forecast against the reference's
RSS_GROWTH = 0.05  # how much a worker's RSS may grow in a soak after its first checkpoint


@dataclass
class SizeResult:
    rows: int
    ours: Latency
    reference: Latency
    floor: Samples
    redis_repeat: Samples | None = None


@dataclass
class Results:
    meta: dict[str, str]
    sizes: list[SizeResult] = field(default_factory=list)
    throughput: dict[str, Throughput] = field(default_factory=dict)
    throughput_rows: int = 0
    throughput_clients: int = 0
    ceiling: float | None = None
    peak_rss: dict[str, list[float]] = field(default_factory=dict)
    soaks: dict[str, list[SoakPoint]] = field(default_factory=dict)  # by setting
    soak_rows: int = 0
    soak_cold_every: int = 0
    notes: list[str] = field(default_factory=list)
    methods: MethodCosts | None = None
    fast: FastResults | None = None


class Targets:
    """Collects every target's outcome for the summary."""

    def __init__(self) -> None:
        self.items: list[tuple[str, bool]] = []

    def check(self, text: str, ok: bool) -> str:
        self.items.append((text, ok))
        return verdict(ok)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:,.1f}"


def times(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:,.2f}×"


def latency_table(results: Results, targets: Targets) -> list[str]:
    lines = [
        "| case | N | reps ref / ours | reference ms | ours ms | reference / ours | target | |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for size in results.sizes:
        n = f"{size.rows:,}"
        ref, our = size.reference, size.ours
        rows = [
            ("cold", ref.cold, our.cold, COLD_X, math.inf),
            ("next day", ref.next_day, our.next_day, NEXT_DAY_X, math.inf),
            ("repeat, in-process cache", ref.repeat, our.repeat, REPEAT_X, REPEAT_MS),
        ]
        for name, theirs, mine, need_x, need_ms in rows:
            x = ratio(theirs.median, mine.median)
            target = f"≥ {need_x:g}×" + (f" and < {need_ms:g} ms" if need_ms < math.inf else "")
            ok = x >= need_x and mine.median_ms < need_ms
            mark = targets.check(f"{name}, N = {n}: {times(x)}, ours {ms(mine.median)} ms", ok)
            lines.append(
                f"| {name} | {n} | {len(theirs)} / {len(mine)} | {ms(theirs.median)} "
                f"| {ms(mine.median)} | {times(x)} | {target} | {mark} |"
            )
        if size.redis_repeat is not None:
            redis = size.redis_repeat
            x = ratio(ref.repeat.median, redis.median)
            lines.append(
                f"| repeat, Redis cache | {n} | {len(ref.repeat)} / {len(redis)} "
                f"| {ms(ref.repeat.median)} | {ms(redis.median)} | {times(x)} | (information) | |"
            )
    return lines


def floor_table(results: Results, targets: Targets) -> list[str]:
    lines = [
        "| N | reps | optimizer alone ms | ours cold ms | ours / floor | target | |",
        "|---:|---:|---:|---:|---:|---|---|",
    ]
    for size in results.sizes:
        n = f"{size.rows:,}"
        x = ratio(size.ours.cold.median, size.floor.median)
        mark = targets.check(f"cold vs floor, N = {n}: {times(x)}", x <= FLOOR_X)
        lines.append(
            f"| {n} | {len(size.floor)} | {ms(size.floor.median)} | {ms(size.ours.cold.median)} "
            f"| {times(x)} | ≤ {FLOOR_X:g}× | {mark} |"
        )
    return lines


def throughput_table(results: Results, targets: Targets) -> list[str]:
    lines = [
        "| service | requests | seconds | requests/s | 503s retried | answers per worker |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, run in results.throughput.items():
        lines.append(
            f"| {name} | {run.requests} | {run.seconds:,.2f} | {run.per_second:,.2f} | {run.busy} "
            f"| {', '.join(map(str, run.per_worker))} |"
        )
    rate = {name: run.per_second for name, run in results.throughput.items()}
    one_core = rate.get("ours, 1 worker, MODEL_FIT_SLOTS=1 (one core)")
    both, two_workers = rate.get("ours, 1 worker"), rate.get("ours, 2 workers")
    ref = rate.get("reference, 1 worker")
    if one_core and both:
        x = ratio(both, one_core)
        mark = targets.check(f"throughput on both cores / on one core: {times(x)}", x >= WORKERS_X)
        lines += ["", f"both cores / one core: **{times(x)}** (target ≥ {WORKERS_X:g}×) {mark}"]
    if both and two_workers:
        lines += [
            "",
            f"2 workers / 1 worker (both on all cores): {times(ratio(two_workers, both))}",
        ]
    if ref and two_workers:
        lines += ["", f"ours, 2 workers / reference: **{times(ratio(two_workers, ref))}**"]
    if results.ceiling is not None:
        lines += [
            "",
            f"This machine's ceiling: two loops of CmdStan's optimizer alone at once do "
            f"**{times(results.ceiling)}** the work of one loop (no service, no HTTP).",
        ]
    return lines


def memory_table(results: Results) -> list[str]:
    lines = ["| process | peak RSS per worker (VmHWM), MB |", "|---|---|"]
    for name, peaks in results.peak_rss.items():
        lines.append(f"| {name} | {', '.join(f'{mb:,.0f}' for mb in peaks)} |")
    return lines


def soak_table(label: str, points: list[SoakPoint], targets: Targets) -> list[str]:
    lines = [
        "| requests | RSS per worker, MB | distinct answers given per worker, MB "
        "| files in cmdstanpy temp folders | other temp files |",
        "|---:|---|---|---:|---:|",
    ]
    for point in points:
        rss = ", ".join(f"{mb:,.1f}" for mb in point.rss_mb.values())
        cached = ", ".join(f"{mb:,.1f}" for mb in point.cached_mb.values())
        lines.append(
            f"| {point.requests:,} | {rss} | {cached} | {point.files['cmdstanpy']} "
            f"| {point.files['other']} |"
        )
    if len(points) >= 3:
        base, last = points[1], points[-1]
        span = f"from request {base.requests:,} to {last.requests:,}"
        disk = targets.check(
            f"disk flat, {label}: temp files {span}: {base.files} → {last.files}",
            last.files == base.files,
        )
        grown = [last.rss_mb[pid] / base.rss_mb[pid] - 1 for pid in base.rss_mb]
        growth = ", ".join(f"{g:+.1%}" for g in grown)
        memory = targets.check(
            f"memory flat, {label}: RSS per worker {span}: {growth}", max(grown) <= RSS_GROWTH
        )
        lines += [
            "",
            f"Temp files {span}: {base.files} → {last.files}: {disk}",
            "",
            f"RSS per worker {span}: {growth} (target ≤ {RSS_GROWTH:+.0%}): {memory}",
        ]
    return lines


def soak_sections(results: Results, targets: Targets) -> list[str]:
    lines = []
    for label, points in results.soaks.items():
        total = points[-1].requests if points else 0
        lines += [
            f"## Disk and memory over {total:,} requests: {label}",
            "",
            f"N = {results.soak_rows:,}; one request in {results.soak_cold_every} a fresh "
            "window, the rest repeats of the last ten; each request on a new connection.",
            "",
            *soak_table(label, points, targets),
            "",
        ]
    return lines


def fast_fit_section(fast: FastResults, targets: Targets) -> list[str]:
    lines = [
        "One fit on the same prepared Stan inputs: CmdStan's `optimize` call (inputs written "
        "beforehand) against the in-process solver (Gram matrix included), taking turns. "
        "Wall-clock medians, and CPU medians (CmdStan's process included): on a busy machine "
        "the CPU ratio is the steadier one.",
        "",
        "| N | reps | CmdStan ms | fast ms | CmdStan / fast | CPU: CmdStan ms | CPU: fast ms "
        "| CPU: CmdStan / fast | target | |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for pair in fast.fits:
        n = f"{pair.rows:,}"
        x = ratio(pair.cmdstan.median, pair.fast.median)
        x_cpu = ratio(pair.cmdstan_cpu.median, pair.fast_cpu.median)
        target, mark = "(information)", ""
        if pair.rows == FAST_FIT_TARGET_ROWS:
            target = f"≥ {FAST_FIT_X:g}× (wall)"
            mark = targets.check(
                f"fast fit vs CmdStan's optimize, N = {n}: {times(x)} (CPU: {times(x_cpu)})",
                x >= FAST_FIT_X,
            )
        lines.append(
            f"| {n} | {len(pair.fast)} | {ms(pair.cmdstan.median)} | {ms(pair.fast.median)} "
            f"| {times(x)} | {ms(pair.cmdstan_cpu.median)} | {ms(pair.fast_cpu.median)} "
            f"| {times(x_cpu)} | {target} | {mark} |"
        )
    if len(fast.cold_fast):
        n = f"{fast.cold_rows:,}"
        x = ratio(fast.cold_reference.median, fast.cold_fast.median)
        mark = targets.check(f'cold `engine: "fast"`, N = {n}: {times(x)}', x >= FAST_COLD_X)
        lines += [
            "",
            "| case | N | reps | reference ms | fast ms | reference / fast | target | |",
            "|---|---:|---:|---:|---:|---:|---|---|",
            f'| cold `engine: "fast"`, over HTTP | {n} | {len(fast.cold_fast)} '
            f"| {ms(fast.cold_reference.median)} | {ms(fast.cold_fast.median)} | {times(x)} "
            f"| ≥ {FAST_COLD_X:g}× | {mark} |",
        ]
    if fast.costs is not None:
        lines += ["", *fastfit.engine_costs_table(fast.costs, targets.check)]
    if fast.peak_mb:
        lines += [
            "",
            "| one process answering cold requests (CmdStan's own processes not counted) "
            "| peak RSS (VmHWM), MB |",
            "|---|---:|",
        ]
        lines += [f"| {name} | {mb:,.0f} |" for name, mb in fast.peak_mb.items()]
    return lines


def service_sections(results: Results, targets: Targets) -> list[str]:
    return [
        "## Latency per request (medians over HTTP on loopback, periods = 100)",
        "",
        *latency_table(results, targets),
        "",
        "## Cold request against the floor (CmdStan's optimizer alone, same windows)",
        "",
        *floor_table(results, targets),
        "",
        f"## Throughput: cold requests, N = {results.throughput_rows:,}, "
        f"{results.throughput_clients} concurrent clients, a new connection per request",
        "",
        *throughput_table(results, targets),
        "",
        "## Peak memory",
        "",
        *memory_table(results),
        "",
        *soak_sections(results, targets),
        *(
            ["## Honest forecasts: what they cost", "", *methods.table(results.methods), ""]
            if results.methods
            else []
        ),
    ]


def render(results: Results) -> str:
    targets = Targets()
    meta = ", ".join(f"{k}: {v}" for k, v in results.meta.items())
    out = ["# tickercast model service benchmark", "", meta, ""]
    if results.sizes:  # `--fast-fit-only` measures the fast fit engine alone
        out += service_sections(results, targets)
    if results.fast is not None:
        out += ["## The fast fit engine (in-process MAP)", ""]
        out += [*fast_fit_section(results.fast, targets), ""]
    out += ["## Targets", "", *[f"- {verdict(ok)}: {text}" for text, ok in targets.items]]
    if results.notes:
        out += ["", "## Notes", "", *[f"- {note}" for note in results.notes]]
    return "\n".join(out) + "\n"
