// The chat, inside the frame that widget.js opens on the host page (/widget/frame).
//
// The frame is served from the service's own origin, so the conversation's token
// (in this origin's sessionStorage, no cookies) and every message stay out of reach
// of the host page's scripts. The host page and the frame talk with postMessage,
// each checking the other's origin, and only about opening, closing and Quick exit:
// never about the conversation. No images: nothing can be attached, pasted or
// dropped, and the frame's Content-Security-Policy shows no image from anywhere.
// Live: a WebSocket that resumes from the last sequence number seen, falling back
// to long-polling. The optional come-back code is shown on the page only when asked
// for, and never stored in the browser.
(() => {
  "use strict";
  const setup = JSON.parse(document.getElementById("setup").textContent);
  const WORDS = setup.words;
  const STORE = "youthchat.conversation";
  const LINK = /(https?:\/\/[^\s]+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:org\.uk|police\.uk|org|co\.uk|uk)\b)/gi;
  const embedded = window.parent !== window;
  const EXIT_FALLBACK_MS = 1000;

  let conversation = null; // {id, token}
  let lastSeq = 0;
  let socket = null;
  let polling = false;
  let failures = 0;
  let typingTimer = null;
  const seen = new Set();
  const outbox = [];

  const $ = (selector) => document.querySelector(selector);
  const panel = $(".panel");
  const log = $(".log");
  const input = $("#message");
  const compose = $(".compose");
  const comeback = $(".comeback");
  const comebackField = $("#comeback-code");
  const COMEBACK_OFFER = "comeback_code";
  document.documentElement.style.setProperty("--brand", setup.colour);
  document.documentElement.style.setProperty("--on-brand", setup.text_colour);

  // --- talking to the host page: only to its origin, only from it ---
  function tell(type, extra) {
    if (embedded) window.parent.postMessage({ youthchat: type, ...extra }, setup.host);
  }

  window.addEventListener("message", (event) => {
    if (event.source !== window.parent || event.origin !== setup.host) return;
    const type = event.data && event.data.youthchat;
    if (type === "open") open();
    else if (type === "exit") { forget(); tell("exited"); }
  });

  function open() {
    input.focus();
    start();
  }

  $(".close").addEventListener("click", () => tell("closed"));
  $(".close").hidden = !embedded;

  // --- quick exit: wipe everything and replace the top page, so Back does not return ---
  function forget() {
    outbox.length = 0;
    conversation = null;
    disconnect();
    try { sessionStorage.clear(); } catch (error) { /* storage may be blocked */ }
    // The whole page goes, a come-back code on it too.
    document.body.replaceChildren();
  }

  function quickExit() {
    forget();
    if (!embedded) { location.replace(setup.exit_url); return; }
    tell("exit");
    // The loader replaces the host page at once. Should it not, the frame does: a browser
    // lets a frame replace the top page just after a key press or click in it.
    setTimeout(() => window.top.location.replace(setup.exit_url), EXIT_FALLBACK_MS);
  }
  document.querySelectorAll("[data-exit]").forEach((button) => button.addEventListener("click", quickExit));
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") quickExit(); }, true);

  function notice(text) { $(".notice").textContent = text || ""; }

  // --- rendering ---
  function linkify(element, text) {
    let last = 0;
    for (const match of text.matchAll(LINK)) {
      element.append(text.slice(last, match.index));
      const link = document.createElement("a");
      const target = match[0].replace(/[.,)]+$/, "");
      link.href = /^https?:/i.test(target) ? target : `https://${target}`;
      link.textContent = target;
      link.rel = "noopener noreferrer";
      link.target = "_blank";
      element.append(link);
      last = match.index + target.length;
    }
    element.append(text.slice(last));
  }

  const speakers = { bot_message: WORDS.who_bot, human_message: WORDS.who_human, user_message: WORDS.who_me };

  function render(event) {
    if (event.seq && seen.has(event.seq)) return;
    if (event.seq) { seen.add(event.seq); lastSeq = Math.max(lastSeq, event.seq); }
    if (event.type === "status") { showStatus(event.status); return; }
    if (event.type === "user_message") comeback.hidden = true;
    if (event.type === "user_message" && event.client_message_id) {
      const pending = log.querySelector(`li[data-client-id="${CSS.escape(event.client_message_id)}"]`);
      if (pending) { pending.classList.remove("pending"); pending.dataset.seq = event.seq; place(pending); return; }
    }
    const item = document.createElement("li");
    item.className = event.type;
    item.dataset.seq = event.seq;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = speakers[event.type] || "";
    item.append(who);
    linkify(item, event.text || "");
    if (event.offer === COMEBACK_OFFER) item.append(comebackButton());
    place(item);
    scrollDown();
    if (event.type !== "user_message") { showTyping(false); showReplies(event.buttons || []); }
  }

  // Events in seq order, the messages not yet stored after them all. A message written while an
  // earlier event was on its way (a worker's reply, the end of a turn a stopping server finished)
  // is numbered after that event, so once stored it moves below it.
  function place(item) {
    const seq = Number(item.dataset.seq);
    let next = null;
    for (let other = log.lastElementChild; other; other = other.previousElementSibling) {
      if (other === item) continue;
      if (!other.classList.contains("pending") && Number(other.dataset.seq) < seq) break;
      next = other;
    }
    log.insertBefore(item, next);
  }

  function scrollDown() { const region = $(".log-region"); region.scrollTop = region.scrollHeight; }

  function showStatus(status) {
    $(".status").textContent = WORDS[`status_${status}`] || "";
    panel.dataset.status = status;
  }

  function showTyping(on) {
    clearTimeout(typingTimer);
    $(".typing").hidden = !on;
    if (on) typingTimer = setTimeout(() => showTyping(false), 15000);
  }

  function showReplies(buttons) {
    const replies = $(".replies");
    replies.replaceChildren();
    for (const button of buttons) {
      const element = document.createElement("button");
      element.type = "button";
      element.className = "btn";
      element.textContent = button.title;
      element.addEventListener("click", () => { replies.replaceChildren(); send(button.title, button.payload); });
      replies.append(element);
    }
  }

  // --- the conversation ---
  function stored() {
    try {
      const value = JSON.parse(sessionStorage.getItem(STORE) || "null");
      return value && value.id && value.token ? { id: value.id, token: value.token } : null;
    } catch (error) { return null; }
  }

  function remember() {
    // Only the conversation's id and token: after a reload the log is rebuilt from the server.
    try { sessionStorage.setItem(STORE, JSON.stringify(conversation)); } catch (error) { /* memory only */ }
  }

  function headers() {
    return { "Content-Type": "application/json", Authorization: `Bearer ${conversation.token}` };
  }

  async function start() {
    if (conversation) return;
    conversation = stored();
    while (!conversation) {
      try {
        const response = await fetch("/api/conversations", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(setup.nation ? { nation: setup.nation } : {}),
        });
        if (!response.ok) throw new Error(String(response.status));
        const created = await response.json();
        conversation = { id: created.conversation_id, token: created.token };
        remember();
        notice("");
      } catch (error) {
        notice(WORDS.offline);
        await pause(backoff());
      }
    }
    connect();
  }

  function backoff() { failures += 1; return Math.min(15000, 1000 * 2 ** Math.min(failures, 4)); }
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function reset() {
    conversation = null; lastSeq = 0; seen.clear(); log.replaceChildren(); showReplies([]); showStatus("");
    comeback.hidden = false;
    try { sessionStorage.removeItem(STORE); } catch (error) { /* nothing stored */ }
  }

  function connect() {
    if (!conversation || socket) return;
    const url = `${location.origin.replace(/^http/, "ws")}/api/conversations/${conversation.id}/stream`;
    let opened = false;
    let current;
    try { current = new WebSocket(url); } catch (error) { poll(); return; }
    socket = current;
    // A socket left behind (the chat deleted, or another one opened with a come-back code)
    // must not show its chat's events or reconnect.
    const live = () => socket === current;
    current.addEventListener("open", () => {
      if (!live()) return;
      opened = true; failures = 0; polling = false;
      // Connecting answers only the offline notice; another (the chat opened again with its code) stays.
      if ($(".notice").textContent === WORDS.offline) notice("");
      current.send(JSON.stringify({ token: conversation.token, after: lastSeq }));
      flush();
    });
    current.addEventListener("message", (message) => {
      if (!live()) return;
      const event = JSON.parse(message.data);
      if (event.type === "typing") showTyping(true);
      else if (event.type === "error") { current.close(); reset(); start(); }
      else render(event);
    });
    current.addEventListener("close", async () => {
      if (!live()) return;
      socket = null;
      if (!conversation) return;
      if (!opened) poll();
      await pause(backoff());
      connect();
    });
  }

  function disconnect() {
    const closing = socket;
    socket = null;
    if (closing) closing.close();
  }

  // Long-polling while the WebSocket cannot connect; stops once it does.
  async function poll() {
    if (polling) return;
    polling = true;
    while (polling && conversation && !(socket && socket.readyState === WebSocket.OPEN)) {
      const polled = conversation;
      try {
        const response = await fetch(
          `/api/conversations/${polled.id}/events?after=${lastSeq}&wait=25`, { headers: headers() });
        // Another chat was opened with a come-back code meanwhile: this answer is not about it.
        if (conversation !== polled) continue;
        if (response.status === 404 || response.status === 403) { reset(); polling = false; start(); return; }
        if (!response.ok) throw new Error(String(response.status));
        notice("");
        (await response.json()).events.forEach(render);
        flush();
      } catch (error) {
        notice(WORDS.offline);
        await pause(backoff());
      }
    }
    polling = false;
  }

  function newId() {
    return (crypto.randomUUID && crypto.randomUUID()) || `${Date.now()}-${Math.random().toString(16).slice(2)}`;
  }

  function send(text, payload) {
    comeback.hidden = true;
    const message = { client_message_id: newId(), text, ...(payload ? { payload } : {}) };
    const item = document.createElement("li");
    item.className = "user_message pending";
    item.dataset.clientId = message.client_message_id;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = WORDS.who_me;
    item.append(who, text);
    log.append(item);
    scrollDown();
    outbox.push(message);
    // After "delete my chat" there is no conversation until the young person writes again.
    if (conversation) flush(); else start();
  }

  // Sends queued messages in order; a retry reuses the client_message_id, so the
  // server stores each message once however many times it is sent.
  let flushing = false;
  async function flush() {
    if (flushing || !conversation) return;
    flushing = true;
    while (outbox.length && conversation) {
      try {
        const response = await fetch(`/api/conversations/${conversation.id}/messages`, {
          method: "POST", headers: headers(), body: JSON.stringify(outbox[0]),
        });
        if (response.status >= 500 || response.status === 0) throw new Error(String(response.status));
        if (!response.ok) {
          const problem = await response.json().catch(() => ({}));
          notice(problem.message || WORDS.send_failed);
          log.querySelector(`li[data-client-id="${CSS.escape(outbox[0].client_message_id)}"]`)?.remove();
        } else {
          notice("");
          showTyping(true);
        }
        outbox.shift();
      } catch (error) {
        notice(WORDS.send_failed);
        await pause(backoff());
      }
    }
    flushing = false;
  }

  compose.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    showReplies([]);
    send(text);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); compose.requestSubmit(); }
  });

  // --- no images, ever ---
  function refuseFiles(event) {
    const transfer = event.clipboardData || event.dataTransfer;
    const items = transfer ? Array.from(transfer.items || []) : [];
    if (items.some((item) => item.kind === "file") || (transfer && transfer.files && transfer.files.length)) {
      event.preventDefault();
      notice(WORDS.no_images);
    }
  }
  input.addEventListener("paste", refuseFiles);
  panel.addEventListener("drop", (event) => { event.preventDefault(); refuseFiles(event); });
  panel.addEventListener("dragover", (event) => event.preventDefault());

  // --- delete my chat ---
  $(".delete").addEventListener("click", async () => {
    if (!conversation || !confirm(WORDS.delete_confirm)) return;
    const response = await fetch(`/api/conversations/${conversation.id}`, { method: "DELETE", headers: headers() });
    if (response.status === 204) {
      disconnect();
      reset();
      notice(WORDS.deleted);
    } else {
      notice((await response.json().catch(() => ({}))).message || WORDS.send_failed);
    }
  });

  // --- the come-back code: optional, shown on this page only, never stored in the browser ---
  function comebackButton() {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn comeback-get";
    button.textContent = WORDS.comeback_get;
    button.addEventListener("click", () => showComebackCode(button));
    return button;
  }

  async function showComebackCode(button) {
    if (!conversation) return;
    // One request at a time: each new code cancels the last, so a second click must not race the first.
    button.disabled = true;
    let response;
    try {
      response = await fetch(`/api/conversations/${conversation.id}/comeback-code`, { method: "POST", headers: headers() });
    } catch (error) { response = null; }
    const answer = response ? await response.json().catch(() => ({})) : {};
    button.disabled = false;
    if (!response) { notice(WORDS.offline); return; }
    if (!response.ok) { notice(answer.message || WORDS.send_failed); return; }
    notice("");
    // A new code cancels the last one, so only the newest stays on the page.
    log.querySelectorAll(".comeback-code").forEach((shown) => shown.remove());
    log.querySelectorAll(".comeback-get").forEach((offer) => { offer.hidden = false; });
    const box = document.createElement("div");
    box.className = "comeback-code";
    box.tabIndex = -1;
    for (const text of answer.messages) {
      const paragraph = document.createElement("p");
      text.split(answer.code).forEach((part, index) => {
        if (index) { const code = document.createElement("strong"); code.textContent = answer.code; paragraph.append(code); }
        paragraph.append(part);
      });
      box.append(paragraph);
    }
    button.hidden = true;
    button.after(box);
    box.focus();
  }

  function comebackError(text) {
    $(".comeback-error").textContent = text;
    if (text) comebackField.setAttribute("aria-invalid", "true");
    else comebackField.removeAttribute("aria-invalid");
  }

  // Opening a chat with its code leaves the new, empty one behind (offered only before the young
  // person writes anything, so nothing of theirs is left); a code that does not work changes nothing.
  $(".comeback-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = comebackField.value.trim();
    if (!code) return;
    let response;
    try {
      response = await fetch("/api/conversations/comeback", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ code }),
      });
    } catch (error) { comebackError(WORDS.offline); return; }
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) { comebackError(answer.message || WORDS.send_failed); comebackField.focus(); return; }
    const unused = conversation;
    disconnect();
    reset();
    comebackField.value = "";
    comebackError("");
    comeback.hidden = true;
    conversation = { id: answer.conversation_id, token: answer.token };
    remember();
    connect();
    notice(WORDS.comeback_opened);
    input.focus();
    if (unused) {
      fetch(`/api/conversations/${unused.id}`, { method: "DELETE", headers: { Authorization: `Bearer ${unused.token}` } })
        .catch(() => { /* retention removes it later */ });
    }
  });

  // A conversation already under way in this tab opens again after the host page reloads.
  if (embedded) tell("ready", { resume: Boolean(stored()) });
  else open();
})();
