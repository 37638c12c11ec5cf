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
      // No deep links: Swagger UI puts each one, a link, inside the operation's expand button,
      // and a control inside a control is unusable with a screen reader (WCAG 4.1.2).
      deepLinking: false,
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      validatorUrl: null,
      requestInterceptor: requestInterceptor,
    });
  }

  /**
   * What Swagger UI leaves out and WCAG needs, added as it draws: a name for the request body box
   * (it has no label: WCAG 1.3.1, 4.1.2) and keyboard access to the code samples that scroll
   * sideways (WCAG 2.1.1). The observer watches added nodes only, so setting attributes does not
   * wake it again.
   */
  function addMissingAccessibility() {
    document.querySelectorAll("textarea.body-param__text:not([aria-label])").forEach(function (box) {
      box.setAttribute("aria-label", "Request body (JSON)");
    });
    document.querySelectorAll("pre.microlight:not([tabindex])").forEach(function (sample) {
      sample.setAttribute("tabindex", "0");
    });
  }

  function begin() {
    new MutationObserver(addMissingAccessibility).observe(document.getElementById("swagger-ui"), {
      childList: true,
      subtree: true,
    });
    start();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", begin);
  } else {
    begin();
  }
})();
