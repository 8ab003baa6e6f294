// /lake: every table of the data lake with zone, versions, rows, freshness and a row-count sparkline.
// Server strings are rendered with textContent only.
"use strict";

(function () {
  const { make, callApi } = window.Strata;
  const body = document.querySelector("#tables tbody");
  const error = document.getElementById("error");

  function age(seconds) {
    if (seconds === null || seconds === undefined) return "";
    const s = Math.abs(seconds);
    if (s < 7200) return Math.round(s / 60) + " min ago";
    if (s < 172800) return Math.round(s / 3600) + " h ago";
    return Math.round(s / 86400) + " d ago";
  }

  function row(table) {
    const tr = make("tr");
    tr.dataset.table = table.name;
    const link = make("a", null, table.name);
    link.href = "/lake/" + encodeURIComponent(table.name);
    const name = make("td");
    name.append(link);
    const zone = make("td");
    zone.append(make("span", "zone zone-" + table.zone, table.zone));
    const fresh = table.freshness;
    const freshness = make("td", null, fresh ? fresh.newest + " · " + age(fresh.age_seconds) : "—");
    if (fresh) freshness.title = "newest " + fresh.column;
    const spark = make("td");
    const chart = make("div", "sparkline");
    spark.append(chart);
    tr.append(name, zone, make("td", null, "v" + table.version), make("td", "num", table.rows.toLocaleString()),
              freshness, spark);
    return [tr, chart, table.partition_rows.map((p) => p.rows)];
  }

  async function load() {
    try {
      const { tables } = await callApi("/api/lake/overview");
      body.replaceChildren();
      if (!tables.length) {
        const empty = make("tr");
        empty.append(make("td", "muted", "The lake has no table yet."));
        body.append(empty);
      }
      const charts = tables.map(row);
      for (const [tr] of charts) body.append(tr);
      for (const [, chart, values] of charts) LakeCharts.sparkline(chart, values);
    } catch (problem) {
      error.textContent = problem.message;
      error.hidden = false;
    }
  }

  load();
})();
