// Draws every <div data-chart='{...ECharts option...}'> on the page (the option is built and
// translated on the server; no inline script, as the CSP allows only scripts from this site).
(function () {
  if (typeof echarts === "undefined") { return; }
  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    try {
      var chart = echarts.init(el, null, { renderer: "svg" });
      chart.setOption(JSON.parse(el.getAttribute("data-chart")));
      charts.push(chart);
      el.setAttribute("data-rendered", "1");
    } catch (err) {
      el.setAttribute("data-chart-error", String(err));
    }
  });
  var pending = null;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(function () { charts.forEach(function (c) { c.resize(); }); }, 150);
  });
})();
