/**
 * plugins/kemm: KEMM (Zhao et al., arXiv 2512.14594), a knowledge-enhanced multimodal survival model: expert reports
 * as succinct diagnostic statements (`kemm.expert-report`) and prognostic background knowledge per cancer type
 * (`kemm.background`), both KnowledgeSources, optionally written by a local LLM; and the knowledge-enhanced
 * cross-modal attention fusion (`kemm.kecm`). KEMM's code is unpublished: what each file builds beyond the paper's
 * abstract is marked "choice here" in its doc comment (see METHODS.md, "KEMM").
 */
import type { Registrar } from '../../core/contracts/component.js';
import { backgroundSpec } from './background-source.js';
import { expertReportSpec } from './expert-report-source.js';
import { kecmFusionSpec } from './kecm-fusion.js';

export function register(r: Registrar): void {
  r.knowledge(expertReportSpec);
  r.knowledge(backgroundSpec);
  r.fusion(kecmFusionSpec);
}
