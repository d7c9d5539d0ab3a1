// Runs the browser's spelling rules (src/fingerspell/web/static/js/spelling.js) on streams
// written by tests/infer/test_spelling_parity.py:
//   node spelling_runner.mjs IN.json OUT.json
// IN: {"labels": [...], "params": {...}, "streams": [[frame, ...], ...]}
// OUT: {"streams": [{"letters": [...], "confidence": [...], "text": "...", "commits": [...]}]}
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, resolve } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const { Spelling } = await import(pathToFileURL(resolve(here, "../../src/fingerspell/web/static/js/spelling.js")));
const [input, output] = process.argv.slice(2);
const job = JSON.parse(readFileSync(input, "utf8"));
const results = job.streams.map((frames) => {
  const speller = new Spelling(job.labels, job.params);
  const letters = [];
  const confidence = [];
  const commits = [];
  for (const frame of frames) {
    const step = speller.push(frame);
    letters.push(step.letter);
    confidence.push(step.confidence);
    commits.push(...step.committed);
  }
  return { letters, confidence, text: speller.text, commits };
});
writeFileSync(output, JSON.stringify({ streams: results }));
