/**
 * Built-in prognostic background knowledge (PBK) for `kemm.background` without an LLM (choice here: KEMM generates
 * its PBK with an LLM; these hand-written sentences are plain, well-known clinical statements, not taken from any
 * guideline text). Keys are normalised cancer types (lower case, single spaces); each entry lists the aliases that
 * select it.
 */

export interface BuiltInBackground {
  cancerType: string;
  aliases: readonly string[];
  facts: readonly string[];
}

export const BUILT_IN_BACKGROUND: readonly BuiltInBackground[] = [
  {
    cancerType: 'bladder cancer',
    aliases: [
      'bladder', 'bladder cancer', 'urothelial carcinoma', 'urothelial bladder cancer', 'bladder urothelial carcinoma',
      'nmibc', 'non-muscle-invasive bladder cancer', 'non muscle invasive bladder cancer',
    ],
    facts: [
      'In non-muscle-invasive bladder cancer, high-grade T1 tumours invading the lamina propria carry the highest risk of recurrence and of progression to muscle-invasive disease.',
      'High tumour grade predicts progression, whereas low-grade papillary tumours often recur but rarely progress.',
      'Concomitant carcinoma in situ and lymphovascular invasion are associated with a higher risk of progression.',
      'Multiple tumours, a tumour diameter of 3 cm or more and early or frequent previous recurrences predict recurrence.',
      'Variant histology, such as micropapillary or plasmacytoid differentiation, indicates aggressive disease.',
      'Recurrence of high-grade disease after adequate intravesical BCG therapy marks a high risk of progression, for which radical cystectomy is often considered.',
    ],
  },
];

/** A cancer type as a lookup key: trimmed, white space collapsed, lower case. */
export function cancerTypeKey(type: string): string {
  return type.replace(/\s+/g, ' ').trim().toLowerCase();
}

/** The built-in entry for a cancer type (by alias), if any. */
export function builtInBackground(type: string): BuiltInBackground | undefined {
  const key = cancerTypeKey(type);
  return BUILT_IN_BACKGROUND.find((b) => b.aliases.includes(key));
}
