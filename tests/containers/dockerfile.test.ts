import { describe, expect, it } from 'vitest';
import { DEFAULT_BASE_IMAGE, dockerfile, savedImageName, scripts } from '../../containers/dockerfile.js';
import { scanBuildEvents } from '../../containers/docker-build.js';
import { demuxLogs, parseMemory } from '../../containers/platform-run.js';
import { checkOutputValue } from '../../containers/test-container.js';

const lines = (text: string) => text.split('\n');

describe('GPU Dockerfile', () => {
  const text = dockerfile('gpu');
  it('builds on CUDA 11.2 + cuDNN 8 for linux/amd64 and installs tfjs-node-gpu at build time', () => {
    expect(DEFAULT_BASE_IMAGE.gpu).toMatch(/^nvidia\/cuda:11\.2\.\d+-cudnn8-runtime-/);
    expect(lines(text)).toContain(`FROM --platform=linux/amd64 ${DEFAULT_BASE_IMAGE.gpu}`);
    expect(text).toMatch(/COPY --from=node \/usr\/local\/bin\/node \/usr\/local\/bin\/node/);
    expect(text).toMatch(/RUN npm ci --omit=dev/); // installs the optional @tensorflow/tfjs-node-gpu (needs network then)
    expect(text).toMatch(/require\('@tensorflow\/tfjs-node-gpu'\)/);
  });

  it('runs as a non-root user with the mmsurv entrypoint, model under /opt/app/model', () => {
    const l = lines(text);
    const user = l.indexOf('USER user');
    expect(l.some((x) => /groupadd -r user && useradd -m --no-log-init -r -g user user/.test(x))).toBe(true);
    expect(user).toBeGreaterThan(0);
    expect(l.slice(user + 1).some((x) => x.startsWith('RUN '))).toBe(false); // nothing runs as root after USER
    expect(l).toContain('COPY model/ /opt/app/model/');
    expect(l).toContain('WORKDIR /opt/app');
    expect(l[l.length - 2]).toBe('ENTRYPOINT ["node", "/opt/app/dist/core/cli/bin.js", "infer", "--input", "/input", "--output", "/output"]');
  });

  it('leaves nothing under /tmp: every RUN that may write there cleans it, nothing is copied there', () => {
    const l = lines(text);
    expect(l.filter((x) => /^(COPY|ADD) .* \/tmp/.test(x))).toEqual([]);
    for (const x of l.filter((y) => /npm ci|--help/.test(y))) expect(x).toMatch(/rm -rf \/tmp\/\*/);
  });
});

describe('CPU Dockerfile', () => {
  it('takes the base image given and needs no network at build time', () => {
    const text = dockerfile('cpu', 'mmsurv-base:bookworm-node20');
    expect(lines(text)[1]).toBe('FROM --platform=linux/amd64 mmsurv-base:bookworm-node20');
    expect(lines(text).filter((l) => l.startsWith('RUN ')).join('\n')).not.toMatch(/npm|curl|apt-get|wget/);
    expect(text).toMatch(/USER user/);
    expect(text).not.toMatch(/\/tmp/);
  });
});

describe('scripts and names', () => {
  it('do_test_run.sh runs as the platform does', () => {
    const s = scripts('team/task3:v1', 'gpu');
    expect(s['do_test_run.sh']).toMatch(/--network none --gpus all --read-only/);
    expect(s['do_test_run.sh']).toMatch(/"\$INPUT_DIR":\/input:ro/);
    expect(s['do_test_run.sh']).toMatch(/"\$VOLUME":\/tmp/);
    expect(scripts('t', 'cpu')['do_test_run.sh']).not.toMatch(/--gpus/);
    expect(s['do_save.sh']).toMatch(/docker save "\$DOCKER_IMAGE_TAG" \| gzip -c > "\$OUT"/);
  });

  it('saved image name: TAG_<created>.tar.gz with : and / made safe', () => {
    expect(savedImageName('team/task3:v1', '2026-11-23T10:15:00.123456789Z')).toBe('team_task3_v1_20261123_101500.tar.gz');
  });
});

describe('docker plumbing', () => {
  it('finds in-band build errors and the image id', () => {
    expect(scanBuildEvents([{ stream: 'Step 1/2\n' }, { aux: { ID: 'sha256:abc' } }])).toEqual({ id: 'sha256:abc', error: null, lines: ['Step 1/2'] });
    const bad = scanBuildEvents([{ stream: 'Step 3/9 : RUN false\n' }, { errorDetail: { message: "The command '/bin/sh -c false' returned a non-zero code: 1" }, error: 'x' }]);
    expect(bad.error).toMatch(/returned a non-zero code: 1/);
  });

  it('demultiplexes docker logs and parses memory sizes', () => {
    const frame = (type: number, text: string) => {
      const body = Buffer.from(text);
      const h = Buffer.alloc(8);
      h[0] = type;
      h.writeUInt32BE(body.length, 4);
      return Buffer.concat([h, body]);
    };
    expect(demuxLogs(Buffer.concat([frame(1, 'out1\n'), frame(2, 'warning: x\n'), frame(1, 'out2\n')]))).toEqual({ stdout: 'out1\nout2\n', stderr: 'warning: x\n' });
    expect(parseMemory('16g')).toBe(16 * 2 ** 30);
    expect(parseMemory('512m')).toBe(512 * 2 ** 20);
    expect(() => parseMemory('lots')).toThrow(/expected a size like 16g/);
  });

  it('an output must be a bare finite JSON number (a probability in [0, 1])', () => {
    expect(checkOutputValue('41.5\n', 'time', 'f')).toBe(41.5);
    expect(() => checkOutputValue('"41.5"', 'time', 'c1/out.json')).toThrow(/c1\/out\.json: expected a bare JSON number, found "41\.5"/);
    expect(() => checkOutputValue('{"value": 1}', 'time', 'f')).toThrow(/bare JSON number/);
    expect(() => checkOutputValue('NaN', 'time', 'f')).toThrow(/bare JSON number/);
    expect(() => checkOutputValue('1.2', 'probability', 'f')).toThrow(/probability in \[0, 1\]/);
  });
});
