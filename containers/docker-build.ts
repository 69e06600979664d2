/**
 * Building and saving images through the Docker engine API (dockerode).
 *
 * Build errors arrive INSIDE the progress stream (HTTP 200, no error object): every event is scanned for `error` /
 * `errorDetail`, and the build fails with the last lines of output. The image id comes from the `aux.ID` event.
 * The context is streamed as a tar made by the system `tar` (fast for node_modules' many small files).
 *
 * Progress: the build counts the builder's `Step k/N : INSTRUCTION` lines (one task of N steps, started at the first
 * step, k - 1 steps done while step k runs, N at the end); the save counts the gzip bytes written (total unknown).
 *
 * @example
 * const { id } = await buildImage(docker, 'build/ctx', 'mmsurv-task3:v1', { progress, onLine: (line) => process.stderr.write(line) });
 * const file = await saveImage(docker, 'mmsurv-task3:v1', 'build', { progress });   // build/mmsurv-task3_v1_20261123_101500.tar.gz
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type Docker from 'dockerode';
import type { ProgressReporter, ProgressTask } from '../core/contracts/progress.js';
import { savedImageName } from './dockerfile.js';

export interface BuildEvent {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

/** Scan build events: the image id, the output lines, and the first in-band error (null when none). */
export function scanBuildEvents(events: readonly BuildEvent[]): { id: string | null; error: string | null; lines: string[] } {
  let id: string | null = null;
  let error: string | null = null;
  const lines: string[] = [];
  for (const e of events) {
    if (e.stream) lines.push(...e.stream.split('\n').filter((l) => l.trim() !== ''));
    if (e.status) lines.push(e.status);
    if (e.aux?.ID) id = e.aux.ID;
    if ((e.error || e.errorDetail) && error === null) error = e.errorDetail?.message ?? e.error ?? 'unknown build error';
  }
  return { id, error, lines };
}

/** A `Step k/N : INSTRUCTION` line of the (classic) builder's output, or null for any other line. */
export function parseBuildStep(line: string): { step: number; steps: number; instruction: string } | null {
  const m = /^Step (\d+)\/(\d+)(?: : ?(.*))?$/.exec(line.trim());
  return m ? { step: Number(m[1]), steps: Number(m[2]), instruction: m[3] ?? '' } : null;
}

/**
 * Build events -> one progress task over the build steps. `onEvent` takes every event of the stream; `done(ok)` ends
 * the task (ok: the build succeeded, so all N steps are done). No task is started when the stream names no step.
 */
export function buildStepProgress(progress: ProgressReporter, label: string): { onEvent(e: BuildEvent): void; done(ok: boolean): void } {
  let task: ProgressTask | null = null;
  let steps = 0;
  let count = 0;
  return {
    onEvent(e) {
      for (const line of e.stream?.split('\n') ?? []) {
        const s = parseBuildStep(line);
        if (!s) continue;
        if (!task) { steps = s.steps; task = progress.start(label, steps); }
        const instruction = s.instruction.length > 60 ? `${s.instruction.slice(0, 57)}...` : s.instruction;
        const status = `Step ${s.step}/${s.steps}${instruction ? ` : ${instruction}` : ''}`;
        const finished = Math.max(count, Math.min(steps, s.step - 1));
        task.tick(finished - count, status);
        count = finished;
      }
    },
    done(ok) {
      if (!task) return;
      if (ok && count < steps) task.tick(steps - count);
      count = steps;
      task.done();
    },
  };
}

export interface BuildImageOptions {
  /** Each chunk of the builder's output, as it arrives (e.g. to stderr with --verbose). */
  onLine?: (line: string) => void;
  /** Shows the build steps (Step k/N). */
  progress?: ProgressReporter;
}

export async function buildImage(docker: Docker, contextDir: string, tag: string, options: BuildImageOptions = {}): Promise<{ id: string; lines: string[] }> {
  const { onLine } = options;
  const { execa } = await import('execa');
  const tar = execa('tar', ['-C', contextDir, '-c', '.'], { buffer: false, stdout: 'pipe' });
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.buildImage(tar.stdout as unknown as NodeJS.ReadableStream, { t: tag, rm: true, forcerm: true });
  } catch (err) {
    tar.kill();
    throw new Error(`docker build of ${contextDir} could not start: ${(err as Error).message}`);
  }
  const events: BuildEvent[] = [];
  const steps = options.progress ? buildStepProgress(options.progress, `docker build ${tag}`) : null;
  try {
    await new Promise<void>((res, rej) => {
      docker.modem.followProgress(stream, (err) => (err ? rej(err) : res()), (e: BuildEvent) => {
        events.push(e);
        steps?.onEvent(e);
        if (onLine && e.stream) onLine(e.stream);
      });
    });
  } catch (err) {
    steps?.done(false);
    throw err;
  }
  await tar.catch(() => undefined);
  const { id, error, lines } = scanBuildEvents(events);
  steps?.done(error === null && id !== null);
  if (error) throw new Error(`docker build of ${contextDir} failed: ${error}\n${lines.slice(-15).join('\n')}`);
  if (!id) throw new Error(`docker build of ${contextDir} reported no image id\n${lines.slice(-15).join('\n')}`);
  return { id, lines };
}

/** `docker save TAG | gzip -c > dir/TAG_<created>.tar.gz`, written atomically; returns the file. */
export async function saveImage(docker: Docker, tag: string, dir: string, options: { progress?: ProgressReporter } = {}): Promise<string> {
  const info = await docker.getImage(tag).inspect();
  const file = join(dir, savedImageName(tag, info.Created));
  const tmp = `${file}.tmp-${process.pid}`;
  const task = options.progress?.start(`docker save ${tag} | gzip`, null, { unit: 'bytes' });
  const written = new Transform({ transform(chunk: Buffer, _encoding, callback) { task?.tick(chunk.length); callback(null, chunk); } });
  try {
    const stream = await docker.getImage(tag).get();
    await pipeline(stream, createGzip(), written, createWriteStream(tmp));
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new Error(`docker save ${tag} failed: ${(err as Error).message}`);
  } finally {
    task?.done();
  }
  return file;
}
