// Helpers shared by every page: build elements with text only (never HTML) and call the UI's own /api relay.
"use strict";

window.Strata = Object.freeze({
  make(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  },

  async callApi(path, options) {
    let response;
    try {
      response = await fetch(path, options);
    } catch (networkError) {
      throw new Error("The service cannot be reached. Check your connection and try again.");
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const error = body && body.error;
      throw new Error((error && error.message) || "Request failed (HTTP " + response.status + ").");
    }
    return body;
  },
});
