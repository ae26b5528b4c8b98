"""Run the peer tool zen-rl (PyPI ``zen-rl`` 0.1.0) on an SB3 run folder and map its verdicts to sb3doctor's.

How zen-rl is used
==================
zen-rl's README: ``pip install zen-rl`` then ``zen path/to/run`` ("You point it at a TensorBoard log
directory"). Its only entry point is the console script ``zen`` (``zen.cli:main``), which takes
exactly one argument: a run directory, or the word ``history``. It has no options, no JSON output
and no documented Python API (the modules ``zen.ingest.tensorboard.load_run``, ``zen.detect.rules
.detect`` and ``zen.vlak`` are internals), so this adapter runs the CLI, as a user would, in a
subprocess with a timeout, and parses its plain-text output:

* ``zen RUN_DIR`` reads every TensorBoard event file under ``RUN_DIR`` (``tbparse.SummaryReader``,
  which walks subfolders too and merges what it finds into one set of tags), applies five
  if-statements, ranks the hits, drops those it considers consequences of another (``DEAD_RUN``
  and ``POLICY_COLLAPSE`` are not printed when ``LR_TOO_HIGH`` fires), and prints one mode id per
  line (``LR_TOO_HIGH``), then one recommendation line per mode ending in ``Evidence: <metric> =
  <value> at step <step>``. Exit status 0.
* With no hit it prints ``No known failure modes detected.`` and the list of checks. Exit 0.
* Any exception (missing folder, no scalars in it, ...) is printed as ``Error: <message>`` with
  exit status 1.
* On success it also appends a row to a SQLite file ``zen_memory.db`` in the *current directory*
  (its ``zen history`` memory); the adapter therefore runs it with a fresh temporary directory
  as the working directory so that nothing is written into the repository or the run folder.

Input given to it: the run folder itself, as an absolute path (so a folder named ``history``
cannot be mistaken for the sub-command), whenever it holds an SB3 TensorBoard event file
(``events.out.tfevents.*``, at any depth, as zen itself searches). zen-rl reads nothing else:
no ``progress.csv``, ``*.monitor.csv``, ``config.yml`` or stdout log. Only for a folder without
any event file but with SB3 ``progress.csv`` files does the adapter convert: each
``progress.csv`` becomes one event file in a temporary folder (same relative subfolder), with one
scalar per non-empty numeric cell at step ``time/total_timesteps``, which is what SB3's
``TensorBoardOutputFormat`` writes for the same ``logger.dump(step=num_timesteps)``. The run
folder is never written to.

zen-rl has no severities: every printed mode is presented as a failure, so every printed mode
counts as a finding (``PeerResult.categories``).

Mapping of zen-rl's modes to sb3doctor's categories
===================================================
==============================  ====================================================  ====================
zen-rl mode                     zen-rl's rule (``zen/detect/rules.py``)               sb3doctor category
==============================  ====================================================  ====================
``LR_TOO_HIGH``                 any ``train/approx_kl`` > 5.0                         ``lr_too_high``
``POLICY_COLLAPSE``             any abs(``train/entropy_loss``) < 1e-6, step > 5000   ``entropy_collapse``
``DEAD_RUN``                    last ``rollout/ep_rew_mean`` < 50                     ``reward_plateau``
``CAPPED_PERFORMANCE``          50 <= last ``rollout/ep_rew_mean`` < 250              ``reward_plateau``
``ADVANTAGE_NOT_NORMALIZED``    any abs(``train/policy_gradient_loss``) > 1.0         None
==============================  ====================================================  ====================

Why:

* ``LR_TOO_HIGH`` -> ``lr_too_high``: zen's claim and advice ("drop learning rate to 3e-4") are
  the learning rate; sb3doctor files too-large PPO updates (``PPO-KL-HIGH``) under the same name.
* ``POLICY_COLLAPSE`` -> ``entropy_collapse``: entropy ~0 means the policy turned deterministic,
  which is exactly sb3doctor's ``ENTROPY-COLLAPSE`` (zen also advises an entropy bonus).
* ``DEAD_RUN`` -> ``reward_plateau``: "run never learned, reward stayed near its starting value"
  is the benchmark's no-learning symptom (``PROTOCOL.md``: ``reward_plateau``); not
  ``sparse_reward_no_learning``, which also needs the return stuck at the env's floor, something
  zen never checks (its advice is about the learning rate and clip_range, not sparse rewards).
* ``CAPPED_PERFORMANCE`` -> ``reward_plateau``: "learned but plateaued well below what is
  achievable" is sb3doctor's ``RET-PLATEAU``.
* ``ADVANTAGE_NOT_NORMALIZED`` -> None: a claim about the ``normalize_advantage`` setting, for
  which sb3doctor has no category; the nearest symptom category, ``reward_scale_too_large``, is
  about the value loss / return scale and mapping to it would credit zen with a claim it did not
  make. (Its advice says the run "may still learn", i.e. zen itself does not call it a fault of
  this run.)
* Any mode that a later zen-rl version adds -> None (kept in ``raw``).

Limitations (of zen-rl, as seen through this adapter)
=====================================================
* TensorBoard only; a run logged without ``tensorboard_log`` needs the ``progress.csv``
  conversion above; stdout-only or monitor-only runs give an error.
* Its thresholds are absolute and were fitted on CartPole: ``DEAD_RUN`` fires on any run whose
  last ``ep_rew_mean`` is below 50 (Acrobot, MountainCar, Pendulum, a 0/1-reward grid, ... even
  when solved), ``CAPPED_PERFORMANCE`` on any last value in [50, 250).
* Runs whose episodes never end log no ``rollout/ep_rew_mean``: the reward rules are silent.
* ``ADVANTAGE_NOT_NORMALIZED`` reads ``train/policy_gradient_loss``, which only PPO logs (A2C logs
  ``train/policy_loss``), and ``LR_TOO_HIGH`` needs ``train/approx_kl`` (PPO only; 5.0 is far above
  what most too-high learning rates produce, e.g. 1.7 and 4.0 on two real lr_too_high runs).
* ``POLICY_COLLAPSE`` needs abs(entropy_loss) < 1e-6 exactly: a collapsed policy at 5e-5 passes.
* Several runs under one folder are merged into one (tbparse reads the tree): pass one run's
  folder.
* zen-rl 0.1.0 requires Python >= 3.11.

Usage::

    python bench/peers/zen_rl.py RUN_DIR [RUN_DIR ...]
"""

from __future__ import annotations

import csv
import importlib.util
import math
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

#: zen-rl mode id -> sb3doctor category (None: no counterpart; see the module docstring).
MAPPING: dict[str, str | None] = {
    "LR_TOO_HIGH": "lr_too_high",
    "POLICY_COLLAPSE": "entropy_collapse",
    "DEAD_RUN": "reward_plateau",
    "CAPPED_PERFORMANCE": "reward_plateau",
    "ADVANTAGE_NOT_NORMALIZED": None,
}

_EVENT_GLOB = "events.out.tfevents.*"
_MODE_LINE = re.compile(r"^[A-Z][A-Z0-9_]*$")
_NO_FINDING = "No known failure modes detected."
_STEP_COLUMN = "time/total_timesteps"


@dataclass
class PeerResult:
    """What zen-rl said about one run.

    Attributes:
        categories: sb3doctor categories of the printed modes (zen-rl has no severities, so every
            printed mode counts).
        raw: zen-rl's mode ids, in the order it printed them.
        error: why zen-rl gave no verdict (crash, timeout, unreadable input), else None.
        seconds: wall time of the zen-rl call (including any input conversion).
        details: zen-rl's recommendation lines (advice + "Evidence: metric = value at step N").
    """

    categories: set[str] = field(default_factory=set)
    raw: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    details: list[str] = field(default_factory=list)


def _command() -> list[str] | None:
    """The command line that starts zen-rl's CLI, or None when zen-rl is not installed."""
    if importlib.util.find_spec("zen") is not None and importlib.util.find_spec("zen.cli") is not None:
        # The console script installed next to this interpreter (a venv need not be activated).
        script = Path(sys.executable).with_name("zen")
        if script.is_file():
            return [str(script)]
        return [sys.executable, "-m", "zen.cli"]
    on_path = shutil.which("zen")
    return [on_path] if on_path else None


def available() -> bool:
    """Whether zen-rl can be run: importable in this interpreter or a ``zen`` CLI on PATH."""
    return _command() is not None


def _float(cell: str) -> float | None:
    """A CSV cell as a float, or None for an empty or non-numeric cell."""
    try:
        return float(cell)
    except (TypeError, ValueError):
        return None


def _progress_csv_to_events(progress: Path, out_dir: Path) -> int:
    """Write SB3 ``progress.csv`` rows as one TensorBoard event file in ``out_dir``.

    Each non-empty numeric cell becomes a scalar (``simple_value``) under its column name at step
    ``time/total_timesteps`` of its row, as SB3's TensorBoard logger writes it. Returns the number
    of scalars written.
    """
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    out_dir.mkdir(parents=True, exist_ok=True)
    writer = EventFileWriter(str(out_dir))
    written = 0
    try:
        with progress.open(newline="") as fh:
            for row_no, row in enumerate(csv.DictReader(fh)):
                step_value = _float(row.get(_STEP_COLUMN, ""))
                step = int(step_value) if step_value is not None and math.isfinite(step_value) else row_no
                values = [
                    Summary.Value(tag=key, simple_value=value)
                    for key, cell in row.items()
                    if key and (value := _float(cell)) is not None
                ]
                if values:
                    writer.add_event(Event(wall_time=time.time(), step=step, summary=Summary(value=values)))
                    written += len(values)
    finally:
        writer.close()
    return written


def _prepare_input(run_dir: Path, work: Path) -> tuple[Path, str | None]:
    """The folder to hand to zen-rl for ``run_dir``, and an explanation when it cannot read it.

    The run folder itself when it holds an event file; otherwise a temporary folder under ``work``
    with its ``progress.csv`` files converted; otherwise the run folder (zen-rl then reports its
    own error, returned with the explanation).
    """
    if any(run_dir.rglob(_EVENT_GLOB)):
        return run_dir, None
    progress_files = sorted(run_dir.rglob("progress.csv"))
    if progress_files:
        converted = work / "converted"
        total = 0
        for progress in progress_files:
            total += _progress_csv_to_events(progress, converted / progress.parent.relative_to(run_dir))
        if total:
            return converted, None
    return run_dir, "no TensorBoard event file (and no usable progress.csv) in the run folder"


def _parse(stdout: str) -> tuple[list[str], list[str], bool]:
    """zen-rl's output as (mode ids, recommendation lines, recognised)."""
    modes: list[str] = []
    details: list[str] = []
    lines = [line.strip() for line in stdout.splitlines() if line.strip()]
    if any(line == _NO_FINDING for line in lines):
        return modes, details, True
    for line in lines:
        if _MODE_LINE.match(line):
            modes.append(line)
        else:
            details.append(line)
    return modes, details, bool(modes)


def diagnose(run_dir: Path, timeout: float = 120) -> PeerResult:
    """Run zen-rl's CLI on one SB3 run folder and map its modes to sb3doctor categories.

    Args:
        run_dir: the run's folder (holding ``events.out.tfevents.*``, or SB3 ``progress.csv``).
        timeout: seconds before the zen-rl process is killed (reported as an error).

    Returns:
        The mapped categories, zen-rl's mode ids and advice lines, or the error.
    """
    start = time.perf_counter()
    result = PeerResult()
    command = _command()
    run_dir = Path(run_dir).resolve()
    if command is None:
        result.error = "zen-rl is not installed (pip install zen-rl)"
    elif not run_dir.is_dir():
        result.error = f"not a directory: {run_dir}"
    else:
        with tempfile.TemporaryDirectory(prefix="zen-rl-") as tmp:
            work = Path(tmp)
            try:
                target, problem = _prepare_input(run_dir, work)
                proc = subprocess.run(
                    [*command, str(target)],
                    cwd=work,  # zen writes zen_memory.db into the working directory
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                result.error = f"zen-rl timed out after {timeout:g} s"
            except (OSError, ValueError, csv.Error) as exc:
                result.error = f"could not run zen-rl: {type(exc).__name__}: {exc}"
            else:
                modes, details, recognised = _parse(proc.stdout)
                if proc.returncode != 0 or not recognised:
                    said = (proc.stdout.strip() or proc.stderr.strip()).splitlines()
                    message = said[-1] if said else "no output"
                    result.error = f"zen-rl exit {proc.returncode}: {message}"
                    if problem:
                        result.error = f"{problem}; {result.error}"
                else:
                    result.raw = modes
                    result.details = details
                    result.categories = {cat for mode in modes if (cat := MAPPING.get(mode)) is not None}
    result.seconds = time.perf_counter() - start
    return result


def main(argv: list[str] | None = None) -> int:
    """Print one line per run folder: run, mapped categories, zen-rl's modes, error."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python bench/peers/zen_rl.py RUN_DIR [RUN_DIR ...]", file=sys.stderr)
        return 2
    if not available():
        print("zen-rl is not installed (pip install zen-rl)", file=sys.stderr)
        return 1
    for arg in args:
        res = diagnose(Path(arg))
        cats = ",".join(sorted(res.categories)) or "-"
        raw = ",".join(res.raw) or "-"
        print(f"{arg}\tcategories={cats}\traw={raw}\terror={res.error or '-'}\t({res.seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
