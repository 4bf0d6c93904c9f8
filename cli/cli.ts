/**
 * `affordance-lab`: the headless runner (dist/cli.js, the package's `bin`).
 * Exit codes: 0 success, 1 a cell failed or the kernel died, 2 bad input or usage.
 */
import { version } from '../package.json';
import { parseArgs, USAGE } from './args';
import { UsageError } from './ipynb';
import { runNotebook } from './run';
import { runSyncal } from './syncal';

async function main(argv: string[]): Promise<number> {
  const cmd = parseArgs(argv);
  switch (cmd.command) {
    case 'help':
      process.stdout.write(USAGE + '\n');
      return 0;
    case 'version':
      process.stdout.write(`affordance-lab ${version}\n`);
      return 0;
    case 'run':
      return runNotebook(cmd, {
        progress: (line) => process.stderr.write(line + '\n'),
        // On a terminal the running cell's live state rewrites one line (cleared before the next message).
        status: process.stderr.isTTY ? (line) => process.stderr.write(`\r\x1b[2K${line.slice(0, Math.max(20, (process.stderr.columns || 100) - 1))}`) : undefined,
        stdout: (text) => process.stdout.write(text),
        env: process.env,
        distDir: __dirname,
      });
    case 'syncal':
      return runSyncal(cmd, (line) => process.stderr.write(line + '\n'));
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`affordance-lab: ${e.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`affordance-lab: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    }
  },
);
