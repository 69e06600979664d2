/**
 * plugins/survpgc: SurvPGC (Hou et al., npj Digital Medicine 2025): clinical data as text prompts
 * (`survpgc.clinical-prompts`, a KnowledgeSource) and the dual-path bidirectional cross-attention fusion
 * (`survpgc.dual-path`).
 */
import type { Registrar } from '../../core/contracts/component.js';
import { clinicalPromptsSpec } from './clinical-prompts.js';
import { dualPathFusionSpec } from './dual-path-fusion.js';

export function register(r: Registrar): void {
  r.knowledge(clinicalPromptsSpec);
  r.fusion(dualPathFusionSpec);
}
