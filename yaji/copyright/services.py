"""Writes of the copyright app: registering works, appending leaves, signing checkpoints and
deciding near-duplicate cases.

Appends are serialised by a row lock on the single :class:`LogHead` (``SELECT ... FOR UPDATE``
on PostgreSQL; SQLite's IMMEDIATE transactions serialise writers anyway), so leaf indexes are
gapless and every stored node is computed from the edge the previous append left.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from yaji.accounts.models import User
from yaji.accounts.services import audit_entry_record
from yaji.community.models import Work, WorkKind, WorkStatus
from yaji.copyright import merkle, signing
from yaji.copyright.errors import (
    AlreadyRegistered,
    CaseDecided,
    CaseNotFound,
    ContentRegisteredByOther,
    ContentUnreadable,
    ReasonRequired,
    RegistrationNotFound,
    WorkNotRegistrable,
)
from yaji.copyright.log_keys import log_key_id, log_origin, log_private_key
from yaji.copyright.models import (
    Checkpoint,
    CreatorKey,
    DuplicateCase,
    LogEntry,
    LogHead,
    LogNode,
    PendingLeaf,
    Registration,
)
from yaji.copyright.perceptual import (
    Fingerprint,
    NotAnImage,
    fingerprint,
    from_signed,
    hex64,
    to_signed,
)
from yaji.copyright.selectors import near_duplicates_find
from yaji.copyright.statements import statement_build
from yaji.core import clock
from yaji.core.outbox import outbox_publish

logger = logging.getLogger(__name__)

IMAGE_KINDS = (WorkKind.IMAGE, WorkKind.DESIGN)
CONTENT_MAX_BYTES = 60 * 1024 * 1024


# --- keys ---------------------------------------------------------------------------------------


def creator_key_ensure(*, user: User) -> CreatorKey:
    """The creator's custodial key, made on first use (the seed is encrypted at rest)."""
    existing = CreatorKey.objects.filter(user=user).first()
    if existing is not None:
        return existing
    seed = signing.seed_of(signing.Ed25519PrivateKey.generate())
    did = signing.did_key(signing.public_bytes(signing.private_key_from_seed(seed)))
    try:
        with transaction.atomic():
            return CreatorKey.objects.create(user=user, did=did, private_seed=signing.b64(seed))
    except IntegrityError:  # a concurrent first registration made it
        return CreatorKey.objects.get(user=user)


def _creator_private_key(key: CreatorKey) -> signing.Ed25519PrivateKey:
    return signing.private_key_from_seed(signing.unb64(key.private_seed, size=32))


# --- the log ------------------------------------------------------------------------------------


def _head_lock() -> LogHead:
    head = LogHead.objects.select_for_update().filter(pk=1).first()
    if head is None:  # first append ever (or after a test flush): make the row, race-safely
        LogHead.objects.get_or_create(pk=1)
        head = LogHead.objects.select_for_update().get(pk=1)
    return head


def log_append(*, leaf: bytes) -> LogEntry:
    """Append one leaf (inside the caller's transaction); returns its entry with its index."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("log_append runs inside the caller's transaction")
    head = _head_lock()
    edge = merkle.CompactRange(head.size, (bytes.fromhex(h) for h in head.edge))
    digest = merkle.leaf_hash(leaf)
    index = head.size
    created = edge.append(digest)
    entry = LogEntry.objects.create(index=index, leaf=leaf.decode("ascii"), leaf_hash=digest.hex())
    if created:
        LogNode.objects.bulk_create(
            [LogNode(level=level, index=i, hash=h.hex()) for level, i, h in created]
        )
    head.size = edge.size
    head.edge = [h.hex() for h in edge.hashes]
    head.save(update_fields=["size", "edge", "updated_at"])
    return entry


def log_enqueue(*, leaf: bytes) -> PendingLeaf:
    """Sequence a leaf into the pool (no lock: any number of writers at once)."""
    return PendingLeaf.objects.create(leaf=leaf.decode("ascii"))


INTEGRATE_BATCH = 4096


def _integrate_locked(head: LogHead, *, limit: int = INTEGRATE_BATCH) -> int:
    """Append up to ``limit`` pending leaves in pool order (caller holds the head lock)."""
    pending = list(
        PendingLeaf.objects.order_by("id").values_list("id", "leaf", "registration_id")[:limit]
    )
    if not pending:
        return 0
    edge = merkle.CompactRange(head.size, (bytes.fromhex(h) for h in head.edge))
    entries: list[LogEntry] = []
    nodes: list[LogNode] = []
    for _pk, leaf, _reg in pending:
        digest = merkle.leaf_hash(leaf.encode("ascii"))
        index = edge.size
        nodes.extend(
            LogNode(level=level, index=i, hash=h.hex()) for level, i, h in edge.append(digest)
        )
        entries.append(LogEntry(index=index, leaf=leaf, leaf_hash=digest.hex()))
    LogEntry.objects.bulk_create(entries, batch_size=2000)
    LogNode.objects.bulk_create(nodes, batch_size=2000)
    registered = [
        (reg, entry.index) for (_pk, _leaf, reg), entry in zip(pending, entries, strict=True) if reg
    ]
    if registered:
        entry_ids = dict(
            LogEntry.objects.filter(index__in=[i for _r, i in registered]).values_list(
                "index", "pk"
            )
        )
        regs = Registration.objects.in_bulk([r for r, _i in registered])
        for reg_id, index in registered:
            registration = regs[reg_id]
            registration.entry_id = entry_ids[index]
            registration.status = Registration.Status.REGISTERED
            outbox_publish(
                topic="copyright.work_registered",
                payload={
                    "registration_id": reg_id,
                    "work_id": registration.work_id,
                    "index": index,
                },
                key=str(reg_id),
            )
        Registration.objects.bulk_update(list(regs.values()), ["entry", "status"], batch_size=500)
    PendingLeaf.objects.filter(id__in=[pk for pk, _l, _r in pending]).delete()
    head.size = edge.size
    head.edge = [h.hex() for h in edge.hashes]
    head.save(update_fields=["size", "edge", "updated_at"])
    return len(pending)


@transaction.atomic(durable=True)
def log_integrate(*, limit: int = INTEGRATE_BATCH) -> int:
    """Integrate pending leaves into the tree in one transaction; returns how many.

    Concurrent callers queue on the head lock; whoever holds it integrates everybody's
    pending leaves, so the others usually find nothing left (group commit)."""
    return _integrate_locked(_head_lock(), limit=limit)


def log_integrate_all() -> int:
    total = 0
    while done := log_integrate():
        total += done
    return total


def _checkpoint_sign(size: int, root: bytes) -> Checkpoint:
    body = signing.Checkpoint(
        origin=log_origin(), size=size, root=root, timestamp=signing.timestamp_format(clock.now())
    )
    signature = signing.checkpoint_sign(log_private_key(), body)
    return Checkpoint.objects.create(
        origin=body.origin,
        size=size,
        root_hash=root.hex(),
        timestamp=body.timestamp,
        key_id=log_key_id(),
        signature=signing.b64(signature),
    )


@transaction.atomic(durable=True)
def checkpoint_create() -> Checkpoint | None:
    """Sign the current tree head, unless the latest checkpoint already covers it.

    Returns None for an empty log. Run at an interval (``yaji copyright-checkpoint``, the
    ``checkpoint_task``) and on demand when a certificate needs a head that covers its entry.
    """
    head = _head_lock()
    if head.size == 0:
        return None
    latest = Checkpoint.objects.order_by("-size").first()
    if latest is not None and latest.size == head.size:
        return latest
    root = merkle.CompactRange(head.size, (bytes.fromhex(h) for h in head.edge)).root()
    checkpoint = _checkpoint_sign(head.size, root)
    outbox_publish(
        topic="copyright.checkpoint_signed",
        payload={"size": checkpoint.size, "root_hash": checkpoint.root_hash},
        key=str(checkpoint.size),
    )
    return checkpoint


# --- registering works --------------------------------------------------------------------------


def _work_content(work: Work) -> bytes:
    try:
        with work.media.open("rb") as handle:
            data = handle.read(CONTENT_MAX_BYTES + 1)
    except (OSError, ValueError) as exc:
        raise ContentUnreadable(extra={"work_id": work.pk}) from exc
    if not data or len(data) > CONTENT_MAX_BYTES:
        raise ContentUnreadable(extra={"work_id": work.pk})
    return data


def _fingerprint_of(work: Work, data: bytes) -> Fingerprint | None:
    if work.kind not in IMAGE_KINDS:
        return None
    try:
        return fingerprint(data)
    except NotAnImage as exc:
        raise ContentUnreadable(extra={"work_id": work.pk}) from exc


def _hashes(fp: Fingerprint | None) -> dict[str, str | None]:
    if fp is None:
        return {"dhash": None, "dhash_mirror": None, "phash": None, "phash_mirror": None}
    return {
        "dhash": hex64(fp.dhash),
        "dhash_mirror": hex64(fp.dhash_mirror),
        "phash": hex64(fp.phash),
        "phash_mirror": hex64(fp.phash_mirror),
    }


def _registration_append(registration: Registration, key: CreatorKey) -> None:
    """Sequence the registration's leaf (inside the caller's transaction); the integrator
    gives it its index. Status ``sequenced`` until then."""
    work = registration.work
    leaf = statement_build(
        key=_creator_private_key(key),
        work_id=work.pk,
        work_kind=work.kind,
        content_sha256=registration.content_sha256,
        hashes=_hashes(registration_fingerprint(registration)),
        time=signing.timestamp_format(clock.now()),
    )
    PendingLeaf.objects.create(leaf=leaf.decode("ascii"), registration=registration)
    registration.status = Registration.Status.SEQUENCED
    registration.save(update_fields=["status", "updated_at"])


def registration_fingerprint(registration: Registration) -> Fingerprint | None:
    if registration.dhash is None:
        return None
    return Fingerprint(
        dhash=from_signed(registration.dhash),
        dhash_mirror=from_signed(registration.dhash_mirror or 0),
        phash=from_signed(registration.phash or 0),
        phash_mirror=from_signed(registration.phash_mirror or 0),
    )


def work_register(*, user: User, work_id: int) -> Registration:
    """Register one of ``user``'s published works in the log.

    Exact content already registered by another author → ``content_registered_by_other``
    (nothing recorded); an image close to another author's registered image → the
    registration waits in ``pending_review`` with a case in the reviewer queue; otherwise the
    leaf is appended at once. Reading and fingerprinting the file happen before any lock.
    """
    work = (
        Work.objects.filter(pk=work_id, creator=user, status=WorkStatus.PUBLISHED).first()
        if 0 < work_id < 2**63
        else None
    )
    if work is None:
        raise WorkNotRegistrable(extra={"work_id": work_id})
    data = _work_content(work)
    content_sha256 = hashlib.sha256(data).hexdigest()
    fp = _fingerprint_of(work, data)
    key = creator_key_ensure(user=user)
    leaf = statement_build(  # signed before the gate: the gate holds only checks and inserts
        key=_creator_private_key(key),
        work_id=work.pk,
        work_kind=work.kind,
        content_sha256=content_sha256,
        hashes=_hashes(fp),
        time=signing.timestamp_format(clock.now()),
    )
    registration = _work_register_locked(
        user=user, work=work, content_sha256=content_sha256, fp=fp, key=key, leaf=leaf
    )
    if registration.status == Registration.Status.SEQUENCED:
        try:
            log_integrate()
        except DatabaseError:  # the leaf stays pending; the next integration appends it
            logger.warning("copyright: integrating registration %s deferred", registration.pk)
        registration.refresh_from_db()
    return registration


def _registration_gate() -> None:
    """Serialise registrations' checks with each other (not with the log's integrator)."""
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REGISTRATION_GATE_LOCK])
    # SQLite: the IMMEDIATE write transaction already serialises writers.


REGISTRATION_GATE_LOCK = 0x7961_6A69_6372  # "yajicr": a fixed advisory-lock key


@transaction.atomic(durable=True)
def _work_register_locked(
    *,
    user: User,
    work: Work,
    content_sha256: str,
    fp: Fingerprint | None,
    key: CreatorKey,
    leaf: bytes,
) -> Registration:
    # The registration gate first: two near-identical registrations cannot both pass the
    # checks (exact content is also refused by a unique constraint). The log's head lock is
    # not taken here: the leaf is only sequenced, and the integrator appends it.
    _registration_gate()
    live = (
        Registration.objects.filter(Q(work=work) | Q(content_sha256=content_sha256))
        .exclude(status=Registration.Status.REFUSED)
        .values_list("work_id", "registrant_id", "content_sha256")
    )
    for other_work, registrant, sha in live:
        if other_work == work.pk or registrant == user.pk:
            raise AlreadyRegistered(extra={"work_id": other_work})
        raise ContentRegisteredByOther(extra={"content_sha256": sha})
    matches = near_duplicates_find(fingerprint=fp, exclude_registrant=user) if fp else []
    registration = Registration.objects.create(
        work=work,
        registrant=user,
        author_did=key.did,
        content_sha256=content_sha256,
        dhash=to_signed(fp.dhash) if fp else None,
        dhash_mirror=to_signed(fp.dhash_mirror) if fp else None,
        phash=to_signed(fp.phash) if fp else None,
        phash_mirror=to_signed(fp.phash_mirror) if fp else None,
        status=Registration.Status.PENDING_REVIEW if matches else Registration.Status.SEQUENCED,
    )
    if matches:
        for matched, dist in matches[:5]:
            DuplicateCase.objects.create(registration=registration, matched=matched, distance=dist)
        return registration
    PendingLeaf.objects.create(leaf=leaf.decode("ascii"), registration=registration)
    return registration


# --- the reviewer queue -------------------------------------------------------------------------


def duplicate_case_open(
    *, product: Any, product_image: Any, matched: Registration, distance: int
) -> DuplicateCase:
    """Queue a product image that resembles ``matched`` (inside the catalog's pre-check)."""
    return DuplicateCase.objects.create(
        product=product,
        product_image=product_image,
        matched=matched,
        distance=distance,
        product_submitted_at=product.submitted_at,
    )


def _case_lock(case_id: int) -> DuplicateCase:
    case = (
        DuplicateCase.objects.select_for_update().filter(pk=case_id).first()
        if 0 < case_id < 2**63
        else None
    )
    if case is None:
        raise CaseNotFound()
    if case.status != DuplicateCase.Status.OPEN:
        raise CaseDecided(extra={"status": case.status})
    return case


@transaction.atomic(durable=True)
def duplicate_case_decide(
    *, reviewer: User, case_id: int, infringing: bool, reason: str = ""
) -> DuplicateCase:
    """A reviewer's verdict on one case.

    A held registration: not infringing (and no other case open) → its leaf is appended;
    infringing → it is refused. A held listing: the verdict leaves through the outbox
    (``copyright.case_decided``) and :func:`listing_hold_settle` releases or rejects it in the
    catalog's own transaction. Both are audited.
    """
    from yaji.catalog import selectors as catalog_selectors

    catalog_selectors.reviewer_require(reviewer)
    reason = (reason or "").replace("\x00", "").strip()[:1000]  # PostgreSQL text holds no NUL
    if infringing and not reason:
        raise ReasonRequired(extra={"field": "reason"})
    case = _case_lock(case_id)
    if case.registration_id is not None:
        _head_lock()  # the head before the registration, in the order work_register takes them
    now = clock.now()
    case.status = DuplicateCase.Status.UPHELD if infringing else DuplicateCase.Status.CLEARED
    case.reason = reason
    case.reviewer = reviewer
    case.decided_at = now
    case.save(update_fields=["status", "reason", "reviewer", "decided_at", "updated_at"])
    if case.registration_id is not None:
        _registration_settle(case, reviewer=reviewer, infringing=infringing)
    else:
        if infringing:  # one upheld case decides the listing: the others close with it
            DuplicateCase.objects.filter(
                product_id=case.product_id, status=DuplicateCase.Status.OPEN
            ).update(status=DuplicateCase.Status.UPHELD, reviewer=reviewer, decided_at=now)
        outbox_publish(
            topic=CASE_DECIDED_TOPIC,
            payload={"case_id": case.pk, "product_id": case.product_id},
            key=str(case.product_id),
        )
        product_id = case.product_id
        transaction.on_commit(lambda: _settle_quietly(product_id))
    audit_entry_record(
        action="copyright_case_upheld" if infringing else "copyright_case_cleared",
        actor=reviewer,
        target_type="copyright_case",
        target_id=case.pk,
        metadata={"matched_registration": case.matched_id, "distance": case.distance},
    )
    return case


def _registration_settle(case: DuplicateCase, *, reviewer: User, infringing: bool) -> None:
    registration = (
        Registration.objects.select_for_update()
        .select_related("work", "registrant")
        .get(pk=case.registration_id)
    )
    if registration.status != Registration.Status.PENDING_REVIEW:
        return
    if infringing:
        registration.status = Registration.Status.REFUSED
        registration.refused_reason = case.reason
        registration.save(update_fields=["status", "refused_reason", "updated_at"])
        registration.cases.filter(status=DuplicateCase.Status.OPEN).update(
            status=DuplicateCase.Status.UPHELD, reviewer=reviewer, decided_at=clock.now()
        )
    elif not registration.cases.filter(status=DuplicateCase.Status.OPEN).exists():
        _registration_append(registration, creator_key_ensure(user=registration.registrant))
        _integrate_locked(_head_lock())  # the caller holds the head lock already


CASE_DECIDED_TOPIC = "copyright.case_decided"
PRECHECK_NAME = "copyright"


def listing_hold_settle(*, product_id: int) -> str:
    """Carry the cases' verdict to a held listing (idempotent; the outbox handler calls it).

    Any upheld case → the listing is rejected; every case cleared → released; a case still
    open → nothing yet. A listing no longer held by this check (already settled, rejected by a
    reviewer, resubmitted) counts as done. Returns what happened.
    """
    from yaji.catalog import services as catalog_services
    from yaji.catalog.errors import ProductNotHeld
    from yaji.catalog.models import Product

    submitted_at = (
        Product.objects.filter(pk=product_id).values_list("submitted_at", flat=True).first()
    )
    cases = list(
        DuplicateCase.objects.filter(
            product_id=product_id, product_submitted_at=submitted_at
        ).exclude(status=DuplicateCase.Status.WITHDRAWN)
    )
    if not cases or any(c.status == DuplicateCase.Status.OPEN for c in cases):
        return "waiting"
    upheld = [c for c in cases if c.status == DuplicateCase.Status.UPHELD]
    try:
        if upheld:
            reason = next((c.reason for c in upheld if c.reason), "")
            catalog_services.product_hold_reject(
                product_id=product_id,
                check=PRECHECK_NAME,
                reason=_("与他人已登记的作品高度相似：%(reason)s") % {"reason": reason},
                actor=upheld[0].reviewer,
            )
            return "rejected"
        catalog_services.product_hold_release(product_id=product_id, check=PRECHECK_NAME)
        return "released"
    except ProductNotHeld:
        return "not_held"


def _settle_quietly(product_id: int) -> None:
    # Best effort right after the verdict commits; the outbox delivery is the guarantee.
    try:
        listing_hold_settle(product_id=product_id)
    except Exception:  # retried by the outbox relay
        logger.warning("copyright: settling listing %s failed; the outbox retries", product_id)


# --- certificates -------------------------------------------------------------------------------


def certificate_issue(*, registration: Registration) -> dict[str, Any]:
    """The certificate of a registered work against the latest checkpoint that holds it,
    signing a new checkpoint first when none does yet (on demand)."""
    from yaji.copyright import selectors
    from yaji.copyright.certificates import certificate_document
    from yaji.copyright.log_keys import log_public_key

    entry = registration.entry
    if entry is None:
        raise RegistrationNotFound()
    checkpoint = selectors.checkpoint_covering(index=entry.index) or checkpoint_create()
    if checkpoint is None or checkpoint.size <= entry.index:
        raise RegistrationNotFound()
    body = signing.Checkpoint(
        origin=checkpoint.origin,
        size=checkpoint.size,
        root=bytes.fromhex(checkpoint.root_hash),
        timestamp=checkpoint.timestamp,
    ).body()
    return certificate_document(
        index=entry.index,
        leaf=entry.leaf,
        proof=selectors.inclusion_proof(index=entry.index, size=checkpoint.size),
        checkpoint_body=body,
        checkpoint_signature=checkpoint.signature,
        key_id=checkpoint.key_id,
        origin=checkpoint.origin,
        public_key=log_public_key(),
        tree_size=checkpoint.size,
    )


# --- witnesses ----------------------------------------------------------------------------------


def checkpoint_anchor(*, checkpoint_size: int, witness: Any = None) -> Any:
    """Have ``witness`` (default: the configured one) time-stamp a checkpoint; idempotent.

    The witness is asked outside any transaction (it is a network call for a real TSA)."""
    from yaji.copyright.models import WitnessAnchor
    from yaji.copyright.witnesses import witness_default

    witness = witness or witness_default()
    checkpoint = Checkpoint.objects.get(size=checkpoint_size)
    existing = WitnessAnchor.objects.filter(checkpoint=checkpoint, witness=witness.name).first()
    if existing is not None:
        return existing
    body = signing.Checkpoint(
        origin=checkpoint.origin,
        size=checkpoint.size,
        root=bytes.fromhex(checkpoint.root_hash),
        timestamp=checkpoint.timestamp,
    ).body()
    token = witness.timestamp(body)
    try:
        with transaction.atomic():
            return WitnessAnchor.objects.create(
                checkpoint=checkpoint, witness=witness.name, token=token
            )
    except IntegrityError:  # a concurrent delivery anchored it
        return WitnessAnchor.objects.get(checkpoint=checkpoint, witness=witness.name)


def on_checkpoint_signed(event: Any) -> None:
    checkpoint_anchor(checkpoint_size=int(event.payload["size"]))
