// Import forms (form.file-import: a register's entries, satellite fire points):
// the chosen file goes to the form's import API (data-href) as it is (CSV or
// XLSX), with the session's CSRF token; the answer (how many imported, or
// every row's problem) is shown in the element named by data-result.
(function () {
  "use strict";
  document.querySelectorAll("form.file-import").forEach(function (form) {
    var out = document.getElementById(form.dataset.result);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var file = form.querySelector("input[type=file]").files[0];
      if (!file) { return; }
      var href = form.dataset.href + "?name=" + encodeURIComponent(file.name);
      fetch(href, { method: "POST", body: file, credentials: "same-origin",
                    headers: { "X-CSRF-Token": form.dataset.csrf } })
        .then(function (response) { return response.json(); })
        .then(function (answer) {
          if (answer.error) {
            var rows = (answer.error.rows || []).map(function (r) {
              return r.row + " / " + r.column + ": " + r.reason;
            });
            out.textContent = answer.error.message_zh + "\n" + rows.join("\n");
          } else {
            out.textContent = "✓ " + answer.imported;
            window.setTimeout(function () { window.location.reload(); }, 800);
          }
        });
    });
  });
}());
