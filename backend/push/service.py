"""Web Push for the HTTP shell: the public key and this person's subscriptions. The producer and
the sender run in the followers process (backend/followers/)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import msgspec

from backend import tokens
from backend.access import may_manage_push_subscription
from backend.accounts import CurrentSession
from backend.errors import ApiError
from backend.push import keys as vapid
from backend.push import rules
from backend.settings import Settings
from backend.storage.base import PushSubscription, Storage

MAX_KEY = 200


class PushKeys(msgspec.Struct):
    p256dh: str
    auth: str


class SubscribeIn(msgspec.Struct):
    endpoint: str
    keys: PushKeys
    #: The language of the notification text; absent: the device's earlier one (else English).
    lang: str | None = None


class PublicKeyOut(msgspec.Struct):
    key: str


class SubscriptionOut(msgspec.Struct):
    id: str
    device: str
    device_name: str
    service: str  # the push service's host: enough to recognise it, not the secret endpoint
    created: int
    this_device: bool


class PushService:
    def __init__(self, store: Storage, settings: Settings, subscribed: Callable[[], None] = lambda: None) -> None:
        self.store = store
        self.settings = settings
        self._subscribed = subscribed  # the followers process pre-keys subscriptions (push/keyer.py)
        self.keys = vapid.load_or_create(settings.data_dir)

    def public_key(self) -> PublicKeyOut:
        return PublicKeyOut(self.keys.public_key)

    def subscribe(self, current: CurrentSession, data: SubscribeIn, now_ms: int) -> SubscriptionOut:
        try:
            rules.check_endpoint(data.endpoint, self.settings.push_services, self.settings.push_test_mode)
        except rules.UnsafeEndpoint as exc:
            raise ApiError(400, "unsafe_endpoint", str(exc), field="endpoint") from None
        keys = (data.keys.p256dh, data.keys.auth)
        if len(data.endpoint) > 2000 or not all(0 < len(key) <= MAX_KEY for key in keys):
            raise ApiError(400, "invalid_subscription", "the subscription's endpoint or keys are malformed")
        earlier = next(
            (s for s in self.store.push_subscriptions_of([current.user_id]) if s.device == current.device_id), None
        )
        wanted = data.lang if data.lang is not None else earlier.lang if earlier else "en"
        lang = wanted if wanted in rules.CATALOGUES else "en"
        sub = PushSubscription(
            tokens.token()[:22],
            current.user_id,
            current.device_id,
            data.endpoint,
            data.keys.p256dh,
            data.keys.auth,
            lang,
            now_ms,
        )
        with self.store.transaction():
            self.store.add_push_subscription(sub)
        self._subscribed()
        return self._out(current, sub)

    def subscriptions(self, current: CurrentSession) -> list[SubscriptionOut]:
        return [self._out(current, sub) for sub in self.store.push_subscriptions_of([current.user_id])]

    def revoke(self, current: CurrentSession, sub_id: str) -> None:
        sub = self.store.push_subscription(sub_id)
        if sub is None or not may_manage_push_subscription(current.user_id, sub):
            raise ApiError(404, "not_found", f"you have no push subscription {sub_id}")
        with self.store.transaction():
            self.store.remove_push_subscription(sub_id)

    def _out(self, current: CurrentSession, sub: PushSubscription) -> SubscriptionOut:
        device = self.store.session(sub.device)
        return SubscriptionOut(
            sub.id,
            sub.device,
            device.name if device else "",
            urlsplit(sub.endpoint).netloc,
            sub.created,
            sub.device == current.device_id,
        )
