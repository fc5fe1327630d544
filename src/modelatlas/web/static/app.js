// ModelAtlas UI: small progressive enhancements. Pages work without this file.
"use strict";
(function () {
  // htmx writes carry the form's CSRF token when the element is inside a form that has
  // one; for requests from elsewhere, take the page's token from <meta name="csrf-token">.
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.verb === "get") { return; }  // reads change nothing: keep URLs clean
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && !event.detail.parameters.csrf_token) {
      event.detail.parameters.csrf_token = meta.getAttribute("content");
    }
  });
  // a decision swaps the whole row, the pressed button with it: focus would fall back to
  // the top of the page, and a status region that arrives with its text is not announced.
  // Move focus to the new row's outcome, so it is read and the keyboard goes on from there.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    var kept = document.contains(document.activeElement) &&
        document.activeElement !== document.body;
    if (kept || !target || !target.id) { return; }
    var row = document.getElementById(target.id);
    var outcome = row && row.querySelector('[role="status"]');
    if (outcome && outcome.textContent.trim()) {
      outcome.setAttribute("tabindex", "-1");
      outcome.focus();
    }
  });
})();
