// Number and text-table formatting for the report.

/** Three significant figures, with k / M for large numbers: 655k, 24.8k, 19.3, 1.70. */
export function formatNumber(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  const abs = Math.abs(x);
  if (abs >= 1e6) return `${(x / 1e6).toPrecision(3)}M`;
  if (abs >= 1e4) return `${(x / 1e3).toPrecision(3)}k`;
  if (abs >= 100) return x.toFixed(0);
  if (abs >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

export function formatRatio(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)}x`;
}

const isNumeric = (cell) => /^[-–\d.kMx]+( \(.*\))?$/.test(cell);

/**
 * Renders rows of cells (strings) with padded columns; numeric-looking cells align right. A row
 * shorter than the header (an error message after the label) runs free and sets no width.
 */
export function renderTable(header, rows, indent = '  ') {
  const full = [header, ...rows.filter((row) => row.length >= header.length)];
  const short = rows.filter((row) => row.length < header.length);
  const widthOf = (col) =>
    Math.max(...full.map((row) => String(row[col] ?? '').length), ...short.map((row) => (col < row.length - 1 ? String(row[col]).length : 0)));
  const widths = header.map((_, col) => widthOf(col));
  const line = (row) =>
    indent +
    row
      .map((cell, col) => {
        const text = String(cell ?? '');
        if (col === row.length - 1) return text; // last column: no trailing padding
        return isNumeric(text) && col > 0 ? text.padStart(widths[col]) : text.padEnd(widths[col]);
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function firstLine(text, max = 90) {
  const line = String(text).split('\n').find((l) => l.trim()) ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
