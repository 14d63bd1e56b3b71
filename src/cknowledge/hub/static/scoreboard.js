// The Pareto plot of a scoreboard page: points and front from the JSON API, drawn
// with plotly.js (served by the hub from /static; no CDN).
(function () {
  var box = document.getElementById("pareto-plot");
  if (!box) { return; }
  if (typeof Plotly === "undefined") {
    box.innerHTML = "<p class='note'>plotly.js is not available on this hub " +
      "(install the 'plotly' package where the hub runs).</p>";
    return;
  }
  fetch(box.dataset.url).then(function (r) { return r.json(); }).then(function (data) {
    if (data.error) { box.textContent = data.error; return; }
    var front = data.points.filter(function (p) { return p.front; })
      .sort(function (a, b) { return a.x - b.x; });
    // submitted text is shown as text: plotly reads tags (<a>, <b>, ...) in labels
    var esc = function (s) {
      return String(s || "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    };
    var label = function (p) {
      return "#" + p.id + " " + esc(p.solution_version) + " " + esc(p.backend) +
        "<br>" + esc(p.platform_summary) + (p.reference ? " (reference)" : "");
    };
    var trace = function (pts, name, extra) {
      return Object.assign({ x: pts.map(function (p) { return p.x; }),
        y: pts.map(function (p) { return p.y; }), text: pts.map(label),
        customdata: pts.map(function (p) { return p.id; }), name: name,
        hovertemplate: "%{text}<br>x=%{x}<br>y=%{y}<extra></extra>" }, extra);
    };
    var others = data.points.filter(function (p) { return !p.front && !p.reference; });
    var refs = data.points.filter(function (p) { return !p.front && p.reference; });
    var axis = function (m) {
      return { title: { text: esc(m.name) + (m.unit ? " (" + esc(m.unit) + ")" : "") + " — " +
        m.better + " is better" } };
    };
    box.innerHTML = "";  // the "Loading the plot" note
    Plotly.newPlot(box, [
      trace(others, "results", { mode: "markers", type: "scattergl", marker: { size: 6, opacity: 0.5 } }),
      trace(refs, "reference", { mode: "markers", type: "scattergl", marker: { size: 9, symbol: "diamond" } }),
      trace(front, "Pareto front", { mode: "lines+markers", type: "scatter", marker: { size: 9 } })
    ], { xaxis: axis(data.x), yaxis: axis(data.y), margin: { t: 20 },
      legend: { orientation: "h" } }, { responsive: true });
    box.on("plotly_click", function (ev) {
      var id = ev.points && ev.points[0] && ev.points[0].customdata;
      if (id) { window.location.href = "/results/" + id; }
    });
  }).catch(function (err) { box.textContent = "Cannot load the plot: " + err; });
})();
