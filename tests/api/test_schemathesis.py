"""The API against its own OpenAPI description (catalogue 28): schemathesis generates requests
from the document served by the app, with a valid write token of contract A, and checks every
answer: no 5xx, a documented status, content type and headers, a body matching the schema
exactly (closed objects: no key the description does not list)."""

import contextvars
import time
from datetime import date

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import func, select

from app.difficulties.deadlines import today_in_paris
from app.extensions import db
from app.indicators.models import Measurement

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]  # fmt: skip
EXAMPLES = 60  # per operation and per uid: about 400 requests, about 10 s


@pytest.fixture
def app_config():
    return {"RATELIMIT_API": "100000/minute"}  # the limit itself is tested elsewhere


def with_start(pair):
    case, start = pair
    if isinstance(case.body, dict):
        case.body = {**case.body, "period_start": start}
    return case


def last_years_quarters() -> list[date]:
    year = today_in_paris().year - 1
    return [date(year, month, 1) for month in (1, 4, 7, 10)]


class Isolated:
    """Each request in its own context, as in production (see tests/conftest.IsolatedClient)."""

    def __init__(self, app, cookie: str = ""):
        self.app, self.cookie = app, cookie

    def __call__(self, environ, start_response):
        if self.cookie:  # werkzeug's test client puts its own (empty) cookie jar in the header
            environ["HTTP_COOKIE"] = self.cookie
        return contextvars.Context().run(self.app, environ, start_response)


def test_the_api_keeps_to_its_openapi_description(app, world, indicator, issue, log_in, client):
    secret = issue()
    log_in(world.supplier_lead)  # the description is for logged-in integrators
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    uid = indicator.uid
    db.session.commit()  # the test's transaction would hold SQLite's write lock
    logged_in = Isolated(app, f"{app.config['SESSION_COOKIE_NAME']}={cookie}")
    schema = contextvars.Context().run(
        schemathesis.openapi.from_wsgi, "/api/v1/openapi.json", logged_in
    )
    schema.app = Isolated(app)  # the API calls themselves carry no cookie, only the token
    operations = [result.ok() for result in schema.get_all_operations()]
    assert sorted(op.label for op in operations) == [
        "GET /contrat",
        "GET /indicateurs",
        "GET /indicateurs/{uid}/valeurs",
        "POST /indicateurs/{uid}/valeurs",
    ]
    calls, statuses = [], {}

    def run(operation, path_parameters, starts=()):
        strategy = operation.as_strategy(path_parameters=path_parameters)
        if starts:  # real period starts, so that values get written, corrected, refused
            strategy = st.tuples(strategy, st.sampled_from(starts)).map(with_start)

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.generate])  # fmt: skip
        @given(case=strategy)
        def check(case):
            response = case.call_and_validate(
                headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS
            )
            calls.append(case)
            status = response.status_code
            if response.headers.get("idempotent-replayed"):
                status = f"{status} rejouée"
            statuses[status] = statuses.get(status, 0) + 1

        contextvars.Context().run(check)

    started = time.monotonic()
    for operation in operations:
        run(operation, None)
        if "{uid}" in operation.path:  # also the real indicator, not only random uids
            run(operation, {"uid": uid})
        if operation.method.upper() == "POST":
            run(operation, {"uid": uid}, starts=[q.isoformat() for q in last_years_quarters()])
    elapsed = time.monotonic() - started
    print(f"schemathesis: {len(calls)} requests in {elapsed:.1f} s, statuses {sorted(statuses.items(), key=str)}")  # fmt: skip
    assert len(calls) >= 100
    assert {200, 201, 404, 422} <= set(statuses)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Measurement.id))) == statuses[201]
