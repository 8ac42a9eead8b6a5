"""The copyright log (leaves, stored subtree hashes, signed checkpoints) and what the platform
keeps beside it: creators' custodial keys, registrations linking works to leaves, and the
near-duplicate review queue.

Log rows (:class:`LogEntry`, :class:`LogNode`, :class:`Checkpoint`) are append-only: the ORM
refuses updates and deletes and the database refuses them too (triggers, migration 0002).
:class:`LogHead` is the one mutable row — the tree's size and right edge, which is also the lock
that serialises appends. Nothing in the log names a person: a leaf carries the author's
``did:key``, and only :class:`CreatorKey` (not published) maps it back to an account.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yaji.core.fields import EncryptedTextField


class LogImmutable(Exception):
    """Code tried to change or delete a row of the append-only log."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise LogImmutable(f"{self.model.__name__} rows are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise LogImmutable(f"{self.model.__name__} rows are append-only")


class AppendOnlyModel(models.Model):
    objects: ClassVar[models.Manager] = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise LogImmutable(f"{type(self).__name__} rows are append-only")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise LogImmutable(f"{type(self).__name__} rows are append-only")


class LogEntry(AppendOnlyModel):
    """One leaf: ``leaf`` is the canonical JSON statement, hashed as RFC 6962 leaf data."""

    index = models.BigIntegerField(_("序号"), unique=True)
    leaf = models.TextField(_("叶子数据"))
    leaf_hash = models.CharField(_("叶子哈希"), max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("存证条目")
        verbose_name_plural = _("存证条目")
        ordering = ["index"]
        constraints = [
            models.CheckConstraint(condition=Q(index__gte=0), name="log_entry_index_gte_0")
        ]

    def __str__(self) -> str:
        return f"#{self.index}"


class LogNode(AppendOnlyModel):
    """The hash of a complete subtree: leaves [index·2^level, (index+1)·2^level), level ≥ 1."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("默克尔节点")
        verbose_name_plural = _("默克尔节点")
        constraints = [
            models.UniqueConstraint(fields=["level", "index"], name="log_node_level_index_uniq"),
            models.CheckConstraint(condition=Q(level__gte=1), name="log_node_level_gte_1"),
        ]

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class LogHead(models.Model):
    """The single mutable row: size and right edge (compact range) of the tree."""

    size = models.BigIntegerField(default=0)
    edge = models.JSONField(default=list)  # hex hashes, largest complete subtree first
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("日志头")
        verbose_name_plural = _("日志头")

    def __str__(self) -> str:
        return f"log head size {self.size}"


class PendingLeaf(models.Model):
    """A leaf sequenced but not yet integrated into the tree (Tessera's pool).

    Inserting one takes no lock; the integrator appends pending leaves in id order, many per
    transaction under the head lock, and deletes them in the same transaction — so the log
    stays gapless and a leaf is either pending or in the tree, never both.
    """

    leaf = models.TextField()
    registration = models.OneToOneField(
        "Registration", null=True, blank=True, on_delete=models.CASCADE, related_name="pending"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("待写入条目")
        verbose_name_plural = _("待写入条目")

    def __str__(self) -> str:
        return f"pending {self.pk}"


class Checkpoint(AppendOnlyModel):
    """A signed tree head: origin, size, root and time, signed with the log's Ed25519 key."""

    origin = models.CharField(max_length=200)
    size = models.BigIntegerField(unique=True)
    root_hash = models.CharField(max_length=64)
    timestamp = models.CharField(max_length=32)  # RFC 3339 UTC, exactly as signed
    key_id = models.CharField(max_length=8)
    signature = models.CharField(max_length=100)  # base64 Ed25519 signature of the body
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("签名检查点")
        verbose_name_plural = _("签名检查点")
        ordering = ["-size"]

    def __str__(self) -> str:
        return f"checkpoint {self.size}"


class CreatorKey(models.Model):
    """A creator's custodial Ed25519 key; the public half is published as ``did:key``."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="copyright_key"
    )
    did = models.CharField(max_length=80, unique=True)
    private_seed = EncryptedTextField()  # base64 of the 32-byte Ed25519 seed
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("创作者密钥")
        verbose_name_plural = _("创作者密钥")

    def __str__(self) -> str:
        return self.did


class RegistrationStatus(models.TextChoices):
    PENDING_REVIEW = "pending_review", _("待人工审核")
    SEQUENCED = "sequenced", _("已排队，待写入日志")
    REGISTERED = "registered", _("已登记")
    REFUSED = "refused", _("未通过")


class Registration(models.Model):
    """A work's registration: what was fingerprinted, and the log leaf once appended."""

    Status = RegistrationStatus

    work = models.ForeignKey(
        "community.Work", on_delete=models.PROTECT, related_name="copyright_registrations"
    )
    registrant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="copyright_registrations"
    )
    author_did = models.CharField(max_length=80)
    content_sha256 = models.CharField(max_length=64, db_index=True)
    # 64-bit perceptual hashes stored as signed BIGINT; NULL for sound and video.
    dhash = models.BigIntegerField(null=True, blank=True)
    dhash_mirror = models.BigIntegerField(null=True, blank=True)
    phash = models.BigIntegerField(null=True, blank=True)
    phash_mirror = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=RegistrationStatus.choices)
    refused_reason = models.TextField(blank=True, default="")
    entry = models.OneToOneField(
        LogEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="registration"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("版权登记")
        verbose_name_plural = _("版权登记")
        constraints = [
            # One live registration per work (a refused one may be retried).
            models.UniqueConstraint(
                fields=["work"],
                condition=~Q(status="refused"),
                name="registration_one_live_per_work",
            ),
            models.CheckConstraint(
                condition=~Q(status="registered") | Q(entry__isnull=False),
                name="registration_registered_has_entry",
            ),
            # The same content is registered once (by whoever came first): the database
            # decides between two concurrent registrations, without the log's lock.
            models.UniqueConstraint(
                fields=["content_sha256"],
                condition=~Q(status="refused"),
                name="registration_one_live_per_content",
            ),
        ]
        indexes = [
            models.Index(fields=["registrant", "-id"], name="registration_registrant_idx"),
            # The near-duplicate scan reads only this narrow index (an index-only scan on
            # PostgreSQL), not the registration rows: ADR 0034.
            models.Index(
                fields=["registrant", "dhash", "dhash_mirror", "phash", "phash_mirror", "id"],
                condition=Q(status__in=["registered", "sequenced"]) & Q(dhash__isnull=False),
                name="registration_image_fp_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"registration {self.pk} of work {self.work_id}"

    @property
    def is_image(self) -> bool:
        return self.dhash is not None


class DuplicateCaseStatus(models.TextChoices):
    OPEN = "open", _("待审核")
    CLEARED = "cleared", _("不构成侵权")
    UPHELD = "upheld", _("确认侵权")
    WITHDRAWN = "withdrawn", _("已撤销（重新提交）")


class DuplicateCase(models.Model):
    """A near-duplicate of a registered work, waiting for a reviewer.

    The subject is either a product image (the listing is held in the catalog) or a new
    registration (held in ``pending_review``).
    """

    Status = DuplicateCaseStatus

    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    product_image = models.ForeignKey(
        "catalog.ProductImage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    registration = models.ForeignKey(
        Registration, null=True, blank=True, on_delete=models.CASCADE, related_name="cases"
    )
    matched = models.ForeignKey(Registration, on_delete=models.PROTECT, related_name="+")
    # Which submission of the listing the case belongs to (its ``submitted_at``): a verdict
    # from an earlier round never decides a resubmitted listing.
    product_submitted_at = models.DateTimeField(null=True, blank=True)
    distance = models.PositiveSmallIntegerField()
    status = models.CharField(
        max_length=10, choices=DuplicateCaseStatus.choices, default=DuplicateCaseStatus.OPEN
    )
    reason = models.TextField(blank=True, default="")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("疑似侵权审核")
        verbose_name_plural = _("疑似侵权审核")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(product__isnull=False) | Q(registration__isnull=False),
                name="duplicate_case_has_subject",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="duplicate_case_queue_idx")]

    def __str__(self) -> str:
        return f"case {self.pk}"


class TakedownStatus(models.TextChoices):
    FILED = "filed", _("已提交")
    COUNTERED = "countered", _("商家已申辩")
    UPHELD = "upheld", _("已下架")
    REJECTED = "rejected", _("未支持")


class TakedownNotice(models.Model):
    """A rights holder's notice against a listing, backed by their registration certificate."""

    Status = TakedownStatus

    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    complainant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="takedown_notices"
    )
    registration = models.ForeignKey(Registration, on_delete=models.PROTECT, related_name="notices")
    statement = models.TextField(_("投诉说明"))
    counter_statement = models.TextField(_("商家申辩"), blank=True, default="")
    status = models.CharField(
        max_length=10, choices=TakedownStatus.choices, default=TakedownStatus.FILED
    )
    decision_reason = models.TextField(blank=True, default="")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("侵权投诉")
        verbose_name_plural = _("侵权投诉")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "registration"],
                condition=Q(status__in=["filed", "countered"]),
                name="takedown_one_open_per_product_work",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="takedown_queue_idx")]

    def __str__(self) -> str:
        return f"notice {self.pk}"


class TakedownEventKind(models.TextChoices):
    FILED = "filed", _("权利人提交投诉")
    COUNTERED = "countered", _("商家提交申辩")
    UPHELD = "upheld", _("审核支持投诉，商品下架")
    REJECTED = "rejected", _("审核不支持投诉")


class TakedownEvent(AppendOnlyModel):
    """One step of a notice's history; never changed."""

    notice = models.ForeignKey(TakedownNotice, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=10, choices=TakedownEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("投诉记录")
        verbose_name_plural = _("投诉记录")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.notice_id}:{self.kind}"


class WitnessAnchor(AppendOnlyModel):
    """A witness's token over one checkpoint (e.g. an RFC 3161 time-stamp)."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="anchors")
    witness = models.CharField(max_length=40)
    token = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("见证锚定")
        verbose_name_plural = _("见证锚定")
        constraints = [
            models.UniqueConstraint(fields=["checkpoint", "witness"], name="anchor_one_per_witness")
        ]

    def __str__(self) -> str:
        return f"{self.witness} over checkpoint {self.checkpoint_id}"


# --- digital passports for limited-edition units ----------------------------------------------


class EditionDesign(models.Model):
    """A limited edition (a catalog product) declared to be made from a registered design."""

    product = models.OneToOneField(
        "catalog.Product", on_delete=models.PROTECT, related_name="copyright_design"
    )
    registration = models.ForeignKey(
        Registration, on_delete=models.PROTECT, related_name="editions"
    )
    bound_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("限量版设计")
        verbose_name_plural = _("限量版设计")

    def __str__(self) -> str:
        return f"edition of product {self.product_id}"


class PassportStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    SUSPECTED = "suspected", _("疑似克隆")
    CLONED = "cloned", _("确认克隆")
    VOID = "void", _("已作废")


class Passport(models.Model):
    """The digital passport of one numbered unit: a serial and a signed QR payload."""

    Status = PassportStatus

    serial = models.CharField(_("序列号"), max_length=40, unique=True)
    design = models.ForeignKey(EditionDesign, on_delete=models.PROTECT, related_name="passports")
    # trade deletes a unit when its order is refunded before shipment: the passport stays
    # (its history is in the log) and is voided.
    edition_unit = models.OneToOneField(
        "trade.EditionUnit",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="copyright_passport",
    )
    order = models.ForeignKey(
        "trade.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    number = models.PositiveIntegerField(_("编号"))
    token = models.TextField()  # the signed QR payload, exactly as printed
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=PassportStatus.choices, default=PassportStatus.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("数字护照")
        verbose_name_plural = _("数字护照")
        constraints = [
            models.UniqueConstraint(
                fields=["design", "number"],
                condition=~Q(status="void"),
                name="passport_one_live_per_number",
            ),
        ]

    def __str__(self) -> str:
        return self.serial


class PassportEventKind(models.TextChoices):
    PRODUCED = "produced", _("生产编号")
    SOLD = "sold", _("售出")
    TRANSFERRED = "transferred", _("转让")
    VOIDED = "voided", _("作废")


class PassportEvent(AppendOnlyModel):
    """One step of a unit's provenance, each one a leaf of the log."""

    passport = models.ForeignKey(Passport, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=12, choices=PassportEventKind.choices)
    entry = models.OneToOneField(LogEntry, on_delete=models.PROTECT, related_name="passport_event")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("护照记录")
        verbose_name_plural = _("护照记录")
        ordering = ["entry__index"]

    def __str__(self) -> str:
        return f"{self.passport_id}:{self.kind}"


class PassportScan(AppendOnlyModel):
    """A scan of a passport's QR code, with a coarse place (a city, never coordinates)."""

    passport = models.ForeignKey(Passport, on_delete=models.PROTECT, related_name="scans")
    city = models.CharField(max_length=20, blank=True, default="")  # a code of scan_places
    ip_prefix = models.CharField(max_length=45, blank=True, default="")  # /24 or /48
    flags = models.JSONField(default=list)  # clone signals this scan raised
    created_at = models.DateTimeField()  # the platform clock's "now", set by passport_scan

    class Meta:
        verbose_name = _("护照扫描")
        verbose_name_plural = _("护照扫描")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["passport", "-created_at"], name="passport_scan_recent_idx")
        ]

    def __str__(self) -> str:
        return f"scan {self.pk} of {self.passport_id}"


class CloneCaseStatus(models.TextChoices):
    OPEN = "open", _("待审核")
    GENUINE = "genuine", _("正常扫描")
    CLONE = "clone", _("确认克隆")


class CloneCase(models.Model):
    """A passport whose scans look like copies of its QR code, waiting for a reviewer."""

    Status = CloneCaseStatus

    passport = models.ForeignKey(Passport, on_delete=models.PROTECT, related_name="clone_cases")
    reasons = models.JSONField(default=list)  # [{"kind", "detail", "scan_id"}]
    status = models.CharField(
        max_length=8, choices=CloneCaseStatus.choices, default=CloneCaseStatus.OPEN
    )
    decision_reason = models.TextField(blank=True, default="")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("克隆审核")
        verbose_name_plural = _("克隆审核")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["passport"], condition=Q(status="open"), name="clone_case_one_open"
            ),
        ]

    def __str__(self) -> str:
        return f"clone case {self.pk}"
