/**
 * `npm run test:vscode`: the end-to-end scenarios in a desktop VS Code, through @vscode/test-electron.
 *
 * For developer machines only. @vscode/test-electron DOWNLOADS a desktop VS Code (from Microsoft's update
 * service) on first use; on a machine that cannot reach it, such as this project's CI, this command fails
 * at the download, and nothing here pretends otherwise. CI runs the same scenarios in the real VS Code that
 * code-server ships, in headless Chromium: `npm run test:e2e` (see docs/e2e.md).
 *
 * What it does: bundles test/vscode/suite.ts for the extension host, copies the fixture notebooks of
 * test/e2e/fixtures into a fresh workspace (with a per-run nonce), and starts VS Code with this folder as
 * the extension under development and a fresh profile. The suite's exit status is this command's.
 */
import { runTests } from '@vscode/test-electron';
import { build } from 'esbuild';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__filename, '..', '..', '..');
const FIXTURES = join(ROOT, 'test', 'e2e', 'fixtures');

async function main(): Promise<number> {
  console.log('test:vscode downloads a desktop VS Code on first use (cached in .vscode-test/). Machines without access to that download, like CI here, run `npm run test:e2e` instead.');
  const outDir = join(ROOT, '.vscode-test', 'vscode-suite');
  await build({
    entryPoints: [join(ROOT, 'test', 'vscode', 'suite.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    outfile: join(outDir, 'index.js'),
    sourcemap: 'inline',
    logLevel: 'warning',
  });

  const scratch = mkdtempSync(join(tmpdir(), 'affordance-lab-vscode-'));
  const workspace = join(scratch, 'workspace');
  mkdirSync(workspace);
  const nonce = randomBytes(6).toString('hex');
  for (const name of readdirSync(FIXTURES).filter((n) => n.endsWith('.ipynb'))) {
    const text = readFileSync(join(FIXTURES, name), 'utf8').replaceAll('__E2E_NONCE__', nonce).replaceAll('__E2E_DIR__', workspace);
    writeFileSync(join(workspace, name), text);
  }
  const userData = join(scratch, 'user-data');
  mkdirSync(join(userData, 'User'), { recursive: true });
  writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify({ 'files.autoSave': 'off', 'telemetry.telemetryLevel': 'off', 'update.mode': 'none', 'workbench.startupEditor': 'none', 'security.workspace.trust.enabled': false }, null, 2));

  try {
    return await runTests({
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: join(outDir, 'index.js'),
      launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes', `--user-data-dir=${userData}`],
      extensionTestsEnv: { AFFORDANCE_LAB_E2E_NONCE: nonce, AFFORDANCE_LAB_E2E_WORKSPACE: workspace, AFFORDANCE_LAB_E2E_STARTED: String(Date.now()) },
    });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    console.error(`test:vscode failed: ${msg}`);
    if (/download|ENOTFOUND|EAI_AGAIN|getaddrinfo|ECONNREFUSED|update\.code\.visualstudio\.com/i.test(msg)) {
      console.error('VS Code could not be downloaded from this machine. Run the same scenarios with `npm run test:e2e` (code-server, no download).');
    }
    return 1;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
