// The problem page's workflow buttons: an action that needs evidence first
// uploads each chosen file to the evidence store (POST /api/v1/evidence, the
// session's CSRF token in X-CSRF-Token), then posts the form with the files'
// SHA-256 and names in its hidden "evidence" field.
"use strict";
document.querySelectorAll("form.problem-action[data-needs-evidence]").forEach((form) => {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = form.querySelector('input[type="file"]');
    const lines = [];
    for (const file of input.files) {
      const url = `/api/v1/evidence?problem=${form.dataset.problem}&name=${encodeURIComponent(file.name)}`;
      const response = await fetch(url, {
        method: "POST", body: file, credentials: "same-origin",
        headers: {"X-CSRF-Token": form.dataset.csrf, "content-type": "application/octet-stream"},
      });
      const answer = await response.json();
      if (!response.ok) {
        alert(answer.error ? `${answer.error.message_zh} / ${answer.error.message}` : response.status);
        return;
      }
      lines.push(`${answer.sha256} ${answer.name}`);
    }
    form.querySelector('input[name="evidence"]').value = lines.join("\n");
    input.disabled = true;  // the files went to the store; the form posts their hashes
    form.submit();
  });
});
