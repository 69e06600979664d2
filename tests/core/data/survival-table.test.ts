import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSurvivalTable } from '../../../core/data/survival-table.js';

const dir = mkdtempSync(join(tmpdir(), 'mmsurv-survtable-'));
const write = (name: string, text: string): string => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};
const cols = { time: 'time', event: 'event', risk: 'risk' };

describe('readSurvivalTable', () => {
  it('reads time 0, true/false events and S(t) columns written as other spellings of the same number', async () => {
    const f = write('a.csv', 'id,time,event,risk,surv_365.0,surv_1095\na,0,1,0.2,0.9,0.5\nb,400,false,-1,0.95,0.7\n');
    const t = await readSurvivalTable(f, { ...cols, times: ['365', '1095'] });
    expect(t.time).toEqual([0, 400]);
    expect(t.event).toEqual([1, 0]);
    expect(t.risk).toEqual([0.2, -1]);
    expect(t.surv).toEqual([[0.9, 0.5], [0.95, 0.7]]);
    expect(t.missingSurvColumns).toEqual([]);
  });

  it('reports absent S(t) columns instead of failing when none are there', async () => {
    const f = write('b.csv', 'time,event,risk\n5,1,0.2\n');
    const t = await readSurvivalTable(f, { ...cols, times: ['365'] });
    expect(t.surv).toBeUndefined();
    expect(t.missingSurvColumns).toEqual(['surv_365']);
  });

  it('refuses a negative time, an S(t) outside [0, 1] and an ambiguous duplicated column, naming file and line', async () => {
    const neg = write('c.csv', 'time,event,risk\n5,1,0.2\n-3,0,0.1\n');
    await expect(readSurvivalTable(neg, cols)).rejects.toThrow(`${neg}:3: column 'time': expected a time >= 0, found -3`);
    const s = write('d.csv', 'time,event,risk,surv_1\n5,1,0.2,1.2\n');
    await expect(readSurvivalTable(s, { ...cols, times: ['1'] })).rejects.toThrow(`${s}:2: column 'surv_1': expected a survival probability in [0, 1], found 1.2`);
    const dup = write('e.csv', 'time,event,risk,risk\n5,1,0.2,0.3\n');
    await expect(readSurvivalTable(dup, cols)).rejects.toThrow(/the column 'risk' appears twice/);
    const empty = write('f.csv', 'time,event,risk\n');
    await expect(readSurvivalTable(empty, cols)).rejects.toThrow(`${empty}: no rows`);
  });
});
