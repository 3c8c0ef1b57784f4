"""schemathesis against ``/api/v1/openapi.json``, in-process: every operation, bounded and
deterministic examples (positive and negative data), with a token of a role the operation is for
(sometimes another role, or none) and now and then the id of a real object; no answer may be a 5xx,
and every answer must match the documented status codes, content types and response schemas.

Bounded for CI: ``MAX_EXAMPLES`` per operation (derandomized), the explicit-examples, coverage and
fuzzing phases only (no stateful runs)."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import build_world

MAX_EXAMPLES = 25
# Not ``negative_data_rejection``: the test replaces the generated token and, often, the generated id with
# real ones (so that most requests get past authentication and reach a real object), which would make
# a deliberately broken request valid again; and unknown query parameters are ignored, not refused.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]

# Which ids of the world a path parameter may take (besides the generated value).
ID_SOURCES = {
    "solution_id": ("sol_draft", "sol_submitted", "sol_screening", "sol_listed", "sol_rejected", "sol_delisted"),
    "application_id": ("app_draft", "app_submitted", "app_approved", "loan_draft", "loan_submitted", "robot_draft",
                       "robot_submitted"),
    "programme_id": ("programme",),
    "enterprise_id": ("ent_a", "ent_b"),
    "token_id": ("sme_token",),
    "file_id": ("loan_file", "robot_file"),
    "trial_id": ("trial_open", "trial_running", "trial_completed", "trial_assigned", "trial_cleared",
                 "trial_evaluated"),
    "milestone_id": ("trial_milestone",),
    "assignment_id": ("trial_assigned_assignment", "trial_cleared_assignment"),
    "evaluation_id": ("evaluation",),
    "document_id": ("document",),
    "job_id": ("job",),
    "park_id": ("park_a", "park_b"),
    "candidate_id": ("candidate",),
    "source_id": ("benefit_source",),
}


@pytest.fixture(scope="session")
def api_schema(app):
    """The OpenAPI document, served by the app; each request runs in a fresh app context (as in
    production: a fresh ``g`` and database session), like the tests' ``IsolatedClient``."""

    def isolated(environ, start_response):
        with app.app_context():
            return app.wsgi_app(environ, start_response)

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", isolated)
    schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


_current: dict = {}


def world_for(label: str, client):
    """One fresh world per operation: schemathesis runs every operation inside the one test (and its one
    database transaction), so each operation's world lives in a savepoint rolled back before the next."""
    from voucher.extensions import db

    if _current.get("label") != label:
        if _current.get("savepoint") is not None and _current["savepoint"].is_active:
            _current["savepoint"].rollback()
        db.session.expunge_all()
        _current.update(label=label, savepoint=db.session.begin_nested(), world=build_world(client))
    return _current["world"]


@pytest.fixture()
def fresh_worlds(client, db_conn, dossier_builder):
    _current.clear()
    yield client
    _current.clear()


@schema.parametrize()
@schema.given(data=st.data())
@settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_the_api_matches_its_openapi_document(case, data, fresh_worlds):
    world = world_for(case.operation.label, fresh_worlds)
    roles = list(case.operation.definition.raw.get("x-roles") or [])
    pool = roles + ["anon", "sme", "admin"] if roles else ["anon", "officer"]
    role = data.draw(st.sampled_from(pool), label="role")
    token = world.apis[role].token
    headers = dict(case.headers or {})
    headers.pop("Authorization", None)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    case.headers = headers
    for name, keys in ID_SOURCES.items():
        if case.path_parameters and name in case.path_parameters:
            choice = data.draw(st.sampled_from([None, *keys]), label=name)
            if choice is not None:
                case.path_parameters[name] = world.ids[choice]
    case.call_and_validate(checks=CHECKS)
