"""schemathesis against the teen API's own OpenAPI schema, on the real app and a real database.

Requests for every operation of /openapi.json, valid and invalid, are sent about an unknown
conversation, or about a real one without a token, with another's or with its own, so the
handlers behind authorisation are reached too. No answer may be a server error,
and each must be what the schema declares: status, headers, content type and body.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, positive_data_acceptance
from schemathesis.python.asgi import shutdown_lifespans

from bot.app import create_app
from bot.conversation import flows
from bot.database import session_scope
from tests.app.conftest import make_settings

# The fuzzer is one client sending hundreds of requests: a flood by the app's own measure.
UNLIMITED = {
    "limit_client_requests": "1000000/minute",
    "limit_client_conversations": "1000000/minute",
    "limit_conversation_messages": "1000000/minute",
    "limit_comeback_failures": "1000000/minute",
}
EXAMPLES_PER_MODE = 300
# Checks that do not hold for an operation by design; every other check (the answer's status, headers
# and body matching the schema) still runs on it.
EXCLUDED_CHECKS = {
    # A message the schema allows may still be refused with 422 by rules no schema can state: a button
    # the bot did not offer, BOT_MAX_MESSAGE_CHARS (below the schema's ceiling), an image sent as data.
    ("POST", "/api/conversations/{conversation_id}/messages"): [positive_data_acceptance],
    # Readiness answers its declared 503 while Rasa is away, as it is in these tests.
    ("GET", "/readyz"): [not_a_server_error],
}
# A long poll waits as asked (up to 30 s) when nothing is new; the fuzzer keeps waits short to try more.
LONGEST_WAIT_SECONDS = 0.2


@pytest.fixture
def api_schema(database_url: str) -> Iterator[schemathesis.BaseSchema]:
    app = create_app(make_settings(database_url, **UNLIMITED))
    # Read from the app as a client reads it: /openapi.json is served in production too;
    # only the interactive /docs page is off unless BOT_API_DOCS=1.
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    # schemathesis starts the app's lifespan (dialogue worker, sweeper) on the first request.
    shutdown_lifespans()


def real_conversation(app) -> tuple[str, str]:
    services = app.state.services
    with session_scope(services.sessions) as session:
        return flows.start(content=services.content, session=session)


# Whose conversation a request about one is sent for: the generated id as it is (none), or a real
# conversation without a token, with another's, or with its own, so every answer behind
# authorisation is reached.
CALLERS = st.sampled_from(["unknown_conversation", "no_token", "wrong_token", "its_own_token"])


def send_as(case, caller: str) -> None:
    if caller == "unknown_conversation":
        return
    app = case.operation.app
    conversation_id, own_token = real_conversation(app)
    case.path_parameters["conversation_id"] = conversation_id
    if caller == "its_own_token":
        token = own_token
    elif caller == "wrong_token":
        token = real_conversation(app)[1]  # another conversation's
    else:
        token = None
    if token is not None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
    if isinstance((case.query or {}).get("wait"), int | float):
        case.query["wait"] = min(case.query["wait"], LONGEST_WAIT_SECONDS)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_answer_of_the_teen_api_is_what_its_schema_says(api_schema, mode: GenerationMode) -> None:
    @given(case=api_schema.as_strategy(mode), caller=CALLERS)
    @settings(max_examples=EXAMPLES_PER_MODE, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def answered_as_declared(case, caller: str) -> None:
        if "conversation_id" in (case.path_parameters or {}):
            send_as(case, caller)
        case.call_and_validate(
            excluded_checks=EXCLUDED_CHECKS.get((case.operation.method.upper(), case.operation.path), [])
        )

    answered_as_declared()
