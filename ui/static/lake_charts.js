// Charts of the lake pages, drawn with the vendored uPlot: histograms, bar timelines and sparklines.
"use strict";

window.LakeCharts = (function () {
  const ACCENT = "#e4572e";
  const FILL = "rgba(228, 87, 46, 0.35)";
  const BEFORE = "#6b7280";  // the older version of a comparison

  // ISO times of zone-less columns are wall-clock times: read them as UTC and label them in UTC, unshifted.
  function seconds(text) {
    const zoned = /[zZ]$|[+-]\d\d:\d\d$/.test(text);
    return Date.parse(zoned ? text : text + (text.length === 10 ? "T00:00:00Z" : "Z")) / 1000;
  }

  // A y axis as wide as its longest label (uPlot's own sizing recipe): a fixed width cut "10,000" to "0,000".
  function labelledSize(u, values, index, cycle) {
    const axis = u.axes[index];
    if (cycle > 1) return axis._size;
    const longest = (values || []).reduce((a, b) => (b.length > a.length ? b : a), "");
    u.ctx.font = axis.font[0];
    return Math.ceil(axis.ticks.size + axis.gap + u.ctx.measureText(longest).width / devicePixelRatio + 4);
  }

  function bars(element, xs, ys, { time = false, height = 140, width, xRange, labels } = {}) {
    element.replaceChildren();
    const xAxis = { size: 30, font: "11px system-ui" };
    if (labels) {  // categorical x (partition values): integer positions, labelled with the values
      Object.assign(xAxis, { incrs: [1, 2, 5, 7, 10, 14, 30, 60, 90, 180, 365],
                             values: (u, splits) => splits.map((i) => labels[i] || "") });
    }
    const opts = {
      width: width || Math.max(element.clientWidth, 280),
      height,
      legend: { show: false },
      cursor: { points: { show: false } },
      scales: { x: { time, range: xRange ? () => xRange : undefined },
                y: { range: (u, min, max) => [0, Math.max(max, 1)] } },
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
      axes: [xAxis, { size: labelledSize, font: "11px system-ui" }],
      series: [{}, { stroke: ACCENT, fill: FILL, width: 1, points: { show: false },
                     paths: uPlot.paths.bars({ size: [0.92, Infinity] }) }],
    };
    element.dataset.total = String(ys.reduce((a, b) => a + b, 0));
    element.dataset.bars = String(ys.length);
    return new uPlot(opts, [xs, ys], element);
  }

  function histogram(element, histogram, temporal) {
    const edges = histogram.edges.map((edge) => (temporal ? seconds(edge) : edge));
    const centers = histogram.counts.map((_, i) => (edges[i] + edges[i + 1]) / 2);
    return bars(element, centers, histogram.counts, { time: temporal, xRange: [edges[0], edges[edges.length - 1]] });
  }

  // One column of two table versions on one axis: each histogram as a density (share per unit of x, their bins
  // differ), a grey step line for the older version, the accent for the newer. null when a histogram is empty.
  function overlay(element, before, after, temporal) {
    element.replaceChildren();
    const steps = (histogram) => {
      const edges = histogram.edges.map((edge) => (temporal ? seconds(edge) : edge));
      const total = histogram.counts.reduce((a, b) => a + b, 0);
      if (!total || edges.some((edge, i) => i > 0 && !(edge > edges[i - 1]))) return null;
      const ys = histogram.counts.map((count, i) => count / total / (edges[i + 1] - edges[i]));
      return [edges, [...ys, ys[ys.length - 1]]];  // the last edge closes the last bin
    };
    const sides = [steps(before), steps(after)];
    if (sides.includes(null)) return null;
    element.dataset.series = "2";
    const line = (stroke, fill) => ({ stroke, fill, width: 1.5, spanGaps: true, points: { show: false },
                                      paths: uPlot.paths.stepped({ align: 1 }) });
    return new uPlot({
      width: 220, height: 70, legend: { show: false }, cursor: { show: false },
      scales: { x: { time: temporal }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.05 : 1] } },
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
      axes: [{ size: 22, font: "10px system-ui", space: 40 }, { show: false }],
      series: [{}, line(BEFORE, null), line(ACCENT, FILL)],
    }, uPlot.join(sides), element);
  }

  function timeline(element, partitions) {
    const labels = partitions.map((p) => (/^\d{4}-\d{2}-\d{2}$/.test(p.value) ? p.value.slice(5) : p.value));
    const xs = partitions.map((p, i) => i);
    return bars(element, xs, partitions.map((p) => p.rows),
                { height: 180, labels, xRange: [-0.5, partitions.length - 0.5] });
  }

  function sparkline(element, values) {
    element.replaceChildren();
    element.dataset.points = String(values.length);
    if (!values.length) return null;
    const xs = values.map((_, i) => i);
    return new uPlot({
      width: 160, height: 34, legend: { show: false }, cursor: { show: false },
      scales: { x: { time: false }, y: { range: (u, min, max) => [0, Math.max(max, 1)] } },
      axes: [{ show: false }, { show: false }],
      series: [{}, { stroke: ACCENT, fill: FILL, width: 1.5, points: { show: values.length === 1 } }],
    }, [xs, values], element);
  }

  return Object.freeze({ bars, histogram, overlay, timeline, sparkline, seconds });
})();
