"""Accounts: the first visitor owns the workspace, others need an invite; sessions are devices."""

from __future__ import annotations

from tests.integration.conftest import PASSWORD, Workspace


def _csrf(client: object) -> dict[str, str]:
    return {"x-csrftoken": client.cookies["csrftoken"]}  # type: ignore[attr-defined]


def test_the_first_visitor_creates_the_workspace_and_owns_it(workspace: Workspace) -> None:
    client = workspace.client()
    assert client.get("/api/workspace").json() == {"name": "TeamTalk", "needs_owner": True}

    ada = workspace.join("Ada")

    assert ada.role == "owner"
    assert client.get("/api/workspace").json()["needs_owner"] is False
    assert ada.channel_named("general")


def test_later_sign_ups_need_a_valid_invite(workspace: Workspace) -> None:
    workspace.join("Ada")
    client = workspace.client()
    body = {"name": "Mallory", "email": "mallory@example.com", "password": PASSWORD}

    without = client.post("/api/signup", json=body, headers=_csrf(client))
    forged = client.post("/api/signup", json={**body, "invite": "guess"}, headers=_csrf(client))

    assert (without.status_code, without.json()["error"]) == (403, "invite_required")
    assert (forged.status_code, forged.json()["error"]) == (403, "invite_invalid")


def test_only_admins_create_invites(workspace: Workspace) -> None:
    workspace.join("Ada")
    bob = workspace.join("Bob")
    reply = bob.client.post("/api/invites", json={}, headers=bob.csrf)
    assert (reply.status_code, reply.json()["error"]) == (403, "forbidden")


def test_every_member_joins_general(workspace: Workspace) -> None:
    workspace.join("Ada")
    bob = workspace.join("Bob")
    general = bob.channel_named("general")
    assert f"c:{general}" in bob.pull()["scopes"]


def test_the_session_cookie_is_httponly_and_samesite(workspace: Workspace) -> None:
    client = workspace.client()
    reply = client.post(
        "/api/signup", json={"name": "Ada", "email": "ada@example.com", "password": PASSWORD}, headers=_csrf(client)
    )
    cookie = reply.headers["set-cookie"].lower()
    assert "tt_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie


def test_sign_in_with_a_wrong_password_is_refused_and_rate_limited(workspace: Workspace) -> None:
    workspace.join("Ada")
    client = workspace.client()
    wrong = {"email": "ada@example.com", "password": "not the password"}
    answers = [client.post("/api/signin", json=wrong, headers=_csrf(client)).status_code for _ in range(11)]
    assert answers[:10] == [401] * 10 and answers[10] == 429
    right = client.post("/api/signin", json={**wrong, "password": PASSWORD}, headers=_csrf(client))
    assert right.status_code == 429, "the limit holds for a while even for the right password"


def test_emails_are_case_insensitive(workspace: Workspace) -> None:
    workspace.join("Ada")
    client = workspace.client()
    reply = client.post("/api/signin", json={"email": " ADA@Example.com", "password": PASSWORD}, headers=_csrf(client))
    assert reply.status_code == 200 and reply.json()["user"]["email"] == "ada@example.com"


def test_bad_account_details_are_named(workspace: Workspace) -> None:
    client = workspace.client()
    reply = client.post("/api/signup", json={"name": "Ada", "email": "ada", "password": "x"}, headers=_csrf(client))
    assert (reply.status_code, reply.json()["field"]) == (400, "email")
    reply = client.post(
        "/api/signup", json={"name": "Ada", "email": "a@b.c", "password": "short"}, headers=_csrf(client)
    )
    assert (reply.status_code, reply.json()["field"]) == (400, "password")


def test_a_user_sees_their_devices_and_revokes_one(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    phone = workspace.client()
    phone.post("/api/signin", json={"email": "ada@example.com", "password": PASSWORD}, headers=_csrf(phone))
    assert phone.get("/api/session").status_code == 200  # the server now remembers this session briefly

    devices = ada.client.get("/api/devices").json()
    assert len(devices) == 2 and [d["current"] for d in devices].count(True) == 1
    other = next(d["id"] for d in devices if not d["current"])

    assert ada.client.delete(f"/api/devices/{other}", headers=ada.csrf).status_code == 204
    assert phone.get("/api/session").status_code == 401
    assert phone.post("/api/sync", json={"v": 1}, headers=_csrf(phone)).json()["error"] == "signed_out"
    assert ada.client.get("/api/session").status_code == 200


def test_nobody_revokes_another_persons_device(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    reply = bob.client.delete(f"/api/devices/{ada.device}", headers=bob.csrf)
    assert reply.status_code == 404
    assert ada.client.get("/api/session").status_code == 200


def test_sign_out_ends_the_session(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    assert ada.client.post("/api/signout", headers=ada.csrf).status_code == 204
    assert ada.client.get("/api/session").status_code == 401


def test_state_changes_need_the_csrf_header(workspace: Workspace) -> None:
    client = workspace.client()
    reply = client.post("/api/signup", json={"name": "Ada", "email": "ada@example.com", "password": PASSWORD})
    assert (reply.status_code, reply.json()["error"]) == (403, "csrf")
    assert client.get("/api/workspace").json()["needs_owner"] is True


def test_security_headers_are_on_every_answer(workspace: Workspace) -> None:
    client = workspace.client()
    for path in ("/api/workspace", "/api/nothing", "/"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "object-src 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
