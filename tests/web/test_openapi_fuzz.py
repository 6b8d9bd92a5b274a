"""The API fuzzed from its own OpenAPI schema (schemathesis), over real HTTP
on SQLite and PostgreSQL, as the city administrator (session cookie and
X-CSRF-Token) and anonymously: no generated input, valid or invalid, may
get a 5xx; answers keep to the media types, response schemas and status
codes the schema documents (the statuses in ``BY_DESIGN`` aside), and every
API error comes in envwatch's error envelope. Deterministic (derandomized)
and bounded; a body that is not text (an exported XLSX) is shown decoded
with replacements, and each failure names the operation and the request."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from schemathesis.core.result import Ok
from sqlalchemy import Engine, select

from envwatch.demo.seed import DEMO_PASSWORD
from envwatch.store.schema import AppUser
from envwatch.web.people import CSRF_HEADER, SESSION_COOKIE
from tests.electricity.test_http_batch import base_url
from tests.web.test_pages_and_api import alerts

__all__ = ["alerts", "base_url"]

# Examples per operation, valid and invalid inputs drawn alike: most anonymous
# requests end at the 401, so fewer of them tell as much.
EXAMPLES: Final = {"admin": 10, "anonymous": 4}
# Never fuzzed: the event stream never ends (the matrix opens it); ending the
# administrator's session would leave the rest of the run anonymous.
SKIPPED: Final = {("GET", "/api/v1/alerts/stream")}
SKIPPED_AS_ADMIN: Final = {("DELETE", "/api/v1/session"), ("POST", "/logout")}
# Whose account the user operations fuzz: another's than the administrator's,
# whose session a password reset or a deactivation would end.
FUZZED_ACCOUNT: Final = "viewer"
# Statuses the app answers by design that FastAPI's schema does not list (it
# documents 200 or 201 and 422 only): the error envelope's, and the pages'
# redirects (to the login, or after a form). Not held to the documented codes;
# every API error must come in the envelope instead.
BY_DESIGN: Final = frozenset({303, 400, 401, 403, 404, 405, 409, 413, 415, 423})


@dataclass
class Findings:
    server_errors: list[str] = field(default_factory=list)
    nonconforming: list[str] = field(default_factory=list)
    answered: dict[int, int] = field(default_factory=dict)


def admin_headers(base_url: str) -> dict[str, str]:
    response = httpx.post(f"{base_url}/api/v1/session",
                          json={"username": "admin", "password": DEMO_PASSWORD})  # fmt: skip
    assert response.status_code == 200, response.text
    token = response.cookies[SESSION_COOKIE]
    return {"Cookie": f"{SESSION_COOKIE}={token}", CSRF_HEADER: response.json()["csrf"]}


def snippet(response: Any, size: int) -> str:
    """The start of a response's body as text (an exported XLSX file too)."""
    return bytes(response.content[:size]).decode("utf-8", "replace")


def in_envelope(response: Any) -> bool:
    """Whether an error answer is envwatch's ``{"error": {"code", "message", "message_zh"}}``."""
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return False
    return isinstance(error, dict) and {"code", "message", "message_zh"} <= set(error)


def fuzz(
    operation: Any,
    base_url: str,
    headers: dict[str, str],
    findings: Findings,
    *,
    examples: int,
    fixed: dict[str, Any],
) -> None:
    label = f"{operation.method.upper()} {operation.path}"
    status_conformance = schemathesis.checks.status_code_conformance
    checks = [schemathesis.checks.content_type_conformance,
              schemathesis.checks.response_schema_conformance]  # fmt: skip
    pinned = {name: value for name, value in fixed.items() if "{" + name + "}" in operation.path}
    strategy = st.one_of(
        operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE,
                              path_parameters=pinned or None),
        operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE,
                              path_parameters=pinned or None),
    )  # fmt: skip

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=strategy)
    def run(case: schemathesis.Case[Any]) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=60, allow_redirects=False)
        status = response.status_code
        findings.answered[status] = findings.answered.get(status, 0) + 1
        if status >= 500:
            findings.server_errors.append(
                f"{label} -> {status}\n{case.as_curl_command(headers=headers)}\n"
                f"{snippet(response, 2000)}"
            )
            return
        wanted = [*checks] if status in BY_DESIGN else [*checks, status_conformance]
        if status >= 400 and operation.path.startswith("/api/") and not in_envelope(response):
            findings.nonconforming.append(f"{label} -> {status} outside the error envelope: "
                                          f"{snippet(response, 200)}")  # fmt: skip
        try:
            case.validate_response(response, checks=wanted, headers=headers)
        except schemathesis.errors.FailureGroup as group:
            findings.nonconforming += [
                f"{label} -> {status}: {f.title}: {snippet(response, 300)}"
                for f in group.exceptions
            ]
        except AssertionError as failure:
            findings.nonconforming.append(f"{label} -> {status}: {failure}".splitlines()[0])

    run()


@pytest.mark.parametrize("who", ["admin", "anonymous"])
def test_no_generated_request_gets_a_server_error(
    who: str, base_url: str, engine: Engine, alerts: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    headers = admin_headers(base_url) if who == "admin" else {}
    skipped = SKIPPED | (SKIPPED_AS_ADMIN if who == "admin" else set())
    findings = Findings()
    with engine.connect() as connection:
        account = connection.execute(
            select(AppUser.id).where(AppUser.username == FUZZED_ACCOUNT)
        ).scalar_one()
    fixed = {"user_id": account} if who == "admin" else {}
    operations = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"an operation schemathesis cannot read: {result}"
        operation = result.ok()
        if (operation.method.upper(), operation.path) in skipped:
            continue
        operations += 1
        fuzz(operation, base_url, headers, findings, examples=EXAMPLES[who], fixed=fixed)
    assert operations >= 15
    assert not findings.server_errors, "5xx answers:\n\n" + "\n\n".join(findings.server_errors)
    assert not findings.nonconforming, "\n".join(sorted(set(findings.nonconforming)))
    if who == "admin":
        # The run was the administrator's all along: the session still stands.
        assert httpx.get(f"{base_url}/api/v1/audit", headers=headers).status_code == 200
        assert sum(n for status, n in findings.answered.items() if status == 200) > 0
    else:
        assert findings.answered.get(401, 0) > 0


# Beyond what the databases hold: INTEGER (32 bits on PostgreSQL), 64 bits
# (SQLite, PostgreSQL's BIGINT and OFFSET); a NUL (PostgreSQL's text holds
# none) and a long text.
HOSTILE_INTEGERS: Final = (2**31, 2**63)
HOSTILE_TEXTS: Final = ("\x00", "x" * 5000)


def hostile_values(definition: dict[str, Any]) -> tuple[Any, ...]:
    """The hostile values for a parameter of this definition (by its types)."""
    types = json.dumps(definition.get("schema", {}))
    return (HOSTILE_INTEGERS if '"integer"' in types else ()) + (
        HOSTILE_TEXTS if '"string"' in types else ()
    )


def with_one(operation: Any, location: str, fixed: dict[str, Any]) -> Any:
    """A valid request of ``operation`` but for the ``fixed`` parameters (the
    simplest one Hypothesis finds, the same every run)."""
    where = "path_parameters" if location == "path" else "query"
    strategy = operation.as_strategy(
        generation_mode=schemathesis.GenerationMode.POSITIVE, **{where: fixed}
    )
    return find(strategy, lambda _: True, settings=settings(
        database=None, derandomize=True, phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck)))  # fmt: skip


def test_hostile_parameters_get_no_server_error(
    base_url: str, engine: Engine, alerts: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    """Every path and query parameter of every operation, one at a time, at
    each hostile value of its type, as the administrator: never a 5xx."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    headers = admin_headers(base_url)
    errors: list[str] = []
    asked = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"an operation schemathesis cannot read: {result}"
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED | SKIPPED_AS_ADMIN:
            continue
        if "{user_id}" in operation.path:  # another account than the administrator's
            continue
        for parameter in operation.iter_parameters():
            location = str(parameter.location.value)
            if location not in {"path", "query"}:
                continue
            for value in hostile_values(parameter.definition):
                case = with_one(operation, location, {parameter.name: value})
                response = case.call(base_url=base_url, headers=headers, timeout=60,
                                     allow_redirects=False)  # fmt: skip
                asked += 1
                if response.status_code >= 500:
                    errors.append(f"{operation.method.upper()} {operation.path} with "
                                  f"{location} {parameter.name}={str(value)[:20]!r} -> "
                                  f"{response.status_code}\n{case.as_curl_command()}")  # fmt: skip
    assert asked >= 50
    assert not errors, "5xx answers:\n\n" + "\n\n".join(errors)
    assert httpx.get(f"{base_url}/api/v1/audit", headers=headers).status_code == 200


def body_properties(schema: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    """The top-level properties of an operation's JSON body, by name."""
    body = schema["paths"][path][method].get("requestBody", {})
    model = body.get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in model:
        model = schema["components"]["schemas"][model["$ref"].rsplit("/", 1)[-1]]
    properties: dict[str, Any] = model.get("properties", {})
    return properties


def hostile_fields(definition: dict[str, Any]) -> tuple[Any, ...]:
    """Hostile values for a body field of this definition (lists of integers too)."""
    if definition.get("type") == "array" and '"integer"' in json.dumps(definition.get("items")):
        return tuple([value] for value in HOSTILE_INTEGERS)
    return hostile_values({"schema": definition})


# Bodies that get past the workflow to the write, where the simplest valid one
# (an unknown action) would be refused before any text is stored.
BASE_BODIES: Final = {
    ("POST", "/api/v1/alerts/{alert_id}/actions"): {"action": "comment", "note": "probe"},
}


def test_hostile_body_fields_get_no_server_error(
    base_url: str, engine: Engine, alerts: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    """Every top-level field of every JSON body, one at a time, at each hostile
    value of its type, in an otherwise valid request on existing objects (alert
    1, enterprise 1, its point), as the administrator: never a 5xx."""
    raw = httpx.get(f"{base_url}/openapi.json").json()
    schema = schemathesis.openapi.from_dict(raw)
    headers = admin_headers(base_url)
    objects = {"alert_id": 1, "enterprise_id": 1, "mn": alerts[0]["mn"]}
    errors: list[str] = []
    asked = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"an operation schemathesis cannot read: {result}"
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        if (operation.method.upper(), operation.path) in SKIPPED | SKIPPED_AS_ADMIN:
            continue
        if "{user_id}" in operation.path:  # another account than the administrator's
            continue
        pinned = {name: key for name, key in objects.items() if "{" + name + "}" in operation.path}
        properties = body_properties(raw, operation.path, operation.method.lower())
        if not properties:
            continue
        base = BASE_BODIES.get((operation.method.upper(), operation.path))
        if base is None:
            valid = with_one(operation, "path", pinned).body
            base = valid if isinstance(valid, dict) else {}
        for name, definition in properties.items():
            for value in hostile_fields(definition):
                body = {**base, name: value}
                case = find(
                    operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE,
                                          path_parameters=pinned or None, body=body),
                    lambda _: True,
                    settings=settings(database=None, derandomize=True,
                                      phases=[Phase.generate, Phase.shrink],
                                      suppress_health_check=list(HealthCheck)),
                )  # fmt: skip
                response = case.call(base_url=base_url, headers=headers, timeout=60,
                                     allow_redirects=False)  # fmt: skip
                asked += 1
                if response.status_code >= 500:
                    errors.append(f"{label} with body {name}={str(value)[:20]!r} -> "
                                  f"{response.status_code}\n{case.as_curl_command()}")  # fmt: skip
    assert asked >= 20
    assert not errors, "5xx answers:\n\n" + "\n\n".join(errors)
    assert httpx.get(f"{base_url}/api/v1/audit", headers=headers).status_code == 200


# The pages' forms (not in the schema: they read the posted form themselves),
# each with a hostile text where a valid request has a text.
FORMS: Final = (
    ("/login", {"username": "\x00", "password": "x"}),
    ("/alerts/1/act", {"action": "comment", "note": "\x00"}),
    ("/cases", {"alert_id": "2", "kind": "\x00"}),
    ("/cases/{case}/record", {"findings": "\x00", "legal_basis": "x" * 5000}),
    ("/users", {"username": "probe", "display_name": "\x00", "role": "viewer"}),
    ("/users/{viewer}", {"action": "\x00"}),
    (
        "/account/password",
        {"current": "\x00", "new": "probe-password", "confirm": "probe-password"},
    ),
)


def test_hostile_form_fields_get_no_server_error(
    base_url: str, engine: Engine, alerts: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    """The pages' forms with a NUL or a long text, as the administrator: never a 5xx."""
    headers = admin_headers(base_url)
    opened = httpx.post(f"{base_url}/api/v1/cases", json={"alert_ids": [1]}, headers=headers)
    assert opened.status_code == 201, opened.text
    with engine.connect() as connection:
        viewer = connection.execute(
            select(AppUser.id).where(AppUser.username == FUZZED_ACCOUNT)
        ).scalar_one()
    keys = {"case": str(opened.json()["id"]), "viewer": str(viewer)}
    errors: list[str] = []
    for path, fields in FORMS:
        url = base_url + path.format(**keys)
        response = httpx.post(url, data={**fields, "csrf": headers[CSRF_HEADER]},
                              headers={"Cookie": headers["Cookie"]})  # fmt: skip
        if response.status_code >= 500:
            errors.append(f"POST {path} {fields!r} -> {response.status_code}")
    assert not errors, "5xx answers:\n" + "\n".join(errors)
    assert httpx.get(f"{base_url}/api/v1/audit", headers=headers).status_code == 200
