// The chat widget for young people: one <script> tag on any page, no framework.
//
//   <script src="https://HOST/widget.js" defer
//           data-service-name="Helpline chat" data-nation="scotland"
//           data-colour="#4b2a83" data-text-colour="#ffffff"
//           data-exit-url="https://www.bbc.co.uk/weather"></script>
//
// This loader draws only a launcher and a Quick exit button on the host page. The
// chat runs in a frame served from the service's own origin (/widget/frame), so
// the conversation's token and messages never reach the host page: its scripts
// (analytics, ads) cannot read them. The loader and the frame talk with
// postMessage, each checking the other's origin, about opening, closing and
// Quick exit only. A website not on the service's list (BOT_EMBED_ORIGINS) gets
// Childline's number instead of a chat its browser would refuse to show.
(() => {
  "use strict";
  const SETUP = /*WIDGET_SETUP*/{};
  const WORDS = SETUP.words;
  const script = document.currentScript;
  const data = (script && script.dataset) || {};
  const service = new URL(data.api || script.src, location.href).origin;
  const exitUrl = webAddress(data.exitUrl) || SETUP.defaults.exit_url;
  const title = data.serviceName || WORDS.title;
  // Every page that holds this one must be allowed to show the chat, or the browser blocks the frame.
  const embeddable = [location.origin, ...Array.from(location.ancestorOrigins || [])]
    .every((origin) => origin === service || SETUP.embed_origins.includes(origin));
  // How long Esc on the host page waits for the frame to confirm it has wiped the chat.
  const EXIT_WAIT_MS = 400;
  // How often the chat's frame is loaded again while the service cannot be reached.
  const FRAME_RETRY_MS = 5000;

  function webAddress(value) {
    try { return /^https?:$/.test(new URL(value).protocol) ? value : null; } catch (error) { return null; }
  }

  // --- the launcher, in a shadow root so the host page's styles cannot break it ---
  const host = document.createElement("div");
  host.id = "youthchat-widget";
  document.body.appendChild(host);
  const root = host.attachShadow({ mode: "open" });
  root.innerHTML = `
<style>
  :host { all: initial; }
  * { box-sizing: border-box; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
  .launch { position: fixed; right: 1rem; bottom: 1rem; z-index: 2147483000; display: flex; gap: .5rem; }
  .btn { font: inherit; border: 2px solid transparent; border-radius: 999px; padding: .6rem 1rem; font-size: 1rem;
         cursor: pointer; background: var(--brand); color: var(--on-brand); min-height: 44px; }
  .btn[hidden] { display: none; }
  .exit { background: #ffffff; color: #8a1020; border-color: #8a1020; font-weight: 700; }
  .btn:focus-visible, a:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
  iframe { position: fixed; right: 1rem; bottom: 1rem; z-index: 2147483001; width: min(25rem, calc(100vw - 1rem));
           height: min(38rem, calc(100vh - 2rem)); border: 1px solid #6b6b6b; border-radius: 12px;
           box-shadow: 0 6px 24px rgba(0,0,0,.25); background: #ffffff; }
  iframe[hidden] { display: none; }
  /* Full screen on a phone, and on a laptop zoomed to 200%. */
  @media (max-width: 30em), (max-height: 30em) {
    iframe { inset: 0; width: 100%; height: 100%; border: 0; border-radius: 0; }
  }
  .notice { position: fixed; right: 1rem; bottom: 4.5rem; z-index: 2147483001; max-width: min(22rem, calc(100vw - 2rem));
                 margin: 0; padding: .75rem 1rem; background: #ffffff; color: #1b1b1b; border: 1px solid #6b6b6b;
                 border-radius: 12px; font-size: 1rem; line-height: 1.45; }
  .notice[hidden] { display: none; }
  .notice a { color: #3a1f6b; }
</style>
<div class="launch">
  <button class="btn exit" type="button"></button>
  <button class="btn open" type="button" aria-expanded="false"></button>
</div>
<p class="notice" id="youthchat-notice" role="alert" tabindex="-1" hidden></p>`;
  const $ = (selector) => root.querySelector(selector);
  host.style.setProperty("--brand", data.colour || SETUP.defaults.colour);
  host.style.setProperty("--on-brand", data.textColour || SETUP.defaults.text_colour);
  const openButton = $(".open");
  const exitButton = $(".exit");
  const notice = $(".notice");
  openButton.textContent = WORDS.launcher;
  exitButton.textContent = WORDS.quick_exit;

  // A message with Childline's number, for when the chat cannot be shown.
  function showNotice(text) {
    notice.hidden = !text;
    openButton.setAttribute("aria-expanded", String(Boolean(text)));
    if (!text) return;
    const call = document.createElement("a");
    call.href = "tel:08001111";
    call.textContent = WORDS.helplines;
    notice.replaceChildren(text, " ", call);
    notice.focus();
  }

  // --- the chat's frame ---
  let frame = null;
  let frameReady = false;
  let wantOpen = false;
  let retrying = null;
  let exitConfirmed = null;

  function tellFrame(type) {
    if (frame && frame.contentWindow) frame.contentWindow.postMessage({ youthchat: type }, service);
  }

  if (embeddable) {
    frame = document.createElement("iframe");
    frame.id = "youthchat-chat";
    frame.title = title;
    frame.hidden = true;
    frame.referrerPolicy = "no-referrer";
    const options = {
      host: location.origin, name: title, nation: data.nation || "", colour: data.colour || "",
      text_colour: data.textColour || "", exit_url: exitUrl,
    };
    const frameUrl = `${service}/widget/frame?${new URLSearchParams(options)}`;
    frame.src = frameUrl;
    openButton.setAttribute("aria-controls", frame.id);
    root.append(frame);
    // Until the frame says it is ready, the service may be out of reach: keep loading it again.
    retrying = setInterval(() => { if (!frameReady) frame.src = frameUrl; }, FRAME_RETRY_MS);

    window.addEventListener("message", (event) => {
      if (event.source !== frame.contentWindow || event.origin !== service) return;
      const type = event.data && event.data.youthchat;
      if (type === "ready") {
        frameReady = true;
        clearInterval(retrying);
        if (wantOpen || event.data.resume) setOpen(true);
      } else if (type === "closed") setOpen(false);
      else if (type === "exit") leave();
      else if (type === "exited" && exitConfirmed) exitConfirmed();
    });
    openButton.addEventListener("click", () => setOpen(true));
  } else {
    openButton.setAttribute("aria-controls", notice.id);
    openButton.addEventListener("click", () => showNotice(WORDS.unavailable));
  }

  function setOpen(open) {
    wantOpen = open;
    if (open && !frameReady) { showNotice(WORDS.offline); return; }
    showNotice("");
    frame.hidden = !open;
    openButton.hidden = open;
    openButton.setAttribute("aria-expanded", String(open));
    if (open) { frame.focus(); tellFrame("open"); } else { openButton.focus(); }
  }

  // --- quick exit: hide the chat, have the frame wipe it, and replace the page, so Back does not return ---
  function leave() {
    host.style.display = "none";
    document.title = "";
    location.replace(exitUrl);
  }

  async function quickExit() {
    host.style.display = "none";
    document.title = "";
    if (frameReady) {
      // The frame's storage belongs to the service's origin: only the frame can clear it.
      await new Promise((resolve) => {
        exitConfirmed = resolve;
        tellFrame("exit");
        setTimeout(resolve, EXIT_WAIT_MS);
      });
    }
    leave();
  }
  exitButton.addEventListener("click", quickExit);
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") quickExit(); }, true);
})();
