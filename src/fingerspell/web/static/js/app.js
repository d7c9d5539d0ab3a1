// The fingerspell app: camera -> MediaPipe Hands -> browser.onnx -> spelling, all in this tab.
//
// window.fingerspell (a stable contract for automation and accessibility tools; README):
//   state()  -> {letter, confidence, top5, text, hand, fps}   (the meanings of `fingerspell predict --json`)
//   reset()  -> forget the spelled text and the smoothing state
//   frames() -> the last per-frame records {t, tag, hand, handedness, top1, p1, letter, ms}
//   ready    -> true once the camera and the models run; error -> the message shown, if any
import { CameraError, openCamera } from "./camera.js";
import { Engine } from "./engine.js";
import { LiveView } from "./live-ui.js";
import { PracticeView } from "./practice-ui.js";
import { Spelling } from "./spelling.js";
import { drawView } from "./view.js";

const params = new URLSearchParams(location.search);
// Test hook: read a 16-bit frame number drawn as blocks across the top-left of the frame.
const READ_FRAME_TAG = params.get("frametag") === "1";
const HISTORY = 600;

const $ = (id) => document.getElementById(id);
const state = { letter: null, confidence: 0, top5: [], text: "", hand: false, fps: 0 };
const frames = [];
const api = {
  ready: false,
  error: null,
  state: () => JSON.parse(JSON.stringify(state)),
  frames: () => frames.slice(),
  reset: () => { spelling?.reset(); frames.length = 0; Object.assign(state, { letter: null, confidence: 0, text: "" }); },
};
window.fingerspell = api;
let spelling = null;

function showMessage(text, kind = "error") {
  const box = $("message");
  box.textContent = text;
  box.className = `message ${kind}`;
  box.hidden = false;
  if (kind === "error") api.error = text;
}

function showView() {
  const practice = location.hash === "#practice";
  $("live-panel").hidden = practice;
  $("practice-panel").hidden = !practice;
  document.querySelectorAll("nav a[data-view]").forEach((a) => a.classList.toggle("active", a.dataset.view === (practice ? "practice" : "live")));
  document.title = practice ? "fingerspell: practice" : "fingerspell: live";
}

function readFrameTag(ctx) {
  const data = ctx.getImageData(0, 0, 256, 16).data;
  let tag = 0;
  for (let bit = 0; bit < 16; bit++) {
    const i = (8 * 256 + bit * 16 + 8) * 4; // the centre of block `bit`
    if (data[i] + data[i + 1] + data[i + 2] > 3 * 128) tag |= 1 << bit;
  }
  return tag;
}

async function main() {
  window.addEventListener("hashchange", showView);
  showView();
  $("status").textContent = "loading the models…";
  let engine;
  try {
    engine = await Engine.load();
  } catch (err) {
    $("status").textContent = "";
    showMessage(err.message);
    return;
  }
  spelling = new Spelling(engine.labels, engine.manifest.spelling);
  const live = new LiveView(spelling, engine);
  const practice = new PracticeView(engine, () => live.threshold);
  await practice.loadReferences();
  $("status").textContent = "starting the camera…";
  const video = $("video");
  try {
    await openCamera(video);
  } catch (err) {
    $("status").textContent = "";
    showMessage(err instanceof CameraError ? err.message : `The camera could not start: ${err.message || err}`);
    return;
  }
  $("status").textContent = "";
  const width = video.videoWidth, height = video.videoHeight;
  const frameCanvas = document.createElement("canvas");
  frameCanvas.width = width;
  frameCanvas.height = height;
  // One copy of the frame feeds MediaPipe, the tag reader and the view, so they all see the same frame.
  const frameCtx = frameCanvas.getContext("2d", { willReadFrequently: READ_FRAME_TAG });
  const view = $("view");
  view.width = width;
  view.height = height;
  const viewCtx = view.getContext("2d");
  const start = performance.now();
  let last = null;
  let busy = false;

  async function step() {
    if (busy || video.readyState < 2) return;
    busy = true;
    try {
      frameCtx.drawImage(video, 0, 0, width, height);
      const tag = READ_FRAME_TAG ? readFrameTag(frameCtx) : null;
      const result = await engine.recognise(frameCanvas, width, height);
      const t = (performance.now() - start) / 1000;
      const s0 = performance.now();
      const spelled = spelling.push({ t, probs: result.probs, landmarks: result.landmarks, handedness: result.handedness, size: [width, height] });
      const spellingMs = performance.now() - s0;
      const now = performance.now();
      if (last !== null) {
        const fps = 1000 / Math.max(1, now - last);
        state.fps = state.fps ? 0.9 * state.fps + 0.1 * fps : fps;
      }
      last = now;
      const top5 = result.probs ? engine.top(result.probs) : [];
      Object.assign(state, {
        letter: spelled.letter, confidence: spelled.confidence, top5, text: spelled.text, hand: result.hand,
      });
      const ms = { ...result.ms, spelling: spellingMs };
      frames.push({ t, tag, hand: result.hand, handedness: result.handedness, top1: top5[0]?.[0] ?? null,
                    p1: top5[0]?.[1] ?? 0, letter: spelled.letter, ms });
      if (frames.length > HISTORY) frames.splice(0, frames.length - HISTORY);
      const shown = result.hand && spelled.letter && spelled.confidence >= live.threshold ? spelled : null;
      drawView(viewCtx, frameCanvas, result, shown);
      live.update(state, shown, ms);
      practice.update(t, top5[0]?.[0] ?? null, top5[0]?.[1] ?? 0, result.hand);
      api.ready = true;
    } catch (err) {
      showMessage(`Recognition stopped: ${err.message || err}`);
      throw err;
    } finally {
      busy = false;
    }
  }

  // Next frame as soon as this one is done, but not faster than the camera delivers them
  // (requestAnimationFrame would add up to a display refresh of waiting to every frame).
  const cameraFps = video.srcObject?.getVideoTracks?.()[0]?.getSettings?.().frameRate || 30;
  const minInterval = 1000 / cameraFps;
  const loop = async () => {
    const began = performance.now();
    await step();
    setTimeout(loop, Math.max(0, minInterval - (performance.now() - began)));
  };
  loop();
}

main();
