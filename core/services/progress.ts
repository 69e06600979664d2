import type { ProgressReporter, ProgressTask } from '../contracts/progress.js';

export interface ProgressOptions {
  quiet?: boolean;
  /** Draw an updating bar (TTY) instead of plain lines. Default: whether stderr is a TTY. */
  tty?: boolean;
  /** Minimum seconds between plain lines. */
  intervalSeconds?: number;
  stream?: NodeJS.WritableStream & { columns?: number };
  now?: () => number;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Progress on stderr: a bar with rate and ETA on a TTY, a plain line every few seconds otherwise. */
export class StreamProgress implements ProgressReporter {
  private readonly stream: NodeJS.WritableStream & { columns?: number };
  private readonly tty: boolean;
  private readonly now: () => number;

  constructor(private readonly options: ProgressOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.tty = options.tty ?? Boolean((process.stderr as { isTTY?: boolean }).isTTY);
    this.now = options.now ?? (() => Date.now());
  }

  start(label: string, total: number): ProgressTask {
    if (this.options.quiet) return { tick() {}, done() {} };
    const started = this.now();
    const interval = (this.options.intervalSeconds ?? 5) * 1000;
    let count = 0;
    let lastLine = started;
    let finished = false;
    let status = '';
    const render = (final: boolean): string => {
      const elapsed = (this.now() - started) / 1000;
      const rate = elapsed > 0 ? count / elapsed : 0;
      const eta = rate > 0 ? (total - count) / rate : Infinity;
      const pct = total > 0 ? Math.min(100, (100 * count) / total) : 100;
      const tail = final ? `in ${formatSeconds(elapsed)}` : `${rate.toFixed(1)}/s ETA ${formatSeconds(eta)}`;
      const extra = status ? ` ${status}` : '';
      if (!this.tty) return `${label}: ${count}/${total} (${pct.toFixed(0)}%)${extra} ${tail}`;
      const width = 24;
      const filled = Math.round((pct / 100) * width);
      return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${count}/${total}${extra} ${tail}`;
    };
    return {
      tick: (n = 1, note?: string) => {
        if (finished) return;
        count += n;
        if (note !== undefined) status = note;
        const t = this.now();
        if (this.tty) this.stream.write(`\r${render(false)}\x1b[K`);
        else if (t - lastLine >= interval) { this.stream.write(render(false) + '\n'); lastLine = t; }
      },
      done: () => {
        if (finished) return;
        finished = true;
        this.stream.write((this.tty ? `\r${render(true)}\x1b[K` : render(true)) + '\n');
      },
    };
  }
}
