"""Offline depth (issue 16): how much of a channel one device keeps, in its user's private scope.

A ``keeps`` record is one device's choice for one channel: ``recent`` (the newest messages and
what was opened), ``30d`` (the last 30 days) or ``all`` (everything). It is per device — a phone
going to a site keeps #site-a whole while the laptop need not — so its id names the device too;
it lives in ``u:<user>`` so it follows the person (and a new sign-in on the same device id finds it),
and only its owner writes it. No record means the default: ``30d`` for DMs, ``recent`` otherwise.
"""

from __future__ import annotations

from sync_protocol.registry import CollectionSpec, Field, IdRule, Rights, ScopeRule

KEEP_LEVELS = ("recent", "30d", "all")

KEEPS = CollectionSpec(
    "keeps",
    {
        "channel": Field(str, 80, immutable=True, required=True),
        "user": Field(str, 80, immutable=True, required=True),
        "device": Field(str, 80, immutable=True, required=True),
        "keep": Field(str, choices=KEEP_LEVELS, required=True),
    },
    ScopeRule("field", field="user", prefix="u:"),
    derived_id=IdRule(("user", "device", "channel")),
    rights=Rights(create="own", fields={"channel": "fixed", "user": "fixed", "device": "fixed", "keep": "own"}),
)

OFFLINE_COLLECTIONS = (KEEPS,)


def keep_id(user_id: str, device_id: str, channel_id: str) -> str:
    rule = KEEPS.derived_id
    assert rule is not None
    return rule.derive({"user": user_id, "device": device_id, "channel": channel_id})
