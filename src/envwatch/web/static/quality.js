// The charts of a station page: the daily AQI (bars in each day's level
// colour) and the hourly pollutants of the newest day with data, drawn with
// the vendored ECharts from envwatch's own quality API.
(function () {
  "use strict";

  function load(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      });
  }

  function draw(element, option) {
    var chart = echarts.init(element, null, { renderer: "canvas" });
    option.animation = false;
    chart.setOption(option);
    element.setAttribute("data-state", "drawn");
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function failed(element, error) {
    element.textContent = String(error);
    element.setAttribute("data-state", "failed");
  }

  function dailyAqi(element) {
    var to = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
    var from = new Date(Date.now() + 8 * 3600 * 1000 - 59 * 86400 * 1000).toISOString().slice(0, 10);
    load(element.getAttribute("data-src") + "?since=" + from + "&until=" + to).then(function (data) {
      var items = data.items;
      draw(element, {
        tooltip: { trigger: "axis" },
        grid: { left: 40, right: 20, top: 20, bottom: 40 },
        xAxis: { type: "category", data: items.map(function (d) { return d.day; }) },
        yAxis: { type: "value", name: "AQI" },
        series: [{
          type: "bar", name: "AQI",
          data: items.map(function (d) {
            return { value: d.aqi, itemStyle: { color: d.colour || "#999" } };
          })
        }]
      });
    }).catch(function (error) { failed(element, error); });
  }

  function hours(element, day, tries) {
    var url = element.getAttribute("data-src") + "?day=" + day.toISOString().slice(0, 10);
    load(url).then(function (data) {
      var names = Object.keys(data.hours);
      var any = names.some(function (n) { return data.hours[n].some(function (v) { return v !== null; }); });
      if (!any && tries > 0) {
        hours(element, new Date(day.getTime() - 86400 * 1000), tries - 1);
        return;
      }
      var axis = [];
      for (var h = 0; h < 24; h += 1) { axis.push(String(h).padStart(2, "0") + ":00"); }
      draw(element, {
        title: { text: data.day, left: "center", textStyle: { fontSize: 12 } },
        tooltip: { trigger: "axis" },
        legend: { bottom: 0 },
        grid: { left: 45, right: 45, top: 30, bottom: 50 },
        xAxis: { type: "category", data: axis },
        yAxis: [{ type: "value", name: "µg/m³ · AQI" }, { type: "value", name: "CO mg/m³" }],
        series: names.map(function (name) {
          return { type: "line", name: name, yAxisIndex: name === "CO" ? 1 : 0,
                   connectNulls: false, data: data.hours[name] };
        }).concat([{ type: "bar", name: "AQI", data: data.aqi, itemStyle: { opacity: 0.35 } }])
      });
    }).catch(function (error) { failed(element, error); });
  }

  // City administrators set targets and import the province's figures.
  var admin = document.getElementById("quality-admin");
  if (admin) {
    var csrf = admin.getAttribute("data-csrf");
    var english = admin.getAttribute("data-lang") === "en";
    var status = document.getElementById("quality-admin-status");
    var answer = function (response) {
      return response.json().then(function (body) {
        if (response.ok) { window.location.reload(); return; }
        var error = body.error || {};
        var text = english ? error.message : (error.message_zh || error.message);
        var rows = (error.errors || error.fields || []).map(function (e) {
          return (e.row !== undefined ? e.row + " " : "") + (e.column || e.field || "") + ": " +
            (english ? e.reason : (e.reason_zh || e.reason));
        });
        status.textContent = [text].concat(rows).join("; ");
        status.className = "error";
      });
    };
    document.getElementById("target-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var form = event.target;
      fetch("/api/v1/quality/targets", {
        method: "PUT", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ year: Number(form.year.value), area: form.area.value,
                               indicator: form.indicator.value, value: Number(form.value.value) })
      }).then(answer);
    });
    document.getElementById("province-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var file = event.target.file.files[0];
      if (!file) { return; }
      file.arrayBuffer().then(function (content) {
        return fetch("/api/v1/quality/province", {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "text/csv", "X-CSRF-Token": csrf }, body: content
        });
      }).then(answer);
    });
  }

  document.querySelectorAll("[data-chart]").forEach(function (element) {
    var kind = element.getAttribute("data-chart");
    if (kind === "station-aqi") { dailyAqi(element); }
    if (kind === "station-hours") { hours(element, new Date(Date.now() + 8 * 3600 * 1000), 3); }
  });
}());
