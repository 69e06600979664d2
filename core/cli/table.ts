/** Render rows as a plain aligned text table (no colours: it must read the same in a log file). */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[], maxWidth = 120): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  // The last column wraps within the remaining width.
  const fixed = widths.slice(0, -1).reduce((a, b) => a + b + 2, 0);
  const last = Math.max(20, maxWidth - fixed);
  widths[widths.length - 1] = Math.min(widths[widths.length - 1]!, last);
  const line = (cells: readonly string[]): string[] => {
    const lastCell = cells[cells.length - 1] ?? '';
    const wrapped = wrap(lastCell, widths[widths.length - 1]!);
    return wrapped.map((piece, k) =>
      [...cells.slice(0, -1).map((c, i) => (k === 0 ? c : '').padEnd(widths[i]!)), piece].join('  ').trimEnd(),
    );
  };
  const out = [...line(header), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of rows) out.push(...line(r));
  return out.join('\n');
}

function wrap(text: string, width: number): string[] {
  if (text.length <= width) return [text];
  const words = text.split(' ');
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    if (cur && (cur + ' ' + w).length > width) { lines.push(cur); cur = w; } else cur = cur ? cur + ' ' + w : w;
  }
  if (cur) lines.push(cur);
  return lines;
}
