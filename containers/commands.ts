/**
 * CLI commands for submissions: `mmsurv package` (build context, docker build, save) and `mmsurv test-container`
 * (platform-like runs). Listed under "commands" in registry.json; heavy modules load inside the handlers.
 */
import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { createCliContext, type GlobalArgs } from '../core/cli/context.js';
import { buildContext, createRunContainer } from '../core/di/container.js';
import type { DependencyContainer } from 'tsyringe';
import type { ChallengeAdapter } from '../core/contracts/challenge-adapter.js';
import type { Registries } from '../core/registry/registry.js';

interface PackageArgs extends GlobalArgs {
  run: string;
  challenge: string;
  target: 'cpu' | 'gpu';
  'base-image'?: string;
  tag: string;
  out?: string;
  extractor?: string;
  build: boolean;
  save: boolean;
  overwrite?: boolean;
  'bundle-llm'?: boolean;
}

interface TestArgs extends GlobalArgs {
  challenge: string;
  image: string;
  cases: string;
  gpus?: boolean;
  memory: string;
  model?: string;
  timeout?: number;
  json?: boolean;
  'keep-outputs'?: string;
}

/** The registered adapter of a challenge id (unknown ids get a did-you-mean error). */
function challengeAdapter(ctx: { registries: Registries; container: DependencyContainer }, id: string): ChallengeAdapter {
  return ctx.registries.challenge.build({ type: id }, buildContext(createRunContainer(ctx.container, { seed: 0 }), `challenge.${id}`)) as ChallengeAdapter;
}

async function docker() {
  const { default: Docker } = await import('dockerode');
  const d = new Docker();
  try {
    await d.ping();
  } catch (err) {
    throw new Error(`no Docker engine answers at /var/run/docker.sock (${(err as Error).message}); start dockerd (or Docker Desktop) first`);
  }
  return d;
}

export const packageCommand: CommandModule<GlobalArgs, PackageArgs> = {
  command: 'package',
  describe: 'Package a trained run as a grand-challenge submission: build context, Docker image, and optionally the saved .tar.gz',
  builder: (y) =>
    y
      .option('run', { type: 'string', demandOption: true, describe: 'Run directory written by `mmsurv train`' })
      .option('challenge', { type: 'string', demandOption: true, describe: 'Challenge adapter id, e.g. chimera-task3 (`mmsurv plugins --kind challenge` lists them)' })
      .option('target', { choices: ['cpu', 'gpu'] as const, default: 'gpu' as const, describe: 'gpu: CUDA 11.2 + cuDNN 8 with tfjs-node-gpu (built with network); cpu: Node 20 + wasm (builds offline)' })
      .option('base-image', { type: 'string', describe: 'Base image (default: nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04 for gpu, node:20-bookworm-slim for cpu)' })
      .option('tag', { type: 'string', demandOption: true, describe: 'Image tag, e.g. mmsurv-task3:v1' })
      .option('out', { type: 'string', describe: 'Build context folder (default: <run>/package/<challenge>-<target>)' })
      .option('extractor', { type: 'string', describe: "Slide extractor spec (default: the one the run's training features record)" })
      .option('build', { type: 'boolean', default: true, describe: 'Build the image (--no-build writes the context only)' })
      .option('save', { type: 'boolean', default: false, describe: 'Also write TAG_<created>.tar.gz (docker save | gzip) next to the context' })
      .option('overwrite', { type: 'boolean', describe: 'Replace an existing build context folder' })
      .option('bundle-llm', { type: 'boolean', describe: "Copy the run's GGUF language models into the image (needed when it embeds or refines a test case's texts with an LLM)" })
      .example('$0 package --run runs/bilinear --challenge chimera-task3 --target cpu --tag mmsurv-task3:v1 --save', 'build and save a CPU submission')
      .example('$0 package --run runs/bilinear --challenge chimera-task3 --tag mmsurv-task3:gpu --no-build', 'write the GPU build context to build elsewhere') as never,
  handler: async (args) => {
    const ctx = await createCliContext(args);
    const { writeBuildContext } = await import('./build-context.js');
    const out = resolve(args.out ?? `${args.run}/package/${args.challenge}-${args.target}`);
    const t0 = Date.now();
    const r = await writeBuildContext({
      registries: ctx.registries, logger: ctx.logger, runDir: args.run, challenge: args.challenge, adapter: challengeAdapter(ctx, args.challenge), target: args.target, tag: args.tag, out,
      ...(args['base-image'] ? { baseImage: args['base-image'] } : {}), ...(args.extractor ? { extractor: args.extractor } : {}),
      overwrite: args.overwrite ?? false,
      bundleLlm: args['bundle-llm'] ?? false,
    });
    ctx.logger.info(`build context: ${r.dir} (${r.files} files, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    if (!args.build) {
      process.stdout.write(`${r.dir}\nbuild it with ${r.dir}/do_build.sh\n`);
      return;
    }
    const d = await docker();
    const { buildImage, saveImage } = await import('./docker-build.js');
    const t1 = Date.now();
    // the builder's own output with --verbose; otherwise its steps as progress (with --json: both)
    const raw = args.verbose && !args.quiet;
    const built = await buildImage(d, r.dir, args.tag, {
      ...(raw ? { onLine: (line: string) => process.stderr.write(line) } : {}),
      ...(!raw || args.json ? { progress: ctx.progress } : {}),
    });
    process.stdout.write(`image ${args.tag} (${built.id}) built in ${((Date.now() - t1) / 1000).toFixed(1)} s\n`);
    if (args.save) process.stdout.write(`saved ${await saveImage(d, args.tag, resolve(r.dir, '..'), { progress: ctx.progress })}\n`);
  },
};

export const testContainerCommand: CommandModule<GlobalArgs, TestArgs> = {
  command: 'test-container',
  describe: 'Run an image on case folders exactly as grand-challenge does, check every output, report time, memory and the task metric',
  builder: (y) =>
    y
      .option('challenge', { type: 'string', demandOption: true, describe: 'Challenge adapter id (its output socket is checked)' })
      .option('image', { type: 'string', demandOption: true, describe: 'Image tag or id' })
      .option('cases', { type: 'string', demandOption: true, describe: 'Folder of case folders (each an /input with inputs.json); labels.json beside them enables the metric' })
      .option('gpus', { type: 'boolean', describe: 'Pass all GPUs (--gpus all)' })
      .option('memory', { type: 'string', default: '16g', describe: 'Memory limit per job' })
      .option('model', { type: 'string', describe: 'Mount this folder read-only on /opt/ml/model (a model tarball, as the platform does)' })
      .option('timeout', { type: 'number', describe: 'Kill a job after this many seconds' })
      .option('keep-outputs', { type: 'string', describe: 'Keep each case\'s /output under this folder' })
      .option('json', { type: 'boolean', describe: 'Print one JSON object: cases (id, output, seconds, peak_mb, warnings) and metric (progress: JSON lines on stderr)' })
      .example('$0 test-container --challenge chimera-task3 --image mmsurv-task3:v1 --cases data/task3-input', 'every case, as the platform runs it') as never,
  handler: async (args) => {
    const ctx = await createCliContext(args);
    const adapter = challengeAdapter(ctx, args.challenge);
    const d = await docker();
    const { testContainer } = await import('./test-container.js');
    const report = await testContainer(d, {
      adapter, image: args.image, casesDir: resolve(args.cases), memory: args.memory,
      ...(args.gpus ? { gpus: true } : {}), ...(args.model ? { modelDir: args.model } : {}),
      ...(args.timeout ? { timeoutSeconds: args.timeout } : {}), ...(args['keep-outputs'] ? { keepOutputs: args['keep-outputs'] } : {}),
      progress: ctx.progress,
      onCase: args.json ? undefined : (r, i, n) => {
        const status = r.errors.length ? `FAILED ${r.errors.join('; ')}` : `output ${r.output}`;
        process.stdout.write(`[${i + 1}/${n}] ${r.id}: ${status} (${r.seconds.toFixed(1)} s, peak ${r.peak_mb?.toFixed(0) ?? '?'} MB${r.warnings.length ? `, ${r.warnings.length} warning(s)` : ''})\n`);
        for (const w of r.warnings) process.stdout.write(`    warning: ${w}\n`);
      },
    });
    if (args.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    else {
      for (const m of report.metric ?? []) process.stdout.write(`${m.name}: ${m.value.toFixed(4)} over ${m.cases} cases\n`);
      process.stdout.write(`${report.cases.length - report.failed} of ${report.cases.length} cases passed\n`);
    }
    if (report.failed > 0) process.exitCode = 1;
  },
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [packageCommand, testContainerCommand];
