/**
 * SlideExtractor: one whole-slide image (+ optional tissue mask) -> patch features [n, dim] with level-0 coords.
 *
 * The same extractor runs when a cohort is prepared for training (`mmsurv extract`) and inside the Docker image on
 * the challenge's slide, so the features a model was trained on and the features it sees at test time come from
 * one code path and one spec. The spec is plain JSON (stored in the run and baked into the image), made into an
 * extractor by `createSlideExtractor(spec, { baseDir })` (core/slide/create-extractor.ts). Two kinds:
 *
 * - `tfjs`: mmsurv tiles the slide itself and runs a TensorFlow.js patch encoder (layers or graph model.json).
 *   `{ "type": "tfjs", "modelDir": "encoder", "patchSize": 224, "targetMpp": 1.0, "baseMpp": null,
 *      "minTissue": 0.5, "maxPatches": 3000, "seed": 0, "batchSize": 32, "normalise": "imagenet" }`
 *   `modelDir` is resolved against `baseDir` (the folder of the spec file).
 * - `command`: an external program (e.g. a Python UNI/CONCH/TRIDENT pipeline) does everything and writes a
 *   CLAM/TRIDENT-style HDF5 (`features` [n, dim], `coords` [n, 2]).
 *   `{ "type": "command", "id": "my-uni", "command": ["python3", "extract.py", "--slide", "{slide}",
 *      "--mask", "{mask}", "--out", "{out}"], "timeoutSeconds": 3600 }`
 *   `{slide}`, `{mask}` ('' without a mask) and `{out}` (an .h5 path in the scratch folder) are substituted inside
 *   every argument; the program runs with `baseDir` as its working directory.
 *
 * Tiling rules of the `tfjs` kind (core/slide):
 * - Level-0 microns per pixel come from the TIFF resolution tags when they hold a physical value (0.01 to 100
 *   um/px; 72 or 96 dpi screen defaults do not), else from the spec's `baseMpp`, else extraction fails and says
 *   to set `baseMpp`.
 * - Level choice: among the pyramid levels whose mpp is at most 1.1 x targetMpp, the one closest to targetMpp
 *   (log scale); when even level 0 is coarser than that, level 0 (upsampled, with a warning).
 * - A patch covers patchSize x targetMpp microns: `s = round(patchSize * targetMpp / levelMpp)` level pixels,
 *   resized to patchSize x patchSize when s differs. Patches tile the level without overlap from (0, 0); partial
 *   patches at the right and bottom edges are dropped.
 * - Tissue: a patch is kept when the fraction of nonzero mask pixels under it is >= minTissue. The mask may be
 *   smaller than the slide (any pyramid, any level-0 size) but must have the slide's aspect ratio. No mask: every
 *   patch is kept and `warnings` says so. A mask with no qualifying patch is an error.
 * - More than maxPatches tissue patches: a seeded sample of maxPatches (seed and slide id determine it), kept in
 *   grid order (row-major: y, then x).
 *
 * Invariants
 * - `features.length === n * dim`, `coords.length === n * 2`, both row-major; `coords[2i], coords[2i+1]` are the
 *   (x, y) of patch i's top-left corner in level-0 pixels; rows are in grid order.
 * - n >= 1: an extractor never returns an empty bag; no tissue, an unreadable file or a failing command is an
 *   Error that names the file (and for commands the command line, exit code and stderr tail).
 * - Deterministic: the same slide, spec and model give the same features (seeded sampling, no Math.random).
 * - `info.weightsHash` changes whenever the model files (tfjs) or the command line and the files it names change;
 *   `info.settings` holds every spec value that changes the features. Together they decide whether cached
 *   features are still valid (`mmsurv extract` resumes on them).
 * - `extract` leaves no tensors behind; `dispose()` frees the model. Scratch files go under `scratchDir` only.
 * - A SlideFeatures is a loaded PatchBag (core/contracts/case.ts): a container can put it into `Case.wsi` as is.
 *
 * @example
 * const extractor = await createSlideExtractor(JSON.parse(await readFile('encoder.json', 'utf8')), { baseDir: '.' });
 * try {
 *   const bag = await extractor.extract({ slideId: 'p1_HE', slidePath: 'p1_HE.tif', maskPath: 'p1_HE_mask.tif' }, '/tmp/x');
 *   console.log(bag.n, bag.dim, bag.warnings);   // e.g. 2417 1024 []
 * } finally {
 *   extractor.dispose();
 * }
 */

export interface SlideInput {
  /** Names the output (`<slideId>.h5`) and seeds patch sampling. */
  slideId: string;
  slidePath: string;
  /** Tissue mask (nonzero = tissue); without it every patch is kept. */
  maskPath?: string;
}

/** Patch features of one slide; structurally a PatchBag with `features` and `coords` loaded. */
export interface SlideFeatures {
  slideId: string;
  n: number;
  dim: number;
  /** [n, dim] row-major. */
  features: Float32Array;
  /** [n, 2] row-major: (x, y) of each patch's top-left corner in level-0 pixels. */
  coords: Float32Array;
  /** Pyramid level the patches were read from (-1 when a command did not say). */
  level: number;
  /** Side of one patch in level-0 pixels (0 when a command did not say). */
  patchSizeLevel0: number;
  /** Microns per pixel of level 0, when known. */
  mpp0?: number;
  /** Things the user should know that did not stop extraction (no mask, upsampling, ignored baseMpp). */
  warnings: string[];
}

export interface ExtractorInfo {
  /** 'tfjs:<model folder name>' or the command spec's `id`. */
  id: string;
  kind: 'tfjs' | 'command';
  /** Feature width; 0 for a command extractor without `dim` in its spec until its first slide. */
  dim: number;
  /** sha256 (hex) over the model files, or over the command line and the files it names. */
  weightsHash: string;
  /** The spec values that change the features (tiling for tfjs, the command line for commands). */
  settings: Record<string, unknown>;
}

export interface SlideExtractor {
  readonly info: ExtractorInfo;
  /** Features of one slide; `scratchDir` (existing, writable) is for temporary files. */
  extract(slide: SlideInput, scratchDir: string): Promise<SlideFeatures>;
  dispose(): void;
}
