"""create_app(): settings, middleware, routers, templates, static files."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import Scope

from api.admin import routes as admin_routes
from api.auth import new_password as new_password_routes
from api.auth import routes as auth_routes
from api.auth import sso_routes
from api.auth.identity import IdentityDep, identify
from api.config import Settings, get_settings
from api.errors import NotSignedIn, error_responses, install_error_handlers
from api.exports import routes as export_routes
from api.handovers import routes as handover_routes
from api.huddle import routes as huddle_routes
from api.ideas import routes as idea_routes
from api.learning import routes as learning_routes
from api.log_format import configure_logging
from api.measures import routes as measure_routes
from api.operations import metrics, runtime
from api.pages import routes as page_routes
from api.partnership import routes as partnership_routes
from api.pdsa import routes as pdsa_routes
from api.push import routes as push_routes
from api.readiness import routes as readiness_routes
from api.reference import routes as reference_routes
from api.security.headers import CatchAll, CompressStatic, SecurityHeaders, WholeBody
from api.static_assets import (
    NEVER_HASHED,
    REVALIDATE,
    StaticAssets,
    asset_response,
    split_hashed,
)
from api.sync import routes as sync_routes
from api.templating import SERVICE_WORKER_DIR, STATIC_DIR, render
from api.triage import handover_pages
from api.triage import routes as triage_routes
from schemas.field_errors import FieldError


def warn_if_signup_has_no_mail(settings: Settings) -> None:
    """Domains without a mail server: sign-up stays off (no address could be confirmed); say so."""
    if settings.signup_domains and not settings.smtp_host:
        logging.getLogger("frontline.auth").warning(
            "self sign-up is off: FRONTLINE_ALLOWED_SIGNUP_DOMAINS is set but FRONTLINE_SMTP_HOST "
            "is not, and addresses are confirmed by email",
            extra={"event": "signup_off_no_smtp"},
        )


def create_app() -> FastAPI:
    """The app for the settings of this process (get_settings(): one source of truth)."""
    settings = get_settings()
    configure_logging()
    warn_if_signup_has_no_mail(settings)
    app = FastAPI(
        title="Frontline",
        version="0.1.0",
        summary="Offline-first quality improvement capture for NHS staff",
        lifespan=runtime.lifespan,  # settled for serving; VAPID keys, push delivery in process
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    install_error_handlers(app)
    # Added innermost first: CatchAll and WholeBody answer inside SecurityHeaders.
    app.add_middleware(CatchAll)
    app.add_middleware(WholeBody, settings=settings)
    app.add_middleware(CompressStatic)
    app.add_middleware(SecurityHeaders, settings=settings)
    app.add_middleware(metrics.RequestMetrics)  # outermost: times everything, 500s included

    for router in (
        # First the routes a phone sends most (matched in order: a sync batch no longer tests
        # three dozen routes before its own; no other route matches their paths, issue 16).
        sync_routes.router,
        idea_routes.api_router,
        handover_routes.api_router,
        auth_routes.router,
        page_routes.router,
        idea_routes.page_router,
        handover_routes.page_router,
        reference_routes.router,
        triage_routes.router,
        handover_pages.router,
        admin_routes.router,
        export_routes.router,
        pdsa_routes.router,
        push_routes.router,
        measure_routes.api_router,
        measure_routes.page_router,
        sso_routes.router,
        huddle_routes.api_router,
        huddle_routes.page_router,
        learning_routes.api_router,
        learning_routes.page_router,
        readiness_routes.api_router,
        readiness_routes.page_router,
        new_password_routes.router,
        partnership_routes.api_router,
        partnership_routes.page_router,
    ):
        # Every route but the health check knows who is asking and checks CSRF on unsafe methods;
        # every API route needs a session, and finding it needs the database.
        app.include_router(
            router, dependencies=[Depends(identify)], responses=error_responses(401, 503)
        )
    app.include_router(reference_routes.public_router)
    app.include_router(page_routes.public_router)
    app.include_router(metrics.router)  # its own access rule: a token and/or addresses

    # Every static file also at a URL naming its content, sent immutable (api/static_assets.py).
    assets = StaticAssets(
        {"/static/": [MINIFIED_DIR, STATIC_DIR], "/sw/": [MINIFIED_DIR / "sw", SERVICE_WORKER_DIR]}
    )
    app.state.static_assets = assets
    app.mount(
        "/static",
        MinifiedFirst(
            directory=STATIC_DIR, minified=MINIFIED_DIR, assets=assets, prefix="/static/"
        ),
        name="static",
    )
    # The service worker's modules, also loaded by pages (one copy of the outbox logic).
    app.mount(
        "/sw",
        MinifiedFirst(
            directory=SERVICE_WORKER_DIR, minified=MINIFIED_DIR / "sw", assets=assets, prefix="/sw/"
        ),
        name="service-worker-modules",
    )

    @app.get("/sw.js", include_in_schema=False)
    def service_worker(request: Request) -> Response:
        # no-cache, never a hashed URL: the browser must revalidate so a new version is found
        # (its importScripts name hashed files, so any change to them changes these bytes).
        worker = assets.asset("/sw/sw.js")
        if worker is None:
            raise LookupError("service_worker/sw.js is missing")
        response = asset_response(worker, request.headers, hashed=False)
        response.headers["Service-Worker-Allowed"] = "/"
        return response

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(identify)])
    def openapi(identity: IdentityDep) -> JSONResponse:
        """The API description: for signed-in users, and anyone in development."""
        if identity.user is None and settings.is_production:
            raise NotSignedIn()
        return JSONResponse(_schema(app))

    @app.get("/docs", include_in_schema=False, dependencies=[Depends(identify)])
    def api_docs(request: Request, identity: IdentityDep) -> Response:
        """Swagger UI (vendored) over /openapi.json: for signed-in users, and anyone in development."""
        if identity.user is None and settings.is_production:
            raise NotSignedIn()
        return render(request, "api_docs.html")

    @app.get("/manifest.webmanifest", include_in_schema=False)
    def manifest() -> FileResponse:
        return FileResponse(
            STATIC_DIR / "manifest.webmanifest", media_type="application/manifest+json"
        )

    return app


#: Our own scripts minified by scripts/build_min_js.mjs (the pinned esbuild), committed: served
#: in place of the files as written, which keep their comments (half the bytes gzipped, issue 16).
MINIFIED_DIR = STATIC_DIR / "min"


class MinifiedFirst(StaticFiles):
    """Static files, a script's minified copy (`minified`/<same path>) in place of it if built;
    each also at its content-hashed URL (immutable), the plain URL revalidated (`no-cache`)."""

    def __init__(
        self, *, directory: Path, minified: Path, assets: StaticAssets, prefix: str, **kwargs: Any
    ) -> None:
        self.minified = minified
        self.assets = assets
        self.prefix = prefix
        super().__init__(directory=directory, **kwargs)

    def get_directories(self, directory: Any = None, packages: Any = None) -> list[Any]:
        # Looked up in order: the minified copies first, then the files as written.
        return [self.minified, *super().get_directories(directory, packages)]

    async def get_response(self, path: str, scope: Scope) -> Response:
        if scope["method"] in ("GET", "HEAD"):
            # Reading and hashing files: off the event loop, as StaticFiles does its look-ups.
            answer = await anyio.to_thread.run_sync(self._asset_answer, path, Headers(scope=scope))
            if answer is not None:
                return answer
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            # Plain URLs (old page copies, old workers) are always checked: never a stale file.
            response.headers["Cache-Control"] = REVALIDATE
        return response

    def _asset_answer(self, path: str, request_headers: Headers) -> Response | None:
        """A hashed URL's answer, or a plain URL's when the file's references are rewritten;
        None for StaticFiles to answer (a plain file as is, or no such file)."""
        url, digest = split_hashed(self.prefix + path)
        if url in NEVER_HASHED:
            return None
        # A hashed URL is checked against the files now: it is kept for a year.
        asset = self.assets.asset(url, fresh=digest is not None)
        if asset is None:
            return None
        if digest is not None:
            # A URL names one content: another version's hash is not this file (404).
            if asset.digest != digest:
                raise HTTPException(status_code=404)
            return asset_response(asset, request_headers, hashed=True)
        if asset.body is not None:
            # Its references rewritten: the same bytes as at its hashed URL.
            return asset_response(asset, request_headers, hashed=False)
        return None


def _schema(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        components = document.get("components", {}).get("schemas", {})
        if "HTTPValidationError" in components:
            # FastAPI describes its own 422 body; ours (errors.handle_validation_error) is a list
            # of field + message, the same as a service's Invalid.
            components["ValidationError"] = FieldError.model_json_schema()
            components["HTTPValidationError"]["required"] = ["detail"]
        app.openapi_schema = document
    return app.openapi_schema
