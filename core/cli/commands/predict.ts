import { basename, dirname, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { createCliContext, type GlobalArgs } from '../context.js';

interface Args extends GlobalArgs {
  run: string;
  case: string;
  fold?: number;
  json?: boolean;
}

export const predictCommand: CommandModule<GlobalArgs, Args> = {
  command: 'predict',
  describe: 'Predict cases with a trained run: risk, S(t) at the run\'s evaluation times, calibrated time, attention summary',
  builder: (y) =>
    y
      .option('run', { type: 'string', demandOption: true, describe: 'Run directory written by `mmsurv train`' })
      .option('case', {
        type: 'string', demandOption: true,
        describe: "A cohort folder in the run's data format (every case is predicted), or one case's folder inside such a cohort",
      })
      .option('fold', { type: 'number', describe: "Use only this fold's model (1-based); default: the mean over all folds" })
      .option('json', { type: 'boolean', describe: 'Print the predictions as JSON' })
      .example('$0 predict --run runs/bilinear --case data/task3/3A_001', 'one CHIMERA Task 3 case') as never,
  handler: async (args) => {
    const ctx = await createCliContext(args);
    await ctx.useBackend();
    const [{ loadRun, predictWithRun, attentionSummary }, { readCohort }, { buildContext, createRunContainer }, { attachKnowledge, buildKnowledgeSources, loadCaseBags }] = await Promise.all([
      import('../../train/load-run.js'),
      import('../../data/read-cohort.js'),
      import('../../di/container.js'),
      import('../../train/prepare-cases.js'),
    ]);
    if (args.fold !== undefined && (!Number.isInteger(args.fold) || args.fold < 1)) throw new Error(`--fold: expected a fold number from 1, found ${args.fold}`);
    const run = await loadRun(ctx.registries, ctx.container, args.run, args.fold === undefined ? undefined : args.fold - 1);
    try {
      const container = createRunContainer(run.container, { seed: 0 });
      const data = run.config['data'] as { format: string };
      const dir = resolve(args.case);
      let cases;
      try {
        cases = (await readCohort(ctx.registries, { ...data, root: dir }, buildContext(container, 'data'))).cases;
        if (cases.length === 0) throw new Error(`${dir}: no cases`);
      } catch (first) {
        // one case's folder: read its parent cohort and keep that case
        const parent = await readCohort(ctx.registries, { ...data, root: dirname(dir) }, buildContext(container, 'data')).catch(() => null);
        const one = parent?.cases.filter((c) => c.id === basename(dir)) ?? [];
        if (one.length === 0) throw new Error(`--case ${args.case}: not a ${data.format} cohort folder nor a case inside one (${(first as Error).message})`);
        cases = one;
      }
      cases = await loadCaseBags(cases, ctx.progress);
      cases = await attachKnowledge(cases, buildKnowledgeSources(ctx.registries, run.config, container, { forPrediction: true }), container);
      await run.prepare(cases);
      const preds = predictWithRun(run, cases);
      const withAttention = preds.map((p, i) => ({ ...p, attention: attentionSummary(run, cases[i]!) }));
      if (args.json) {
        process.stdout.write(JSON.stringify({ eval_times: run.evalTimes, folds: run.folds.map((f) => f.fold + 1), predictions: withAttention }, null, 2) + '\n');
        return;
      }
      for (const p of withAttention) {
        if (p.probability !== undefined) {
          process.stdout.write(`${p.caseId}: P(positive) ${p.probability.toFixed(4)} (logit ${p.risk.toFixed(4)})\n`);
        } else {
          const surv = p.survival ? run.evalTimes.map((t, k) => `S(${t}) ${p.survival![k]!.toFixed(3)}`).join(', ') : 'no curve (Cox head without baseline)';
          process.stdout.write(`${p.caseId}: risk ${p.risk.toFixed(4)}, calibrated time ${p.time!.toFixed(2)}; ${surv}\n`);
          for (const [name, curve] of Object.entries(p.curves ?? {})) {
            process.stdout.write(`  ${name} curve: ${run.evalTimes.map((t, k) => `S(${t}) ${curve[k]!.toFixed(3)}`).join(', ')}\n`);
          }
          if (p.explanation !== undefined) process.stdout.write(`  explanation: ${p.explanation}\n`);
        }
        for (const a of p.attention) {
          process.stdout.write(`  ${a.name}: ${a.tokens} tokens, entropy ${a.entropy.toFixed(2)}, top ${a.top.map((t) => `#${t.index} ${(100 * t.weight).toFixed(1)}%`).join(' ')}\n`);
        }
      }
    } finally {
      run.dispose();
    }
  },
};
