"""Jinja2 with NHS.UK frontend's component macros; one render() for every page and fragment.

Responses vary by HX-Request (routes may answer htmx with a `_partial.html` that the full page also
includes) and by Cookie, for caches: the service worker's included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import (
    ChainableUndefined,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    pass_context,
)
from jinja2.runtime import Context
from starlette.responses import Response

from api.component_cache import remember_components
from schemas.enums import label
from schemas.timestamps import london_time

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
TEMPLATE_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
SERVICE_WORKER_DIR = WEB_DIR.parent / "service_worker"

_environment = Environment(
    loader=ChoiceLoader(
        [FileSystemLoader(TEMPLATE_DIR), PackageLoader("nhsuk_frontend_jinja", "templates")]
    ),
    undefined=ChainableUndefined,
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    # Templates ship with the code and change only with a deployment (a restart), like the
    # Python: no stat() of every template and macro file on each render (~100 a page).
    auto_reload=False,
)
#: NHS.UK component macros answer from memory for arguments seen before (api/component_cache.py).
component_cache = remember_components(_environment)
_environment.filters["label"] = label
_environment.filters["london"] = london_time


@pass_context
def static_url(context: Context, url: str) -> str:
    """The content-hashed URL of a file under /static/ or /sw/ (api/static_assets.py): the one
    way templates name a stylesheet, script or icon. Unchanged outside an app (no request)."""
    request = context.get("request")
    assets = getattr(request.app.state, "static_assets", None) if request is not None else None
    return assets.url(url) if assets is not None else url


_environment.globals["static_url"] = static_url
templates = Jinja2Templates(env=_environment)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    from api.auth.identity import page_context

    full_context = {**page_context(request), **(context or {})}
    response = templates.TemplateResponse(
        request, name, full_context, status_code=status_code, headers=headers
    )
    response.headers["Vary"] = "HX-Request, Cookie"
    anon = getattr(request.state, "new_anon_cookie", None)
    if anon is not None:
        from api.auth.identity import set_anon_cookie

        set_anon_cookie(response, anon)
    return response
