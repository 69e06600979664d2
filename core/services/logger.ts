import type { Logger } from '../contracts/logger.js';

export type LogLevel = 'quiet' | 'normal' | 'verbose';

/** Logger writing to stderr (or any sink), prefixed by level for warnings and errors. */
export class ConsoleLogger implements Logger {
  constructor(
    readonly level: LogLevel = 'normal',
    private readonly write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
  ) {}
  debug(message: string): void { if (this.level === 'verbose') this.write(`debug: ${message}`); }
  info(message: string): void { if (this.level !== 'quiet') this.write(message); }
  warn(message: string): void { this.write(`warning: ${message}`); }
  error(message: string): void { this.write(`error: ${message}`); }
}

/** A logger that keeps its lines, for tests and for collecting warnings into reports. */
export class MemoryLogger implements Logger {
  readonly lines: { level: 'debug' | 'info' | 'warn' | 'error'; message: string }[] = [];
  debug(message: string): void { this.lines.push({ level: 'debug', message }); }
  info(message: string): void { this.lines.push({ level: 'info', message }); }
  warn(message: string): void { this.lines.push({ level: 'warn', message }); }
  error(message: string): void { this.lines.push({ level: 'error', message }); }
}
