import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../context.js';

interface Args extends GlobalArgs {
  json?: boolean;
}

export const doctorCommand: CommandModule<GlobalArgs, Args> = {
  command: 'doctor',
  describe:
    'Check this machine: Node, the TensorFlow.js backend auto picks (and why not a better one), Docker and its GPU ' +
    'runtime, the offline base image, R for the reference tests, disk space; PASS/WARN/FAIL with a fix each; exit 1 on FAIL',
  builder: (y) =>
    y
      .option('json', { type: 'boolean', describe: 'Print one JSON object: { ok, counts, checks: [...], backend: { selected, why, attempts, ... } }' })
      .example('$0 doctor', 'one PASS/WARN/FAIL line per check, with a fix under each WARN and FAIL')
      .example('$0 doctor --json | jq .backend', 'which backend auto selects and why each better one was skipped') as never,
  handler: async (args) => {
    const { runDoctor, formatDoctorReport } = await import('../../doctor/run-doctor.js');
    const report = await runDoctor();
    if (args.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    else process.stdout.write(formatDoctorReport(report, { verbose: args.verbose === true, width: Math.min(110, process.stdout.columns ?? 110) }) + '\n');
    if (!report.ok) process.exitCode = 1;
  },
};
