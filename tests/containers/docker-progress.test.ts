/**
 * Progress of the container work, without a Docker engine: the build steps counted from recorded build streams
 * (tests/fixtures/docker, see its README), the image save counted in gzip bytes, and test-container ticking once per
 * case, each through a stand-in for the dockerode calls the code makes.
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, buildStepProgress, parseBuildStep, saveImage, type BuildEvent } from '../../containers/docker-build.js';
import { testContainer } from '../../containers/test-container.js';
import type { ChallengeAdapter } from '../../core/contracts/challenge-adapter.js';
import type { ProgressEvent, ProgressReporter } from '../../core/contracts/progress.js';
import { StreamProgress } from '../../core/services/progress.js';
import { projectRoot } from '../support/cli.js';

const events = async (name: string): Promise<BuildEvent[]> =>
  (await readFile(join(projectRoot, 'tests', 'fixtures', 'docker', name), 'utf8')).split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as BuildEvent);

/** A reporter that keeps every call: 'start LABEL TOTAL', 'tick N STATUS', 'done'. */
function recorder(): ProgressReporter & { calls: string[]; counts: () => number[] } {
  const calls: string[] = [];
  let count = 0;
  const counts: number[] = [];
  return {
    calls,
    counts: () => counts,
    start(label, total) {
      calls.push(`start ${label} ${total}`);
      return {
        tick: (n = 1, status) => { count += n; counts.push(count); calls.push(`tick ${n}${status ? ` ${status}` : ''}`); },
        done: () => calls.push('done'),
      };
    },
  };
}

/** JSON-lines progress into memory, every tick written. */
function jsonProgress() {
  const chunks: string[] = [];
  const stream = { write: (s: string) => { chunks.push(s); return true; } } as unknown as NodeJS.WritableStream;
  return {
    progress: new StreamProgress({ json: true, intervalSeconds: 0, stream }),
    events: () => chunks.join('').split('\n').filter((l) => l).map((l) => JSON.parse(l) as ProgressEvent),
  };
}

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'mmsurv-docker-progress-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('docker build steps as progress', () => {
  it('parses Step k/N lines only', () => {
    expect(parseBuildStep('Step 2/5 : RUN apt update && apt install -y curl')).toEqual({ step: 2, steps: 5, instruction: 'RUN apt update && apt install -y curl' });
    expect(parseBuildStep('Step 10/12 : COPY app/ /opt/app/\n')).toEqual({ step: 10, steps: 12, instruction: 'COPY app/ /opt/app/' });
    expect(parseBuildStep('Step 1/2')).toEqual({ step: 1, steps: 2, instruction: '' });
    for (const other of [' ---> Using cache', 'Removing intermediate container 3de7e4521d69', 'Successfully built 24125bbc6cbe', 'echo Step 1/2 : x']) {
      expect(parseBuildStep(other), other).toBeNull();
    }
  });

  it('counts the steps of a recorded successful build: k - 1 done while step k runs, N at the end (instructions cut at 60 characters)', async () => {
    const r = recorder();
    const steps = buildStepProgress(r, 'docker build web:1');
    for (const e of await events('build-events.jsonl')) steps.onEvent(e);
    steps.done(true);
    expect(r.calls).toEqual([
      'start docker build web:1 5',
      'tick 0 Step 1/5 : FROM nginx:1.13.0',
      'tick 1 Step 2/5 : RUN apt update && apt install -y curl && rm -rf /var/lib/...',
      'tick 1 Step 3/5 : COPY index.html /usr/share/nginx/html',
      'tick 1 Step 4/5 : COPY health-check.sh /tools/',
      'tick 1 Step 5/5 : HEALTHCHECK --interval=2s --retries=1 CMD /tools/health-c...',
      'tick 1',
      'done',
    ]);
    expect(r.counts()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('a failed build ends its task at the steps that finished', async () => {
    const r = recorder();
    const steps = buildStepProgress(r, 'b');
    for (const e of await events('build-events-failed.jsonl')) steps.onEvent(e);
    steps.done(false);
    expect(r.calls[0]).toBe('start b 6');
    expect(r.calls.at(-1)).toBe('done');
    expect(r.counts().at(-1)).toBe(1);
  });

  it('shortens long instructions, and starts no task when the stream names no step', () => {
    const r = recorder();
    const steps = buildStepProgress(r, 'b');
    steps.onEvent({ status: 'Pulling from library/node' });
    steps.done(true);
    expect(r.calls).toEqual([]);
    steps.onEvent({ stream: `Step 1/1 : RUN ${'x'.repeat(100)}\n` });
    expect(r.calls[1]).toMatch(/^tick 0 Step 1\/1 : RUN x{53}\.\.\.$/);
  });

  it('buildImage reports the steps of the stream the engine sends (JSON lines) and returns the image id', async () => {
    const ctx = join(dir, 'ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\n');
    const recorded = await events('build-events.jsonl');
    const docker = {
      async buildImage(tar: NodeJS.ReadableStream) { tar.resume(); return new PassThrough(); },
      modem: {
        followProgress(_stream: unknown, finished: (err: Error | null) => void, onEvent: (e: BuildEvent) => void) {
          setImmediate(() => { for (const e of recorded) onEvent(e); finished(null); });
        },
      },
    } as unknown as Docker;
    const p = jsonProgress();
    const lines: string[] = [];
    const built = await buildImage(docker, ctx, 'web:1', { progress: p.progress, onLine: (l) => lines.push(l) });
    expect(built.id).toBe('sha256:24125bbc6cbe08f530e97c81ee461357fa3ba56f4d7693d7895ec86671cf3540');
    expect(lines.join('')).toContain('Successfully built 24125bbc6cbe');
    const ev = p.events();
    expect(ev.every((e) => e.type === 'progress' && e.task === '1' && e.label === 'docker build web:1' && e.total === 5)).toBe(true);
    expect(ev.map((e) => [e.event, e.count])).toEqual([['start', 0], ['tick', 0], ['tick', 1], ['tick', 2], ['tick', 3], ['tick', 4], ['tick', 5], ['done', 5]]);
    expect(ev[3]!.status).toBe('Step 3/5 : COPY index.html /usr/share/nginx/html');
  });
});

describe('docker save progress', () => {
  it('counts the gzip bytes written, ending at the size of the file', async () => {
    const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(64 * 1024, i));
    const docker = {
      getImage: () => ({
        inspect: async () => ({ Created: '2026-11-23T10:15:00.123Z' }),
        get: async () => Readable.from(chunks),
      }),
    } as unknown as Docker;
    const p = jsonProgress();
    const file = await saveImage(docker, 'team/web:1', dir, { progress: p.progress });
    expect(file).toBe(join(dir, 'team_web_1_20261123_101500.tar.gz'));
    expect(gunzipSync(await readFile(file)).equals(Buffer.concat(chunks))).toBe(true);
    const ev = p.events();
    expect(ev[0]).toMatchObject({ event: 'start', label: 'docker save team/web:1 | gzip', count: 0, total: null, unit: 'bytes' });
    expect(ev.at(-1)).toMatchObject({ event: 'done', count: (await stat(file)).size, total: null, unit: 'bytes' });
    const counts = ev.map((e) => e.count);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
  });
});

describe('test-container progress', () => {
  it('ticks once per case with its id, FAILED for a failed job, and its seconds', async () => {
    const cases = join(dir, 'cases');
    for (const id of ['case-a', 'case-b', 'case-c']) {
      await mkdir(join(cases, id), { recursive: true });
      await writeFile(join(cases, id, 'inputs.json'), '[]');
    }
    const volume = join(dir, 'volume');
    await mkdir(volume, { recursive: true });
    const docker = {
      createVolume: async () => ({}),
      getVolume: () => ({ inspect: async () => ({ Mountpoint: volume }), remove: async () => undefined }),
      createContainer: async (o: { HostConfig: { Binds: string[] } }) => {
        const output = o.HostConfig.Binds.find((b) => b.endsWith(':/output'))!.slice(0, -':/output'.length);
        const input = o.HostConfig.Binds.find((b) => b.endsWith(':/input:ro'))!;
        const fails = input.includes('case-b');
        return {
          start: async () => { if (!fails) await writeFile(join(output, 'time.json'), '12.5'); },
          stats: async () => new PassThrough(),
          wait: async () => ({ StatusCode: fails ? 1 : 0 }),
          logs: async () => Buffer.alloc(0),
          kill: async () => undefined,
          remove: async () => undefined,
        };
      },
    } as unknown as Docker;
    const adapter = { id: 'fake', output: 'time', sockets: [{ slug: 'time', relativePath: 'time.json', kind: 'json', direction: 'output' }] } as unknown as ChallengeAdapter;
    const r = recorder();
    const report = await testContainer(docker, { adapter, image: 'web:1', casesDir: cases, progress: r });
    expect(report.failed).toBe(1);
    expect(r.calls[0]).toBe('start test-container web:1 3');
    expect(r.calls.slice(1, 4)).toEqual([
      expect.stringMatching(/^tick 1 case-a \d+\.\ds$/),
      expect.stringMatching(/^tick 1 case-b FAILED \d+\.\ds$/),
      expect.stringMatching(/^tick 1 case-c \d+\.\ds$/),
    ]);
    expect(r.calls.slice(4)).toEqual(['done']);
  });
});
