/**
 * What the container tests need: a Docker engine and the offline base image (containers/base-image/make-base-image.sh;
 * `.ci/run` provides both). `engineSkipReason()` is null when both are there, else the reason the tier is skipped.
 */
import Docker from 'dockerode';
import { execa } from 'execa';
import { expect } from 'vitest';

export const BASE_IMAGE = process.env['MMSURV_TEST_BASE_IMAGE'] ?? 'mmsurv-base:bookworm-node20';

export async function engineSkipReason(docker: Docker): Promise<string | null> {
  try {
    await docker.ping();
  } catch {
    return 'no Docker engine answers at /var/run/docker.sock (.ci/run installs and starts one)';
  }
  try {
    await docker.getImage(BASE_IMAGE).inspect();
  } catch {
    return `base image ${BASE_IMAGE} is missing: run containers/base-image/make-base-image.sh (.ci/run does)`;
  }
  return null;
}

/** Whether the dynamic linker finds libopenblas.so.0 (where mmsurv's native sgemm runs) in `image`. */
export async function imageHasOpenBlas(docker: Docker, image: string): Promise<boolean> {
  const container = await docker.createContainer({
    Image: image, Cmd: ['/bin/sh', '-c', 'ldconfig -p | grep -q libopenblas.so.0'], NetworkDisabled: true, HostConfig: { AutoRemove: false },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    return StatusCode === 0;
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/** Whether this host's dynamic linker finds libopenblas.so.0. */
export async function hostHasOpenBlas(): Promise<boolean> {
  const r = await execa('/bin/sh', ['-c', 'ldconfig -p 2>/dev/null | grep -q libopenblas.so.0 || /sbin/ldconfig -p | grep -q libopenblas.so.0'], { reject: false });
  return r.exitCode === 0;
}

export interface HostRunMatching {
  /** Environment changes for the host `mmsurv` run (undefined: removed). */
  env: Record<string, string | undefined>;
  /** Whether the host run can use the image's kernel, so the outputs agree to 1e-9. */
  exact: boolean;
}

/**
 * How the host run that a container's outputs are compared with must be made: `env` gives it the image's matmul
 * kernel (the wasm one when the image has no OpenBLAS; else OpenBLAS with the image's environment), so the two
 * compute the same float32 sums and agree to 1e-9.
 * Only a host without OpenBLAS against an image with it cannot match the kernel: `exact` is false then (outputs
 * agree to float32 rounding, ~1e-6 relative).
 */
export async function hostRunMatching(docker: Docker, image: string): Promise<HostRunMatching> {
  const [inImage, onHost] = [await imageHasOpenBlas(docker, image), await hostHasOpenBlas()];
  if (!inImage) return { env: { MMSURV_NATIVE_MATMUL: '0' }, exact: true };
  // The image's environment has no OPENBLAS_* settings: the host run drops its own (e.g. OPENBLAS_CORETYPE=Haswell,
  // which this CI machine sets, while the image's OpenBLAS picks its kernels from the CPU: other kernels, other sums).
  const env: Record<string, string | undefined> = {};
  for (const k of Object.keys(process.env)) if (k.startsWith('OPENBLAS_') || k.startsWith('GOTO')) env[k] = undefined;
  return { env, exact: onHost };
}

/** `actual` (a container's output) equals the host's `expected`: to 9 decimals when the kernels match, else to 1e-5 relative. */
export function expectSameAsHost(actual: number, expected: number, exact: boolean, what: string): void {
  if (exact) expect(actual, what).toBeCloseTo(expected, 9);
  else expect(Math.abs(actual - expected) / Math.max(1, Math.abs(expected)), what).toBeLessThan(1e-5);
}
