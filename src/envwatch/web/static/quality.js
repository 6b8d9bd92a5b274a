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
        yAxis: [{ type: "value", name: "µg/m³" }, { type: "value", name: "CO mg/m³" }],
        series: names.map(function (name) {
          return { type: "line", name: name, yAxisIndex: name === "CO" ? 1 : 0,
                   connectNulls: false, data: data.hours[name] };
        })
      });
    }).catch(function (error) { failed(element, error); });
  }

  document.querySelectorAll("[data-chart]").forEach(function (element) {
    var kind = element.getAttribute("data-chart");
    if (kind === "station-aqi") { dailyAqi(element); }
    if (kind === "station-hours") { hours(element, new Date(Date.now() + 8 * 3600 * 1000), 3); }
  });
}());
