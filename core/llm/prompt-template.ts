/**
 * Prompt templates of LLM knowledge sources: `{name}` placeholders, checked when the source is created (an unknown
 * or missing placeholder is a config error, not a silent blank in every prompt).
 *
 * @example
 * checkTemplate('Rewrite: {report}', ['report', 'maxStatements'], ['report'], 'knowledge.report.prompt');
 * fillTemplate('Rewrite: {report}', { report: 'High-grade urothelial carcinoma.' });
 */

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9]*)\}/g;

/** The placeholder names a template uses. */
export function placeholdersOf(template: string): Set<string> {
  return new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]!));
}

/** Throws when `template` uses a placeholder outside `allowed` or lacks one of `required`. */
export function checkTemplate(template: string, allowed: readonly string[], required: readonly string[], where: string): void {
  const used = placeholdersOf(template);
  const list = (names: readonly string[]) => names.map((n) => `{${n}}`).join(', ');
  const unknown = [...used].filter((n) => !allowed.includes(n));
  if (unknown.length) throw new Error(`${where}: unknown placeholder ${list(unknown)}; expected only ${list(allowed)}`);
  const missing = required.filter((n) => !used.has(n));
  if (missing.length) throw new Error(`${where}: expected the placeholder ${list(missing)} in the prompt template, found none`);
}

/** The template with every known placeholder replaced (others are left as written). */
export function fillTemplate(template: string, vars: Readonly<Record<string, string | number>>): string {
  return template.replace(PLACEHOLDER, (m, name: string) => (Object.hasOwn(vars, name) ? String(vars[name]) : m));
}
