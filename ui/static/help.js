// The help page: predefined questions as buttons, a free-text box, and the bot's answers with feedback buttons.
// Every server string is rendered as text (textContent via Strata.make), never as HTML; links are http(s) only.
"use strict";

(function () {
  const { make, callApi } = window.Strata;
  const el = (id) => document.getElementById(id);
  const ui = {
    questions: el("help-questions"),
    conversation: el("help-conversation"),
    form: el("help-form"),
    text: el("help-text"),
    send: el("help-send"),
    error: el("help-error"),
  };
  const sessionId = newSessionId();
  let busy = false;

  function newSessionId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    const bytes = window.crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // An absolute http(s) URL, or null: a "javascript:" or relative link from any source is never made clickable.
  function safeHref(url) {
    if (typeof url !== "string" || !url) return null;
    try {
      const parsed = new URL(url);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (invalid) {
      return null;
    }
  }

  function link(url, text, className) {
    const anchor = make("a", className, text);
    anchor.href = url;
    anchor.target = "_blank";
    anchor.rel = "noopener noreferrer";
    return anchor;
  }

  function showError(message) {
    ui.error.textContent = message;
    ui.error.hidden = false;
  }

  function setBusy(value) {
    busy = value;
    ui.send.disabled = value;
    for (const button of ui.questions.querySelectorAll("button")) button.disabled = value;
  }

  function scrollToEnd() {
    ui.conversation.scrollTop = ui.conversation.scrollHeight;
  }

  async function loadQuestions() {
    try {
      const body = await callApi("/api/help/questions");
      ui.questions.replaceChildren();
      if (!body.questions.length) {
        ui.questions.append(make("p", "muted", "No common questions yet: type yours in the chat."));
        return;
      }
      for (const question of body.questions) {
        const button = make("button", "help-choice", question.question);
        button.type = "button";
        button.dataset.questionId = question.id;
        button.addEventListener("click", () => ask({ question_id: question.id }, question.question));
        ui.questions.append(button);
      }
    } catch (error) {
      ui.questions.replaceChildren(make("p", "muted", "Common questions are unavailable right now."));
      showError(error.message);
    }
  }

  async function ask(request, shownText) {
    if (busy) return;
    ui.error.hidden = true;
    const turn = make("li", "help-turn");
    turn.append(make("p", "help-you", shownText));
    const pending = make("p", "help-pending", "…");
    turn.append(pending);
    ui.conversation.append(turn);
    scrollToEnd();
    setBusy(true);
    try {
      const reply = await callApi("/api/help/ask", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(Object.assign({ session_id: sessionId }, request)),
      });
      pending.replaceWith(renderReply(reply));
    } catch (error) {
      pending.remove();
      showError(error.message);
    } finally {
      setBusy(false);
      scrollToEnd();
    }
  }

  function renderReply(reply) {
    const bot = make("div", "help-bot");
    bot.dataset.source = reply.source;
    bot.append(make("p", "help-answer", reply.answer));
    const articleHref = safeHref(reply.article_url);
    if (articleHref) bot.append(link(articleHref, reply.article_title || "Read the article", "help-article"));
    const others = (reply.links || []).filter((item) => safeHref(item.url) && safeHref(item.url) !== articleHref);
    if (others.length) {
      const list = make("ul", "help-links");
      for (const item of others) {
        const entry = make("li");
        entry.append(link(safeHref(item.url), item.title || item.url));
        list.append(entry);
      }
      bot.append(list);
    }
    if (reply.ask_feedback) bot.append(feedbackBox(reply.question_id));
    return bot;
  }

  function feedbackBox(questionId) {
    const box = make("div", "help-feedback");
    const yes = make("button", "help-yes", "Yes");
    const no = make("button", "help-no", "No");
    box.append(make("span", "help-prompt", "Did I answer your question?"), yes, no);
    for (const [button, helpful] of [[yes, true], [no, false]]) {
      button.type = "button";
      button.addEventListener("click", () => sendFeedback(questionId, helpful, box));
    }
    return box;
  }

  async function sendFeedback(questionId, helpful, box) {
    for (const button of box.querySelectorAll("button")) button.disabled = true;
    try {
      await callApi("/api/help/questions/" + encodeURIComponent(questionId) + "/feedback", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ helpful }),
      });
      box.replaceChildren(make("span", "help-thanks", helpful ? "Thanks for your feedback!" :
        "Thanks for telling us: we use it to improve our answers."));
    } catch (error) {
      for (const button of box.querySelectorAll("button")) button.disabled = false;
      showError(error.message);
    }
  }

  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = ui.text.value.trim();
    if (!text || busy) return;
    ui.text.value = "";
    ask({ text }, text);
  });

  loadQuestions();
})();
