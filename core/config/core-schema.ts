/**
 * The core experiment schema (JSON Schema 2020-12): the shape of a config without any component's specifics.
 *
 * Component slots hold `{ "type": id, ...options }` (the dataset slot `data` holds `{ "format": id, "root": dir,
 * ...options }`); which ids exist and what options they take comes from the registries (compose-schema.ts,
 * validate.ts). Every slot is optional, so a base file may be partial; whoever needs a slot (the trainer needs
 * data, encoders, fusion and head) asks for it (validateConfig's `require`).
 */
import type { ComponentKind, JsonSchema } from '../contracts/component.js';
import { llmSectionSchema } from '../llm/llm-config.js';

export const JSON_SCHEMA_2020_12 = 'https://json-schema.org/draft/2020-12/schema';

/** A place in the config that holds components of one kind. */
export interface ComponentSlot {
  /** Top-level key: 'encoders', 'fusion', ... */
  key: string;
  kind: ComponentKind;
  /** The key that names the component: 'type', or 'format' for dataset readers. */
  discriminator: 'type' | 'format';
  /** Whether the slot is a map (name -> component) rather than one component. */
  many: boolean;
  /** Keys of the slot that belong to core, not to the component's options (never validated against them). */
  coreKeys: readonly string[];
  /** What the slot is for, for editors and messages. */
  description: string;
}

export const COMPONENT_SLOTS: readonly ComponentSlot[] = [
  {
    key: 'data', kind: 'dataset', discriminator: 'format', many: false, coreKeys: ['format', 'root'],
    description: 'The cohort: a dataset reader ("format") and the folder it reads ("root"), plus reader options.',
  },
  {
    key: 'encoders', kind: 'encoder', discriminator: 'type', many: true, coreKeys: ['type'],
    description: 'One encoder per modality: modality name (wsi, rna, clinical, knowledge, ...) -> { "type": id, ...options }.',
  },
  {
    key: 'fusion', kind: 'fusion', discriminator: 'type', many: false, coreKeys: ['type'],
    description: 'How the tokens of all modalities become one vector: { "type": id, ...options }.',
  },
  {
    key: 'head', kind: 'head', discriminator: 'type', many: false, coreKeys: ['type'],
    description: 'The survival head (discrete hazards or Cox risk): { "type": id, ...options }.',
  },
  {
    key: 'knowledge', kind: 'knowledge', discriminator: 'type', many: true, coreKeys: ['type'],
    description: 'Knowledge sources that turn a case into texts: name -> { "type": id, ...options }.',
  },
  {
    key: 'challenge', kind: 'challenge', discriminator: 'type', many: false, coreKeys: ['type'],
    description: 'The challenge task this model is packaged for: { "type": id, ...options }.',
  },
];

/** The core schema of one component in a slot: its discriminator is required, other keys are the component's. */
export function coreComponentSchema(slot: ComponentSlot): JsonSchema {
  if (slot.discriminator === 'format') {
    return {
      type: 'object',
      properties: {
        format: { type: 'string', description: 'Dataset reader id.' },
        root: { type: 'string', description: 'Folder of the cohort; a relative path resolves against the folder of the config file mmsurv was given.' },
      },
      required: ['format'],
    };
  }
  return {
    type: 'object',
    properties: { type: { type: 'string', description: `Id of the ${slot.kind} to use.` } },
    required: ['type'],
  };
}

const trainSchema: JsonSchema = {
  type: 'object',
  description: 'Training and cross-validation settings.',
  properties: {
    folds: { type: 'integer', minimum: 2, default: 5, description: 'Cross-validation folds.' },
    epochs: { type: 'integer', minimum: 1, default: 20, description: 'Epochs per fold.' },
    batchSize: { type: 'integer', minimum: 1, default: 1, description: 'Cases per optimiser step (before gradient accumulation).' },
    lr: { type: 'number', exclusiveMinimum: 0, default: 1e-4, description: 'Learning rate.' },
    weightDecay: { type: 'number', minimum: 0, default: 0, description: 'Weight decay (L2 for adam/sgd, decoupled for adamw).' },
    optimizer: { enum: ['adam', 'adamw', 'radam', 'sgd'], default: 'adam', description: 'Optimiser.' },
    seed: { type: 'integer', default: 0, description: 'Seed of every random stream of the run (splits, init, sampling).' },
    maxPatches: {
      type: ['integer', 'null'], minimum: 1, default: 4096,
      description: 'Most patches per case in a training step: a random subset (seeded per epoch); all patches at evaluation. null: all.',
    },
    schedule: { enum: ['constant', 'cosine'], default: 'constant', description: 'Learning-rate schedule, stepped per optimiser step.' },
    warmupEpochs: { type: 'number', minimum: 0, default: 0, description: 'Linear warm-up of the learning rate over this many epochs.' },
    sampling: {
      enum: ['shuffle', 'balanced'], default: 'shuffle',
      description: 'Order of training cases per epoch: a shuffle, or class-balanced draws with replacement (equal weight to event and censored cases, as HKKH; binary heads: to positive and negative cases).',
    },
    evalTimes: {
      type: ['array', 'null'], items: { type: 'number', exclusiveMinimum: 0 }, default: null,
      description: 'Times for AUC(t), Brier(t) and the surv_<t> columns of oof.csv; null: the quartiles of the observed event times. Not used by binary heads.',
    },
    minEpochs: { type: 'integer', minimum: 1, default: 1, description: 'Model selection and early stopping consider epochs from this one on (SurvPGC: 10).' },
    gradAccumulation: { type: 'integer', minimum: 1, default: 1, description: 'Batches whose gradients are summed before a step.' },
    earlyStopping: {
      type: 'object',
      description: 'Stop a fold when the validation metric has not improved for `patience` epochs.',
      properties: {
        metric: { enum: ['c-index', 'loss'], default: 'c-index', description: "Validation metric to watch: Harrell's C (binary heads: ROC AUC, the concordance of a binary outcome) or the loss." },
        patience: { type: 'integer', minimum: 1, default: 10, description: 'Epochs without improvement before stopping.' },
      },
      additionalProperties: false,
    },
    selection: {
      enum: ['best', 'last'], default: 'best',
      description: 'Which epoch of a fold is kept: the best by the validation metric, or the last.',
    },
  },
  additionalProperties: false,
  default: {},
};

/** The core experiment schema: a fresh copy each call, so callers may extend it. */
export function coreSchema(): JsonSchema {
  const slots = Object.fromEntries(
    COMPONENT_SLOTS.map((slot) => {
      const component = coreComponentSchema(slot);
      const schema = slot.many
        ? { type: 'object', description: slot.description, additionalProperties: component }
        : { ...component, description: slot.description };
      return [slot.key, schema];
    }),
  );
  const schema: JsonSchema = {
    $schema: JSON_SCHEMA_2020_12,
    title: 'mmsurv experiment',
    description: 'An mmsurv experiment: cohort, model parts (encoders, fusion, head), knowledge sources, training and calibration.',
    type: 'object',
    properties: {
      $schema: { type: 'string', description: 'The JSON Schema editors check this file against (mmsurv schema writes it).' },
      _base_: {
        description: 'Config(s) this one inherits from, merged in order, then this file on top. Paths resolve against this file, then the mmsurv package.',
        anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
      },
      _sources_: {
        type: 'array', items: { type: 'string' },
        description: 'Files a resolved config came from (written by mmsurv into config.resolved.json).',
      },
      name: { type: 'string', description: 'Experiment name (the run folder name by default).' },
      description: { type: 'string', description: 'What this experiment tries.' },
      ...slots,
      train: trainSchema,
      llm: llmSectionSchema,
      calibration: {
        type: 'object',
        description: 'How risks become challenge outputs (e.g. Kaplan-Meier time calibration): { "type": id, ...options }.',
        properties: { type: { type: 'string', description: 'Calibration method.' } },
        required: ['type'],
      },
    },
    additionalProperties: false,
  };
  return structuredClone(schema);
}
