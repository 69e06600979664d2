import { describe, expect, it } from 'vitest';
import { drawReport } from '../../../core/data/synth/report.js';
import { SeededRandom } from '../../../core/services/random.js';
import { normaliseWhitespace, splitStatements } from '../../../plugins/kemm/report-sentences.js';

describe('kemm report sentences', () => {
  it('splits at sentence stops followed by a capital, digit or bracket, and normalises white space', () => {
    expect(splitStatements('  Urothelial carcinoma,\thigh grade.   Lymphovascular invasion is present!  Is CIS seen? No. ')).toEqual([
      'Urothelial carcinoma, high grade.', 'Lymphovascular invasion is present!', 'Is CIS seen?', 'No.',
    ]);
    expect(splitStatements('Tumour (pT1). "Margins" are free. (See block A.) 3 lymph nodes are negative.')).toEqual([
      'Tumour (pT1).', '"Margins" are free.', '(See block A.)', '3 lymph nodes are negative.',
    ]);
    expect(normaliseWhitespace(' a \n\t b  ')).toBe('a b');
  });

  it('keeps decimals, common abbreviations and lower-case continuations inside a sentence', () => {
    expect(splitStatements('The tumour measures 2.5 cm. Invasion, e.g. Into the lamina propria, is seen. Approx. 30% necrosis.')).toEqual([
      'The tumour measures 2.5 cm.', 'Invasion, e.g. Into the lamina propria, is seen.', 'Approx. 30% necrosis.',
    ]);
    expect(splitStatements('Grade 3 vs. Grade 2 areas (cf. Fig. 2). done. next sentence.')).toEqual([
      'Grade 3 vs. Grade 2 areas (cf. Fig. 2). done. next sentence.',
    ]);
  });

  it('reads hard-wrapped lines as one paragraph; blank lines and list items start new statements; drops letterless ones', () => {
    const report = [
      'DIAGNOSIS: papillary urothelial carcinoma,',
      'high grade, invading the lamina propria',
      '',
      '- carcinoma in situ: present',
      '* LVI: absent',
      '2) Detrusor muscle present. Free of tumour.',
      '---',
      '1.',
    ].join('\n');
    expect(splitStatements(report)).toEqual([
      'DIAGNOSIS: papillary urothelial carcinoma, high grade, invading the lamina propria',
      'carcinoma in situ: present',
      'LVI: absent',
      'Detrusor muscle present.',
      'Free of tumour.',
    ]);
    expect(splitStatements('')).toEqual([]);
    expect(splitStatements(' \n \r\n ')).toEqual([]);
  });

  it('recovers the 2-3 sentences of every synthetic report', () => {
    const rng = new SeededRandom(3, 'reports');
    for (let i = 0; i < 50; i++) {
      const u = rng.normal();
      const report = drawReport(rng, u, { LVI: i % 3 === 0 ? 'Yes' : i % 3 === 1 ? 'No' : null } as never, rng.uniform() < 0.5, rng.uniform() < 0.5);
      const sentences = splitStatements(report);
      expect(sentences.join(' ')).toBe(report);
      expect(sentences.length).toBeGreaterThanOrEqual(2);
      expect(sentences.length).toBeLessThanOrEqual(3);
      for (const s of sentences) expect(s).toMatch(/^[A-Z].*\.$/);
    }
  });
});
