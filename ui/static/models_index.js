// The models index (/models): every model the inference engine serves, its kind and versions, linking to its page.
"use strict";

(function () {
  const { make, callApi } = window.Strata;
  const el = (id) => document.getElementById(id);

  async function row(model) {
    const tr = make("tr");
    const link = make("a", "", model.name);
    link.href = "/models/" + encodeURIComponent(model.name);
    const name = make("td");
    name.append(link);
    const kind = make("td", "", "…");
    const count = make("td", "num", "…");
    tr.append(name, kind, make("td", "", "v" + model.version + (model.alias ? " (" + model.alias + ")" : "")), count,
      make("td", "", model.loaded_at));
    try {
      const versions = await callApi("/api/models/" + encodeURIComponent(model.name) + "/versions");
      kind.textContent = versions.kind;
      count.textContent = versions.versions.length;
    } catch (error) {
      kind.textContent = "unknown (" + error.message + ")";
      count.textContent = "–";
    }
    return tr;
  }

  async function load() {
    try {
      const models = (await callApi("/api/models")).models;
      const rows = await Promise.all(models.map(row));
      el("models").querySelector("tbody").replaceChildren(...rows);
      el("models").hidden = models.length === 0;
      el("models-meta").textContent = models.length
        ? models.length + " models served"
        : "The inference engine serves no model yet (run `strata build`).";
    } catch (error) {
      el("models-meta").textContent = "";
      el("error").textContent = error.message;
      el("error").hidden = false;
    }
  }

  load();
})();
