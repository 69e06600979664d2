import type { Registrar } from '../contracts/component.js';
import { ChimeraTask3Reader, chimeraTask2OptionsSchema, chimeraTask3OptionsSchema, type ChimeraTask3Options } from './readers/chimera-task3.js';
import { ManifestReader, manifestOptionsSchema, type ManifestOptions } from './readers/manifest.js';

/**
 * Components built into core: the dataset readers. Registered as plugin 'core' before registry.json's plugins.
 */
export function registerCoreComponents(r: Registrar): void {
  r.dataset<Partial<ManifestOptions>>({
    id: 'manifest',
    description: 'A cohort described by <root>/cohort.json (mmsurv-manifest v1): labels, WSI features, RNA, clinical, texts',
    optionsSchema: manifestOptionsSchema,
    create: (options) => new ManifestReader(options),
  });
  r.dataset<Partial<ChimeraTask3Options>>({
    id: 'chimera-task3',
    description: 'CHIMERA Task 3 training layout: <pid>/<pid>_CD.json, <pid>_RNA.json, features/<pid>_HE.h5|.npy',
    optionsSchema: chimeraTask3OptionsSchema,
    create: (options) => new ChimeraTask3Reader(options),
  });
  r.dataset<Partial<ChimeraTask3Options>>({
    id: 'chimera-task2',
    description: 'CHIMERA Task 2 (BRS3 vs BRS1/2): the Task 3 layout with BRS of <pid>_CD.json as a binary label; RNA optional',
    optionsSchema: chimeraTask2OptionsSchema,
    create: (options) => new ChimeraTask3Reader(options, 'chimera-task2'),
  });
}
