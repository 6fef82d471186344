// The cockpit's two trend charts (vendored ECharts). The data comes from #trend-data; a click
// on a bar opens the case list behind it, the same link as the table under the charts.
(function () {
  "use strict";
  var source = document.getElementById("trend-data");
  if (!source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var names = data.names;

  function bar(key, colour) {
    return { name: names[key], type: "bar", data: data[key], itemStyle: { color: colour },
             emphasis: { focus: "series" }, cursor: "pointer", links: data.links[key] };
  }

  function target(value, name, colour) {
    if (value === null || value === undefined) { return []; }
    return [{ name: name, type: "line", data: data.labels.map(function () { return value; }),
              symbol: "none", lineStyle: { type: "dashed", color: colour },
              itemStyle: { color: colour } }];
  }

  var volume = echarts.init(document.getElementById("trend-volume"));
  var series = [bar("received", "#0d6efd"), bar("closed", "#198754"), bar("overdue", "#dc3545")];
  volume.setOption({
    tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 40, right: 16, top: 32, bottom: 28 },
    xAxis: { type: "category", data: data.labels }, yAxis: { type: "value", minInterval: 1 },
    series: series
  });
  volume.on("click", function (event) {
    var links = series[event.seriesIndex] && series[event.seriesIndex].links;
    if (links && links[event.dataIndex]) { window.location.href = links[event.dataIndex]; }
  });

  var rates = echarts.init(document.getElementById("trend-rates"));
  rates.setOption({
    tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + "%"; } },
    legend: { top: 0 }, grid: { left: 40, right: 16, top: 32, bottom: 28 },
    xAxis: { type: "category", data: data.labels },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    series: [
      { name: names.satisfaction, type: "line", data: data.satisfaction, connectNulls: false,
        itemStyle: { color: "#6f42c1" } },
      { name: names.resolution, type: "line", data: data.resolution, connectNulls: false,
        itemStyle: { color: "#fd7e14" } }
    ].concat(target(data.target_satisfaction, names.target_satisfaction, "#6f42c1"),
             target(data.target_resolution, names.target_resolution, "#fd7e14"))
  });
  window.addEventListener("resize", function () { volume.resize(); rates.resize(); });
}());
