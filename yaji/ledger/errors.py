"""Stable error codes of the ledger. Codes are public: never rename one, add a new one."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yaji.core.errors import ApplicationError


class InvalidPostings(ApplicationError):
    """The postings of a transaction break a bookkeeping rule (a bug in the calling service)."""

    code = "ledger_invalid_postings"
    status = 422
    default_message = _("记账分录无效。")


class UnbalancedPostings(InvalidPostings):
    code = "ledger_unbalanced"
    default_message = _("记账分录借贷不平衡。")


class InsufficientFunds(ApplicationError):
    # 409, not 422: the request is well formed; it conflicts with the current balance and may
    # succeed later (after a top-up), which is what 409 tells a client.
    code = "insufficient_funds"
    status = 409
    default_message = _("余额不足。")


class LedgerReferenceConflict(ApplicationError):
    code = "ledger_reference_conflict"
    status = 409
    default_message = _("该业务编号已用于另一笔不同的记账。")


class LedgerImmutable(RuntimeError):
    """Someone tried to change or delete a posted ledger row (a programming error)."""
