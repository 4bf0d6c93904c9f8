#!/usr/bin/env bash
# Installs code-server (the web build of VS Code) into .vscode-test/code-server for the end-to-end tests
# and `npm run vscode`. It lives outside the project's dependencies (about 300 MB) so that `npm install`
# stays light; like @vscode/test-electron's download cache, it is kept under .vscode-test/ (gitignored).
# Idempotent: does nothing when the right version is already there and starts.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION="${CODE_SERVER_VERSION:-4.100.3}"   # 4.100.x is the last code-server line that runs on Node 20
DEST="${CODE_SERVER_DIR:-$PWD/.vscode-test/code-server}"   # CODE_SERVER_DIR: install elsewhere
BIN="$DEST/node_modules/.bin/code-server"

installed_version() {
  [ -x "$BIN" ] || return 1
  # `code-server --version` prints "4.100.3 <commit> with Code 1.100.3", after a log line when it
  # writes its default config into HOME: point HOME at a throwaway folder so the user's stays untouched.
  local home
  home="$(mktemp -d)"
  HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share" \
    "$BIN" --version 2>/dev/null | grep -Eo '^[0-9]+\.[0-9]+\.[0-9]+ ' | head -n 1 | tr -d ' '
  rm -rf "$home"
}

if [ "$(installed_version || true)" = "$VERSION" ]; then
  echo "code-server $VERSION already installed in $DEST"
  exit 0
fi

echo "== Debian packages for code-server and the browser"
if command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  missing=()
  for pkg in chromium ripgrep libkrb5-dev libxkbfile-dev libsecret-1-dev build-essential python3 pkg-config; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing: ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
else
  echo "not a Debian system: make sure a C/C++ toolchain, python3, pkg-config and the Kerberos, xkbfile and libsecret headers are installed (code-server builds native modules), and Chromium for the tests"
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# @vscode/ripgrep's postinstall downloads rg from GitHub, and its failure rolls back the whole install.
# It first looks in $TMPDIR/vscode-ripgrep-cache-<its version>/ for the archive, so a tarball holding
# the system's rg, placed there under the name it expects, satisfies it without any download.
if command -v rg >/dev/null 2>&1; then
  echo "== seeding the ripgrep download cache from $(command -v rg)"
  RG_CACHE="$WORK/vscode-ripgrep-cache-1.15.11"
  mkdir -p "$RG_CACHE/stage"
  cp "$(command -v rg)" "$RG_CACHE/stage/rg"
  tar -czf "$RG_CACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$RG_CACHE/stage" rg
  rm -rf "$RG_CACHE/stage"
else
  echo "== no rg on PATH: @vscode/ripgrep will download it (needs access to GitHub)"
fi

echo "== npm install code-server@$VERSION into $DEST (about 1.5 minutes)"
rm -rf "$DEST"
mkdir -p "$DEST"
cat > "$DEST/package.json" <<JSON
{ "name": "code-server-for-affordance-lab-tests", "private": true, "description": "code-server for the end-to-end tests; installed by scripts/install-code-server.sh" }
JSON
# - unsafe_perm: code-server's postinstall refuses to run as root otherwise.
# - yes: node-pty's install runs `npx node-gyp`, which aborts on the confirmation prompt otherwise.
# - nodedir: native modules build against the system Node's headers instead of downloading them.
# - dangerously_allow_all_scripts: npm 11 has an install-script policy (allowScripts) under which
#   dependency install scripts that are not approved are reported, and skipped where the policy is
#   enforced; code-server is nothing but install scripts (its postinstall runs nested npm installs for
#   VS Code and its built-in extensions, which build node-pty, @parcel/watcher, kerberos...). An
#   allowScripts list in this folder's package.json would not reach those nested installs; the
#   environment variable does. This folder holds only code-server. (With npm 11.19 as configured here
#   the install also works without it; the variable keeps it working where the policy is enforced.)
# - TMPDIR: the seeded ripgrep cache above.
export npm_config_unsafe_perm=true
export npm_config_yes=true
export npm_config_nodedir=/usr
export npm_config_dangerously_allow_all_scripts=true
export npm_config_fund=false
export npm_config_audit=false
export TMPDIR="$WORK"
(cd "$DEST" && npm install --no-save --no-package-lock --foreground-scripts=false "code-server@$VERSION" >"$WORK/npm.log" 2>&1) || {
  echo "npm install of code-server failed; the end of its log:" >&2
  tail -n 60 "$WORK/npm.log" >&2
  exit 1
}

got="$(installed_version || true)"
if [ "$got" != "$VERSION" ]; then
  echo "code-server installed but \`code-server --version\` says '${got:-nothing}', expected $VERSION; the end of the npm log:" >&2
  tail -n 60 "$WORK/npm.log" >&2
  exit 1
fi
# The terminal needs node-pty's native module; a skipped install script leaves it out silently.
if ! find "$DEST/node_modules/code-server/lib/vscode/node_modules/node-pty/build" -name pty.node 2>/dev/null | grep -q .; then
  echo "code-server $VERSION installed, but node-pty was not built (lib/vscode/node_modules/node-pty/build/**/pty.node missing)" >&2
  tail -n 60 "$WORK/npm.log" >&2
  exit 1
fi
echo "code-server $got installed in $DEST"
