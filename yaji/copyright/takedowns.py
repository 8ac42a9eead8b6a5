"""Takedown notices: a rights holder files against a listing with their certificate, the seller
counter-notices, a reviewer decides; every step is a :class:`TakedownEvent`.

The certificate is verified exactly as ``yaji verify`` does (against the log's own key) and
must name a registration of the complainant's; a notice without one, or with a tampered one,
records nothing. An upheld notice delists the product through the outbox
(``copyright.takedown_upheld`` → the catalog's ``product_delist`` in its own transaction).
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from yaji.accounts.models import User
from yaji.accounts.services import audit_entry_record
from yaji.copyright.certificates import CertificateError, certificate_load, certificate_verify
from yaji.copyright.errors import (
    CertificateNotYours,
    CertificateRequired,
    InvalidCertificate,
    ListingNotFound,
    NoticeAlreadyOpen,
    NoticeNotFound,
    NoticeNotOpen,
    ReasonRequired,
)
from yaji.copyright.log_keys import log_origin, log_public_key
from yaji.copyright.models import (
    Registration,
    TakedownEvent,
    TakedownEventKind,
    TakedownNotice,
)
from yaji.core import clock
from yaji.core.outbox import outbox_publish

TAKEDOWN_UPHELD_TOPIC = "copyright.takedown_upheld"
TEXT_MAX = 4000
MAX_ID = 2**63 - 1


def _text(value: str, *, field: str) -> str:
    value = (value or "").replace("\x00", "").strip()
    if not value:
        raise ReasonRequired(extra={"field": field})
    return value[:TEXT_MAX]


def _registration_from(certificate: Any, complainant: User) -> Registration:
    if certificate in (None, "", {}):
        raise CertificateRequired(extra={"field": "certificate"})
    try:
        document = certificate if isinstance(certificate, dict) else certificate_load(certificate)
        verdict = certificate_verify(document, public_key=log_public_key(), origin=log_origin())
    except CertificateError as exc:
        raise InvalidCertificate(extra={"field": "certificate", "check": exc.code}) from exc
    registration = (
        Registration.objects.filter(
            entry__index=verdict.index, status=Registration.Status.REGISTERED
        )
        .select_related("entry")
        .first()
    )
    if registration is None or registration.registrant_id != complainant.pk:
        raise CertificateNotYours(extra={"index": verdict.index})
    return registration


@transaction.atomic(durable=True)
def takedown_file(
    *, complainant: User, product_id: int, certificate: Any, statement: str
) -> TakedownNotice:
    from yaji.catalog.models import Product

    statement = _text(statement, field="statement")
    registration = _registration_from(certificate, complainant)
    product = (
        Product.objects.filter(pk=product_id, status=Product.Status.LISTED).first()
        if 0 < product_id <= MAX_ID
        else None
    )
    if product is None:
        raise ListingNotFound(extra={"product_id": product_id})
    try:
        with transaction.atomic():
            notice = TakedownNotice.objects.create(
                product=product,
                complainant=complainant,
                registration=registration,
                statement=statement,
            )
    except IntegrityError as exc:
        raise NoticeAlreadyOpen(extra={"product_id": product_id}) from exc
    TakedownEvent.objects.create(
        notice=notice, kind=TakedownEventKind.FILED, actor=complainant, note=statement
    )
    audit_entry_record(
        action="takedown_file", actor=complainant, target_type="product", target_id=product.pk
    )
    return notice


def _notice_lock(notice_id: int) -> TakedownNotice:
    notice = (
        TakedownNotice.objects.select_for_update()
        .select_related("product__shop")
        .filter(pk=notice_id)
        .first()
        if 0 < notice_id <= MAX_ID
        else None
    )
    if notice is None:
        raise NoticeNotFound()
    return notice


@transaction.atomic(durable=True)
def takedown_counter(*, seller: User, notice_id: int, statement: str) -> TakedownNotice:
    """The listing's shop answers (its owner or managers); others get not-found."""
    from yaji.catalog.permissions import shop_can_manage

    notice = _notice_lock(notice_id)
    if not shop_can_manage(seller, notice.product.shop):
        raise NoticeNotFound()
    if notice.status != TakedownNotice.Status.FILED:
        raise NoticeNotOpen(extra={"status": notice.status})
    notice.counter_statement = _text(statement, field="statement")
    notice.status = TakedownNotice.Status.COUNTERED
    notice.save(update_fields=["counter_statement", "status", "updated_at"])
    TakedownEvent.objects.create(
        notice=notice, kind=TakedownEventKind.COUNTERED, actor=seller, note=notice.counter_statement
    )
    return notice


@transaction.atomic(durable=True)
def takedown_decide(*, reviewer: User, notice_id: int, uphold: bool, reason: str) -> TakedownNotice:
    from yaji.catalog.selectors import reviewer_require

    reviewer_require(reviewer)
    reason = _text(reason, field="reason")
    notice = _notice_lock(notice_id)
    if notice.status not in (TakedownNotice.Status.FILED, TakedownNotice.Status.COUNTERED):
        raise NoticeNotOpen(extra={"status": notice.status})
    notice.status = TakedownNotice.Status.UPHELD if uphold else TakedownNotice.Status.REJECTED
    notice.decision_reason = reason
    notice.reviewer = reviewer
    notice.decided_at = clock.now()
    notice.save(update_fields=["status", "decision_reason", "reviewer", "decided_at", "updated_at"])
    TakedownEvent.objects.create(
        notice=notice,
        kind=TakedownEventKind.UPHELD if uphold else TakedownEventKind.REJECTED,
        actor=reviewer,
        note=reason,
    )
    audit_entry_record(
        action="takedown_uphold" if uphold else "takedown_reject",
        actor=reviewer,
        target_type="takedown_notice",
        target_id=notice.pk,
    )
    if uphold:
        outbox_publish(
            topic=TAKEDOWN_UPHELD_TOPIC, payload={"notice_id": notice.pk}, key=str(notice.pk)
        )
        notice_id_ = notice.pk
        transaction.on_commit(lambda: _delist_quietly(notice_id_))
    return notice


def takedown_delist(*, notice_id: int) -> str:
    """Delist the product of an upheld notice (idempotent: not listed any more = done)."""
    from yaji.catalog import services as catalog_services
    from yaji.catalog.errors import ProductNotListed

    notice = TakedownNotice.objects.select_related("reviewer").get(pk=notice_id)
    if notice.status != TakedownNotice.Status.UPHELD or notice.reviewer is None:
        return "nothing"
    try:
        catalog_services.product_delist(
            actor=notice.reviewer,
            product_id=notice.product_id,
            reason=f"takedown notice {notice.pk}: {notice.decision_reason}"[:1000],
        )
    except ProductNotListed:
        return "not_listed"
    return "delisted"


def _delist_quietly(notice_id: int) -> None:
    import logging

    try:
        takedown_delist(notice_id=notice_id)
    except Exception:  # retried by the outbox relay
        logging.getLogger(__name__).warning("takedown %s: delisting failed; retried", notice_id)


def on_takedown_upheld(event: Any) -> None:
    takedown_delist(notice_id=int(event.payload["notice_id"]))
