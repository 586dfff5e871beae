"""The upgrade PR's record and texts."""

from __future__ import annotations

from bot.core.changes import ChangeSummary
from bot.core.impact import Change, Impact
from bot.core.upgrade_pr import (
    MAX_BODY,
    PastUpgrade,
    UpgradeHistory,
    UpgradeRecord,
    declined_text,
    inputs_digest,
    read_record,
    undeclined,
    upgrade_body,
    upgrade_title,
    with_record,
)

RECORD = UpgradeRecord("main", "v0.0.1", "v0.0.2", "sha256:abc")
IMPACT = Impact(Change("acme.io/root", "v0.0.1", "v0.0.2"), (), (), ())
SUMMARY = ChangeSummary((), (), (), (), (), ())


def body(record: UpgradeRecord = RECORD) -> str:
    return upgrade_body(record, environment="dev", impact=IMPACT, summary=SUMMARY)


def test_the_record_survives_the_body_and_damage_is_no_record():
    assert read_record(body()) == RECORD
    pinned = UpgradeRecord("main", "v0.0.3", "v0.0.1", "x", ("v0.0.2",), True, True)
    assert read_record(body(pinned)) == pinned
    assert read_record("no record here") is None
    assert read_record("<!-- bootstrap-bot:upgrade {not json} -->") is None
    assert read_record('<!-- bootstrap-bot:upgrade {"landscape": "main"} -->') is None
    # Replaced in place, the rest of the body kept.
    edited = with_record(body(), RECORD.declining("v0.0.2"))
    assert read_record(edited) == RECORD.declining("v0.0.2")
    assert edited.count("bootstrap-bot:upgrade") == 1 and "What the release changes" in edited


def past(number: int, state: str, merged: bool, record: UpgradeRecord | None) -> PastUpgrade:
    return PastUpgrade(number, state, merged, record)


def test_declined_versions_come_from_the_newest_upgrade_pull_request():
    assert UpgradeHistory().declined == ()
    older = RECORD.declining("v0.0.1")
    # Open: what its record says.
    assert UpgradeHistory((past(2, "open", False, older),)).declined == ("v0.0.1",)
    # Closed unmerged by someone: its own version too, even if the webhook was lost.
    closed = UpgradeHistory((past(2, "closed", False, older), past(1, "closed", False, RECORD)))
    assert closed.declined == ("v0.0.1", "v0.0.2")
    # Merged, or withdrawn by the bot: nothing more.
    assert UpgradeHistory((past(2, "closed", True, RECORD),)).declined == ()
    withdrawn = UpgradeRecord("main", "v0.0.1", "v0.0.2", "x", withdrawn=True)
    assert UpgradeHistory((past(2, "closed", False, withdrawn),)).declined == ()
    # A newest PR without a record (opened by hand) says nothing.
    by_hand = UpgradeHistory((past(3, "open", False, None), past(2, "closed", False, RECORD)))
    assert by_hand.declined == ()


def test_declined_texts_and_undoing_a_decline():
    assert declined_text([]) == "none"
    assert declined_text(["v0.0.3", "v0.0.2"]) == (
        "`v0.0.3` and older (declined: `v0.0.2`, `v0.0.3`)"
    )
    assert undeclined(("v0.0.2", "v0.0.3"), "0.0.3") == ("v0.0.2",)
    assert undeclined(("v0.0.2",), "v0.0.9") == ("v0.0.2",)


def test_the_input_digest_follows_inputs_and_owned_files_only():
    files = {
        ".bootstrap/config.yaml": b"a",
        ".bootstrap/extra-manifests/x.yaml": b"b",
        "envs/dev/kustomization.yaml": b"c",
        "README.md": b"d",
    }

    def digest(changed: dict[str, bytes], version: str = "v1") -> str:
        merged = {**files, **changed}
        return inputs_digest(
            merged, config_path=".bootstrap/config.yaml", version=version, owned=["envs"]
        )

    same = digest({})
    assert digest({"README.md": b"other"}) == same
    assert digest({".bootstrap/extra-manifests/x.yaml": b"other"}) != same
    assert digest({"envs/dev/kustomization.yaml": b"other"}) != same
    assert digest({}, version="v2") != same


def test_titles_and_bodies_say_what_happens():
    assert upgrade_title("dev", "v0.0.2") == "Upgrade openMCP dev to v0.0.2"
    assert upgrade_title("dev", "v0.0.0", downgrade=True) == "Downgrade openMCP dev to v0.0.0"
    text = body()
    assert "closing it unmerged declines `v0.0.2`" in text
    pinned = body(UpgradeRecord("main", "v0.0.1", "v0.0.0", "x", pinned=True, downgrade=True))
    assert "a downgrade" in pinned and "newer releases do not replace it here" in pinned
    # GitHub's body limit: cut, the record kept.
    huge = Impact(IMPACT.root, tuple(Change(f"c{i}" * 40, "1", "2") for i in range(2000)), (), ())
    long = upgrade_body(RECORD, environment="dev", impact=huge, summary=SUMMARY)
    assert len(long) < MAX_BODY + 500 and read_record(long) == RECORD
