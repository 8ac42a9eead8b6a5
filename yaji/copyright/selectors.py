"""Reads of the copyright app: proofs from the stored nodes, checkpoints, registrations,
near-duplicate lookups and the review queue."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from yaji.copyright import merkle
from yaji.copyright.errors import LogEmpty, ProofUnavailable, RegistrationNotFound
from yaji.copyright.models import (
    Checkpoint,
    DuplicateCase,
    LogEntry,
    LogHead,
    LogNode,
    Registration,
)
from yaji.copyright.perceptual import (
    NEAR_DUPLICATE_MAX_DISTANCE,
    Fingerprint,
    combined_distance,
    from_signed,
)

MAX_ID = 2**63 - 1


def log_size() -> int:
    head = LogHead.objects.filter(pk=1).first()
    return head.size if head else 0


_NODES_SQL = """
SELECT 0, e.index, e.leaf_hash FROM copyright_logentry AS e WHERE e.index = ANY(%s)
UNION ALL
SELECT n.level, n.index, n.hash FROM copyright_lognode AS n
JOIN unnest(%s::smallint[], %s::bigint[]) AS wanted(level, index)
  ON n.level = wanted.level AND n.index = wanted.index
"""


def _node_rows(leaves: list[int], interior: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    from django.db import connection

    if connection.vendor == "postgresql":
        # One round trip: index look-ups of the leaves and of each (level, index) pair.
        with connection.cursor() as cursor:
            cursor.execute(
                _NODES_SQL,
                [leaves, [lv for lv, _i in interior], [i for _lv, i in interior]],
            )
            return [(int(lv), int(i), h) for lv, i, h in cursor.fetchall()]
    from django.db.models import Q

    rows: list[tuple[int, int, str]] = []
    if leaves:
        rows += [
            (0, index, digest)
            for index, digest in LogEntry.objects.filter(index__in=leaves)
            .order_by()
            .values_list("index", "leaf_hash")
        ]
    if interior:
        by_level: dict[int, list[int]] = {}
        for level, i in interior:
            by_level.setdefault(level, []).append(i)
        condition = Q()
        for level, indexes in by_level.items():
            condition |= Q(level=level, index__in=indexes)
        rows += list(LogNode.objects.filter(condition).values_list("level", "index", "hash"))
    return rows


def _node_source(coordinates: list[tuple[int, int]]) -> merkle.NodeSource:
    """Fetch the needed nodes — leaves and stored complete subtrees — in one query."""
    leaves = sorted({i for level, i in coordinates if level == 0})
    interior = [(level, i) for level, i in coordinates if level > 0]
    found = {(lv, i): bytes.fromhex(h) for lv, i, h in _node_rows(leaves, interior)}

    def node(level: int, index: int) -> bytes:
        try:
            return found[(level, index)]
        except KeyError:
            raise ProofUnavailable(extra={"missing_node": [level, index]}) from None

    return node


def _with_nodes(compute: Any) -> Any:
    return compute(_node_source(merkle.nodes_needed(compute)))


def inclusion_proof(*, index: int, size: int) -> list[bytes]:
    if not (0 <= index < size <= log_size()):
        raise ProofUnavailable(extra={"index": index, "tree_size": size})
    return _with_nodes(lambda node: merkle.inclusion_path(node, index, size))


def consistency_proof(*, first: int, second: int) -> list[bytes]:
    if not (0 <= first <= second <= log_size()):
        raise ProofUnavailable(extra={"first": first, "second": second})
    return _with_nodes(lambda node: merkle.consistency_path(node, first, second))


def tree_root(*, size: int) -> bytes:
    if not 0 <= size <= log_size():
        raise ProofUnavailable(extra={"tree_size": size})
    return _with_nodes(lambda node: merkle.root(node, size))


def checkpoint_latest() -> Checkpoint:
    checkpoint = Checkpoint.objects.order_by("-size").first()
    if checkpoint is None:
        raise LogEmpty()
    return checkpoint


def checkpoint_at(*, size: int) -> Checkpoint | None:
    return Checkpoint.objects.filter(size=size).first()


def checkpoint_covering(*, index: int) -> Checkpoint | None:
    """The latest checkpoint whose tree holds leaf ``index``."""
    return Checkpoint.objects.filter(size__gt=index).order_by("-size").first()


def entry_get(*, index: int) -> LogEntry:
    entry = LogEntry.objects.filter(index=index).first() if 0 <= index <= MAX_ID else None
    if entry is None:
        raise ProofUnavailable(extra={"index": index})
    return entry


def registration_get(*, registration_id: int) -> Registration:
    """A registration anyone may see — only registered ones (the certificate is public)."""
    registration = (
        Registration.objects.select_related("work", "entry")
        .filter(pk=registration_id, status=Registration.Status.REGISTERED)
        .first()
        if 0 < registration_id <= MAX_ID
        else None
    )
    if registration is None:
        raise RegistrationNotFound()
    return registration


def registrations_of(*, user: Any, limit: int = 200) -> QuerySet[Registration]:
    return (
        Registration.objects.filter(registrant=user)
        .select_related("work", "entry")
        .order_by("-id")[:limit]
    )


def near_duplicates_find(
    *, fingerprint: Fingerprint, exclude_registrant: Any = None, limit: int = 5
) -> list[tuple[Registration, int]]:
    """Registered images within the near-duplicate distance, closest first.

    On PostgreSQL the distance is computed in the database (``bit_count`` of XORed hashes,
    both orientations) so only the matches leave it; elsewhere a Python scan. ADR 0028 says
    why no Hamming index (multi-index hashing, BK-tree) pays at a radius of 36 of 128 bits.
    """
    from django.db import connection

    statuses = [Registration.Status.REGISTERED, Registration.Status.SEQUENCED]
    if connection.vendor == "postgresql":
        found = _near_duplicates_sql(fingerprint, exclude_registrant, limit, statuses)
        in_db = Registration.objects.select_related("work").in_bulk([pk for _, pk in found])
        return [(in_db[pk], dist) for dist, pk in found]
    rows = Registration.objects.filter(status__in=statuses, dhash__isnull=False)
    if exclude_registrant is not None:
        rows = rows.exclude(registrant=exclude_registrant)
    hits: list[tuple[int, int]] = []
    for pk, d, dm, p, pm in rows.values_list(
        "pk", "dhash", "dhash_mirror", "phash", "phash_mirror"
    ).iterator(chunk_size=5000):
        registered = Fingerprint(from_signed(d), from_signed(dm), from_signed(p), from_signed(pm))
        dist = combined_distance(registered, fingerprint)
        if dist <= NEAR_DUPLICATE_MAX_DISTANCE:
            hits.append((dist, pk))
    hits.sort()
    hits = hits[:limit]
    by_pk = Registration.objects.select_related("work").in_bulk([pk for _, pk in hits])
    return [(by_pk[pk], dist) for dist, pk in hits]


_NEAR_SQL = """
SELECT id, dist FROM (
    SELECT id, LEAST(
        bit_count((dhash # %(d)s)::bit(64)) + bit_count((phash # %(p)s)::bit(64)),
        bit_count((dhash_mirror # %(d)s)::bit(64)) + bit_count((phash_mirror # %(p)s)::bit(64))
    ) AS dist
    FROM copyright_registration
    WHERE status IN ('registered', 'sequenced') AND dhash IS NOT NULL\n      AND registrant_id <> %(exclude)s
) AS candidates
WHERE dist <= %(max)s ORDER BY dist, id LIMIT %(limit)s
"""


def _near_duplicates_sql(
    fingerprint: Fingerprint, exclude_registrant: Any, limit: int, statuses: list[str]
) -> list[tuple[int, int]]:
    from django.db import connection

    from yaji.copyright.perceptual import to_signed

    with connection.cursor() as cursor:
        cursor.execute(
            _NEAR_SQL,
            {
                "d": to_signed(fingerprint.dhash),
                "p": to_signed(fingerprint.phash),
                "exclude": getattr(exclude_registrant, "pk", None) or 0,
                "max": NEAR_DUPLICATE_MAX_DISTANCE,
                "limit": limit,
            },
        )
        return [(int(dist), int(pk)) for pk, dist in cursor.fetchall()]


def registered_images_exist() -> bool:
    return Registration.objects.filter(
        status=Registration.Status.REGISTERED, dhash__isnull=False
    ).exists()


def exact_registration_of(*, sha256: str) -> Registration | None:
    return (
        Registration.objects.filter(content_sha256=sha256, status=Registration.Status.REGISTERED)
        .select_related("work")
        .first()
    )


def case_queue(*, limit: int = 100) -> list[DuplicateCase]:
    return list(
        DuplicateCase.objects.filter(status=DuplicateCase.Status.OPEN)
        .select_related(
            "product", "product__shop", "product_image", "registration__work", "matched__work"
        )
        .order_by("created_at", "id")[:limit]
    )


def case_get(*, case_id: int) -> DuplicateCase:
    from yaji.copyright.errors import CaseNotFound

    case = (
        DuplicateCase.objects.select_related(
            "product", "product__shop", "product_image", "registration__work", "matched__work"
        )
        .filter(pk=case_id)
        .first()
        if 0 < case_id <= MAX_ID
        else None
    )
    if case is None:
        raise CaseNotFound()
    return case


def takedown_get(*, notice_id: int, user: Any) -> Any:
    """A notice for its complainant, the listing's shop managers and reviewers; others: 404."""
    from yaji.catalog.permissions import is_shop_reviewer, shop_can_manage
    from yaji.copyright.errors import NoticeNotFound
    from yaji.copyright.models import TakedownNotice

    notice = (
        TakedownNotice.objects.select_related("product__shop", "registration__work")
        .prefetch_related("events")
        .filter(pk=notice_id)
        .first()
        if 0 < notice_id <= MAX_ID
        else None
    )
    if notice is None or not (
        notice.complainant_id == getattr(user, "pk", None)
        or shop_can_manage(user, notice.product.shop)
        or is_shop_reviewer(user)
    ):
        raise NoticeNotFound()
    return notice


def takedowns_for(*, user: Any, limit: int = 100) -> dict[str, list[Any]]:
    """Notices I filed, notices against my shops, and (reviewers) the open queue."""
    from yaji.catalog.models import ShopMembership
    from yaji.catalog.permissions import is_shop_reviewer
    from yaji.copyright.models import TakedownNotice

    base = TakedownNotice.objects.select_related("product__shop", "registration__work")
    managed = ShopMembership.objects.filter(
        user=user, role__in=[ShopMembership.Role.OWNER, ShopMembership.Role.MANAGER]
    ).values("shop_id")
    out = {
        "filed": list(base.filter(complainant=user)[:limit]),
        "against": list(base.filter(product__shop_id__in=managed)[:limit]),
        "queue": [],
    }
    if is_shop_reviewer(user):
        out["queue"] = list(
            base.filter(status__in=["filed", "countered"]).order_by("created_at")[:limit]
        )
    return out


# --- passports ---------------------------------------------------------------------------------


def clone_queue(*, limit: int = 100) -> list[Any]:
    from yaji.copyright.models import CloneCase

    return list(
        CloneCase.objects.filter(status=CloneCase.Status.OPEN)
        .select_related("passport__design__product")
        .order_by("created_at", "id")[:limit]
    )


def clone_case_get(*, case_id: int) -> Any:
    from yaji.copyright.errors import CloneCaseNotFound
    from yaji.copyright.models import CloneCase

    case = (
        CloneCase.objects.select_related("passport__design__product").filter(pk=case_id).first()
        if 0 < case_id <= MAX_ID
        else None
    )
    if case is None:
        raise CloneCaseNotFound()
    return case


def passports_held_by(*, user: Any) -> list[Any]:
    from yaji.copyright.models import Passport

    return list(
        Passport.objects.filter(holder=user)
        .exclude(status=Passport.Status.VOID)
        .select_related("design__product")
        .order_by("-id")
    )


def passport_trail(*, passport: Any, checkpoint: Checkpoint | None) -> list[dict[str, Any]]:
    """The provenance steps — the design's registration, then each passport event — each
    checked against the log: the leaf parses and its signature verifies, and its inclusion
    proof verifies against the (signature-checked) checkpoint's root. ``pending`` when no
    signed checkpoint holds it yet."""
    from yaji.copyright import signing
    from yaji.copyright.log_keys import log_public_key
    from yaji.copyright.statements import StatementError, statement_parse

    registration = passport.design.registration
    steps: list[tuple[str, LogEntry, Any]] = [("registered", registration.entry, registration)]
    steps += [(e.kind, e.entry, e) for e in passport.events.select_related("entry")]
    signed = False
    if checkpoint is not None:
        body = signing.Checkpoint(
            origin=checkpoint.origin,
            size=checkpoint.size,
            root=bytes.fromhex(checkpoint.root_hash),
            timestamp=checkpoint.timestamp,
        )
        signed = signing.checkpoint_verify(
            log_public_key(), body, signing.unb64(checkpoint.signature, size=64)
        )
    out: list[dict[str, Any]] = []
    for kind, entry, _source in steps:
        leaf = entry.leaf.encode("ascii")
        try:
            statement = statement_parse(leaf, types=("work", "passport"))
        except StatementError:
            statement = None
        status = "pending"
        proof_len = 0
        if checkpoint is not None and entry.index < checkpoint.size:
            proof = inclusion_proof(index=entry.index, size=checkpoint.size)
            proof_len = len(proof)
            ok = (
                signed
                and statement is not None
                and merkle.verify_inclusion(
                    merkle.leaf_hash(leaf),
                    entry.index,
                    checkpoint.size,
                    proof,
                    bytes.fromhex(checkpoint.root_hash),
                )
            )
            status = "verified" if ok else "failed"
        elif statement is None:
            status = "failed"
        out.append(
            {
                "kind": kind,
                "index": entry.index,
                "time": (statement or {}).get("time", ""),
                "leaf_hash": entry.leaf_hash,
                "status": status,
                "proof_hashes": proof_len,
            }
        )
    return out
