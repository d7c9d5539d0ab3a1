// The live panel: letter + confidence, top-5 bars, threshold slider, timings, spelled text.

const $ = (id) => document.getElementById(id);

export class LiveView {
  constructor(spelling, engine) {
    this.spelling = spelling;
    this.threshold = spelling.threshold;
    const slider = $("threshold");
    slider.value = String(this.threshold);
    const show = () => { $("threshold-value").textContent = `${Math.round(this.threshold * 100)}%`; };
    show();
    slider.addEventListener("input", () => {
      this.threshold = Number(slider.value);
      this.spelling.threshold = this.threshold;
      show();
    });
    $("space").addEventListener("click", () => { spelling.addSpace(); this.showText(); });
    $("backspace").addEventListener("click", () => { spelling.backspace(); this.showText(); });
    $("clear").addEventListener("click", () => { spelling.clear(); this.showText(); });
    $("copy").addEventListener("click", () => this.copy());
    $("model-name").textContent = `model: ${engine.manifest.name} (${engine.labels.length} letters)`;
    const bars = $("top5");
    this.rows = [];
    for (let i = 0; i < 5; i++) {
      const row = document.createElement("li");
      row.innerHTML = '<span class="name"></span><span class="bar"><span class="fill"></span></span><span class="value"></span>';
      bars.appendChild(row);
      this.rows.push(row);
    }
  }

  showText() {
    $("text").textContent = this.spelling.text;
  }

  async copy() {
    const text = this.spelling.text;
    try {
      await navigator.clipboard.writeText(text);
      $("copy-status").textContent = "copied";
    } catch {
      const area = document.createElement("textarea"); // older browsers / no clipboard permission
      area.value = text;
      document.body.appendChild(area);
      area.select();
      const ok = document.execCommand("copy");
      area.remove();
      $("copy-status").textContent = ok ? "copied" : "select the text and copy it";
    }
    setTimeout(() => { $("copy-status").textContent = ""; }, 1500);
  }

  update(state, shown, ms) {
    const stage = $("stage");
    stage.classList.toggle("no-hand", !state.hand);
    $("letter").textContent = shown ? shown.letter : (state.hand ? "…" : "–");
    $("confidence").textContent = shown ? `${(shown.confidence * 100).toFixed(0)}%` : (state.hand ? "unsure" : "no hand");
    this.rows.forEach((row, i) => {
      const entry = state.top5[i];
      row.querySelector(".name").textContent = entry ? entry[0] : "";
      row.querySelector(".fill").style.width = entry ? `${(entry[1] * 100).toFixed(1)}%` : "0";
      row.querySelector(".value").textContent = entry ? `${(entry[1] * 100).toFixed(0)}%` : "";
      row.classList.toggle("above", Boolean(entry) && entry[1] >= this.threshold);
    });
    $("fps").textContent = state.fps.toFixed(1);
    $("ms-hands").textContent = ms.hands.toFixed(1);
    $("ms-model").textContent = ms.model.toFixed(2);
    $("ms-spelling").textContent = ms.spelling.toFixed(2);
    if ($("text").textContent !== state.text) $("text").textContent = state.text;
  }
}
