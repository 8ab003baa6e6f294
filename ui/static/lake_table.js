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
  function columnsOf(profile) {
    return new Map(profile.profile.columns.map((column) => [column.name, column]));
  }

  // What a column looked like in each version: both histograms on one axis (drawn by ``draw`` once the cell is in
  // the page), or the shares of the top categories that moved most.
  function beforeAfter(kind, before, after) {
    const cell = make("td", "compare-shape");
    if (!before || !after) return { cell, draw: null };
    const [b, a] = [before.summary || {}, after.summary || {}];
    if (b.histogram && a.histogram) {
      const chart = make("div", "compare-chart");
      cell.append(chart);
      const draw = () => {
        if (!LakeCharts.overlay(chart, b.histogram, a.histogram, kind === "temporal")) chart.replaceWith("—");
      };
      return { cell, draw };
    }
    if (b.top && a.top) {
      const share = (summary, value) => {
        const found = summary.top.find((item) => item.value === value);
        return found && summary.present ? found.count / summary.present : 0;
      };
      const values = [...new Set([...b.top, ...a.top].map((item) => item.value))];
      const moved = values.map((value) => [value, share(b, value), share(a, value)])
        .sort((x, y) => Math.abs(y[2] - y[1]) - Math.abs(x[2] - x[1])).slice(0, 3);
      const list = make("ul", "compare-shares");
      for (const [value, was, is] of moved) list.append(make("li", null, value + " " + percent(was) + " → " + percent(is)));
      cell.append(list);
    }
    return { cell, draw: null };
  }

  function compareRow(name, kind, values, drift, drifted, threshold, cell) {
    const tr = make("tr");
    tr.dataset.column = name;
    const [[m0, m1], [d0, d1], [a0, a1]] = values;
    const driftCell = make("td", drifted ? "drifted" : null, drift === null || drift === undefined ? "—" : drift.toFixed(3));
    if (drifted) driftCell.title = "above " + threshold;
    tr.append(make("td", null, name), make("td", null, percent(m0) + " → " + percent(m1)),
              make("td", null, fmt(d0) + " → " + fmt(d1)), make("td", null, a0 === null ? "—" : fmt(a0) + " → " + fmt(a1)),
              driftCell, make("td", "muted", kind), cell);
    return tr;
  }

  function summaryValues(before, after) {
    const pick = (column, read) => (column ? read(column.summary || {}) : null);
    const distinct = (summary) => (summary.distinct ? summary.distinct.estimate : null);
    return [[pick(before, (s) => s.missing_rate || 0), pick(after, (s) => s.missing_rate || 0)],
            [pick(before, distinct), pick(after, distinct)],
            [pick(before, (s) => s.mean ?? null), pick(after, (s) => s.mean ?? null)]];
  }

  function renderCompare(diff, beforeProfile, afterProfile) {
    el("compare").hidden = false;
    el("compare-title").textContent = "Changes v" + diff.from.version + " → v" + diff.to.version;
    el("compare-legend").textContent = "grey v" + diff.from.version + ", orange v" + diff.to.version;
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
    for (const r of schema.renamed) {
      change("renamed", "renamed " + r.from + " → " + r.to + " (" + r.type + ", same distribution: drift " +
        r.drift.toFixed(3) + ")");
    }
    for (const c of schema.added) if (!renamed.has(c.name)) change("added", "added " + c.name + " (" + c.type + ")");
    for (const c of schema.removed) if (!renamed.has(c.name)) change("removed", "removed " + c.name + " (" + c.type + ")");
    for (const c of schema.retyped) change("retyped", "re-typed " + c.name + ": " + c.from + " → " + c.to);
    if (!changes.children.length) change("none", "Same columns, same types.");
    const [before, after] = [columnsOf(beforeProfile), columnsOf(afterProfile)];
    const body = el("compare-columns").querySelector("tbody");
    body.replaceChildren();
    const charts = [];
    for (const r of schema.renamed) {  // a renamed column: its old name's values against its new name's
      const [old, now] = [before.get(r.from), after.get(r.to)];
      const kind = now ? now.kind : "";
      const shape = beforeAfter(kind, old, now);
      const tr = compareRow(r.to, kind, summaryValues(old, now), r.drift, false, diff.threshold, shape.cell);
      tr.firstChild.textContent = r.from + " → " + r.to;
      body.append(tr);
      if (shape.draw) charts.push(shape.draw);
    }
    for (const column of diff.columns) {
      const shape = beforeAfter(column.kind, before.get(column.name), after.get(column.name));
      body.append(compareRow(column.name, column.kind, [column.missing_rate, column.distinct, column.mean],
                             column.drift, column.drifted, diff.threshold, shape.cell));
      if (shape.draw) charts.push(shape.draw);
    }
    for (const draw of charts) draw();  // after layout
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
        const [diff, before, after] = await Promise.all([
          callApi(api + "/diff?from=" + first + "&to=" + second),
          callApi(api + "/profile?version=" + first), callApi(api + "/profile?version=" + second)]);
        renderCompare(diff, before, after);
      }
      document.body.dataset.loaded = "true";
    } catch (problem) {
      el("error").textContent = problem.message;
      el("error").hidden = false;
    }
  }

  load();
})();
