"""Write routes answered in one hand-over to a worker thread: the phone's sync batch and the single
creates (`POST /api/v1/sync`, `/api/v1/ideas`, `/api/v1/handovers`), the requests a phone sends most.

FastAPI runs each `def` dependency, the entry and the exit of the session dependency, and the `def`
route each in a thread of their own: four hand-overs a request, with the event loop, the thread
pool and their wake-ups between them, which cost more CPU than the sign-in check they carried
(issue 16, docs/performance.md "Third pass"). A route declared with `OneHopRoute` is declared as
any other (the same signature, the same dependencies, so the same OpenAPI description), but its
handler reads the body on the event loop as FastAPI does, takes the database place, and then runs
the request's transaction, the sign-in and CSRF check (`identify`), the role rule, the body's
validation and the route itself in ONE worker thread, in FastAPI's order, calling the same rule
functions: every refusal is the same answer (tests/api/test_one_hop.py compares each with
FastAPI's own handler byte for byte).

Only dependencies it knows how to run are allowed (`KNOWN`); a route with any other dependency or
parameter, or an app with dependency overrides in force (FastAPI's testing hook), gets FastAPI's
own handler, so nothing declared is ever skipped."""

from __future__ import annotations

import email.message
import inspect
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from fastapi import params
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute, APIRouter
from pydantic.fields import FieldInfo
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY
from starlette.requests import Request
from starlette.responses import Response

from api.auth.identity import (
    current_user,
    identify,
    signed_in,
    signed_in_user,
    staff,
    submitted_csrf,
)
from api.db import database_place, database_slot, get_session, request_transaction
from schemas.accounts import User

try:  # FastAPI's own names for what it does with a body; private, pinned by uv.lock.
    from fastapi._body_limit import get_body_limit_error
    from fastapi._compat import Undefined
    from fastapi._compat.v2 import get_missing_field_error
    from fastapi.routing import _effective_route_context_var
except ImportError as missing:  # pragma: no cover - a FastAPI upgrade that moved them
    raise ImportError(f"api/one_hop.py needs FastAPI's internals: {missing}") from missing

_F = TypeVar("_F", bound=Callable[..., Any])

# The dependencies a one-hop handler runs itself, each with the rule it calls.
KNOWN = frozenset(
    {identify, submitted_csrf, get_session, database_slot, signed_in_user, current_user}
)
_USER_RULES: dict[Callable[..., Any], Callable[[Any], User]] = {
    signed_in_user: signed_in,
    current_user: lambda identity: staff(signed_in(identity)),
}


@dataclass(frozen=True)
class _Plan:
    """What a route's declaration asks for, as the one-hop handler runs it."""

    endpoint: Callable[..., Any]
    body_name: str
    body_field: Any
    user_name: str | None
    user_rule: Callable[[Any], User] | None
    session_name: str | None
    strict_content_type: bool

    @classmethod
    def of(cls, route: Any) -> _Plan | None:
        """None when the route asks for anything this handler does not run itself."""
        dependant: Dependant | None = route.dependant
        if dependant is None or route._embed_body_fields or len(dependant.body_params) != 1:
            return None
        if (
            dependant.path_params
            or dependant.query_params
            or dependant.header_params
            or dependant.cookie_params
            or dependant.request_param_name
            or dependant.websocket_param_name
            or dependant.http_connection_param_name
            or dependant.response_param_name
            or dependant.background_tasks_param_name
            or dependant.security_scopes_param_name
        ):
            return None
        if route.endpoint is None or _is_coroutine(route.endpoint) or not _only_known(dependant):
            return None
        calls = [d.call for d in dependant.dependencies]
        # Sign-in and CSRF run for every one of these routes: declared by the router's inclusion.
        if identify not in calls and not any(c in _USER_RULES for c in calls):
            return None
        user_name = session_name = None
        user_rule = None
        for sub in dependant.dependencies:
            if sub.call in _USER_RULES and sub.name:
                user_name, user_rule = sub.name, _USER_RULES[sub.call]
            elif sub.call is get_session and sub.name:
                session_name = sub.name
        strict = route.strict_content_type
        body_field = dependant.body_params[0]
        if not isinstance(body_field.field_info, FieldInfo) or _is_form(body_field):
            return None
        return cls(
            endpoint=route.endpoint,
            body_name=body_field.name,
            body_field=body_field,
            user_name=user_name,
            user_rule=user_rule,
            session_name=session_name,
            strict_content_type=bool(getattr(strict, "value", strict)),
        )

    def run(self, request: Request, csrf_token: str | None, body: Any) -> Any:
        """In the worker thread, in FastAPI's order: the transaction (committed when the route
        returns, rolled back when anything raises), sign-in and CSRF, the role rule, the body's
        field errors, the route."""
        with request_transaction(request) as session:
            identity = identify(request, csrf_token, session)
            arguments: dict[str, Any] = {}
            if self.user_rule is not None and self.user_name is not None:
                arguments[self.user_name] = self.user_rule(identity)
            if body is Undefined:
                value, errors = None, [get_missing_field_error(loc=("body",))]
            else:
                value, errors = self.body_field.validate(body, {}, loc=("body",))
            if errors:
                raise RequestValidationError(errors, body=None if body is Undefined else body)
            arguments[self.body_name] = value
            if self.session_name is not None:
                arguments[self.session_name] = session
            return self.endpoint(**arguments)


def _is_coroutine(function: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(function)


def _is_form(field: Any) -> bool:
    return isinstance(field.field_info, params.Form)


def _only_known(dependant: Dependant) -> bool:
    return all(
        sub.call in KNOWN
        and sub.concurrency is None
        and not sub.own_oauth_scopes
        and _only_known(sub)
        for sub in dependant.dependencies
    )


@lru_cache(maxsize=64)
def _is_json_type(content_type: str) -> bool:
    """FastAPI's test of a Content-Type for JSON (application/json or application/*+json)."""
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


async def read_body(request: Request, strict_content_type: bool) -> Any:
    """The body as FastAPI's request handler reads it for a JSON body parameter: the parsed JSON
    when the Content-Type says JSON (or is absent and not strict), else the bytes; Undefined when
    empty; malformed JSON refused with the same 422, anything else unreadable with the same 400."""
    try:
        body: Any = Undefined
        body_bytes = await request.body()
        if body_bytes:
            json_body: Any = Undefined
            content_type = request.headers.get("content-type")
            if not content_type:
                if not strict_content_type:
                    json_body = await request.json()
            elif _is_json_type(content_type):
                json_body = await request.json()
            body = json_body if json_body is not Undefined else body_bytes
        return body
    except json.JSONDecodeError as e:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body", e.pos),
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": e.msg},
                }
            ],
            body=e.doc,
        ) from e
    except HTTPException:
        raise
    except Exception as e:
        if MAX_BODY_SIZE_SCOPE_KEY in request.scope and (error := get_body_limit_error(e)):
            raise error from e
        raise HTTPException(status_code=400, detail="There was an error parsing the body") from e


class OneHopRoute(APIRoute):
    """An APIRoute whose handler runs in one worker-thread hand-over (the module's docstring)."""

    one_hop: bool = False

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        standard = super().get_route_handler()
        context = _effective_route_context_var.get()
        route: Any = self if context is None or context.original_route is not self else context
        plan = _Plan.of(route)
        if plan is None:
            return standard
        route.one_hop = True
        overrides = route.dependency_overrides_provider

        async def handler(request: Request) -> Response:
            if overrides is not None and getattr(overrides, "dependency_overrides", None):
                # FastAPI's testing hook: its own handler applies the overrides.
                return await standard(request)
            body = await read_body(request, plan.strict_content_type)
            csrf_token = await submitted_csrf(request)
            async with database_place():
                response: Response = await run_in_threadpool(plan.run, request, csrf_token, body)
            return response

        return handler


def post_in_one_hop(router: APIRouter, path: str, **options: Any) -> Callable[[_F], _F]:
    """`@router.post(path, **options)` for a route run in one hand-over (a router of other routes)."""

    def decorate(endpoint: _F) -> _F:
        router.add_api_route(
            path, endpoint, methods=["POST"], route_class_override=OneHopRoute, **options
        )
        return endpoint

    return decorate
