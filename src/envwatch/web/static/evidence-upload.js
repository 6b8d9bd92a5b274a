// Workflow forms that carry files (a problem's actions, an alert's
// explanation): each chosen file first goes to the evidence store (POST to the
// form's data-evidence-url plus the file's name, the session's CSRF token in
// X-CSRF-Token), then the form posts with the files' SHA-256 and names in its
// hidden "evidence" field and the pressed button's action.
"use strict";
document.querySelectorAll("form[data-evidence-url]").forEach((form) => {
  form.addEventListener("submit", async (event) => {
    const input = form.querySelector('input[type="file"]');
    if (!input || input.files.length === 0) return;  // nothing to upload: post as it is
    event.preventDefault();
    const lines = [];
    for (const file of input.files) {
      const response = await fetch(form.dataset.evidenceUrl + encodeURIComponent(file.name), {
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
    const button = event.submitter;
    if (button && button.name) {  // form.submit() sends no button: carry its value
      const pressed = document.createElement("input");
      pressed.type = "hidden";
      pressed.name = button.name;
      pressed.value = button.value;
      form.append(pressed);
    }
    input.disabled = true;  // the files went to the store; the form posts their hashes
    form.submit();
  });
});
