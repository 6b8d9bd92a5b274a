// An enterprise's emergency-list lines, changed by a city administrator on
// the enterprise page: the form creates a line (POST /api/v1/emergency/lines),
// each line's button deletes it; the API checks and audits, its errors are
// shown in the page's language.
(function () {
  "use strict";
  var form = document.getElementById("line-form");
  var status = document.getElementById("line-status");
  if (!form || !window.fetch) { return; }
  var csrf = form.getAttribute("data-csrf");
  var english = form.getAttribute("data-lang") === "en";

  function problem(body) {
    var error = (body && body.error) || {};
    var text = english ? error.message : (error.message_zh || error.message);
    (error.fields || []).forEach(function (f) {
      text += " · " + f.field + ": " + (english ? f.reason : (f.reason_zh || f.reason));
    });
    return text || "?";
  }

  function send(method, url, body) {
    var headers = { "X-CSRF-Token": csrf, Accept: "application/json" };
    if (body) { headers["Content-Type"] = "application/json"; }
    return fetch(url, {
      method: method, credentials: "same-origin", headers: headers,
      body: body ? JSON.stringify(body) : undefined
    }).then(function (response) {
      if (response.ok) { window.location.reload(); return; }
      return response.json().then(function (json) {
        status.textContent = problem(json);
        status.className = "error";
      });
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var measures = {};
    ["blue", "yellow", "orange", "red"].forEach(function (level) {
      var value = form.elements[level].value.trim();
      if (value) { measures[level] = value; }
    });
    var meters = Array.prototype.filter.call(form.elements.meters.options, function (o) {
      return o.selected;
    }).map(function (o) { return o.value; });
    send("POST", "/api/v1/emergency/lines", {
      enterprise_id: Number(form.getAttribute("data-enterprise")),
      season: form.elements.season.value.trim(),
      valid_from: form.elements.valid_from.value,
      valid_until: form.elements.valid_until.value,
      name: form.elements.name.value.trim(),
      process: form.elements.process.value.trim(),
      meters: meters,
      measures: measures
    });
  });

  document.querySelectorAll("button.delete-line").forEach(function (button) {
    button.addEventListener("click", function () {
      if (!window.confirm(form.getAttribute("data-confirm"))) { return; }
      send("DELETE", "/api/v1/emergency/lines/" + button.getAttribute("data-line"));
    });
  });
}());
