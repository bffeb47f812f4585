/* Progrès — the little behaviour htmx attributes cannot express. No inline script (strict CSP). */
(function () {
  "use strict";

  // After a swap (or on load), move focus to an error summary or notice marked data-autofocus,
  // so keyboard and screen-reader users land on what just changed (RGAA 7.1, 11.10).
  function focusMarked(root) {
    var target = (root || document).querySelector("[data-autofocus]");
    if (target) {
      target.removeAttribute("data-autofocus");
      target.focus();
    }
  }

  document.addEventListener("DOMContentLoaded", function () { focusMarked(document); });
  document.addEventListener("htmx:afterSettle", function (event) { focusMarked(event.detail.elt); });
})();
