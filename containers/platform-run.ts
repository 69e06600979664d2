/**
 * One case run as grand-challenge runs a job (REFERENCE.md A): `--network none`, /input read-only, /output
 * writable, a fresh empty named volume on /tmp, the model tarball folder on /opt/ml/model read-only when given, and,
 * stricter than the platform, a read-only root filesystem, so an image that writes outside /output and /tmp fails
 * here before it fails there. Measures wall time and peak memory (cgroup max usage from the stats stream) and
 * reports what the job left in /tmp.
 *
 * @example
 * const r = await runPlatformCase(docker, { image: 'mmsurv-task3:v1', inputDir: 'cases/c1/input', outputDir: 'out/c1' });
 * // { exitCode: 0, seconds: 7.9, peakMb: 412, stdout, stderr, tmpLeftovers: [] }
 */
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type Docker from 'dockerode';

export interface PlatformRunOptions {
  image: string;
  inputDir: string;
  outputDir: string;
  modelDir?: string;
  gpus?: boolean;
  /** e.g. '16g', '512m'; default 16g (the platform's g4dn.xlarge has 16 GiB). */
  memory?: string;
  timeoutSeconds?: number;
}

export interface PlatformRunResult {
  exitCode: number;
  seconds: number;
  peakMb: number | null;
  stdout: string;
  stderr: string;
  /** Entries the job left in its /tmp volume (the platform discards them; listing them shows stray writes). */
  tmpLeftovers: string[] | null;
  timedOut: boolean;
}

export function parseMemory(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)b?$/i.exec(text.trim());
  if (!m) throw new Error(`--memory: expected a size like 16g or 512m, found ${JSON.stringify(text)}`);
  const scale = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.round(Number(m[1]) * scale);
}

/** Split Docker's multiplexed log buffer (8-byte frame headers) into stdout and stderr. */
export function demuxLogs(buf: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const type = buf[i]!;
    const size = buf.readUInt32BE(i + 4);
    const chunk = buf.subarray(i + 8, i + 8 + size);
    (type === 2 ? err : out).push(chunk);
    i += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

export async function runPlatformCase(docker: Docker, o: PlatformRunOptions): Promise<PlatformRunResult> {
  const volumeName = `mmsurv-tmp-${randomBytes(6).toString('hex')}`;
  await docker.createVolume({ Name: volumeName });
  const binds = [`${resolve(o.inputDir)}:/input:ro`, `${resolve(o.outputDir)}:/output`];
  if (o.modelDir) binds.push(`${resolve(o.modelDir)}:/opt/ml/model:ro`);
  const container = await docker.createContainer({
    Image: o.image,
    NetworkDisabled: true,
    HostConfig: {
      NetworkMode: 'none',
      ReadonlyRootfs: true,
      Binds: binds,
      Mounts: [{ Type: 'volume', Source: volumeName, Target: '/tmp' }],
      Memory: parseMemory(o.memory ?? '16g'),
      ...(o.gpus ? { DeviceRequests: [{ Driver: '', Count: -1, Capabilities: [['gpu']] }] } : {}),
    },
  });
  let peak = 0;
  let timedOut = false;
  const started = Date.now();
  try {
    await container.start();
    const stats = (await container.stats({ stream: true })) as unknown as NodeJS.ReadableStream & { destroy?: () => void };
    let pending = '';
    stats.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        try {
          const s = JSON.parse(line) as { memory_stats?: { max_usage?: number; usage?: number } };
          peak = Math.max(peak, s.memory_stats?.max_usage ?? 0, s.memory_stats?.usage ?? 0);
        } catch { /* partial line */ }
      }
    });
    stats.on('error', () => undefined);
    const timer = o.timeoutSeconds
      ? setTimeout(() => { timedOut = true; container.kill().catch(() => undefined); }, o.timeoutSeconds * 1000)
      : null;
    const waited = (await container.wait()) as { StatusCode: number };
    if (timer) clearTimeout(timer);
    const seconds = (Date.now() - started) / 1000;
    stats.destroy?.();
    const logs = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    const { stdout, stderr } = demuxLogs(Buffer.isBuffer(logs) ? logs : Buffer.from(String(logs)));
    const tmpLeftovers = await volumeEntries(docker, volumeName);
    return { exitCode: waited.StatusCode, seconds, peakMb: peak > 0 ? peak / 2 ** 20 : null, stdout, stderr, tmpLeftovers, timedOut };
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
    await docker.getVolume(volumeName).remove().catch(() => undefined);
  }
}

/** Entries of a named volume, read from its mountpoint on the host (null when the host path is not readable). */
async function volumeEntries(docker: Docker, name: string): Promise<string[] | null> {
  try {
    const info = (await docker.getVolume(name).inspect()) as { Mountpoint: string };
    return await readdir(info.Mountpoint);
  } catch {
    return null;
  }
}
