// The practice panel: choose a level, a word list or a word; the target with each letter
// marked when held; a reference handshape from the project's own data; the learner's stats.
import { HOLD_S, LEVELS, Practice, weakestLetters } from "./practice.js";
import { drawSkeleton } from "./skeleton.js";

const $ = (id) => document.getElementById(id);

export class PracticeView {
  constructor(engine, threshold) {
    this.practice = new Practice(engine.labels);
    this.threshold = threshold;
    this.references = {};
    this.now = 0;
    const select = $("level");
    LEVELS.forEach((level, i) => select.add(new Option(level.name, String(i))));
    $("start").addEventListener("click", () => this.start());
    $("custom-word").addEventListener("keydown", (e) => { if (e.key === "Enter") this.start(); });
    $("skip").addEventListener("click", () => { this.handle(this.practice.skip(this.now)); });
    $("forget").addEventListener("click", () => { this.practice.forget(); this.showStats(); });
    this.render();
    this.showStats();
  }

  async loadReferences() {
    try {
      const response = await fetch("/static/data/handshapes.json");
      if (response.ok) this.references = (await response.json()).letters || {};
    } catch { /* the page works without reference drawings */ }
    this.render();
  }

  start() {
    const typed = $("custom-word").value.trim();
    const items = typed ? typed.split(/\s+/) : LEVELS[Number($("level").value)].items;
    if (!this.practice.start(items, this.now)) {
      $("practice-status").textContent = "Type a word made of letters the model knows.";
      return;
    }
    $("practice-status").textContent = `Hold each letter for ${HOLD_S} s. The view is a mirror: sign with your right hand as in the drawing.`;
    this.render();
  }

  update(now, top, probability, hand) {
    this.now = now;
    const event = this.practice.update(now, hand ? top : null, probability, this.threshold());
    this.handle(event);
    if (this.practice.active) {
      $("lpm").textContent = this.practice.lettersPerMinute(now).toFixed(1);
      const holding = this.practice.holdSince !== null ? Math.min(1, (now - this.practice.holdSince) / HOLD_S) : 0;
      $("hold-fill").style.width = `${(holding * 100).toFixed(0)}%`;
    }
  }

  handle(event) {
    if (!event) return;
    if (event === "finished") {
      const s = this.practice.session;
      $("practice-status").textContent = `Done: ${s.letters} letters, ${s.correct} right first time, ${this.practice.lettersPerMinute(this.now).toFixed(1)} letters per minute.`;
      $("hold-fill").style.width = "0";
    }
    this.render();
    this.showStats();
  }

  render() {
    const target = this.practice.target;
    const box = $("target");
    box.innerHTML = "";
    if (!target) {
      box.textContent = this.practice.done?.length ? "Finished! Pick another level." : "Pick a level or type a word, then Start.";
      this.drawReference(null);
      return;
    }
    const word = this.practice.items[target.wordNumber - 1];
    [...word].forEach((letter, i) => {
      const span = document.createElement("span");
      span.textContent = letter;
      const done = this.practice.done.find((d) => d.word === target.wordNumber - 1 && d.index === i);
      span.className = done ? (done.firstTry ? "done" : "done missed") : i === target.index ? "now" : "todo";
      box.appendChild(span);
    });
    $("word-count").textContent = `word ${target.wordNumber} of ${target.words}`;
    this.drawReference(target.letter);
  }

  drawReference(letter) {
    const canvas = $("reference");
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#101820";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    const ref = letter ? this.references[letter] : null;
    $("reference-caption").textContent = letter
      ? (ref ? `${letter}: the typical handshape (${ref.samples} webcam hands${ref.note ? "; " + ref.note : ""})` : `${letter}: no reference drawing`)
      : "";
    if (!ref) return;
    const pts = ref.points;
    const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
    const span = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)) || 1;
    const scale = (canvas.width * 0.8) / span;
    const cx = (Math.max(...xs) + Math.min(...xs)) / 2, cy = (Math.max(...ys) + Math.min(...ys)) / 2;
    const points = pts.map(([x, y]) => [canvas.width / 2 + (x - cx) * scale, canvas.height / 2 + (y - cy) * scale]);
    drawSkeleton(ctx, points, { width: 4, radius: 5 });
    ctx.fillStyle = "#ffffff";
    ctx.font = "bold 28px system-ui, sans-serif";
    ctx.fillText(letter, 10, 34);
  }

  showStats() {
    const history = this.practice.history;
    const rows = Object.entries(history.letters).sort(([a], [b]) => a.localeCompare(b));
    const table = $("letter-stats");
    table.innerHTML = "<tr><th>letter</th><th>tries</th><th>right first time</th><th>avg s</th></tr>";
    for (const [letter, s] of rows) {
      const tr = document.createElement("tr");
      tr.innerHTML = `<td>${letter}</td><td>${s.attempts}</td><td>${Math.round((100 * s.correct) / s.attempts)}%</td><td>${(s.ms / s.attempts / 1000).toFixed(1)}</td>`;
      table.appendChild(tr);
    }
    const weak = weakestLetters(history);
    $("weakest").textContent = weak.length
      ? "Practise these next: " + weak.map((w) => `${w.letter} (${Math.round(w.accuracy * 100)}%, ${w.seconds.toFixed(1)} s)`).join(", ")
      : (rows.length ? "No weak letters: every letter right first time and quick." : "No history yet: your letters will appear here (kept only in this browser).");
    const sessions = history.sessions;
    const lastSession = sessions[sessions.length - 1];
    $("sessions").textContent = sessions.length
      ? `${sessions.length} session(s); last: ${lastSession.letters} letters in ${lastSession.seconds} s (${(lastSession.letters / Math.max(lastSession.seconds / 60, 1e-9)).toFixed(1)} letters per minute)`
      : "";
  }
}
