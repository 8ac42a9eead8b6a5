"""``yaji bench`` end to end with tiny counts: a real server subprocess, real HTTP, raw SQL.

Runs ``--in-place`` on pytest's (migrated) test database; ``transaction=True`` so the seeded
rows are committed and the server process sees them.
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from yaji.ledger.reconciliation import reconciliation_run

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

CONTRACT = {
    "scenario",
    "requests",
    "throughput_per_s",
    "p50_ms",
    "p99_ms",
    "ceiling_per_s",
    "ratio",
    "violations",
    "errors",
    "concurrency",
    "duration_s",
}


def _bench(*args: str) -> list[dict]:
    out = StringIO()
    call_command(
        "bench",
        *args,
        "--requests",
        "30",
        "--concurrency",
        "4",
        "--server-workers",
        "2",
        "--duration",
        "60",
        "--json",
        "--in-place",
        stdout=out,
    )
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def _assert_sound(line: dict, *, scenario: str) -> None:
    assert set(line) >= CONTRACT, sorted(CONTRACT - set(line))
    assert line["scenario"] == scenario
    assert line["violations"] == 0, line["violation_details"]
    assert line["errors"] == 0, line["statuses"]
    assert line["requests"] == 30
    assert line["ceiling_transactions"] == 30
    assert line["throughput_per_s"] > 0 and line["ceiling_per_s"] > 0
    # ratio is rounded to 3 decimals in the JSON line
    assert line["ratio"] == pytest.approx(
        line["throughput_per_s"] / line["ceiling_per_s"], rel=0.01, abs=0.001
    )
    assert 0 < line["p50_ms"] <= line["p99_ms"]


def test_redpackets_cases_keep_every_invariant() -> None:
    lines = _bench("redpackets")

    assert [line["scenario"] for line in lines] == ["hot", "spread", "sold-out"]
    hot, spread, sold_out = lines
    _assert_sound(hot, scenario="hot")
    assert hot["statuses"] == {"200": 30}
    _assert_sound(spread, scenario="spread")
    assert spread["statuses"] == {"200": 30}
    _assert_sound(sold_out, scenario="sold-out")
    # ⌈30 / 20⌉ = 2 shares, taken by two other users before the timed storm: all 30 timed
    # grabs hear "all taken" (from the fast path only with Redis: not here).
    assert sold_out["statuses"] == {"409": 30}
    assert sold_out["drained"] == 2 and sold_out["fast_answers"] == 0
    assert all(result.ok for result in reconciliation_run())


def test_ledger_topups_and_wallet_transfers_move_money_exactly_once_over_http() -> None:
    topup, transfer = _bench("ledger")

    _assert_sound(topup, scenario="topup")
    assert topup["statuses"] == {"200": 30}
    # 30 checkouts of 5 buyers (6 each) paid from their wallets, all at once.
    _assert_sound(transfer, scenario="transfer")
    assert transfer["statuses"] == {"201": 30}
    assert transfer["buyers"] == 5
    assert all(result.ok for result in reconciliation_run())


def test_flashsale_storm_never_oversells_and_reports_queries_per_order() -> None:
    buy_now, cart = _bench("flashsale")

    # storm: buy now (ADR 0040); storm-cart: the cart checkout (ADR 0030)
    for line, scenario in ((buy_now, "storm"), (cart, "storm-cart")):
        _assert_sound(line, scenario=scenario)
        # 30 buyers for ⌈30 / 5⌉ = 6 units: six orders placed, the rest hear "sold out".
        assert line["units"] == 6
        assert line["statuses"] == {"201": 6, "409": 24}
        assert 0 < line["queries_per_order"] <= 25
    assert buy_now["queries_per_order"] < cart["queries_per_order"]
    assert all(result.ok for result in reconciliation_run())


def test_copyright_log_keeps_the_log_gapless_and_reports_its_numbers(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from yaji.bench.scenarios import copyright as scenario

    monkeypatch.setattr(scenario, "APPEND_LEAVES", 300)
    monkeypatch.setattr(scenario, "APPEND_WRITERS", 4)
    monkeypatch.setattr(scenario, "PROOF_TREE_SIZE", 3_000)
    monkeypatch.setattr(scenario, "PROOF_SAMPLES", 50)
    monkeypatch.setattr(scenario, "DUP_IMAGES", 500)
    monkeypatch.setattr(scenario, "DUP_SAMPLES", 40)
    (line,) = _bench("copyright")
    _assert_sound(line, scenario="log")
    assert line["appends"] == 300 and line["appends_per_s"] > 0
    assert line["proof_tree_size"] == 3_000 and 0 < line["proof_p50_ms"] <= line["proof_p99_ms"]
    assert line["dup_samples"] == 40 and line["dup_lookup_p99_ms"] > 0
