#!/usr/bin/env bash
# The Python client's packaging, typing and lint checks (run by scripts/test):
#   1. mypy --strict on the package (Debian's mypy), ruff on the package (Ruff's WebAssembly build from npm:
#      the ruff binary is not installable here);
#   2. build the sdist and the wheel with `python3 -m build` (Debian's python3-build; the package's own build
#      backend needs nothing downloaded);
#   3. install the wheel, and the sdist, into fresh virtualenvs and run tools/smoke.py with each against a real
#      broker (scripts/switchboard broker --demo) that starts AFTER the clients (they wait for it);
#   4. mypy --strict on user code (tools/typing_consumer.py) against the installed package: py.typed works;
#   5. the codec tests and shared vectors with the optional msgpack package (Debian's python3-msgpack) and with
#      the standard library only (SWITCHBOARD_CODECS=stdlib).
# Missing tools are installed (apt-get as root, npm into a cache folder); if that is impossible the script fails.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pkg=$(dirname "$here")
root=$(cd "$pkg/../.." && pwd)
RUFF_WASM_VERSION=0.17.3
cache=${XDG_CACHE_HOME:-$HOME/.cache}/switchboard-python-tools

die() { echo "clients/python/tools/check.sh: $*" >&2; exit 1; }

need_debs=()
command -v mypy >/dev/null || need_debs+=(mypy)
/usr/bin/python3 -c 'import build' 2>/dev/null || need_debs+=(python3-build)
/usr/bin/python3 -c 'import ensurepip, venv' 2>/dev/null || need_debs+=(python3-venv)
/usr/bin/python3 -c 'import msgpack' 2>/dev/null || need_debs+=(python3-msgpack)
if [ ${#need_debs[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "needs ${need_debs[*]} (Debian packages) and is not root to install them"
  echo "installing ${need_debs[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_debs[@]}") >/dev/null \
    || die "apt-get install ${need_debs[*]} failed"
fi
command -v node >/dev/null || die "needs node for ruff's WebAssembly build"
if [ ! -f "$cache/node_modules/@astral-sh/ruff-wasm-nodejs/package.json" ] \
   || ! grep -q "\"version\": \"$RUFF_WASM_VERSION\"" "$cache/node_modules/@astral-sh/ruff-wasm-nodejs/package.json"; then
  echo "installing @astral-sh/ruff-wasm-nodejs@$RUFF_WASM_VERSION into $cache"
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-audit --no-fund --no-save "@astral-sh/ruff-wasm-nodejs@$RUFF_WASM_VERSION" >/dev/null \
    || die "npm install @astral-sh/ruff-wasm-nodejs@$RUFF_WASM_VERSION failed"
fi

echo "-- mypy --strict ($(mypy --version))"
(cd "$pkg" && mypy)
echo "-- ruff"
settings=$(python3 -c "import json, tomllib; print(json.dumps(tomllib.load(open('$pkg/pyproject.toml', 'rb'))['tool']['ruff']))")
RUFF_WASM_PREFIX=$cache node "$here/ruff_check.mjs" "$settings" "$pkg"/switchboard/*.py "$pkg"/tools/*.py

work=$(mktemp -d /tmp/sb-pycheck.XXXXXX)
aeron=$(mktemp -d /dev/shm/sb-pycheck.XXXXXX 2>/dev/null || mktemp -d /tmp/sb-pycheck-aeron.XXXXXX)
broker_pid=
cleanup() {
  if [ -n "$broker_pid" ]; then kill -TERM -- "-$broker_pid" 2>/dev/null || true; wait "$broker_pid" 2>/dev/null || true; fi
  rm -rf "$work" "$aeron"
}
trap cleanup EXIT

echo "-- python3 -m build"
/usr/bin/python3 -m build --outdir "$work/dist" "$pkg" > "$work/build.log" 2>&1 || { cat "$work/build.log"; die "build failed"; }
wheel=$(ls "$work"/dist/*.whl) && sdist=$(ls "$work"/dist/*.tar.gz) || die "build made no wheel or sdist"
unzip -p "$wheel" '*.dist-info/METADATA' > "$work/METADATA" && unzip -l "$wheel" > "$work/wheel.list" || die "unreadable wheel"
grep -qx 'License-Expression: Apache-2.0' "$work/METADATA" || die "wheel metadata lacks the licence"
grep -q 'switchboard/py.typed' "$work/wheel.list" || die "wheel lacks py.typed"
echo "built $(basename "$wheel") and $(basename "$sdist")"

echo "-- fresh virtualenvs: the wheel and the sdist installed, offline"
python3 -m venv "$work/venv-wheel"
"$work/venv-wheel/bin/pip" install -q --no-index "$wheel" || die "pip install of the wheel failed"
python3 -m venv "$work/venv-sdist"
"$work/venv-sdist/bin/pip" install -q --no-index "$sdist" || die "pip install of the sdist failed"

echo "-- smoke test against a real broker (clients started first: they wait for it)"
mkdir -p "$work/sock" && chmod 700 "$work/sock"
socket=$work/sock/broker.sock
"$work/venv-wheel/bin/python" "$here/smoke.py" "$socket" > "$work/smoke-wheel.log" 2>&1 &
smoke_wheel=$!
"$work/venv-sdist/bin/python" "$here/smoke.py" "$socket" > "$work/smoke-sdist.log" 2>&1 &
smoke_sdist=$!
setsid "$root/scripts/switchboard" broker --demo --socket "$socket" --aeron-dir "$aeron/aeron" > "$work/broker.log" 2>&1 &
broker_pid=$!
ok=1
wait "$smoke_wheel" || ok=0
wait "$smoke_sdist" || ok=0
cat "$work/smoke-wheel.log" "$work/smoke-sdist.log"
[ "$ok" = 1 ] || { tail -20 "$work/broker.log"; die "smoke test failed"; }

echo "-- mypy --strict on user code against the installed package"
(cd "$work" && mypy --strict --python-executable "$work/venv-wheel/bin/python" --no-incremental "$here/typing_consumer.py")
cat > "$work/wrong.py" <<'PY'
import switchboard
switchboard.Client(socket_path=1)
PY
if (cd "$work" && mypy --strict --python-executable "$work/venv-wheel/bin/python" --no-incremental wrong.py) > "$work/wrong.log" 2>&1 \
   || ! grep -q 'arg-type' "$work/wrong.log"; then
  cat "$work/wrong.log"; die "mypy did not see the installed package's types (a wrong argument passed unnoticed)"
fi
echo "a wrong argument is caught: $(grep -m1 arg-type "$work/wrong.log")"

echo "-- codecs: with the msgpack package (Debian's python3), and with the standard library only"
/usr/bin/python3 -m venv --system-site-packages "$work/venv-extras"
"$work/venv-extras/bin/pip" install -q --no-index "$wheel" || die "pip install of the wheel (Debian's python3) failed"
(cd "$pkg/tests" && "$work/venv-extras/bin/python" -c 'import switchboard.protocol as P; assert P.MSGPACK_CODEC.name == "msgpack", P.MSGPACK_CODEC' \
  && "$work/venv-extras/bin/python" -m unittest -q test_codec test_vectors)
(cd "$pkg/tests" && SWITCHBOARD_CODECS=stdlib PYTHONPATH="$pkg" python3 -c 'import switchboard.protocol as P; assert (P.JSON_CODEC.name, P.MSGPACK_CODEC.name) == ("json", "switchboard.msgpack")' \
  && SWITCHBOARD_CODECS=stdlib python3 -m unittest -q test_codec test_vectors)
echo "python packaging, types and lint: all passed"
