// /lake/<table>[?version=N][&compare=A..B]: a table version's profile — schema, per-column statistics and
// histograms, the partition timeline, lineage up and down — and what changed between two versions.
// Data comes from the data lake's API through the UI's /api/lake relay; server strings go in with textContent.
"use strict";

(function () {
  const { make, callApi } = window.Strata;
  const el = (id) => document.getElementById(id);
  const table = decodeURIComponent(location.pathname.split("/").pop());
  const params = new URLSearchParams(location.search);
  const api = "/api/lake/tables/" + encodeURIComponent(table);

  function fmt(value) {
    if (value === null || value === undefined) return "—";
    if (typeof value === "number") {
      if (Number.isInteger(value)) return value.toLocaleString();
      return Math.abs(value) >= 1e5 || Math.abs(value) < 1e-3 ? value.toExponential(3) : value.toPrecision(4);
    }
    return String(value).replace("T00:00:00", "").slice(0, 19);
  }

  function percent(rate) {
    return (rate * 100).toFixed(rate > 0 && rate < 0.001 ? 3 : 1) + "%";
  }

  function fact(list, term, value) {
    const item = make("div");
    item.append(make("dt", null, term), make("dd", null, value));
    list.append(item);
  }

  // ---- header and version pickers ---------------------------------------------------------------------------
  function renderHeader(body) {
    document.title = "Strata · " + body.name;
    el("table-title").textContent = body.name;
    const facts = el("facts");
    facts.replaceChildren();
    const meta = body.profile.meta || {};
    fact(facts, "zone", body.zone);
    fact(facts, "version", "v" + body.version + " of " + body.latest_version);
    fact(facts, "rows", body.rows.toLocaleString());
    fact(facts, "committed", body.committed_at.slice(0, 19).replace("T", " "));
    fact(facts, "columns", String(body.schema.length));
    if (body.freshness) fact(facts, "newest " + body.freshness.column, fmt(body.freshness.newest));
    fact(facts, "profiled by", (meta.engine || "?") + " · " + meta.files_read + " of " + meta.files + " files read");
    fillVersions(body.latest_version, body.version);
  }

  function fillVersions(latest, current) {
    const [first, second] = compareRange(latest);
    for (const [id, chosen] of [["version", current], ["compare-from", first], ["compare-to", second]]) {
      const select = el(id);
      select.replaceChildren();
      for (let v = latest; v >= 1; v--) {
        const option = make("option", null, String(v));
        option.value = String(v);
        option.selected = v === chosen;
        select.append(option);
      }
    }
  }

  function compareRange(latest) {
    const match = /^(\d+)\.\.(\d+)$/.exec(params.get("compare") || "");
    return match ? [Number(match[1]), Number(match[2])] : [Math.max(latest - 1, 1), latest];
  }

  el("version").addEventListener("change", (event) => {
    location.search = "?version=" + encodeURIComponent(event.target.value);
  });
  el("compare-form").addEventListener("submit", (event) => {
    event.preventDefault();
    location.search = "?compare=" + el("compare-from").value + ".." + el("compare-to").value;
  });

  // ---- columns ----------------------------------------------------------------------------------------------
  function renderColumns(profile) {
    const grid = el("columns");
    grid.replaceChildren();
    const charts = [];
    for (const column of profile.columns) {
      const card = make("article", "lake-column");
      card.dataset.column = column.name;
      card.dataset.kind = column.kind;
      card.append(make("h3", null, column.name), make("span", "type", column.type + " · " + column.kind));
      const summary = column.summary || {};
      card.append(stats(column, summary));
      if (summary.histogram) {
        const chart = make("div", "lake-chart histogram");
        card.append(chart);
        charts.push(() => LakeCharts.histogram(chart, summary.histogram, column.kind === "temporal"));
      } else if (summary.top && summary.top.length) {
        card.append(topList(summary.top, summary.present));
      } else if (column.kind === "categorical") {
        card.append(make("p", "muted", "No frequent values: nearly every value is distinct."));
      }
      grid.append(card);
    }
    for (const draw of charts) draw();  // after layout: charts take their card's width
  }

  function stats(column, summary) {
    const list = make("dl", "lake-stats");
    const distinct = summary.distinct;
    const pairs = [
      ["missing", percent(summary.missing_rate || 0)],
      ["distinct", distinct ? (distinct.exact ? "" : "≈") + distinct.estimate.toLocaleString() : "—"],
    ];
    if (summary.quantiles) {
      pairs.push(["min", fmt(summary.min)], ["median", fmt(summary.quantiles.p50)], ["max", fmt(summary.max)]);
      if (summary.mean !== undefined) pairs.push(["mean", fmt(summary.mean)], ["std", fmt(summary.std)]);
      pairs.push(["p05..p95", fmt(summary.quantiles.p05) + " .. " + fmt(summary.quantiles.p95)]);
    }
    for (const [term, value] of pairs) list.append(make("dt", null, term), make("dd", null, value));
    return list;
  }

  function topList(top, present) {
    const list = make("ul", "lake-top");
    const most = Math.max(...top.map((item) => item.count), 1);
    for (const item of top.slice(0, 10)) {
      const li = make("li");
      const bar = make("span", "bar");
      bar.style.width = Math.max((item.count / most) * 100, 1) + "%";
      const share = present ? " (" + percent(item.count / present) + ")" : "";
      li.append(make("span", "label", item.value), bar, make("span", null, item.count.toLocaleString() + share));
      li.firstChild.title = item.value;
      list.append(li);
    }
    return list;
  }

  // ---- partitions and lineage -------------------------------------------------------------------------------
  function renderPartitions(body) {
    const partitions = body.profile.partitions;
    const caption = el("partitions-caption");
    if (!partitions.length) {
      caption.textContent = "No partition.";
      return;
    }
    const rows = partitions.map((p) => p.rows);
    caption.textContent = partitions.length + " partitions by " + body.partition_column + ", " +
      partitions[0].value + " .. " + partitions[partitions.length - 1].value + ", " +
      Math.min(...rows).toLocaleString() + " to " + Math.max(...rows).toLocaleString() + " rows each";
    LakeCharts.timeline(el("partitions-chart"), partitions);
  }

  function tableLink(name, suffix) {
    const item = make("li");
    const link = make("a", null, name);
    link.href = "/lake/" + encodeURIComponent(name);
    item.append(link, document.createTextNode(suffix));
    return item;
  }

  function renderLineage(lineage, details) {
    const up = el("upstream");
    const down = el("downstream");
    up.replaceChildren();
    down.replaceChildren();
    for (const source of lineage.upstream) {
      up.append(source.table ? tableLink(source.table, " @v" + source.version) : make("li", "muted", source.input));
    }
    for (const reader of lineage.downstream) {
      const note = " v" + reader.version + " (" + reader.job + ") reads v" + reader.reads_version +
        (reader.reads_latest ? "" : " — not the latest");
      down.append(tableLink(reader.table, note));
    }
    if (!lineage.upstream.length) up.append(make("li", "muted", "no recorded input"));
    if (!lineage.downstream.length) down.append(make("li", "muted", "no table reads it"));
    const commits = el("commits");
    commits.replaceChildren();
    for (const commit of details.commits.slice().reverse()) {
      commits.append(make("li", null, "v" + commit.version + "  " + commit.mode + "  " + commit.rows.toLocaleString() +
        " rows  " + commit.at.slice(0, 19) + "  " + commit.job + " ← " + (commit.inputs.join(", ") || "-")));
    }
  }

  // ---- compare ----------------------------------------------------------------------------------------------
  function renderCompare(diff) {
    el("compare").hidden = false;
    el("compare-title").textContent = "Changes v" + diff.from.version + " → v" + diff.to.version;
    const rows = diff.rows;
    const ratio = rows.ratio === null ? "" : " (" + (rows.ratio >= 1 ? "+" : "") + ((rows.ratio - 1) * 100).toFixed(1) + "%)";
    el("compare-rows").textContent = "Rows " + rows.from.toLocaleString() + " → " + rows.to.toLocaleString() + ratio;
    const changes = el("schema-changes");
    changes.replaceChildren();
    const schema = diff.schema;
    const renamed = new Set(schema.renamed.flatMap((r) => [r.from, r.to]));
    const change = (kind, text) => {
      const li = make("li", null, text);
      li.dataset.change = kind;
      changes.append(li);
    };
    for (const r of schema.renamed) change("renamed", "renamed " + r.from + " → " + r.to + " (" + r.type + ", same values)");
    for (const c of schema.added) if (!renamed.has(c.name)) change("added", "added " + c.name + " (" + c.type + ")");
    for (const c of schema.removed) if (!renamed.has(c.name)) change("removed", "removed " + c.name + " (" + c.type + ")");
    for (const c of schema.retyped) change("retyped", "re-typed " + c.name + ": " + c.from + " → " + c.to);
    if (!changes.children.length) change("none", "Same columns, same types.");
    const body = el("compare-columns").querySelector("tbody");
    body.replaceChildren();
    for (const column of diff.columns) {
      const tr = make("tr");
      tr.dataset.column = column.name;
      const [m0, m1] = column.missing_rate;
      const [d0, d1] = column.distinct;
      const [a0, a1] = column.mean;
      const drift = make("td", column.drifted ? "drifted" : null, column.drift === null ? "—" : column.drift.toFixed(3));
      if (column.drifted) drift.title = "above " + diff.threshold;
      tr.append(make("td", null, column.name), make("td", null, percent(m0) + " → " + percent(m1)),
                make("td", null, fmt(d0) + " → " + fmt(d1)), make("td", null, a0 === null ? "—" : fmt(a0) + " → " + fmt(a1)),
                drift, make("td", "muted", column.kind));
      body.append(tr);
    }
  }

  async function load() {
    try {
      const version = params.get("version");
      const profile = await callApi(api + "/profile" + (version ? "?version=" + encodeURIComponent(version) : ""));
      renderHeader(profile);
      renderColumns(profile.profile);
      renderPartitions(profile);
      const [lineage, details] = await Promise.all([callApi(api + "/lineage"), callApi(api)]);
      renderLineage(lineage, details);
      if (params.get("compare")) {
        const [first, second] = compareRange(profile.latest_version);
        renderCompare(await callApi(api + "/diff?from=" + first + "&to=" + second));
      }
      document.body.dataset.loaded = "true";
    } catch (problem) {
      el("error").textContent = problem.message;
      el("error").hidden = false;
    }
  }

  load();
})();
