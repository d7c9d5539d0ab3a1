// Spelling rules for the browser: the same rules, parameters and J/Z motion model as
// fingerspell.infer.spelling / fingerspell.infer.motion (Python). Dependency-free ES module;
// runs in the browser and in Node 20. tests/infer/test_spelling_parity.py feeds the same real
// landmark streams to both and checks that the stable letter of every frame and the text agree.
//
//   import { Spelling } from "./spelling.js";
//   const speller = new Spelling(bundle.labels, bundle.spelling);   // missing keys -> DEFAULTS
//   const step = speller.push({t, probs, landmarks, handedness, size});
//   // step = {letter, confidence, hand, committed: [{letter, kind, time}], text}
//
// probs must be calibrated: softmax(logits / bundle.calibration.temperature) (1 when absent).
// Times are seconds, distances palm sizes (wrist to the middle finger's knuckle).

export const DEFAULTS = Object.freeze({
  threshold: 0.5,        // calibrated probability below which a letter is withheld
  tau: 0.08,             // s: time constant of the moving average of the probabilities
  min_hold: 0.1,        // s: a letter must lead, with the hand steady, this long before it commits
  switch_hold: 0.6,      // s: ... this long to replace the held letter when the hand has not moved
  speed_lag: 0.1,        // s: hand speed = landmark displacement over this lag
  still_speed: 1.8,      // palm sizes / s: below it the hand is steady
  move_speed: 2.0,       // palm sizes / s: above it the hand is changing letter (or bouncing)
  change_distance: 0.12, // palm sizes: a hand shape this different from the held letter's is a new letter
  bounce_distance: 0.35, // palm sizes the hand moves within bounce_time for a double letter
  bounce_time: 0.4,      // s
  slide_distance: 1.0,   // palm sizes the hand slides within bounce_time for a double letter
  depth_change: 0.1,     // fraction the palm size may change by in a double (more: the hand moved to a new place)
  release: 0.3,          // s without a hand: the hold ends
  space_after: 0.5,      // s without a hand: the word ends
  motion_letters: ["J", "Z"],
  motion_window: 1.0,    // s of fingertip trajectory the motion model looks at
  motion_threshold: 0.8,  // motion model probability that commits J / Z
  motion_refractory: 1.3, // s after a J / Z before the next one can commit
  motion_min_path: 0.8,  // palm sizes the fingertip must travel in the window
  motion_gate: 0.3,      // probability the letter's hand shapes must reach at some frame of the window
  motion_shapes: {"J": ["I", "J"], "Z": ["Z"]},  // the hand shapes each motion letter is drawn with
  ignore: ["nothing"],   // classes treated as no hand
});

const WRIST = 0;
const MIDDLE_KNUCKLE = 9;
const FINGER_TIPS = [4, 8, 12, 16, 20];
const SPACE = "space";
const DELETE = "del";

function argmax(values, indices) {
  let best = null;
  let bestValue = -Infinity;
  for (const i of indices) {
    if (values[i] > bestValue) { best = i; bestValue = values[i]; }
  }
  return best;
}

// sqrt written out (Math.hypot and Python's math.hypot round differently).
function dist(dx, dy) {
  return Math.sqrt(dx * dx + dy * dy);
}

// Mean landmark distance between two hand shapes, each centred and in its own palm sizes.
function shapeChange(a, b) {
  let total = 0.0;
  for (let i = 0; i < 21; i++) {
    total += dist((a.points[i][0] - a.centre[0]) / a.palm - (b.points[i][0] - b.centre[0]) / b.palm,
                  (a.points[i][1] - a.centre[1]) / a.palm - (b.points[i][1] - b.centre[1]) / b.palm);
  }
  return total / 21.0;
}

function median3(a, b, c) {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}

function at(tracks, tip, t) {
  if (t <= tracks[0].t) return tracks[0].points[tip];
  for (let i = 1; i < tracks.length; i++) {
    if (tracks[i].t >= t) {
      const a = tracks[i - 1], b = tracks[i];
      const span = b.t - a.t;
      const w = span > 0 ? (t - a.t) / span : 1.0;
      return [a.points[tip][0] + w * (b.points[tip][0] - a.points[tip][0]),
              a.points[tip][1] + w * (b.points[tip][1] - a.points[tip][1])];
    }
  }
  return tracks[tracks.length - 1].points[tip];
}

/** Features of the last `window` seconds (see fingerspell.infer.motion), or null. */
export function motionFeatures(tracks, points, tips, window) {
  if (!tracks.length) return null;
  const end = tracks[tracks.length - 1].t;
  const start = end - window;
  const recent = tracks.filter((tr) => tr.t >= start - 1e-9);
  if (recent.length < 4 || recent[recent.length - 1].t - recent[0].t < 0.6 * window) return null;
  let scale = 0;
  for (const tr of recent) scale += tr.palm;
  scale /= recent.length;
  const last = recent[recent.length - 1];
  const mirror = last.mirror;
  const features = [];
  const paths = [];
  for (const tip of tips) {
    const [endX, endY] = last.points[tip];
    let path = 0.0;
    let previous = null;
    for (let k = 0; k < points; k++) {
      const [x, y] = at(recent, tip, start + window * k / (points - 1));
      features.push(mirror * (x - endX) / scale);
      features.push((y - endY) / scale);
      if (previous !== null) path += dist(x - previous[0], y - previous[1]) / scale;
      previous = [x, y];
    }
    paths.push(path);
  }
  features.push(...paths);
  const [wx, wy] = last.points[WRIST];
  for (const tip of FINGER_TIPS) {
    features.push(dist(last.points[tip][0] - wx, last.points[tip][1] - wy) / last.palm);
  }
  return { features, paths };
}

/** Softmax of the motion model's logistic regression. */
export function motionProbabilities(model, features) {
  const z = features.map((f, i) => (f - model.mean[i]) / model.std[i]);
  const logits = model.weights.map((row, c) => {
    let total = model.bias[c];
    for (let i = 0; i < row.length; i++) total += row[i] * z[i];
    return total;
  });
  const top = Math.max(...logits);
  const exps = logits.map((v) => Math.exp(v - top));
  let norm = 0;
  for (const e of exps) norm += e;
  return exps.map((e) => e / norm);
}

export class Spelling {
  constructor(labels, params = {}) {
    this.labels = [...labels];
    this.params = { ...DEFAULTS, ...(params || {}) };
    const p = this.params;
    this.threshold = p.threshold;
    const skip = new Set([...p.motion_letters, ...p.ignore]);
    this._static = [];
    this._ignored = new Set();
    this.labels.forEach((name, i) => {
      if (!skip.has(name)) this._static.push(i);
      if (p.ignore.includes(name)) this._ignored.add(i);
    });
    const model = p.motion || null;
    this._motion = model && model.classes.some((c) => this.labels.includes(c)) ? model : null;
    this._keep = Math.max(p.motion_window, p.bounce_time, p.speed_lag) + 0.25;
    // Per motion letter, the classes of the hand shapes it is drawn with (absent ones dropped).
    this._shapeIndex = {};
    for (const [letter, shapes] of Object.entries(p.motion_shapes)) {
      this._shapeIndex[letter] = [];
      this.labels.forEach((name, i) => { if (shapes.includes(name)) this._shapeIndex[letter].push(i); });
    }
    this.reset();
  }

  reset() {
    this._text = "";
    this.commits = [];
    this._frames = 0;
    this._lastSeen = null;
    this._pendingSpace = false;
    this._endHold();
  }

  _endHold() {
    this._ema = null;
    this._raw = [];
    this._tracks = [];
    this._leader = null;
    this._leaderSince = 0.0;
    this._steadySince = null;
    this._held = null;
    this._heldAt = -Infinity;
    this._heldTrack = null;
    this._lastTrack = null;
    this._moved = false;
    this._reshaped = false;  // the hand shape changed since the held letter committed
    this._bounce = false;
    this._motionShape = null;
    this._shapeAt = {};  // motion letter -> last time its hand shapes reached motion_gate
    this._motionAt = -Infinity;
  }

  get text() { return this._text; }

  addSpace() { return this._commit(SPACE, "space", this._lastSeen); }

  backspace() { return this._commit(DELETE, "del", this._lastSeen); }

  clear() {
    this._text = "";
    this.commits = [];
    this._pendingSpace = false;
  }

  push(frame) {
    this._frames += 1;
    const t = Number(frame.t);
    let probs = frame.probs == null ? null : frame.probs;
    let hand = probs !== null;
    if (probs !== null) {
      if (probs.length !== this.labels.length) {
        throw new Error(`expected ${this.labels.length} probabilities, got ${probs.length}`);
      }
      probs = Array.from(probs, Number);
      if (this._ignored.size && this._ignored.has(argmax(probs, probs.keys()))) hand = false;
    }
    if (!hand) return this._noHand(t);
    return this._withHand(t, probs, frame.landmarks ?? null, frame.handedness ?? null, frame.size ?? null);
  }

  _step(letter, hand, committed) {
    return { letter, confidence: this._confidence(letter), hand, committed, text: this._text };
  }

  _noHand(t) {
    let letter = null;
    if (this._lastSeen !== null) {
      const gone = t - this._lastSeen;
      if (gone >= this.params.release) this._endHold();
      if (gone >= this.params.space_after && this._text && !this._text.endsWith(" ")) this._pendingSpace = true;
      letter = this._held;
    }
    return this._step(letter, false, []);
  }

  _withHand(t, probs, landmarks, handedness, size) {
    const p = this.params;
    if (this._ema === null || this._lastSeen === null) {
      this._ema = [...probs];
    } else {
      const a = 1.0 - Math.exp(-Math.max(0.0, t - this._lastSeen) / p.tau);
      this._ema = probs.map((x, i) => a * x + (1.0 - a) * this._ema[i]);
    }
    this._lastSeen = t;
    this._rememberShapes(t);
    const track = this._track(t, landmarks, handedness, size);
    const speed = track !== null ? this._speed(track) : 0.0;
    if (speed !== null && speed < p.still_speed) {
      if (this._steadySince === null) this._steadySince = t;
    } else {
      this._steadySince = null;
    }
    if (speed !== null && speed > p.move_speed) this._moved = true;
    if (track !== null && this._heldTrack !== null && shapeChange(track, this._heldTrack) > p.change_distance) {
      this._moved = true;
      this._reshaped = true;
    }
    this._lastTrack = track;
    const leader = argmax(this._ema, this._static);
    if (leader !== this._leader) { this._leader = leader; this._leaderSince = t; }
    if (this._motionShape !== null && leader !== this._motionShape) this._motionShape = null;
    const name = leader === null ? null : this.labels[leader];
    if (track !== null && name !== null && name === this._held) {
      if (this._bounced(track)) this._bounce = true;
    } else if (name !== this._held) {
      this._bounce = false;
    }
    let committed = [];
    if (this._motion !== null && track !== null) committed = this._motionCommit(t, leader);
    if (!committed.length && leader !== null) committed = this._staticCommit(t, leader);
    return this._step(this._held, true, committed);
  }

  _track(t, landmarks, handedness, size) {
    if (landmarks == null || size == null) return null;
    const width = Number(size[0]), height = Number(size[1]);
    this._raw.push(landmarks.map((pt) => [Number(pt[0]) * width, Number(pt[1]) * height]));
    if (this._raw.length > 3) this._raw.shift();
    let points;
    if (this._raw.length === 3) {
      const [a, b, c] = this._raw;
      points = [];
      for (let i = 0; i < 21; i++) {
        points.push([median3(a[i][0], b[i][0], c[i][0]), median3(a[i][1], b[i][1], c[i][1])]);
      }
    } else {
      points = this._raw[this._raw.length - 1].slice();
    }
    const palm = Math.max(dist(points[MIDDLE_KNUCKLE][0] - points[WRIST][0],
                                     points[MIDDLE_KNUCKLE][1] - points[WRIST][1]), 1e-6);
    let cx = 0, cy = 0;
    for (const pt of points) cx += pt[0];
    for (const pt of points) cy += pt[1];
    const track = { t, points, palm, mirror: handedness === "Left" ? -1.0 : 1.0, centre: [cx / 21.0, cy / 21.0] };
    this._tracks.push(track);
    while (this._tracks.length && this._tracks[0].t < t - this._keep) this._tracks.shift();
    return track;
  }

  _speed(track) {
    const lag = this.params.speed_lag;
    let ref = null;
    for (let i = this._tracks.length - 1; i >= 0; i--) {
      const tr = this._tracks[i];
      if (tr !== track && tr.t <= track.t - lag) { ref = tr; break; }
    }
    if (ref === null) {
      const oldest = this._tracks[0];
      if (oldest === track || track.t - oldest.t < lag / 2) return null;
      ref = oldest;
    }
    const span = track.t - ref.t;
    if (span <= 0) return null;
    let total = 0.0;
    for (let i = 0; i < 21; i++) {
      total += dist(track.points[i][0] - ref.points[i][0], track.points[i][1] - ref.points[i][1]);
    }
    return total / 21.0 / track.palm / span;
  }

  _bounced(track) {
    // A bounce (out bounce_distance palm sizes and at least halfway back) or a slide (slide_distance away).
    const limit = this.params.bounce_distance * track.palm;
    let first = null;
    let excursion = 0.0;
    const since = Math.max(track.t - this.params.bounce_time, this._heldAt);  // movement after the commit only
    for (const tr of this._tracks) {
      if (tr.t >= since) {
        if (first === null) first = tr;
        excursion = Math.max(excursion, dist(track.centre[0] - tr.centre[0], track.centre[1] - tr.centre[1]));
      }
    }
    if (first === null) return false;
    const net = dist(track.centre[0] - first.centre[0], track.centre[1] - first.centre[1]);
    return (excursion > limit && net < 0.5 * excursion) || net > this.params.slide_distance * track.palm;
  }

  _sameDepth() {
    // The palm size now is within depth_change of the palm size when the held letter committed:
    // a hand that moved toward or away from the camera went to a new place, it did not bounce.
    if (this._lastTrack === null || this._heldTrack === null) return true;
    const ratio = this._lastTrack.palm / this._heldTrack.palm;
    return Math.max(ratio, 1.0 / ratio) <= 1.0 + this.params.depth_change;
  }

  _rememberShapes(t) {
    // Note when each motion letter's hand shapes (their averaged probabilities summed) reach motion_gate.
    for (const [letter, indices] of Object.entries(this._shapeIndex)) {
      let total = 0.0;
      for (const i of indices) total += this._ema[i];
      if (total >= this.params.motion_gate) this._shapeAt[letter] = t;
    }
  }

  _shapeSeen(letter, t) {
    // The letter's hand shapes reached motion_gate at some frame of the last motion_window s
    // (true when the model has none of them).
    const indices = this._shapeIndex[letter];
    if (!indices || !indices.length) return true;
    const at = letter in this._shapeAt ? this._shapeAt[letter] : -Infinity;
    return at >= t - this.params.motion_window;
  }

  _motionCommit(t, leader) {
    const p = this.params;
    const model = this._motion;
    if (t - this._motionAt < p.motion_refractory) return [];
    const result = motionFeatures(this._tracks, model.points, model.tips, p.motion_window);
    if (result === null) return [];
    if (Math.max(...result.paths) < p.motion_min_path) return [];
    const probs = motionProbabilities(model, result.features);
    let best = null, bestP = 0.0;
    model.classes.forEach((name, i) => {
      if (p.motion_letters.includes(name) && this.labels.includes(name) && probs[i] > bestP && this._shapeSeen(name, t)) {
        best = name; bestP = probs[i];
      }
    });
    if (best === null || bestP < p.motion_threshold) return [];
    const out = [];
    const last = this.commits.length ? this.commits[this.commits.length - 1] : null;
    if (last !== null && leader !== null && (last.kind === "letter" || last.kind === "double")
        && last.letter === this.labels[leader] && last.time !== null
        && last.time >= t - p.motion_window - p.min_hold && this._text.endsWith(last.letter)) {
      out.push(...this._commit(DELETE, "del", t));
    }
    out.push(...this._commit(best, "letter", t));
    this._held = best;
    this._heldAt = t;
    this._heldTrack = this._lastTrack;
    this._motionAt = t;
    this._motionShape = leader;
    this._moved = false;
    this._reshaped = false;
    this._bounce = false;
    return out;
  }

  _staticCommit(t, leader) {
    const p = this.params;
    if (t - this._motionAt < p.motion_window || leader === this._motionShape) return [];
    if (this._steadySince === null || t - this._steadySince < p.min_hold || t - this._leaderSince < p.min_hold) return [];
    if (this._ema[leader] < this.threshold) return [];
    const name = this.labels[leader];
    let kind = null;
    if (this._held === null) {
      kind = "letter";
    } else if (name !== this._held) {
      if (this._moved || t - this._leaderSince >= p.switch_hold) kind = "letter";
    } else if (this._bounce && !this._reshaped && !p.motion_letters.includes(name) && name !== SPACE && name !== DELETE) {
      if (!this._sameDepth()) {
        // Repositioned, not bounced: the letter stays held from its new place.
        this._heldAt = t;
        this._heldTrack = this._lastTrack;
        this._bounce = false;
        return [];
      }
      kind = "double";
    }
    if (kind === null) return [];
    if (name === SPACE) kind = "space";
    else if (name === DELETE) kind = "del";
    const out = this._commit(name, kind, t);
    this._held = name;
    this._heldAt = t;
    this._heldTrack = this._lastTrack;
    this._moved = false;
    this._reshaped = false;
    this._bounce = false;
    return out;
  }

  _commit(name, kind, t) {
    const out = [];
    if (kind === "del") {
      if (this._text) {
        this._text = this._text.slice(0, -1);
        out.push({ letter: "", kind: "del", time: t });
      }
      this._pendingSpace = false;
    } else if (kind === "space") {
      if (this._text && !this._text.endsWith(" ")) {
        this._text += " ";
        out.push({ letter: " ", kind: "space", time: t });
      }
      this._pendingSpace = false;
    } else {
      if (this._pendingSpace && this._text && !this._text.endsWith(" ")) {
        this._text += " ";
        out.push({ letter: " ", kind: "space", time: t });
      }
      this._pendingSpace = false;
      this._text += name;
      out.push({ letter: name, kind, time: t });
    }
    this.commits.push(...out);
    return out;
  }

  _confidence(letter) {
    if (letter === null || this._ema === null) return 0.0;
    const i = this.labels.indexOf(letter);
    return i < 0 ? 0.0 : this._ema[i];
  }
}
