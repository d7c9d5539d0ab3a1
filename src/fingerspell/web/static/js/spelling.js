// Spelling for the live page: per-frame probabilities -> a stable letter -> committed text.
//
// A stand-in port of the Python rules (infer/smoothing.py LetterSmoother + infer/speller.py
// Speller), made time-based where the Python counts frames at 30 fps. The spelling branch
// owns the real rules and replaces this file; the page only relies on the interface:
//
//   new Spelling(labels, params)   params = bundle.json "spelling" (may be absent)
//   push({t, probs, landmarks, handedness, size})
//       -> {letter, confidence, hand, committed: [{letter, kind, time}], text}
//   reset(); text; threshold (read/write); addSpace(); backspace(); clear()

const MOTION_LETTERS = new Set(["J", "Z"]);
const SPACE_CLASS = "space";
const DELETE_CLASS = "del";

const DEFAULTS = {
  alpha: 0.35,        // weight of the newest frame in the moving average
  enter: 0.5,         // averaged probability a new letter needs (the threshold slider)
  hold: 3,            // frames in a row the new letter must lead
  release_s: 0.13,    // seconds without a hand before "no hand" (4 frames at 30 fps)
  space_after_s: 0.5, // seconds without a hand that end a word
  move: 0.25,         // hand displacement (hand sizes) that counts as a bounce / slide
  move_window_s: 0.33,
  settle: 3,          // still frames that end a bounce
  still: 0.03,        // per-frame movement (hand sizes) below which the hand is still
  ignore: ["nothing"],
};

export class Spelling {
  constructor(labels, params = {}) {
    this.labels = [...labels];
    this.params = { ...DEFAULTS, ...(params || {}) };
    this.ignored = new Set(this.params.ignore);
    this.reset();
  }

  get threshold() { return this.params.enter; }
  set threshold(value) { this.params.enter = Number(value); }
  get text() { return this._text; }

  reset() {
    this._text = "";
    this._commits = [];
    this._letter = null;
    this._ema = null;
    this._candidate = null;
    this._streak = 0;
    this._missingSince = null;
    this._pendingSpace = false;
    this._current = null;
    this._recent = [];
    this._moving = false;
    this._stillFrames = 0;
  }

  clear() {
    this._text = "";
    this._pendingSpace = false;
  }

  addSpace() {
    if (this._text && !this._text.endsWith(" ")) this._text += " ";
    this._pendingSpace = false;
  }

  backspace() {
    this._text = this._text.slice(0, -1);
    this._pendingSpace = false;
  }

  push(frame) {
    const t = frame.t;
    let probs = frame.probs;
    if (probs && this.ignored.size) {
      const top = argmax(probs);
      if (this.ignored.has(this.labels[top])) probs = null; // "nothing" = no hand
    }
    const committed = [];
    if (!probs) {
      if (this._missingSince === null) this._missingSince = t;
      const missing = t - this._missingSince;
      this._candidate = null;
      this._streak = 0;
      if (missing >= this.params.release_s) {
        this._letter = null;
        this._ema = null;
      }
      if (this._letter === null) {
        this._current = null;
        this._recent = [];
        this._moving = false;
        if (missing >= this.params.space_after_s && this._text && !this._text.endsWith(" ")) this._pendingSpace = true;
      }
      return this._result(false, committed);
    }
    this._missingSince = null;
    const a = this.params.alpha;
    this._ema = this._ema ? this._ema.map((v, i) => a * probs[i] + (1 - a) * v) : [...probs];
    const leader = argmax(this._ema);
    const name = this.labels[leader];
    if (name === this._letter) {
      this._candidate = null;
      this._streak = 0;
    } else if (this._ema[leader] >= this.params.enter) {
      this._streak = leader === this._candidate ? this._streak + 1 : 1;
      this._candidate = leader;
      if (this._streak >= this.params.hold) {
        this._letter = name;
        this._candidate = null;
        this._streak = 0;
      }
    } else {
      this._candidate = null;
      this._streak = 0;
    }
    const box = handBox(frame.landmarks, frame.size);
    if (this._letter !== null) {
      if (this._letter !== this._current) {
        this._current = this._letter;
        this._recent = [];
        this._moving = false;
        committed.push(...this._commit(this._letter, "letter", t));
        this._track(box, t);
      } else if (this._track(box, t) && !MOTION_LETTERS.has(this._letter)) {
        committed.push(...this._commit(this._letter, "double", t));
      }
    }
    return this._result(true, committed);
  }

  _result(hand, committed) {
    const i = this._letter === null ? -1 : this.labels.indexOf(this._letter);
    const confidence = i >= 0 && this._ema ? this._ema[i] : 0;
    return { letter: this._letter, confidence, hand, committed, text: this._text };
  }

  // Follow the hand centre; true when a quick move has just come to rest (a double letter).
  _track(box, t) {
    if (!box) return false;
    const [x0, y0, x1, y1] = box;
    const size = Math.max(x1 - x0, y1 - y0, 1);
    const centre = [(x0 + x1) / 2 / size, (y0 + y1) / 2 / size];
    this._recent = this._recent.filter((r) => t - r.t <= this.params.move_window_s);
    const previous = this._recent.length ? this._recent[this._recent.length - 1].c : null;
    if (!this._moving && this._recent.some((r) => dist(centre, r.c) > this.params.move)) {
      this._moving = true;
      this._stillFrames = 0;
    }
    this._recent.push({ t, c: centre });
    if (this._moving && previous) {
      this._stillFrames = dist(centre, previous) < this.params.still ? this._stillFrames + 1 : 0;
      if (this._stillFrames >= this.params.settle) {
        this._moving = false;
        this._recent = [{ t, c: centre }];
        return true;
      }
    }
    return false;
  }

  _commit(letter, kind, time) {
    const out = [];
    if (letter === DELETE_CLASS) {
      if (this._text) {
        this._text = this._text.slice(0, -1);
        out.push({ letter: "", kind: "del", time });
      }
      this._pendingSpace = false;
      return out;
    }
    if (letter === SPACE_CLASS) {
      if (this._text && !this._text.endsWith(" ")) {
        this._text += " ";
        out.push({ letter: " ", kind: "space", time });
      }
      this._pendingSpace = false;
      return out;
    }
    if (this._pendingSpace && this._text && !this._text.endsWith(" ")) {
      this._text += " ";
      out.push({ letter: " ", kind: "space", time });
    }
    this._pendingSpace = false;
    this._text += letter;
    out.push({ letter, kind, time });
    this._commits.push(...out);
    return out;
  }
}

function argmax(values) {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

function dist(a, b) {
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}

function handBox(landmarks, size) {
  if (!landmarks || !size) return null;
  const [w, h] = size;
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const [x, y] of landmarks) {
    x0 = Math.min(x0, x * w); x1 = Math.max(x1, x * w);
    y0 = Math.min(y0, y * h); y1 = Math.max(y1, y * h);
  }
  return [x0, y0, x1, y1];
}
