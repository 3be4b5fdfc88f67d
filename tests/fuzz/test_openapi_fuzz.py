"""Schema-driven fuzzing of every JSON endpoint from the server's own OpenAPI document.

schemathesis reads GET /api/schema/openapi.json and generates requests that fit each operation's
schema (positive) and requests that break it (negative); each is sent signed in, signed out, or
without the CSRF header. Every answer must:

- not be a 5xx;
- have a documented status and content type;
- match the documented schema for its status (the one error shape included).

POST /api/sync is in the document but takes raw JSON or MessagePack, so its bodies come from
test_sync_fuzz.py; here it only gets the query, header and cookie fuzzing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi import checks

from tests.fuzz.profiles import FUZZ, examples
from tests.fuzz.world import Device, World

#: Every operation of the API. A new endpoint fails test_the_document_lists_every_operation
#: until it is named here, and so it is fuzzed from the day it exists.
OPERATIONS = [
    ("POST", "/api/sync"),
    ("GET", "/api/workspace"),
    ("POST", "/api/signup"),
    ("POST", "/api/signin"),
    ("POST", "/api/signout"),
    ("GET", "/api/session"),
    ("GET", "/api/devices"),
    ("DELETE", "/api/devices/{device_id}"),
    ("POST", "/api/invites"),
    ("GET", "/api/admin/chain"),
    ("GET", "/api/admin/followers"),
    ("GET", "/api/search"),
    ("POST", "/api/history"),
    ("POST", "/api/history/bulk"),
    ("GET", "/api/messages/{message_id}/versions"),
    ("GET", "/api/push/key"),
    ("GET", "/api/push/subscriptions"),
    ("POST", "/api/push/subscriptions"),
    ("DELETE", "/api/push/subscriptions/{sub_id}"),
    ("GET", "/api/records/{collection}/{record_id}/versions"),
    ("POST", "/api/files/uploads"),
    ("HEAD", "/api/files/uploads/{upload_id}"),
    ("PATCH", "/api/files/uploads/{upload_id}"),
    ("DELETE", "/api/files/uploads/{upload_id}"),
    ("GET", "/api/files/search"),
    ("GET", "/api/files/{file_id}"),
    ("GET", "/api/files/{file_id}/preview"),
    ("GET", "/api/files/{file_id}/thumb/{size}"),
    ("GET", "/api/files/{file_id}/text"),
    ("GET", "/api/tasks/search"),
    ("POST", "/api/tasks/{task_id}/restore"),
    ("POST", "/api/calendar/feeds"),
    ("GET", "/api/calendar/feeds"),
    ("DELETE", "/api/calendar/feeds/{feed_id}"),
    ("GET", "/api/calendar/feed/{name}"),
    ("GET", "/api/calendar/events/{event_id}/ics"),
    ("POST", "/api/calendar/import"),
]
#: The operations a request can break the schema of (a body, or a typed or required query
#: parameter); the others take only path strings and cookies, which every value fits.
BREAKABLE = [
    ("POST", "/api/signup"),
    ("POST", "/api/signin"),
    ("POST", "/api/history"),
    ("POST", "/api/history/bulk"),
    ("GET", "/api/search"),
    ("POST", "/api/push/subscriptions"),
    ("GET", "/api/files/search"),
    ("GET", "/api/files/{file_id}"),
    ("GET", "/api/tasks/search"),
    ("POST", "/api/calendar/feeds"),
    ("POST", "/api/calendar/import"),
]
CHECKS = [
    schemathesis.checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


class Api:
    def __init__(self, world: World) -> None:
        self.world = world
        self.bob = world.join("Bob")
        self.bob.push(self.bob.mutation("messages", "01SCHEMA", {"channel": world.general, "text": "fuzz me"}))
        self.document: dict[str, Any] = world.owner.client.get("/api/schema/openapi.json").json()
        self.schema = schemathesis.openapi.from_dict(self.document)

    def send(self, who: Device | None, csrf: bool, case: Any) -> Any:
        """Send a generated case through the real app as a signed-in device or a stranger."""
        request = case.as_transport_kwargs(base_url="http://testserver.local")
        client = who.client if who is not None else self.world._client()
        headers = {k: str(v) for k, v in (request.get("headers") or {}).items() if k.lower() != "cookie"}
        if csrf:
            headers["x-csrftoken"] = client.cookies["csrftoken"]
        content: dict[str, Any] = {"json": request["json"]} if "json" in request else {}
        if "data" in request:
            content = {"content": request["data"]}
        return client.request(
            request["method"], request["url"], params=request.get("params"), headers=headers, **content
        )


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    state = Api(World.founded(tmp_path_factory.mktemp("openapi-fuzz")))
    yield state
    state.world.close()


def test_the_document_lists_every_operation(api: Api) -> None:
    listed = [(method.upper(), path) for path, item in api.document["paths"].items() for method in item]
    assert sorted(listed) == sorted(OPERATIONS)


def test_every_operation_documents_the_one_error_shape(api: Api) -> None:
    for method, path in OPERATIONS:
        responses = api.document["paths"][path][method.lower()]["responses"]
        for status in ("400", "401", "403", "404", "413", "429"):
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)


def test_the_breakable_operations_are_those_with_a_body_or_a_typed_query(api: Api) -> None:
    found = []
    for method, path in OPERATIONS:
        operation = api.document["paths"][path][method.lower()]
        query = [p for p in operation.get("parameters", []) if p["in"] == "query"]
        if "requestBody" in operation or any(p.get("required") or p["schema"].get("type") != "string" for p in query):
            found.append((method, path))
    assert sorted(found) == sorted(BREAKABLE)


CASES = [(m, p, GenerationMode.POSITIVE) for m, p in OPERATIONS]
CASES += [(m, p, GenerationMode.NEGATIVE) for m, p in BREAKABLE]


@pytest.mark.parametrize(("method", "path", "mode"), CASES, ids=[f"{m} {p} {mode}" for m, p, mode in CASES])
def test_every_endpoint_answers_as_documented(api: Api, method: str, path: str, mode: GenerationMode) -> None:
    operation = api.schema[path][method]

    @hsettings(FUZZ, max_examples=examples(12))
    @given(
        case=operation.as_strategy(generation_mode=mode), who=st.sampled_from(["bob", "stranger"]), csrf=st.booleans()
    )
    def run(case: Any, who: str, csrf: bool) -> None:
        if path == "/api/signout" and who == "bob":
            device: Device | None = api.world.second_device(api.bob)  # sign out a throwaway session
        else:
            device = api.bob if who == "bob" else None
        case.validate_response(api.send(device, csrf, case), checks=CHECKS)

    run()
