// The replay jobs' page: while a job runs, ask the job API for its progress
// (steps done of steps) and move its bar; once a job ends, reload the page,
// which shows its report (or why it failed).
(function () {
  "use strict";
  var table = document.getElementById("replay-jobs");
  if (!table || !window.fetch) { return; }
  var words = JSON.parse(table.getAttribute("data-words"));
  var POLL_MS = 500;

  function show(row, job) {
    var bar = row.querySelector("progress");
    var total = job.steps_total || 1;
    bar.max = total;
    bar.value = job.state === "done" ? total : job.steps_done;
    row.querySelector(".steps").textContent = job.steps_done + "/" + job.steps_total + " " +
      words.steps;
    var state = row.querySelector(".job-state");
    state.textContent = words[job.state] || job.state;
    state.className = "job-state job-" + job.state;
    row.setAttribute("data-state", job.state);
  }

  function poll(row) {
    fetch(row.getAttribute("data-href"), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (job) {
        if (!job.state) { return; }  // the API refused the poll itself
        show(row, job);
        if (job.state === "done" || job.state === "failed") {
          window.setTimeout(function () { window.location.reload(); }, POLL_MS);
          return;
        }
        window.setTimeout(function () { poll(row); }, POLL_MS);
      })
      .catch(function () { window.setTimeout(function () { poll(row); }, POLL_MS * 5); });
  }

  var open = table.querySelectorAll("tr[data-state=queued], tr[data-state=running]");
  for (var i = 0; i < open.length; i++) { poll(open[i]); }
}());
