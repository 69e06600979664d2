/**
 * `mmsurv test-container`: every case of a folder through the image, as the platform runs it, with each output
 * checked against the task's output socket and, when the cases carry labels, the task's metric.
 *
 * Cases: each sub-folder of `casesDir` that holds an inputs.json is one job's /input. Labels (optional):
 * `casesDir/labels.json`, `{ "<case folder>": { "time": months, "event": 0|1 } }` for survival tasks or
 * `{ "<case folder>": { "label": 0|1 } }` for classification, as `mmsurv synth --layout chimera-task3-input` writes.
 *
 * Output checks: exit code 0; the output folder holds exactly the output socket's file; it is a bare JSON number
 * (finite; in [0, 1] for probabilities). Metrics: Harrell's C on -output for time-like tasks (the CHIMERA scorer's
 * concordance_index_censored(event, time, -prediction)); weighted F1 at 0.5 and ROC AUC for probabilities.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type Docker from 'dockerode';
import type { ChallengeAdapter } from '../core/contracts/challenge-adapter.js';
import type { ProgressReporter } from '../core/contracts/progress.js';
import { harrellC } from '../core/survival/concordance.js';
import { rocAuc, weightedF1 } from '../core/classification/metrics.js';
import { runPlatformCase, type PlatformRunOptions } from './platform-run.js';

export interface ContainerCaseResult {
  id: string;
  output: number | null;
  seconds: number;
  peak_mb: number | null;
  exit_code: number;
  warnings: string[];
  errors: string[];
  /** Entries left in the /tmp volume (null when unknown). */
  tmp_leftovers: string[] | null;
}

export interface ContainerTestReport {
  image: string;
  challenge: string;
  cases: ContainerCaseResult[];
  metric: { name: string; value: number; cases: number }[] | null;
  failed: number;
}

export interface TestContainerOptions extends Omit<PlatformRunOptions, 'inputDir' | 'outputDir'> {
  adapter: ChallengeAdapter;
  casesDir: string;
  /** Keep each case's output here (default: a temp folder, removed). */
  keepOutputs?: string;
  onCase?: (r: ContainerCaseResult, index: number, total: number) => void;
  /** One tick per case: '<case> 7.9s' (or '<case> FAILED 7.9s'). */
  progress?: ProgressReporter;
}

export async function listCaseDirs(casesDir: string): Promise<string[]> {
  const entries = await readdir(casesDir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`--cases ${casesDir}: cannot list (${err.code ?? err.message})`);
  });
  const dirs = entries.filter((e) => e.isDirectory() && existsSync(join(casesDir, e.name, 'inputs.json'))).map((e) => e.name).sort();
  if (dirs.length === 0) throw new Error(`--cases ${casesDir}: no case folder (a sub-folder with inputs.json) found`);
  return dirs;
}

/** Parse one output file: a bare JSON number, finite, in [0, 1] for probabilities. */
export function checkOutputValue(text: string, kind: 'time' | 'probability', where: string): number {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error(`${where}: expected a bare JSON number, found ${JSON.stringify(text.slice(0, 40))}`);
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${where}: expected a bare JSON number, found ${JSON.stringify(v)?.slice(0, 40)}`);
  if (kind === 'probability' && (v < 0 || v > 1)) throw new Error(`${where}: expected a probability in [0, 1], found ${v}`);
  return v;
}

export async function testContainer(docker: Docker, o: TestContainerOptions): Promise<ContainerTestReport> {
  const ids = await listCaseDirs(o.casesDir);
  const outputSocket = o.adapter.sockets.find((s) => s.direction === 'output')!;
  const root = o.keepOutputs ? resolve(o.keepOutputs) : await mkdtemp(join(tmpdir(), 'mmsurv-test-container-'));
  const results: ContainerCaseResult[] = [];
  const task = o.progress?.start(`test-container ${o.image}`, ids.length);
  try {
    for (const [i, id] of ids.entries()) {
      const outputDir = join(root, id);
      await rm(outputDir, { recursive: true, force: true });
      await mkdir(outputDir, { recursive: true });
      await chmod(outputDir, 0o777); // the image runs as a non-root user
      const run = await runPlatformCase(docker, { ...o, inputDir: join(o.casesDir, id), outputDir });
      const warnings = run.stderr.split('\n').filter((l) => l.startsWith('warning: ')).map((l) => l.slice('warning: '.length));
      const errors: string[] = [];
      let output: number | null = null;
      if (run.timedOut) errors.push(`timed out after ${o.timeoutSeconds} s`);
      if (run.exitCode !== 0) {
        const lines = run.stderr.trim().split('\n');
        const said = lines.filter((l) => l.startsWith('error:'));
        errors.push(`exit code ${run.exitCode}: ${(said.length ? said : lines.slice(-3)).join(' | ')}`);
      }
      const written = await readdir(outputDir);
      const extra = written.filter((f) => f !== outputSocket.relativePath);
      if (extra.length > 0) errors.push(`unexpected files in /output: ${extra.join(', ')}`);
      if (run.exitCode === 0) {
        if (!written.includes(outputSocket.relativePath)) errors.push(`no ${outputSocket.relativePath} in /output`);
        else {
          try {
            output = checkOutputValue(await readFile(join(outputDir, outputSocket.relativePath), 'utf8'), o.adapter.output, `${id}/${outputSocket.relativePath}`);
          } catch (err) {
            errors.push((err as Error).message);
          }
        }
      }
      if (run.tmpLeftovers && run.tmpLeftovers.length > 0) warnings.push(`left in /tmp: ${run.tmpLeftovers.join(', ')}`);
      const r: ContainerCaseResult = { id, output, seconds: run.seconds, peak_mb: run.peakMb, exit_code: run.exitCode, warnings, errors, tmp_leftovers: run.tmpLeftovers };
      results.push(r);
      task?.tick(1, `${id}${r.errors.length ? ' FAILED' : ''} ${r.seconds.toFixed(1)}s`);
      o.onCase?.(r, i, ids.length);
    }
  } finally {
    task?.done();
    if (!o.keepOutputs) await rm(root, { recursive: true, force: true });
  }
  return {
    image: o.image, challenge: o.adapter.id, cases: results,
    metric: await taskMetric(o.casesDir, o.adapter.output, results),
    failed: results.filter((r) => r.errors.length > 0).length,
  };
}

async function taskMetric(casesDir: string, kind: 'time' | 'probability', results: ContainerCaseResult[]): Promise<ContainerTestReport['metric']> {
  const file = join(casesDir, 'labels.json');
  if (!existsSync(file)) return null;
  const labels = JSON.parse(await readFile(file, 'utf8')) as Record<string, { time?: number; event?: number | boolean; label?: number }>;
  const scored = results.filter((r) => r.output !== null && labels[r.id]);
  if (scored.length < 2) return null;
  if (kind === 'time') {
    const c = harrellC(scored.map((r) => labels[r.id]!.time!), scored.map((r) => Number(labels[r.id]!.event)), scored.map((r) => -r.output!));
    return [{ name: 'c-index (Harrell, on -output)', value: c.cIndex, cases: scored.length }];
  }
  const y = scored.map((r) => Number(labels[r.id]!.label));
  const p = scored.map((r) => r.output!);
  return [
    { name: 'weighted F1 (threshold 0.5)', value: weightedF1(y, p.map((x) => (x >= 0.5 ? 1 : 0))), cases: scored.length },
    { name: 'ROC AUC', value: rocAuc(y, p), cases: scored.length },
  ];
}
