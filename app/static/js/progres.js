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

  // Escape in an item's editor cancels it, like its « Annuler » link.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var editor = event.target.closest && event.target.closest("form.editor");
    var cancel = editor && editor.querySelector("[data-cancel]");
    if (cancel) {
      event.preventDefault();
      cancel.click();
    }
  });

  // A panel refreshed by the live stream (data-live-refresh) is not swapped while the person is
  // typing in it: their text is kept, a notice says the panel changed, and the server checks
  // the version they saw when they send it (409 with their text kept if it no longer applies).
  document.addEventListener("htmx:beforeRequest", function (event) {
    var panel = event.detail.elt;
    if (!panel.hasAttribute || !panel.hasAttribute("data-live-refresh")) { return; }
    var fields = panel.querySelectorAll("textarea, input:not([type=hidden]):not([type=file]), select");
    var typing = Array.prototype.some.call(fields, function (f) {
      if (f.tagName === "SELECT") {  // an option chosen other than the one the page came with
        var initial = Array.prototype.findIndex.call(f.options, function (o) { return o.defaultSelected; });
        return f.selectedIndex !== (initial === -1 ? 0 : initial);
      }
      if (f.type === "checkbox" || f.type === "radio") { return f.checked !== f.defaultChecked; }
      return f.value !== f.defaultValue;
    });
    if (typing) {
      event.preventDefault();
      var notice = panel.querySelector("[data-stale-notice]");
      if (notice) { notice.hidden = false; }
    }
  });

  // A section sent after its page (macros/deferred.html) that could not be loaded says so,
  // with a link to the whole page, instead of « Chargement » for ever.
  document.addEventListener("htmx:afterRequest", function (event) {
    var box = event.detail.elt;
    if (event.detail.successful || !box.matches || !box.matches(".deferred")) { return; }
    box.removeAttribute("aria-busy");
    var wait = box.querySelector(".deferred__wait");
    if (wait) { wait.hidden = true; }
    var error = box.querySelector("[data-deferred-error]");
    if (error) { error.hidden = false; }
  });

  // An « add » form that succeeded is emptied and closed; one with errors stays as typed.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (event.detail.successful && form.matches && form.matches("form[data-reset-on-success]")) {
      form.reset();
      var details = form.closest("details");
      if (details) { details.open = false; }
    }
  });
})();
