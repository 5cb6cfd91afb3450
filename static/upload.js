// Browser uploads of model files straight to object storage through
// presigned part URLs: several files at once, 4 parts in parallel, progress
// with speed and ETA, automatic and manual retry of failed parts, cancel.
(() => {
  "use strict";
  const PARALLEL = 4;
  const RETRIES = 3;

  const csrf = () => {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || ""; }
    catch { return ""; }
  };

  async function call(method, url, body) {
    const res = await fetch(url, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let data = {};
    try { data = JSON.parse(text); } catch { /* not JSON */ }
    if (!res.ok) throw new Error(data.error || `${res.status} ${res.statusText}`);
    return data;
  }

  // putPart PUTs one part and resolves with its ETag.
  function putPart(url, blob, onProgress, xhrs) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhrs.add(xhr);
      xhr.open("PUT", url);
      xhr.upload.onprogress = (ev) => onProgress(ev.loaded);
      xhr.onload = () => {
        xhrs.delete(xhr);
        const etag = xhr.getResponseHeader("ETag");
        if (xhr.status >= 200 && xhr.status < 300 && etag) resolve(etag);
        else reject(new Error(`part upload answered ${xhr.status}` + (etag ? "" : " without an ETag")));
      };
      xhr.onerror = () => { xhrs.delete(xhr); reject(new Error("network error")); };
      xhr.onabort = () => { xhrs.delete(xhr); reject(new Error("cancelled")); };
      xhr.send(blob);
    });
  }

  const human = (n) => {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
  };
  const duration = (s) => !isFinite(s) ? "…" : s < 60 ? `${Math.ceil(s)} s` : `${Math.floor(s / 60)} min ${Math.ceil(s % 60)} s`;

  class Upload {
    constructor(file, started, list) {
      this.file = file;
      this.id = started.id;
      this.partSize = started.part_size;
      this.urls = started.urls;
      this.etags = new Array(this.urls.length);
      this.loaded = new Array(this.urls.length).fill(0);
      this.xhrs = new Set();
      this.cancelled = false;
      this.el = document.createElement("div");
      this.el.className = "upload-item";
      this.el.dataset.testid = "upload-item";
      this.el.innerHTML = `<div class="row"><strong></strong><span><button type="button" class="outline small danger" data-act="cancel">Cancel</button></span></div>
        <progress value="0" max="${file.size || 1}"></progress><small class="muted" data-part="status">Starting…</small>`;
      this.el.querySelector("strong").textContent = file.name;
      this.el.querySelector("[data-act=cancel]").onclick = () => this.cancel();
      list.prepend(this.el);
    }

    status(text) { this.el.querySelector("[data-part=status]").textContent = text; }

    progress() {
      const done = this.loaded.reduce((a, b) => a + b, 0);
      this.el.querySelector("progress").value = done;
      const secs = (performance.now() - this.t0) / 1000;
      const speed = done / Math.max(secs, 0.001);
      this.status(`${human(done)} of ${human(this.file.size)} · ${human(speed)}/s · ${duration((this.file.size - done) / speed)} left`);
    }

    async run() {
      this.t0 = performance.now();
      const pending = this.urls.map((_, i) => i).filter((i) => !this.etags[i]);
      const worker = async () => {
        while (pending.length && !this.cancelled) {
          const i = pending.shift();
          await this.part(i);
        }
      };
      try {
        await Promise.all(Array.from({ length: Math.min(PARALLEL, pending.length) }, worker));
        if (this.cancelled) return;
        this.status("Completing…");
        const tags = this.etags.map((etag, i) => ({ ETag: etag, PartNumber: i + 1 }));
        await call("POST", `/models/${this.id}/complete`, { multi_parts_tags: { [this.file.name]: tags } });
        const secs = (performance.now() - this.t0) / 1000;
        this.el.classList.add("done");
        this.el.querySelector("[data-act=cancel]").remove();
        this.status(`Uploaded ${human(this.file.size)} in ${duration(secs)} — Active`);
        refreshTable();
      } catch (err) {
        if (this.cancelled) return;
        this.el.classList.add("failed");
        this.status(`Failed: ${err.message}. `);
        const retry = document.createElement("button");
        retry.type = "button";
        retry.className = "outline small";
        retry.textContent = "Retry";
        retry.dataset.testid = "upload-retry";
        retry.onclick = () => { retry.remove(); this.el.classList.remove("failed"); this.run(); };
        this.el.querySelector("[data-part=status]").append(retry);
      }
    }

    async part(i) {
      const blob = this.file.slice(i * this.partSize, Math.min((i + 1) * this.partSize, this.file.size));
      for (let attempt = 1; ; attempt++) {
        try {
          this.etags[i] = await putPart(this.urls[i], blob, (n) => { this.loaded[i] = n; this.progress(); }, this.xhrs);
          this.loaded[i] = blob.size;
          this.progress();
          return;
        } catch (err) {
          this.loaded[i] = 0;
          if (this.cancelled || attempt >= RETRIES) throw new Error(`part ${i + 1}: ${err.message}`);
          await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
        }
      }
    }

    async cancel() {
      this.cancelled = true;
      this.xhrs.forEach((x) => x.abort());
      this.status("Cancelling…");
      try {
        await call("DELETE", `/models/${this.id}`);
        this.status("Cancelled; nothing was kept.");
      } catch (err) {
        this.status(`Cancel failed: ${err.message}`);
      }
      this.el.querySelector("[data-act=cancel]")?.remove();
      refreshTable();
    }
  }

  function refreshTable() {
    if (window.htmx && document.getElementById("models-table")) {
      htmx.ajax("GET", location.pathname + location.search, { target: "#models-table", select: "#models-table", swap: "outerHTML" });
    }
  }

  async function start(form) {
    const files = [...form.querySelector("input[type=file]").files];
    const list = document.getElementById("upload-list");
    if (!files.length) return;
    let started;
    try {
      started = await call("POST", "/models/uploads", {
        type: form.querySelector("select[name=type]").value,
        files: files.map((f) => ({ name: f.name, size: f.size })),
      });
    } catch (err) {
      const msg = document.createElement("div");
      msg.className = "alert";
      msg.setAttribute("role", "alert");
      msg.dataset.testid = "upload-error";
      msg.textContent = err.message;
      list.prepend(msg);
      return;
    }
    form.reset();
    refreshTable();
    started.uploads.forEach((s, i) => new Upload(files[i], s, list).run());
  }

  document.addEventListener("click", (ev) => {
    const btn = ev.target.closest("[data-upload-start]");
    if (btn) start(btn.closest("form"));
  });

  // The upload form is never sent as such (Enter in a field would post it
  // to the page): the Upload button starts the uploads.
  document.addEventListener("submit", (ev) => {
    if (ev.target.matches("[data-upload-form]")) ev.preventDefault();
  });
})();
