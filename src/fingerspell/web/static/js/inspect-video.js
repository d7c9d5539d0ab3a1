// The video part of the inspect page: a timeline of the smoothed letter per frame and the
// spelled text with each letter's time.
"use strict";

// Runs of the same smoothed letter: [{letter, start, end}] in seconds.
function letterRuns(frames, fps) {
  const runs = [];
  for (const f of frames) {
    const t = f.time !== null && f.time !== undefined ? f.time : f.frame / fps;
    const last = runs[runs.length - 1];
    if (last && last.letter === f.letter) { last.end = t + 1 / fps; continue; }
    runs.push({ letter: f.letter, start: t, end: t + 1 / fps });
  }
  return runs;
}

// Coloured segments, one a run of the same letter, on a timeline `duration` seconds long.
function drawRuns(timeline, runs, duration) {
  timeline.replaceChildren();
  for (const run of runs) {
    const seg = el("div", { class: "seg", title: (run.letter || "no letter") + "  " + run.start.toFixed(2) +
      "-" + run.end.toFixed(2) + " s", text: run.letter || "" });
    seg.style.left = (100 * run.start / duration) + "%";
    seg.style.width = (100 * (run.end - run.start) / duration) + "%";
    seg.style.background = letterColour(run.letter);
    if (run.letter) seg.dataset.letter = run.letter;
    timeline.append(seg);
  }
}

// The second model's reading of the same video (summary.compare), under the first one's.
function renderCompare(compare, frames, fps, duration) {
  const panel = document.getElementById("video-compare");
  panel.hidden = !compare;
  if (!compare) return;
  document.getElementById("compare-name").textContent = compare.model;
  document.getElementById("compare-spelled").textContent = compare.text || "\u2014";
  const letters = document.getElementById("compare-letters");
  letters.replaceChildren();
  for (const c of compare.letters) {
    if (c.letter === " ") continue;
    letters.append(el("span", { class: "chip letter-time", "data-letter": c.letter, "data-time": c.time },
      el("b", { text: c.letter }), " " + (c.time === null ? "frame " + c.frame : c.time.toFixed(2) + " s")));
  }
  const theirs = compare.frame_letters.map((letter, i) => ({ letter, frame: i, time: frames[i] ? frames[i].time : null }));
  drawRuns(document.getElementById("compare-timeline"), letterRuns(theirs, fps), duration);
}

function renderVideo(title, frames, summary, total, fps) {
  document.getElementById("video-panel").hidden = false;
  document.getElementById("video-title").textContent = title;
  fps = fps || (summary && summary.fps) || 30;
  const duration = Math.max(1 / fps, (total || frames.length) / fps);
  const timeline = document.getElementById("timeline");
  drawRuns(timeline, letterRuns(frames, fps), duration);
  const commits = [];
  for (const f of frames) for (const c of f.commits || []) commits.push(c);
  for (const c of commits) {
    if (c.time === null || c.kind === "space") continue;
    const mark = el("div", { class: "commit", title: c.letter + " committed at " + c.time.toFixed(2) + " s" });
    mark.style.left = (100 * c.time / duration) + "%";
    timeline.append(mark);
  }
  const axis = document.getElementById("axis");
  axis.replaceChildren();
  const step = duration > 20 ? 5 : duration > 8 ? 2 : duration > 3 ? 1 : 0.5;
  for (let t = 0; t <= duration + 1e-9; t += step) {
    const tick = el("span", { text: t.toFixed(step < 1 ? 1 : 0) + " s" });
    tick.style.left = (100 * t / duration) + "%";
    if (t + step > duration + 1e-9 && t > 0) tick.classList.add("last");
    axis.append(tick);
  }
  const last = frames[frames.length - 1];
  const text = summary && summary.text !== undefined ? summary.text : (last && last.text) || "";
  document.getElementById("spelled").textContent = text || "\u2014";
  const letters = document.getElementById("letters");
  letters.replaceChildren();
  const committed = summary && summary.letters ? summary.letters : commits.filter(c => c.kind !== "del");
  for (const c of committed) {
    if (c.letter === " ") { letters.append(el("span", { class: "chip", text: "\u2423 " + (c.time || 0).toFixed(2) + " s" })); continue; }
    letters.append(el("span", { class: "chip letter-time", "data-letter": c.letter, "data-time": c.time },
      el("b", { text: c.letter }), " " + (c.time === null ? "frame " + c.frame : c.time.toFixed(2) + " s") +
      (c.kind === "double" ? " (double)" : "")));
  }
  renderCompare(summary && summary.compare, frames, fps, duration);
  const hands = frames.filter(f => f.hand).length;
  document.getElementById("video-summary").textContent = frames.length + (total ? " of " + total : "") +
    " frames analysed, hand in " + hands + (summary && summary.frames ? " (" + (summary.frames / fps).toFixed(1) +
    " s at " + fps.toFixed(0) + " fps)" : "");
}
