/**
 * Plain-text statements of an expert report without an LLM (KEMM's report path when no model is configured):
 * whitespace normalised, split into paragraphs and list items, then into sentences.
 *
 * - A line without a letter (blank, a separator such as `---`, stray numbering) ends a paragraph and is dropped; a
 *   line that starts a list item (`-`, `*`, `•`, `1.`, `2)`) starts a new one, without its marker. Other line breaks
 *   are hard wraps and read as spaces.
 * - A sentence ends at `.`, `!` or `?` (closing quotes and brackets included) followed by white space and an
 *   upper-case letter, a digit or an opening quote or bracket, unless the word before the stop is a common
 *   abbreviation (e.g., i.e., approx., vs., Dr., No., Fig.). Decimals ("2.5 cm") never split.
 * - Statements without a letter are dropped.
 *
 * @example
 * splitStatements('Urothelial carcinoma, high grade.  LVI is present.\n- CIS: yes')
 * // ['Urothelial carcinoma, high grade.', 'LVI is present.', 'CIS: yes']
 */

const ABBREVIATIONS = new Set(['e.g', 'i.e', 'eg', 'ie', 'approx', 'vs', 'dr', 'no', 'nr', 'fig', 'cf', 'ca', 'mr', 'mrs', 'ms', 'prof', 'resp', 'incl', 'max', 'min', 'etc']);
const LIST_ITEM = /^\s*(?:[-*\u2022\u00b7]|\d{1,2}[.)])\s+/;
const SENTENCE_END = /([.!?]+)(["'\u2019\u201d)\]]*)\s+(?=["'\u2018\u201c(\[]?[A-Z0-9])/g;

/** Runs of white space (any kind) -> one space; trimmed. */
export function normaliseWhitespace(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function paragraphs(text: string): string[] {
  const out: string[] = [];
  let current: string[] = [];
  const close = () => {
    if (current.length) out.push(normaliseWhitespace(current.join(' ')));
    current = [];
  };
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (!/\p{L}/u.test(line)) {
      close();
    } else if (LIST_ITEM.test(line)) {
      close();
      current.push(line.replace(LIST_ITEM, ''));
    } else {
      current.push(line);
    }
  }
  close();
  return out.filter((p) => p !== '');
}

function sentences(paragraph: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (const m of paragraph.matchAll(SENTENCE_END)) {
    const stop = m.index + m[1]!.length + m[2]!.length;
    const before = paragraph.slice(start, m.index).split(' ').pop()!.replace(/^["'(\[\u2018\u201c]+/, '').toLowerCase();
    if (m[1] === '.' && ABBREVIATIONS.has(before)) continue;
    out.push(paragraph.slice(start, stop).trim());
    start = m.index + m[0].length;
  }
  out.push(paragraph.slice(start).trim());
  return out;
}

/** The report's statements, in reading order (see the file comment). */
export function splitStatements(report: string): string[] {
  return paragraphs(report).flatMap(sentences).filter((s) => /\p{L}/u.test(s));
}
