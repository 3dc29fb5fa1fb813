// The job page (templates/core/job.html) without reloading: poll the job's status and move
// the progress bar; when it is ready, show the download link. Without JavaScript the page
// refreshes itself (a <noscript> meta refresh).
(function () {
  "use strict";
  var card = document.getElementById("job");
  if (!card) return;
  var url = card.getAttribute("data-status-url");
  var bar = document.getElementById("job-progress");
  var percent = document.getElementById("job-percent");
  var note = document.getElementById("job-note");
  var slot = document.getElementById("job-download-slot");
  if (!slot) return; // already finished when the page was made
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) {
        if (!j) return;
        bar.value = j.progress;
        percent.textContent = j.progress + "%";
        note.textContent = j.progress_note || "";
        if (j.status === "done" || j.status === "failed") {
          window.location.reload(); // the finished page: its download link or its error
          return;
        }
        window.setTimeout(poll, 1500);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
