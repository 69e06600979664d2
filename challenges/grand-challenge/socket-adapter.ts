/**
 * A ChallengeAdapter made of a socket table and a case mapping: the part every grand-challenge task shares.
 *
 * `accepts` / `mismatch` compare the platform's slugs with the table (required inputs present, nothing unknown);
 * `readCase` reads inputs.json, resolves each supplied socket (image -> its single file, JSON -> its value) and hands
 * them to the task's `toCase`; `writeOutput` writes the task's one output socket atomically.
 */
import type { ChallengeAdapter, ChallengeInput, ChallengePrediction, Socket } from '../../core/contracts/challenge-adapter.js';
import { readInputsJson, type SocketValue } from './inputs-json.js';
import { imageSocketFile, jsonSocketValue } from './socket-files.js';
import { writeOutputJson } from './write-output.js';

/** The supplied sockets of one job, resolved. */
export interface ResolvedSockets {
  inputDir: string;
  /** Image file of an image socket, when supplied. */
  image(slug: string): string | undefined;
  /** Value of a JSON socket, when supplied. */
  json(slug: string): unknown;
  has(slug: string): boolean;
  /** Where a socket's value came from, for messages. */
  where(slug: string): string;
}

export interface TaskDefinition {
  id: string;
  output: 'time' | 'probability';
  sockets: Socket[];
  /** Build the case from the resolved sockets; push recoverable problems onto `warnings`. */
  toCase(s: ResolvedSockets, warnings: string[]): Omit<ChallengeInput, 'warnings'>;
  /** The value written to the output socket. */
  outputValue(p: ChallengePrediction): number;
}

export class SocketTableAdapter implements ChallengeAdapter {
  readonly id: string;
  readonly output: 'time' | 'probability';
  readonly sockets: readonly Socket[];

  constructor(private readonly task: TaskDefinition) {
    this.id = task.id;
    this.output = task.output;
    this.sockets = task.sockets;
    if (task.sockets.filter((s) => s.direction === 'output').length !== 1) {
      throw new Error(`challenge ${task.id}: expected exactly one output socket`);
    }
  }

  private inputs(): Socket[] {
    return this.sockets.filter((s) => s.direction === 'input');
  }

  mismatch(slugs: readonly string[]): { missing: string[]; unexpected: string[] } {
    const known = new Set(this.inputs().map((s) => s.slug));
    const given = new Set(slugs);
    return {
      missing: this.inputs().filter((s) => !s.optional && !given.has(s.slug)).map((s) => s.slug).sort(),
      unexpected: [...given].filter((s) => !known.has(s)).sort(),
    };
  }

  accepts(slugs: readonly string[]): boolean {
    const m = this.mismatch(slugs);
    return m.missing.length === 0 && m.unexpected.length === 0;
  }

  async readCase(inputDir: string): Promise<ChallengeInput> {
    const supplied = await readInputsJson(inputDir);
    const m = this.mismatch(supplied.map((s) => s.slug));
    if (m.missing.length > 0 || m.unexpected.length > 0) {
      throw new Error(`${inputDir}/inputs.json: the sockets do not match ${this.id}` +
        (m.missing.length ? `; missing: ${m.missing.join(', ')}` : '') +
        (m.unexpected.length ? `; unexpected: ${m.unexpected.join(', ')}` : ''));
    }
    const warnings: string[] = [];
    const bySlug = new Map<string, SocketValue>(supplied.map((s) => [s.slug, s]));
    const table = new Map(this.inputs().map((s) => [s.slug, s]));
    const images = new Map<string, string>();
    const values = new Map<string, unknown>();
    for (const s of supplied) {
      const kind = table.get(s.slug)!.kind;
      if (kind === 'image') images.set(s.slug, await imageSocketFile(inputDir, s));
      else if (kind === 'json') values.set(s.slug, await jsonSocketValue(inputDir, s, warnings));
    }
    const resolved: ResolvedSockets = {
      inputDir,
      image: (slug) => images.get(slug),
      json: (slug) => values.get(slug),
      has: (slug) => bySlug.has(slug),
      where: (slug) => {
        const s = bySlug.get(slug);
        return s ? `${inputDir}/${s.relativePath}` : `socket ${slug}`;
      },
    };
    const out = this.task.toCase(resolved, warnings);
    return { ...out, warnings };
  }

  async writeOutput(outputDir: string, prediction: ChallengePrediction): Promise<string[]> {
    const socket = this.sockets.find((s) => s.direction === 'output')!;
    return [await writeOutputJson(outputDir, socket.relativePath, this.task.outputValue(prediction))];
  }
}

/** The adapter among `adapters` whose table matches the slugs; an error listing each task's mismatch when none does. */
export function dispatchBySlugs<A extends ChallengeAdapter>(adapters: readonly A[], slugs: readonly string[]): A {
  const hit = adapters.filter((a) => a.accepts(slugs));
  if (hit.length === 1) return hit[0]!;
  if (hit.length > 1) throw new Error(`inputs.json: sockets match several tasks (${hit.map((a) => a.id).join(', ')}); pass --challenge`);
  const lines = adapters.map((a) => {
    const m = a.mismatch(slugs);
    return `  ${a.id}: missing ${m.missing.join(', ') || 'none'}; unexpected ${m.unexpected.join(', ') || 'none'}`;
  });
  throw new Error(`inputs.json: no task takes the sockets [${[...slugs].sort().join(', ')}]:\n${lines.join('\n')}`);
}
