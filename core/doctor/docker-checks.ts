/**
 * Docker: the engine (needed by `mmsurv package` and `test-container`), its GPU runtime (the gpu target and
 * `test-container --gpus`) and the offline base image (containers/base-image, for machines that cannot pull).
 * The engine is found as the docker CLI finds it: DOCKER_HOST, else ~/.docker/run/docker.sock, else /var/run/docker.sock.
 */
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { homedir } from 'node:os';
import Docker from 'dockerode';
import type { DoctorCheck } from './check.js';

/** The offline CPU base image containers/base-image/make-base-image.sh builds. */
export const BASE_IMAGE = 'mmsurv-base:bookworm-node20';

/** What the Docker checks look at. */
export interface DockerFacts {
  /** Where the engine was looked for, e.g. unix:///var/run/docker.sock or DOCKER_HOST. */
  endpoint: string;
  /** The endpoint came from DOCKER_HOST. */
  fromEnv: boolean;
  /** DOCKER_HOST points at another machine (tcp://, ssh://): its paths are not this machine's. */
  remote: boolean;
  reachable: boolean;
  /** Why it is not reachable: the error's message and code (ENOENT, ECONNREFUSED, EACCES, ...). */
  error?: { message: string; code?: string };
  serverVersion?: string;
  rootDir?: string;
  storageDriver?: string;
  runtimes: string[];
  defaultRuntime?: string;
  /** CDI devices the engine discovered (Docker 28+), e.g. 'nvidia.com/gpu=all'. */
  cdiDevices: string[];
  /** nvidia-container-runtime-hook is on this machine's PATH (a local engine uses it for --gpus). */
  nvidiaHook: boolean;
  baseImage: { name: string; present: boolean | null; sizeBytes?: number; created?: string; error?: string };
}

/** Where dockerode (docker-modem) will connect, as the docker CLI would: DOCKER_HOST, else the default sockets. */
export function dockerEndpoint(env: NodeJS.ProcessEnv = process.env): { endpoint: string; fromEnv: boolean; remote: boolean } {
  const host = env['DOCKER_HOST'];
  if (host) return { endpoint: host, fromEnv: true, remote: !/^(unix|npipe):\/\//.test(host) };
  const user = join(homedir(), '.docker', 'run', 'docker.sock');
  return { endpoint: `unix://${existsSync(user) ? user : '/var/run/docker.sock'}`, fromEnv: false, remote: false };
}

function onPath(bin: string): boolean {
  return (process.env['PATH'] ?? '').split(delimiter).some((d) => d !== '' && existsSync(join(d, bin)));
}

function errorOf(err: unknown): { message: string; code?: string } {
  const e = err as { message?: string; code?: string; statusCode?: number };
  const message = (e?.message ?? String(err)).split('\n')[0]!.trim();
  const code = e?.code ?? (e?.statusCode !== undefined ? `HTTP ${e.statusCode}` : undefined);
  return code === undefined ? { message } : { message, code };
}

/** Ask the engine (each request gives up after `timeoutMs`). Never throws. */
export async function probeDocker(opts: { timeoutMs?: number; baseImage?: string } = {}): Promise<DockerFacts> {
  const { endpoint, fromEnv, remote } = dockerEndpoint();
  const facts: DockerFacts = {
    endpoint, fromEnv, remote, reachable: false, runtimes: [], cdiDevices: [], nvidiaHook: onPath('nvidia-container-runtime-hook'),
    baseImage: { name: opts.baseImage ?? BASE_IMAGE, present: null },
  };
  const timeoutMs = opts.timeoutMs ?? 5000;
  let docker: Docker;
  const started = Date.now();
  try {
    docker = new Docker({ timeout: timeoutMs }); // the other options come from DOCKER_HOST & co.
    await docker.ping();
  } catch (err) {
    facts.error = errorOf(err);
    if (Date.now() - started >= timeoutMs) facts.error.message = `no answer within ${timeoutMs / 1000} s (${facts.error.message})`;
    return facts;
  }
  facts.reachable = true;
  try {
    const info = (await docker.info()) as Record<string, unknown>;
    if (typeof info['ServerVersion'] === 'string') facts.serverVersion = info['ServerVersion'];
    if (typeof info['DockerRootDir'] === 'string') facts.rootDir = info['DockerRootDir'];
    if (typeof info['Driver'] === 'string') facts.storageDriver = info['Driver'];
    if (typeof info['DefaultRuntime'] === 'string') facts.defaultRuntime = info['DefaultRuntime'];
    facts.runtimes = Object.keys((info['Runtimes'] as Record<string, unknown> | undefined) ?? {});
    const devices = (info['DiscoveredDevices'] as { Source?: string; ID?: string }[] | undefined) ?? [];
    facts.cdiDevices = devices.filter((d) => d.Source === 'cdi' && d.ID).map((d) => d.ID!);
  } catch (err) {
    facts.error = errorOf(err);
  }
  try {
    const image = await docker.getImage(facts.baseImage.name).inspect();
    facts.baseImage = { ...facts.baseImage, present: true, sizeBytes: image.Size, created: image.Created };
  } catch (err) {
    const e = errorOf(err);
    facts.baseImage = e.code === 'HTTP 404' ? { ...facts.baseImage, present: false } : { ...facts.baseImage, error: e.message };
  }
  return facts;
}

const INSTALL_ENGINE =
  'install an engine (`apt-get install -y docker.io`) and start it (`systemctl start docker`, or as root ' +
  '`dockerd > /var/log/dockerd.log 2>&1 &`)';
const ONLY_FOR = 'only `mmsurv package` and `mmsurv test-container` need Docker';

const skipped = (id: DoctorCheck['id'], what: string, fix: string): DoctorCheck => ({
  id, status: 'warn', summary: `skipped: no Docker engine, so ${what} cannot be checked`, detail: [], fix, data: { skipped: true },
});

export function dockerEngineCheck(f: DockerFacts): DoctorCheck {
  const data = { endpoint: f.endpoint, reachable: f.reachable, serverVersion: f.serverVersion ?? null, rootDir: f.rootDir ?? null, storageDriver: f.storageDriver ?? null };
  if (!f.reachable) {
    const denied = f.error?.code === 'EACCES';
    return {
      id: 'docker', status: 'warn', data: { ...data, error: f.error ?? null },
      summary: denied ? `the Docker engine at ${f.endpoint} refuses this user` : `no Docker engine answers at ${f.endpoint}`,
      detail: f.error ? [f.error.message] : [],
      fix: denied
        ? 'add this user to the docker group (`sudo usermod -aG docker $USER`, then log in again), or run as root'
        : f.fromEnv
          ? `DOCKER_HOST is ${JSON.stringify(f.endpoint)}: make it name a running engine (unix:///var/run/docker.sock, ` +
            `tcp://HOST:2375, ssh://USER@HOST) or unset it to use the local socket; with no engine at all, ${INSTALL_ENGINE}; ${ONLY_FOR}`
          : `${INSTALL_ENGINE}, or set DOCKER_HOST to a running one; ${ONLY_FOR}`,
    };
  }
  const where = [f.storageDriver, f.rootDir ? `images in ${f.rootDir}` : undefined].filter(Boolean).join(', ');
  return {
    id: 'docker', status: 'pass', data, detail: f.error ? [`docker info failed: ${f.error.message}`] : [],
    summary: `Docker ${f.serverVersion ?? '(version unknown)'} at ${f.endpoint}${where ? ` (${where})` : ''}`, fix: null,
  };
}

export function dockerGpuCheck(f: DockerFacts): DoctorCheck {
  if (!f.reachable) {
    return skipped('docker-gpu', 'its GPU runtime', 'start a Docker engine first (see the docker line); GPU containers then also need nvidia-container-toolkit');
  }
  const nvidiaCdi = f.cdiDevices.filter((d) => d.startsWith('nvidia.com/'));
  const data = { runtimes: f.runtimes, defaultRuntime: f.defaultRuntime ?? null, cdiDevices: f.cdiDevices, nvidiaHook: f.nvidiaHook };
  const detail = [`runtimes: ${f.runtimes.join(', ') || 'none listed'} (default ${f.defaultRuntime ?? '?'}); CDI devices: ${f.cdiDevices.join(', ') || 'none'}`];
  if (f.runtimes.includes('nvidia')) return { id: 'docker-gpu', status: 'pass', data, detail, fix: null, summary: "the 'nvidia' runtime is registered: --gpus works" };
  if (nvidiaCdi.length) return { id: 'docker-gpu', status: 'pass', data, detail, fix: null, summary: `CDI GPU devices: ${nvidiaCdi.join(', ')}` };
  if (f.nvidiaHook && !f.remote) {
    return { id: 'docker-gpu', status: 'pass', data, detail, fix: null, summary: 'nvidia-container-runtime-hook is on PATH: --gpus works through it' };
  }
  return {
    id: 'docker-gpu', status: 'warn', data, detail,
    summary: "Docker sees no GPU (no 'nvidia' runtime, no CDI GPU device): the gpu target and `test-container --gpus` cannot run here",
    fix: 'install nvidia-container-toolkit (NVIDIA driver first), run `sudo nvidia-ctk runtime configure --runtime=docker` and ' +
      'restart dockerd; `docker run --rm --gpus all <a CUDA image> nvidia-smi` then lists the GPU. The cpu target needs no GPU',
  };
}

export function baseImageCheck(f: DockerFacts): DoctorCheck {
  const name = f.baseImage.name;
  const build = `as root, \`bash containers/base-image/make-base-image.sh ${name}\` (debootstrap + this host's node, 2-4 min)`;
  if (!f.reachable) return skipped('base-image', `the offline base image ${name}`, `start a Docker engine first, then ${build}`);
  const data = { image: name, present: f.baseImage.present, sizeBytes: f.baseImage.sizeBytes ?? null, created: f.baseImage.created ?? null };
  if (f.baseImage.present) {
    const size = f.baseImage.sizeBytes !== undefined ? `, ${Math.round(f.baseImage.sizeBytes / 1e6)} MB` : '';
    return { id: 'base-image', status: 'pass', data, detail: [], fix: null, summary: `offline base image ${name} is present${size}` };
  }
  return {
    id: 'base-image', status: 'warn', data,
    summary: f.baseImage.present === false ? `offline base image ${name} is missing` : `could not inspect ${name}: ${f.baseImage.error ?? 'unknown error'}`,
    detail: ['it is what the cpu target builds on where no registry can be reached (and what the container tests use)'],
    fix: `${build}, then \`mmsurv package --target cpu --base-image ${name} ...\`; not needed where node:20-bookworm-slim can be pulled`,
  };
}
