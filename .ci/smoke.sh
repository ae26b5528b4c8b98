#!/usr/bin/env bash
# Checks an INSTALLED sb3doctor (the wheel or the sdist in a fresh venv, not the checkout):
# the CI formats and the gate's exit codes on the bundled fixtures. Run by .ci/run.
#
# Usage: bash .ci/smoke.sh [full|light]
#   full:  the [train] extra is installed (sb3doctor train works)
#   light: the bare install; `sb3doctor train` must name the extra to install, with exit 2
set -euo pipefail
mode="${1:-full}"
root="$(cd "$(dirname "$0")/.." && pwd)"
fix="$root/fixtures"
work="$(mktemp -d)"
# Away from the checkout, so that `import sb3doctor` can only find the installed package.
cd "$work"

fail() { echo "smoke: FAIL: $*" >&2; exit 1; }

# expect_exit CODE CMD...: run CMD (stdout to out.txt, stderr to err.txt) and check its exit code.
expect_exit() {
  local want=$1 got=0
  shift
  "$@" >out.txt 2>err.txt || got=$?
  if [ "$got" != "$want" ]; then
    cat out.txt err.txt >&2
    fail "'$*' exited $got, expected $want"
  fi
}

python - <<'PY'
import sb3doctor
# An editable install or the checkout on sys.path would make every check below meaningless.
assert "site-packages" in sb3doctor.__file__, f"sb3doctor imported from {sb3doctor.__file__}"
print(f"smoke: sb3doctor {sb3doctor.__version__} from {sb3doctor.__file__}")
PY

# The built-in rules travel inside the wheel.
expect_exit 0 sb3doctor rules
grep -q '^PPO-KL-HIGH ' out.txt || fail "sb3doctor rules does not list PPO-KL-HIGH"

# A healthy run passes the gate; a run with error findings fails it, in every format.
expect_exit 0 sb3doctor analyze "$fix/ppo_cartpole"
expect_exit 1 sb3doctor analyze "$fix/ppo_lr_high"
expect_exit 0 sb3doctor analyze "$fix/ppo_lr_high" --fail-on never

expect_exit 1 sb3doctor analyze "$fix/ppo_lr_high" --fail-on error --format junit -o report.xml
python - <<'PY'
import xml.etree.ElementTree as ET
root = ET.parse("report.xml").getroot()
assert root.tag == "testsuites" and int(root.get("failures")) >= 1, ET.tostring(root)[:300]
PY

expect_exit 1 sb3doctor analyze "$fix/ppo_lr_high" --format sarif -o report.sarif
python - <<'PY'
import json
doc = json.load(open("report.sarif", encoding="utf-8"))
results = doc["runs"][0]["results"]
assert doc["version"] == "2.1.0" and any(r["level"] == "error" for r in results), results
PY

expect_exit 1 sb3doctor analyze "$fix/ppo_lr_high" --format github
grep -q '^::error file=' out.txt || fail "--format github printed no ::error annotation"
if grep -q '^::notice' out.txt; then fail "--format github annotated info findings at --fail-on error"; fi

expect_exit 0 sb3doctor analyze "$fix/ppo_lr_high" --format json --fail-on never
python -c "import json; d = json.load(open('out.txt')); assert d['runs'] and d['findings'] == [], d.keys()"

# Bad input is "could not run" (2), never "gate failed" (1).
expect_exit 2 sb3doctor analyze "$work/no-such-folder"

if [ "$mode" = light ]; then
  expect_exit 2 sb3doctor train --preset healthy --timesteps 100
  grep -q 'pip install' err.txt || fail "sb3doctor train without the [train] extra does not say what to install"
  expect_exit 2 sb3doctor report "$fix/ppo_lr_high" -o report.html
  grep -q 'sb3doctor\[report\]' err.txt || fail "sb3doctor report without the [report] extra does not name it"
fi

# The HTML report's vendored chart library and its own script travel inside the package.
python - <<'PY'
from importlib import resources
files = resources.files("sb3doctor.report")
for name in ("vendor/uPlot.iife.min.js", "vendor/uPlot.min.css", "vendor/uPlot.LICENSE", "assets/report.js"):
    assert files.joinpath(name).is_file(), f"{name} is not installed"
PY
echo "smoke: ok ($mode)"
