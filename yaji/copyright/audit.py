"""``yaji verify-log``: recompute the whole tree from the stored leaves and check everything.

* leaves are gapless from 0, each ``leaf_hash`` is SHA-256(0x00 ‖ leaf), each leaf is a
  well-formed statement whose author signature verifies;
* every stored interior node equals the recomputed one, and no extra node exists;
* every checkpoint in the range is signed by the log key, names the log's origin, and its root
  equals the recomputed root at its size;
* every pair of consecutive checkpoints is joined by a consistency proof (built from the stored
  nodes, verified per RFC 9162 §2.1.4.2);
* the head's size and right edge match the recomputation.

A problem is reported, never repaired; the command exits non-zero if there is any.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Q

from yaji.copyright import merkle, signing
from yaji.copyright.models import Checkpoint, LogEntry, LogHead, LogNode
from yaji.copyright.statements import StatementError, statement_parse

CHUNK = 2000


@dataclass
class AuditReport:
    leaves: int = 0
    nodes: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _checkpoint_body(cp: Checkpoint) -> signing.Checkpoint:
    return signing.Checkpoint(
        origin=cp.origin, size=cp.size, root=bytes.fromhex(cp.root_hash), timestamp=cp.timestamp
    )


def log_audit(
    *,
    public_key: bytes,
    origin: str,
    first: int | None = None,
    second: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> AuditReport:
    """Audit the log between checkpoints of sizes ``first`` and ``second`` (default: all)."""
    report = AuditReport()
    checkpoints = list(Checkpoint.objects.order_by("size"))
    if first is not None:
        checkpoints = [c for c in checkpoints if c.size >= first]
        if not checkpoints or checkpoints[0].size != first:
            report.problems.append(f"no checkpoint of size {first}")
    if second is not None:
        checkpoints = [c for c in checkpoints if c.size <= second]
        if not checkpoints or checkpoints[-1].size != second:
            report.problems.append(f"no checkpoint of size {second}")
    head = LogHead.objects.filter(pk=1).first()
    total = LogEntry.objects.count()
    end = checkpoints[-1].size if (second is not None and checkpoints) else total
    for cp in checkpoints:
        report.checkpoints += 1
        try:
            signature = signing.unb64(cp.signature, size=64)
        except signing.SignatureFormatError:
            signature = b""
        if not signing.checkpoint_verify(public_key, _checkpoint_body(cp), signature):
            report.problems.append(f"checkpoint {cp.size}: signature does not verify")
        if cp.origin != origin:
            report.problems.append(f"checkpoint {cp.size}: origin {cp.origin!r} is not {origin!r}")
        if cp.size > total:
            report.problems.append(f"checkpoint {cp.size}: the log holds only {total} leaves")
    by_size = {cp.size: cp for cp in checkpoints}

    edge = merkle.CompactRange()
    expected_nodes = 0
    index = 0
    rows = LogEntry.objects.order_by("index").values_list("index", "leaf", "leaf_hash")
    batch: list[tuple[int, int, bytes]] = []
    for stored_index, leaf, stored_hash in rows.iterator(chunk_size=CHUNK):
        if index >= end:
            break
        if stored_index != index:
            report.problems.append(f"leaf {index}: missing (next stored index is {stored_index})")
            break
        data = leaf.encode("ascii", errors="replace")
        digest = merkle.leaf_hash(data)
        if digest.hex() != stored_hash:
            report.problems.append(f"leaf {index}: stored leaf hash does not match its data")
        try:
            statement_parse(data, types=("work", "passport"))
        except StatementError as exc:
            report.problems.append(f"leaf {index}: {exc}")
        created = edge.append(digest)
        batch.extend(created)
        expected_nodes += len(created)
        index += 1
        if index in by_size and edge.root().hex() != by_size[index].root_hash:
            report.problems.append(
                f"checkpoint {index}: signed root differs from the root recomputed from the leaves"
            )
        if len(batch) >= CHUNK:
            _compare_nodes(batch, report)
            batch = []
        if progress and index % 500 == 0:
            progress(index, end)
    _compare_nodes(batch, report)
    report.leaves = index
    if progress:
        progress(index, end)
    if second is None and first is None:
        stored_nodes = LogNode.objects.count()
        if stored_nodes != expected_nodes:
            report.problems.append(
                f"the log stores {stored_nodes} interior nodes; the leaves make {expected_nodes}"
            )
        if head is None and total:
            report.problems.append("the log head is missing")
        elif head is not None and (
            head.size != index or head.edge != [h.hex() for h in edge.hashes]
        ):
            report.problems.append(
                f"the head says size {head.size}; the recomputed tree has {index} leaves "
                "or a different right edge"
            )
    report.nodes = expected_nodes
    _check_consistency(checkpoints, report)
    return report


def _compare_nodes(batch: list[tuple[int, int, bytes]], report: AuditReport) -> None:
    if not batch:
        return
    by_level: dict[int, list[int]] = {}
    for level, idx, _h in batch:
        by_level.setdefault(level, []).append(idx)
    condition = Q()
    for level, idxs in by_level.items():
        condition |= Q(level=level, index__gte=min(idxs), index__lte=max(idxs))
    stored = {
        (level, idx): h
        for level, idx, h in LogNode.objects.filter(condition).values_list("level", "index", "hash")
    }
    for level, idx, digest in batch:
        got = stored.get((level, idx))
        if got is None:
            report.problems.append(f"node {level}/{idx}: missing")
        elif got != digest.hex():
            report.problems.append(
                f"node {level}/{idx}: stored hash differs from the recomputed one"
            )


def _check_consistency(checkpoints: list[Checkpoint], report: AuditReport) -> None:
    from yaji.copyright import selectors
    from yaji.copyright.errors import ProofUnavailable

    for older, newer in itertools.pairwise(checkpoints):
        try:
            proof = selectors.consistency_proof(first=older.size, second=newer.size)
        except ProofUnavailable:
            report.problems.append(f"checkpoints {older.size}→{newer.size}: no consistency proof")
            continue
        if not merkle.verify_consistency(
            older.size,
            newer.size,
            bytes.fromhex(older.root_hash),
            bytes.fromhex(newer.root_hash),
            proof,
        ):
            report.problems.append(
                f"checkpoints {older.size}→{newer.size}: the consistency proof does not verify"
            )
