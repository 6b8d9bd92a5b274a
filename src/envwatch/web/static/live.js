// Newest alerts, live: the server sends an event when a new alert opens.
(function () {
  if (!window.EventSource) { return; }
  var source = new EventSource("/api/v1/alerts/stream");
  source.onmessage = function () {
    fetch("/?lang=" + (document.documentElement.lang === "en" ? "en" : "zh"))
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.getElementById("newest");
        var table = document.getElementById("newest");
        if (fresh && table) { table.replaceWith(fresh); }
      });
  };
})();
