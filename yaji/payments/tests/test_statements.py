"""The sandbox's daily statement file and ``yaji reconcile`` comparing it with provider clearing."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from yaji.core import clock
from yaji.payments.errors import MalformedStatement
from yaji.payments.models import SandboxPayment
from yaji.payments.providers import provider_get
from yaji.payments.refunds import refund_create
from yaji.payments.services import wallet_topup_create
from yaji.payments.statements import local_today, provider_statement_compare
from yaji.payments.tests.factories import UserFactory, relay_all

pytestmark = pytest.mark.django_db


def paid(amount_fen: int, *, deliver: bool = True):  # type: ignore[no-untyped-def]
    intent = wallet_topup_create(user=UserFactory(), amount_fen=amount_fen)
    Client().post(intent.pay_url, {"action": "pay"})
    if deliver:
        relay_all()
    intent.refresh_from_db()
    return intent


def tomorrow(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    later = clock.now() + timedelta(days=1)
    monkeypatch.setattr(clock, "now", lambda: later)


def reconcile() -> tuple[bool, str]:
    out = StringIO()
    try:
        call_command("reconcile", stdout=out, stderr=StringIO())
    except CommandError:
        return False, out.getvalue()
    return True, out.getvalue()


def test_statement_file_lists_the_days_payments_and_refunds() -> None:
    first = paid(10_000)
    second = paid(2500)
    refund = refund_create(intent=first, amount_fen=1234)
    relay_all()
    third = paid(999)
    wallet_topup_create(user=UserFactory(), amount_fen=77)  # never paid: not on the statement

    sandbox = provider_get("sandbox")
    content = sandbox.statement_download(local_today())
    lines = content.decode().splitlines()
    assert lines[0] == "occurred_at,type,payment_reference,refund_no,amount_fen,currency"
    assert lines[-1] == "#summary,4,13499,1234,,"
    records = sandbox.statement_parse(content)
    assert sorted(
        (r.kind, r.payment_reference, r.refund_reference, r.amount.amount) for r in records
    ) == sorted(
        [
            ("payment", first.provider_reference, "", 10_000),
            ("payment", second.provider_reference, "", 2500),
            ("payment", third.provider_reference, "", 999),
            ("refund", first.provider_reference, str(refund.id), 1234),
        ]
    )
    assert (
        sandbox.statement_parse(sandbox.statement_download(local_today() - timedelta(days=1))) == []
    )
    assert provider_statement_compare(provider="sandbox", day=local_today()) == []

    # a truncated file is refused, not half-read
    with pytest.raises(MalformedStatement):
        sandbox.statement_parse(b"\n".join(content.splitlines()[:-1]))
    with pytest.raises(MalformedStatement):
        sandbox.statement_parse(b"nonsense")


def test_reconcile_passes_when_clearing_matches_the_statement(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    intent = paid(5000)
    refund_create(intent=intent, amount_fen=2000)
    relay_all()
    tomorrow(monkeypatch)  # the day is closed: its statement is final
    ok, out = reconcile()
    assert ok, out
    assert "payments.provider_statements" in out


def test_a_deliberate_mismatch_is_reported_and_fails_reconcile(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # given a payment the provider says was ¥50.01 while we credited ¥50.00
    intent = paid(5000)
    SandboxPayment.objects.filter(reference=intent.provider_reference).update(amount_fen=5001)
    # and a payment the provider collected whose notification never reached us
    lost = paid(700, deliver=False)
    from yaji.core.models import OutboxEvent

    OutboxEvent.objects.filter(topic="payments.sandbox_notify").delete()

    found = provider_statement_compare(provider="sandbox", day=local_today())
    by_subject = {d.subject: d for d in found}
    today = local_today().isoformat()
    wrong = by_subject[f"sandbox {today} payment {intent.provider_reference}"]
    assert (wrong.expected, wrong.actual) == ("statement 50.01 CNY", "provider clearing 50.00 CNY")
    missing = by_subject[f"sandbox {today} payment {lost.provider_reference}"]
    assert missing.actual == "provider clearing 0.00 CNY (never posted)"

    # then yaji reconcile prints both and exits non-zero (the day is closed tomorrow)
    tomorrow(monkeypatch)
    ok, out = reconcile()
    assert not ok
    assert "payments.provider_statements" in out and "FAIL" in out
    assert intent.provider_reference in out and lost.provider_reference in out


def test_a_posting_missing_from_the_statement_is_reported(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    intent = paid(1500)
    # the provider's record vanished (or belongs to another merchant account)
    SandboxPayment.objects.filter(reference=intent.provider_reference).update(status="failed")
    (discrepancy,) = provider_statement_compare(provider="sandbox", day=local_today())
    assert discrepancy.subject.endswith(f"payment:{intent.id}")
    assert "missing from the statement" in discrepancy.actual


def test_payments_statement_command_writes_the_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    intent = paid(4200)
    target = tmp_path / "statement.csv"
    call_command(
        "payments_statement",
        "--provider",
        "sandbox",
        "--date",
        local_today().isoformat(),
        "-o",
        str(target),
        "--compare",
        stdout=StringIO(),
        stderr=StringIO(),
    )
    assert intent.provider_reference in target.read_text()
    SandboxPayment.objects.filter(reference=intent.provider_reference).update(amount_fen=1)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("payments_statement", "--compare", stdout=StringIO(), stderr=err)
    assert "MISMATCH" in err.getvalue()
    with pytest.raises(CommandError):
        call_command("payments_statement", "--date", "yesterday", stdout=StringIO())
