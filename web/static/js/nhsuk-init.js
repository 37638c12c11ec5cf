// Only the NHS.UK components our pages use (scripts/build_nhsuk_js.mjs), with the package's initAll.
// Served as one file with them (scripts/build_min_js.mjs bundles this import): one request before
// a page's first paint instead of two (issue 16).
import { initAll } from "./nhsuk-components.min.js";

// Already-initialised components throw InitError on a second initAll(); ignore those.
const onError = (error) => {
  if (error?.name !== "InitError") console.error(error);
};

initAll({ onError });

// Initialise NHS.UK components in content swapped in by htmx. initAll() only looks at
// descendants of the scope, so use the parent in case the swapped element is itself a
// component root.
document.addEventListener("htmx:load", (event) => {
  const el = event.target;
  initAll({ scope: el.parentElement ?? el, onError });
});

// The same for markup that Frontline's own scripts add (the offline error summary, the outbox
// list): see nhs-components.js.
document.addEventListener("frontline:content", (event) => {
  const el = event.target;
  initAll({ scope: el.parentElement ?? el, onError });
});
