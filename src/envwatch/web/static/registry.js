// Registry imports and exports as jobs: send the file, then poll the job's
// state and show its progress, its row errors, or the export's download link.
(function () {
  "use strict";
  var root = document.getElementById("registry-admin");
  if (!root || !window.fetch) { return; }
  var csrf = root.getAttribute("data-csrf");
  var english = root.getAttribute("data-lang") === "en";
  var words = JSON.parse(root.getAttribute("data-words"));
  var POLL_MS = 400;

  function message(error) {
    if (!error) { return ""; }
    return english ? error.message : (error.message_zh || error.message);
  }

  function show(parts, job) {
    var text = (words[job.state] || job.state) + " · " + job.rows_done + "/" + job.rows_total +
      " " + words.rows;
    if (job.state === "done" && job.result && job.result.imported !== undefined) {
      text += " · " + words.imported + " " + job.result.imported;
    }
    if (job.error) { text += " · " + message(job.error); }
    parts.status.textContent = text;
    parts.status.className = "job-status job-" + job.state;
    parts.progress.hidden = false;
    parts.progress.value = job.state === "done" ? 1 : job.progress;
  }

  function poll(href, parts, ended) {
    fetch(href, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (job) {
        if (job.error && !job.state) {  // the API refused the poll itself
          parts.status.textContent = message(job.error);
          return;
        }
        show(parts, job);
        if (job.state === "done" || job.state === "failed") { ended(job); return; }
        window.setTimeout(function () { poll(href, parts, ended); }, POLL_MS);
      })
      .catch(function () {
        window.setTimeout(function () { poll(href, parts, ended); }, POLL_MS * 5);
      });
  }

  function start(url, body, parts, ended) {
    parts.status.textContent = words.queued;
    parts.status.className = "job-status job-queued";
    var options = { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf } };
    if (body) { options.body = body; }
    fetch(url, options)
      .then(function (response) {
        return response.json().then(function (answer) { return { ok: response.ok, answer: answer }; });
      })
      .then(function (reply) {
        if (!reply.ok) {
          parts.status.textContent = message(reply.answer.error);
          parts.status.className = "job-status job-failed";
          return;
        }
        poll(reply.answer.href, parts, ended);
      })
      .catch(function () { parts.status.textContent = words.failed; });
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
  }

  var importParts = {
    status: document.getElementById("import-status"),
    progress: document.getElementById("import-progress")
  };
  var errors = document.getElementById("import-errors");
  var kind = document.getElementById("import-kind");
  kind.addEventListener("change", function () {
    var help = root.querySelectorAll("dl.columns [data-kind]");
    for (var i = 0; i < help.length; i++) {
      help[i].hidden = help[i].getAttribute("data-kind") !== kind.value;
    }
  });
  document.getElementById("import-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var file = document.getElementById("import-file").files[0];
    if (!file) { return; }
    var body = errors.querySelector("tbody");
    body.textContent = "";
    errors.hidden = true;
    var url = "/api/v1/registry/imports?kind=" + encodeURIComponent(kind.value) +
      "&name=" + encodeURIComponent(file.name);
    start(url, file, importParts, function (job) {
      (job.errors || []).forEach(function (problem) {
        var row = document.createElement("tr");
        cell(row, String(problem.row));
        cell(row, problem.column || "–");
        cell(row, problem.reason);
        body.appendChild(row);
      });
      errors.hidden = !(job.errors && job.errors.length);
    });
  });

  var exportParts = {
    status: document.getElementById("export-status"),
    progress: document.getElementById("export-progress")
  };
  var download = document.getElementById("export-download");
  document.getElementById("export-form").addEventListener("submit", function (event) {
    event.preventDefault();
    download.hidden = true;
    var format = document.getElementById("export-format").value;
    var what = document.getElementById("export-kind").value;
    var url = "/api/v1/registry/exports?format=" + encodeURIComponent(format) +
      (what ? "&kind=" + encodeURIComponent(what) : "");
    start(url, null, exportParts, function (job) {
      if (job.state === "done" && job.file) {
        download.href = job.file;
        download.hidden = false;
      }
    });
  });
})();
