import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import type { Case } from '../../../core/contracts/case.js';
import { CHIMERA_TASK3_CLINICAL_KEYS } from '../../../core/data/synth/clinical.js';
import { PROMPT_PRESETS } from '../../../plugins/survpgc/clinical-prompt-presets.js';
import {
  canonicalValue,
  CLINICAL_PROMPT_DEFAULTS,
  ClinicalPromptSource,
  clinicalPromptsSpec,
  type ClinicalPromptOptions,
} from '../../../plugins/survpgc/clinical-prompts.js';
import { testContext } from '../../support/context.js';

const source = (options: Partial<ClinicalPromptOptions> = {}) => new ClinicalPromptSource(options, testContext('knowledge.0'));
const texts = async (s: ClinicalPromptSource, c: Case) => (await s.textsFor(c)).map((t) => t.text);

const tcga: Case = {
  id: 'TCGA-2Y-A9GS',
  clinical: { subtype: 'Hepatocellular carcinoma', age: 58, sex: 'male', stage: 'Stage IV', edition: '6th', race: 'white' },
};

describe('survpgc.clinical-prompts', () => {
  it('writes the paper\'s six sentences for the survpgc preset, in order, with role and field', async () => {
    const s = source();
    expect(s.id).toBe('survpgc.clinical-prompts');
    expect(s.needsLanguageModel).toBe(false);
    expect(await s.textsFor(tcga)).toEqual([
      { role: 'clinical-prompt', field: 'subtype', text: 'The sample belongs to subtype Hepatocellular carcinoma.' },
      { role: 'clinical-prompt', field: 'age', text: 'The age is 58 years old.' },
      { role: 'clinical-prompt', field: 'sex', text: 'This is a male.' },
      { role: 'clinical-prompt', field: 'stage', text: 'The patient has been diagnosed with a Stage IV tumor.' },
      { role: 'clinical-prompt', field: 'edition', text: 'This diagnosis relies on the 6th edition of the criteria.' },
      { role: 'clinical-prompt', field: 'race', text: 'The person is white.' },
    ]);
  });

  it('phrases missing values (null, -1, "", "NA", "unknown", absent key) as unknown', async () => {
    const c: Case = { id: 'm', clinical: { subtype: null, age: -1, sex: '', stage: 'NA', edition: ' Unknown ' } };
    expect(await texts(source(), c)).toEqual([
      'The subtype is unknown.',
      'The age is unknown.',
      'The sex is unknown.',
      'The tumor stage is unknown.',
      'The edition of the staging criteria is unknown.',
      'The race is unknown.',
    ]);
    const custom = source({ unknownTemplate: 'No {label} ({field}) was recorded.', unknownTemplates: { age: 'The age was not recorded.' } });
    expect((await texts(custom, c)).slice(0, 3)).toEqual([
      'No subtype (subtype) was recorded.', 'The age was not recorded.', 'No sex (sex) was recorded.',
    ]);
    expect(await texts(source({ missingMarkers: [] }), { id: 'n', clinical: { age: -1 } })).toContain('The age is -1 years old.');
  });

  it('formats numbers plainly: integers without decimals, others to 3 significant digits', async () => {
    const s = source({ fields: ['age'] });
    const age = async (v: string | number) => (await texts(s, { id: 'a', clinical: { age: v } }))[0];
    expect(await age(71)).toBe('The age is 71 years old.');
    expect(await age(71.0)).toBe('The age is 71 years old.');
    expect(await age(70.456)).toBe('The age is 70.5 years old.');
    expect(await age(0.012345)).toBe('The age is 0.0123 years old.');
    expect(await age('64.0')).toBe('The age is 64 years old.');
    expect(canonicalValue(1234.5)).toBe('1230');
    expect(canonicalValue(' T1HG ')).toBe('T1HG');
  });

  it('uses custom templates, values, labels and keys; fields set the order', async () => {
    const s = source({
      fields: ['race', 'gender', 'age'],
      templates: { gender: 'The patient is {value}.', age: 'Age: {value}.' },
      values: { gender: { male: 'a man', female: 'a woman' } },
      keys: { gender: 'sex' },
      labels: { gender: 'gender' },
    });
    expect(await s.textsFor(tcga)).toEqual([
      { role: 'clinical-prompt', field: 'race', text: 'The person is white.' },
      { role: 'clinical-prompt', field: 'gender', text: 'The patient is a man.' },
      { role: 'clinical-prompt', field: 'age', text: 'Age: 58.' },
    ]);
    expect((await texts(s, { id: 'x', clinical: {} }))[1]).toBe('The gender is unknown.');
    // fields null: the preset's fields, then the extra template fields
    const extra = source({ templates: { grade: 'The tumor grade is {value}.' } });
    expect((await extra.textsFor({ id: 'g', clinical: { grade: 'G3' } })).map((t) => t.field)).toEqual([
      'subtype', 'age', 'sex', 'stage', 'edition', 'race', 'grade',
    ]);
    expect(await texts(source({ fields: ['edition', 'subtype'] }), tcga)).toEqual([
      'This diagnosis relies on the 6th edition of the criteria.',
      'The sample belongs to subtype Hepatocellular carcinoma.',
    ]);
  });

  it('chimera-task3: one natural sentence for every CHIMERA Task 3 clinical key', async () => {
    const s = source({ preset: 'chimera-task3' });
    expect(s.fieldKeys().map(([f]) => f)).toEqual([...CHIMERA_TASK3_CLINICAL_KEYS]);
    const c: Case = {
      id: '3A_001',
      clinical: {
        age: 71, sex: 'Male', smoking: 'Yes', tumor: 'Primary', stage: 'T1HG', substage: 'T1e', grade: 'G3', reTUR: 'No',
        LVI: null, variant: 'UCC + Variant', EORTC: 'Highest risk', no_instillations: 12, BRS: 'BRS3',
      },
    };
    expect(await texts(s, c)).toEqual([
      'The patient is 71 years old.',
      'The patient is male.',
      'The patient is a smoker.',
      'This is a primary tumor.',
      'The patient has been diagnosed with a T1 high-grade tumor.',
      'The T1 substage is T1e (extensive lamina propria invasion).',
      'The tumor grade is G3 (poorly differentiated).',
      'A second transurethral resection (re-TUR) was not performed.',
      'The lymphovascular invasion status is unknown.',
      'The histology is urothelial cell carcinoma with variant histology.',
      'The EORTC risk group is highest risk.',
      'The patient received 12 BCG instillations.',
      'The BCG response subtype is BRS3.',
    ]);
    // an unseen category is written as it is, never a crash
    expect((await texts(s, { id: 'u', clinical: { stage: 'Tis' } }))[4]).toBe('The patient has been diagnosed with a Tis tumor.');
  });

  it('chimera-task1: the prostate keys, with 0/1 flags and "x" read correctly', async () => {
    const s = source({ preset: 'chimera-task1' });
    const c: Case = {
      id: '1001',
      clinical: {
        age_at_prostatectomy: 66, primary_gleason: 3, secondary_gleason: 4, tertiary_gleason: 5, ISUP: 2, pre_operative_PSA: 8.346,
        pT_stage: '3a', positive_lymph_nodes: 'x', capsular_penetration: '1', positive_surgical_margins: 0,
        invasion_seminal_vesicles: '0', lymphovascular_invasion: '1.0', earlier_therapy: 'none',
      },
    };
    expect(await texts(s, c)).toEqual([
      'The patient was 66 years old at prostatectomy.',
      'The primary Gleason pattern is 3.',
      'The secondary Gleason pattern is 4.',
      'The tertiary Gleason pattern is 5.',
      'The ISUP grade group is 2.',
      'The pre-operative PSA is 8.35 ng/mL.',
      'The pathological tumor stage (pT) is 3a.',
      'The lymph node status is unknown.',
      'Capsular penetration is present.',
      'The surgical margins are negative.',
      'Seminal vesicle invasion is absent.',
      'Lymphovascular invasion is present.',
      'The patient received no earlier therapy before prostatectomy.',
    ]);
  });

  it('never reads the label, refuses label keys as fields, and gives no texts without a clinical record', async () => {
    const c = { id: 'L', clinical: { ...tcga.clinical, progression: 1, BCR: 1 } } as Case;
    Object.defineProperty(c, 'label', { get: () => { throw new Error('the label was read'); }, enumerable: true });
    const out = await source().textsFor(c);
    expect(out).toHaveLength(6);
    expect(out.map((t) => t.field)).not.toContain('progression');
    expect(() => source({ fields: ['age', 'progression'] })).toThrow(
      /knowledge\.0\.fields\[1\]: field 'progression' reads clinical key 'progression', a survival label key/,
    );
    expect(() => source({ templates: { t: 'x {value}' }, keys: { t: 'Time_to_prog_or_FUend' } })).toThrow(/a survival label key/);
    expect(await source().textsFor({ id: 'none' })).toEqual([]);
  });

  it('is deterministic: the same case gives the same texts across calls and instances', async () => {
    const c: Case = { id: 'd', clinical: { age: 70.12345, sex: 'female', stage: null } };
    const a = await texts(source({ preset: 'chimera-task3' }), c);
    const b = await texts(source({ preset: 'chimera-task3' }), c);
    const s = source({ preset: 'chimera-task3' });
    expect(a).toEqual(b);
    expect(await texts(s, c)).toEqual(await texts(s, c));
  });

  it('explains a field without template, a bad placeholder, and warns on a mismatched preset and stray options', async () => {
    expect(() => source({ fields: ['grade'] })).toThrow(/knowledge\.0\.fields\[0\]: field 'grade' has no template in preset 'survpgc'.*"templates": \{ "grade"/);
    expect(() => source({ templates: { age: 'The age is {valu}.' } })).toThrow(/knowledge\.0\.templates\.age .*unknown placeholder \{valu\}/);
    expect(() => source({ templates: { age: 'The age is known.' } })).toThrow(/expected a \{value\} placeholder/);
    expect(() => source({ unknownTemplate: 'No {value}.' })).toThrow(/knowledge\.0\.unknownTemplate: unknown placeholder \{value\}/);
    const ctx = testContext('knowledge.0');
    const s = new ClinicalPromptSource({ fields: ['age'], labels: { agee: 'x' } }, ctx);
    await s.textsFor({ id: '3A_002', clinical: { stage: 'T1HG' } });
    const warnings = ctx.memory.lines.filter((l) => l.level === 'warn').map((l) => l.message);
    expect(warnings.some((w) => /labels: 'agee' not among the prompt fields/.test(w))).toBe(true);
    expect(warnings.some((w) => /case 3A_002: none of the prompt fields \(age\) is a key of its clinical record \(stage\)/.test(w))).toBe(true);
  });

  it('has a strict options schema that accepts {} with defaults; every preset template has {value}', () => {
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, useDefaults: true, allErrors: true });
    const validate = ajv.compile(clinicalPromptsSpec.optionsSchema);
    const options: Record<string, unknown> = {};
    expect(validate(options), JSON.stringify(validate.errors)).toBe(true);
    expect(options).toEqual(CLINICAL_PROMPT_DEFAULTS);
    expect(validate({ preset: 'chimera-task2' })).toBe(false);
    expect(validate({ templates: { age: 3 } })).toBe(false);
    expect(validate({ tempaltes: {} })).toBe(false);
    for (const fields of Object.values(PROMPT_PRESETS)) for (const f of fields) expect(f.template).toContain('{value}');
  });
});
