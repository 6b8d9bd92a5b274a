"""The archive's hash chain, as pure functions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from envwatch.store.hashchain import GENESIS, Link, first_broken_link, link_hash

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)


def chain(count: int) -> list[tuple[int, str, str, Link]]:
    rows = []
    prev = GENESIS
    for seq in range(1, count + 1):
        link = Link(
            "MN1", seq, T0 + timedelta(seconds=seq), "127.0.0.1:1", b"##frame%d" % seq,
            "accepted", None, "", "MN1", "2011", f"QN{seq}",
        )  # fmt: skip
        digest = link_hash(prev, link)
        rows.append((seq * 10, prev, digest, link))
        prev = digest
    return rows


def head_of(rows: list[tuple[int, str, str, Link]]) -> tuple[int, str]:
    return rows[-1][3].seq, rows[-1][2]


def test_an_intact_chain_verifies() -> None:
    rows = chain(5)
    assert first_broken_link("MN1", rows, head_of(rows)) is None
    assert first_broken_link("MN1", []) is None


def test_an_edited_field_is_found_at_its_link() -> None:
    rows = chain(5)
    head = head_of(rows)
    row_id, prev, digest, link = rows[2]
    rows[2] = (row_id, prev, digest, replace(link, raw=b"##forged"))
    broken = first_broken_link("MN1", rows, head)
    assert broken is not None
    assert (broken.seq, broken.row_id, broken.reason) == (3, 30, "content does not match its hash")


def test_a_deleted_link_is_found() -> None:
    rows = chain(5)
    head = head_of(rows)
    del rows[1]
    broken = first_broken_link("MN1", rows, head)
    assert broken is not None
    assert (broken.seq, broken.reason) == (2, "link 2 is missing")


def test_a_rehashed_edit_still_breaks_the_next_link() -> None:
    rows = chain(4)
    head = head_of(rows)
    row_id, prev, _, link = rows[1]
    forged = replace(link, verdict="rejected")
    rows[1] = (row_id, prev, link_hash(prev, forged), forged)
    broken = first_broken_link("MN1", rows, head)
    assert broken is not None
    assert (broken.seq, broken.reason) == (3, "previous hash does not match")


def test_none_and_empty_text_hash_differently() -> None:
    link = chain(1)[0][3]
    assert link_hash(GENESIS, link) != link_hash(GENESIS, replace(link, error_code=""))


def test_the_same_instant_in_any_zone_hashes_the_same() -> None:
    link = chain(1)[0][3]
    shifted = replace(link, received_at=link.received_at.astimezone(timezone(timedelta(hours=8))))
    naive = replace(link, received_at=link.received_at.replace(tzinfo=None))
    assert link_hash(GENESIS, link) == link_hash(GENESIS, shifted) == link_hash(GENESIS, naive)


def test_links_cut_off_the_end_are_found_against_the_head() -> None:
    rows = chain(5)
    head = head_of(rows)
    broken = first_broken_link("MN1", rows[:3], head)
    assert broken is not None
    assert (broken.seq, broken.row_id, broken.reason) == (
        4,
        None,
        "links 4 to 5 are missing (cut off)",
    )
    gone = first_broken_link("MN1", [], head)
    assert gone is not None and gone.reason == "links 1 to 5 are missing (cut off)"


def test_a_chain_must_match_its_head() -> None:
    rows = chain(3)
    assert first_broken_link("MN1", rows, (3, "0" * 64)) is not None
    missing = first_broken_link("MN1", rows, None)
    assert missing is not None and missing.reason == "the chain's head record is missing"


def test_the_link_encoding_is_stable() -> None:
    # Archives written by any release must verify under every later one: this
    # digest pins the encoding of a link.
    link = Link(
        chain="MN1",
        seq=7,
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
        peer="1.2.3.4:5",
        raw=b"##abc\r\n",
        verdict="accepted",
        error_code=None,
        warnings="",
        mn="MN1",
        cn="2011",
        qn=None,
    )
    assert link_hash(GENESIS, link) == (
        "bbc604b7a5d1f1423c412eca48c5cc476d840cb98e7abd0fc01369e1c492997c"
    )
