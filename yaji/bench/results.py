"""One result per case run: the JSON line (QUALITY.md's contract) and the human table."""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.table import Table

from yaji.bench.drive import DriveResult, Outcome


def percentile_ms(latencies_s: list[float], q: float) -> float:
    """Nearest-rank percentile in milliseconds (0 for no samples)."""
    if not latencies_s:
        return 0.0
    ordered = sorted(latencies_s)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return round(ordered[rank - 1] * 1000, 2)


def rate(result: DriveResult) -> float:
    answered = [o for o in result.answered if o.status]
    return round(len(answered) / result.wall_s, 1) if result.wall_s > 0 else 0.0


def statuses(outcomes: list[Outcome]) -> dict[str, int]:
    counts = Counter(str(o.status) if o.status else f"0:{o.error}" for o in outcomes)
    return dict(sorted(counts.items()))


@dataclass(slots=True)
class CaseResult:
    scenario: str
    requests: int  # answered requests (bounded by --requests and --duration)
    throughput_per_s: float
    p50_ms: float
    p99_ms: float
    ceiling_per_s: float
    ratio: float
    violations: int
    errors: int  # unexpected statuses and requests with no answer
    concurrency: int
    duration_s: float
    ceiling_transactions: int
    ceiling_connections: int
    ceiling_p50_ms: float
    ceiling_p99_ms: float
    server_workers: int
    server_threads: int
    redis: bool
    run: int
    client: str = ""  # the HTTP load generator (ADR 0048): node or python
    server: str = "gunicorn"  # the HTTP server `yaji serve` ran (ADR 0052)
    statuses: dict[str, int] = field(default_factory=dict)
    violation_details: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> str:
        data: dict[str, Any] = asdict(self)
        data["violation_details"] = data["violation_details"][:20]
        data.update(data.pop("extra"))
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def case_result(
    *,
    scenario: str,
    run: int,
    http: DriveResult,
    ceiling: DriveResult,
    expected: frozenset[int],
    violations: list[str],
    concurrency: int,
    ceiling_connections: int,
    server_workers: int,
    server_threads: int,
    redis: bool,
    server: str = "gunicorn",
) -> CaseResult:
    answered = http.answered
    throughput = rate(http)
    ceiling_rate = rate(ceiling)
    errors = sum(1 for o in answered if o.status not in expected)
    return CaseResult(
        scenario=scenario,
        requests=sum(1 for o in answered if o.status),
        throughput_per_s=throughput,
        p50_ms=percentile_ms([o.latency_s for o in answered], 50),
        p99_ms=percentile_ms([o.latency_s for o in answered], 99),
        ceiling_per_s=ceiling_rate,
        ratio=round(throughput / ceiling_rate, 3) if ceiling_rate else 0.0,
        violations=len(violations),
        errors=errors,
        concurrency=concurrency,
        duration_s=round(http.wall_s, 3),
        ceiling_transactions=sum(1 for o in ceiling.answered if o.status),
        ceiling_connections=ceiling_connections,
        ceiling_p50_ms=percentile_ms([o.latency_s for o in ceiling.answered], 50),
        ceiling_p99_ms=percentile_ms([o.latency_s for o in ceiling.answered], 99),
        server_workers=server_workers,
        server_threads=server_threads,
        redis=redis,
        run=run,
        client=http.client,
        server=server,
        statuses=statuses(answered),
        violation_details=violations,
    )


def summary_table(results: list[CaseResult]) -> Table:
    """One row per case: the medians over its runs (every run is in the JSON lines)."""
    table = Table(
        title="yaji bench — medians over runs (ratio = throughput / ceiling: raw SQL, or the one-row HTTP endpoint for read pages)"
    )
    for column in (
        "case",
        "runs",
        "requests",
        "req/s",
        "p50 ms",
        "p99 ms",
        "ceiling/s",
        "ratio",
        "errors",
        "violations",
    ):
        table.add_column(column, justify="left" if column == "case" else "right")
    by_case: dict[str, list[CaseResult]] = {}
    for result in results:
        by_case.setdefault(result.scenario, []).append(result)
    for case, runs in by_case.items():

        def med(attr: str, runs: list[CaseResult] = runs) -> float:
            return statistics.median(getattr(r, attr) for r in runs)

        violations = sum(r.violations for r in runs)
        table.add_row(
            case,
            str(len(runs)),
            f"{med('requests'):.0f}",
            f"{med('throughput_per_s'):,.0f}",
            f"{med('p50_ms'):.1f}",
            f"{med('p99_ms'):.1f}",
            f"{med('ceiling_per_s'):,.0f}",
            f"{med('ratio'):.2f}",
            str(sum(r.errors for r in runs)),
            f"[red]{violations}[/red]" if violations else "0",
        )
    return table
