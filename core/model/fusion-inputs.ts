/**
 * Checks shared by fusions that give modalities roles (pathology, genomic, clinical ...): at build time every role's
 * modality must have an encoder; at fuse time a present modality's tokens must have the width given to build.
 * Errors say what was expected, what was found, and where (the component's config path).
 *
 * @example
 * const widths = roleWidths(inputDims, { pathology: 'wsi', genomic: 'rna' }, ctx.path, 'survpath');
 * const g = roleTokens(tokens, 'rna', widths.genomic, ctx.path);   // tf.Tensor2D | null
 */
import type * as tf from '@tensorflow/tfjs';
import type { Logger } from '../contracts/logger.js';

/** The token width of each role's modality; throws when a role's modality has no encoder or two roles share one. */
export function roleWidths<R extends string>(
  inputDims: ReadonlyMap<string, number>,
  roles: Readonly<Record<R, string>>,
  path: string,
  fusionId: string,
): Record<R, number> {
  const configured = [...inputDims.keys()];
  const out = {} as Record<R, number>;
  const seen = new Map<string, string>();
  for (const [role, modality] of Object.entries(roles) as [R, string][]) {
    const other = seen.get(modality);
    if (other) throw new Error(`${path}: options '${other}' and '${role}' both name modality '${modality}'; the '${fusionId}' fusion needs a different modality per role`);
    seen.set(modality, role);
    const width = inputDims.get(modality);
    if (width === undefined) {
      throw new Error(
        `${path}: the '${fusionId}' fusion needs tokens of modality '${modality}' (option '${role}'), but no encoder is configured for it; ` +
          `configured: ${configured.length ? configured.join(', ') : 'none'}. Add encoders.${modality}, or set '${role}' to one of the configured modalities`,
      );
    }
    if (!Number.isInteger(width) || width <= 0) throw new Error(`${path}: modality '${modality}' has token width ${width}; expected a positive integer`);
    out[role] = width;
  }
  return out;
}

/** Tell the user about configured modalities a fusion does not read (they would silently not count). */
export function warnUnusedModalities(inputDims: ReadonlyMap<string, number>, used: readonly string[], path: string, fusionId: string, logger: Logger): void {
  const unused = [...inputDims.keys()].filter((m) => !used.includes(m));
  if (unused.length) logger.warn(`${path}: the '${fusionId}' fusion reads ${used.join(', ')}; the tokens of ${unused.join(', ')} are not used`);
}

/** The tokens of `modality` when the case has them (null otherwise), after checking their shape. */
export function roleTokens(tokens: ReadonlyMap<string, tf.Tensor2D>, modality: string, width: number, path: string): tf.Tensor2D | null {
  const t = tokens.get(modality);
  if (!t) return null;
  if (t.rank !== 2 || t.shape[1] !== width || t.shape[0] < 1) {
    throw new Error(`${path}: modality '${modality}' tokens have shape [${t.shape.join(', ')}], expected [n >= 1, ${width}] (the width given to build())`);
  }
  return t;
}
