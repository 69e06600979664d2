/**
 * The behaviour conformance suite over every registered Encoder, Fusion and Head (see
 * tests/core/model/component-behaviour.test.ts). Call `describeComponentBehaviour` at the top level of a test file.
 */
import { describe, expect, it } from 'vitest';
import type { Registries } from '../../../core/registry/registry.js';
import { describeEncoderBehaviour, encoderTargets } from './encoders.js';
import { describeFusionBehaviour } from './fusions.js';
import { behaviourEnv, type BehaviourTables } from './harness.js';
import { describeHeadBehaviour } from './heads.js';

export type { BehaviourTables, Fixtures } from './harness.js';
export { HEAD_IN_DIM } from './heads.js';

export function describeComponentBehaviour(registries: Registries, tables: BehaviourTables, tablesFile: string): void {
  const env = behaviourEnv(registries, tables, tablesFile);
  describeEncoderBehaviour(env);
  describeFusionBehaviour(env);
  describeHeadBehaviour(env);

  describe('the behaviour suite itself', () => {
    it('covers every registered encoder (under each of its modalities), fusion and head', () => {
      const n = registries.encoder.ids().length + registries.fusion.ids().length + registries.head.ids().length;
      expect(n, 'no encoder, fusion or head is registered: is registry.json loaded?').toBeGreaterThan(0);
      const covered = new Set(encoderTargets(env).map(([, s]) => s.id));
      const uncovered = registries.encoder.ids().filter((id) => !covered.has(id));
      expect(uncovered, 'encoders without modality keys are not behaviour-tested; declare `modalities` on their specs').toEqual([]);
    });
  });
}
