// The chat widget for young people: one <script> tag on any page, no framework.
//
//   <script src="https://HOST/widget.js" defer
//           data-service-name="Helpline chat" data-nation="scotland"
//           data-colour="#4b2a83" data-text-colour="#ffffff"
//           data-exit-url="https://www.bbc.co.uk/weather"></script>
//
// Privacy: no cookies; the conversation token lives in sessionStorage only and
// is wiped by Quick exit (button or Esc). No images: nothing can be attached,
// pasted or dropped. Live: a WebSocket that resumes from the last sequence
// number seen, falling back to long-polling.
(() => {
  "use strict";
  const WORDS = /*WIDGET_WORDS*/{};
  const script = document.currentScript;
  const data = (script && script.dataset) || {};
  const config = {
    api: data.api || new URL(script.src, location.href).origin,
    exitUrl: data.exitUrl || "https://www.bbc.co.uk/weather",
    nation: data.nation || "",
    title: data.serviceName || WORDS.title,
    colour: data.colour || "#4b2a83",
    textColour: data.textColour || "#ffffff",
  };
  const STORE = "youthchat.conversation";
  const LINK = /(https?:\/\/[^\s]+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:org\.uk|police\.uk|org|co\.uk|uk)\b)/gi;

  let conversation = null; // {id, token}
  let lastSeq = 0;
  let socket = null;
  let polling = false;
  let failures = 0;
  let typingTimer = null;
  const seen = new Set();
  const outbox = [];

  // --- the interface, in a shadow root so the host page's styles cannot break it ---
  const host = document.createElement("div");
  host.id = "youthchat-widget";
  document.body.appendChild(host);
  const root = host.attachShadow({ mode: "open" });
  root.innerHTML = `
<style>
  :host { all: initial; }
  * { box-sizing: border-box; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
  button, textarea { font: inherit; }
  .launch { position: fixed; right: 1rem; bottom: 1rem; z-index: 2147483000; display: flex; gap: .5rem; }
  .btn { border: 2px solid transparent; border-radius: 999px; padding: .6rem 1rem; font-size: 1rem; cursor: pointer;
         background: var(--brand); color: var(--on-brand); min-height: 44px; }
  .exit { background: #ffffff; color: #8a1020; border-color: #8a1020; font-weight: 700; }
  .btn:focus-visible, a:focus-visible, textarea:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
  .panel { position: fixed; right: 1rem; bottom: 1rem; z-index: 2147483001; width: min(25rem, calc(100vw - 1rem));
           height: min(38rem, calc(100vh - 2rem)); display: flex; flex-direction: column; background: #ffffff;
           color: #1b1b1b; border: 1px solid #6b6b6b; border-radius: 12px; box-shadow: 0 6px 24px rgba(0,0,0,.25);
           font-size: 1rem; line-height: 1.45; overflow: hidden; }
  .panel[hidden] { display: none; }
  header { display: flex; align-items: center; gap: .4rem; padding: .5rem .75rem; background: var(--brand); color: var(--on-brand); }
  header h2 { font-size: 1.05rem; margin: 0 auto 0 0; }
  header .btn { padding: .35rem .7rem; min-height: 36px; }
  .close { background: transparent; color: var(--on-brand); border-color: var(--on-brand); }
  .status { margin: 0; padding: .35rem .75rem; background: #f3f0f8; font-size: .9rem; }
  .status:empty, .notice:empty { display: none; }
  .notice { margin: 0; padding: .5rem .75rem; background: #fff4d6; color: #1b1b1b; font-size: .9rem; }
  .log-region { flex: 1; overflow-y: auto; }
  ol { list-style: none; margin: 0; padding: .75rem; display: flex; flex-direction: column; gap: .5rem; }
  li { max-width: 85%; padding: .5rem .7rem; border-radius: 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
  li.bot_message, li.human_message { align-self: flex-start; background: #f1eef6; }
  li.human_message { background: #e3f1e6; }
  li.user_message { align-self: flex-end; background: var(--brand); color: var(--on-brand); }
  li.user_message a { color: var(--on-brand); }
  li.pending { opacity: .7; }
  li.status { align-self: center; background: none; font-size: .85rem; color: #4a4a4a; }
  .who { display: block; font-size: .78rem; font-weight: 700; margin-bottom: .1rem; }
  a { color: #3a1f6b; }
  .typing { margin: 0 .75rem .25rem; font-size: .85rem; color: #4a4a4a; }
  .typing[hidden] { display: none; }
  .replies { display: flex; flex-wrap: wrap; gap: .4rem; padding: 0 .75rem .5rem; }
  .replies .btn { background: #ffffff; color: #3a1f6b; border-color: #3a1f6b; padding: .35rem .75rem; }
  form { display: flex; gap: .4rem; padding: .5rem .75rem; border-top: 1px solid #d0d0d0; }
  label { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  textarea { flex: 1; resize: none; min-height: 44px; max-height: 8rem; padding: .5rem; border: 1px solid #6b6b6b; border-radius: 8px; color: #1b1b1b; }
  footer { padding: .4rem .75rem .6rem; font-size: .85rem; background: #fafafa; border-top: 1px solid #e0e0e0; }
  footer p { margin: .15rem 0; }
  .link-button { background: none; border: none; padding: 0; color: #3a1f6b; text-decoration: underline; cursor: pointer; min-height: 24px; }
</style>
<div class="launch">
  <button class="btn exit" type="button" data-exit></button>
  <button class="btn open" type="button" aria-expanded="false" aria-controls="panel"></button>
</div>
<section class="panel" id="panel" role="dialog" aria-modal="false" aria-labelledby="title" hidden>
  <header>
    <h2 id="title"></h2>
    <button class="btn exit" type="button" data-exit></button>
    <button class="btn close" type="button"></button>
  </header>
  <p class="status" role="status"></p>
  <p class="notice" role="alert"></p>
  <div class="log-region" role="log" aria-live="polite" aria-relevant="additions" aria-labelledby="title" tabindex="0"><ol class="log"></ol></div>
  <p class="typing" aria-hidden="true" hidden></p>
  <div class="replies"></div>
  <form novalidate>
    <label for="message"></label>
    <textarea id="message" rows="1" maxlength="4000" autocomplete="off"></textarea>
    <button class="btn send" type="submit"></button>
  </form>
  <footer>
    <p><a class="childline" href="tel:08001111"></a> · <a class="emergency" href="tel:999"></a></p>
    <p class="hint"></p>
    <p><button class="link-button delete" type="button"></button></p>
  </footer>
</section>`;
  const $ = (selector) => root.querySelector(selector);
  host.style.setProperty("--brand", config.colour);
  host.style.setProperty("--on-brand", config.textColour);
  root.querySelectorAll("[data-exit]").forEach((button) => {
    button.textContent = WORDS.quick_exit;
    button.addEventListener("click", quickExit);
  });
  const openButton = $(".open");
  const panel = $(".panel");
  const log = $(".log");
  const input = $("#message");
  openButton.textContent = WORDS.launcher;
  $("#title").textContent = config.title;
  $(".close").textContent = WORDS.close;
  $("label").textContent = WORDS.input_label;
  $(".send").textContent = WORDS.send;
  $(".childline").textContent = WORDS.helplines;
  $(".emergency").textContent = WORDS.emergency;
  $(".hint").textContent = WORDS.quick_exit_hint;
  $(".delete").textContent = WORDS.delete_chat;
  $(".typing").textContent = WORDS.typing;

  // --- quick exit: wipe everything and replace this page, so Back does not return ---
  function quickExit() {
    try { sessionStorage.removeItem(STORE); } catch (error) { /* storage may be blocked */ }
    if (socket) socket.close();
    host.remove();
    document.title = "";
    location.replace(config.exitUrl);
  }
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") quickExit(); }, true);

  function setOpen(open) {
    panel.hidden = !open;
    openButton.setAttribute("aria-expanded", String(open));
    openButton.hidden = open;
    if (open) { input.focus(); start(); } else { openButton.focus(); }
  }
  openButton.addEventListener("click", () => setOpen(true));
  $(".close").addEventListener("click", () => setOpen(false));

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
    if (event.type === "user_message" && event.client_message_id) {
      const pending = log.querySelector(`li[data-client-id="${CSS.escape(event.client_message_id)}"]`);
      if (pending) { pending.classList.remove("pending"); pending.dataset.seq = event.seq; return; }
    }
    const item = document.createElement("li");
    item.className = event.type;
    item.dataset.seq = event.seq;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = speakers[event.type] || "";
    item.append(who);
    linkify(item, event.text || "");
    log.append(item);
    scrollDown();
    if (event.type !== "user_message") { showTyping(false); showReplies(event.buttons || []); }
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
  function remember() {
    // Only the conversation's id and token: after a reload the log is rebuilt from the server.
    try { sessionStorage.setItem(STORE, JSON.stringify(conversation)); } catch (error) { /* memory only */ }
  }

  function headers() {
    return { "Content-Type": "application/json", Authorization: `Bearer ${conversation.token}` };
  }

  async function start() {
    if (conversation) return;
    try {
      const stored = JSON.parse(sessionStorage.getItem(STORE) || "null");
      if (stored && stored.id && stored.token) conversation = { id: stored.id, token: stored.token };
    } catch (error) { /* start afresh */ }
    while (!conversation) {
      try {
        const response = await fetch(`${config.api}/api/conversations`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(config.nation ? { nation: config.nation } : {}),
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
    try { sessionStorage.removeItem(STORE); } catch (error) { /* nothing stored */ }
  }

  function connect() {
    if (!conversation || socket) return;
    const url = `${config.api.replace(/^http/, "ws")}/api/conversations/${conversation.id}/stream`;
    let opened = false;
    try { socket = new WebSocket(url); } catch (error) { socket = null; poll(); return; }
    socket.addEventListener("open", () => {
      opened = true; failures = 0; polling = false; notice("");
      socket.send(JSON.stringify({ token: conversation.token, after: lastSeq }));
      flush();
    });
    socket.addEventListener("message", (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "typing") showTyping(true);
      else if (event.type === "error") { socket.close(); reset(); start(); }
      else render(event);
    });
    socket.addEventListener("close", async () => {
      socket = null;
      if (!conversation) return;
      if (!opened) poll();
      await pause(backoff());
      connect();
    });
  }

  // Long-polling while the WebSocket cannot connect; stops once it does.
  async function poll() {
    if (polling) return;
    polling = true;
    while (polling && conversation && !(socket && socket.readyState === WebSocket.OPEN)) {
      try {
        const response = await fetch(
          `${config.api}/api/conversations/${conversation.id}/events?after=${lastSeq}&wait=25`, { headers: headers() });
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
    flush();
  }

  // Sends queued messages in order; a retry reuses the client_message_id, so the
  // server stores each message once however many times it is sent.
  let flushing = false;
  async function flush() {
    if (flushing || !conversation) return;
    flushing = true;
    while (outbox.length) {
      try {
        const response = await fetch(`${config.api}/api/conversations/${conversation.id}/messages`, {
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

  $("form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    showReplies([]);
    send(text);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); $("form").requestSubmit(); }
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
    const response = await fetch(`${config.api}/api/conversations/${conversation.id}`, { method: "DELETE", headers: headers() });
    if (response.status === 204) {
      if (socket) { const closing = socket; socket = null; conversation = null; closing.close(); }
      reset();
      notice(WORDS.deleted);
    } else {
      notice((await response.json().catch(() => ({}))).message || WORDS.send_failed);
    }
  });

  if (sessionStorage.getItem(STORE)) setOpen(true);
})();
