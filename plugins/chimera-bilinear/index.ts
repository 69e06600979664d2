/**
 * plugins/chimera-bilinear: the bilinear CHIMERA Task 3 entry (team HKKH, 2nd place): ABMIL + RNA MLP + clinical
 * vector, fused by low-rank bilinear pairwise fusion, with a Cox head. The encoders and the head come from
 * plugins/common; this plugin adds the fusion (`chimera.lowrank-bilinear`).
 */
import type { Registrar } from '../../core/contracts/component.js';
import { lowRankBilinearFusionSpec } from './lowrank-bilinear-fusion.js';

export function register(r: Registrar): void {
  r.fusion(lowRankBilinearFusionSpec);
}
