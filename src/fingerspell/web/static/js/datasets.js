// The dataset pages: imported datasets, counts and class chart, queries with a paged thumbnail
// grid, a sample's view with its fixes (relabel / remove / delete box, undo), check and export.
"use strict";

const PAGE = 48;
const ds = { name: null, info: null, query: "", offset: 0, total: 0, selected: null };
const $ = id => document.getElementById(id);
const base = () => "/api/datasets/" + encodeURIComponent(ds.name);

async function loadList() {
  const list = await api("/api/datasets");
  const box = $("ds-list");
  box.replaceChildren();
  $("ds-empty").hidden = list.length > 0;
  for (const d of list) {
    box.append(el("div", { "data-name": d.name, onclick: () => openDataset(d.name) },
      el("b", { text: d.name }), el("small", { text: d.error ? d.error : d.format + ", " + d.samples + " samples, " + d.classes + " classes" })));
  }
  const wanted = new URLSearchParams(location.search).get("name");
  const first = list.find(d => d.name === wanted && !d.error) || list.find(d => !d.error);
  if (first) await openDataset(first.name);
}

async function openDataset(name) {
  ds.name = name; ds.selected = null;
  for (const d of $("ds-list").children) d.classList.toggle("active", d.dataset.name === name);
  history.replaceState(null, "", "/datasets?name=" + encodeURIComponent(name));
  $("ds-main").hidden = false; $("sample-panel").hidden = true;
  $("check-result").replaceChildren(); $("check-status").textContent = ""; $("export-result").textContent = "";
  await refreshInfo();
  const split = $("export-split");
  split.replaceChildren(el("option", { value: "", text: "all" }));
  for (const s of ds.info.splits) split.append(el("option", { value: s, text: s }));
  const relabel = $("relabel-to");
  relabel.replaceChildren(...ds.info.classes.map(c => el("option", { value: c, text: c })));
  await runQuery(0);
  await refreshFixes();
}

async function refreshInfo() {
  const info = ds.info = await api(base());
  $("ds-title").textContent = info.name + " (" + info.format + ")";
  const counts = $("counts");
  counts.replaceChildren();
  const add = (label, value) => counts.append(el("div", { class: "count" }, el("b", { text: String(value) }), label));
  add("samples", info.samples);
  add("classes", info.classes.length);
  for (const [split, n] of Object.entries(info.by_split)) add(split, n);
  if (Object.keys(info.by_group).length) add("signers / groups", Object.keys(info.by_group).length);
  add("boxes", info.boxes);
  add("fixes in force", info.fixes_in_force);
  $("warnings").textContent = info.warnings.join("; ");
  drawChart(info);
}

// Stacked bars: samples per class, one colour per split.
function drawChart(info) {
  const canvas = $("chart");
  const w = canvas.clientWidth || 800, h = canvas.clientHeight || 220;
  const ratio = window.devicePixelRatio || 1;
  canvas.width = w * ratio; canvas.height = h * ratio;
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  ctx.clearRect(0, 0, w, h);
  const splits = [...new Set(Object.values(info.by_class_split).flatMap(o => Object.keys(o)))].sort();
  const colours = { train: "#1f6feb", val: "#bf8700", test: "#1a7f37", unassigned: "#8c959f" };
  const totals = info.classes.map(c => info.by_class[c] || 0);
  const max = Math.max(1, ...totals);
  const left = 40, bottom = 22, top = 18, plotH = h - bottom - top;
  // Bars no wider than 44 px: six classes should not look like six walls.
  const step = Math.min(44, (w - left - 10) / Math.max(1, info.classes.length));
  ctx.font = "11px system-ui, sans-serif"; ctx.fillStyle = "#667085"; ctx.textAlign = "right";
  ctx.fillText(String(max), left - 4, top + 4); ctx.fillText("0", left - 4, top + plotH);
  info.classes.forEach((c, i) => {
    let y = top + plotH;
    for (const s of splits) {
      const n = (info.by_class_split[c] || {})[s] || 0;
      const bh = plotH * n / max;
      ctx.fillStyle = colours[s] || "#6e40c9";
      ctx.fillRect(left + i * step + 1, y - bh, Math.max(1, step - 2), bh);
      y -= bh;
    }
    ctx.fillStyle = "#1d2330"; ctx.textAlign = "center";
    ctx.fillText(c, left + i * step + step / 2, h - 6);
  });
  let x = left;
  ctx.textAlign = "left";
  for (const s of splits) {
    ctx.fillStyle = colours[s] || "#6e40c9"; ctx.fillRect(x, 2, 10, 10);
    ctx.fillStyle = "#1d2330"; ctx.fillText(s, x + 14, 11); x += ctx.measureText(s).width + 30;
  }
}

async function runQuery(offset) {
  $("query-error").textContent = "";
  const query = $("query").value;
  let page;
  try {
    page = await api(base() + "/samples?query=" + encodeURIComponent(query) + "&offset=" + offset + "&limit=" + PAGE);
  } catch (e) {
    $("query-error").textContent = e.message;
    $("query").focus();
    return;
  }
  ds.query = query; ds.offset = offset; ds.total = page.total;
  $("query-total").textContent = page.total + " sample" + (page.total === 1 ? "" : "s") + " match" + (page.total === 1 ? "es" : "");
  const pages = Math.max(1, Math.ceil(page.total / PAGE));
  $("page").textContent = " page " + (Math.floor(offset / PAGE) + 1) + " of " + pages + " ";
  $("prev").disabled = offset === 0;
  $("next").disabled = offset + PAGE >= page.total;
  const grid = $("grid");
  grid.replaceChildren();
  for (const s of page.samples) grid.append(tile(s));
}

function tile(s) {
  const lab = el("span", { class: "lab" });
  if (s.relabelled) lab.append(el("s", { text: s.original_label }));
  lab.append(s.label);
  const node = el("div", { class: "tile", "data-id": s.id, "data-label": s.label, onclick: () => openSample(s.id) },
    el("img", { src: base() + "/samples/" + s.id + "/image?size=160&v=" + s.label + s.instances, alt: s.label, loading: "lazy" }),
    el("div", { class: "cap" }, lab, el("span", { class: "muted", text: "#" + s.id + (s.instances > 1 ? " [" + s.instances + "]" : "") })));
  if (s.id === ds.selected) node.classList.add("selected");
  if (s.relabelled) node.classList.add("relabelled");
  return node;
}

function replaceTile(s) {
  const old = $("grid").querySelector('.tile[data-id="' + s.id + '"]');
  if (!old) return;
  if (s.removed) old.remove(); else old.replaceWith(tile(s));
}

async function openSample(id) {
  ds.selected = id;
  for (const t of $("grid").children) t.classList.toggle("selected", Number(t.dataset.id) === id);
  $("fix-error").textContent = "";
  const s = await api(base() + "/samples/" + id);
  renderSample(s);
}

function renderSample(s) {
  $("sample-panel").hidden = false;
  $("sample-id").textContent = "#" + s.id + " \u2013 " + s.where;
  const pic = $("sample-pic");
  const img = el("img", { src: base() + "/samples/" + s.id + "/image?size=0&boxes=false", alt: s.label });
  pic.replaceChildren(img);
  if (s.width && s.height && s.boxes.length) {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 " + s.width + " " + s.height);
    svg.setAttribute("preserveAspectRatio", "none");
    s.boxes.forEach((b, k) => {
      const r = document.createElementNS(svg.namespaceURI, "rect");
      for (const [a, v] of [["x", b[0]], ["y", b[1]], ["width", b[2] - b[0]], ["height", b[3] - b[1]]]) r.setAttribute(a, v);
      r.setAttribute("fill", "none"); r.setAttribute("stroke", "#28dc3c"); r.setAttribute("stroke-width", Math.max(2, s.width / 150));
      const t = document.createElementNS(svg.namespaceURI, "text");
      t.setAttribute("x", b[0] + 4); t.setAttribute("y", b[1] + Math.max(14, s.width / 25));
      t.setAttribute("fill", "#28dc3c"); t.setAttribute("font-size", Math.max(12, s.width / 25));
      t.textContent = k + ": " + b[4];
      svg.append(r, t);
    });
    pic.append(svg);
  }
  const facts = $("sample-facts");
  facts.replaceChildren();
  const fact = (k, v) => facts.append(el("dt", { text: k }), el("dd", { "data-fact": k, text: v === null || v === undefined ? "-" : String(v) }));
  fact("label", s.label);
  fact("original label", s.original_label);
  fact("split", s.split);
  fact("signer / group", s.signer);
  fact("size", s.width && s.height ? s.width + " x " + s.height : null);
  fact("boxes", s.instances);
  fact("removed", s.removed ? "yes (undo the remove fix to restore it)" : "no");
  $("relabel-to").value = s.label;
  $("remove").disabled = s.removed;
  const boxes = $("box-buttons");
  boxes.replaceChildren();
  s.boxes.forEach((b, k) => boxes.append(el("button", { class: "danger delete-box", "data-box": k, text: "Delete box " + k + " (" + b[4] + ")",
    onclick: () => fix(s.id, "delete-box", String(k)) })));
  const list = $("sample-fixes");
  list.replaceChildren();
  if (!s.fixes.length) list.append(el("li", { class: "muted", text: "none: the sample is as imported" }));
  for (const f of s.fixes.slice().reverse()) list.append(fixItem(f));
}

function fixItem(f) {
  const what = f.action + (f.value !== null ? " " + f.value : "");
  const li = el("li", { class: f.undone ? "undone" : "", "data-fix": f.id },
    el("span", { text: "fix " + f.id + ": #" + f.sample_id + " " + what + (f.reason ? " \u2013 " + f.reason : "") + " (" + f.created + ")" }));
  if (!f.undone) li.append(el("button", { class: "undo", "data-fix": f.id, text: "Undo", onclick: () => undo(f.id) }));
  return li;
}

async function fix(sampleId, action, value) {
  $("fix-error").textContent = "";
  const reason = $("reason").value.trim();
  if (!reason) { $("fix-error").textContent = "give a reason for the fix (it is kept with it)"; $("reason").focus(); return; }
  try {
    const answer = await postJSON(base() + "/fixes", { sample_id: sampleId, action, value, reason });
    afterFix(answer.sample);
  } catch (e) { $("fix-error").textContent = e.message; }
}

async function undo(fixId) {
  $("fix-error").textContent = "";
  try {
    const answer = await postJSON(base() + "/fixes/undo", { fix_id: fixId });
    afterFix(answer.sample);
  } catch (e) { $("fix-error").textContent = e.message; }
}

async function afterFix(sample) {
  replaceTile(sample);
  if (sample.id === ds.selected || ds.selected === null) { ds.selected = sample.id; renderSample(sample); }
  await refreshFixes();
  await refreshInfo();
}

async function refreshFixes() {
  const fixes = await api(base() + "/fixes");
  const list = $("all-fixes");
  list.replaceChildren();
  if (!fixes.length) list.append(el("li", { class: "muted", text: "no fixes yet" }));
  for (const f of fixes.slice().reverse().slice(0, 50)) list.append(fixItem(f));
}

async function runCheck() {
  $("run-check").disabled = true;
  $("check-status").textContent = "checking (the first check decodes every image)...";
  const out = $("check-result");
  try {
    const report = await postJSON(base() + "/check", {});
    $("check-status").textContent = (report.ok ? "no blocking problems" : "problems found") + " in " + report.seconds + " s";
    const counts = el("div", { class: "counts" });
    for (const [k, v] of Object.entries(report.counts)) counts.append(el("div", { class: "count" + (v ? " bad" : ""), "data-kind": k }, el("b", { text: String(v) }), k));
    out.replaceChildren(counts);
    if (report.problems.length) {
      const table = el("table", { class: "results" }, el("thead", {}, el("tr", {}, el("th", { text: "sample" }), el("th", { text: "where" }), el("th", { text: "problem" }), el("th", { text: "detail" }))));
      const body = el("tbody");
      for (const p of report.problems.slice(0, 100)) body.append(el("tr", { onclick: () => openSample(p.sample_id) },
        el("td", { text: "#" + p.sample_id }), el("td", { text: p.where }), el("td", { text: p.kind }), el("td", { text: p.detail })));
      table.append(body);
      out.append(el("h3", { text: "Problems" + (report.problems.length > 100 ? " (first 100)" : "") }), el("div", { class: "table-wrap" }, table));
    }
    if (report.leaks.length) out.append(el("h3", { text: "Duplicates across splits (leaks)" }),
      el("div", {}, report.leaks.slice(0, 30).map(p => "#" + p.a + " (" + p.split_a + ") = #" + p.b + " (" + p.split_b + "), " + p.kind).join("; ")));
    if (report.notes.length) out.append(el("div", { class: "muted", text: report.notes.join("; ") }));
  } catch (e) {
    $("check-status").textContent = "";
    out.replaceChildren(el("div", { class: "error", text: e.message }));
  }
  $("run-check").disabled = false;
}

async function runExport() {
  $("export-error").textContent = ""; $("export-result").textContent = "exporting...";
  try {
    const r = await postJSON(base() + "/export", { format: $("export-format").value, split: $("export-split").value || null });
    $("export-result").textContent = "wrote " + r.images + " images" + (r.boxes ? " and " + r.boxes + " boxes" : "") + " to " + r.path +
      (r.notes.length ? " (" + r.notes.join("; ") + ")" : "");
  } catch (e) { $("export-result").textContent = ""; $("export-error").textContent = e.message; }
}

function init() {
  renderNav("/datasets");
  $("run-query").addEventListener("click", () => runQuery(0));
  $("query").addEventListener("keydown", e => { if (e.key === "Enter") runQuery(0); });
  $("query").addEventListener("input", () => { $("query-error").textContent = ""; });
  $("prev").addEventListener("click", () => runQuery(Math.max(0, ds.offset - PAGE)));
  $("next").addEventListener("click", () => runQuery(ds.offset + PAGE));
  $("relabel").addEventListener("click", () => fix(ds.selected, "relabel", $("relabel-to").value));
  $("remove").addEventListener("click", () => fix(ds.selected, "remove", null));
  $("run-check").addEventListener("click", runCheck);
  $("run-export").addEventListener("click", runExport);
  window.addEventListener("resize", () => ds.info && drawChart(ds.info));
  loadList().catch(e => { $("ds-empty").hidden = false; $("ds-empty").textContent = e.message; });
}

init();
