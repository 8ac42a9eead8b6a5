"""The books: accounts, transactions and their entries (double entry, integer minor units).

Sign convention (ADR 0012): an entry's ``amount`` is signed and seen from the account holder's
side — positive means money arrives in the account, negative means it leaves. An account's
``balance`` is the plain sum of its entries, and the entries of one transaction sum to zero per
currency. We do not use the words debit/credit in code: with this convention every account,
asset or liability, reads the same way. System accounts that mirror money outside the platform
(``provider_clearing``) therefore run negative: -10 000 there means the provider holds 100 yuan
that users own in their wallets.

Posted rows are immutable: the ORM refuses updates and deletes (below) and the database refuses
them too (triggers, migration 0002). Corrections are new, reversing transactions.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yaji.ledger.errors import LedgerImmutable


class AccountKind(models.TextChoices):
    USER_WALLET = "user_wallet", _("用户钱包")
    SHOP_PAYABLE = "shop_payable", _("店铺应付")
    PLATFORM_REVENUE = "platform_revenue", _("平台收入")
    ESCROW = "escrow", _("担保托管")
    REDPACKET_ESCROW = "redpacket_escrow", _("红包托管")
    CREATOR_ROYALTY = "creator_royalty", _("创作者版税")
    PROVIDER_CLEARING = "provider_clearing", _("支付渠道清算")
    PAYOUT_CLEARING = "payout_clearing", _("提现清算")
    PLATFORM_EXPENSE = "platform_expense", _("平台支出")


# Accounts that mirror money outside the books (what a provider holds, what the platform spends
# on fees and subsidies) are the source of every yuan that enters; they must be able to go
# below zero. Everything else is money somebody holds and is guarded by the CHECK constraint.
# The policy follows the kind, never the caller, so no service can open an overdraftable wallet.
NEGATIVE_ALLOWED_KINDS: frozenset[str] = frozenset(
    {AccountKind.PROVIDER_CLEARING, AccountKind.PLATFORM_EXPENSE}
)


class LedgerAccount(models.Model):
    kind = models.CharField(_("类型"), max_length=32, choices=AccountKind.choices)
    # A user's account has ``owner``; other owners (shops, works, packets) are named by
    # ``owner_ref`` such as "shop:12" so the ledger never imports the apps that own them.
    # System accounts have neither.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("所有者"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,  # money outlives a careless delete
        related_name="ledger_accounts",
    )
    owner_ref = models.CharField(_("所有者引用"), max_length=100, blank=True, default="")
    currency = models.CharField(_("币种"), max_length=3)
    allow_negative = models.BooleanField(_("允许负余额"), default=False, editable=False)
    # Maintained by ledger_post under a row lock; checked against the entries by `yaji reconcile`.
    balance = models.BigIntegerField(_("余额（最小单位）"), default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("账本账户")
        verbose_name_plural = _("账本账户")
        constraints = [
            # NULLs are distinct in unique indexes, so user-owned and ownerless accounts get one
            # partial index each; together they make (kind, owner, owner_ref, currency) unique.
            models.UniqueConstraint(
                fields=["kind", "owner", "owner_ref", "currency"],
                condition=Q(owner__isnull=False),
                name="ledger_account_user_owner_uniq",
            ),
            models.UniqueConstraint(
                fields=["kind", "owner_ref", "currency"],
                condition=Q(owner__isnull=True),
                name="ledger_account_ref_owner_uniq",
            ),
            # The last line of defence under concurrency: no code path can leave a guarded
            # account below zero, whatever it does.
            models.CheckConstraint(
                condition=Q(allow_negative=True) | Q(balance__gte=0),
                name="ledger_account_balance_non_negative",
            ),
        ]

    def __str__(self) -> str:
        owner = f"user:{self.owner_id}" if self.owner_id else (self.owner_ref or "system")
        return f"#{self.pk} {self.kind} {owner} {self.currency}"


class ImmutableQuerySet(models.QuerySet):
    """Posted ledger rows are history: bulk updates and deletes are refused before any SQL."""

    def update(self, **kwargs: Any) -> int:
        raise LedgerImmutable(f"{self.model.__name__} rows are immutable")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise LedgerImmutable(f"{self.model.__name__} rows are immutable")


class ImmutableModel(models.Model):
    objects: ClassVar[models.Manager] = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise LedgerImmutable(f"{type(self).__name__} rows are immutable")
        # force_insert: a save of a new row with a preset pk must not become an UPDATE.
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise LedgerImmutable(f"{type(self).__name__} rows are immutable")


class LedgerTransaction(ImmutableModel):
    kind = models.CharField(_("类型"), max_length=64, help_text="e.g. wallet.top_up")
    # One business event posts once: the owning service derives the reference from the event
    # ("order:812:escrow"), and the unique index makes a second post impossible.
    reference = models.CharField(_("业务编号"), max_length=200, unique=True)
    description = models.CharField(_("说明"), max_length=255, blank=True, default="")
    metadata = models.JSONField(_("元数据"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    # SHA-256 of the canonical postings: tells a replay (same postings) from a conflict.
    fingerprint = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("账本交易")
        verbose_name_plural = _("账本交易")

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.reference}"


class LedgerEntry(ImmutableModel):
    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries")
    # Signed minor units: + money arrives in the account, - it leaves (module docstring).
    amount = models.BigIntegerField(_("金额（最小单位）"))
    currency = models.CharField(_("币种"), max_length=3)
    # The account's balance right after this entry, for statements ("余额明细") without a
    # window query; verified by reconciliation like the balance itself.
    balance_after = models.BigIntegerField(_("记账后余额"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("账本分录")
        verbose_name_plural = _("账本分录")
        indexes = [
            # Statements page by id within one account; reconciliation sums per account.
            models.Index(fields=["account", "id"], name="ledger_entry_account_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_entry_amount_non_zero"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} tx {self.transaction_id} account {self.account_id} {self.amount}"
