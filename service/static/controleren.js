// Controleren: feedback buttons without a page reload. Without JavaScript the same forms
// post normally and the page comes back with a message.
(function () {
  "use strict";

  var live = document.getElementById("feedback-live");

  function announce(element, message, ok) {
    if (element) {
      element.textContent = message;
      element.classList.toggle("is-error", !ok);
    }
    if (live) { live.textContent = message; }
  }

  function statusFor(form) {
    var box = form.closest("[data-feedback]") || form;
    return box.querySelector("[data-feedback-status]");
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches(".feedback-form, [data-missed-form]")) { return; }
    if (!window.fetch || !window.FormData) { return; }
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) { button.disabled = true; }
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": window.Stagecheck.csrfToken() }
    }).then(function (response) {
      if (response.status === 401) {
        window.location.href = "/inloggen?volgende=" + encodeURIComponent(window.location.pathname);
        return null;
      }
      return response.json().then(function (body) { return { ok: response.ok && body.ok, body: body }; });
    }).then(function (outcome) {
      if (!outcome) { return; }
      announce(statusFor(form), outcome.body.message || outcome.body.detail || "", outcome.ok);
      if (outcome.ok && form.matches(".feedback-form")) {
        var group = form.closest("[data-feedback]");
        group.querySelectorAll(".feedback-form button").forEach(function (other) {
          other.setAttribute("aria-pressed", other === button ? "true" : "false");
        });
      }
      if (outcome.ok && form.matches("[data-missed-form]")) { form.reset(); }
    }).catch(function () {
      announce(statusFor(form), "Opslaan is niet gelukt. Probeer het opnieuw.", false);
    }).then(function () {
      if (button) { button.disabled = false; }
    });
  });
})();
