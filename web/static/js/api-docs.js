/**
 * The /docs page (web/templates/api_docs.html): Swagger UI over /openapi.json.
 *
 * Classic script, loaded after /static/vendor/swagger-ui/swagger-ui-bundle.js, which defines the
 * global SwaggerUIBundle. It lives in a file because the Content-Security-Policy allows no inline
 * script. BaseLayout: no top bar (no loading specs from other URLs) and no online-validator badge
 * (no request to another host).
 *
 * "Try it out" sends requests from this page with the session cookie, so unsafe methods need the
 * page's CSRF token: the request interceptor adds it as X-CSRF-Token (api/security/csrf.py), taken
 * from <meta name="csrf-token">, to every same-origin request.
 */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") || "" : "";
  }

  function sameOrigin(url) {
    try {
      return new URL(url, window.location.href).origin === window.location.origin;
    } catch (error) {
      return false;
    }
  }

  function requestInterceptor(request) {
    var token = csrfToken();
    if (token && sameOrigin(request.url)) {
      request.headers = request.headers || {};
      request.headers["X-CSRF-Token"] = token;
    }
    return request;
  }

  function start() {
    window.ui = window.SwaggerUIBundle({
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      validatorUrl: null,
      requestInterceptor: requestInterceptor,
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
