/**
 * Re-records the notebooks that test/cli/run.test.ts compares the CLI with: opens each
 * test/cli/fixtures/<name>.ipynb in code-server with the packaged extension, runs all cells, saves, and
 * copies the saved file to <name>.saved-by-vscode.ipynb. Needs `bash scripts/install-code-server.sh` and
 * `npm run package` (or E2E_VSIX=<file>).
 *
 * Usage: node --import tsx test/cli/recordVscodeParity.ts parity display-update
 */
import { copyFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { VsCodeSession, waitFor } from '../e2e/harness';

const FIXTURES = join(__dirname, 'fixtures');

/** The last cell of each fixture prints (or throws) this; it marks the end of "Run All". */
const DONE: Record<string, RegExp> = { parity: /RangeError: bad|bad/, 'display-update': /cell two done/ };

async function main(names: string[]): Promise<void> {
  const vs = await VsCodeSession.start({ fixtures: names.map((n) => ({ path: join(FIXTURES, `${n}.ipynb`) })), label: 'parity' });
  try {
    for (const name of names) {
      const nb = await vs.openNotebook(`${name}.ipynb`);
      await nb.selectKernel();
      await nb.runAll();
      await vs.waitForOutput(DONE[name] ?? /./, 90_000);
      // Outputs still in flight (display updates, coalesced stream text) land before saving.
      await new Promise((r) => setTimeout(r, 2000));
      const file = join(vs.workspace, `${name}.ipynb`);
      const before = statSync(file).mtimeMs;
      await nb.save();
      await waitFor(`${name}.ipynb to be saved`, async () => (statSync(file).mtimeMs !== before ? true : undefined), 20_000);
      copyFileSync(file, join(FIXTURES, `${name}.saved-by-vscode.ipynb`));
      console.log(`recorded ${name}.saved-by-vscode.ipynb`);
      await nb.close();
    }
  } finally {
    await vs.close();
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
