// The inspect page: analyse uploaded images and videos, or a folder under the server's roots,
// with the served model (and a second one side by side); sortable results; per item the image
// with hand box, skeleton, letter and top-5.
"use strict";

const state = {
  items: [],            // {id, name, source: {file} | {root, path}, expected, records: [recA, recB?]}
  models: [],           // names of the models the current results were made with
  sort: { key: "index", dir: 1 },
  selected: null,
  job: null,            // the running job id (folder or video)
  stop: false,
  roots: [],
  root: 0,
  thresholds: {},       // model name -> its still-image threshold (bundle.json "still")
  confMoved: false,     // the user moved the slider: it no longer follows the model
  path: "",
  urls: new Map(),      // item id -> object URL for uploads
};

const $ = id => document.getElementById(id);
const conf = () => parseFloat($("conf").value);
const showLabels = () => $("show-labels").checked;

function setStatus(text, fraction) {
  $("status").textContent = text;
  if (fraction !== undefined) $("progress-bar").style.width = (100 * Math.max(0, Math.min(1, fraction))) + "%";
}
function showError(message) { $("error").textContent = message || ""; }

function chosenModels() {
  const models = [$("model").value];
  if ($("compare").value && $("compare").value !== $("model").value) models.push($("compare").value);
  return models;
}

// ---- models and folders ----------------------------------------------------------------
async function loadModels() {
  const models = await api("/api/models");
  for (const m of models) {
    const text = m.name + (m.name !== m.bundle ? " (" + m.bundle + ")" : "");
    $("model").append(el("option", { value: m.name, text }));
    $("compare").append(el("option", { value: m.name, text }));
    state.thresholds[m.name] = m.threshold;
  }
  followThreshold();
}

// The slider starts at the chosen model's still-image threshold, the one `fingerspell predict`
// uses, and follows the model choice until the user moves it.
function followThreshold() {
  const t = state.thresholds[$("model").value];
  if (state.confMoved || typeof t !== "number") return;
  $("conf").value = String(t);
  $("conf-value").textContent = t.toFixed(2);
}

async function loadRoots() {
  state.roots = await api("/api/roots");
  if (!state.roots.length) { $("no-roots").hidden = false; return; }
  $("folders").hidden = false;
  for (const r of state.roots) $("root").append(el("option", { value: r.root, text: r.name, title: r.path }));
  await openFolder(0, "");
}

async function openFolder(root, path) {
  showError("");
  let listing;
  try { listing = await api("/api/folders?root=" + root + "&path=" + encodeURIComponent(path)); }
  catch (e) { showError(e.message); return; }
  state.root = root; state.path = listing.path;
  const crumbs = $("crumbs");
  crumbs.replaceChildren(el("a", { text: state.roots[root].name, onclick: () => openFolder(root, "") }));
  let acc = "";
  for (const part of listing.path ? listing.path.split("/") : []) {
    acc = acc ? acc + "/" + part : part;
    const target = acc;
    crumbs.append(" / ", el("a", { text: part, onclick: () => openFolder(root, target) }));
  }
  const list = $("folder-list");
  list.replaceChildren();
  for (const f of listing.folders) list.append(el("div", { class: "folder", "data-path": f.path, text: f.name + "/",
    onclick: () => openFolder(root, f.path) }));
  const images = listing.files.filter(f => f.kind === "image").length;
  for (const f of listing.files.filter(f => f.kind === "video")) list.append(el("div", { class: "video-file",
    "data-path": f.path, text: "\u25B6 " + f.name + "  (click to analyse the video)", onclick: () => analyseVideo({ root, path: f.path }, f.name) }));
  if (images) list.append(el("div", { class: "muted", text: images + (listing.truncated ? "+" : "") + " images here" }));
  if (!list.children.length) list.append(el("div", { class: "muted", text: "empty folder" }));
}

// ---- analysing -----------------------------------------------------------------------------
function resetResults(models) {
  state.items = []; state.models = models; state.selected = null;
  for (const url of state.urls.values()) URL.revokeObjectURL(url);
  state.urls.clear();
  $("detail-grid").replaceChildren(); $("detail-empty").hidden = false;
  $("video-panel").hidden = true;  // a new set of images: the last video's timeline no longer applies
  renderTable();
}

function formFor(model) {
  const form = new FormData();
  form.append("model", model);
  form.append("conf", String(conf()));
  form.append("classes", $("classes").value);
  return form;
}

async function analyseFiles(files) {
  showError("");
  const images = files.filter(f => !f.type.startsWith("video/") && !/\.(avi|mkv|mp4|mov|webm|y4m|mjpeg)$/i.test(f.name));
  const videos = files.filter(f => !images.includes(f));
  if (images.length) await analyseUploads(images);
  if (videos.length) await analyseVideo({ file: videos[0] }, videos[0].name);
}

async function analyseUploads(files) {
  const models = chosenModels();
  resetResults(models);
  state.stop = false; $("cancel").hidden = false;
  let done = 0;
  for (const file of files) {
    if (state.stop) break;
    const item = { id: state.items.length, index: state.items.length, name: file.name, source: { file }, expected: null, records: [] };
    try {
      for (const model of models) {
        const form = formFor(model);
        form.append("file", file, file.name);
        item.records.push(await api("/api/predict", { method: "POST", body: form }));
      }
    } catch (e) {
      item.error = e.message;
      showError(file.name + ": " + e.message);
    }
    state.items.push(item);
    done += 1;
    setStatus("analysed " + done + " of " + files.length + (files.length === 1 ? " image" : " images"), done / files.length);
    renderTable();
    if (state.selected === null && item.records.length) selectItem(item.id);
  }
  $("cancel").hidden = true;
  renderSummary();
}

async function pollJob(job, onResults) {
  state.job = job.id; $("cancel").hidden = false;
  let since = job.count || 0;
  onResults(job.results || [], job);
  while (true) {
    await new Promise(r => setTimeout(r, 250));
    let view;
    try { view = await api("/api/jobs/" + job.id + "?since=" + since); }
    catch (e) { showError(e.message); break; }
    since = view.count;
    onResults(view.results, view);
    if (view.state !== "running") {
      if (view.state === "failed") showError(view.error);
      break;
    }
  }
  state.job = null; $("cancel").hidden = true;
}

async function analyseFolder() {
  showError("");
  const models = chosenModels();
  const body = { root: state.root, path: state.path, model: models[0], compare: models[1] || null,
    conf: conf(), classes: $("classes").value, limit: parseInt($("limit").value, 10) || null };
  let job;
  try { job = await postJSON("/api/jobs/folder", body); } catch (e) { showError(e.message); return; }
  resetResults(models);
  setStatus("analysing " + job.title, 0);
  await pollJob(job, (results, view) => {
    for (const r of results) {
      state.items.push({ id: r.index, index: r.index, name: r.path, source: { root: r.root, path: r.path },
        expected: r.expected, records: r.records });
    }
    if (results.length) renderTable();
    if (state.selected === null && state.items.length) selectItem(state.items[0].id);
    const total = view.total || 1;
    setStatus((view.state === "running" ? "analysing " : view.state + ": ") + view.done + " of " + view.total +
      " images (" + view.seconds.toFixed(1) + " s)", view.done / total);
    if (view.state !== "running") renderSummary(view.summary);
  });
}

async function analyseVideo(where, title) {
  showError("");
  const form = formFor($("model").value);
  const other = $("compare").value && $("compare").value !== $("model").value ? $("compare").value : "";
  if (other) form.append("compare", other);  // the same video spelled by a second model
  const passes = other ? 2 : 1;
  if (where.file) form.append("file", where.file, where.file.name);
  else { form.append("root", where.root); form.append("path", where.path); }
  let job;
  try { job = await api("/api/jobs/video", { method: "POST", body: form }); } catch (e) { showError(title + ": " + e.message); return; }
  const frames = [];
  setStatus("analysing video " + title, 0);
  await pollJob(job, (results, view) => {
    frames.push(...results);
    const total = view.total || frames.length || 1;
    setStatus((view.state === "running" ? "analysing video: " : "video " + view.state + ": ") + view.done +
      (view.total ? " of " + view.total : "") + " frames", view.done / total);
    renderVideo(title, frames, view.state === "running" ? null : view.summary, view.total && view.total / passes);
  });
}

// ---- the table -------------------------------------------------------------------------------
function columns() {
  // With two models the letter columns are named after them; "conf." keeps the table narrow.
  const two = state.models.length > 1;
  const cols = [
    { key: "index", title: "#", value: it => it.index },
    { key: "name", title: "image", value: it => it.name.split("/").pop() },
    { key: "letter", title: two ? state.models[0] : "letter", value: it => letterAt(it.records[0], conf()) || "" },
    { key: "conf", title: two ? "conf." : "confidence", value: it => it.records[0] && it.records[0].top5.length ? it.records[0].top5[0][1] : -1 },
    { key: "hand", title: "hand", value: it => it.records[0] && it.records[0].hand ? 1 : 0 },
  ];
  if (state.items.some(it => it.expected)) cols.push({ key: "expected", title: "folder", value: it => it.expected || "" });
  if (two) {
    cols.push({ key: "letter2", title: state.models[1], value: it => letterAt(it.records[1], conf()) || "" });
    cols.push({ key: "conf2", title: "conf.", value: it => it.records[1] && it.records[1].top5.length ? it.records[1].top5[0][1] : -1 });
    cols.push({ key: "agree", title: "agree", value: it => (letterAt(it.records[0], conf()) === letterAt(it.records[1], conf())) ? 1 : 0 });
  }
  return cols;
}

function renderTable() {
  const cols = columns();
  const head = el("tr");
  for (const c of cols) {
    const th = el("th", { "data-key": c.key, text: c.title,
      onclick: () => { state.sort = { key: c.key, dir: state.sort.key === c.key ? -state.sort.dir : 1 }; renderTable(); } });
    if (state.sort.key === c.key) th.classList.add(state.sort.dir > 0 ? "sorted-asc" : "sorted-desc");
    head.append(th);
  }
  $("results").tHead.replaceChildren(head);
  const sortCol = cols.find(c => c.key === state.sort.key) || cols[0];
  const items = state.items.slice().sort((a, b) => {
    const x = sortCol.value(a), y = sortCol.value(b);
    return (x < y ? -1 : x > y ? 1 : a.index - b.index) * state.sort.dir;
  });
  const body = $("results").tBodies[0];
  body.replaceChildren();
  for (const it of items) {
    const tr = el("tr", { "data-id": it.id, onclick: () => selectItem(it.id) });
    if (it.id === state.selected) tr.classList.add("selected");
    for (const c of cols) {
      let v = c.value(it);
      const td = el("td");
      if (c.key === "conf" || c.key === "conf2") v = v < 0 ? "" : v.toFixed(3);
      if (c.key === "hand") v = it.error ? "error" : v ? "yes" : "no";
      if (c.key === "agree") v = v ? "yes" : "no";
      if (c.key === "letter" || c.key === "letter2") td.className = "letter";
      if (c.key === "name") td.title = it.name;
      if ((c.key === "letter" || c.key === "letter2") && it.expected) td.classList.add(v === it.expected ? "right" : "wrong");
      td.textContent = v === "" && (c.key === "letter" || c.key === "letter2") ? "\u2013" : v;
      tr.append(td);
    }
    body.append(tr);
  }
  renderSummary();
}

function renderSummary(summary) {
  const items = state.items.filter(it => it.records.length);
  if (!items.length) { $("summary").textContent = ""; return; }
  const letters = items.filter(it => letterAt(it.records[0], conf())).length;
  const hands = items.filter(it => it.records[0].hand).length;
  let text = items.length + (items.length === 1 ? " image" : " images") + ", hand in " + hands + ", letter at \u2265 " + conf().toFixed(2) + " for " + letters;
  const labelled = items.filter(it => it.expected);
  if (labelled.length) {
    const right = labelled.filter(it => letterAt(it.records[0], conf()) === it.expected).length;
    text += "; right " + right + "/" + labelled.length + " (" + pct(right / labelled.length) + ") against folder names";
  }
  if (state.models.length > 1) {
    const agree = items.filter(it => letterAt(it.records[0], conf()) === letterAt(it.records[1], conf())).length;
    text += "; models agree on " + agree + "/" + items.length;
  }
  if (summary && summary.truncated) text += " (folder has more images than the limit)";
  $("summary").textContent = text;
}

// ---- one item --------------------------------------------------------------------------------
function imageUrl(item) {
  if (item.source.file) {
    if (!state.urls.has(item.id)) state.urls.set(item.id, URL.createObjectURL(item.source.file));
    return state.urls.get(item.id);
  }
  return "/api/files?root=" + item.source.root + "&path=" + encodeURIComponent(item.source.path);
}

function selectItem(id) {
  state.selected = id;
  for (const tr of $("results").tBodies[0].rows) tr.classList.toggle("selected", Number(tr.dataset.id) === id);
  renderDetail();
}

function renderDetail() {
  const item = state.items.find(it => it.id === state.selected);
  const grid = $("detail-grid");
  grid.replaceChildren();
  if (!item) { $("detail-empty").hidden = false; return; }
  $("detail-empty").hidden = true;
  const image = new Image();
  image.onload = () => {
    item.records.forEach((record, k) => {
      const canvas = el("canvas", { class: "detail-canvas", "data-model": state.models[k] });
      drawPrediction(canvas, image, record, { labels: showLabels(), conf: conf() });
      const letter = letterAt(record, conf());
      const card = el("div", { class: "detail-card" },
        el("div", { class: "muted", text: state.models[k] + " \u2013 " + item.name }),
        canvas,
        el("div", { class: "row" },
          el("span", { class: "big-letter", "data-role": "letter", text: letter || "\u2013" }),
          el("span", { class: "muted", text: record.hand ? (letter ? pct(record.top5[0][1]) + " sure" :
            "below the threshold") + (item.expected ? "; folder says " + item.expected : "") : "no hand found" })),
        topBars(record),
        el("div", { class: "muted", text: "hand: " + (record.handedness || "-") + ", found by " + (record.hand_method || "-") +
          "; " + (record.timings_ms ? record.timings_ms.total.toFixed(0) + " ms" : "") }));
      grid.append(card);
    });
    if (item.error) grid.append(el("div", { class: "error", text: item.error }));
  };
  image.src = imageUrl(item);
}

// ---- wiring ------------------------------------------------------------------------------------
function init() {
  renderNav("/inspect");
  $("conf").addEventListener("input", () => {
    state.confMoved = true;
    $("conf-value").textContent = conf().toFixed(2);
    renderTable(); renderDetail();
  });
  $("show-labels").addEventListener("change", renderDetail);
  $("model").addEventListener("change", followThreshold);
  $("files").addEventListener("change", e => analyseFiles(Array.from(e.target.files)));
  const drop = $("drop");
  drop.addEventListener("dragover", e => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", e => { e.preventDefault(); drop.classList.remove("over"); analyseFiles(Array.from(e.dataTransfer.files)); });
  $("root").addEventListener("change", e => openFolder(parseInt(e.target.value, 10), ""));
  $("analyse-folder").addEventListener("click", analyseFolder);
  $("cancel").addEventListener("click", () => {
    state.stop = true;
    if (state.job) fetch("/api/jobs/" + state.job, { method: "DELETE" });
  });
  renderTable();
  loadModels().catch(e => showError(e.message));
  loadRoots().catch(e => showError(e.message));
}

init();
