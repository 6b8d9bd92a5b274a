// The campaign page's results forms: a file chosen for an item is first
// uploaded to the evidence store (POST /api/v1/campaign-evidence, the
// session's CSRF token in X-CSRF-Token), then the form posts the file's
// SHA-256 and name in the item's hidden "evidence_N" field.
"use strict";
document.querySelectorAll("form.campaign-results").forEach((form) => {
  form.addEventListener("submit", async (event) => {
    const inputs = [...form.querySelectorAll('input[type="file"]')].filter((i) => i.files.length);
    if (!inputs.length) return;  // no files: the form posts as it is
    event.preventDefault();
    for (const input of inputs) {
      const file = input.files[0];
      const url = `/api/v1/campaign-evidence?campaign=${form.dataset.campaign}&name=${encodeURIComponent(file.name)}`;
      const response = await fetch(url, {
        method: "POST", body: file, credentials: "same-origin",
        headers: {"X-CSRF-Token": form.dataset.csrf, "content-type": "application/octet-stream"},
      });
      const answer = await response.json();
      if (!response.ok) {
        alert(answer.error ? `${answer.error.message_zh} / ${answer.error.message}` : response.status);
        return;
      }
      form.querySelector(`input[name="evidence_${input.dataset.item}"]`).value =
        `${answer.sha256} ${answer.name}`;
      input.disabled = true;  // the file went to the store; the form posts its hash
    }
    form.submit();
  });
});
