"""The server's own clock and out-of-order mutations (issue 8's protocol gaps)."""

from __future__ import annotations

from pathlib import Path

from backend.settings import Settings
from backend.storage.sqlite import SqliteStorage
from backend.sync_service import SyncService
from sync_protocol.wire import Mutation, SyncRequest
from tests.integration.rights_world import NOW, PERSONAS, Actor, RightsLab, device_of


def test_a_server_wipe_after_a_restart_wins_over_a_change_stamped_ahead(tmp_path: Path) -> None:
    lab = RightsLab(tmp_path)
    world = lab.world()
    member = world.people["member"]
    device = device_of(member)
    ahead = f"{NOW + 50_000:013d}-00000-{device}"  # 50 s ahead of the server: accepted
    edit = Mutation(mid=1, collection="messages", id=world.msg_member, hlc=ahead, fields={"text": "from the future"})
    reply = lab.sync.sync(Actor(member, device, "member"), SyncRequest(v=1, changes=[edit]), NOW)
    assert reply.acks == [1]
    lab.close()

    # A new server process on the same database wipes the text (as retention does) right away.
    store = SqliteStorage(tmp_path / "teamtalk.db")
    restarted = SyncService(store, Settings(data_dir=tmp_path))
    restarted.write_as_server("server", [("messages", world.msg_member, {"text": None})], NOW + 1)
    record = store.get_record("messages", world.msg_member)
    assert record is not None and record.state.fields["text"] is None
    assert record.state.clocks["text"] > ahead
    store.close()


def test_a_retry_is_acked_again_but_a_stale_mutation_that_never_applied_is_refused(tmp_path: Path) -> None:
    lab = RightsLab(tmp_path)
    world = lab.world()
    member = world.people["member"]
    actor = Actor(member, device_of(member), PERSONAS["member"][0])

    def push(mid: int, text: str, tick: int) -> tuple[list[int], list[tuple[int, str]]]:
        mutation = Mutation(
            mid=mid,
            collection="messages",
            id=world.msg_member,
            fields={"text": text},
            hlc=f"{NOW + 1000:013d}-{tick:05d}-{actor.device_id}",
        )
        reply = lab.sync.sync(actor, SyncRequest(v=1, changes=[mutation]), NOW)
        return reply.acks, [(r.mid, r.code) for r in reply.rejections]

    assert push(5, "five", 1) == ([5], [])
    assert push(5, "five", 1) == ([5], [])  # the same push again: acked, applied once
    assert push(3, "three", 2) == ([], [(3, "stale_mid")])  # skipped earlier, never applied
    assert push(3, "three", 2) == ([], [(3, "stale_mid")])  # and refused again on a retry
    record = lab.store.get_record("messages", world.msg_member)
    assert record is not None and record.state.fields["text"] == "five"
    lab.close()
