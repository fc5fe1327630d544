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
})();
