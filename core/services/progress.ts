import type { ProgressEvent, ProgressMode, ProgressReporter, ProgressStartOptions, ProgressTask } from '../contracts/progress.js';

export interface ProgressOptions extends ProgressMode {
  stream?: NodeJS.WritableStream & { columns?: number };
  now?: () => number;
}

/** Seconds between two redraws of a TTY bar (ticks in between only count). */
const TTY_REDRAW_MS = 100;

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function formatBytes(b: number): string {
  if (b < 1024) return `${b.toFixed(0)} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = b / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * Progress on stderr: a bar with rate and ETA on a TTY, a plain line every few seconds otherwise, JSON lines with
 * `json`, nothing with `quiet` (core/contracts/progress.ts describes the modes and the JSON fields).
 */
export class StreamProgress implements ProgressReporter {
  readonly mode: ProgressMode;
  private readonly stream: NodeJS.WritableStream & { columns?: number };
  private readonly now: () => number;
  private nextId = 1;
  /** The TTY bar on the current line (not yet ended by a newline), to redraw after a line written above it. */
  private bar: (() => string) | null = null;

  constructor(options: ProgressOptions = {}) {
    const { stream, now, ...mode } = options;
    this.stream = stream ?? process.stderr;
    this.now = now ?? (() => Date.now());
    const tty = mode.tty ?? Boolean((this.stream as { isTTY?: boolean }).isTTY);
    this.mode = { ...mode, quiet: mode.quiet ?? false, json: mode.json ?? false, tty };
  }

  /**
   * Write one whole line (e.g. a log message) to the same stream without breaking a TTY bar: the bar is cleared, the
   * line written, and the bar drawn again below it. Without a bar on the line, just the line.
   */
  writeLine(text: string): void {
    if (this.bar) this.stream.write(`\r\x1b[K${text}\n${this.bar()}\x1b[K`);
    else this.stream.write(text + '\n');
  }

  start(label: string, total: number | null, options: ProgressStartOptions = {}): ProgressTask {
    if (this.mode.quiet) return { tick() {}, done() {} };
    const id = `${this.mode.taskPrefix ?? ''}${this.nextId++}`;
    const bytes = options.unit === 'bytes';
    const json = this.mode.json ?? false;
    const tty = !json && (this.mode.tty ?? false);
    const started = this.now();
    const interval = (this.mode.intervalSeconds ?? 5) * 1000;
    let count = 0;
    let lastLine = started;
    let lastDraw = -Infinity;
    let finished = false;
    let status = '';
    const measure = () => {
      const elapsed = (this.now() - started) / 1000;
      const rate = elapsed > 0 ? count / elapsed : 0;
      const eta = total === null || rate <= 0 ? null : Math.max(0, (total - count) / rate);
      return { elapsed, rate, eta };
    };
    const event = (kind: ProgressEvent['event']): string => {
      const { elapsed, rate, eta } = measure();
      const e: ProgressEvent = {
        type: 'progress', task: id, label, event: kind, count, total, ...(bytes ? { unit: 'bytes' as const } : {}),
        rate: round3(rate), eta_s: kind === 'done' ? 0 : eta === null ? null : round3(eta), elapsed_s: round3(elapsed),
        ...(status ? { status } : {}),
      };
      return JSON.stringify(e) + '\n';
    };
    const amount = (x: number) => (bytes ? formatBytes(x) : String(x));
    const speed = (rate: number) => {
      if (bytes) return `${formatBytes(rate)}/s`;
      return rate > 0 && rate < 1 ? `${(1 / rate).toFixed(1)}s each` : `${rate.toFixed(1)}/s`;
    };
    const render = (final: boolean): string => {
      const { elapsed, rate, eta } = measure();
      const counts = total === null ? amount(count) : `${amount(count)}/${amount(total)}`;
      const tail = final ? `in ${formatSeconds(elapsed)}` : `${speed(rate)}${total === null ? '' : ` ETA ${formatSeconds(eta ?? Infinity)}`}`;
      const extra = status ? ` ${status}` : '';
      const pct = total === null ? null : total > 0 ? Math.min(100, (100 * count) / total) : 100;
      if (!tty) return `${label}: ${counts}${pct === null ? '' : ` (${pct.toFixed(0)}%)`}${extra} ${tail}`;
      const width = 24;
      const bar = pct === null ? '' : ` [${'#'.repeat(Math.round((pct / 100) * width))}${'.'.repeat(width - Math.round((pct / 100) * width))}]`;
      return `${label}${bar} ${counts}${extra} ${tail}`;
    };
    if (json) this.stream.write(event('start'));
    return {
      tick: (n = 1, note?: string) => {
        if (finished) return;
        count += n;
        if (note !== undefined) status = note;
        const t = this.now();
        if (tty) {
          if (t - lastDraw >= TTY_REDRAW_MS || count === total) {
            this.stream.write(`\r${render(false)}\x1b[K`);
            this.bar = () => render(false);
            lastDraw = t;
          }
        } else if (t - lastLine >= interval) {
          this.stream.write(json ? event('tick') : render(false) + '\n');
          lastLine = t;
        }
      },
      done: () => {
        if (finished) return;
        finished = true;
        if (json) this.stream.write(event('done'));
        else if (tty) { this.stream.write(`\r${render(true)}\x1b[K\n`); this.bar = null; }
        else this.stream.write(render(true) + '\n');
      },
    };
  }
}
