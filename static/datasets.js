// Dataset uploads: a dropped folder (or picked files) of pictures and
// same-name .txt captions goes straight to object storage through one
// presigned PUT per file, several at once, with progress; then the dataset
// is enabled and the browser opens it.
(() => {
  "use strict";
  const PARALLEL = 6;
  const RETRIES = 3;
  const KEEP = /\.(png|jpe?g|webp|bmp|txt)$/i;

  const csrf = () => {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || ""; }
    catch { return ""; }
  };

  async function call(url, body) {
    const res = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    let data = {};
    try { data = JSON.parse(text); } catch { /* not JSON */ }
    if (!res.ok) throw new Error(data.error || `${res.status} ${res.statusText}`);
    return data;
  }

  const human = (n) => {
    const units = ["B", "KiB", "MiB", "GiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
  };

  // The files chosen for the form, by name (a later file of the same name wins).
  const chosen = new WeakMap();

  function choose(form, files) {
    const kept = files.filter((f) => KEEP.test(f.name));
    chosen.set(form, kept);
    const skipped = files.length - kept.length;
    const pics = kept.filter((f) => !/\.txt$/i.test(f.name)).length;
    form.querySelector("[data-dataset-chosen]").textContent = kept.length
      ? `${pics} pictures and ${kept.length - pics} captions chosen (${human(kept.reduce((a, f) => a + f.size, 0))})` +
        (skipped ? `; ${skipped} other files left out.` : ".")
      : "No pictures or captions chosen.";
  }

  // readEntry lists the files under a dropped folder entry.
  async function readEntry(entry, out) {
    if (entry.isFile) {
      out.push(await new Promise((ok, fail) => entry.file(ok, fail)));
      return;
    }
    const reader = entry.createReader();
    for (;;) {
      const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
      if (!batch.length) return;
      for (const e of batch) await readEntry(e, out);
    }
  }

  function put(url, file, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", url);
      xhr.upload.onprogress = (ev) => onProgress(ev.loaded);
      xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new Error(`storage answered ${xhr.status}`)));
      xhr.onerror = () => reject(new Error("network error"));
      xhr.send(file);
    });
  }

  async function start(form) {
    const files = chosen.get(form) || [];
    const panel = form.parentElement.querySelector("[data-dataset-progress]");
    const say = (text, cls) => {
      panel.innerHTML = "";
      const p = document.createElement("p");
      p.textContent = text;
      if (cls) { p.className = cls; p.setAttribute("role", "alert"); p.dataset.testid = "dataset-upload-error"; }
      panel.append(p);
      return p;
    };
    if (!files.length) { say("Choose or drop some pictures first.", "alert"); return; }
    const name = form.elements.name.value.trim();
    const button = form.querySelector("[data-dataset-start]");
    button.disabled = true;
    let started;
    try {
      started = await call("/datasets/uploads", {
        name, prefix: form.elements.prefix.value.trim(), description: form.elements.description.value.trim(),
        files: files.map((f) => f.name),
      });
    } catch (err) {
      say(err.message, "alert");
      button.disabled = false;
      return;
    }
    const total = files.reduce((a, f) => a + f.size, 0) || 1;
    const loaded = new Array(files.length).fill(0);
    say("");
    const bar = document.createElement("progress");
    bar.max = total;
    bar.value = 0;
    const status = document.createElement("small");
    status.dataset.testid = "dataset-upload-status";
    panel.append(bar, status);
    const t0 = performance.now();
    let done = 0;
    const show = () => {
      const bytes = loaded.reduce((a, b) => a + b, 0);
      bar.value = bytes;
      const speed = bytes / Math.max((performance.now() - t0) / 1000, 0.001);
      status.textContent = `${done} of ${files.length} files · ${human(bytes)} of ${human(total)} · ${human(speed)}/s`;
    };
    const pending = files.map((_, i) => i);
    const failed = [];
    const worker = async () => {
      while (pending.length) {
        const i = pending.shift();
        for (let attempt = 1; ; attempt++) {
          try {
            await put(started.urls[files[i].name], files[i], (n) => { loaded[i] = n; show(); });
            loaded[i] = files[i].size;
            done++;
            show();
            break;
          } catch (err) {
            loaded[i] = 0;
            if (attempt >= RETRIES) { failed.push(`${files[i].name}: ${err.message}`); break; }
            await new Promise((r) => setTimeout(r, 400 * 2 ** attempt));
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, files.length) }, worker));
    if (failed.length) {
      say(`${failed.length} files did not upload (${failed.slice(0, 3).join("; ")}). Upload the dataset again to retry.`, "alert");
      button.disabled = false;
      return;
    }
    status.textContent = `Uploaded ${files.length} files (${human(total)}); enabling…`;
    try {
      const res = await fetch(`/datasets/${encodeURIComponent(name)}/status`, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": csrf() },
        body: "status=Enabled",
      });
      if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
    } catch (err) {
      say(`Uploaded, but enabling failed: ${err.message}`, "alert");
      button.disabled = false;
      return;
    }
    location.assign(`/datasets/${encodeURIComponent(name)}`);
  }

  document.addEventListener("change", (ev) => {
    const input = ev.target.closest("[data-dataset-files]");
    if (input) choose(input.closest("form"), [...input.files]);
  });
  document.addEventListener("dragover", (ev) => {
    const zone = ev.target.closest("[data-drop-zone]");
    if (zone) { ev.preventDefault(); zone.classList.add("over"); }
  });
  document.addEventListener("dragleave", (ev) => {
    ev.target.closest("[data-drop-zone]")?.classList.remove("over");
  });
  document.addEventListener("drop", async (ev) => {
    const zone = ev.target.closest("[data-drop-zone]");
    if (!zone) return;
    ev.preventDefault();
    zone.classList.remove("over");
    const entries = [...ev.dataTransfer.items].map((it) => it.webkitGetAsEntry && it.webkitGetAsEntry()).filter(Boolean);
    let files = [];
    if (entries.length) for (const e of entries) await readEntry(e, files);
    else files = [...ev.dataTransfer.files];
    choose(zone.closest("form"), files);
  });
  document.addEventListener("click", (ev) => {
    const btn = ev.target.closest("[data-dataset-start]");
    if (btn) start(btn.closest("form"));
  });
  document.addEventListener("submit", (ev) => {
    if (ev.target.matches("[data-dataset-form]")) ev.preventDefault();
  });
})();
