/**
 * GMT gene-set files (the Broad/MSigDB format): one gene set per line,
 *
 *   name<TAB>description<TAB>gene1<TAB>gene2...
 *
 * Blank lines are skipped; trailing tabs and a Windows line end are tolerated; a gene repeated within one set counts
 * once (first position kept). Errors name the file and line: a line without TABs (e.g. space-separated), an empty
 * name, a set without genes, a name used twice.
 *
 * @example
 * const sets = readGmt('data/pathways.gmt');   // [{ name: 'HALLMARK_HYPOXIA', description: '...', genes: ['ADM', ...] }]
 */
import { readFileSync } from 'node:fs';

export interface GeneSet {
  name: string;
  description: string;
  /** Member gene symbols in file order, without duplicates. */
  genes: string[];
}

const EXAMPLE = 'name<TAB>description<TAB>gene1<TAB>gene2...';

/** Parse GMT text; `source` names it in errors (a path, or e.g. '<inline>'). */
export function parseGmt(text: string, source: string): GeneSet[] {
  const sets: GeneSet[] = [];
  const lineOf = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    const fields = raw.split('\t');
    while (fields.length > 0 && fields[fields.length - 1]!.trim() === '') fields.pop();
    if (fields.length < 2) {
      const hint = /\s/.test(raw.trim()) ? ' (fields must be separated by TABs, not spaces)' : '';
      throw new Error(`${source}:${line}: expected a gene set line '${EXAMPLE}', found ${fields.length} field${hint}: ${JSON.stringify(raw.slice(0, 80))}`);
    }
    const name = fields[0]!.trim();
    if (name === '') throw new Error(`${source}:${line}: the gene set name (first field) is empty; expected '${EXAMPLE}'`);
    const previous = lineOf.get(name);
    if (previous !== undefined) throw new Error(`${source}:${line}: gene set ${JSON.stringify(name)} was already defined on line ${previous}; names must be unique`);
    const genes = [...new Set(fields.slice(2).map((g) => g.trim()).filter((g) => g !== ''))];
    if (genes.length === 0) throw new Error(`${source}:${line}: gene set ${JSON.stringify(name)} lists no genes; expected '${EXAMPLE}'`);
    lineOf.set(name, line);
    sets.push({ name, description: fields[1]!.trim(), genes });
  });
  if (sets.length === 0) throw new Error(`${source}: no gene sets found; expected lines '${EXAMPLE}'`);
  return sets;
}

/** Read and parse a GMT file (synchronously: encoders read it inside `fit`). */
export function readGmt(path: string): GeneSet[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${path}: cannot read the GMT gene-set file (${code ?? (err as Error).message})${code === 'ENOENT' ? '; check the path (relative paths resolve against the working directory)' : ''}`);
  }
  return parseGmt(text, path);
}
