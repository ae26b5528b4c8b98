#!/usr/bin/env bash
# The CI recipe of the README ("Use it as a CI gate"), as one script.
#
# The README's GitHub Actions and GitLab CI snippets are copied from the steps below verbatim
# (tests/test_ci_recipe.py fails when they drift apart), and .ci/run runs this script end to end
# in a fresh venv, so the recipe users copy is the one that is tested. sb3doctor is not on PyPI:
# the install step builds the sdist and wheel from this checkout and installs the wheel.
#
# Usage, from the root of a checkout: bash ci/gate-example.sh
# Exit code: the gate's (0 passed, 1 failed, 2 could not run); the reports step never fails.
set -euo pipefail
cd "$(dirname "$0")/.."

# step: install
python -m pip install build
python -m build
python -m pip install "$(ls dist/sb3doctor-*.whl)[train]"

# step: train
for seed in 1 2 3; do
  sb3doctor train --preset healthy --timesteps 20000 --seed "$seed" --device cpu --no-progress
done

# step: gate
sb3doctor analyze logs/ --aggregate median \
  --expect "rollout/ep_rew_mean:mean@last20%>=0.9" \
  --expect "rollout/ep_len_mean:median@last20%<=30" \
  --expect "train/approx_kl:max<0.1" \
  --expect "train/explained_variance:median@last50%>0.5" \
  --format junit --output report.xml

# step: reports
ARGS='logs/ --aggregate median --expect rollout/ep_rew_mean:mean@last20%>=0.9 --fail-on never'
sb3doctor analyze $ARGS --format github
sb3doctor analyze $ARGS --format markdown >> "${GITHUB_STEP_SUMMARY:-summary.md}"
sb3doctor analyze $ARGS --format sarif --output sb3doctor.sarif
