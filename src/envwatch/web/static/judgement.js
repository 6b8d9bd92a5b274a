// The judgement pages: the ranking's bar chart (/judgement, from #judgement-data),
// listing actions posted to the API with the session's CSRF token, and the
// analysis page (/analysis): the slice from /api/v1/analysis as a table and a
// chart, a row's drill-down from /api/v1/analysis/rows, CSV/XLSX links.
// ECharts from the vendored copy; nothing from the network beyond envwatch.
(function () {
  "use strict";

  function text(value) { return value === null || value === undefined ? "—" : String(value); }

  function fill(table, keys, rows, onClick) {
    var head = table.querySelector("thead");
    var body = table.querySelector("tbody");
    head.innerHTML = "";
    body.innerHTML = "";
    var tr = document.createElement("tr");
    keys.forEach(function (k) { var th = document.createElement("th"); th.textContent = k[1]; tr.appendChild(th); });
    head.appendChild(tr);
    rows.forEach(function (row) {
      var line = document.createElement("tr");
      keys.forEach(function (k) { var td = document.createElement("td"); td.textContent = text(row[k[0]]); line.appendChild(td); });
      if (onClick) { line.className = "drillable"; line.addEventListener("click", function () { onClick(row); }); }
      body.appendChild(line);
    });
  }

  // /judgement: the week's scores as bars.
  var rankingChart = document.getElementById("judgement-chart");
  var rankingData = document.getElementById("judgement-data");
  if (rankingChart && rankingData && typeof echarts !== "undefined") {
    var data = JSON.parse(rankingData.textContent);
    var ranked = data.counties.filter(function (c) { return c.score !== null; });
    var chart = echarts.init(rankingChart, null, { renderer: "canvas" });
    chart.setOption({
      animation: false, tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: ranked.map(function (c) { return c.name; }), axisLabel: { rotate: 30 } },
      yAxis: { type: "value", name: data.words.score, max: 100 },
      series: [{ name: data.words.score, type: "bar", data: ranked.map(function (c) { return c.score; }) }]
    });
  }
  document.querySelectorAll(".listing-action").forEach(function (button) {
    button.addEventListener("click", function () {
      var note = window.prompt(button.textContent) || "";
      fetch("/api/v1/judgement/listings/" + button.dataset.listing + "/actions", {
        method: "POST", credentials: "same-origin",
        headers: { "content-type": "application/json", "X-CSRF-Token": button.dataset.csrf },
        body: JSON.stringify({ action: button.dataset.action, note: note })
      }).then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) { window.alert(body.error ? body.error.message_zh + " / " + body.error.message : response.status); }
          else { window.location.reload(); }
        });
      });
    });
  });

  // /analysis
  var form = document.getElementById("analysis-form");
  if (!form) { return; }
  var words = JSON.parse(document.getElementById("analysis-words").textContent);
  var table = document.getElementById("analysis-table");
  var drillTable = document.getElementById("drill-table");
  var element = document.getElementById("analysis-chart");
  var analysisChart = typeof echarts !== "undefined" ? echarts.init(element, null, { renderer: "canvas" }) : null;
  if (!form.period.value) {
    var now = new Date();
    form.period.value = now.getFullYear() + "-" + String(now.getMonth() + 1).padStart(2, "0");
  }

  function query(extra) {
    var params = new URLSearchParams();
    ["measure", "by", "period", "zones", "top"].forEach(function (name) {
      if (form[name].value) { params.set(name, form[name].value); }
    });
    Object.keys(extra || {}).forEach(function (k) { params.set(k, extra[k]); });
    return params;
  }

  function drill(row, by) {
    var filters = {};
    by.forEach(function (dim) { filters["where_" + dim] = row[dim]; });
    var params = query(filters);
    params.delete("by"); params.delete("top");
    fetch("/api/v1/analysis/rows?" + params.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        document.getElementById("drill-title").hidden = false;
        fill(drillTable, [["day", "day"], ["county_name", "county"], ["industry", "industry"],
          ["enterprise_name", "enterprise"], ["pollutant", "pollutant"], ["kind", "kind"],
          ["value", words.value]], body.rows || []);
      });
  }

  function show(event) {
    if (event) { event.preventDefault(); }
    var params = query();
    document.getElementById("export-csv").href = "/api/v1/analysis?" + params.toString() + "&format=csv";
    document.getElementById("export-xlsx").href = "/api/v1/analysis?" + params.toString() + "&format=xlsx";
    fetch("/api/v1/analysis?" + params.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        if (body.error) { table.querySelector("tbody").innerHTML = ""; window.alert(body.error.message_zh); return; }
        var keys = [];
        body.by.forEach(function (dim) {
          keys.push([dim, dim]);
          if (dim === "county") { keys.push(["county_name", ""]); }
          if (dim === "enterprise") { keys.push(["enterprise_name", ""]); }
        });
        ["value", "previous", "mom", "year_earlier", "yoy"].forEach(function (k) { keys.push([k, words[k]]); });
        fill(table, keys, body.rows, function (row) { drill(row, body.by); });
        if (analysisChart) {
          var labels = body.rows.map(function (row) {
            return body.by.map(function (d) { return row[d === "county" ? "county_name" : (d === "enterprise" ? "enterprise_name" : d)] || row[d]; }).join(" ");
          });
          analysisChart.setOption({
            animation: false, tooltip: { trigger: "axis" },
            xAxis: { type: "category", data: labels, axisLabel: { rotate: 30 } },
            yAxis: { type: "value", name: body.unit },
            series: [{ name: body.measure_zh, type: body.by.some(function (d) { return ["day", "week", "month", "quarter", "year"].indexOf(d) >= 0; }) ? "line" : "bar",
              data: body.rows.map(function (row) { return row.value; }) }]
          }, true);
        }
      });
  }
  form.addEventListener("submit", show);
}());
