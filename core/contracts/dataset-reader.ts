/**
 * DatasetReader: a cohort on disk -> Case[].
 *
 * Registered under the `dataset` kind; a config selects one with `"data": { "format": id, "root": DIR, ...options }`.
 *
 * Invariants
 * - `read` never modifies the cohort directory.
 * - Case ids are unique; every returned label satisfies the SurvivalLabel invariants. A file that breaks the format
 *   is an error naming the file, the case id and (for JSON) the key, with what was expected and what was found.
 * - Patch features are not loaded: bags carry n, dim and their source (see Case); `loadPatchBag` loads them.
 * - `geneOrder`, when present, is the order every RNA profile is aligned to (the first case's file order is never
 *   trusted: readers return a sorted union unless the cohort declares an order).
 *
 * @example
 * const reader = registries.dataset.build({ format: 'manifest' }, ctx, 'format');
 * const cohort = await reader.read('data/demo');
 * console.log(cohort.cases.length, cohort.geneOrder?.length);
 */
import type { Case } from './case.js';

export interface Cohort {
  /** Absolute path of the cohort root. */
  root: string;
  /** Dataset reader id that produced it. */
  format: string;
  cases: Case[];
  /** Gene order of the cohort's RNA profiles, when any case has RNA. */
  geneOrder?: string[];
  /** Unit of label times (e.g. 'months'), when known. */
  timeUnit?: string;
  /** Non-fatal findings (a case without features, an unknown clinical value), one line each. */
  warnings: string[];
}

export interface DatasetReader {
  /** Read the cohort under `root` (options were bound when the reader was created from the config). */
  read(root: string): Promise<Cohort>;
}
