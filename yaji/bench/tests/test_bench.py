"""The parts of ``yaji bench`` that need no server: refusals, statistics, the JSON line."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from yaji.bench.drive import DriveResult, Outcome
from yaji.bench.results import case_result, percentile_ms


@pytest.mark.skipif(settings.IS_POSTGRES, reason="the refusal is for SQLite")
def test_refuses_sqlite_with_a_clear_message() -> None:
    with pytest.raises(CommandError, match="needs PostgreSQL"):
        call_command("bench", "redpackets", "--requests", "5")


@pytest.mark.parametrize(
    "args",
    [
        ["--requests", "0"],
        ["--requests", "50001"],
        ["--concurrency", "0"],
        ["--concurrency", "1000"],
        ["--duration", "0"],
        ["--repeat", "11"],
        ["--case", "nope"],
    ],
)
def test_rejects_unbounded_or_unknown_options(args: list[str]) -> None:
    if not settings.IS_POSTGRES:
        pytest.skip("SQLite is refused before the options are looked at")
    with pytest.raises(CommandError):
        call_command("bench", "redpackets", *args)


def test_percentiles_are_nearest_rank_in_milliseconds() -> None:
    samples = [i / 1000 for i in range(1, 101)]  # 1..100 ms

    assert percentile_ms(samples, 50) == 50.0
    assert percentile_ms(samples, 99) == 99.0
    assert percentile_ms([0.007], 99) == 7.0
    assert percentile_ms([], 50) == 0.0


def test_json_line_has_the_contract_fields_and_ratio() -> None:
    http = DriveResult(
        outcomes=[Outcome(200, 0.010), Outcome(200, 0.020), Outcome(503, 0.030), None],
        wall_s=0.5,
        timed_out=True,
    )
    ceiling = DriveResult(outcomes=[Outcome(200, 0.001)] * 4, wall_s=0.5, timed_out=False)

    result = case_result(
        scenario="hot",
        run=1,
        http=http,
        ceiling=ceiling,
        expected=frozenset({200}),
        violations=["packet 1: claimed 5 + refunded 0 != total 6"],
        concurrency=4,
        ceiling_connections=2,
        server_workers=2,
        server_threads=1,
        redis=False,
    )
    line = json.loads(result.as_json())

    assert line["server"] == "gunicorn"  # what `yaji serve` runs unless --server says otherwise
    assert line["requests"] == 3  # the unsent one is not counted
    assert line["throughput_per_s"] == 6.0 and line["ceiling_per_s"] == 8.0
    assert line["ratio"] == 0.75
    assert line["errors"] == 1 and line["statuses"] == {"200": 2, "503": 1}
    assert line["violations"] == 1
    assert line["p50_ms"] == 20.0 and line["p99_ms"] == 30.0
