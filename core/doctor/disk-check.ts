/**
 * Free disk space where images are built: Docker's root dir when a local engine answers, else the working directory
 * (a CUDA image is ~10 GB, and building one needs about as much again for its layers).
 */
import { existsSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import type { DoctorCheck } from './check.js';
import type { DockerFacts } from './docker-checks.js';

const GiB = 1024 ** 3;
/** Below this a GPU image will not fit: warn. */
export const DISK_WARN_BYTES = 20 * GiB;
/** Below this even a CPU image or a run's checkpoints may not fit: fail. */
export const DISK_FAIL_BYTES = 2 * GiB;

export interface DiskFacts {
  path: string;
  /** 'docker-root': Docker's DockerRootDir; 'cwd': the working directory (no local engine, or its dir unreadable). */
  source: 'docker-root' | 'cwd';
  /** Bytes this user may still write (statfs bavail * bsize). */
  freeBytes: number;
  totalBytes: number;
  /** Why the working directory was measured instead of Docker's root dir, when it was. */
  note?: string;
}

const gib = (bytes: number): string => `${(bytes / GiB).toFixed(1)} GiB`;

/** Measure the filesystem of Docker's root dir (when `docker` is a reachable local engine) or of `cwd`. */
export async function probeDisk(docker: DockerFacts | null, cwd: string = process.cwd()): Promise<DiskFacts> {
  let note: string | undefined;
  if (docker?.reachable && docker.rootDir) {
    if (docker.remote) note = `the engine at ${docker.endpoint} is remote: its ${docker.rootDir} is not on this machine`;
    else if (!existsSync(docker.rootDir)) note = `Docker's root dir ${docker.rootDir} is not visible from here (engine in a VM?)`;
    else {
      try {
        const s = await statfs(docker.rootDir);
        return { path: docker.rootDir, source: 'docker-root', freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
      } catch (err) {
        note = `cannot measure ${docker.rootDir}: ${(err as Error).message}`;
      }
    }
  } else {
    note = 'no Docker engine answers, so the working directory was measured';
  }
  const s = await statfs(cwd);
  return { path: cwd, source: 'cwd', freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize, ...(note ? { note } : {}) };
}

export function diskCheck(f: DiskFacts): DoctorCheck {
  const data = { path: f.path, source: f.source, freeBytes: f.freeBytes, totalBytes: f.totalBytes, warnBelowBytes: DISK_WARN_BYTES, failBelowBytes: DISK_FAIL_BYTES };
  const where = f.source === 'docker-root' ? `Docker's root dir ${f.path}` : f.path;
  const summary = `${gib(f.freeBytes)} free of ${gib(f.totalBytes)} at ${where}`;
  const detail = f.note ? [f.note] : [];
  const free = `free space on that filesystem (\`docker system prune\` removes unused images and build cache${f.source === 'cwd' ? '; or work on a larger disk' : ''})`;
  if (f.freeBytes < DISK_FAIL_BYTES) {
    return { id: 'disk', status: 'fail', data, detail, summary: `${summary}: under ${gib(DISK_FAIL_BYTES)}, images and runs will not fit`, fix: free };
  }
  if (f.freeBytes < DISK_WARN_BYTES) {
    return { id: 'disk', status: 'warn', data, detail, summary: `${summary}: under ${gib(DISK_WARN_BYTES)}, a CUDA image (~10 GB) may not fit`, fix: free };
  }
  return { id: 'disk', status: 'pass', data, detail, summary, fix: null };
}
