"""A device's replica (sync_protocol/replica.py): what it shows, and how acks, rejections,
lost access and clock errors change that. The server is played by the helpers below, which
build the replies a real server would send."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from sync_protocol.collections import read_id, scope_of
from sync_protocol.hlc import parse
from sync_protocol.replica import Replica
from sync_protocol.wire import PROTOCOL_VERSION, Change, Mutation, Rejection, SyncResponse, Value

NOW = 1764172800000  # the server's clock, in ms
DAY = 86_400_000
GENERAL, RANDOM = "01JCGEN", "01JCRND"
#: What the server adds to the first message it accepts in a channel.
FIRST_SENT = {"author": "ada", "n": 1, "at": NOW}


class Server:
    """Just enough of a server to answer replicas: it keeps a change log, numbers each channel's
    messages at acceptance and fills in the server-only fields."""

    def __init__(self) -> None:
        self.log: list[Change] = []
        self.known: dict[tuple[str, str], dict[str, Value]] = {}
        self.last_n: dict[str, int] = {}

    def accept(self, mutation: Mutation, author: str = "ada") -> Change:
        key = (mutation.collection, mutation.id)
        fields = dict(mutation.fields)
        if mutation.collection == "messages" and key not in self.known:
            channel = str(fields["channel"])
            self.last_n[channel] = self.last_n.get(channel, 0) + 1
            fields |= {"author": author, "n": self.last_n[channel], "at": NOW}
        self.known[key] = {**self.known.get(key, {}), **fields}
        change = Change(
            seq=len(self.log) + 1,
            scope=scope_of(mutation.collection, mutation.id, self.known[key]),
            collection=mutation.collection,
            id=mutation.id,
            hlc=mutation.hlc,
            author=author,
            fields=fields,
        )
        self.log.append(change)
        return change

    def reply(
        self,
        replica: Replica | None = None,
        *,
        acks: Sequence[Mutation] = (),
        rejections: Sequence[Rejection] = (),
        scopes: Sequence[str] = (),
    ) -> SyncResponse:
        """A reply carrying every change the replica has not seen (all of them if it is None)."""
        cursors = replica.cursors if replica else {}
        changes = [c for c in self.log if c.seq > cursors.get(c.scope, 0)]
        return SyncResponse(
            v=PROTOCOL_VERSION,
            server_time=NOW,
            acks=[m.mid for m in acks],
            rejections=list(rejections),
            changes=changes,
            cursors={c.scope: c.seq for c in changes},
            scopes=list(scopes),
        )


def device(user: str = "ada", name: str = "phone1") -> Replica:
    return Replica(name, user)


def post(replica: Replica, channel: str, text: str, message_id: str) -> Mutation:
    return replica.write("messages", message_id, {"channel": channel, "text": text}, wall_ms=NOW)


def sync(replica: Replica, server: Server, *, reject: dict[int, str] | None = None) -> None:
    """One round trip: the server accepts every pending mutation except those it rejects."""
    reject = reject or {}
    accepted = [m for m in replica.pending if m.mid not in reject]
    for mutation in accepted:
        server.accept(mutation, replica.user)
    refused = [Rejection(mid=mid, code="forbidden", reason=reason) for mid, reason in reject.items()]
    replica.apply_response(server.reply(replica, acks=accepted, rejections=refused), wall_ms=NOW)


def texts(replica: Replica, channel: str) -> list[tuple[Value, bool]]:
    return [(fields["text"], pending) for _, fields, pending in replica.messages(channel)]


def text_of(replica: Replica, message_id: str) -> Value:
    shown = replica.record("messages", message_id)
    assert shown is not None, f"message {message_id} is not shown"
    return shown["text"]


# --- pending over confirmed --------------------------------------------------------------------


def test_a_message_shows_at_once_and_waits_as_pending() -> None:
    phone = device()
    post(phone, GENERAL, "On my way", "m1")

    assert phone.record("messages", "m1") == {"channel": GENERAL, "text": "On my way"}
    assert texts(phone, GENERAL) == [("On my way", True)]
    assert phone.records == {}, "nothing optimistic is written into the confirmed state"


def test_a_pending_edit_shows_over_the_confirmed_text() -> None:
    phone, server = device(), Server()
    post(phone, GENERAL, "draft", "m1")
    sync(phone, server)

    phone.write("messages", "m1", {"text": "final"}, wall_ms=NOW + 1000)

    assert phone.record("messages", "m1") == {"channel": GENERAL, "text": "final", **FIRST_SENT}
    assert phone.records[("messages", "m1")].fields["text"] == "draft"


def test_a_newer_edit_from_another_device_wins_over_my_older_pending_edit() -> None:
    phone, laptop, server = device(name="phone1"), device(name="laptop1"), Server()
    post(phone, GENERAL, "v1", "m1")
    sync(phone, server)
    sync(laptop, server)

    phone.write("messages", "m1", {"text": "phone edit"}, wall_ms=NOW + 1000)  # offline: stays pending
    laptop.write("messages", "m1", {"text": "laptop edit"}, wall_ms=NOW + 5000)
    sync(laptop, server)
    phone.apply_changes(server.reply(phone).changes, wall_ms=NOW + 6000)  # a live push reaches the phone

    assert phone.record("messages", "m1") == {"channel": GENERAL, "text": "laptop edit", **FIRST_SENT}
    assert len(phone.pending) == 1, "the losing edit still goes to the server, which keeps it as history"


# --- acks and rejections -----------------------------------------------------------------------


def test_an_ack_moves_a_message_from_pending_to_sent() -> None:
    phone, server = device(), Server()
    post(phone, GENERAL, "hello", "m1")

    sync(phone, server)

    assert phone.pending == []
    assert texts(phone, GENERAL) == [("hello", False)]
    assert phone.record("messages", "m1") == {"channel": GENERAL, "text": "hello", **FIRST_SENT}


def test_only_the_acked_mutations_leave_pending() -> None:
    phone = device()
    first = post(phone, GENERAL, "one", "m1")
    second = post(phone, GENERAL, "two", "m2")

    phone.apply_response(Server().reply(acks=[first]), wall_ms=NOW)

    assert phone.pending == [second]


def test_a_rejection_moves_the_mutation_to_failed_with_its_reason() -> None:
    phone, server = device(), Server()
    kept = post(phone, GENERAL, "fine", "m1")
    refused = post(phone, RANDOM, "not a member here", "m2")

    sync(phone, server, reject={refused.mid: "you are not a member of this channel"})

    assert phone.pending == []
    mutation, rejection = phone.failed[refused.mid]
    assert mutation == refused
    assert (rejection.code, rejection.reason) == ("forbidden", "you are not a member of this channel")
    assert kept.mid not in phone.failed
    assert texts(phone, RANDOM) == [], "a refused message leaves nothing behind in the channel"
    assert phone.record("messages", "m2") is None


def test_a_rejected_edit_leaves_the_confirmed_text_showing() -> None:
    phone, server = device(), Server()
    post(phone, GENERAL, "original", "m1")
    sync(phone, server)
    edit = phone.write("messages", "m1", {"text": "edited"}, wall_ms=NOW + 1)
    assert text_of(phone, "m1") == "edited"

    sync(phone, server, reject={edit.mid: "only the author edits a message"})

    assert text_of(phone, "m1") == "original"


# --- lost access -------------------------------------------------------------------------------


def test_losing_a_scope_forgets_its_records_and_cursor() -> None:
    phone, server = device(), Server()
    post(phone, GENERAL, "in general", "m1")
    post(phone, RANDOM, "in random", "m2")
    phone.write("reads", read_id("ada", GENERAL), {"channel": GENERAL, "user": "ada", "n": 1}, wall_ms=NOW)
    sync(phone, server)
    assert set(phone.cursors) == {f"c:{GENERAL}", f"c:{RANDOM}", "u:ada"}

    phone.apply_response(server.reply(scopes=["ws", "u:ada", f"c:{GENERAL}"]), wall_ms=NOW)

    assert phone.record("messages", "m2") is None
    assert texts(phone, RANDOM) == []
    assert texts(phone, GENERAL) == [("in general", False)]
    assert phone.record("reads", read_id("ada", GENERAL)) is not None
    assert set(phone.cursors) == {f"c:{GENERAL}", "u:ada"}


def test_drop_scopes_except_keeps_exactly_the_visible_scopes() -> None:
    phone, server = device(), Server()
    for channel, message in ((GENERAL, "m1"), (RANDOM, "m2")):
        post(phone, channel, "hi", message)
    sync(phone, server)

    phone.drop_scopes_except({f"c:{RANDOM}"})

    assert set(phone.records) == {("messages", "m2")}
    assert set(phone.scope_of.values()) == {f"c:{RANDOM}"}
    assert set(phone.cursors) == {f"c:{RANDOM}"}


# --- display order and unread counts -----------------------------------------------------------


def test_messages_show_sent_ones_by_number_then_pending_ones_in_write_order() -> None:
    phone, server = device(), Server()
    sent = [post(phone, GENERAL, text, f"m{i}") for i, text in enumerate(["first", "second", "third"])]
    for mutation in sent:
        server.accept(mutation)
    reply = server.reply(phone, acks=sent)
    # The changes arrive out of order: display order must come from n, not arrival.
    phone.apply_response(msgspec.structs.replace(reply, changes=reply.changes[::-1]), wall_ms=NOW)
    post(phone, GENERAL, "unsent A", "zzz")  # ids sort the other way round from write order
    post(phone, GENERAL, "unsent B", "aaa")
    post(phone, RANDOM, "elsewhere", "m9")
    phone.write("messages", "m0", {"text": "first (edited)"}, wall_ms=NOW + 1)  # pending edit of a sent one

    assert texts(phone, GENERAL) == [
        ("first (edited)", False),
        ("second", False),
        ("third", False),
        ("unsent A", True),
        ("unsent B", True),
    ]
    assert [n for _, fields, _ in phone.messages(GENERAL) if (n := fields.get("n"))] == [1, 2, 3]


def test_unread_is_the_last_message_number_minus_the_read_cursor_less_my_own() -> None:
    phone, laptop, bob, server = device(), device(name="laptop"), device("bob", "bobsphone"), Server()
    for i in range(5):
        post(bob, GENERAL, f"message {i}", f"m{i}")
    post(bob, RANDOM, "other channel", "r1")
    sync(bob, server)
    sync(phone, server)
    assert phone.unread(GENERAL) == 5, "no read cursor yet: everything is unread"
    assert phone.unread(RANDOM) == 1

    phone.write("reads", read_id("ada", GENERAL), {"channel": GENERAL, "user": "ada", "n": 3}, wall_ms=NOW + 1)
    assert phone.unread(GENERAL) == 2, "a pending read cursor counts at once"
    sync(phone, server)
    assert phone.unread(GENERAL) == 2

    post(phone, GENERAL, "not sent yet", "m5")
    assert phone.unread(GENERAL) == 2, "my own unsent message has no number and is not unread"
    post(laptop, GENERAL, "from my laptop", "m6")
    sync(laptop, server)
    sync(phone, server)
    assert phone.unread(GENERAL) == 2, "what I wrote on another device is not news to me"
    assert phone.unread("01JCEMPTY") == 0


def test_unread_is_never_negative() -> None:
    phone = device()
    phone.write("reads", read_id("ada", GENERAL), {"channel": GENERAL, "user": "ada", "n": 9}, wall_ms=NOW)
    assert phone.unread(GENERAL) == 0


# --- clocks ------------------------------------------------------------------------------------


def test_restamp_keeps_the_pending_order_and_contents() -> None:
    phone = device()
    written = [post(phone, GENERAL, text, f"m{i}") for i, text in enumerate(["a", "b", "c"])]

    phone.restamp(NOW + 60_000)

    assert [(m.mid, m.id, m.fields) for m in phone.pending] == [(m.mid, m.id, m.fields) for m in written]
    stamps = [m.hlc for m in phone.pending]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3
    assert texts(phone, GENERAL) == [("a", True), ("b", True), ("c", True)]


def test_after_clock_ahead_restamped_mutations_carry_the_servers_time() -> None:
    phone, server = device(), Server()
    post(phone, GENERAL, "seen", "m0")
    sync(phone, server)
    wall = NOW + DAY  # then the phone's own clock jumps a day ahead (its offset is still 0)
    message = phone.write("messages", "m1", {"channel": GENERAL, "text": "typed offline"}, wall_ms=wall)
    assert parse(message.hlc).ms == wall

    # 409 clock_ahead with server_time: the device sets its offset and restamps.
    phone.offset_ms = NOW - wall
    phone.restamp(wall)

    restamped = parse(phone.pending[0].hlc)
    assert NOW <= restamped.ms <= NOW + 60_000, "must pass the server's one-minute bound"
    assert phone.pending[0].hlc > phone.records[("messages", "m0")].clocks["text"]
    assert phone.write("messages", "m1", {"text": "edit"}, wall_ms=wall).hlc > phone.pending[0].hlc


def test_a_sync_reply_sets_the_offset_so_a_wrong_device_clock_stamps_server_time() -> None:
    phone = device()
    behind = NOW - 3 * DAY  # the phone's clock is three days behind the server's
    phone.apply_response(Server().reply(), wall_ms=behind)

    message = phone.write("messages", "m1", {"channel": GENERAL, "text": "hi"}, wall_ms=behind + 10)

    assert parse(message.hlc).ms == NOW + 10


def test_received_changes_move_the_clock_past_them() -> None:
    phone, server = device(), Server()
    from_the_future = Mutation(
        mid=1,
        collection="messages",
        id="m1",
        fields={"channel": GENERAL, "text": "x"},
        hlc="1764172900000-00004-laptop1",
    )
    phone.apply_changes([server.accept(from_the_future)], NOW)

    assert post(phone, GENERAL, "reply", "m2").hlc > from_the_future.hlc


# --- the request ---------------------------------------------------------------------------------


def test_a_sync_request_pushes_pending_oldest_first_with_the_cursors() -> None:
    phone, server = device(), Server()
    post(phone, GENERAL, "seen", "m0")
    sync(phone, server)
    written = [post(phone, GENERAL, f"m{i}", f"m{i}") for i in range(1, 4)]

    request = phone.sync_request(max_changes=2)

    assert request.v == PROTOCOL_VERSION
    assert request.changes == written[:2]
    assert [m.mid for m in written] == [2, 3, 4], "mutation ids keep counting up"
    assert request.cursors == {f"c:{GENERAL}": 1}


def test_cursors_never_move_back() -> None:
    phone = device()
    phone.cursors = {"ws": 10}
    phone.apply_response(SyncResponse(v=1, server_time=NOW, cursors={"ws": 4, "u:ada": 2}), wall_ms=NOW)
    assert phone.cursors == {"ws": 10, "u:ada": 2}


def test_the_scope_of_a_pending_write_follows_from_its_fields() -> None:
    phone = device()
    message = post(phone, GENERAL, "hi", "m1")
    cursor = phone.write("reads", read_id("ada", GENERAL), {"channel": GENERAL, "user": "ada", "n": 1}, wall_ms=NOW)
    edit = phone.write("messages", "m1", {"text": "hi!"}, wall_ms=NOW)  # the channel comes from the record
    poll = phone.write("polls", "p1", {}, wall_ms=NOW)

    assert phone.scope_for_pending(message) == f"c:{GENERAL}"
    assert phone.scope_for_pending(cursor) == "u:ada"
    assert phone.scope_for_pending(edit) == f"c:{GENERAL}"
    assert phone.scope_for_pending(poll) is None


def test_a_refused_message_says_why_and_can_be_retried_or_discarded() -> None:
    replica = Replica("devA", "01ADA")
    first = replica.write("messages", "01M1", {"channel": "01GEN", "text": "to an archived channel"}, 1_000)
    second = replica.write("messages", "01M2", {"channel": "01GEN", "text": "also refused"}, 1_001)
    refusals = [Rejection(m.mid, "archived", "this channel is archived and read-only") for m in (first, second)]
    replica.apply_response(SyncResponse(v=1, server_time=1_002, rejections=refusals), 1_002)

    failed = replica.failed_messages("01GEN")
    assert [(m.id, r.reason) for m, r in failed] == [
        ("01M1", "this channel is archived and read-only"),
        ("01M2", "this channel is archived and read-only"),
    ]
    again = replica.retry(first.mid, 2_000)
    assert again is not None and again.mid > second.mid and again.fields == first.fields
    assert [m.id for m in replica.pending] == ["01M1"]
    replica.discard(second.mid)
    assert replica.failed_messages("01GEN") == [] and replica.retry(second.mid, 2_001) is None
