// The ETD page: pick a restaurant, choose quantities, ask business_logic (through /api) for a delivery time.
// Every server string is rendered with textContent, never innerHTML.
"use strict";

(function () {
  const { make, callApi } = window.Strata;
  const LIST_LIMIT = 500;
  const MAX_QUANTITY = 99;
  const SEARCH_DELAY_MS = 200;

  const el = (id) => document.getElementById(id);
  const ui = {
    search: el("restaurant-search"),
    restaurant: el("restaurant"),
    meta: el("restaurant-meta"),
    menu: el("menu"),
    summary: el("basket-summary"),
    estimate: el("estimate"),
    result: el("result"),
    minutes: el("etd-minutes"),
    detail: el("result-detail"),
    error: el("error"),
  };
  let currentMenu = [];
  let listRequest = 0;
  let menuRequest = 0;


  function money(value) {
    return Number(value).toFixed(2);
  }


  function showError(message) {
    ui.error.textContent = message;
    ui.error.hidden = false;
  }

  function clearMessages() {
    ui.error.hidden = true;
    ui.error.textContent = "";
  }

  function clearResult() {
    ui.result.hidden = true;
    ui.minutes.textContent = "";
    ui.detail.textContent = "";
  }

  // ---- restaurants ------------------------------------------------------------------------------------------
  function fillRestaurants(restaurants, keepId) {
    ui.restaurant.replaceChildren();
    const prompt = make("option", "", restaurants.length ? "Choose a restaurant…" : "No restaurant matches");
    prompt.value = "";
    ui.restaurant.append(prompt);
    const groups = new Map();
    for (const restaurant of restaurants) {
      const label = restaurant.city + " (" + restaurant.country_code + ")";
      if (!groups.has(label)) {
        const group = make("optgroup");
        group.label = label;
        groups.set(label, group);
        ui.restaurant.append(group);
      }
      const option = make("option", "", restaurant.name + (restaurant.cuisine ? " · " + restaurant.cuisine : ""));
      option.value = restaurant.id;
      groups.get(label).append(option);
    }
    ui.restaurant.disabled = restaurants.length === 0;
    if (keepId && restaurants.some((r) => r.id === keepId)) ui.restaurant.value = keepId;
  }

  async function loadRestaurants(text) {
    const ticket = ++listRequest;
    const params = new URLSearchParams({ limit: String(LIST_LIMIT) });
    if (text) params.set("q", text);
    try {
      const body = await callApi("/api/restaurants?" + params.toString());
      if (ticket !== listRequest) return; // a newer search superseded this one
      fillRestaurants(body.restaurants || [], ui.restaurant.value);
    } catch (error) {
      if (ticket === listRequest) showError(error.message);
    }
  }

  let searchTimer = null;
  ui.search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => loadRestaurants(ui.search.value.trim()), SEARCH_DELAY_MS);
  });

  // ---- menu & basket ----------------------------------------------------------------------------------------
  function renderMenu(restaurant) {
    currentMenu = restaurant.menu || [];
    ui.meta.textContent = [restaurant.cuisine, restaurant.city].filter(Boolean).join(" · ");
    ui.menu.replaceChildren();
    if (!currentMenu.length) {
      ui.menu.append(make("p", "muted", "This restaurant has no menu items."));
    }
    for (const item of currentMenu) {
      const row = make("div", "menu-item");
      const inputId = "qty-" + item.item_id;
      const name = make("label", "name", item.name);
      name.htmlFor = inputId;
      const quantity = make("input");
      Object.assign(quantity, { type: "number", id: inputId, min: "0", max: String(MAX_QUANTITY), value: "0" });
      quantity.inputMode = "numeric";
      quantity.dataset.itemId = item.item_id;
      quantity.setAttribute("aria-label", "Quantity of " + item.name);
      quantity.addEventListener("input", updateBasket);
      row.append(name, make("span", "price", money(item.price)), quantity);
      ui.menu.append(row);
    }
    updateBasket();
  }

  function basketLines() {
    const lines = [];
    for (const input of ui.menu.querySelectorAll("input[data-item-id]")) {
      const quantity = Number.parseInt(input.value, 10);
      input.closest(".menu-item").classList.toggle("selected", quantity > 0);
      if (quantity > 0) lines.push({ item_id: input.dataset.itemId, quantity: quantity });
    }
    return lines;
  }

  function updateBasket() {
    const lines = basketLines();
    const prices = new Map(currentMenu.map((item) => [item.item_id, Number(item.price)]));
    const count = lines.reduce((sum, line) => sum + line.quantity, 0);
    const subtotal = lines.reduce((sum, line) => sum + line.quantity * (prices.get(line.item_id) || 0), 0);
    ui.summary.textContent = count
      ? count + (count === 1 ? " item" : " items") + " · subtotal " + money(subtotal)
      : "Your basket is empty.";
    ui.estimate.disabled = !ui.restaurant.value || count === 0;
    clearResult();
  }

  ui.restaurant.addEventListener("change", async () => {
    const ticket = ++menuRequest;
    clearMessages();
    currentMenu = [];
    ui.menu.replaceChildren(make("p", "muted", ui.restaurant.value ? "Loading menu…" : "Pick a restaurant."));
    ui.meta.textContent = "";
    updateBasket();
    if (!ui.restaurant.value) return;
    try {
      const restaurant = await callApi("/api/restaurants/" + encodeURIComponent(ui.restaurant.value));
      if (ticket === menuRequest) renderMenu(restaurant);
    } catch (error) {
      if (ticket === menuRequest) showError(error.message);
    }
  });

  // ---- estimate ---------------------------------------------------------------------------------------------
  ui.estimate.addEventListener("click", async () => {
    clearMessages();
    clearResult();
    const body = { restaurant_id: ui.restaurant.value, basket: basketLines() };
    ui.estimate.disabled = true;
    ui.estimate.textContent = "Estimating…";
    try {
      const quote = await callApi("/api/etd", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      ui.minutes.textContent = String(quote.etd_minutes);
      ui.detail.textContent = quote.n_items + " items · subtotal " + money(quote.subtotal);
      ui.result.hidden = false;
    } catch (error) {
      showError(error.message);
    } finally {
      ui.estimate.textContent = "Estimate delivery time";
      ui.estimate.disabled = basketLines().length === 0;
    }
  });

  loadRestaurants("");
})();
