/**
 * What the container tests need: a Docker engine and the offline base image (containers/base-image/make-base-image.sh;
 * `.ci/run` provides both). `engineSkipReason()` is null when both are there, else the reason the tier is skipped.
 */
import Docker from 'dockerode';

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
