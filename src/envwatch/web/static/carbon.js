// The carbon page's chart (/carbon): monthly CO2 [t] as bars and the main
// pollutants [t] as a line on a second axis, from the data the page embeds
// (#carbon-data); ECharts from the vendored copy.
(function () {
  "use strict";
  var element = document.getElementById("carbon-chart");
  var source = document.getElementById("carbon-data");
  if (!element || !source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var chart = echarts.init(element, null, { renderer: "canvas" });
  chart.setOption({
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { data: [data.words.co2, data.words.pollutants] },
    xAxis: { type: "category", name: data.words.month, data: data.chart.months },
    yAxis: [{ type: "value", name: data.words.co2 }, { type: "value", name: data.words.pollutants }],
    series: [
      { name: data.words.co2, type: "bar", data: data.chart.co2 },
      { name: data.words.pollutants, type: "line", yAxisIndex: 1, data: data.chart.pollutants }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
}());
