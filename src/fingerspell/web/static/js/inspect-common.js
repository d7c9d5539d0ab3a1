// Shared by the inspect and dataset pages: the nav bar, JSON fetches with readable errors,
// and drawing a prediction (hand box, skeleton, letter) on a canvas.
"use strict";

// MediaPipe's 21-point hand skeleton (the same pairs as fingerspell/hand_skeleton.py).
const HAND_CONNECTIONS = [[0,1],[1,2],[2,3],[3,4],[0,5],[5,6],[6,7],[7,8],[5,9],[9,10],[10,11],[11,12],
  [9,13],[13,14],[14,15],[15,16],[13,17],[0,17],[17,18],[18,19],[19,20]];

function renderNav(active) {
  const nav = document.createElement("nav");
  nav.className = "app-nav";
  nav.innerHTML = '<span class="brand">fingerspell</span>' +
    '<a href="/">Live</a><a href="/#practice">Practice</a><a href="/inspect">Inspect</a><a href="/datasets">Datasets</a>' +
    '<span class="model" id="nav-model"></span>';
  for (const a of nav.querySelectorAll("a")) if (a.getAttribute("href") === active) a.classList.add("active");
  document.body.prepend(nav);
  fetch("/api/health").then(r => r.json()).then(h => {
    nav.querySelector("#nav-model").textContent = "model: " + h.bundle + " (" + h.labels.length + " classes)";
  }).catch(() => {});
}

// fetch -> JSON; a non-2xx answer throws an Error whose message is the server's `detail`.
async function api(url, options) {
  const response = await fetch(url, options);
  let data = null;
  const text = await response.text();
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = { detail: text }; }
  if (!response.ok) {
    let detail = data && data.detail !== undefined ? data.detail : response.statusText;
    if (Array.isArray(detail)) detail = detail.map(d => (d.loc || []).slice(1).join(".") + ": " + d.msg).join("; ");
    const error = new Error(detail);
    error.status = response.status;
    throw error;
  }
  return data;
}

function postJSON(url, body) {
  return api(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}) });
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function pct(p) { return (100 * p).toFixed(1) + "%"; }

// The letter a record shows at threshold `conf` (top-1 when it reaches it), so moving the
// slider re-reads results without analysing again.
function letterAt(record, conf) {
  if (!record || !record.top5 || !record.top5.length) return null;
  const [name, p] = record.top5[0];
  return p >= conf ? name : null;
}

// Draw an image with the record's hand box, skeleton and (optionally) its letter label.
function drawPrediction(canvas, image, record, opts) {
  const options = Object.assign({ labels: true, conf: 0.5 }, opts || {});
  const w = image.naturalWidth || image.videoWidth || image.width;
  const h = image.naturalHeight || image.videoHeight || image.height;
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(image, 0, 0, w, h);
  if (!record) return;
  const scale = Math.max(1, Math.min(w, h) / 320);
  if (record.landmarks) {
    const pts = record.landmarks.map(p => [p[0] * w, p[1] * h]);
    ctx.strokeStyle = "#ffffff"; ctx.lineWidth = 2 * scale;
    for (const [a, b] of HAND_CONNECTIONS) {
      ctx.beginPath(); ctx.moveTo(pts[a][0], pts[a][1]); ctx.lineTo(pts[b][0], pts[b][1]); ctx.stroke();
    }
    ctx.fillStyle = "#e62828";
    for (const [x, y] of pts) { ctx.beginPath(); ctx.arc(x, y, 2.5 * scale, 0, 2 * Math.PI); ctx.fill(); }
  }
  if (record.hand_box) {
    const [x0, y0, x1, y1] = record.hand_box;
    ctx.strokeStyle = "#28dc3c"; ctx.lineWidth = 2.5 * scale;
    ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
    if (options.labels) {
      const letter = letterAt(record, options.conf);
      const text = letter ? letter + " " + record.top5[0][1].toFixed(2) : "?";
      ctx.font = "bold " + Math.round(16 * scale) + "px system-ui, sans-serif";
      const tw = ctx.measureText(text).width;
      const ty = Math.max(20 * scale, y0 - 4 * scale);
      ctx.fillStyle = "#28dc3c"; ctx.fillRect(x0, ty - 18 * scale, tw + 10 * scale, 22 * scale);
      ctx.fillStyle = "#000"; ctx.fillText(text, x0 + 5 * scale, ty - 1 * scale);
    }
  } else if (options.labels) {
    ctx.font = "bold " + Math.round(16 * scale) + "px system-ui, sans-serif";
    ctx.fillStyle = "#ffd200"; ctx.fillText("no hand", 10 * scale, 24 * scale);
  }
}

// Top-5 bars for a record.
function topBars(record) {
  const box = el("div", { class: "bars" });
  for (const [name, p] of (record && record.top5) || []) {
    const fill = el("div", { class: "fill" }); fill.style.width = (100 * p).toFixed(1) + "%";
    box.append(el("div", { class: "bar" }, el("b", { text: name }), el("div", { class: "track" }, fill),
      el("span", { text: p.toFixed(3) })));
  }
  return box;
}

// A colour per letter for timelines and charts (stable: same letter, same colour).
function letterColour(letter) {
  if (!letter) return "#c8ced8";
  let h = 0;
  for (const c of letter) h = (h * 31 + c.charCodeAt(0)) % 360;
  return "hsl(" + ((h * 47) % 360) + ", 62%, 42%)";
}
