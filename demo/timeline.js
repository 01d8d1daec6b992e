// The demo's picture: for each round, /health latency (each call, when it was made) and the
// server's event-loop delay over the round, on one log scale, one panel per round — hand-written
// SVG, no dependency. demo/main.js writes it to demo/results/timeline.svg.

const W = 900;
const LEFT = 64;
const RIGHT = 16;
const PANEL_H = 150;
const GAP = 46;
const TOP = 64;
/** The log scale, in ms: from a tenth of a millisecond to ten seconds. */
const MIN_MS = 0.1;
const MAX_MS = 10_000;

const escape = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The SVG of the demo's rounds: each { label, health: [[t ms, latency ms]], timeline: [[t ms, delay ms]] }. */
export function timelineSvg(rounds, seconds) {
  const plotW = W - LEFT - RIGHT;
  const height = TOP + rounds.length * (PANEL_H + GAP) + 10;
  const xOf = (ms) => LEFT + (Math.min(ms, seconds * 1000) / (seconds * 1000)) * plotW;
  const yOf = (top, ms) => {
    const v = Math.min(MAX_MS, Math.max(MIN_MS, ms));
    return top + PANEL_H - ((Math.log10(v) - Math.log10(MIN_MS)) / (Math.log10(MAX_MS) - Math.log10(MIN_MS))) * PANEL_H;
  };
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${height}" fill="#fff"/>`,
    '<text x="10" y="20" font-size="15" font-weight="600">npm run demo: /health latency and event-loop delay while /hash is under load</text>',
    '<text x="10" y="38" fill="#555">Blue: each /health call, when it was sent and how long it took. Orange: how late the server\'s 10 ms timer fired</text>',
    '<text x="10" y="52" fill="#555">(its event loop was busy that long). One log scale for all.</text>',
  ];
  rounds.forEach((round, i) => {
    const top = TOP + i * (PANEL_H + GAP) + 18;
    out.push(`<text x="${LEFT}" y="${top - 8}" font-weight="600">${escape(`${i + 1}. ${round.label}`)}</text>`);
    out.push(`<rect x="${LEFT}" y="${top}" width="${plotW}" height="${PANEL_H}" fill="#fafafa" stroke="#ddd"/>`);
    for (let ms = MIN_MS; ms <= MAX_MS; ms *= 10) {
      const y = yOf(top, ms);
      const label = ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`;
      out.push(`<line x1="${LEFT}" y1="${y}" x2="${LEFT + plotW}" y2="${y}" stroke="#e6e6e6"/>`);
      out.push(`<text x="${LEFT - 6}" y="${y + 4}" text-anchor="end" fill="#777" font-size="10">${label}</text>`);
    }
    for (let s = 0; s <= seconds; s++) {
      out.push(`<text x="${xOf(s * 1000)}" y="${top + PANEL_H + 13}" text-anchor="middle" fill="#777" font-size="10">${s} s</text>`);
    }
    const line = (round.timeline ?? []).map(([t, d]) => `${xOf(t).toFixed(1)},${yOf(top, d).toFixed(1)}`).join(' ');
    if (line) out.push(`<polyline points="${line}" fill="none" stroke="#ef6c00" stroke-width="1.2"/>`);
    for (const [t, latency] of round.health ?? []) {
      out.push(`<circle cx="${xOf(t).toFixed(1)}" cy="${yOf(top, latency).toFixed(1)}" r="1.8" fill="#1565c0" fill-opacity="0.7"/>`);
    }
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
