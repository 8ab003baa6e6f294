// The partition tree of a model page (model.js calls StrataTree.load for a partitioned model): every node of a
// logical model's tree (global -> country -> city) with its status, rows, metric against its parent and the node
// that serves it. Data comes from the inference engine's tree API through the UI's /api relay. Every server
// string is rendered with textContent, never innerHTML.
"use strict";

(function () {
  const { make, callApi } = window.Strata;
  const LOWER_IS_BETTER = new Set(["mae", "rmse", "mse", "logloss"]);
  const el = (id) => document.getElementById(id);
  const ui = {
    page: el("model-page"),
    meta: el("tree-meta"),
    summary: el("summary"),
    filter: el("node-filter"),
    tree: el("tree"),
    body: el("tree").querySelector("tbody"),
    noMatch: el("no-match"),
    error: el("error"),
  };
  const collapsed = new Set();
  let nodes = [];



  function showError(message) {
    ui.meta.textContent = "";
    ui.error.textContent = message;
    ui.error.hidden = false;
  }

  function parentOf(nodeId) {
    if (nodeId === "global") return null;
    const cut = nodeId.lastIndexOf("/");
    return cut < 0 ? "global" : nodeId.slice(0, cut);
  }

  function isHiddenByCollapse(nodeId) {
    for (let parent = parentOf(nodeId); parent; parent = parentOf(parent)) {
      if (collapsed.has(parent)) return true;
    }
    return false;
  }

  function number(value, digits) {
    return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
  }

  function statusBadge(status) {
    const kind = status.startsWith("skipped") ? "skipped" : status;
    const badge = make("span", "badge badge-" + kind, status.replace(/_/g, " "));
    badge.dataset.status = status;
    return badge;
  }

  function versusParent(node, metricName) {
    const cell = make("td");
    if (node.metric === null || node.parent_metric === null || node.parent_metric === undefined) {
      cell.textContent = "–";
      return cell;
    }
    const delta = node.metric - node.parent_metric;
    const better = LOWER_IS_BETTER.has(metricName) ? delta < 0 : delta > 0;
    const sign = delta > 0 ? "+" : "";
    cell.className = better ? "mt-better" : "mt-worse";
    cell.textContent = sign + delta.toFixed(4) + " (" + (node.compared_with || "parent") + " " +
      number(node.parent_metric, 4) + ")";
    return cell;
  }

  function servedByCell(node) {
    const cell = make("td", node.served_by === node.node ? "" : "mt-fallback");
    if (!node.served_by) cell.textContent = "nobody";
    else if (node.served_by === node.node) cell.textContent = "itself";
    else cell.textContent = "↑ " + node.served_by;
    return cell;
  }

  function nodeCell(node, hasChildren) {
    const cell = make("td");
    if (hasChildren && node.level > 0) {
      const toggle = make("button", "mt-toggle", collapsed.has(node.node) ? "▸" : "▾");
      toggle.type = "button";
      toggle.setAttribute("aria-expanded", String(!collapsed.has(node.node)));
      toggle.setAttribute("aria-label", "Show or hide the children of " + node.node);
      toggle.addEventListener("click", () => {
        if (collapsed.has(node.node)) collapsed.delete(node.node);
        else collapsed.add(node.node);
        render();
      });
      cell.append(toggle);
    }
    const label = node.key && node.key.length ? node.key[node.key.length - 1] : "global";
    const name = make("span", "mt-name", label);
    name.title = node.node;
    cell.append(name);
    return cell;
  }

  function row(node, metricName, hasChildren) {
    const tr = make("tr");
    tr.dataset.node = node.node;
    tr.dataset.level = String(node.level);
    tr.dataset.status = node.status;
    const status = make("td");
    status.append(statusBadge(node.status));
    if (node.reason) status.append(make("span", "mt-why", node.reason));
    tr.append(
      nodeCell(node, hasChildren),
      status,
      make("td", "num", node.rows),
      make("td", "num", number(node.metric, 4)),
      versusParent(node, metricName),
      servedByCell(node),
    );
    return tr;
  }

  function matches(node, text) {
    if (!text) return true;
    const haystack = [node.node, node.status, node.reason, node.served_by].join(" ").toLowerCase();
    return haystack.includes(text);
  }

  function render() {
    const text = ui.filter.value.trim().toLowerCase();
    const parents = new Set(nodes.map((node) => parentOf(node.node)));
    const metricName = ui.tree.dataset.metric || "";
    // while filtering every match shows, collapsed or not: the filter is how one finds a city
    const visible = nodes.filter((node) => matches(node, text) && (text || !isHiddenByCollapse(node.node)));
    ui.body.replaceChildren(...visible.map((node) => row(node, metricName, parents.has(node.node))));
    ui.noMatch.hidden = visible.length > 0;
  }

  function stat(name, label, value) {
    const box = make("div", "mt-stat");
    box.dataset.count = name;
    box.append(make("span", "value", value), make("span", "label", label));
    return box;
  }

  function showSummary(tree) {
    const counts = tree.counts || {};
    const count = (status) => counts[status] || 0;
    ui.summary.replaceChildren(
      stat("nodes", "nodes", tree.nodes.length),
      stat("trained", "trained", count("trained")),
      stat("worse_than_parent", "worse than parent", count("worse_than_parent")),
      stat("skipped_min_rows", "below min_rows (" + tree.min_rows + ")", count("skipped_min_rows")),
    );
    // statuses of the stricter rules appear only when the spec uses them
    if (count("not_better_by_min_improvement")) {
      ui.summary.append(stat("not_better_by_min_improvement", "not better by min_improvement",
        count("not_better_by_min_improvement")));
    }
    if (count("skipped_min_validation_rows")) {
      ui.summary.append(stat("skipped_min_validation_rows", "too few validation rows",
        count("skipped_min_validation_rows")));
    }
    const holdout = tree.holdout && tree.holdout[tree.metric];
    ui.meta.textContent = "version " + tree.version + " · partitioned by " + tree.partition_by.join(" → ") +
      " · " + tree.algorithm + " · decided on " + tree.metric +
      (holdout === undefined ? "" : " · held-out " + tree.metric + " " + number(holdout, 4));
  }

  // parents before their children, siblings in the engine's order: global, NL, NL's cities, PT, ...
  function treeOrder(all) {
    const children = new Map();
    all.forEach((node) => {
      const parent = parentOf(node.node);
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent).push(node);
    });
    const known = new Set(all.map((node) => node.node));
    const ordered = [];
    const walk = (node) => {
      ordered.push(node);
      (children.get(node.node) || []).forEach(walk);
    };
    all.filter((node) => !known.has(parentOf(node.node))).forEach(walk);
    return ordered;
  }

  function show(tree) {
    nodes = treeOrder(tree.nodes);
    ui.tree.dataset.metric = tree.metric;
    showSummary(tree);
    ui.tree.hidden = false;
    render();
  }

  function setAll(collapse) {
    collapsed.clear();
    if (collapse) nodes.forEach((node) => node.level > 0 && collapsed.add(node.node));
    render();
  }

  async function load() {
    const model = ui.page.dataset.model;
    const version = new URLSearchParams(location.search).get("version");
    const query = version ? "?version=" + encodeURIComponent(version) : "";
    try {
      show(await callApi("/api/models/" + encodeURIComponent(model) + "/tree" + query));
    } catch (error) {
      showError(error.message);
    }
  }

  ui.filter.addEventListener("input", render);
  el("expand-all").addEventListener("click", () => setAll(false));
  el("collapse-all").addEventListener("click", () => setAll(true));
  window.StrataTree = Object.freeze({ load });
})();
