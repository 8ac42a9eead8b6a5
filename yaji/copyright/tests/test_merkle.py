"""RFC 9162 hashing and proofs: the published vectors, then properties over random trees."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from yaji.copyright import merkle

# Certificate Transparency / transparency-dev reference leaves and their roots (sizes 0..8).
LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
CONSISTENCY = {
    (2, 8): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}


class MemoryTree:
    """Leaves appended through CompactRange; every complete node it reports is kept."""

    def __init__(self, data: list[bytes]) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.edge = merkle.CompactRange()
        self.roots = [merkle.EMPTY_ROOT]
        for i, d in enumerate(data):
            h = merkle.leaf_hash(d)
            self.nodes[(0, i)] = h
            for level, index, value in self.edge.append(h):
                self.nodes[(level, index)] = value
            self.roots.append(self.edge.root())

    def node(self, level: int, index: int) -> bytes:
        return self.nodes[(level, index)]


def test_roots_match_the_published_vectors_for_every_size():
    tree = MemoryTree(LEAVES)
    for size, want in enumerate(ROOTS):
        assert tree.roots[size].hex() == want
        assert merkle.root(tree.node, size).hex() == want


def test_inclusion_and_consistency_proofs_match_the_published_vectors():
    tree = MemoryTree(LEAVES)
    for (index, size), want in INCLUSION.items():
        path = merkle.inclusion_path(tree.node, index, size)
        assert [p.hex() for p in path] == want
        assert merkle.verify_inclusion(
            merkle.leaf_hash(LEAVES[index]), index, size, path, bytes.fromhex(ROOTS[size])
        )
    for (first, second), want in CONSISTENCY.items():
        path = merkle.consistency_path(tree.node, first, second)
        assert [p.hex() for p in path] == want
        assert merkle.verify_consistency(
            first, second, bytes.fromhex(ROOTS[first]), bytes.fromhex(ROOTS[second]), path
        )


def test_the_split_is_the_largest_power_of_two_below_n_not_the_midpoint():
    assert [merkle.split_point(n) for n in (2, 3, 5, 6, 7, 8, 9, 1000)] == [
        1, 2, 4, 4, 4, 4, 8, 512,
    ]  # fmt: skip


def test_nodes_needed_lists_only_complete_subtrees_the_log_stores():
    tree = MemoryTree([bytes([i]) for i in range(13)])
    needed = merkle.nodes_needed(lambda node: merkle.inclusion_path(node, 6, 13))
    assert set(needed) <= set(tree.nodes)
    assert len(needed) >= len(merkle.inclusion_path(tree.node, 6, 13))  # [8, 13) is two nodes


trees = st.lists(st.binary(max_size=8), min_size=1, max_size=300, unique=True)


@settings(max_examples=60, deadline=None)
@given(data=trees)
def test_every_leaf_has_an_inclusion_proof_that_verifies_and_tampering_breaks_it(data):
    tree = MemoryTree(data)
    size = len(data)
    root = tree.roots[size]
    for index in range(size):
        leaf = merkle.leaf_hash(data[index])
        path = merkle.inclusion_path(tree.node, index, size)
        assert merkle.verify_inclusion(leaf, index, size, path, root)
        # (the size alone is not bound by the hashes — index 0 of 3 and of 4 share a path —
        # which is why a checkpoint signs size and root together)
        if size > 1:
            assert not merkle.verify_inclusion(leaf, (index + 1) % size, size, path, root)
        assert not merkle.verify_inclusion(
            merkle.leaf_hash(data[index] + b"x"), index, size, path, root
        )
    # flip one byte of one hash of one proof: never verifies
    index = size // 2
    path = merkle.inclusion_path(tree.node, index, size)
    for i in range(len(path)):
        for byte in (0, 17, 31):
            bad = list(path)
            bad[i] = bad[i][:byte] + bytes([bad[i][byte] ^ 1]) + bad[i][byte + 1 :]
            assert not merkle.verify_inclusion(
                merkle.leaf_hash(data[index]), index, size, bad, root
            )
    if path:
        assert not merkle.verify_inclusion(
            merkle.leaf_hash(data[index]), index, size, path[:-1], root
        )
        assert not merkle.verify_inclusion(
            merkle.leaf_hash(data[index]), index, size, [*path, path[0]], root
        )


@settings(max_examples=40, deadline=None)
@given(data=st.lists(st.binary(max_size=4), min_size=1, max_size=120))
def test_consistency_proofs_verify_between_every_pair_of_sizes(data):
    tree = MemoryTree(data)
    n = len(data)
    for second in range(n + 1):
        for first in range(second + 1):
            path = merkle.consistency_path(tree.node, first, second)
            assert merkle.verify_consistency(
                first, second, tree.roots[first], tree.roots[second], path
            ), (first, second)
            if 0 < first < second:
                wrong = merkle.node_hash(tree.roots[first], b"")
                assert not merkle.verify_consistency(first, second, wrong, tree.roots[second], path)
                assert not merkle.verify_consistency(first, second, tree.roots[first], wrong, path)
                bad = list(path)
                bad[-1] = bytes([bad[-1][0] ^ 0x80]) + bad[-1][1:]
                assert not merkle.verify_consistency(
                    first, second, tree.roots[first], tree.roots[second], bad
                )


@settings(max_examples=30, deadline=None)
@given(data=st.lists(st.binary(max_size=4), min_size=2, max_size=80), pick=st.data())
def test_a_rewritten_history_is_not_consistent_with_the_old_root(data, pick):
    first = pick.draw(st.integers(1, len(data) - 1))
    changed = pick.draw(st.integers(0, first - 1))
    forged = list(data)
    forged[changed] = forged[changed] + b"!"
    old = MemoryTree(data)
    new = MemoryTree(forged)
    second = len(data)
    path = merkle.consistency_path(new.node, first, second)
    assert not merkle.verify_consistency(first, second, old.roots[first], new.roots[second], path)


def test_bad_proof_requests_are_refused():
    tree = MemoryTree([b"a", b"b"])
    for index, size in ((2, 2), (-1, 2), (0, 0)):
        try:
            merkle.inclusion_path(tree.node, index, size)
        except merkle.ProofError:
            continue
        raise AssertionError((index, size))
    try:
        merkle.consistency_path(tree.node, 3, 2)
    except merkle.ProofError:
        pass
    else:
        raise AssertionError("3 > 2 accepted")


def test_every_inclusion_proof_of_every_tree_up_to_300_leaves_verifies():
    tree = MemoryTree([i.to_bytes(2, "big") for i in range(300)])
    for size in range(1, 301):
        root = tree.roots[size]
        for index in range(size):
            path = merkle.inclusion_path(tree.node, index, size)
            assert merkle.verify_inclusion(tree.nodes[(0, index)], index, size, path, root)


def test_every_consistency_proof_between_sizes_up_to_150_verifies():
    tree = MemoryTree([i.to_bytes(2, "big") for i in range(150)])
    for second in range(151):
        for first in range(second + 1):
            path = merkle.consistency_path(tree.node, first, second)
            assert merkle.verify_consistency(
                first, second, tree.roots[first], tree.roots[second], path
            )
