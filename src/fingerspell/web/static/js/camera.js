// The webcam, with one clear message for each way it can fail.

export class CameraError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind; // "denied" | "missing" | "busy" | "insecure" | "other"
  }
}

// Start the camera into `video` (640x480 preferred). Resolves when frames are playing.
export async function openCamera(video) {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new CameraError("insecure", "This page cannot use a camera here: open it as http://127.0.0.1:PORT/ or http://localhost:PORT/ (browsers allow cameras only on this machine or over https).");
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: "user" },
    });
  } catch (err) {
    const name = err?.name || "";
    if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") {
      throw new CameraError("denied", "Camera access was denied. Allow the camera for this page (the camera icon in the address bar), then reload. Nothing you sign leaves this computer.");
    }
    if (name === "NotFoundError" || name === "DevicesNotFoundError" || name === "OverconstrainedError") {
      throw new CameraError("missing", "No camera was found. Connect a webcam (or enable it in your system settings), then reload.");
    }
    if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") {
      throw new CameraError("busy", "The camera is in use by another program or could not start. Close the other program, then reload.");
    }
    throw new CameraError("other", `The camera could not start (${name || "error"}: ${err?.message || err}).`);
  }
  video.srcObject = stream;
  video.muted = true;
  video.playsInline = true;
  await video.play();
  if (!video.videoWidth) await new Promise((resolve) => video.addEventListener("loadedmetadata", resolve, { once: true }));
  return stream;
}
