/**
 * Status logic of the backend and Docker checks on given facts. The backend reasons are made by select.ts itself
 * (nativeImportFailure on the error Node throws for a missing package), so a change of its wording shows here.
 */
import { describe, expect, it } from 'vitest';
import type { BackendAttempt } from '../../../core/contracts/backend.js';
import { nativeImportFailure } from '../../../core/backend/select.js';
import { backendCheck, type BackendFacts } from '../../../core/doctor/backend-check.js';
import type { CudaSearch } from '../../../core/doctor/check.js';
import { baseImageCheck, dockerEndpoint, dockerEngineCheck, dockerGpuCheck, type DockerFacts } from '../../../core/doctor/docker-checks.js';

const missing = (pkg: string) => Object.assign(new Error(`Cannot find package '${pkg}' imported from /x/select.js`), { code: 'ERR_MODULE_NOT_FOUND' });
const GPU_ABSENT = nativeImportFailure('tfjs-node-gpu', missing('@tensorflow/tfjs-node-gpu'));
const NODE_ABSENT = nativeImportFailure('tfjs-node', missing('@tensorflow/tfjs-node'));
const noCuda: CudaSearch = {
  libraries: [{ name: 'libcudart.so.11.0', path: null, via: null }, { name: 'libcudnn.so.8', path: null, via: null }],
  searched: ['LD_LIBRARY_PATH (unset)', 'ldconfig -p'],
  otherVersions: ['libcudart.so.13 (/usr/local/cuda-13.0/lib/libcudart.so.13)'],
};

function facts(attempts: BackendAttempt[], over: Partial<BackendFacts> = {}): BackendFacts {
  const ok = attempts.find((a) => a.ok);
  return {
    selection: ok ? { name: ok.name, attempts } : { error: 'no TensorFlow.js backend could be loaded' },
    installed: { 'tfjs-node-gpu': false, 'tfjs-node': false, wasm: true },
    cuda: noCuda,
    nvidiaGpu: false,
    ...over,
  };
}
const wasmAfterAbsentNatives: BackendAttempt[] = [
  { name: 'tfjs-node-gpu', ok: false, reason: GPU_ABSENT },
  { name: 'tfjs-node', ok: false, reason: NODE_ABSENT },
  { name: 'wasm', ok: true },
];

describe('backendCheck', () => {
  it('wasm after absent native packages, no GPU: pass, and the report says why in so many words', () => {
    const { check, report } = backendCheck(facts(wasmAfterAbsentNatives));
    expect(check.status).toBe('pass');
    expect(check.fix).toBeNull();
    expect(check.summary).toBe('wasm (WebAssembly SIMD, bundled, one core per process); skipped tfjs-node-gpu: not installed, tfjs-node: not installed');
    expect(report.selected).toBe('wasm');
    expect(report.attempts).toEqual([
      { name: 'tfjs-node-gpu', ok: false, installed: false, package: '@tensorflow/tfjs-node-gpu', reason: GPU_ABSENT },
      { name: 'tfjs-node', ok: false, installed: false, package: '@tensorflow/tfjs-node', reason: NODE_ABSENT },
      { name: 'wasm', ok: true, installed: true, package: '@tensorflow/tfjs-backend-wasm', reason: null },
    ]);
    expect(report.why).toMatch(/^auto chose wasm because @tensorflow\/tfjs-node-gpu is not installed \(.*downloads libtensorflow from the internet/);
    expect(check.detail.join('\n')).toContain('libcudart.so.11.0 not found');
    expect(check.detail.join('\n')).toContain('libcudart.so.13');
  });

  it('an NVIDIA GPU left unused is a warning whose fix installs tfjs-node-gpu', () => {
    const { check } = backendCheck(facts(wasmAfterAbsentNatives, { nvidiaGpu: true }));
    expect(check.status).toBe('warn');
    expect(check.summary).toMatch(/NVIDIA GPU is present but unused/);
    expect(check.fix).toMatch(/npm install @tensorflow\/tfjs-node-gpu@4\.22\.0/);
  });

  it('tfjs-node-gpu installed but its CUDA libraries missing: the fix names the missing libraries', () => {
    const reason = nativeImportFailure('tfjs-node-gpu', new Error('libcudart.so.11.0: cannot open shared object file: No such file or directory'));
    expect(reason).toMatch(/^failed to load: /);
    const { check, report } = backendCheck(facts(
      [{ name: 'tfjs-node-gpu', ok: false, reason }, { name: 'tfjs-node', ok: false, reason: NODE_ABSENT }, { name: 'wasm', ok: true }],
      { nvidiaGpu: true, installed: { 'tfjs-node-gpu': true, 'tfjs-node': false, wasm: true } },
    ));
    expect(check.status).toBe('warn');
    expect(check.fix).toContain('missing: libcudart.so.11.0, libcudnn.so.8');
    expect(report.attempts[0]).toMatchObject({ installed: true, ok: false });
    expect(report.why).toContain('tfjs-node-gpu failed: failed to load: libcudart.so.11.0');
  });

  it('cpu is a warning (wasm is ~30x faster); no backend at all is a failure', () => {
    const cpu = backendCheck(facts([
      { name: 'tfjs-node-gpu', ok: false, reason: GPU_ABSENT }, { name: 'tfjs-node', ok: false, reason: NODE_ABSENT },
      { name: 'wasm', ok: false, reason: 'failed to load: boom' }, { name: 'cpu', ok: true },
    ]));
    expect(cpu.check.status).toBe('warn');
    expect(cpu.check.fix).toMatch(/npm ci/);
    expect(cpu.report.attempts.at(-1)).toEqual({ name: 'cpu', ok: true, installed: null, package: null, reason: null });
    const none = backendCheck(facts([]));
    expect(none.check.status).toBe('fail');
    expect(none.check.fix).toMatch(/npm ci/);
    expect(none.report.selected).toBeNull();
  });

  it('tfjs-node-gpu loading is a pass with nothing skipped', () => {
    const { check, report } = backendCheck(facts([{ name: 'tfjs-node-gpu', ok: true }], { nvidiaGpu: true }));
    expect(check.status).toBe('pass');
    expect(check.summary).toBe('tfjs-node-gpu (native TensorFlow on an NVIDIA GPU)');
    expect(report.why).toMatch(/first in the order/);
  });
});

function docker(over: Partial<DockerFacts> = {}): DockerFacts {
  return {
    endpoint: 'unix:///var/run/docker.sock', fromEnv: false, remote: false, reachable: true, serverVersion: '28.2.2',
    rootDir: '/var/lib/docker', storageDriver: 'overlay2', runtimes: ['io.containerd.runc.v2', 'runc'], defaultRuntime: 'runc',
    cdiDevices: [], nvidiaHook: false, baseImage: { name: 'mmsurv-base:bookworm-node20', present: true, sizeBytes: 180e6 }, ...over,
  };
}
const down = (code: string, message: string, over: Partial<DockerFacts> = {}) =>
  docker({ reachable: false, error: { code, message }, serverVersion: undefined, rootDir: undefined, runtimes: [], baseImage: { name: 'mmsurv-base:bookworm-node20', present: null }, ...over });

describe('Docker checks', () => {
  it('finds the engine as the docker CLI does', () => {
    expect(dockerEndpoint({ DOCKER_HOST: 'tcp://build:2375' })).toEqual({ endpoint: 'tcp://build:2375', fromEnv: true, remote: true });
    expect(dockerEndpoint({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' })).toEqual({ endpoint: 'unix:///run/user/1000/docker.sock', fromEnv: true, remote: false });
    expect(dockerEndpoint({}).endpoint).toMatch(/^unix:\/\/.*docker\.sock$/);
  });

  it('a reachable engine passes and names its version and root dir', () => {
    const c = dockerEngineCheck(docker());
    expect(c.status).toBe('pass');
    expect(c.summary).toBe('Docker 28.2.2 at unix:///var/run/docker.sock (overlay2, images in /var/lib/docker)');
  });

  it('no engine is a warning (never a failure) whose fix fits the cause', () => {
    const absent = dockerEngineCheck(down('ENOENT', 'connect ENOENT /var/run/docker.sock'));
    expect(absent.status).toBe('warn');
    expect(absent.fix).toMatch(/apt-get install -y docker\.io/);
    expect(absent.fix).toMatch(/dockerd/);
    const denied = dockerEngineCheck(down('EACCES', 'connect EACCES /var/run/docker.sock'));
    expect(denied.status).toBe('warn');
    expect(denied.fix).toMatch(/usermod -aG docker/);
    const env = dockerEngineCheck(down('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1', { endpoint: 'tcp://127.0.0.1:1', fromEnv: true, remote: true }));
    expect(env.summary).toBe('no Docker engine answers at tcp://127.0.0.1:1');
    expect(env.fix).toMatch(/^DOCKER_HOST is "tcp:\/\/127\.0\.0\.1:1"/);
  });

  it('the GPU runtime: nvidia runtime, CDI device or the hook passes; none warns with the toolkit fix; no engine skips', () => {
    expect(dockerGpuCheck(docker({ runtimes: ['nvidia', 'runc'] })).status).toBe('pass');
    expect(dockerGpuCheck(docker({ cdiDevices: ['nvidia.com/gpu=all'] })).summary).toBe('CDI GPU devices: nvidia.com/gpu=all');
    expect(dockerGpuCheck(docker({ nvidiaHook: true })).status).toBe('pass');
    expect(dockerGpuCheck(docker({ nvidiaHook: true, remote: true })).status).toBe('warn'); // the hook here is not the engine's
    const none = dockerGpuCheck(docker());
    expect(none.status).toBe('warn');
    expect(none.fix).toMatch(/nvidia-container-toolkit/);
    expect(none.fix).toMatch(/nvidia-ctk runtime configure --runtime=docker/);
    const skipped = dockerGpuCheck(down('ENOENT', 'x'));
    expect(skipped).toMatchObject({ status: 'warn', data: { skipped: true } });
    expect(skipped.fix).toBeTruthy();
  });

  it('the offline base image: present passes with its size, missing warns with the script, no engine skips', () => {
    expect(baseImageCheck(docker()).summary).toBe('offline base image mmsurv-base:bookworm-node20 is present, 180 MB');
    const absent = baseImageCheck(docker({ baseImage: { name: 'mmsurv-base:bookworm-node20', present: false } }));
    expect(absent.status).toBe('warn');
    expect(absent.fix).toContain('containers/base-image/make-base-image.sh mmsurv-base:bookworm-node20');
    expect(baseImageCheck(down('ENOENT', 'x'))).toMatchObject({ status: 'warn', data: { skipped: true } });
  });
});
