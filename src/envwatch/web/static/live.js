// The dashboard, live: every element marked data-live is replaced by its fresh
// copy when the server says a new alert opened (server-sent events), and every
// 30 s for the figures that change without one (points going offline).
(function () {
  var busy = false;
  function refresh() {
    if (busy) { return; }
    busy = true;
    fetch(window.location.pathname + window.location.search, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        if (!html) { return; }
        var page = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (old) {
          var fresh = old.id && page.getElementById(old.id);
          if (fresh) { old.replaceWith(fresh); }
        });
      })
      .finally(function () { busy = false; });
  }
  if (window.EventSource) {
    new EventSource("/api/v1/alerts/stream").onmessage = refresh;
  }
  window.setInterval(refresh, 30000);
})();
