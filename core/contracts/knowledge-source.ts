/**
 * KnowledgeSource: a Case -> texts that carry prior knowledge (clinical prompts, refined reports, background
 * knowledge per cancer type, a teacher LLM's answer).
 *
 * When it runs: before training (`mmsurv knowledge build`), for every case of the cohort; texts that need an LLM
 * are cached (core/llm/knowledge-cache.ts) by source id, model id (the GGUF file's hash), prompt identity and the
 * hash of the case content the source reads, so training, re-runs and the container only read them; a miss (a new
 * case, a changed prompt or model) is computed and added.
 *
 * Invariants
 * - `textsFor` is deterministic for a given case, configuration and model (seeded generation).
 * - It never reads the case's label (knowledge must be available at test time).
 * - An empty array means "nothing known for this case"; the text encoder then yields no knowledge tokens.
 * - A source with `needsLanguageModel` implements `cacheIdentity` (what its texts depend on besides the case) and
 *   `caseContent` (the part of the case it reads); two cases with equal content get the same texts, so a cancer-type
 *   source (e.g. background knowledge) is computed once per type.
 * - LLM answers are schema-checked (`generateJson` in core/llm); a source never keeps a non-conforming answer.
 *
 * @example
 * const texts = await source.textsFor(c);
 * // [{ role: 'clinical-prompt', field: 'age', text: 'The age is 71 years old.' }, ...]
 */
import type { Case } from './case.js';

/**
 * 'clinical-prompt': a clinical variable as a sentence; 'report': an (LLM-refined) expert report statement;
 * 'pbk': prognostic background knowledge of the cancer type; 'teacher': a teacher LLM's verbalised survival (JSON);
 * 'verbalised': the student LLM's own verbalised survival (JSON), used at prediction.
 */
export type KnowledgeRole = 'clinical-prompt' | 'report' | 'pbk' | 'teacher' | 'verbalised';

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
  /**
   * True when only training reads the texts (e.g. a teacher LLM's answers, a distillation target): prediction
   * (`predict`, containers) skips the source, so the teacher model is never needed at test time.
   */
  readonly trainingOnly?: boolean;
  textsFor(c: Case): Promise<KnowledgeText[]>;
  /**
   * LLM sources: the model id and the prompt identity (template, schema and generation settings as one string)
   * the texts depend on. May load the model (to learn its id).
   */
  cacheIdentity?(): Promise<{ model: string; prompt: string }>;
  /** LLM sources: the part of the case the texts depend on (hashed into the cache key); never the label. */
  caseContent?(c: Case): unknown;
}
