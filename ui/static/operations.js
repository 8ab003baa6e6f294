// /operations: the firing alerts (Prometheus /api/v1/alerts) and the key panels (query_range), drawn with uPlot.
// Server strings are rendered with textContent only. Refreshes every 30 s.
"use strict";

(function () {
  const { make } = window.Strata;
  const COLORS = ["#e4572e", "#2a6fdb", "#1e8a4c", "#8e44ad", "#d4a017", "#17a2b8", "#6b7385", "#c2185b",
                  "#5d4037", "#00897b"];
  const REFRESH_MS = 30000;
  const panelsBox = document.getElementById("panels");
  const rangesBox = document.getElementById("ranges");
  const error = document.getElementById("error");
  const alertsTable = document.getElementById("alerts");
  const alertsMeta = document.getElementById("alerts-meta");
  const alertsError = document.getElementById("alerts-error");
  const alertsCount = document.getElementById("alerts-count");
  const state = { range: new URLSearchParams(location.search).get("range") || "1h", panels: [], charts: {} };

  // the UI's own errors are {error: {message}}; Prometheus's are {status: "error", error: "..."}
  async function getJson(path) {
    let response;
    try {
      response = await fetch(path);
    } catch (networkError) {
      throw new Error("The UI cannot be reached. Check your connection and try again.");
    }
    const body = await response.json().catch(() => null);
    if (!response.ok || (body && body.status === "error")) {
      const problem = body && body.error;
      const message = typeof problem === "string" ? problem : problem && problem.message;
      throw new Error(message || "Request failed (HTTP " + response.status + ").");
    }
    return body;
  }

  const FORMATS = {
    reqps: (v) => fixed(v) + "/s",
    ratio: (v) => fixed(v * 100) + "%",
    seconds: (v) => (Math.abs(v) < 1 ? fixed(v * 1000) + " ms" : fixed(v) + " s"),
    bool: (v) => (v >= 0.5 ? "yes" : "no"),
    score: (v) => fixed(v),
  };

  function fixed(v) {
    const a = Math.abs(v);
    return a === 0 ? "0" : a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 0.01 ? v.toFixed(2) : v.toPrecision(2);
  }

  function format(unit, value) {
    return value === null || value === undefined || Number.isNaN(value) ? "–" : (FORMATS[unit] || fixed)(value);
  }

  // Prometheus matrix -> uPlot's aligned columns: one x (seconds), one y column per series (null where missing)
  function aligned(result) {
    const times = [...new Set(result.flatMap((s) => s.values.map(([t]) => t)))].sort((a, b) => a - b);
    const index = new Map(times.map((t, i) => [t, i]));
    const columns = result.map((series) => {
      const ys = new Array(times.length).fill(null);
      for (const [t, v] of series.values) {
        const y = parseFloat(v);
        ys[index.get(t)] = Number.isFinite(y) ? y : null;
      }
      return ys;
    });
    return [times, ...columns];
  }

  function seriesName(metric, legend) {
    const main = metric[legend] || metric.component || Object.values(metric)[0] || "value";
    const rest = Object.entries(metric).filter(([k]) => k !== legend && k !== "__name__").map(([k, v]) => k + "=" + v);
    return rest.length ? main + " {" + rest.join(", ") + "}" : main;
  }

  function draw(panel, result) {
    const box = panelsBox.querySelector(`article[data-panel="${panel.id}"] .ops-chart`);
    if (state.charts[panel.id]) state.charts[panel.id].destroy();
    delete state.charts[panel.id];
    box.replaceChildren();
    box.dataset.series = String(result.length);
    box.dataset.points = String(result.reduce((n, s) => n + s.values.length, 0));
    if (!result.length) {
      box.append(make("div", "empty muted", "No data in this range (nothing exports it yet, or it is all zero)."));
      return;
    }
    const yAxis = { size: 58, font: "11px system-ui", values: (u, splits) => splits.map((v) => format(panel.unit, v)) };
    if (panel.unit === "bool") yAxis.splits = () => [0, 1];  // yes / no, nothing between
    const opts = {
      width: Math.max(box.clientWidth, 320),
      height: 200,
      cursor: { points: { size: 5 } },
      scales: { x: { time: true },
                y: { range: (u, min, max) => (panel.unit === "bool" ? [-0.1, 1.1]
                                               : [Math.min(0, min), max > 0 ? max * 1.1 : 1]) } },
      axes: [{ size: 30, font: "11px system-ui" }, yAxis],
      series: [{}, ...result.map((s, i) => ({
        label: seriesName(s.metric, panel.legend),
        stroke: COLORS[i % COLORS.length],
        width: 1.5,
        spanGaps: false,
        points: { show: false },
        value: (u, v) => format(panel.unit, v),
      }))],
    };
    state.charts[panel.id] = new uPlot(opts, aligned(result), box);
  }

  async function loadPanel(panel) {
    const article = panelsBox.querySelector(`article[data-panel="${panel.id}"]`);
    const problem = article.querySelector(".panel-error");
    try {
      const body = await getJson(`/api/operations/panels/${encodeURIComponent(panel.id)}?range=${state.range}`);
      draw(panel, body.data.result);
      problem.hidden = true;
    } catch (failure) {
      problem.textContent = failure.message;
      problem.hidden = false;
      throw failure;
    }
  }

  function panelCard(panel) {
    const article = make("article", "ops-panel");
    article.dataset.panel = panel.id;
    const title = make("h2", null, panel.title);
    title.prepend(make("span", "flow", panel.flow === "all" ? "every layer" : panel.flow + " flow"));
    const chart = make("div", "ops-chart");
    chart.append(make("div", "empty muted", "Loading…"));
    const problem = make("div", "error panel-error");
    problem.setAttribute("role", "alert");
    problem.hidden = true;
    const query = make("details", "muted");
    query.append(make("summary", null, "PromQL"), make("code", null, panel.query));
    article.append(title, make("p", "help muted", panel.help), chart, problem, query);
    return article;
  }

  function rangeButtons(ranges) {
    rangesBox.replaceChildren();
    for (const name of ranges) {
      const button = make("button", null, name);
      button.type = "button";
      button.dataset.range = name;
      button.setAttribute("aria-pressed", String(name === state.range));
      button.addEventListener("click", () => {
        state.range = name;
        for (const b of rangesBox.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b === button));
        history.replaceState(null, "", "?range=" + name);
        refreshPanels();
      });
      rangesBox.append(button);
    }
  }

  function since(iso) {
    if (!iso) return "";
    const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (seconds < 120) return Math.round(seconds) + " s";
    if (seconds < 7200) return Math.round(seconds / 60) + " min";
    return Math.round(seconds / 3600) + " h";
  }

  function alertRow(alert) {
    const labels = alert.labels || {};
    const tr = make("tr");
    tr.dataset.alert = labels.alertname || "";
    tr.dataset.component = labels.component || "";
    tr.dataset.field = labels.feature || labels.field || "";
    const name = make("td");
    name.append(make("code", null, labels.alertname || "?"));
    const severity = make("td");
    severity.append(make("span", "severity severity-" + (labels.severity || "none"), labels.severity || "—"));
    const join = (...parts) => parts.filter(Boolean).join(" · ") || "—";
    const where = labels.feature ? "feature " + labels.feature : labels.field ? "field " + labels.field : "—";
    const summary = (alert.annotations && (alert.annotations.summary || alert.annotations.description)) || "";
    tr.append(name, severity, make("td", null, labels.component || "—"), make("td", null, join(labels.layer, labels.flow)),
              make("td", null, join(labels.model, labels.version && "v" + labels.version)), make("td", null, where),
              make("td", null, since(alert.activeAt)), make("td", null, summary));
    return tr;
  }

  async function refreshAlerts() {
    try {
      const body = await getJson("/api/operations/alerts");
      const active = body.data.alerts || [];
      const firing = active.filter((a) => a.state === "firing");
      const pending = active.length - firing.length;
      alertsCount.textContent = String(firing.length);
      alertsCount.dataset.firing = String(firing.length > 0);
      const tbody = alertsTable.querySelector("tbody");
      tbody.replaceChildren(...firing.map(alertRow));
      alertsTable.hidden = firing.length === 0;
      alertsMeta.textContent = (firing.length ? "" : "No alert is firing. ") +
        (pending ? pending + " pending (condition true, waiting for its `for:` duration)." : "");
      alertsMeta.hidden = !alertsMeta.textContent;
      alertsError.hidden = true;
    } catch (failure) {
      alertsMeta.hidden = true;
      alertsError.textContent = failure.message;
      alertsError.hidden = false;
    }
  }

  async function refreshPanels() {
    const outcomes = await Promise.allSettled(state.panels.map(loadPanel));
    const failed = outcomes.filter((o) => o.status === "rejected");
    // one message when Prometheus itself is away, rather than the same one under every panel
    if (failed.length === state.panels.length && failed.length) {
      for (const box of panelsBox.querySelectorAll(".panel-error")) box.hidden = true;
      error.textContent = failed[0].reason.message;
      error.hidden = false;
    } else {
      error.hidden = true;
    }
  }

  async function refresh() {
    await Promise.all([refreshAlerts(), refreshPanels()]);
    document.body.dataset.loaded = "true";
    document.body.dataset.refreshedAt = String(Date.now());
  }

  async function start() {
    try {
      const body = await getJson("/api/operations/panels");
      state.panels = body.panels;
      if (!body.ranges.includes(state.range)) state.range = "1h";
      rangeButtons(body.ranges);
      panelsBox.replaceChildren(...state.panels.map(panelCard));
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
      document.body.dataset.loaded = "true";
      return;
    }
    await refresh();
    setInterval(refresh, REFRESH_MS);
  }

  start();
})();
