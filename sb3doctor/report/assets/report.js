/* sb3doctor report: draws the curves with uPlot from the JSON embedded in the page.
 *
 * Run charts: the raw curve (faint) and its smoothed curve, the rule's healthy band shaded,
 * and the step windows where findings fired highlighted (a click there jumps to the finding).
 * Group charts: each seed faint, the mean over seeds and its 95% bootstrap band.
 * Smoothing is TensorBoard's debiased EMA; series with raw points are smoothed here at any
 * weight, decimated ones and groups use the nearest weight precomputed in Python.
 * After drawing, each chart element gets data-series-count (plotted series with data) and
 * data-painted (non-blank pixels sampled in the plot area); #render-summary sums them up.
 */
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("sb3doctor-data").textContent);
  var LEVELS = DATA.levels;
  var SEV_FILL = {
    error: "rgba(207, 34, 46, 0.16)",
    warning: "rgba(212, 167, 44, 0.22)",
    info: "rgba(87, 96, 106, 0.12)"
  };
  var SEV_EDGE = {
    error: "rgba(207, 34, 46, 0.75)",
    warning: "rgba(191, 135, 0, 0.8)",
    info: "rgba(87, 96, 106, 0.6)"
  };
  var charts = [];

  function ema(y, w) {
    if (!(w > 0)) return y.slice();
    var out = new Array(y.length), last = 0, k = 0;
    for (var i = 0; i < y.length; i++) {
      var v = y[i];
      if (v === null || !isFinite(v)) { out[i] = v; continue; }
      last = last * w + (1 - w) * v;
      k++;
      out[i] = last / (1 - Math.pow(w, k));
    }
    return out;
  }

  function nearestLevel(w) {
    var best = LEVELS[0];
    for (var i = 1; i < LEVELS.length; i++) {
      if (Math.abs(LEVELS[i] - w) < Math.abs(best - w)) best = LEVELS[i];
    }
    return String(best);
  }

  function levelKey(obj, w) {
    var key = nearestLevel(w);
    if (obj[key] !== undefined) return key;
    // Python writes 0.0 as "0.0"; JS prints it as "0"
    for (var k in obj) { if (Number(k) === Number(key)) return k; }
    return Object.keys(obj)[0];
  }

  function fmtStep(v) {
    if (v === null || v === undefined) return "";
    var a = Math.abs(v);
    if (a >= 1e6) return +(v / 1e6).toFixed(2) + "M";
    if (a >= 1e3) return +(v / 1e3).toFixed(1) + "k";
    return String(Math.round(v));
  }

  function fmtVal(v) {
    if (v === null || v === undefined || !isFinite(v)) return "-";
    var a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
    return String(+v.toPrecision(4));
  }

  function hasData(arr) {
    for (var i = 0; i < arr.length; i++) { if (arr[i] !== null && isFinite(arr[i])) return true; }
    return false;
  }

  // Decimated series carry no x: bucket j's two points sit at x0 + dx * (j + 0.25 | 0.75).
  function bucketX(c) {
    if (!c.x) {
      c.x = new Array(2 * c.buckets);
      for (var j = 0; j < c.buckets; j++) {
        c.x[2 * j] = c.x0 + c.dx * (j + 0.25);
        c.x[2 * j + 1] = c.x0 + c.dx * (j + 0.75);
      }
    }
    return c.x;
  }

  function runSeries(c, w) {
    if (c.raw) return [c.x, c.raw, ema(c.raw, w)];
    return [bucketX(c), c.levels[levelKey(c.levels, 0)], c.levels[levelKey(c.levels, w)]];
  }

  function groupSeries(g, w) {
    var lv = g.levels[levelKey(g.levels, w)];
    return [g.x].concat(lv.seeds, [lv.mean, lv.lo, lv.hi]);
  }

  function yRange(band) {
    return function (u, lo, hi) {
      if (lo === null || hi === null || !isFinite(lo) || !isFinite(hi)) { lo = 0; hi = 1; }
      if (band) { lo = Math.min(lo, band.low); hi = Math.max(hi, band.high); }
      // A constant curve (smoothing leaves it 1 +- 1e-16): a range that small breaks the ticks.
      if (hi - lo <= 1e-9 * Math.max(1, Math.abs(lo), Math.abs(hi))) {
        var mid = (lo + hi) / 2, d = Math.abs(mid) * 0.1 || 1;
        lo = mid - d;
        hi = mid + d;
      }
      var pad = (hi - lo) * 0.05;
      return [lo - pad, hi + pad];
    };
  }

  function drawUnder(c) {
    return function (u) {
      var ctx = u.ctx, b = u.bbox;
      ctx.save();
      ctx.beginPath();
      ctx.rect(b.left, b.top, b.width, b.height);
      ctx.clip();
      if (c.band) {
        var y0 = u.valToPos(c.band.high, "y", true), y1 = u.valToPos(c.band.low, "y", true);
        ctx.fillStyle = "rgba(46, 160, 67, 0.14)";
        ctx.fillRect(b.left, y0, b.width, Math.max(2, y1 - y0));
        ctx.strokeStyle = "rgba(46, 160, 67, 0.45)";
        ctx.setLineDash([4, 3]);
        ctx.strokeRect(b.left, y0, b.width, Math.max(2, y1 - y0));
        ctx.setLineDash([]);
      }
      (c.windows || []).forEach(function (w, k) {
        var x0 = u.valToPos(w.from, "x", true), x1 = u.valToPos(w.to, "x", true);
        var width = Math.max(4, x1 - x0);
        ctx.fillStyle = SEV_FILL[w.severity] || SEV_FILL.info;
        ctx.fillRect(x0, b.top, width, b.height);
        ctx.fillStyle = SEV_EDGE[w.severity] || SEV_EDGE.info;
        ctx.fillRect(x0, b.top, Math.max(1, devicePixelRatio), b.height);
        ctx.font = Math.round(11 * devicePixelRatio) + "px system-ui, sans-serif";
        // one line per window: windows often start at the same step
        ctx.fillText(w.rule, x0 + 4 * devicePixelRatio, b.top + (12 + 12 * k) * devicePixelRatio);
      });
      ctx.restore();
    };
  }

  function painted(u) {
    var b = u.bbox;
    if (b.width < 1 || b.height < 1) return 0;
    var img = u.ctx.getImageData(Math.round(b.left), Math.round(b.top), Math.round(b.width), Math.round(b.height));
    var n = 0;
    for (var i = 3; i < img.data.length; i += 4 * 7) { if (img.data[i] > 0) n++; }
    return n;
  }

  // Called from uPlot's draw hook, after every redraw (uPlot may batch the first one).
  function record(u) {
    var el = u.root.parentNode, data = u.data, count = 0;
    for (var i = 1; i < data.length; i++) { if (hasData(data[i])) count++; }
    el.setAttribute("data-series-count", String(count));
    // The last smoothed value, so a test can compare this EMA with Python's (TensorBoard's).
    var last = data.length > 2 ? data[2] : [];
    for (var j = last.length - 1; j >= 0; j--) {
      if (last[j] !== null && isFinite(last[j])) { el.setAttribute("data-last-smoothed", String(last[j])); break; }
    }
    el.setAttribute("data-painted", String(painted(u)));
    summarize();
  }

  function width(el) { return Math.max(320, Math.floor(el.clientWidth || el.parentNode.clientWidth || 600)); }

  function axes() {
    return [
      { values: function (u, vals) { return vals.map(fmtStep); } },
      { size: 62, values: function (u, vals) { return vals.map(fmtVal); } }
    ];
  }

  function makeRunChart(c, w) {
    var el = document.getElementById(c.id);
    if (!el) return;
    var data = runSeries(c, w);
    var opts = {
      width: width(el),
      height: 190,
      scales: { x: { time: false }, y: { range: yRange(c.band) } },
      axes: axes(),
      series: [
        { label: "step", value: function (u, v) { return fmtStep(v); } },
        { label: DATA.labels.raw, stroke: "rgba(31, 119, 180, 0.28)", width: 1, points: { show: false },
          spanGaps: !c.raw, value: function (u, v) { return fmtVal(v); } },
        { label: DATA.labels.smoothed, stroke: "#1f77b4", width: 1.6, points: { show: false },
          spanGaps: !c.raw, value: function (u, v) { return fmtVal(v); } }
      ],
      hooks: { drawClear: [drawUnder(c)], draw: [record] }
    };
    var u = new uPlot(opts, data, el);
    u.over.addEventListener("click", function (e) {
      var x = u.posToVal(e.offsetX, "x"), slack = u.posToVal(e.offsetX + 4, "x") - x;
      (c.windows || []).forEach(function (win) {
        if (x >= win.from - slack && x <= win.to + slack) location.hash = win.anchor;
      });
    });
    charts.push({ el: el, u: u, update: function (s) { u.setData(runSeries(c, s)); } });
  }

  function makeGroupChart(g, w) {
    var el = document.getElementById(g.id);
    if (!el) return;
    var data = groupSeries(g, w);
    var n = g.runs.length;
    var series = [{ label: "step", value: function (u, v) { return fmtStep(v); } }];
    for (var i = 0; i < n; i++) {
      series.push({ label: g.runs[i], stroke: "rgba(120, 130, 140, 0.45)", width: 1, points: { show: false },
        value: function (u, v) { return fmtVal(v); } });
    }
    series.push({ label: DATA.labels.mean, stroke: "#1f77b4", width: 2, points: { show: false },
      value: function (u, v) { return fmtVal(v); } });
    series.push({ label: "95% lo", stroke: "rgba(31, 119, 180, 0.35)", width: 0.5, points: { show: false },
      value: function (u, v) { return fmtVal(v); } });
    series.push({ label: "95% hi", stroke: "rgba(31, 119, 180, 0.35)", width: 0.5, points: { show: false },
      value: function (u, v) { return fmtVal(v); } });
    var opts = {
      width: width(el),
      height: 220,
      scales: { x: { time: false }, y: { range: yRange(null) } },
      axes: axes(),
      series: series,
      bands: [{ series: [n + 3, n + 2], fill: "rgba(31, 119, 180, 0.16)" }],
      hooks: { draw: [record] }
    };
    var u = new uPlot(opts, data, el);
    charts.push({ el: el, u: u, update: function (s) { u.setData(groupSeries(g, s)); } });
  }

  function summarize() {
    var s = document.getElementById("render-summary");
    if (!s) return;
    var drawn = 0, series = 0;
    charts.forEach(function (c) {
      series += Number(c.el.getAttribute("data-series-count") || 0);
      if (Number(c.el.getAttribute("data-painted") || 0) > 0) drawn++;
    });
    s.setAttribute("data-charts", String(charts.length));
    s.setAttribute("data-painted-charts", String(drawn));
    s.setAttribute("data-series", String(series));
    s.textContent = charts.length + " charts, " + drawn + " painted, " + series + " series";
  }

  var slider = document.getElementById("smoothing");
  var output = document.getElementById("smoothing-value");
  // report.html?smoothing=0.9 opens the page at that weight.
  var asked = Number(new URLSearchParams(location.search).get("smoothing"));
  if (location.search.indexOf("smoothing=") >= 0 && asked >= 0 && asked <= 0.99) {
    slider.value = String(asked);
    output.textContent = asked.toFixed(2);
  }
  var w = Number(slider.value);
  document.getElementById("render-summary").setAttribute("data-smoothing", String(w));
  DATA.runs.forEach(function (r) { r.charts.forEach(function (c) { makeRunChart(c, w); }); });
  DATA.groups.forEach(function (g) { makeGroupChart(g, w); });
  summarize();
  document.getElementById("render-summary").setAttribute("data-expected-charts", String(charts.length));

  slider.addEventListener("input", function () {
    var s = Number(slider.value);
    output.textContent = s.toFixed(2);
    document.getElementById("render-summary").setAttribute("data-smoothing", String(s));
    charts.forEach(function (c) { c.update(s); });
  });
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      charts.forEach(function (c) { c.u.setSize({ width: width(c.el), height: c.u.height }); });
    }, 150);
  });
})();
