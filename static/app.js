// Small console behaviours that need no build step (the Content-Security-
// Policy allows no inline script or handler: everything is delegated here).
(() => {
  "use strict";

  // Copy buttons: data-copy names a field or element, data-copy-text holds
  // the text itself.
  document.addEventListener("click", (ev) => {
    const btn = ev.target.closest("[data-copy], [data-copy-text]");
    if (!btn) return;
    let text = btn.dataset.copyText;
    if (text === undefined) {
      const field = document.querySelector(btn.dataset.copy);
      if (!field) return;
      if ("value" in field && field.select) { field.select(); text = field.value; } else text = field.textContent.trim();
    }
    const label = btn.textContent;
    const done = () => {
      btn.textContent = "Copied ✓";
      setTimeout(() => (btn.textContent = label), 1500);
    };
    const fallback = () => {
      const area = document.createElement("textarea");
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
      done();
    };
    if (navigator.clipboard) navigator.clipboard.writeText(text).then(done, fallback);
    else fallback();
  });

  // Notices: a close button, and confirmations that leave by themselves.
  const dismiss = (el) => {
    el.classList.add("leaving");
    setTimeout(() => el.remove(), 300);
  };
  document.addEventListener("click", (ev) => {
    const btn = ev.target.closest("[data-dismiss]");
    if (btn) dismiss(btn.closest(".notice"));
  });
  const watchNotices = () => {
    const region = document.getElementById("flash");
    if (!region) return;
    new MutationObserver(() => {
      region.querySelectorAll(".notice[data-autohide]:not([data-timed])").forEach((el) => {
        el.dataset.timed = "1";
        setTimeout(() => el.isConnected && dismiss(el), 8000);
      });
    }).observe(region, { childList: true });
  };

  // The phone menu.
  document.addEventListener("click", (ev) => {
    const btn = ev.target.closest("[data-menu-toggle]");
    if (!btn) return;
    const open = btn.getAttribute("aria-expanded") !== "true";
    btn.setAttribute("aria-expanded", String(open));
    btn.closest(".topbar").classList.toggle("menu-open", open);
  });
  document.addEventListener("keydown", (ev) => {
    const btn = document.querySelector("[data-menu-toggle][aria-expanded=true]");
    if (ev.key === "Escape" && btn) btn.click();
  });

  // The endpoint form says the final name while the user types: Easel
  // prefixes it with esd-<type>- (ESD's rule).
  const previewName = (form) => {
    const out = form.querySelector("[data-name-preview]");
    if (!out) return;
    const type = form.querySelector("[name=endpoint_type]").value;
    const name = form.querySelector("[name=endpoint_name]").value.trim();
    const prefix = type === "Real-time" ? "esd-real-time-" : "esd-async-";
    out.textContent = name === ""
      ? `Left empty, the name will be ${prefix} followed by 7 random characters.`
      : `It will be called ${prefix}${name}.`;
  };
  const onField = (ev) => {
    const form = ev.target.closest && ev.target.closest("form");
    if (form && ev.target.matches("[name=endpoint_name], [name=endpoint_type]")) previewName(form);
  };
  document.addEventListener("input", onField);
  document.addEventListener("change", onField);

  // Live events (views/live.go): while the page's event stream is open,
  // body[data-live] is set and polling elements (data-poll) stand down;
  // when it drops they poll again. Each (re)opening sends easel:live so
  // what changed meanwhile is fetched once.
  document.addEventListener("htmx:sseOpen", () => {
    document.body.dataset.live = "1";
    htmx.trigger(document.body, "easel:live");
  });
  const down = () => delete document.body.dataset.live;
  document.addEventListener("htmx:sseError", down);
  document.addEventListener("htmx:sseClose", down);
  document.addEventListener("htmx:confirm", (ev) => {
    const by = ev.detail.triggeringEvent;
    const live = by && (by.type.startsWith("sse:") || by.type === "easel:live");
    if (document.body.dataset.live === "1" && ev.target.hasAttribute("data-poll") && !live) ev.preventDefault();
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watchNotices);
  else watchNotices();
})();
