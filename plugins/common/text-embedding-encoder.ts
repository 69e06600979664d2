import * as tf from '@tensorflow/tfjs';
import type { Case } from '../../core/contracts/case.js';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import type { Encoder, Mode } from '../../core/contracts/encoder.js';
import type { KnowledgeRole } from '../../core/contracts/knowledge-source.js';
import type { ProgressReporter } from '../../core/contracts/progress.js';
import type { RandomSource } from '../../core/contracts/random-source.js';
import type { TextEmbedder } from '../../core/contracts/text-embedder.js';
import { Dense } from '../../core/model/dense.js';
import { explicitTransposeIn } from '../../core/model/explicit-transpose.js';
import { dropout } from '../../core/model/dropout.js';
import { HashedTextEmbedder } from '../../core/model/hashed-text-embedder.js';
import { TOKENS } from '../../core/di/tokens.js';
import { CachedLlmEmbeddings } from '../../core/llm/cached-embeddings.js';
import { languageModelsOf } from '../../core/llm/language-models.js';

/**
 * Which frozen embedder turns texts into vectors: 'hashed' (built in, no model file) or 'llm' (a LanguageModel of
 * the config's `llm` section: its pooled hidden-state embedding, computed in `prepare` and cached on disk).
 */
export type TextEmbedderConfig =
  | { type: 'hashed'; dim: number; ngrams: number[]; charTrigrams: boolean }
  | { type: 'llm'; llm: string };

export interface TextEmbeddingEncoderOptions {
  outDim: number;
  roles: KnowledgeRole[];
  texts: string[];
  activation: 'none' | 'relu';
  dropout: number;
  embedder: TextEmbedderConfig;
}

interface FittedState {
  /** `TextEmbedder.id` of the embedder the projection was trained on. */
  embedder: string;
  embedDim: number;
}

const EMBEDDER_TYPES = ['hashed', 'llm'] as const;

/** The synchronous (built-in) embedders: one case per type; 'llm' is asynchronous and handled by the encoder. */
export function createTextEmbedder(config: TextEmbedderConfig, where: string): TextEmbedder | null {
  switch (config.type) {
    case 'hashed':
      return new HashedTextEmbedder({ dim: config.dim, ngrams: config.ngrams, charTrigrams: config.charTrigrams });
    case 'llm':
      return null;
    default:
      throw new Error(`${where}.embedder.type: expected one of ${EMBEDDER_TYPES.map((t) => `'${t}'`).join(', ')}, found ${JSON.stringify((config as { type?: unknown }).type)}`);
  }
}

/** An LLM embedder as the encoder sees it: ids and vectors from the cached embeddings once prepared. */
class LlmEmbedder implements TextEmbedder {
  constructor(private readonly cached: CachedLlmEmbeddings) {}
  get id(): string { return this.cached.id; }
  get dim(): number { return this.cached.dim; }
  embed(texts: string[]): Float32Array[] { return texts.map((t) => this.cached.get(t)); }
}

/**
 * Text tokens: each selected text of a case (knowledge texts of the chosen roles, in the order the trainer attached
 * them, then `Case.texts[key]` for each key of `texts`, in option order) is embedded by a frozen TextEmbedder and
 * projected by a trainable Linear(embedDim -> outDim) (optional ReLU, dropout). Blank texts are skipped; a case with
 * no selected text gives null. Embeddings are cached per text string, so epochs never re-embed.
 */
export class TextEmbeddingEncoder implements Encoder {
  readonly modality: string;
  readonly outDim: number;
  private readonly embedder: TextEmbedder;
  private readonly cache = new Map<string, Float32Array>();
  private readonly dropoutRandom: RandomSource;
  private dense: Dense | null = null;
  private fitted: FittedState | null = null;

  private readonly llm: CachedLlmEmbeddings | null = null;

  constructor(private readonly options: TextEmbeddingEncoderOptions, private readonly ctx: BuildContext) {
    this.modality = ctx.path.split('.').pop()!;
    this.outDim = options.outDim;
    const builtIn = createTextEmbedder(options.embedder, ctx.path);
    if (builtIn) {
      this.embedder = builtIn;
    } else {
      const { llm } = options.embedder as { llm: string };
      const where = `${ctx.path}.embedder.llm`;
      const cacheDir = ctx.container.isRegistered(TOKENS.KnowledgeCacheDir, true) ? ctx.container.resolve<string>(TOKENS.KnowledgeCacheDir) : null;
      const progress = ctx.container.isRegistered(TOKENS.Progress, true) ? ctx.container.resolve<ProgressReporter>(TOKENS.Progress) : undefined;
      this.llm = new CachedLlmEmbeddings(languageModelsOf(ctx.container, where), llm, cacheDir, where, progress);
      this.embedder = new LlmEmbedder(this.llm);
    }
    this.dropoutRandom = ctx.random.fork('dropout');
  }

  /** LLM embedder: embed (or read from the cache) every text these cases will give. Built-in embedders: nothing. */
  async prepare(cases: readonly Case[]): Promise<void> {
    if (!this.llm) return;
    await this.llm.ensure(cases.flatMap((c) => this.textsOf(c)));
  }

  get variables(): tf.Variable[] {
    return this.dense?.variables ?? [];
  }

  /** Nothing is learned from the data: builds the projection for this embedder. */
  fit(_train: readonly Case[]): void {
    if (this.llm && this.llm.dim === 0) throw new Error(`${this.ctx.path}: the LLM embedder needs prepare(cases) before fit (its width is known once it embedded a text)`);
    this.build({ embedder: this.embedder.id, embedDim: this.embedder.dim });
  }

  state(): FittedState | null {
    return this.fitted;
  }

  restore(state: unknown): void {
    const s = state as FittedState | null;
    if (!s || typeof s.embedder !== 'string' || !Number.isInteger(s.embedDim)) {
      throw new Error(`${this.ctx.path}: restore expects the state saved by the text-embedding encoder ({ embedder, embedDim }), found ${JSON.stringify(state)}`);
    }
    if (this.llm && this.llm.dim === 0) {
      // An LLM embedder learns its id and width in prepare(); until then trust the saved state, encode checks later.
      this.build(s);
      return;
    }
    if (s.embedder !== this.embedder.id || s.embedDim !== this.embedder.dim) {
      throw new Error(`${this.ctx.path}: the saved model was trained on embedder '${s.embedder}' (${s.embedDim}-d), but the config builds '${this.embedder.id}' (${this.embedder.dim}-d); use the embedder options the model was trained with`);
    }
    this.build(s);
  }

  private build(state: FittedState): void {
    this.dense?.dispose();
    this.fitted = state;
    this.dense = new Dense({
      inDim: state.embedDim,
      outDim: this.outDim,
      init: 'glorot-normal',
      random: this.ctx.random.fork('projection'),
      explicitTranspose: explicitTransposeIn(this.ctx),
      name: `${this.ctx.path}.projection`,
    });
  }

  /** The texts this encoder reads from a case, in token order. */
  textsOf(c: Case): string[] {
    const roles = new Set<string>(this.options.roles);
    const fromKnowledge = (c.knowledge ?? []).filter((k) => roles.has(k.role)).map((k) => k.text);
    const fromTexts = this.options.texts.flatMap((key) => (c.texts?.[key] !== undefined ? [c.texts[key]] : []));
    return [...fromKnowledge, ...fromTexts].filter((t) => t.trim() !== '');
  }

  encode(c: Case, mode: Mode): tf.Tensor2D | null {
    if (!this.dense || !this.fitted) throw new Error(`${this.ctx.path}: call fit(trainCases) (or restore(state)) before encode`);
    const texts = this.textsOf(c);
    if (texts.length === 0) return null;
    if (this.llm && (this.llm.id !== this.fitted.embedder || this.llm.dim !== this.fitted.embedDim)) {
      throw new Error(`${this.ctx.path}: the model was trained on embedder '${this.fitted.embedder}' (${this.fitted.embedDim}-d), but the configured LLM gives '${this.llm.id || '(not prepared)'}' (${this.llm.dim}-d); use the model file the run was trained with`);
    }
    const missing = [...new Set(texts.filter((t) => !this.cache.has(t)))];
    if (missing.length > 0) this.embedder.embed(missing).forEach((v, i) => this.cache.set(missing[i]!, v));
    const dim = this.embedder.dim;
    const values = new Float32Array(texts.length * dim);
    texts.forEach((t, i) => values.set(this.cache.get(t)!, i * dim));
    const dense = this.dense;
    return tf.tidy(() => {
      let y = dense.apply(tf.tensor2d(values, [texts.length, dim]));
      if (this.options.activation === 'relu') y = tf.relu(y);
      return dropout(y, this.options.dropout, this.dropoutRandom, mode);
    });
  }

  dispose(): void {
    this.dense?.dispose();
    this.dense = null;
  }
}

const EMBEDDER_DEFAULT: TextEmbedderConfig = { type: 'hashed', dim: 512, ngrams: [1, 2], charTrigrams: false };

export const textEmbeddingEncoderSpec: ComponentSpec<'encoder', TextEmbeddingEncoderOptions> = {
  id: 'text-embedding',
  description: 'Text tokens: knowledge texts and case texts embedded by a frozen text embedder, then a trainable projection',
  modalities: ['knowledge', 'clinical', 'report'],
  optionsSchema: {
    type: 'object',
    properties: {
      outDim: { type: 'integer', minimum: 1, default: 256, description: 'Width of each output token (the projection Linear(embedDim -> outDim))' },
      roles: {
        type: 'array',
        items: { enum: ['clinical-prompt', 'report', 'pbk', 'teacher', 'verbalised'] },
        uniqueItems: true,
        default: ['clinical-prompt', 'report', 'pbk'],
        description: 'Knowledge texts (Case.knowledge, attached from the configured knowledge sources) of these roles become tokens',
      },
      texts: {
        type: 'array',
        items: { type: 'string', minLength: 1 },
        uniqueItems: true,
        default: [],
        description: "Keys of Case.texts (e.g. 'report') that also become tokens, after the knowledge texts",
      },
      activation: { enum: ['none', 'relu'], default: 'none', description: 'Applied after the projection' },
      dropout: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0, description: 'Dropout on the projected tokens in training' },
      embedder: {
        type: 'object',
        description: "The frozen text embedder; 'hashed' needs no model file (signed feature hashing of word n-grams); 'llm' uses a model of the config's `llm` section (its pooled hidden-state embedding, cached in the knowledge cache)",
        properties: {
          type: { enum: ['hashed', 'llm'], default: 'hashed', description: "Embedder kind: 'hashed' (built in) or 'llm'" },
          llm: { type: 'string', minLength: 1, description: "'llm' only: the name of a model in the config's `llm` section" },
          dim: { type: 'integer', minimum: 1, default: 512, description: 'Hash buckets: the embedding width' },
          ngrams: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1, default: [1, 2], description: 'Word n-gram orders hashed' },
          charTrigrams: { type: 'boolean', default: false, description: 'Also hash character trigrams of each word' },
        },
        additionalProperties: false,
        if: { properties: { type: { const: 'llm' } }, required: ['type'] },
        then: { properties: { llm: { type: 'string' } }, required: ['llm'] },
        default: EMBEDDER_DEFAULT,
      },
    },
    additionalProperties: false,
  },
  create: (options, ctx) => new TextEmbeddingEncoder(options, ctx),
};
