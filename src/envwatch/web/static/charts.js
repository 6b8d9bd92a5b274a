// The time-series charts of the point, enterprise and alert pages, drawn with
// the vendored ECharts from envwatch's own measurement API. Every element
// marked data-chart names its kind and its data-src; the page's words are in
// #chart-words. Data times come as ISO 8601 with +08:00; the charts show
// China Standard Time wherever the browser is (useUTC on times shifted by
// eight hours), as enforcement records are written in it.
(function () {
  "use strict";
  var CST_MS = 8 * 3600 * 1000;
  var wordsElement = document.getElementById("chart-words");
  var words = wordsElement ? JSON.parse(wordsElement.textContent) : {};
  var charts = [];

  function word(key) { return words["pt_" + key] || key; }
  function cst(iso) { return Date.parse(iso) + CST_MS; }
  function level(values) { return values.rtd !== null && values.rtd !== undefined ? values.rtd : values.avg; }
  function shown(iso) { return iso ? iso.slice(0, 19).replace("T", " ") : ""; }

  function message(element, text, failed) {
    element.textContent = "";
    var p = document.createElement("p");
    p.className = failed ? "error" : "empty";
    p.textContent = text;
    element.appendChild(p);
    element.setAttribute("data-state", failed ? "failed" : "empty");
  }

  function load(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      });
  }

  function draw(element, option, points) {
    var chart = echarts.init(element, null, { renderer: "canvas" });
    option.useUTC = true;
    option.animation = false;
    chart.setOption(option);
    charts.push(chart);
    element.setAttribute("data-state", "drawn");
    element.setAttribute("data-points", String(points));
    return chart;
  }

  function timeAxis() {
    return {
      type: "time",
      axisLabel: { hideOverlap: true },
      axisPointer: { label: { formatter: function (p) { return echarts.time.format(p.value, "{yyyy}-{MM}-{dd} {HH}:{mm}:{ss}", true); } } }
    };
  }

  function zoom() {
    return [{ type: "inside" }, { type: "slider", height: 18, bottom: 8 }];
  }

  // A point's values of one factor: measured, O2-corrected where the permit
  // limit has a reference O2, values marked other than N, and the limit.
  function seriesOf(body, pollutant) {
    var meta = (body.pollutants || []).filter(function (p) { return p.code === pollutant; })[0];
    var limit = meta && meta.limits.length ? meta.limits[0] : null;
    var raw = [], corrected = [], flagged = [];
    body.items.forEach(function (item) {
      var values = item.values[pollutant];
      if (!values) { return; }
      var t = cst(item.data_time), v = level(values);
      // A day computed from hours (no 2031 upload) is drawn hollow.
      raw.push(item.source === "computed" ? { value: [t, v], symbol: "emptyDiamond", symbolSize: 9 } : [t, v]);
      if (values.corrected !== null && values.corrected !== undefined) { corrected.push([t, values.corrected]); }
      if ((values.flag && values.flag !== "N") || values.valid === false) {
        flagged.push({ value: [t, v], flag: values.flag || "", label: { show: true, formatter: values.flag || "×", position: "top" } });
      }
    });
    return { meta: meta, limit: limit, raw: raw, corrected: corrected, flagged: flagged };
  }

  function valueOption(body, pollutant, extra) {
    var s = seriesOf(body, pollutant);
    var unit = s.meta ? s.meta.unit : "";
    var name = s.meta ? (document.documentElement.lang === "en" ? s.meta.name_en : s.meta.name_zh) : pollutant;
    var judged = s.limit && s.limit.reference_o2 !== null && s.corrected.length ? "corrected" : "raw";
    var limitLine = s.limit ? {
      silent: true, symbol: "none",
      lineStyle: { color: "#c53030", type: "solid", width: 2 },
      label: { formatter: word("limit") + " " + s.limit.value + " " + s.limit.unit, position: "insideEndTop" },
      data: [{ yAxis: s.limit.value }]
    } : undefined;
    var series = [{
      name: word("raw"), type: "line", showSymbol: s.raw.length < 200, connectNulls: false,
      data: s.raw, markLine: judged === "raw" ? limitLine : undefined
    }];
    if (s.corrected.length) {
      series.push({
        name: word("corrected"), type: "line", showSymbol: false, lineStyle: { type: "dashed" },
        data: s.corrected, markLine: judged === "corrected" ? limitLine : undefined
      });
    }
    if (s.flagged.length) {
      series.push({ name: word("flagged"), type: "scatter", symbolSize: 9, itemStyle: { color: "#b7791f" }, data: s.flagged });
    }
    var option = {
      title: { text: name + (unit ? " (" + unit + ")" : ""), left: 8, top: 4, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      legend: { right: 16, top: 4 },
      grid: { left: 56, right: 24, top: 56, bottom: 56 },
      xAxis: timeAxis(),
      yAxis: {
        type: "value", name: unit, scale: true,
        // The limit line stays in view even when every value is far below it.
        max: s.limit ? function (extent) { return Math.max(extent.max, s.limit.value * 1.1); } : null
      },
      dataZoom: zoom(),
      series: series
    };
    if (extra) { extra(option); }
    return { option: option, points: s.raw.length };
  }

  function pointChart(element) {
    var pollutant = element.getAttribute("data-pollutant");
    return load(element.getAttribute("data-src")).then(function (body) {
      if (!pollutant && body.pollutants.length) { pollutant = body.pollutants[0].code; }
      var built = valueOption(body, pollutant);
      if (!built.points) { message(element, word("no_data"), false); return; }
      draw(element, built.option, built.points);
    });
  }

  function evidenceChart(element) {
    var pollutant = element.getAttribute("data-pollutant");
    var from = element.getAttribute("data-first"), to = element.getAttribute("data-last");
    return load(element.getAttribute("data-src")).then(function (body) {
      if (!pollutant && body.pollutants.length) { pollutant = body.pollutants[0].code; }
      var built = valueOption(body, pollutant, function (option) {
        if (from && to) {
          // The span of the alert's findings, shaded.
          option.series[0].markArea = { silent: true, itemStyle: { color: "rgba(214, 69, 69, 0.12)" },
            data: [[{ xAxis: cst(from) }, { xAxis: cst(to) + 3600 * 1000 }]] };
        }
      });
      if (!built.points) { message(element, word("no_data"), false); return; }
      draw(element, built.option, built.points);
    });
  }

  function electricityChart(element) {
    return load(element.getAttribute("data-src")).then(function (body) {
      if (!body.items.length) { message(element, word("no_data"), false); return; }
      var series = body.meters.map(function (meter) {
        var data = body.items.map(function (item) {
          var reading = item.meters[String(meter.id)];
          return [cst(item.time), reading ? reading.power_kw : null];
        });
        return {
          name: meter.name + "（" + word("meter_" + meter.kind) + "）", type: "line",
          // A reading between gaps is a lone point: drawn as a symbol, or not at all.
          showSymbol: body.items.length < 200, connectNulls: false, data: data,
          lineStyle: { type: meter.kind === "treatment" ? "dashed" : "solid", width: 2 }
        };
      });
      draw(element, {
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 64, right: 24, top: 40, bottom: 56 },
        xAxis: timeAxis(),
        yAxis: { type: "value", name: word("power_kw") },
        dataZoom: zoom(),
        series: series
      }, body.items.length);
    });
  }

  // An enterprise's monthly emissions of one pollutant [t], stacked by how
  // they were obtained, against the monthly share of the annual permit.
  function emissionsChart(element) {
    var pollutant = element.getAttribute("data-pollutant");
    var permitted = parseFloat(element.getAttribute("data-permitted"));
    return load(element.getAttribute("data-src")).then(function (body) {
      var months = (body.months || {})[pollutant];
      if (!months) { message(element, word("no_data"), false); return; }
      var labels = months.map(function (_, i) { return String(i + 1); });
      var series = ["measured", "substituted", "direct", "manual"].map(function (method) {
        return {
          name: word("em_" + method), type: "bar", stack: "t",
          data: months.map(function (m) { return m[method] || 0; })
        };
      });
      if (!isNaN(permitted)) {
        series.push({
          name: word("em_monthly_permit"), type: "line", symbol: "none",
          lineStyle: { type: "dashed", color: "#c0392b" },
          data: labels.map(function () { return permitted / 12; })
        });
      }
      draw(element, {
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 64, right: 24, top: 40, bottom: 32 },
        xAxis: { type: "category", data: labels, name: word("em_month") },
        yAxis: { type: "value", name: "t" },
        series: series
      }, months.length);
    });
  }

  // An enterprise's cumulative emission of one pollutant over the year [t]:
  // the months accounted so far, then the projection to year end (dashed, a
  // straight line to the projected total), against the annual permit.
  function emissionsCumulativeChart(element) {
    var pollutant = element.getAttribute("data-pollutant");
    var permitted = parseFloat(element.getAttribute("data-permitted"));
    var projected = parseFloat(element.getAttribute("data-projection"));
    return load(element.getAttribute("data-src")).then(function (body) {
      var months = (body.months || {})[pollutant];
      if (!months) { message(element, word("no_data"), false); return; }
      var labels = months.map(function (_, i) { return String(i + 1); });
      var last = -1, sum = 0, cumulative = [];
      months.forEach(function (m, i) {
        var t = ["measured", "substituted", "direct", "manual"].reduce(function (a, k) { return a + (m[k] || 0); }, 0);
        if (t > 0) { last = i; }
        sum += t;
        cumulative.push(sum);
      });
      var actual = cumulative.map(function (v, i) { return i <= last ? v : null; });
      var series = [{ name: word("em_cumulative"), type: "line", data: actual }];
      if (!isNaN(projected) && last >= 0 && last < 11) {
        var start = cumulative[last], step = (projected - start) / (11 - last);
        series.push({
          name: word("em_projection"), type: "line", lineStyle: { type: "dashed" },
          data: labels.map(function (_, i) { return i < last ? null : start + step * (i - last); })
        });
      }
      if (!isNaN(permitted)) {
        series.push({
          name: word("em_annual_permit"), type: "line", symbol: "none",
          lineStyle: { type: "dashed", color: "#c0392b" },
          data: labels.map(function () { return permitted; })
        });
      }
      draw(element, {
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 64, right: 24, top: 40, bottom: 32 },
        xAxis: { type: "category", data: labels, name: word("em_month") },
        yAxis: { type: "value", name: "t" },
        series: series
      }, months.length);
    });
  }

  // The raw frames around an alert: those received then, and those its
  // evidence cites (in bold), oldest first.
  function framesTable(element) {
    var sources = [element.getAttribute("data-src"), element.getAttribute("data-cited")].filter(Boolean);
    return Promise.all(sources.map(load)).then(function (bodies) {
      var cited = {}, byId = {};
      if (element.getAttribute("data-cited")) {
        bodies[bodies.length - 1].items.forEach(function (f) { cited[f.id] = true; });
      }
      bodies.forEach(function (body) { body.items.forEach(function (f) { byId[f.id] = f; }); });
      var frames = Object.keys(byId).map(function (id) { return byId[id]; })
        .sort(function (a, b) { return a.seq - b.seq; });
      var body = element.querySelector("tbody");
      body.textContent = "";
      if (!frames.length) {
        var empty = document.createElement("tr"), cell = document.createElement("td");
        cell.colSpan = 5;
        cell.textContent = word("no_frames");
        empty.appendChild(cell);
        body.appendChild(empty);
      }
      frames.forEach(function (f) {
        var row = document.createElement("tr");
        row.className = (cited[f.id] ? "cited " : "") + "verdict-" + f.verdict;
        [shown(f.received_at), shown(f.data_time), f.cn || "",
         word("verdict_" + f.verdict) + (f.error_code ? " (" + f.error_code + ")" : "")].forEach(function (text) {
          var cell = document.createElement("td");
          cell.textContent = text;
          row.appendChild(cell);
        });
        var frameCell = document.createElement("td"), code = document.createElement("code");
        code.className = "frame";
        code.textContent = f.text;
        frameCell.appendChild(code);
        row.appendChild(frameCell);
        body.appendChild(row);
      });
      element.setAttribute("data-state", "drawn");
      element.setAttribute("data-frames", String(frames.length));
    });
  }

  var kinds = { point: pointChart, evidence: evidenceChart, electricity: electricityChart, emissions: emissionsChart, emissions_cumulative: emissionsCumulativeChart, frames: framesTable };
  document.querySelectorAll("[data-chart]").forEach(function (element) {
    var kind = kinds[element.getAttribute("data-chart")];
    if (!kind) { return; }
    if (kind !== framesTable && !window.echarts) { message(element, word("chart_failed"), true); return; }
    if (kind !== framesTable) { message(element, word("loading"), false); element.setAttribute("data-state", "loading"); }
    kind(element).catch(function () { message(element, word("chart_failed"), true); });
  });

  // A new data kind has its own longest window: start from its default one.
  document.querySelectorAll("select[data-resets-window]").forEach(function (select) {
    select.addEventListener("change", function () {
      var form = select.form;
      ["since", "until"].forEach(function (name) { if (form.elements[name]) { form.elements[name].value = ""; } });
      form.submit();
    });
  });
  document.querySelectorAll("#series-form select:not([data-resets-window])").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  window.addEventListener("resize", function () { charts.forEach(function (chart) { chart.resize(); }); });
})();
