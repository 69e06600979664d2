import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../context.js';
import type { SurvivalReport } from '../../survival/metrics-report.js';
import { renderTable } from '../table.js';

interface Args extends GlobalArgs {
  csv: string;
  time: string;
  event: string;
  risk: string;
  survPrefix: string;
  times?: string;
  tau?: number;
  json?: boolean;
}

export const metricsCommand: CommandModule<GlobalArgs, Args> = {
  command: 'metrics',
  describe:
    "Survival metrics of a predictions table (one row per case): Harrell's and Uno's C, time-dependent AUC, Brier, " +
    'Kaplan-Meier, log-rank; the same numbers as R survival/riskRegression',
  builder: (y) =>
    y
      .option('csv', { type: 'string', demandOption: true, describe: 'Predictions table (CSV, or TSV by extension); other columns are ignored' })
      .option('time', { type: 'string', default: 'time', describe: 'Column of observed times (event or censoring)' })
      .option('event', { type: 'string', default: 'event', describe: 'Column of event indicators (1/true = event observed)' })
      .option('risk', { type: 'string', default: 'risk', describe: 'Column of risk scores (higher = earlier event)' })
      .option('surv-prefix', { type: 'string', default: 'surv_', describe: 'S(t) columns are named <prefix><t> for each t in --times' })
      .option('times', { type: 'string', describe: 'Comma-separated evaluation times for AUC, Brier and KM (within the follow-up)' })
      .option('tau', { type: 'number', describe: "Truncation time of Uno's C (uno_c is null without it)" })
      .option('json', { type: 'boolean', describe: 'Print the metrics as one JSON object' })
      .example('$0 metrics --csv preds.csv --time os_days --event died --risk risk --times 365,1095,1825 --tau 1825', 'all metrics')
      .example('$0 metrics --csv preds.csv --json > metrics.json', 'Harrell C, KM median and log-rank as JSON') as never,
  handler: async (args) => {
    const [{ readSurvivalTable }, { survivalReport }] = await Promise.all([
      import('../../data/survival-table.js'),
      import('../../survival/metrics-report.js'),
    ]);
    const timeNames = parseTimes(args.times);
    const table = await readSurvivalTable(args.csv, {
      time: args.time,
      event: args.event,
      risk: args.risk,
      survPrefix: args.survPrefix,
      times: timeNames,
    });
    if (args.tau !== undefined && !Number.isFinite(args.tau)) {
      throw new Error(`--tau: expected a number (a time on the scale of --time), found ${String(args.tau)}`);
    }
    const times = timeNames.map(Number);
    const { report, warnings } = survivalReport({
      time: table.time,
      event: table.event,
      risk: table.risk,
      times,
      ...(table.surv ? { surv: table.surv } : {}),
      ...(args.tau !== undefined ? { tau: args.tau } : {}),
    });
    for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
    if (args.json) {
      process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      return;
    }
    const notes: string[] = [];
    if (times.length && !table.surv) {
      notes.push(`brier/ibs: no S(t) columns (${table.missingSurvColumns.join(', ')}); time-dependent AUC scored by the risk`);
    }
    if (!times.length) notes.push('pass --times t1,t2,... for time-dependent AUC, Brier and KM at those times');
    if (args.tau === undefined) notes.push("pass --tau T for Uno's C");
    process.stdout.write(formatReport(args.csv, report, times, args.tau) + '\n');
    for (const n of notes) process.stdout.write(`note: ${n}\n`);
  },
};

function parseTimes(text: string | undefined): string[] {
  if (text === undefined || text.trim() === '') return [];
  const parts = text.split(',').map((s) => s.trim());
  parts.forEach((p, k) => {
    const v = Number(p);
    if (p === '' || !Number.isFinite(v) || v < 0) {
      throw new Error(`--times: expected comma-separated times >= 0 (e.g. 365,1095), found ${JSON.stringify(p)} at position ${k + 1}`);
    }
    if (k > 0 && !(v > Number(parts[k - 1]))) {
      throw new Error(`--times: expected strictly increasing times, found ${parts[k - 1]} then ${p}`);
    }
  });
  return parts;
}

const f = (x: number | null, digits = 4): string => (x === null ? '-' : x.toFixed(digits));
const p = (x: number | null): string => (x === null ? '-' : x < 1e-4 ? x.toExponential(2) : x.toFixed(4));

function formatReport(file: string, r: SurvivalReport, times: number[], tau: number | undefined): string {
  const head = [
    `${file}: ${r.n} cases, ${r.events} events`,
    `  Harrell's C       ${f(r.harrell_c)}`,
    `  Uno's C           ${tau === undefined ? '-' : `${f(r.uno_c)}  (tau = ${tau})`}`,
    `  integrated AUC    ${f(r.iauc)}`,
    `  integrated Brier  ${f(r.ibs)}`,
    `  KM median         ${r.km_median === null ? 'not reached' : String(r.km_median)}`,
    `  log-rank (risk above vs at or below the median)  chi2 ${f(r.logrank_chisq, 3)}, p ${p(r.logrank_p)}`,
  ].join('\n');
  if (!times.length) return head;
  const rows = times.map((t, k) => [String(t), f(r.td_auc[k] ?? null), r.brier ? f(r.brier[k]!) : '-', f(r.km_surv[k]!)]);
  return `${head}\n\n${renderTable(['time', 'AUC(t)', 'Brier(t)', 'KM S(t)'], rows)}`;
}
