// The feature directory page: search groups, see their freshness, a group's schema and who uses each feature.
// Data comes from data_processing's directory API through the UI's /api relay. Every server string is rendered
// with textContent, never innerHTML.
"use strict";

(function () {
  const { make, callApi } = window.Strata;
  const SEARCH_DELAY_MS = 200;
  const el = (id) => document.getElementById(id);
  const ui = {
    search: el("group-search"),
    groups: el("groups"),
    title: el("group-title"),
    description: el("group-description"),
    facts: el("group-facts"),
    schema: el("schema"),
    error: el("error"),
  };
  let listRequest = 0;
  let groupRequest = 0;
  let selected = decodeURIComponent(location.hash.slice(1));



  function showError(message) {
    ui.error.textContent = message;
    ui.error.hidden = false;
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "unknown";
    const s = Math.abs(seconds);
    if (s < 120) return Math.round(s) + " s";
    if (s < 7200) return Math.round(s / 60) + " min";
    if (s < 172800) return Math.round(s / 3600) + " h";
    return Math.round(s / 86400) + " d";
  }

  function freshnessBadge(freshness) {
    const status = (freshness && freshness.status) || "unknown";
    const label = status === "unknown" ? "no data yet" : status + " · " + duration(freshness.age_seconds) + " old";
    const badge = make("span", "badge badge-" + status, label);
    badge.dataset.status = status;
    badge.title = "freshness SLO: " + duration(freshness && freshness.slo_seconds);
    return badge;
  }

  // ---- group list -------------------------------------------------------------------------------------------
  function renderGroups(groups) {
    ui.groups.replaceChildren();
    if (!groups.length) ui.groups.append(make("li", "muted", "No feature group matches."));
    for (const group of groups) {
      const button = make("button", "fd-group");
      button.type = "button";
      button.dataset.group = group.name;
      button.setAttribute("aria-current", String(group.name === selected));
      const meta = group.entity + " · " + group.n_features + " features · " + group.owner;
      button.append(make("span", "name", group.name), freshnessBadge(group.freshness), make("span", "meta", meta));
      button.addEventListener("click", () => selectGroup(group.name));
      const item = make("li");
      item.append(button);
      ui.groups.append(item);
    }
  }

  async function loadGroups(text) {
    const ticket = ++listRequest;
    const query = text ? "?" + new URLSearchParams({ q: text }).toString() : "";
    try {
      const body = await callApi("/api/feature-groups" + query);
      if (ticket === listRequest) renderGroups(body.feature_groups || []);
    } catch (error) {
      if (ticket === listRequest) showError(error.message);
    }
  }

  let searchTimer = null;
  ui.search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => loadGroups(ui.search.value.trim()), SEARCH_DELAY_MS);
  });

  // ---- one group --------------------------------------------------------------------------------------------
  function fact(term, value) {
    ui.facts.append(make("dt", "", term));
    const dd = make("dd");
    if (value instanceof Node) dd.append(value);
    else dd.textContent = value === null || value === undefined ? "—" : String(value);
    ui.facts.append(dd);
  }

  function renderGroup(group) {
    ui.title.textContent = group.name;
    ui.description.textContent = group.description;
    ui.facts.replaceChildren();
    const fresh = group.freshness || {};
    fact("Freshness", freshnessBadge(fresh));
    const newest = fresh.newest_nominal_time;
    fact("Newest values", newest ? newest.replace("T", " ").slice(0, 16) : "none yet");
    fact("Freshness SLO", duration(fresh.slo_seconds));
    fact("Entity", group.entity);
    fact("Owner", group.owner);
    fact("Schedule", group.schedule + " · TTL " + duration(group.ttl_seconds));
    fact("Offline table", group.table);
    fact("Used by", (group.users || []).join(", ") || "nobody yet");
    ui.facts.hidden = false;

    const body = ui.schema.tBodies[0];
    body.replaceChildren();
    for (const feature of group.features || []) {
      const row = make("tr");
      row.dataset.feature = feature.name;
      const name = make("td");
      name.append(make("code", "", feature.expression));
      const status = make("td");
      status.append(make("span", "badge badge-" + feature.status, feature.status));
      if (feature.deprecation_reason) status.append(make("span", "fd-reason", feature.deprecation_reason));
      const users = make("td");
      const list = make("ul", "fd-users");
      for (const user of feature.users || []) {
        list.append(make("li", "", user.consumer + " · " + user.count + "×"));
      }
      if (!list.children.length) list.append(make("li", "muted", "—"));
      users.append(list);
      row.append(name, make("td", "", feature.type), status, make("td", "", feature.description), users);
      body.append(row);
    }
    ui.schema.hidden = false;
  }

  async function selectGroup(name) {
    const ticket = ++groupRequest;
    selected = name;
    history.replaceState(null, "", "#" + encodeURIComponent(name));
    for (const button of ui.groups.querySelectorAll("button[data-group]")) {
      button.setAttribute("aria-current", String(button.dataset.group === name));
    }
    ui.error.hidden = true;
    try {
      const group = await callApi("/api/feature-groups/" + encodeURIComponent(name));
      if (ticket === groupRequest) renderGroup(group);
    } catch (error) {
      if (ticket === groupRequest) showError(error.message);
    }
  }

  loadGroups("");
  if (selected) selectGroup(selected);
})();
