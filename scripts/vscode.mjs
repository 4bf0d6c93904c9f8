// @ts-check
// `npm run vscode`: the extension in a browser-hosted VS Code (code-server) with samples/ open.
// Installs code-server into .vscode-test/ when it is missing, packages the extension (the npm script has
// built it), installs the .vsix into a profile kept in .vscode-test/profile, starts code-server on
// 127.0.0.1, prints the URL, and stays in the foreground until Ctrl+C, then stops code-server and
// everything it started.
//
// Options (environment): PORT (default 8080, or a free port when 8080 is taken), HOST (default 127.0.0.1).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CODE_SERVER = join(ROOT, '.vscode-test', 'code-server', 'node_modules', '.bin', 'code-server');
const VSIX = join(ROOT, 'out', 'affordance-lab.vsix');
const PROFILE = join(ROOT, '.vscode-test', 'profile');
const SAMPLES = join(ROOT, 'samples');
const HOST = process.env.HOST ?? '127.0.0.1';

/** @param {string} what @param {import('node:child_process').SpawnSyncReturns<Buffer>} r */
function check(what, r) {
  if (r.status !== 0) {
    console.error(`${what} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

/** @param {number} port @returns {Promise<boolean>} */
function portFree(port) {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(port, HOST, () => srv.close(() => res(true)));
  });
}

/** @returns {Promise<number>} */
async function choosePort() {
  if (process.env.PORT) {
    const p = Number(process.env.PORT);
    if (!Number.isInteger(p) || p <= 0 || p > 65535) {
      console.error(`PORT must be a port number (1-65535), got ${JSON.stringify(process.env.PORT)}`);
      process.exit(2);
    }
    return p;
  }
  if (await portFree(8080)) return 8080;
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, HOST, () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => res(port));
    });
  });
}

if (!existsSync(CODE_SERVER)) {
  console.log('code-server is not installed yet: installing it into .vscode-test/code-server (about 2 minutes, once)');
  check('scripts/install-code-server.sh', spawnSync('bash', [join(ROOT, 'scripts', 'install-code-server.sh')], { stdio: 'inherit' }));
}

console.log('packaging the extension');
mkdirSync(dirname(VSIX), { recursive: true });
const packed = spawnSync(join(ROOT, 'node_modules', '.bin', 'vsce'), ['package', '--no-dependencies', '--out', VSIX], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
// vsce lists every file it packs; only its last line (the package's path and size) matters here.
const packedLines = (packed.stdout?.toString() ?? '').trim().split('\n');
if (packed.status !== 0) console.error(packedLines.filter((l) => /error/i.test(l)).join('\n') || packedLines.slice(-20).join('\n'));
check('vsce package', packed);
console.log(packedLines[packedLines.length - 1]?.trim() ?? '');

const userData = join(PROFILE, 'user-data');
const extensions = join(PROFILE, 'extensions');
mkdirSync(join(userData, 'User'), { recursive: true });
mkdirSync(extensions, { recursive: true });
const settingsFile = join(userData, 'User', 'settings.json');
// First start only: keep the editor quiet (no telemetry, no update checks, no start page). Later edits by
// the user are kept.
if (!existsSync(settingsFile)) {
  writeFileSync(
    settingsFile,
    JSON.stringify({ 'telemetry.telemetryLevel': 'off', 'update.mode': 'none', 'extensions.autoCheckUpdates': false, 'workbench.startupEditor': 'none' }, null, 2),
  );
}
// code-server writes a default config (with a password) into ~/.config unless told where: keep it in the profile.
const common = ['--config', join(PROFILE, 'config.yaml'), '--user-data-dir', userData, '--extensions-dir', extensions];
console.log('installing the extension into code-server');
check('code-server --install-extension', spawnSync(CODE_SERVER, ['--install-extension', VSIX, '--force', ...common], { stdio: ['ignore', 'inherit', 'inherit'] }));

const port = await choosePort();
const server = spawn(
  CODE_SERVER,
  ['--bind-addr', `${HOST}:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-getting-started-override', ...common, SAMPLES],
  // Its own process group, so that stopping it also stops the extension host and the kernels under it.
  { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
);
const url = `http://${HOST}:${port}/?folder=${encodeURIComponent(SAMPLES)}`;
let printed = false;
/** @param {Buffer} chunk */
const relay = (chunk) => {
  const text = chunk.toString();
  if (process.env.VERBOSE) process.stderr.write(text);
  if (!printed && /HTTP server listening/.test(text)) {
    printed = true;
    console.log(`\nAffordance Lab in VS Code (code-server ${readVersion()}):\n\n  ${url}\n\nOpen it in a browser. Ctrl+C stops it.`);
  }
};
server.stdout?.on('data', relay);
server.stderr?.on('data', relay);

function readVersion() {
  try {
    const pkg = JSON.parse(readFileSync(join(ROOT, '.vscode-test', 'code-server', 'node_modules', 'code-server', 'package.json'), 'utf8'));
    return String(pkg.version);
  } catch {
    return '?';
  }
}

/** @param {number} pid */
function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

let stopping = false;
/** @param {number} code */
async function stop(code) {
  if (stopping) return;
  stopping = true;
  const pid = server.pid;
  if (pid && groupAlive(pid)) {
    console.log('\nstopping code-server');
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      // already gone
    }
    const deadline = Date.now() + 5000;
    while (groupAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (groupAlive(pid)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  process.exit(code);
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
server.on('exit', (code, signal) => {
  if (!stopping) {
    console.error(`code-server stopped by itself (${signal ?? `exit ${code}`}); run with VERBOSE=1 to see its log`);
    void stop(1);
  }
});
