import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Case } from '../../../core/contracts/case.js';
import { makeSplits, readSplits, writeSplits } from '../../../core/data/splits.js';
import { SeededRandom } from '../../../core/services/random.js';

/** 97 patients; patients P000..P009 have two cases each (ids P00k-a / P00k-b). */
function cohort(): Case[] {
  const rng = new SeededRandom(7).fork('splits-test-cohort');
  const cases: Case[] = [];
  for (let p = 0; p < 97; p++) {
    const pid = `P${String(p).padStart(3, '0')}`;
    const event = rng.uniform() < 0.4;
    const time = Math.round(rng.uniform() * 1000) / 10 + 0.5;
    if (p < 10) {
      cases.push({ id: `${pid}-a`, label: { time, event }, meta: { patientId: pid } });
      cases.push({ id: `${pid}-b`, label: { time: time + 3, event: false }, meta: { patientId: pid } });
    } else {
      cases.push({ id: pid, label: { time, event } });
    }
  }
  return cases;
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'mmsurv-splits-'));
  dirs.push(d);
  return d;
}

describe('makeSplits', () => {
  const cases = cohort();
  const ids = cases.map((c) => c.id).sort();

  it('never leaks: train and val are disjoint, cover all cases, and each case is validated exactly once', () => {
    const s = makeSplits(cases, { folds: 5, seed: 1 });
    expect(s.assignments).toHaveLength(5);
    const valCount = new Map<string, number>();
    for (const a of s.assignments) {
      const train = new Set(a.train);
      expect(a.val.filter((id) => train.has(id))).toEqual([]);
      expect([...a.train, ...a.val].sort()).toEqual(ids);
      for (const id of a.val) valCount.set(id, (valCount.get(id) ?? 0) + 1);
    }
    expect([...valCount.keys()].sort()).toEqual(ids);
    expect([...valCount.values()].every((n) => n === 1)).toBe(true);
  });

  it('keeps all cases of a patient in the same fold', () => {
    const s = makeSplits(cases, { folds: 5, seed: 3 });
    for (let p = 0; p < 10; p++) {
      const pid = `P${String(p).padStart(3, '0')}`;
      const foldA = s.assignments.findIndex((a) => a.val.includes(`${pid}-a`));
      const foldB = s.assignments.findIndex((a) => a.val.includes(`${pid}-b`));
      expect(foldA).toBeGreaterThanOrEqual(0);
      expect(foldB).toBe(foldA);
    }
  });

  it('stratifies: each stratum is dealt evenly (±1 of its expected count per fold); fold sizes differ by at most 1', () => {
    for (const [folds, timeBins, seed] of [[5, 2, 11], [4, 3, 5], [10, 1, 2]] as const) {
      const s = makeSplits(cases, { folds, seed, timeBins });
      // recompute the strata independently, as documented: patient outcome = earliest event (else longest
      // follow-up); rank-quantile time bins over (time, id) within each event group
      const patientOf = (c: Case): string => c.meta?.patientId ?? c.id;
      const outcome = new Map<string, { time: number; event: boolean }>();
      for (const c of cases) {
        const o = outcome.get(patientOf(c));
        const l = c.label!;
        if (!o) outcome.set(patientOf(c), { ...l });
        else if (l.event && (!o.event || l.time < o.time)) outcome.set(patientOf(c), { ...l });
        else if (!l.event && !o.event && l.time > o.time) o.time = l.time;
      }
      const stratumOf = new Map<string, string>();
      for (const ev of [false, true]) {
        const group = [...outcome.entries()]
          .filter(([, o]) => o.event === ev)
          .sort(([a, oa], [b, ob]) => oa.time - ob.time || (a < b ? -1 : 1));
        group.forEach(([pid], rank) =>
          stratumOf.set(pid, `event=${ev ? 1 : 0}/time=${Math.floor((rank * timeBins) / group.length)}`));
      }
      const expectedStrata: Record<string, number> = {};
      for (const k of stratumOf.values()) expectedStrata[k] = (expectedStrata[k] ?? 0) + 1;
      expect(s.strata).toEqual(expectedStrata);

      const sizes: number[] = [];
      let eventsTotal = 0;
      const eventsPerFold: number[] = [];
      for (const a of s.assignments) {
        const patients = new Set(a.val.map((id) => patientOf(cases.find((c) => c.id === id)!)));
        sizes.push(patients.size);
        for (const [key, n] of Object.entries(expectedStrata)) {
          const inFold = [...patients].filter((p) => stratumOf.get(p) === key).length;
          expect(Math.abs(inFold - n / folds)).toBeLessThan(1);
        }
        const ev = [...patients].filter((p) => outcome.get(p)!.event).length;
        eventsPerFold.push(ev);
        eventsTotal += ev;
      }
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      // the event count per fold is within one case per event stratum of the expected count
      for (const ev of eventsPerFold) expect(Math.abs(ev - eventsTotal / folds)).toBeLessThanOrEqual(timeBins);
    }
  });

  it('is deterministic by seed and independent of input order', () => {
    const a = makeSplits(cases, { folds: 5, seed: 42 });
    const b = makeSplits([...cases].reverse(), { folds: 5, seed: 42 });
    const c = makeSplits(cases, { folds: 5, seed: 43 });
    expect(b.hash).toBe(a.hash);
    expect(b.assignments).toEqual(a.assignments);
    expect(c.hash).not.toBe(a.hash);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects unlabeled cases, bad fold counts and duplicate ids with errors that say what to do', () => {
    const unlabeled: Case[] = [...cases, { id: 'X1' }, { id: 'X2' }];
    expect(() => makeSplits(unlabeled, { folds: 5, seed: 1 })).toThrow(/cases without one: X1, X2/);
    expect(() => makeSplits(cases, { folds: 1, seed: 1 })).toThrow(/folds must be an integer in \[2, number of patients = 97\], found 1/);
    expect(() => makeSplits(cases, { folds: 98, seed: 1 })).toThrow(/found 98/);
    expect(() => makeSplits(cases.slice(0, 4), { folds: 3, seed: 1 })).toThrow(/number of patients = 2/);
    expect(() => makeSplits([...cases, cases[30]!], { folds: 5, seed: 1 })).toThrow(/appears twice/);
  });
});

describe('makeSplits with a binary target', () => {
  // 53 patients, 17 positive; some patients have two cases, one of them positive
  const cases: Case[] = Array.from({ length: 60 }, (_, i) => {
    const pid = `B${String(i % 53).padStart(3, '0')}`;
    return { id: `c${String(i).padStart(3, '0')}`, binary: { positive: (i % 53) % 3 === 0 && i < 53 }, meta: { patientId: pid } };
  });

  it('stratifies by class: each fold gets floor or ceil of each class / folds; patients stay together; a patient with any positive case is positive', () => {
    const s = makeSplits(cases, { folds: 5, seed: 4, target: 'binary' });
    expect(Object.keys(s.strata).sort()).toEqual(['class=0', 'class=1']);
    expect(s.strata['class=1']).toBe(18);
    expect(s.strata['class=0']).toBe(35);
    const positivePatients = new Set(cases.filter((c) => c.binary!.positive).map((c) => c.meta!.patientId));
    for (const a of s.assignments) {
      const pats = new Set(a.val.map((id) => cases.find((c) => c.id === id)!.meta!.patientId!));
      const pos = [...pats].filter((p) => positivePatients.has(p)).length;
      expect([3, 4]).toContain(pos);
      expect([7]).toContain(pats.size - pos);
      for (const id of a.val) expect(a.train).not.toContain(id);
    }
    // the same patients' second cases follow them
    for (const a of s.assignments) {
      for (const id of a.val) {
        const pid = cases.find((c) => c.id === id)!.meta!.patientId;
        for (const other of cases.filter((c) => c.meta!.patientId === pid)) expect(a.val).toContain(other.id);
      }
    }
  });

  it('needs a binary label on every case, and survival labels do not stand in for it', () => {
    expect(() => makeSplits([{ id: 'a', label: { time: 3, event: true } }, { id: 'b', binary: { positive: true } }], { folds: 2, seed: 1, target: 'binary' }))
      .toThrow(/every case needs a binary label to be stratified; cases without one: a/);
  });
});

describe('writeSplits / readSplits', () => {
  const cases = cohort();

  it('round-trips and verifies the hash', async () => {
    const s = makeSplits(cases, { folds: 5, seed: 9 });
    const path = join(tempDir(), 'splits.json');
    await writeSplits(path, s);
    expect(await readSplits(path)).toEqual(s);
  });

  it('refuses a file whose assignments were edited', async () => {
    const s = makeSplits(cases, { folds: 5, seed: 9 });
    const path = join(tempDir(), 'splits.json');
    await writeSplits(path, s);
    const edited = JSON.parse(readFileSync(path, 'utf8'));
    const moved = edited.assignments[0].val.pop();
    edited.assignments[1].val.push(moved);
    writeFileSync(path, JSON.stringify(edited));
    await expect(readSplits(path)).rejects.toThrow(/the file was edited/);
  });

  it('refuses malformed files with the reason', async () => {
    const path = join(tempDir(), 'bad.json');
    writeFileSync(path, '{"version": 2}');
    await expect(readSplits(path)).rejects.toThrow(/expected "version": 1/);
    writeFileSync(path, 'not json');
    await expect(readSplits(path)).rejects.toThrow(/expected JSON/);
  });
});
