/**
 * A RandomSource whose streams restart at each scope (one scope per training epoch), so a run resumed from the
 * checkpoint of epoch e draws exactly what the uninterrupted run drew in epoch e + 1, without saving any generator
 * state. Every fork follows its parent's scope: the stream of `fork('encoders.wsi').fork('dropout')` in scope
 * 'epoch-3' is SeededRandom(seed, 'encoders.wsi/dropout@epoch-3'), whenever and wherever it was forked.
 *
 * @example
 * const random = new ScopedRandom(seed);           // registered as TOKENS.Random in the fold's container
 * random.setScope('init');  buildModel();          // initial weights from the 'init' scope
 * random.setScope(`epoch-${e}`);  trainEpoch(e);   // dropout masks and patch samples of epoch e
 */
import type { RandomSource } from '../contracts/random-source.js';
import { SeededRandom } from './random.js';

class ScopeHolder {
  scope = 'init';
  version = 0;
}

export class ScopedRandom implements RandomSource {
  private stream: SeededRandom;
  private version: number;

  constructor(
    readonly seed: number,
    private readonly path = '',
    private readonly holder = new ScopeHolder(),
  ) {
    this.version = holder.version;
    this.stream = this.open();
  }

  /** Restart every stream of this tree in a new scope (e.g. `epoch-3`). */
  setScope(scope: string): void {
    if (!scope) throw new Error('ScopedRandom.setScope: expected a non-empty scope label');
    this.holder.scope = scope;
    this.holder.version++;
  }

  get scope(): string {
    return this.holder.scope;
  }

  private open(): SeededRandom {
    return new SeededRandom(this.seed, `${this.path}@${this.holder.scope}`);
  }

  private current(): SeededRandom {
    if (this.version !== this.holder.version) {
      this.version = this.holder.version;
      this.stream = this.open();
    }
    return this.stream;
  }

  uniform(): number {
    return this.current().uniform();
  }
  normal(mean?: number, sd?: number): number {
    return this.current().normal(mean, sd);
  }
  int(n: number): number {
    return this.current().int(n);
  }
  shuffle<T>(items: T[]): T[] {
    return this.current().shuffle(items);
  }
  sample(n: number, k: number): number[] {
    return this.current().sample(n, k);
  }
  fillMask(out: Float32Array, rate: number, value?: number): Float32Array {
    return this.current().fillMask(out, rate, value);
  }
  fork(label: string): RandomSource {
    return new ScopedRandom(this.seed, this.path ? `${this.path}/${label}` : label, this.holder);
  }
}
