/**
 * `mmsurv package`, first half: a self-contained Docker build context for one trained run and one challenge.
 *
 *   <out>/Dockerfile, .dockerignore, do_build.sh, do_test_run.sh, do_save.sh
 *   <out>/app/     package.json, package-lock.json, registry.json, dist/ (compiled mmsurv without source maps),
 *                  node_modules/ (cpu target: `npm ci --omit=dev --ignore-scripts` on the host, so the build needs no
 *                  network; gpu target: installed at build time, in the image)
 *   <out>/model/   the model directory (core/infer/model-dir.ts): metadata.json, the run's resolved config, summary,
 *                  run-level calibration, each fold's model, and extractor/ (spec + model files) when it reads slides;
 *                  knowledge-cache/ and (--bundle-llm) llm/<name>.gguf when the run uses language models
 *
 * The run is checked before anything is written: the challenge exists, its output kind suits the run, every fold
 * has a model, and the slide extractor is the one the training features came from (same weights hash).
 * An existing non-empty `out` is refused unless `overwrite`; the context is assembled in `<out>.partial` and renamed.
 */
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { ChallengeAdapter } from '../core/contracts/challenge-adapter.js';
import type { Logger } from '../core/contracts/logger.js';
import { readResolvedConfig } from '../core/config/save.js';
import { readDelimited } from '../core/data/csv.js';
import { EXTRACTOR_DIR, EXTRACTOR_SPEC_FILE, LLM_DIR, MODEL_METADATA_FILE, type ModelMetadata } from '../core/infer/model-dir.js';
import { KNOWLEDGE_CACHE_DIR } from '../core/llm/knowledge-cache.js';
import { readRunLlm, RUN_LLM_FILE } from '../core/llm/run-llm.js';
import { codeRoot, packageRoot } from '../core/paths.js';
import type { Registries } from '../core/registry/registry.js';
import { createSlideExtractor } from '../core/slide/create-extractor.js';
import { readRunSummary, runCalibration, RUN_CALIBRATION_FILE } from '../core/train/cross-validate.js';
import { FEATURE_EXTRACTOR_RECORD, type FeatureExtractorRecord } from '../core/train/feature-record.js';
import { foldDirName } from '../core/train/train-fold.js';
import { DirectoryRunStore } from '../core/services/run-store.js';
import { DOCKERIGNORE, dockerfile, scripts, type Target } from './dockerfile.js';

export interface BuildContextOptions {
  registries: Registries;
  logger: Logger;
  runDir: string;
  challenge: string;
  /** The challenge's adapter, built by the caller (its output kind decides what the run must predict). */
  adapter: ChallengeAdapter;
  target: Target;
  tag: string;
  out: string;
  baseImage?: string;
  /** Slide extractor spec file; default: the one the run's feature record names. */
  extractor?: string;
  overwrite?: boolean;
  /** Copy the run's GGUF models into model/llm/ so the image can run them (e.g. refine a test case's report). */
  bundleLlm?: boolean;
  /** Runs `npm ci` for the cpu target (injected by tests to reuse one install). */
  installModules?: (appDir: string) => Promise<void>;
}

export interface BuildContextResult {
  dir: string;
  metadata: ModelMetadata;
  files: number;
}

export async function writeBuildContext(o: BuildContextOptions): Promise<BuildContextResult> {
  const runDir = resolve(o.runDir);
  const out = resolve(o.out);
  const adapterSpec = o.registries.challenge.get(o.challenge, '--challenge');
  const summary = await readRunSummary(runDir);
  const { config } = await readResolvedConfig(new DirectoryRunStore(runDir));
  const encoders = Object.keys((config['encoders'] ?? {}) as Record<string, unknown>);
  const binary = summary.target === 'binary';
  if (o.adapter.output === 'probability' && !binary) {
    throw new Error(`--challenge ${o.challenge} needs a class probability; this run (${runDir}) has a survival head. Train a run with a binary head ("head": { "type": "binary" }) for it.`);
  }
  if (o.adapter.output === 'time' && binary) {
    throw new Error(`--challenge ${o.challenge} needs a time-like survival output; this run (${runDir}) has a binary head. Train a run with a survival head (cox, discrete) for it.`);
  }
  for (const f of summary.folds) {
    const dir = join(runDir, foldDirName(f.fold - 1), 'model');
    if (!existsSync(join(dir, 'state.json'))) throw new Error(`${dir}: fold ${f.fold} has no saved model; finish the run (\`mmsurv train --resume\`) before packaging`);
  }
  checkLlmBundling(o, config);
  if (existsSync(out) && (await readdir(out)).length > 0 && !o.overwrite) {
    throw new Error(`${out} exists and is not empty; pass --overwrite or choose another --out. Nothing was changed.`);
  }

  const partial = `${out}.partial`;
  await rm(partial, { recursive: true, force: true });
  const app = join(partial, 'app');
  const model = join(partial, 'model');
  await mkdir(app, { recursive: true });
  await mkdir(model, { recursive: true });

  // the model directory
  for (const f of ['config.resolved.json', 'summary.json']) await cp(join(runDir, f), join(model, f));
  if (binary) {
    // a binary run has no time calibration: the output is the mean probability
  } else if (existsSync(join(runDir, RUN_CALIBRATION_FILE))) await cp(join(runDir, RUN_CALIBRATION_FILE), join(model, RUN_CALIBRATION_FILE));
  else await writeFile(join(model, RUN_CALIBRATION_FILE), JSON.stringify(await calibrationFromOof(runDir)) + '\n');
  for (const f of summary.folds) {
    const rel = join(foldDirName(f.fold - 1), 'model');
    await cp(join(runDir, rel), join(model, rel), { recursive: true });
  }
  const extractor = encoders.includes('wsi') ? await copyExtractor(o, runDir, model) : null;
  await copyLlmParts(o, runDir, config, model);

  const pkg = JSON.parse(await readFile(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  const plugins = [...new Set([adapterSpec.plugin, ...componentTypes(config).map(([kind, id]) => o.registries.of(kind).get(id).plugin)])].sort();
  const metadata: ModelMetadata = {
    format: 'mmsurv-model', version: 1, challenge: o.challenge, mmsurvVersion: pkg.version, plugins,
    created: new Date().toISOString(),
    run: {
      name: summary.name, folds: summary.folds.length, seed: summary.seed, c_index_mean: summary.c_index_mean,
      ...(binary ? { target: 'binary' as const, auc_mean: summary.auc_mean ?? null } : {}),
    },
    extractor, target: o.target,
  };
  await writeFile(join(model, MODEL_METADATA_FILE), JSON.stringify(metadata, null, 2) + '\n');

  // the app
  for (const f of ['package.json', 'package-lock.json', 'registry.json']) await cp(join(packageRoot(), f), join(app, f));
  const dist = codeRoot();
  for (const part of ['core', 'plugins', 'challenges', 'containers']) {
    if (!existsSync(join(dist, part))) continue;
    await cp(join(dist, part), join(app, 'dist', part), { recursive: true, filter: (src) => !src.endsWith('.map') && !src.endsWith('.ts') || src.endsWith('.d.ts') });
  }
  if (o.target === 'cpu') {
    o.logger.info('installing production node_modules into the build context (npm ci --omit=dev)');
    await (o.installModules ?? npmCiProduction)(app);
  }

  await writeFile(join(partial, 'Dockerfile'), dockerfile(o.target, o.baseImage));
  await writeFile(join(partial, '.dockerignore'), DOCKERIGNORE);
  for (const [name, text] of Object.entries(scripts(o.tag, o.target))) {
    await writeFile(join(partial, name), text);
    await chmod(join(partial, name), 0o755);
  }
  await rm(out, { recursive: true, force: true });
  await mkdir(dirname(out), { recursive: true });
  await rename(partial, out);
  return { dir: out, metadata, files: await countFiles(out) };
}

/**
 * The run's knowledge cache (model/knowledge-cache: per-cancer-type knowledge, texts and embeddings of the training
 * cohort) and, with --bundle-llm, its GGUF models (model/llm/<name>.gguf). A run that embeds texts with an LLM needs
 * the model in the image (a test case's texts are new), so packaging it without --bundle-llm is refused.
 */
async function copyLlmParts(o: BuildContextOptions, runDir: string, config: Record<string, unknown>, model: string): Promise<void> {
  const names = Object.keys((config['llm'] ?? {}) as Record<string, unknown>);
  if (names.length === 0) return;
  const record = await readRunLlm(runDir);
  if (record?.cacheDir && existsSync(record.cacheDir)) await cp(record.cacheDir, join(model, KNOWLEDGE_CACHE_DIR), { recursive: true });
  if (!o.bundleLlm) {
    o.logger.warn(`the run uses language models (${names.join(', ')}); the image gets the knowledge cache only, so knowledge a test case needs beyond it (e.g. refining its report) fails; pass --bundle-llm to include the GGUF files`);
    return;
  }
  const dest = join(model, LLM_DIR);
  await mkdir(dest, { recursive: true });
  for (const [name, path] of Object.entries(record?.models ?? {})) {
    if (!existsSync(path)) throw new Error(`llm.${name}: the GGUF file the run was trained with (${path}, recorded in ${join(runDir, RUN_LLM_FILE)}) is missing; put it back to package the run`);
    await cp(path, join(dest, `${name}.gguf`));
  }
}

/** Before anything is written: a run that embeds texts with an LLM needs its model in the image. */
function checkLlmBundling(o: BuildContextOptions, config: Record<string, unknown>): void {
  if (o.bundleLlm) return;
  const embedding = Object.entries((config['encoders'] ?? {}) as Record<string, { embedder?: { type?: string; llm?: string } }>)
    .filter(([, e]) => e.embedder?.type === 'llm').map(([k, e]) => [k, e.embedder!.llm!] as const);
  if (embedding.length) {
    throw new Error(`encoders.${embedding[0]![0]} embeds texts with the language model '${embedding[0]![1]}', which the image needs for new cases; pass --bundle-llm to copy the run's GGUF models into the image. Nothing was written.`);
  }
}

/** [kind, id] of every component the config selects. */
function componentTypes(config: Record<string, unknown>): ['encoder' | 'fusion' | 'head' | 'knowledge', string][] {
  const out: ['encoder' | 'fusion' | 'head' | 'knowledge', string][] = [];
  for (const v of Object.values((config['encoders'] ?? {}) as Record<string, { type: string }>)) out.push(['encoder', v.type]);
  for (const v of Object.values((config['knowledge'] ?? {}) as Record<string, { type: string }>)) out.push(['knowledge', v.type]);
  if (config['fusion']) out.push(['fusion', (config['fusion'] as { type: string }).type]);
  if (config['head']) out.push(['head', (config['head'] as { type: string }).type]);
  return out;
}

async function calibrationFromOof(runDir: string): Promise<unknown> {
  const t = await readDelimited(join(runDir, 'oof.csv'));
  const col = (name: string) => t.header.indexOf(name);
  const [ti, ei, ri] = [col('time'), col('event'), col('risk')];
  if (ti < 0 || ei < 0 || ri < 0) throw new Error(`${join(runDir, 'oof.csv')}: expected columns time, event, risk; found ${t.header.join(', ')}`);
  return runCalibration(t.rows.map((r) => ({ time: Number(r[ti]), event: Number(r[ei]), risk: Number(r[ri]) })));
}

/** Copy the slide extractor (spec + tfjs model files) into model/extractor and check it is the training one. */
async function copyExtractor(o: BuildContextOptions, runDir: string, model: string): Promise<ModelMetadata['extractor']> {
  const recordFile = join(runDir, FEATURE_EXTRACTOR_RECORD);
  const record = existsSync(recordFile) ? (JSON.parse(await readFile(recordFile, 'utf8')) as FeatureExtractorRecord) : null;
  const specFile = o.extractor ? resolve(o.extractor) : record?.specFile;
  if (!specFile) {
    throw new Error(`the run reads slides (encoders.wsi) but names no slide extractor: pass --extractor SPEC.json, the spec \`mmsurv extract --encoder\` used for the training features`);
  }
  let spec: Record<string, unknown>;
  try {
    spec = JSON.parse(await readFile(specFile, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${specFile}: cannot read the slide extractor spec (${(err as Error).message})`);
  }
  const dest = join(model, EXTRACTOR_DIR);
  await mkdir(dest, { recursive: true });
  if (spec['type'] === 'tfjs') {
    const src = resolve(dirname(specFile), String(spec['modelDir']));
    const name = basename(src);
    await cp(src, join(dest, name), { recursive: true });
    spec = { ...spec, modelDir: name };
  } else {
    o.logger.warn(`extractor ${specFile} runs an external command; the base image (--base-image) must provide it`);
  }
  await writeFile(join(dest, EXTRACTOR_SPEC_FILE), JSON.stringify(spec, null, 2) + '\n');
  const extractor = await createSlideExtractor(spec, { baseDir: dest, logger: o.logger });
  const info = extractor.info;
  extractor.dispose();
  if (record && record.weightsHash !== info.weightsHash) {
    throw new Error(`${specFile}: this extractor (${info.id}, weights ${info.weightsHash.slice(0, 12)}) is not the one the run's features came from ` +
      `(${record.id}, weights ${record.weightsHash.slice(0, 12)}, recorded in ${recordFile}); the image would see different features than training`);
  }
  if (!record) o.logger.warn(`${runDir} does not record which extractor made its training features; trusting --extractor ${specFile}`);
  return { id: info.id, weightsHash: info.weightsHash, dim: info.dim };
}

/** `npm ci --omit=dev --ignore-scripts` into the context's app folder; tfjs-node-gpu is removed (cpu runs wasm). */
export async function npmCiProduction(appDir: string): Promise<void> {
  const { execa } = await import('execa');
  const r = await execa('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: appDir, reject: false, all: true });
  if (r.exitCode !== 0) throw new Error(`npm ci --omit=dev in ${appDir} failed (exit ${r.exitCode}): ${String(r.all).split('\n').slice(-10).join('\n')}`);
  await rm(join(appDir, 'node_modules', '@tensorflow', 'tfjs-node-gpu'), { recursive: true, force: true });
  await pruneLlamaBinaries(join(appDir, 'node_modules'), 'linux-x64');
  await pruneSourceMaps(join(appDir, 'node_modules'));
}

/**
 * Keep only node-llama-cpp's prebuilt binary for `keep` (the CPU one, ~30 MB): npm installs every platform's,
 * CUDA and Vulkan builds included (~650 MB), which a CPU image never loads.
 */
export async function pruneLlamaBinaries(nodeModules: string, keep: string): Promise<string[]> {
  const dir = join(nodeModules, '@node-llama-cpp');
  const removed: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory() && e.name !== keep) {
      await rm(join(dir, e.name), { recursive: true, force: true });
      removed.push(e.name);
    }
  }
  return removed;
}

/** Delete *.map files (about 200 MB of tfjs's 290 MB): nothing reads them at run time. */
export async function pruneSourceMaps(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.map')) {
      await rm(join(e.parentPath, e.name));
      n++;
    }
  }
  return n;
}

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n++;
  return n;
}
