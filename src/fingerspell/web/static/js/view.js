// The camera view: the frame mirrored (like a mirror, as learners expect), the hand skeleton,
// its box and the current letter.
import { drawSkeleton } from "./skeleton.js";

export function drawView(ctx, frame, result, letter) {
  const { width: w, height: h } = ctx.canvas;
  ctx.save();
  ctx.setTransform(-1, 0, 0, 1, w, 0); // mirror
  ctx.drawImage(frame, 0, 0, w, h);
  let box = null;
  if (result?.landmarks) {
    const points = result.landmarks.map(([x, y]) => [x * w, y * h]);
    drawSkeleton(ctx, points);
    const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
    const pad = 0.1 * Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
    box = [Math.min(...xs) - pad, Math.min(...ys) - pad, Math.max(...xs) + pad, Math.max(...ys) + pad];
    ctx.strokeStyle = "#2ecc71";
    ctx.lineWidth = 3;
    ctx.strokeRect(box[0], box[1], box[2] - box[0], box[3] - box[1]);
  }
  ctx.restore();
  if (box && letter) {
    // The label goes on the mirrored box, written unmirrored.
    const left = w - box[2];
    const label = `${letter.letter} ${(letter.confidence * 100).toFixed(0)}%`;
    ctx.font = "bold 26px system-ui, sans-serif";
    const tw = ctx.measureText(label).width;
    const top = Math.max(0, box[1] - 36);
    ctx.fillStyle = "#2ecc71";
    ctx.fillRect(left, top, tw + 16, 34);
    ctx.fillStyle = "#000";
    ctx.fillText(label, left + 8, top + 26);
  }
}
