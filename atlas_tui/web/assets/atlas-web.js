// Before textual.js builds the terminal (on window load): a font size that gives a phone
// about 60 columns, the narrowest the app is laid out for, and a desktop 16px.
document.addEventListener("DOMContentLoaded", () => {
  const terminal = document.getElementById("terminal");
  if (!terminal) return;
  // Roboto Mono's cell is about 0.6em wide.
  const size = Math.floor(window.innerWidth / (60 * 0.6));
  terminal.dataset.fontSize = String(Math.max(9, Math.min(16, size)));
});
