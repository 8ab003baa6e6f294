// A model page (/models/<name>): kind and serving version, the serving version's held-out quality, every
// registered version with a link to its MLflow run, the deployment history, and for a partitioned model its tree
// (models.js). Every server string is rendered with textContent, never innerHTML.
"use strict";

(function () {
  const { make, callApi } = window.Strata;
  const el = (id) => document.getElementById(id);
  const page = el("model-page");
  const model = page.dataset.model;
  const mlflowUi = page.dataset.mlflowUi;
  //: how each model kind's held-out metrics read; any other metric is shown under its own name
  const LABELS = {
    heldout_accuracy: "held-out top-1 accuracy", coverage: "coverage (answered)",
    out_of_scope_rejection: "out-of-scope questions rejected", answered_accuracy: "accuracy when answering",
    mae: "MAE (min)", rmse: "RMSE (min)", r2: "R²", p90_abs_error: "p90 |error| (min)",
  };
  const KINDS = { partitioned: "partitioned (one model per node)", tensorflow: "TensorFlow / Keras", xgboost: "XGBoost" };

  function formatted(value) {
    if (value === null || value === undefined) return "–";
    return Math.abs(value) <= 1 ? Number(value).toFixed(3) : Number(value).toFixed(2);
  }

  function stat(label, value) {
    const box = make("div", "mt-stat");
    box.append(make("span", "value", value), make("span", "label", label));
    return box;
  }

  function showError(message) {
    el("model-meta").textContent = "";
    el("model-error").textContent = message;
    el("model-error").hidden = false;
  }

  // what a version was built from: the commit (marked when the tree had changes), dvc.lock, lake tables, libraries
  function builtFrom(provenance) {
    const cell = make("td", "provenance");
    if (!provenance.code_commit) {
      cell.textContent = "–";
      return cell;
    }
    let tables = "";
    try {
      tables = Object.entries(JSON.parse(provenance.lake_tables || "{}")).map(([t, v]) => t + "@v" + v).join(", ");
    } catch (error) {
      tables = provenance.lake_tables || "";
    }
    const libraries = ["xgboost", "tensorflow", "numpy"].filter((name) => provenance[name] && provenance[name] !== "absent")
      .map((name) => name + " " + provenance[name]).join(", ");
    const lines = [
      "commit " + provenance.code_commit.slice(0, 10) + (provenance.code_dirty === "true" ? " (uncommitted changes)" : ""),
      "dvc.lock " + (provenance.dvc_lock || "none").replace("sha256:", "").slice(0, 12),
      tables, libraries,
    ];
    lines.filter(Boolean).forEach((line) => cell.append(make("div", "", line)));
    cell.title = JSON.stringify(provenance, null, 1);
    return cell;
  }

  function runLink(version) {
    if (!version.run_id) return make("span", "muted", "–");
    const link = make("a", "", version.run_id.slice(0, 8));
    const experiment = version.experiment_id || "0";
    link.href = mlflowUi + "/#/experiments/" + encodeURIComponent(experiment) + "/runs/" + encodeURIComponent(version.run_id);
    link.target = "_blank";
    link.rel = "noopener";
    return link;
  }

  function metricsText(metrics) {
    return Object.entries(metrics).map(([name, value]) => (LABELS[name] || name) + " " + formatted(value)).join(" · ");
  }

  function showVersions(body) {
    const serving = body.versions.find((v) => v.version === body.serving_version) || body.versions[0];
    el("model-meta").textContent = (KINDS[body.kind] || body.kind) + " · serving version " +
      (body.serving_version || "none (not loaded by the engine)") + " · " + body.versions.length + " registered";
    const quality = el("quality");
    quality.replaceChildren();
    Object.entries((serving && serving.metrics) || {}).forEach(([name, value]) => {
      quality.append(stat((LABELS[name] || name) + " · v" + serving.version, formatted(value)));
    });
    const rows = el("versions").querySelector("tbody");
    rows.replaceChildren();
    body.versions.forEach((version) => {
      const row = make("tr");
      row.dataset.version = version.version;
      const links = make("td");
      links.append(runLink(version));
      const label = "v" + version.version + " · " + version.framework +
        (version.version === body.serving_version ? " (serving)" : "");
      row.append(make("td", "", label),
        make("td", "", version.created_at || "–"), make("td", "", version.aliases.join(", ") || "–"),
        make("td", "", metricsText(version.metrics) || "–"), builtFrom(version.provenance || {}), links);
      rows.append(row);
    });
    el("versions").hidden = body.versions.length === 0;
    el("versions-empty").hidden = body.versions.length > 0;
    el("versions-empty").textContent = "No registered version.";
  }

  function split(record) {
    if (record.mode === "canary" && record.candidate_version) return "canary " + record.weight + "%";
    return record.mode;
  }

  function showHistory(records) {
    const rows = el("history").querySelector("tbody");
    rows.replaceChildren();
    records.forEach((r) => {
      const row = make("tr");
      const at = (r.created_at || "").replace("T", " ").replace("Z", "").slice(0, 19);
      row.append(make("td", "", r.revision), make("td", "", at),
        make("td", "", r.action || "–"), make("td", "", "v" + r.stable_version),
        make("td", "", r.candidate_version ? "v" + r.candidate_version : "–"), make("td", "", split(r)),
        make("td", "", r.actor), make("td", "", r.reason || "–"));
      rows.append(row);
    });
    el("history").hidden = records.length === 0;
  }

  function historyUnavailable(message) {
    el("history").hidden = true;
    el("history-empty").hidden = false;
    el("history-empty").textContent = message;
  }

  async function load() {
    const name = encodeURIComponent(model);
    try {
      const body = await callApi("/api/models/" + name + "/versions");
      showVersions(body);
      if (body.kind === "partitioned") {
        el("tree-section").hidden = false;
        window.StrataTree.load();
      }
    } catch (error) {
      showError(error.message);
    }
    try {
      showHistory((await callApi("/api/deployments/" + name + "/history")).records);
    } catch (error) {
      historyUnavailable("No deployment history: " + error.message);
    }
  }

  load();
})();
