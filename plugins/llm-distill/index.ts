/**
 * plugins/llm-distill: survival from locally deployable LLMs (Gogl & Yau, arXiv 2603.22158; METHODS.md "LLM
 * distillation"). A teacher LLM's verbalised survival (`llm-distill.teacher`, a KnowledgeSource) is distilled into a
 * discrete-time head on the frozen student LLM's pooled hidden states (`llm-distill.student`, masked where the
 * teacher contradicts the outcome); the student's own verbalised answer (`llm-distill.verbalised`) is combined with
 * the hidden-state curve at prediction; covariates and gene expression join by gated late fusion or early
 * concatenation (`llm-distill.gated`). preset.json wires them together.
 */
import type { Registrar } from '../../core/contracts/component.js';
import { gatedFusionSpec } from './gated-fusion.js';
import { studentHeadSpec } from './student-head.js';
import { teacherSourceSpec } from './teacher-source.js';
import { verbalisedSourceSpec } from './verbalised-source.js';

export function register(r: Registrar): void {
  r.knowledge(teacherSourceSpec);
  r.knowledge(verbalisedSourceSpec);
  r.fusion(gatedFusionSpec);
  r.head(studentHeadSpec);
}
