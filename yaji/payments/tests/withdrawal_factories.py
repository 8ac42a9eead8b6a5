"""Test helpers for withdrawals: verified users, Luhn-valid test cards, funded wallets."""

from __future__ import annotations

import itertools
import json
import secrets
from datetime import date
from typing import Any

from yaji.accounts.kyc import id_number_make
from yaji.accounts.models import User
from yaji.accounts.services import kyc_submit
from yaji.accounts.tests.factories import UserFactory
from yaji.core.money import Money
from yaji.ledger.models import AccountKind
from yaji.ledger.services import Posting, ledger_post, system_account, wallet_account_for_user
from yaji.payments.models import Withdrawal
from yaji.payments.withdrawals import luhn_valid

REAL_NAME = "王小明"
_seq = itertools.count(1)


def verified_user(real_name: str = REAL_NAME, **kwargs: Any) -> User:
    user = UserFactory(**kwargs)
    n = next(_seq)
    kyc_submit(
        user=user,
        real_name=real_name,
        id_number=id_number_make(region="440305", birth=date(1988, 5, 20), seq=f"{n % 900:03d}"),
    )
    return user


def card(suffix: str = "1234", bin_: str = "622202") -> str:
    """A Luhn-valid 19-digit card number starting with ``bin_`` and ending with ``suffix``."""
    middle = "12345678"[: 19 - len(bin_) - len(suffix) - 1]
    for digit in "0123456789":
        number = bin_ + middle + digit + suffix
        if luhn_valid(number):
            return number
    raise AssertionError("unreachable: one digit always completes a Luhn number")


OK_CARD = card("1234")
FROZEN_CARD = card("0002")  # the sandbox payout provider fails it with account_frozen


def fund(user: User, amount_fen: int) -> None:
    amount = Money(amount_fen, "CNY")
    ledger_post(
        kind="test_funding",
        postings=[
            Posting(system_account(kind=AccountKind.PROVIDER_CLEARING), -amount),
            Posting(wallet_account_for_user(user=user), amount),
        ],
        reference=f"test-funding:{secrets.token_hex(8)}",
    )


def payout_callback(
    withdrawal: Withdrawal,
    *,
    status: str = "succeeded",
    event_id: str | None = None,
    amount_fen: int | None = None,
    failure_reason: str = "",
) -> bytes:
    return json.dumps(
        {
            "id": event_id or "pevt_" + secrets.token_hex(8),
            "type": f"payout.{status}",
            "reference": withdrawal.provider_reference,
            "out_reference": str(withdrawal.id),
            "amount_fen": withdrawal.amount_fen if amount_fen is None else amount_fen,
            "currency": withdrawal.currency,
            "failure_reason": failure_reason,
        }
    ).encode()
