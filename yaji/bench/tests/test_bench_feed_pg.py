"""``yaji bench feed`` end to end on a small world (2,000 posts): a real server subprocess,
real HTTP, the one-row HTTP ceiling, server-side times from the access log, queries per page.

Runs in place on pytest's (migrated) test database; ``transaction=True`` so the bulk-inserted
rows are committed and the server process sees them.
"""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from yaji.bench.database import bench_database
from yaji.bench.runner import BenchOptions, bench_run
from yaji.bench.scenarios import feed

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_feed_and_post_page_over_http_with_the_one_row_ceiling(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The test run logs text at WARNING; the server's access log must be JSON at INFO to give
    # server times (the server subprocess inherits this environment, this process does not
    # reconfigure its logging).
    monkeypatch.setenv("YAJI_LOG_FORMAT", "json")
    monkeypatch.setenv("YAJI_LOG_LEVEL", "INFO")
    lines: list[dict] = []
    options = BenchOptions(
        requests=30,
        concurrency=4,
        duration_s=60,
        repeat=1,
        server_workers=2,
        server_threads=1,
        redis=False,
    )
    with bench_database(in_place=True, keep=False, say=lambda *a: None) as database:
        bench_run(
            scenario="feed",
            plans=feed.feed_cases(
                requests=30,
                names=["following", "post"],
                creators=50,
                posts=2000,
                following=20,
                commented=5,
            ),
            options=options,
            database=database,
            console=Console(quiet=True),
            emit=lambda result: lines.append(json.loads(result.as_json())),
        )
    assert [line["scenario"] for line in lines] == ["following", "post"]
    for line in lines:
        assert line["violations"] == 0, line["violation_details"]
        assert line["statuses"] == {"200": 30}
        assert line["ceiling_transactions"] == 30 and line["ceiling_per_s"] > 0
        assert line["ratio"] == pytest.approx(
            line["throughput_per_s"] / line["ceiling_per_s"], rel=0.01, abs=0.001
        )
        assert 0 < line["p50_ms"] <= line["p95_ms"] <= line["p99_ms"]
        # every measured request was found in the server's access log by its request id
        assert line["server_requests_logged"] == 30
        assert line["server_p95_ms"] > 0
        assert 0 < line["queries_per_page"] <= 12
