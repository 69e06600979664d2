/**
 * KnowledgeSource: a Case -> texts that carry prior knowledge (clinical prompts, refined reports, background
 * knowledge per cancer type, a teacher LLM's answer).
 *
 * When it runs: before training (`mmsurv knowledge build`); texts that need an LLM are cached by source id, model
 * hash, prompt hash and case content hash, so training and the container only read them.
 *
 * Invariants
 * - `textsFor` is deterministic for a given case, configuration and model (seeded generation).
 * - It never reads the case's label (knowledge must be available at test time).
 * - An empty array means "nothing known for this case"; the text encoder then yields no knowledge tokens.
 *
 * @example
 * const texts = await source.textsFor(c);
 * // [{ role: 'clinical-prompt', field: 'age', text: 'The age is 71 years old.' }, ...]
 */
import type { Case } from './case.js';

export type KnowledgeRole = 'clinical-prompt' | 'report' | 'pbk' | 'teacher';

export interface KnowledgeText {
  role: KnowledgeRole;
  text: string;
  /** The clinical field or report section this text came from, when any. */
  field?: string;
}

export interface KnowledgeSource {
  readonly id: string;
  /** True when `textsFor` needs a LanguageModel (and so runs in `mmsurv knowledge build`). */
  readonly needsLanguageModel: boolean;
  textsFor(c: Case): Promise<KnowledgeText[]>;
}
