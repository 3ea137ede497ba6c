// Stagecheck: small progressive enhancements shared by every page. Everything works without
// JavaScript; this file only adds conveniences. No inline scripts (Content-Security-Policy).
(function () {
  "use strict";

  // A button with data-copy="ID" copies the text (or value) of element ID to the clipboard
  // and says so in its own label for a moment; data-copied="..." overrides that message.
  function copyText(button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target) { return; }
    var text = "value" in target && target.value !== undefined ? target.value : target.textContent;
    var original = button.textContent;
    var done = function () {
      button.textContent = button.getAttribute("data-copied") || "Gekopieerd";
      window.setTimeout(function () { button.textContent = original; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
    } else {
      fallbackCopy(text);
      done();
    }
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
    document.body.removeChild(area);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-copy]") : null;
    if (button) {
      event.preventDefault();
      copyText(button);
    }
  });

  // Copy buttons are useless without JavaScript, so they start hidden and appear here.
  document.querySelectorAll("button[data-copy][hidden]").forEach(function (button) {
    button.hidden = false;
  });

  window.Stagecheck = {
    csrfToken: function () {
      var meta = document.querySelector('meta[name="csrf-token"]');
      return meta ? meta.getAttribute("content") : "";
    }
  };
})();
