import * as tf from '@tensorflow/tfjs';
import type { Case } from '../../core/contracts/case.js';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import type { Encoder, Mode } from '../../core/contracts/encoder.js';
import type { KnowledgeRole } from '../../core/contracts/knowledge-source.js';
import type { RandomSource } from '../../core/contracts/random-source.js';
import type { TextEmbedder } from '../../core/contracts/text-embedder.js';
import { Dense } from '../../core/model/dense.js';
import { explicitTransposeIn } from '../../core/model/explicit-transpose.js';
import { dropout } from '../../core/model/dropout.js';
import { HashedTextEmbedder } from '../../core/model/hashed-text-embedder.js';

/** Which frozen embedder turns texts into vectors. Only 'hashed' for now; a LanguageModel embedder is planned. */
export type TextEmbedderConfig = { type: 'hashed'; dim: number; ngrams: number[]; charTrigrams: boolean };

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

const EMBEDDER_TYPES = ['hashed'] as const;

/** The embedder factory: one case per embedder type. */
export function createTextEmbedder(config: TextEmbedderConfig, where: string): TextEmbedder {
  switch (config.type) {
    case 'hashed':
      return new HashedTextEmbedder({ dim: config.dim, ngrams: config.ngrams, charTrigrams: config.charTrigrams });
    default:
      throw new Error(`${where}.embedder.type: expected one of ${EMBEDDER_TYPES.map((t) => `'${t}'`).join(', ')}, found ${JSON.stringify((config as { type?: unknown }).type)}`);
  }
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

  constructor(private readonly options: TextEmbeddingEncoderOptions, private readonly ctx: BuildContext) {
    this.modality = ctx.path.split('.').pop()!;
    this.outDim = options.outDim;
    this.embedder = createTextEmbedder(options.embedder, ctx.path);
    this.dropoutRandom = ctx.random.fork('dropout');
  }

  get variables(): tf.Variable[] {
    return this.dense?.variables ?? [];
  }

  /** Nothing is learned from the data: builds the projection for this embedder. */
  fit(_train: readonly Case[]): void {
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
        items: { enum: ['clinical-prompt', 'report', 'pbk', 'teacher'] },
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
        description: "The frozen text embedder; 'hashed' needs no model file (signed feature hashing of word n-grams)",
        properties: {
          type: { enum: ['hashed'], default: 'hashed', description: "Embedder kind: 'hashed' (built in)" },
          dim: { type: 'integer', minimum: 1, default: 512, description: 'Hash buckets: the embedding width' },
          ngrams: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1, default: [1, 2], description: 'Word n-gram orders hashed' },
          charTrigrams: { type: 'boolean', default: false, description: 'Also hash character trigrams of each word' },
        },
        additionalProperties: false,
        default: EMBEDDER_DEFAULT,
      },
    },
    additionalProperties: false,
  },
  create: (options, ctx) => new TextEmbeddingEncoder(options, ctx),
};
