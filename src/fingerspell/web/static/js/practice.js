// Practice mode: spell a target letter by letter; each letter is marked when it is held
// correctly; letters per minute, per-letter accuracy and the weakest letters are kept in
// this browser (localStorage), nowhere else.

export const LEVELS = [
  { name: "Level 1: first letters", items: ["A", "B", "C", "D", "E", "I", "L", "O", "V", "W", "Y"] },
  { name: "Level 2: every static letter", items: "ABCDEFGHIKLMNOPQRSTUVWXY".split("") },
  { name: "Level 3: short words", items: ["CAB", "BOX", "FLY", "WAVE", "COLD", "HI", "YES", "LOVE"] },
  { name: "Level 4: look-alikes", items: ["MN", "ST", "AE", "UV", "KP", "GH", "RU", "IY"] },
  { name: "Word list: animals", items: ["CAT", "DOG", "COW", "OWL", "FOX", "BEE"] },
  { name: "Word list: greetings", items: ["HI", "HELLO", "BYE", "THANKS", "PLEASE"] },
];

export const HOLD_S = 0.5;    // a letter counts when it is the top answer, above the threshold, this long
const WRONG_S = 0.6;          // a different letter held this long is a miss for the target
const STORAGE_KEY = "fingerspell.practice.v1";
const SLOW_S = 2;              // a letter that takes longer than this on average is worth practising

export function loadHistory(storage = globalThis.localStorage) {
  try {
    const data = JSON.parse(storage?.getItem(STORAGE_KEY) || "null");
    if (data && typeof data === "object" && data.letters) return data;
  } catch { /* a damaged entry starts afresh */ }
  return { letters: {}, sessions: [] };
}

export function saveHistory(history, storage = globalThis.localStorage) {
  try { storage?.setItem(STORAGE_KEY, JSON.stringify(history)); } catch { /* private mode: keep in memory */ }
}

// Letters missed or slow at least once on average, lowest first-try accuracy (then slowest) first.
export function weakestLetters(history, k = 3) {
  return Object.entries(history.letters)
    .filter(([, s]) => s.attempts > 0)
    .map(([letter, s]) => ({ letter, accuracy: s.correct / s.attempts, seconds: s.ms / s.attempts / 1000, attempts: s.attempts }))
    .filter((w) => w.accuracy < 1 || w.seconds > SLOW_S)
    .sort((a, b) => a.accuracy - b.accuracy || b.seconds - a.seconds)
    .slice(0, k);
}

export class Practice {
  constructor(labels, storage = globalThis.localStorage) {
    this.labels = new Set(labels);
    this.storage = storage;
    this.history = loadHistory(storage);
    this.items = [];
    this.active = false;
  }

  // Start on a list of words (letters outside the model's labels are dropped).
  start(items, now) {
    this.items = items
      .map((w) => String(w).toUpperCase().split("").filter((c) => this.labels.has(c)).join(""))
      .filter((w) => w.length > 0);
    if (!this.items.length) return false;
    this.word = 0;
    this.index = 0;
    this.done = [];
    this.session = { start: now, letters: 0, correct: 0 };
    this.active = true;
    this._beginLetter(now);
    return true;
  }

  get target() {
    if (!this.active) return null;
    const word = this.items[this.word];
    return { word, index: this.index, letter: word[this.index], wordNumber: this.word + 1, words: this.items.length };
  }

  _beginLetter(now) {
    this.letterStart = now;
    this.holdSince = null;
    this.wrongSince = null;
    this.wrongLetter = null;
    this.missed = false;
  }

  // One frame: the top letter and its probability (null when no hand), and the threshold.
  // Returns "held" when the target letter was just completed, "finished" after the last one.
  update(now, top, probability, threshold) {
    if (!this.active) return null;
    const target = this.target.letter;
    if (top === target && probability >= threshold) {
      this.wrongSince = null;
      if (this.holdSince === null) this.holdSince = now;
      if (now - this.holdSince >= HOLD_S) return this._complete(now, true);
      return null;
    }
    this.holdSince = null;
    if (top && top !== target && probability >= threshold) {
      if (top !== this.wrongLetter) { this.wrongLetter = top; this.wrongSince = now; }
      if (!this.missed && now - this.wrongSince >= WRONG_S) this.missed = true;
    } else {
      this.wrongLetter = null;
      this.wrongSince = null;
    }
    return null;
  }

  skip(now) {
    if (!this.active) return null;
    this.missed = true;
    return this._complete(now, false);
  }

  _complete(now, held) {
    const letter = this.target.letter;
    const firstTry = held && !this.missed;
    const stats = this.history.letters[letter] || { attempts: 0, correct: 0, ms: 0 };
    stats.attempts += 1;
    stats.correct += firstTry ? 1 : 0;
    stats.ms += Math.max(0, (now - this.letterStart) * 1000);
    this.history.letters[letter] = stats;
    this.done.push({ word: this.word, index: this.index, letter, firstTry, held });
    this.session.letters += held ? 1 : 0;
    this.session.correct += firstTry ? 1 : 0;
    this.index += 1;
    if (this.index >= this.items[this.word].length) {
      this.word += 1;
      this.index = 0;
    }
    if (this.word >= this.items.length) {
      this.active = false;
      this.history.sessions.push({
        date: new Date().toISOString(), letters: this.session.letters,
        seconds: Math.round((now - this.session.start) * 10) / 10,
      });
      this.history.sessions = this.history.sessions.slice(-100);
      saveHistory(this.history, this.storage);
      return "finished";
    }
    saveHistory(this.history, this.storage);
    this._beginLetter(now);
    return "held";
  }

  lettersPerMinute(now) {
    if (!this.session) return 0;
    const minutes = (now - this.session.start) / 60;
    return minutes > 0 ? this.session.letters / minutes : 0;
  }

  forget() {
    this.history = { letters: {}, sessions: [] };
    saveHistory(this.history, this.storage);
  }
}
