/**
 * Synthetic bulk RNA: `genes` genes (GENE0001, ...) dealt at random into 20 pathways; four pathways carry signal.
 *
 * Gene g has a base level b_g ~ U(2, 10) (log-expression scale) and noise sd e_g ~ U(0.5, 1). In a signal pathway
 * tied to latent component z_k with sign c, gene g has loading l_g ~ U(0.6, 1.2) and
 *   x_g = b_g + s * c * l_g * z_k + e_g * N(0, 1) + shift,
 * where shift ~ N(0, 0.2^2) is a per-case offset of all genes (library-size-like nuisance); other genes have no
 * loading. Signal pathways (chosen at random per seed): z_0 (+), z_1 (+), z_2 (+), z_0 (-).
 * Values are rounded to 4 decimals.
 */
import type { RandomSource } from '../../contracts/random-source.js';

export const PATHWAYS = 20;
const SIGNAL_LATENTS: readonly { latent: number; sign: 1 | -1 }[] = [
  { latent: 0, sign: 1 }, { latent: 1, sign: 1 }, { latent: 2, sign: 1 }, { latent: 0, sign: -1 },
];

export interface GeneModel {
  genes: string[];
  /** Pathway name -> member gene indices (sorted). */
  pathways: { name: string; genes: number[]; signal?: { latent: number; sign: 1 | -1 } }[];
  base: Float64Array;
  noise: Float64Array;
  /** Per-gene loading (0 outside signal pathways) and latent index (-1 outside). */
  loading: Float64Array;
  latent: Int8Array;
}

export function makeGeneModel(rng: RandomSource, nGenes: number): GeneModel {
  const width = String(nGenes).length < 4 ? 4 : String(nGenes).length;
  const genes = Array.from({ length: nGenes }, (_, i) => `GENE${String(i + 1).padStart(width, '0')}`);
  const order = rng.shuffle(Array.from({ length: nGenes }, (_, i) => i));
  const members: number[][] = Array.from({ length: PATHWAYS }, () => []);
  order.forEach((g, i) => members[i % PATHWAYS]!.push(g));
  const signalIdx = rng.sample(PATHWAYS, SIGNAL_LATENTS.length);
  const base = new Float64Array(nGenes);
  const noise = new Float64Array(nGenes);
  const loading = new Float64Array(nGenes);
  const latent = new Int8Array(nGenes).fill(-1);
  for (let g = 0; g < nGenes; g++) {
    base[g] = 2 + 8 * rng.uniform();
    noise[g] = 0.5 + 0.5 * rng.uniform();
  }
  const pathways: GeneModel['pathways'] = members.map((m, p) => ({
    name: `SYNTH_PATHWAY_${String(p + 1).padStart(2, '0')}`,
    genes: [...m].sort((a, b) => a - b),
  }));
  signalIdx.forEach((p, i) => {
    const sig = SIGNAL_LATENTS[i]!;
    pathways[p]!.signal = sig;
    for (const g of pathways[p]!.genes) {
      loading[g] = sig.sign * (0.6 + 0.6 * rng.uniform());
      latent[g] = sig.latent;
    }
  });
  return { genes, pathways, base, noise, loading, latent };
}

/** Expression of every gene (in model.genes order) for latent state z at signal s. */
export function drawExpression(rng: RandomSource, model: GeneModel, z: readonly number[], s: number): Float64Array {
  const shift = rng.normal(0, 0.2);
  const n = model.genes.length;
  const out = new Float64Array(n);
  for (let g = 0; g < n; g++) {
    const k = model.latent[g]!;
    const signal = k >= 0 ? s * model.loading[g]! * z[k]! : 0;
    out[g] = Math.round((model.base[g]! + signal + model.noise[g]! * rng.normal() + shift) * 1e4) / 1e4;
  }
  return out;
}

/** The pathways as a GMT file: name<TAB>description<TAB>gene... per line (descriptions never reveal the signal). */
export function toGmt(model: GeneModel): string {
  return model.pathways
    .map((p, i) => [p.name, `synthetic gene set ${i + 1} of ${PATHWAYS}`, ...p.genes.map((g) => model.genes[g]!)].join('\t'))
    .join('\n') + '\n';
}
