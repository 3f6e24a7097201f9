// The moderation page (a file, not inline, so the Content-Security-Policy allows no inline script).
(() => {
  const speakers = {user_message: "Young person", bot_message: "Bot", human_message: "Helpline worker"};
  const list = document.getElementById("transcript");
  const notice = document.getElementById("notice");
  const reasonForm = document.getElementById("reason-form");
  let pending = null;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  document.getElementById("logout").addEventListener("click", async () => {
    await fetch("/console/logout", {method: "POST", credentials: "same-origin", headers: {"X-CSRF-Token": csrf}});
    location.href = "/console/login";
  });

  // The page's vocabulary comes from the server in a meta tag: no inline script under the CSP.
  const {flag_kinds: flagNames, criteria, intents} = JSON.parse(document.querySelector('meta[name="review-vocabulary"]').content);
  const get = async (path) => { const response = await fetch(path, {credentials: "same-origin"}); return [response, await response.json()]; };

  async function open(conversationId, reason) {
    const query = reason ? `?reason=${encodeURIComponent(reason)}` : "";
    const [response, body] = await get(`/moderation/api/conversations/${conversationId}/transcript${query}`);
    list.replaceChildren();
    document.getElementById("turns").replaceChildren();
    notice.textContent = response.ok ? "" : body.message;
    if (!response.ok) return;
    for (const event of body.events) {
      const li = document.createElement("li");
      li.className = event.type;
      li.textContent = event.type === "status" ? `Status: ${event.status}` : `${speakers[event.type] || event.type}: ${event.text || ""}`;
      list.appendChild(li);
    }
    const [, review] = await get(`/moderation/api/conversations/${conversationId}/turns${query}`);
    for (const turn of review.turns || []) document.getElementById("turns").appendChild(turnItem(conversationId, turn, query));
  }

  function turnItem(conversationId, turn, query) {
    const li = document.createElement("li");
    li.className = "turn";
    const said = document.createElement("p"); said.textContent = `Young person: ${turn.text}`;
    const facts = document.createElement("p");
    const decision = turn.decision ? `${turn.decision.action}${turn.decision.level ? " (" + turn.decision.level + ")" : ""} ${turn.decision.criteria.join(", ")}` : "none";
    facts.textContent = `Intent: ${turn.intent} (${Math.round(turn.confidence * 100)}%)${turn.low_confidence ? ", low confidence" : ""}${turn.fallback ? ", fallback" : ""}. Risk decision: ${decision}.`;
    const replies = document.createElement("p"); replies.textContent = `Bot: ${turn.replies.join(" ")}`;
    const form = document.createElement("form");
    form.className = "flag";
    const id = `turn-${turn.turn}`;
    form.innerHTML = `<label for="${id}-kind">Flag</label><select id="${id}-kind" name="kind"></select>
      <label for="${id}-intent">Right intent</label><select id="${id}-intent" name="right_intent"><option value="">(for a wrong intent)</option></select>
      <fieldset><legend>Criteria (for a missed handoff)</legend></fieldset>
      <label for="${id}-note">Note</label><input id="${id}-note" name="note" maxlength="2000">
      <button type="submit">Save flag</button> <span role="status"></span>`;
    for (const [key, name] of Object.entries(flagNames)) form.elements.kind.add(new Option(name, key));
    for (const intent of intents) form.elements.right_intent.add(new Option(intent, intent));
    for (const criterion of criteria) {
      const label = document.createElement("label");
      label.innerHTML = `<input type="checkbox" name="criteria" value="${criterion}"> ${criterion}`;
      form.querySelector("fieldset").appendChild(label);
    }
    form.addEventListener("submit", async (submitted) => {
      submitted.preventDefault();
      const chosen = [...form.querySelectorAll('input[name="criteria"]:checked')].map((box) => box.value);
      const response = await fetch(`/moderation/api/conversations/${conversationId}/flags${query}`, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
        body: JSON.stringify({turn: turn.turn, kind: form.elements.kind.value, right_intent: form.elements.right_intent.value || null,
                              criteria: chosen, note: form.elements.note.value || null}),
      });
      const body = await response.json();
      form.querySelector("span").textContent = response.ok ? "Flag saved." : body.message;
      if (response.ok) showCounts();
    });
    li.append(said, facts, replies, form);
    return li;
  }

  async function showCounts() {
    const [, body] = await get("/moderation/api/flags");
    const counts = Object.entries(body.counts || {}).map(([key, count]) => `${flagNames[key]}: ${count}`);
    document.getElementById("flag-counts").textContent = counts.join(" · ");
  }

  if (reasonForm) {
    reasonForm.addEventListener("submit", (submitted) => {
      submitted.preventDefault();
      const reason = document.getElementById("reason").value.trim();
      if (pending && reason) { reasonForm.hidden = true; open(pending, reason); }
    });
  }

  async function showList() {
    const filters = new URLSearchParams([...new FormData(document.getElementById("filters"))].filter(([, value]) => value));
    const [, listing] = await get(`/moderation/api/conversations?${filters}`);
    const body = document.querySelector("#conversations tbody");
    body.replaceChildren();
    for (const item of listing.conversations || []) {
      const row = document.createElement("tr");
      const cells = [new Date(item.last_activity).toLocaleString(), String(item.messages),
                     item.cases.map((c) => `${c.level} (${c.outcome || c.status})`).join(", ") || "none"];
      if (reasonForm) cells.push(item.ended ? "ended" : "live");
      for (const text of cells) {
        const td = document.createElement("td"); td.textContent = text; row.appendChild(td);
      }
      const button = document.createElement("button");
      button.type = "button"; button.textContent = "Open transcript";
      button.addEventListener("click", () => {
        if (item.ended) { open(item.conversation_id); return; }
        pending = item.conversation_id;
        list.replaceChildren();
        reasonForm.hidden = false;
        document.getElementById("reason").focus();
      });
      const td = document.createElement("td"); td.appendChild(button); row.appendChild(td);
      body.appendChild(row);
    }
  }
  document.getElementById("filters").addEventListener("submit", (submitted) => { submitted.preventDefault(); showList(); });
  showList();
  showCounts();
})();
