/**
 * Merging experiment configs, the way `_base_` inheritance does it.
 *
 * - Objects merge recursively; for a key present in both, the override's value wins.
 * - Arrays and scalars replace (an override array is never concatenated to the base array).
 * - An override object with `"_delete_": true` replaces the base value entirely instead of merging into it.
 *   `_delete_` is stripped from the result, at every depth, whatever its value.
 * - Inputs are never mutated and the result shares no object or array with them.
 *
 * @example
 * mergeConfigs({ fusion: { type: 'concat', dim: 256 } }, { fusion: { _delete_: true, type: 'kronecker' } })
 * // -> { fusion: { type: 'kronecker' } }
 */

export type ConfigObject = Record<string, unknown>;

/** The key that turns a merge into a replacement. */
export const DELETE_KEY = '_delete_';

/** A JSON object (not an array, not null, not a class instance such as a Date). */
export function isPlainObject(value: unknown): value is ConfigObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Sets an own property, even one named `__proto__` (JSON.parse makes those), without touching prototypes. */
function setKey(target: ConfigObject, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A deep copy of a JSON-like value with every `_delete_` key removed. */
export function stripDeleteMarkers(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripDeleteMarkers);
  if (isPlainObject(value)) {
    const out: ConfigObject = {};
    for (const [k, v] of Object.entries(value)) {
      if (k !== DELETE_KEY) setKey(out, k, stripDeleteMarkers(v));
    }
    return out;
  }
  return value;
}

function mergeValue(base: unknown, override: unknown): unknown {
  if (!isPlainObject(override)) return stripDeleteMarkers(override);
  if (override[DELETE_KEY] === true || !isPlainObject(base)) return stripDeleteMarkers(override);
  const out = stripDeleteMarkers(base) as ConfigObject;
  for (const [k, v] of Object.entries(override)) {
    if (k === DELETE_KEY || v === undefined) continue;
    setKey(out, k, Object.hasOwn(out, k) ? mergeValue(out[k], v) : stripDeleteMarkers(v));
  }
  return out;
}

/**
 * `override` merged onto `base`: a new object. A top-level `"_delete_": true` in `override` returns (a copy of)
 * `override` alone.
 */
export function mergeConfigs(base: ConfigObject, override: ConfigObject): ConfigObject {
  return mergeValue(base, override) as ConfigObject;
}
