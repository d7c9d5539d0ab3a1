// MediaPipe Hands' 21-point skeleton (the same as src/fingerspell/hand_skeleton.py).
export const HAND_CONNECTIONS = [
  [0, 1], [1, 2], [2, 3], [3, 4],
  [0, 5], [5, 6], [6, 7], [7, 8],
  [5, 9], [9, 10], [10, 11], [11, 12],
  [9, 13], [13, 14], [14, 15], [15, 16],
  [13, 17], [0, 17], [17, 18], [18, 19], [19, 20],
];
export const FINGERTIPS = [4, 8, 12, 16, 20];

// Draw a skeleton of points already in canvas pixels.
export function drawSkeleton(ctx, points, { line = "#ffffff", joint = "#e53935", tip = "#ffd54f", width = 3, radius = 4 } = {}) {
  ctx.lineWidth = width;
  ctx.lineCap = "round";
  ctx.strokeStyle = line;
  ctx.beginPath();
  for (const [a, b] of HAND_CONNECTIONS) {
    ctx.moveTo(points[a][0], points[a][1]);
    ctx.lineTo(points[b][0], points[b][1]);
  }
  ctx.stroke();
  points.forEach(([x, y], i) => {
    ctx.fillStyle = FINGERTIPS.includes(i) ? tip : joint;
    ctx.beginPath();
    ctx.arc(x, y, radius, 0, 2 * Math.PI);
    ctx.fill();
  });
}
