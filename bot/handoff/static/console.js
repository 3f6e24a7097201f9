// The helpline console: live queue, claiming, chatting and closing cases; for a shift lead,
// the cases with workers, to watch (read only, audited) and reassign.
// All text from the server is rendered with textContent, never as HTML.
(() => {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (id) => document.getElementById(id);
  const baseTitle = document.title;
  const seenCritical = new Set();
  let state = { queue: [], held: [] };
  let openCase = null;
  let lastSeq = 0;
  const shown = new Set();
  let firstLoad = true;
  let page = 0;
  let watching = null;
  let watchedSeq = 0;
  let reassigning = null;

  async function api(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
    if (response.status === 401) { location.href = "/console/login"; throw new Error("signed out"); }
    const data = response.status === 204 ? {} : await response.json();
    if (!response.ok) { notice(data.message || "Something went wrong."); throw new Error(data.error); }
    return data;
  }

  function notice(text) { $("notice").textContent = text; }

  function waited(seconds) {
    const minutes = Math.floor(seconds / 60);
    return minutes ? `${minutes} min ${seconds % 60} s` : `${seconds} s`;
  }

  function cell(row, text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function alertNewCritical() {
    const critical = state.queue.filter((item) => item.level === "critical");
    const fresh = critical.filter((item) => !seenCritical.has(item.id));
    critical.forEach((item) => seenCritical.add(item.id));
    document.title = critical.length ? `(${critical.length}) Critical · ${baseTitle}` : baseTitle;
    if (fresh.length && !firstLoad) beep();
  }

  function beep() {
    try {
      const audio = new (window.AudioContext || window.webkitAudioContext)();
      const tone = audio.createOscillator();
      tone.frequency.value = 880;
      tone.connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.4);
    } catch (error) { /* sound is a courtesy; the title badge still shows */ }
  }

  function renderQueue() {
    const body = $("queue").querySelector("tbody");
    body.replaceChildren();
    for (const item of state.queue) {
      const row = document.createElement("tr");
      row.dataset.caseId = item.id;
      cell(row, item.level, `level level-${item.level}`);
      cell(row, item.reasons.join("; ") || item.criteria.join("; "));
      cell(row, item.age_band.replace("_", "–"));
      cell(row, item.nation.replace("_", " "));
      cell(row, waited(item.waiting_seconds), "waiting").dataset.since = item.created_at;
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "Claim";
      button.addEventListener("click", () => claim(item.id));
      cell(row, "").appendChild(button);
      body.appendChild(row);
    }
    $("queue-empty").hidden = state.queue.length > 0;
    const held = $("held");
    held.replaceChildren();
    for (const item of state.held) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = `Case ${item.id} (${item.level})`;
      button.addEventListener("click", () => open(item.id));
      li.appendChild(button);
      held.appendChild(li);
    }
    const shift = $("shift");
    shift.setAttribute("aria-pressed", String(state.on_shift));
    shift.textContent = state.on_shift ? "On shift" : "Off shift";
    $("workers").textContent = `${state.workers_on_shift} on shift`;
    renderHealth();
    if ($("lead")) renderInHand();
  }

  function renderInHand() {
    const body = $("in-hand").querySelector("tbody");
    body.replaceChildren();
    for (const item of state.in_hand) {
      const row = document.createElement("tr");
      cell(row, item.level, `level level-${item.level}`);
      cell(row, item.holder);
      cell(row, waited(item.held_seconds));
      const actions = $("in-hand-actions").content.cloneNode(true);
      actions.querySelector(".watch").addEventListener("click", () => watch(item.id));
      actions.querySelector(".reassign").addEventListener("click", () => askWhoFor(item.id));
      cell(row, "").appendChild(actions);
      body.appendChild(row);
    }
    $("in-hand-empty").hidden = state.in_hand.length > 0;
  }

  async function watch(caseId) {
    watching = caseId;
    watchedSeq = 0;
    $("watched").replaceChildren();
    $("watch-case").textContent = String(caseId);
    $("watch").hidden = false;
    await loadWatched();
  }

  async function loadWatched() {
    try {
      const { events } = await api("GET", `/console/api/cases/${watching}/watch?after=${watchedSeq}`);
      for (const event of events) {
        watchedSeq = Math.max(watchedSeq, event.seq);
        $("watched").appendChild(eventItem(event));
      }
    } catch (error) { stopWatching(); }  // the case has closed; the notice says so
  }

  function stopWatching() { watching = null; $("watch").hidden = true; }

  function askWhoFor(caseId) {
    reassigning = caseId;
    $("reassign-case").textContent = String(caseId);
    $("reassign").hidden = false;
    $("reassign-to").focus();
  }

  function renderHealth() {
    const health = state.health;
    for (const level of ["critical", "high", "offered"]) $(`waiting-${level}`).textContent = String(health.waiting[level]);
    $("longest-wait").textContent = waited(health.longest_wait_seconds);
    $("per-worker").textContent = health.cases_per_worker.map((item) => `${item.worker} ${item.cases}`).join(", ") || "none on shift";
    $("next").disabled = health.total_waiting === 0;
    $("pager").hidden = state.pages < 2;
    $("page-of").textContent = `Page ${state.page + 1} of ${state.pages}`;
    $("previous-page").disabled = state.page === 0;
    $("next-page").disabled = state.page >= state.pages - 1;
  }

  async function refresh() {
    state = await api("GET", `/console/api/state?page=${page}`);
    page = state.page;
    alertNewCritical();
    firstLoad = false;
    renderQueue();
    if (watching !== null) await loadWatched();
    if (openCase !== null) {
      if (!state.held.some((item) => item.id === openCase)) { closePanel(); return; }
      await loadEvents();
    }
  }

  async function claim(caseId) {
    try {
      await api("POST", `/console/api/cases/${caseId}/claim`);
      notice("");
      await refresh();
      await open(caseId);
    } catch (error) { await refresh(); }
  }

  async function claimNext() {
    try {
      const taken = await api("POST", "/console/api/next");
      notice("");
      await refresh();
      await open(taken.id);
    } catch (error) { await refresh(); }
  }

  async function open(caseId) {
    openCase = caseId;
    lastSeq = 0;
    shown.clear();
    $("transcript").replaceChildren();
    const item = state.held.find((held) => held.id === caseId);
    $("case").hidden = false;
    $("case-title").textContent = `Case ${caseId}`;
    $("case-meta").textContent = item ? `${item.level} · age ${item.age_band} · ${item.nation} · ${item.criteria.join(", ")}` : "";
    const cues = $("cues");
    cues.replaceChildren();
    for (const cue of (item && item.cues) || []) {
      const li = document.createElement("li");
      li.textContent = `${cue.label}: “${cue.quote}”`;
      cues.appendChild(li);
    }
    await loadEvents();
  }

  const speakers = { user_message: "Young person", bot_message: "Bot", human_message: "Helpline worker" };

  function eventItem(event) {
    const li = document.createElement("li");
    li.className = event.type;
    if (event.type === "status") {
      li.textContent = `Status: ${event.status.replaceAll("_", " ")}`;
    } else {
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = speakers[event.type] || event.type;
      li.append(who, document.createTextNode(event.text || ""));
    }
    return li;
  }

  async function loadEvents() {
    const { events } = await api("GET", `/console/api/cases/${openCase}/events?after=${lastSeq}`);
    const list = $("transcript");
    for (const event of events) {
      // A refresh from the stream and one after sending can overlap: show each event once.
      if (shown.has(event.seq)) continue;
      shown.add(event.seq);
      lastSeq = Math.max(lastSeq, event.seq);
      list.appendChild(eventItem(event));
    }
    list.scrollTop = list.scrollHeight;
  }

  function closePanel() { openCase = null; $("case").hidden = true; }

  $("snippet").addEventListener("change", (event) => {
    const box = $("reply-text");
    box.value = box.value ? `${box.value} ${event.target.value}` : event.target.value;
    event.target.value = "";
    box.focus();
  });

  // Let the young person see the worker is typing, at most every few seconds.
  let typingSent = 0;
  $("reply-text").addEventListener("input", () => {
    if (openCase === null || Date.now() - typingSent < 4000) return;
    typingSent = Date.now();
    api("POST", `/console/api/cases/${openCase}/typing`).catch(() => {});
  });

  $("reply").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("reply-text").value.trim();
    if (!text || openCase === null) return;
    await api("POST", `/console/api/cases/${openCase}/messages`, { text });
    $("reply-text").value = "";
    await loadEvents();
  });

  $("release").addEventListener("click", async () => {
    await api("POST", `/console/api/cases/${openCase}/release`);
    closePanel();
    await refresh();
  });

  $("close").addEventListener("submit", async (event) => {
    event.preventDefault();
    await api("POST", `/console/api/cases/${openCase}/close`, { outcome: $("outcome").value, note: $("note").value });
    $("note").value = "";
    closePanel();
    await refresh();
  });

  $("shift").addEventListener("click", async () => {
    state = await api("POST", "/console/api/shift", { on_shift: !state.on_shift });
    renderQueue();
  });

  if ($("lead")) {
    $("stop-watching").addEventListener("click", stopWatching);
    $("reassign").addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api("POST", `/console/api/cases/${reassigning}/reassign`, { worker: $("reassign-to").value.trim() });
        notice("");
        $("reassign").hidden = true;
        $("reassign-to").value = "";
      } finally { await refresh(); }
    });
  }

  $("next").addEventListener("click", claimNext);
  $("previous-page").addEventListener("click", () => { page = Math.max(0, page - 1); refresh(); });
  $("next-page").addEventListener("click", () => { page += 1; refresh(); });
  $("logout").addEventListener("click", async () => { await api("POST", "/console/logout"); location.href = "/console/login"; });
  $("logout-everywhere").addEventListener("click", async () => { await api("POST", "/console/logout-everywhere"); location.href = "/console/login"; });

  setInterval(() => {
    for (const td of document.querySelectorAll("td.waiting")) {
      td.textContent = waited(Math.max(0, Math.floor((Date.now() - Date.parse(td.dataset.since)) / 1000)));
    }
  }, 1000);

  function connect(delay = 1000) {
    const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/console/stream`);
    socket.addEventListener("message", (message) => {
      const data = JSON.parse(message.data);
      if (data.type === "alert") notice(data.message);
      else refresh().catch(() => {});
    });
    socket.addEventListener("close", () => setTimeout(() => connect(Math.min(delay * 2, 15000)), delay));
  }

  refresh().then(() => connect());
})();
