/**
 * Building and saving images through the Docker engine API (dockerode).
 *
 * Build errors arrive INSIDE the progress stream (HTTP 200, no error object): every event is scanned for `error` /
 * `errorDetail`, and the build fails with the last lines of output. The image id comes from the `aux.ID` event.
 * The context is streamed as a tar made by the system `tar` (fast for node_modules' many small files).
 *
 * @example
 * const { id } = await buildImage(docker, 'build/ctx', 'mmsurv-task3:v1', (line) => process.stderr.write(line));
 * const file = await saveImage(docker, 'mmsurv-task3:v1', 'build');   // build/mmsurv-task3_v1_20261123_101500.tar.gz
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type Docker from 'dockerode';
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

export async function buildImage(docker: Docker, contextDir: string, tag: string, onLine?: (line: string) => void): Promise<{ id: string; lines: string[] }> {
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
  await new Promise<void>((res, rej) => {
    docker.modem.followProgress(stream, (err) => (err ? rej(err) : res()), (e: BuildEvent) => {
      events.push(e);
      if (onLine && e.stream) onLine(e.stream);
    });
  });
  await tar.catch(() => undefined);
  const { id, error, lines } = scanBuildEvents(events);
  if (error) throw new Error(`docker build of ${contextDir} failed: ${error}\n${lines.slice(-15).join('\n')}`);
  if (!id) throw new Error(`docker build of ${contextDir} reported no image id\n${lines.slice(-15).join('\n')}`);
  return { id, lines };
}

/** `docker save TAG | gzip -c > dir/TAG_<created>.tar.gz`, written atomically; returns the file. */
export async function saveImage(docker: Docker, tag: string, dir: string): Promise<string> {
  const info = await docker.getImage(tag).inspect();
  const file = join(dir, savedImageName(tag, info.Created));
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    const stream = await docker.getImage(tag).get();
    await pipeline(stream, createGzip(), createWriteStream(tmp));
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new Error(`docker save ${tag} failed: ${(err as Error).message}`);
  }
  return file;
}
