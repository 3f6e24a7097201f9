// The transcript review page (a file, not inline, so the Content-Security-Policy allows no inline script).
(async () => {
  const speakers = {user_message: "Young person", bot_message: "Bot", human_message: "Helpline worker"};
  const get = (path) => fetch(path, {credentials: "same-origin"}).then((r) => r.json());
  const body = document.querySelector("#conversations tbody");
  for (const item of (await get("/moderation/api/conversations")).conversations) {
    const row = document.createElement("tr");
    for (const text of [new Date(item.last_activity).toLocaleString(), String(item.messages),
                        item.cases.map((c) => `${c.level} (${c.outcome || c.status})`).join(", ") || "none"]) {
      const td = document.createElement("td"); td.textContent = text; row.appendChild(td);
    }
    const button = document.createElement("button");
    button.type = "button"; button.textContent = "Open transcript";
    button.addEventListener("click", async () => {
      const list = document.getElementById("transcript");
      list.replaceChildren();
      for (const event of (await get(`/moderation/api/conversations/${item.conversation_id}/transcript`)).events) {
        const li = document.createElement("li");
        li.className = event.type;
        li.textContent = event.type === "status" ? `Status: ${event.status}` : `${speakers[event.type] || event.type}: ${event.text || ""}`;
        list.appendChild(li);
      }
    });
    const td = document.createElement("td"); td.appendChild(button); row.appendChild(td);
    body.appendChild(row);
  }
})();
