/**
 * Built-in sentence templates for `survpgc.clinical-prompts`, one sentence per clinical field.
 *
 * - `template` holds `{value}` (the case's value, or its phrase from `values`); `{label}` and `{field}` may also be
 *   used. `label` names the field in the unknown sentence ("The {label} is unknown.").
 * - `values` turns a raw category into a phrase (keys are compared as written, then case-insensitively; numbers and
 *   numeric strings by their plain form, so 1, '1' and '1.0' all look up '1'). Unlisted values are used as they are.
 */

export interface PromptField {
  field: string;
  template: string;
  label: string;
  values?: Readonly<Record<string, string>>;
}

export type PromptPresetName = 'survpgc' | 'chimera-task3' | 'chimera-task1';
export const PROMPT_PRESET_NAMES: readonly PromptPresetName[] = ['survpgc', 'chimera-task3', 'chimera-task1'];

/**
 * SurvPGC (Hou et al. 2025; repo Houjiaxin123/SurvPGC, datasets_csv/prompt_generate/1_template): the six
 * characteristics with the paper's template 1, values inserted as they are (TCGA style: 'male', 'Stage II', '7th',
 * 'white'). Our clinical keys: subtype, age, sex, stage (the tumour stage), edition (of the staging criteria), race.
 */
const SURVPGC: readonly PromptField[] = [
  { field: 'subtype', template: 'The sample belongs to subtype {value}.', label: 'subtype' },
  { field: 'age', template: 'The age is {value} years old.', label: 'age' },
  { field: 'sex', template: 'This is a {value}.', label: 'sex' },
  { field: 'stage', template: 'The patient has been diagnosed with a {value} tumor.', label: 'tumor stage' },
  { field: 'edition', template: 'This diagnosis relies on the {value} edition of the criteria.', label: 'edition of the staging criteria' },
  { field: 'race', template: 'The person is {value}.', label: 'race' },
];

const PRESENT_ABSENT = { Yes: 'present', No: 'absent' } as const;

/**
 * CHIMERA Task 3 (HR-NMIBC, bladder): every key of the organisers' clinical JSON (REFERENCE.md B), in their order.
 * Categories seen in training get phrases; TaHG tumours have no substage (-1), which reads as unknown.
 */
const CHIMERA_TASK3: readonly PromptField[] = [
  { field: 'age', template: 'The patient is {value} years old.', label: 'age' },
  { field: 'sex', template: 'The patient is {value}.', label: 'sex', values: { Male: 'male', Female: 'female' } },
  { field: 'smoking', template: 'The patient is {value}.', label: 'smoking status', values: { Yes: 'a smoker', No: 'a non-smoker' } },
  { field: 'tumor', template: 'This is a {value} tumor.', label: 'tumor type (primary or recurrent)', values: { Primary: 'primary', Recurrent: 'recurrent', Recurrence: 'recurrent' } },
  {
    field: 'stage', template: 'The patient has been diagnosed with a {value} tumor.', label: 'tumor stage',
    values: { TaHG: 'Ta high-grade', T1HG: 'T1 high-grade', CIS: 'carcinoma in situ' },
  },
  {
    field: 'substage', template: 'The T1 substage is {value}.', label: 'T1 substage',
    values: { T1e: 'T1e (extensive lamina propria invasion)', T1m: 'T1m (microinvasive)' },
  },
  {
    field: 'grade', template: 'The tumor grade is {value}.', label: 'tumor grade',
    values: { G2: 'G2 (moderately differentiated)', G3: 'G3 (poorly differentiated)' },
  },
  {
    field: 'reTUR', template: 'A second transurethral resection (re-TUR) {value}.', label: 're-TUR status',
    values: { Yes: 'was performed', No: 'was not performed' },
  },
  { field: 'LVI', template: 'Lymphovascular invasion is {value}.', label: 'lymphovascular invasion status', values: PRESENT_ABSENT },
  {
    field: 'variant', template: 'The histology is {value}.', label: 'histological variant status',
    values: { UCC: 'pure urothelial cell carcinoma', 'UCC + Variant': 'urothelial cell carcinoma with variant histology' },
  },
  {
    field: 'EORTC', template: 'The EORTC risk group is {value}.', label: 'EORTC risk group',
    values: { 'High risk': 'high risk', 'Highest risk': 'highest risk' },
  },
  { field: 'no_instillations', template: 'The patient received {value} BCG instillations.', label: 'number of BCG instillations' },
  { field: 'BRS', template: 'The BCG response subtype is {value}.', label: 'BCG response subtype' },
];

const PRESENT_ABSENT_01 = { '1': 'present', '0': 'absent' } as const;

/**
 * CHIMERA Task 1 (prostate, biochemical recurrence): the clinical keys of REFERENCE.md B, in that order. Binary fields are 0/1
 * (numbers or strings such as '1.0'); 'x' marks not assessed (a default missing marker).
 */
const CHIMERA_TASK1: readonly PromptField[] = [
  { field: 'age_at_prostatectomy', template: 'The patient was {value} years old at prostatectomy.', label: 'age at prostatectomy' },
  { field: 'primary_gleason', template: 'The primary Gleason pattern is {value}.', label: 'primary Gleason pattern' },
  { field: 'secondary_gleason', template: 'The secondary Gleason pattern is {value}.', label: 'secondary Gleason pattern' },
  { field: 'tertiary_gleason', template: 'The tertiary Gleason pattern is {value}.', label: 'tertiary Gleason pattern' },
  { field: 'ISUP', template: 'The ISUP grade group is {value}.', label: 'ISUP grade group' },
  { field: 'pre_operative_PSA', template: 'The pre-operative PSA is {value} ng/mL.', label: 'pre-operative PSA' },
  { field: 'pT_stage', template: 'The pathological tumor stage (pT) is {value}.', label: 'pathological tumor stage' },
  { field: 'positive_lymph_nodes', template: 'Lymph node metastasis is {value}.', label: 'lymph node status', values: PRESENT_ABSENT_01 },
  { field: 'capsular_penetration', template: 'Capsular penetration is {value}.', label: 'capsular penetration status', values: PRESENT_ABSENT_01 },
  {
    field: 'positive_surgical_margins', template: 'The surgical margins are {value}.', label: 'surgical margin status',
    values: { '1': 'positive', '0': 'negative' },
  },
  { field: 'invasion_seminal_vesicles', template: 'Seminal vesicle invasion is {value}.', label: 'seminal vesicle invasion status', values: PRESENT_ABSENT_01 },
  { field: 'lymphovascular_invasion', template: 'Lymphovascular invasion is {value}.', label: 'lymphovascular invasion status', values: PRESENT_ABSENT_01 },
  {
    field: 'earlier_therapy', template: 'The patient received {value} before prostatectomy.', label: 'earlier therapy',
    values: { none: 'no earlier therapy', no: 'no earlier therapy', '0': 'no earlier therapy' },
  },
];

export const PROMPT_PRESETS: Readonly<Record<PromptPresetName, readonly PromptField[]>> = {
  survpgc: SURVPGC,
  'chimera-task3': CHIMERA_TASK3,
  'chimera-task1': CHIMERA_TASK1,
};
