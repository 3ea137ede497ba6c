/* Stagecheck: follow a batch job's progress without reloading the page.
 *
 * The job page renders the progress on the server (and a "Vernieuwen" link works without
 * JavaScript). With JavaScript, this polls the small JSON endpoint named in
 * data-status-url, moves the <progress> bar and the text beside it, and reloads the page
 * once the job has finished so the results table appears.
 */
(function () {
  "use strict";

  function start(box) {
    var url = box.getAttribute("data-status-url");
    var bar = box.querySelector("progress");
    var text = box.querySelector("[data-progress-text]");
    var refresh = box.querySelector("[data-refresh]");
    if (refresh) { refresh.hidden = true; }
    var failures = 0;

    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error("status " + response.status); }
          return response.json();
        })
        .then(function (job) {
          failures = 0;
          if (bar) {
            bar.max = Math.max(job.total, 1);
            bar.value = job.done;
            bar.textContent = job.percent + "%";
          }
          if (text) { text.textContent = job.message; }
          if (job.finished) {
            window.location.reload();
            return;
          }
          window.setTimeout(poll, 1000);
        })
        .catch(function () {
          failures += 1;
          if (failures >= 5) {
            if (text) { text.textContent = "De voortgang kan niet worden opgehaald. Vernieuw de pagina."; }
            if (refresh) { refresh.hidden = false; }
            return;
          }
          window.setTimeout(poll, 2000);
        });
    }
    poll();
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-status-url]"), start);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
