"""RFC 9162 §2.1 Merkle tree hashing, proofs and their verification — pure functions.

Hashing is RFC 6962's: a leaf is ``SHA-256(0x00 ‖ data)``, an interior node
``SHA-256(0x01 ‖ left ‖ right)``, the empty tree ``SHA-256("")``, and a tree of ``n`` leaves
splits at ``k``, the largest power of two smaller than ``n`` (so the left subtree is always
complete). Proof generation works against any *node source*: a callable
``node(level, index)`` returning the hash of the complete subtree holding leaves
``[index·2^level, (index+1)·2^level)``. The database keeps exactly those nodes, so a proof costs
O(log n) lookups; :func:`nodes_needed` lists them up front so they come in one query.

The verifiers are §2.1.3.2 (inclusion) and §2.1.4.2 (consistency) step by step; they take
nothing but hashes and never trust the prover's arithmetic.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeSource = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof was asked for sizes or indexes that make no sense."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _is_complete(start: int, size: int) -> bool:
    return size & (size - 1) == 0 and start % size == 0


def subtree_hash(node: NodeSource, start: int, end: int) -> bytes:
    """MTH(D[start:end]) built from the complete subtrees the node source holds."""
    size = end - start
    if size <= 0:
        return EMPTY_ROOT
    if _is_complete(start, size):
        return node(size.bit_length() - 1, start // size)
    k = split_point(size)
    return node_hash(subtree_hash(node, start, start + k), subtree_hash(node, start + k, end))


def root(node: NodeSource, size: int) -> bytes:
    return subtree_hash(node, 0, size)


def inclusion_path(node: NodeSource, index: int, size: int) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1, leaf-side first."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")

    def path(m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = split_point(n)
        if m < k:
            return [*path(m, start, start + k), subtree_hash(node, start + k, end)]
        return [*path(m - k, start + k, end), subtree_hash(node, start, start + k)]

    return path(index, 0, size)


def consistency_path(node: NodeSource, first: int, second: int) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 §2.1.4.1 (empty when m = n or m = 0)."""
    if not 0 <= first <= second:
        raise ProofError(f"no consistency proof from size {first} to size {second}")
    if first in (0, second):
        return []

    def subproof(m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [subtree_hash(node, start, end)]
        k = split_point(n)
        if m <= k:
            return [*subproof(m, start, start + k, whole), subtree_hash(node, start + k, end)]
        return [*subproof(m - k, start + k, end, False), subtree_hash(node, start, start + k)]

    return subproof(first, 0, second, True)


def nodes_needed(compute: Callable[[NodeSource], object]) -> list[tuple[int, int]]:
    """The (level, index) pairs ``compute`` reads, found by running it on dummy hashes."""
    seen: list[tuple[int, int]] = []

    def record(level: int, index: int) -> bytes:
        seen.append((level, index))
        return bytes(HASH_SIZE)

    compute(record)
    return list(dict.fromkeys(seen))


# --- verification ------------------------------------------------------------------------------


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], expected_root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``leaf`` (a leaf hash) sit at ``index`` of the tree ``root``?"""
    if not 0 <= index < size or any(len(p) != HASH_SIZE for p in path):
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree of size ``second`` an append-only extension of ``first``?"""
    if not 0 <= first <= second or any(len(p) != HASH_SIZE for p in path):
        return False
    if first == second:
        return not path and first_root == second_root
    if first == 0:
        return not path  # every tree extends the empty one
    if not path:
        return False
    proof = list(path)
    if first & (first - 1) == 0:
        proof.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


# --- appending -------------------------------------------------------------------------------


class CompactRange:
    """The right edge of a tree: one hash per set bit of its size, largest subtree first.

    Appending a leaf merges equal-sized subtrees and reports each complete node it creates,
    which is what the log stores; the root folds the edge from the right.
    """

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        self.size = size
        self.hashes = list(hashes)
        if len(self.hashes) != bin(size).count("1"):
            raise ValueError("a compact range holds one hash per set bit of its size")

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; returns the new interior nodes as (level, index, hash)."""
        created: list[tuple[int, int, bytes]] = []
        current, level, index = leaf, 0, self.size
        while (self.size >> level) & 1:
            current = node_hash(self.hashes.pop(), current)
            level += 1
            index >>= 1
            created.append((level, index, current))
        self.hashes.append(current)
        self.size += 1
        return created

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        r = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            r = node_hash(h, r)
        return r
