/**
 * The calibration-correction mask of the distillation term (Gogl & Yau): a teacher answer that contradicts the
 * observed outcome is not distilled, since it would teach the student something the data refute.
 *
 * For a case with observed (time, event) and the teacher's curve S_T, with the binary threshold at 50 % at the
 * observed time:
 * - event && S_T(time) > 0.5: the teacher says "likely event-free past this time", but the event happened then;
 * - !event && S_T(time) < 0.5: the teacher says "likely an event by this time", but the case was event-free then.
 * Either contradicts: mask 0. Otherwise (S_T(time) exactly 0.5 included, in both branches) mask 1.
 * A case without a teacher answer gets mask 0: it has no distillation term at all.
 *
 * Choice here: the paper masks the text loss of the student's verbalised pathway; the student here is frozen
 * (GGUF cannot be fine-tuned in llama.cpp), so the mask applies to the distillation term of the hidden-state head.
 *
 * @example
 * distillMask({ time: 10, event: true }, (t) => Math.exp(-0.01 * t));   // 0: S_T(10) = 0.90 > 0.5 but an event at 10
 * distillMask({ time: 10, event: false }, null);                          // 0: no teacher answer
 */
import type { SurvivalLabel } from '../../core/contracts/survival-label.js';

/** The teacher's survival probability at a time. */
export type SurvivalAt = (t: number) => number;

/** True when a teacher who gives `survivalAtTime` = S_T(label.time) contradicts the observed outcome. */
export function teacherContradicts(label: SurvivalLabel, survivalAtTime: number): boolean {
  if (!(survivalAtTime >= 0 && survivalAtTime <= 1)) {
    throw new Error(`teacherContradicts: the teacher's survival at time ${label.time} must be a probability in [0, 1], found ${survivalAtTime}`);
  }
  return label.event ? survivalAtTime > 0.5 : survivalAtTime < 0.5;
}

/** 1 when the case's teacher answer is distilled, 0 when it contradicts the outcome or there is none. */
export function distillMask(label: SurvivalLabel, teacher: SurvivalAt | null | undefined): 0 | 1 {
  if (!teacher) return 0;
  if (!Number.isFinite(label.time) || label.time < 0) throw new Error(`distillMask: the label time must be a finite number >= 0, found ${label.time}`);
  return teacherContradicts(label, teacher(label.time)) ? 0 : 1;
}
