/**
 * StreamProgress in its four modes (JSON lines, plain lines, TTY bar, quiet), on a memory stream with an injected
 * clock: what is written, when (throttling), and the JSON fields documented in core/contracts/progress.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../../core/contracts/progress.js';
import { StreamProgress, type ProgressOptions } from '../../../core/services/progress.js';

function harness(options: ProgressOptions = {}) {
  const chunks: string[] = [];
  let t = 1_000_000;
  const stream = { write: (s: string) => { chunks.push(s); return true; } } as unknown as NodeJS.WritableStream;
  const progress = new StreamProgress({ ...options, stream, now: () => t });
  return {
    progress,
    chunks,
    advance(seconds: number) { t += seconds * 1000; },
    text: () => chunks.join(''),
    lines: () => chunks.join('').split('\n').filter((l) => l !== ''),
    events: () => chunks.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as ProgressEvent),
  };
}

const FIELDS = ['type', 'task', 'label', 'event', 'count', 'total', 'rate', 'eta_s', 'elapsed_s'];

describe('StreamProgress --json', () => {
  it('writes one JSON object per line: start, throttled ticks, done, with the documented fields in order', () => {
    const h = harness({ json: true, intervalSeconds: 5 });
    const task = h.progress.start('fold 1/5 epoch 1/30', 40);
    h.advance(1); task.tick(10, 'loss 0.7');   // within 5 s of start: not written
    h.advance(3); task.tick(10, 'loss 0.6');   // 4 s: not written
    h.advance(2); task.tick(10, 'loss 0.5');   // 6 s: written
    h.advance(1); task.tick(5);                // 1 s after the last line: not written
    h.advance(1); task.done();                 // always written
    for (const chunk of h.chunks) expect(chunk.endsWith('\n') && chunk.indexOf('\n') === chunk.length - 1).toBe(true);
    const events = h.events();
    expect(events.map((e) => e.event)).toEqual(['start', 'tick', 'done']);
    expect(Object.keys(events[0]!)).toEqual(FIELDS);
    expect(Object.keys(events[1]!)).toEqual([...FIELDS, 'status']);
    expect(events[0]).toEqual({ type: 'progress', task: '1', label: 'fold 1/5 epoch 1/30', event: 'start', count: 0, total: 40, rate: 0, eta_s: null, elapsed_s: 0 });
    expect(events[1]).toEqual({ type: 'progress', task: '1', label: 'fold 1/5 epoch 1/30', event: 'tick', count: 30, total: 40, rate: 5, eta_s: 2, elapsed_s: 6, status: 'loss 0.5' });
    expect(events[2]).toEqual({ type: 'progress', task: '1', label: 'fold 1/5 epoch 1/30', event: 'done', count: 35, total: 40, rate: 4.375, eta_s: 0, elapsed_s: 8, status: 'loss 0.5' });
  });

  it('writes start and done even when the task ends at once, and nothing after done', () => {
    const h = harness({ json: true });
    const task = h.progress.start('quick', 3);
    task.tick(); task.tick(); task.tick();
    task.done();
    task.tick();
    task.done();
    expect(h.events().map((e) => [e.event, e.count])).toEqual([['start', 0], ['done', 3]]);
  });

  it('gives every task its own id (with the prefix of a worker thread), bytes and unknown totals', () => {
    const h = harness({ json: true, taskPrefix: 'w2.' });
    const a = h.progress.start('a', 2);
    const b = h.progress.start('docker save x | gzip', null, { unit: 'bytes' });
    h.advance(2);
    b.tick(4096);
    b.done();
    a.done();
    const events = h.events();
    expect(events.map((e) => e.task)).toEqual(['w2.1', 'w2.2', 'w2.2', 'w2.1']);
    const save = events.filter((e) => e.task === 'w2.2');
    expect(save[1]).toEqual({ type: 'progress', task: 'w2.2', label: 'docker save x | gzip', event: 'done', count: 4096, total: null, unit: 'bytes', rate: 2048, eta_s: 0, elapsed_s: 2 });
    expect(save[0]!.eta_s).toBeNull();
  });

  it('a tick before any time has passed has no rate and no ETA (null, not Infinity)', () => {
    const h = harness({ json: true, intervalSeconds: 0 });
    const task = h.progress.start('x', 10);
    task.tick(0, 'waiting');
    const tick = h.events()[1]!;
    expect(tick).toMatchObject({ event: 'tick', count: 0, rate: 0, eta_s: null, status: 'waiting' });
  });

  it('--quiet wins: nothing at all, with or without --json', () => {
    for (const options of [{ quiet: true, json: true }, { quiet: true }, { quiet: true, tty: true }]) {
      const h = harness(options);
      const task = h.progress.start('x', 5);
      h.advance(10);
      task.tick(5, 'status');
      task.done();
      expect(h.chunks).toEqual([]);
    }
  });

  it('mode describes the reporter as plain data (what fold workers rebuild it from)', () => {
    expect(harness({ json: true }).progress.mode).toEqual({ quiet: false, json: true, tty: false });
    expect(harness({ quiet: true, tty: true, intervalSeconds: 2 }).progress.mode).toEqual({ quiet: true, json: false, tty: true, intervalSeconds: 2 });
    expect(JSON.parse(JSON.stringify(harness({ json: true }).progress.mode))).toEqual(harness({ json: true }).progress.mode);
  });
});

describe('StreamProgress plain lines (no TTY)', () => {
  it('writes at most one line per interval and always a final line with the elapsed time', () => {
    const h = harness({ tty: false, intervalSeconds: 5 });
    const task = h.progress.start('extracting slides', 4);
    h.advance(2); task.tick(1, 'A up to date');
    h.advance(4); task.tick(1, 'B 812 patches');
    h.advance(1); task.tick(1, 'C 640 patches');
    h.advance(5); task.tick(1, 'D 98 patches');
    task.done();
    expect(h.lines()).toEqual([
      'extracting slides: 2/4 (50%) B 812 patches 3.0s each ETA 6s',
      'extracting slides: 4/4 (100%) D 98 patches 3.0s each ETA 0s',
      'extracting slides: 4/4 (100%) D 98 patches in 12s',
    ]);
    expect(h.text()).not.toMatch(/\r|\x1b/);
  });

  it('a short task writes only its final line; bytes are shown in units', () => {
    const h = harness({ tty: false });
    const task = h.progress.start('docker save x | gzip', null, { unit: 'bytes' });
    h.advance(3);
    task.tick(3 * 1024 * 1024);
    task.done();
    expect(h.lines()).toEqual(['docker save x | gzip: 3.00 MB in 3s']);
  });
});

describe('StreamProgress TTY bar', () => {
  it('redraws one line with \\r, at most every 100 ms, and ends it with the elapsed time', () => {
    const h = harness({ tty: true });
    const task = h.progress.start('fold 1/3 epoch 1/2', 4);
    task.tick(1);            // first tick: drawn
    h.advance(0.05); task.tick(1);   // 50 ms later: only counted
    h.advance(0.1); task.tick(1);    // drawn
    h.advance(0.01); task.tick(1);   // the last one: drawn
    task.done();
    expect(h.chunks).toHaveLength(4);
    expect(h.chunks[0]).toMatch(/^\rfold 1\/3 epoch 1\/2 \[######\.+\] 1\/4 .*\x1b\[K$/);
    expect(h.chunks[1]).toContain('] 3/4 ');
    expect(h.chunks[3]).toMatch(/^\rfold 1\/3 epoch 1\/2 \[#{24}\] 4\/4 in 0s\x1b\[K\n$/);
  });

  it('a log line written through writeLine clears the bar, keeps its own line, and the bar is drawn again below it', () => {
    const h = harness({ tty: true });
    const task = h.progress.start('epoch', 2);
    task.tick(1);
    h.progress.writeLine('warning: something');
    task.done();
    h.progress.writeLine('after');
    expect(h.chunks[1]).toMatch(/^\r\x1b\[Kwarning: something\nepoch \[#{12}\.{12}\] 1\/2 .*\x1b\[K$/);
    expect(h.chunks.at(-1)).toBe('after\n');
    const plain = harness({ tty: false });
    plain.progress.start('x', 2).tick(1);
    plain.progress.writeLine('info');
    expect(plain.text()).toBe('info\n');
  });

  it('--json wins over a TTY: JSON lines, no bar', () => {
    const h = harness({ tty: true, json: true });
    const task = h.progress.start('x', 1);
    task.tick();
    task.done();
    expect(h.text()).not.toMatch(/\r|\x1b/);
    expect(h.events().map((e) => e.event)).toEqual(['start', 'done']);
  });
});
