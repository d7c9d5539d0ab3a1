// Recognition in the browser: MediaPipe Hands (landmarks) + the bundle's browser.onnx
// (landmark features computed inside the graph, then the letter model) in onnxruntime-web.
// Both are served by the app itself (static/vendor/, installed by `make setup`).

const VENDOR = "/static/vendor/";

export class EngineError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind; // "wasm" | "bundle"
  }
}

export function softmax(logits, temperature = 1) {
  const t = temperature > 0 ? temperature : 1;
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v / t);
  const e = Array.from(logits, (v) => Math.exp(v / t - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

export class Engine {
  // Load the manifest, the ONNX model and MediaPipe Hands. Throws EngineError.
  static async load(bundleUrl = "/bundle/") {
    const engine = new Engine();
    let response;
    try {
      response = await fetch(bundleUrl + "bundle.json");
    } catch (err) {
      throw new EngineError("bundle", `Could not reach the fingerspell server (${err.message}).`);
    }
    if (!response.ok) throw new EngineError("bundle", `The model bundle could not be loaded (${response.status}).`);
    engine.manifest = await response.json();
    if (engine.manifest.input?.kind !== "landmarks") {
      throw new EngineError("bundle", "The live page needs a landmark bundle (this one takes images); start the server with a landmark model.");
    }
    engine.labels = engine.manifest.labels;
    const temperature = Number(engine.manifest.calibration?.temperature);
    engine.temperature = Number.isFinite(temperature) && temperature > 0 ? temperature : 1;
    if (typeof WebAssembly !== "object" || typeof WebAssembly.instantiate !== "function") {
      throw new EngineError("wasm", "This browser cannot run WebAssembly, which the recognition needs. Use a current Chrome, Edge, Firefox or Safari (and check that WebAssembly is not disabled).");
    }
    if (typeof ort === "undefined" || typeof Hands === "undefined") {
      throw new EngineError("wasm", "The recognition libraries did not load (static/vendor is missing): run `make setup` and restart the server.");
    }
    try {
      ort.env.wasm.wasmPaths = VENDOR + "onnxruntime-web/";
      ort.env.wasm.numThreads = 1; // threads need cross-origin isolation; one is plenty for this model
      engine.session = await ort.InferenceSession.create(bundleUrl + "browser.onnx", { executionProviders: ["wasm"] });
    } catch (err) {
      const probe = await fetch(bundleUrl + "browser.onnx").catch(() => null);
      if (probe && probe.status === 404) {
        throw new EngineError("bundle", "This model bundle has no browser.onnx (it was exported before the browser app existed): run `python -m fingerspell.export.browser BUNDLE_FOLDER` once, then restart the server.");
      }
      throw new EngineError("wasm", `The letter model could not start in WebAssembly: ${err.message || err}`);
    }
    const hands = engine.manifest.hands || {};
    const complexity = hands.tracking_model_complexity ?? hands.model_complexity ?? 0;
    try {
      engine.hands = new Hands({ locateFile: (file) => VENDOR + "mediapipe-hands/" + file });
      engine.hands.setOptions({
        maxNumHands: 1,
        modelComplexity: complexity,
        minDetectionConfidence: hands.min_detection_confidence ?? 0.5,
        minTrackingConfidence: 0.5,
        selfieMode: false, // the frame as the camera gives it, as in Python; the view is mirrored when drawn
        useCpuInference: true, // WebGL inference is 10-30x slower without a GPU (../shared/STACK.md)
      });
      engine.hands.onResults((results) => { engine._results = results; });
      await engine.hands.initialize();
    } catch (err) {
      throw new EngineError("wasm", `MediaPipe Hands could not start in WebAssembly: ${err.message || err}`);
    }
    return engine;
  }

  // One frame (a canvas or video element, width x height pixels) -> what the page shows.
  async recognise(image, width, height) {
    const t0 = performance.now();
    this._results = null;
    await this.hands.send({ image });
    const t1 = performance.now();
    const results = this._results;
    const found = results?.multiHandLandmarks?.length > 0;
    if (!found) return { hand: false, landmarks: null, handedness: null, probs: null, ms: { hands: t1 - t0, model: 0 } };
    const landmarks = results.multiHandLandmarks[0].map((p) => [p.x, p.y, p.z]);
    const handedness = results.multiHandedness?.[0]?.label ?? "Left";
    const flat = new Float32Array(63);
    landmarks.forEach((p, i) => flat.set(p, i * 3));
    const feeds = {
      landmarks: new ort.Tensor("float32", flat, [1, 21, 3]),
      mirror: new ort.Tensor("float32", new Float32Array([handedness === "Right" ? 1 : 0]), [1]),
      image_size: new ort.Tensor("float32", new Float32Array([width, height]), [1, 2]),
    };
    const output = await this.session.run(feeds);
    const probs = softmax(output.logits.data, this.temperature);
    const t2 = performance.now();
    return { hand: true, landmarks, handedness, probs, ms: { hands: t1 - t0, model: t2 - t1 } };
  }

  top(probs, k = 5) {
    return probs
      .map((p, i) => [this.labels[i], p])
      .sort((a, b) => b[1] - a[1])
      .slice(0, k);
  }
}
