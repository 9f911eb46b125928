"""Tests of the cluster profiles in profiles/.

Each test copies the workflow (Snakefile, workflow/, config/, profiles/) into a
temporary folder and runs it there, so the repository gets no results and no
Snakemake lock.

- profiles/slurm runs on a real SLURM cluster: the one-node cluster that
  `.ci/slurm.sh start` sets up on this host (marked ``slurm``). The smoke
  configuration's results must equal those of the session's local smoke run, and
  a training job that SLURM ends at its time limit must resume from its checkpoint.
- profiles/slurm-gpu and profiles/cluster-generic run through stand-in
  scheduler commands (sbatch, squeue, qsub, ...) that this module writes. They
  record their arguments and run each job on this host in the background, so the
  tests need neither a GPU nor a batch system.
"""

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml

from workflow_runs import REPO, SMOKE_CONFIG, check_success, copy_workflow, snakemake, tool_environment

SLURM_SCRIPT = REPO / ".ci" / "slurm.sh"

# Rules that the slurm-gpu profile gives a GPU. Every other rule must not get one.
GPU_RULES = frozenset({"train_resnet", "solve_limit", "solve_limit_from_deepest"})

# Measured run times differ between any two runs, so the comparison of results
# leaves out the compute-cost table and these columns of the other CSV files.
COST_TABLE_PATTERN = "*compute_cost*"
TIMING_COLUMNS = frozenset({"wall_time"})

# Bound on one Snakemake run in seconds. On a 2-core host shared with other
# work, the smoke workflow (76 jobs) took about 15 minutes, both through SLURM and
# locally. Through SLURM, each dependency level also waits for a status poll,
# 5 s or more after submission, and the wait grows by 10 s per poll in which no
# job finished.
RUN_TIMEOUT_S = int(os.environ.get("DEEPLIMITS_CLUSTER_TEST_TIMEOUT", "1800"))

# sinfo node states in which the node accepts jobs.
NODE_UP_STATES = frozenset({"idle", "mixed", "allocated", "completing"})

RULE_HEADER = re.compile(r"^(local)?rule (\w+):$")
JOBID_LINE = re.compile(r"^\s+jobid: (\d+)$")
FINISHED_LINE = re.compile(r"^Finished jobid: (\d+)")
SLURM_SUBMITTED_LINE = re.compile(
    r"^Job (\d+) has been submitted with SLURM jobid (\d+) \(log: (.+)\)\.$"
)
SLURMCTLD_SUBMIT = re.compile(r"_slurm_rpc_submit_batch_job: JobId=(\d+) ")


# --- running the workflow -------------------------------------------------


def copy_cluster_workflow(destination: Path) -> Path:
    """Copy the files that define the workflow, and the profiles, into ``destination``."""
    return copy_workflow(destination, extra=("profiles",))


def stand_in_environment(bin_dir: Path, **variables: str) -> dict[str, str]:
    """Return this process's environment with ``bin_dir`` first on PATH, plus ``variables``."""
    return {**os.environ, "PATH": os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")]), **variables}


def run_snakemake(workdir: Path, arguments: list[str], env: dict[str, str] | None = None) -> str:
    """Run Snakemake in ``workdir`` for at most RUN_TIMEOUT_S seconds; return its output.

    The output is also kept in ``workdir/snakemake.out``.
    """
    started = time.monotonic()
    completed = snakemake(workdir, *arguments, timeout=RUN_TIMEOUT_S, env=env)
    (workdir / "snakemake.out").write_text(completed.stdout)
    print(f"snakemake {' '.join(arguments)}: exit {completed.returncode} after {time.monotonic() - started:.1f} s")
    return check_success(completed)


# --- reading Snakemake's log ----------------------------------------------


def parse_jobs(log: str) -> dict[int, tuple[str, bool]]:
    """Map each Snakemake job id in ``log`` to its rule and whether it ran locally."""
    jobs = {}
    rule, local = None, False
    for line in log.splitlines():
        header = RULE_HEADER.match(line)
        if header:
            local, rule = header.group(1) is not None, header.group(2)
            continue
        jobid = JOBID_LINE.match(line)
        if jobid and rule is not None:
            jobs[int(jobid.group(1))] = (rule, local)
            rule = None
    return jobs


def finished_jobs(log: str) -> dict[int, tuple[str, bool]]:
    """Return the rule and locality of each job that ``log`` reports finished."""
    jobs = parse_jobs(log)
    finished = [int(m.group(1)) for m in map(FINISHED_LINE.match, log.splitlines()) if m]
    return {jobid: jobs[jobid] for jobid in finished}


def remote_jobs(log: str) -> dict[int, str]:
    """Return the rule of each finished job that was not a local rule."""
    return {jobid: rule for jobid, (rule, local) in finished_jobs(log).items() if not local}


def rule_counts(log: str) -> Counter:
    """Count the finished jobs of each rule."""
    return Counter(rule for rule, _ in finished_jobs(log).values())


# --- the real SLURM cluster -----------------------------------------------


def node_state() -> str | None:
    """Return the sinfo state of this host's SLURM node, or None if sinfo fails."""
    result = subprocess.run(
        ["sinfo", "--noheader", "--format=%T"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    states = result.stdout.split()
    if result.returncode != 0 or not states:
        return None
    return states[0].rstrip("*~#!%$@^-")


@pytest.fixture(scope="session")
def slurm_cluster():
    """Ensure that a one-node SLURM cluster runs, and stop it at the end if this fixture started it.

    Skips, with the reason, when the SLURM tools are missing or the node cannot
    be brought up.
    """
    if shutil.which("sinfo") is None:
        pytest.skip("sinfo not found: SLURM is not installed (run `.ci/slurm.sh install` as root)")
    state = node_state()
    if state in NODE_UP_STATES:
        yield
        return

    if os.geteuid() != 0 or shutil.which("slurmctld") is None:
        pytest.skip(
            f"SLURM node not up (sinfo state: {state}), and this process cannot start "
            "it: `.ci/slurm.sh start` needs root and slurmctld"
        )
    started = subprocess.run(
        [str(SLURM_SCRIPT), "start"], capture_output=True, text=True, timeout=180
    )
    if started.returncode != 0:
        # Stop whatever part of the cluster did start before giving up.
        subprocess.run([str(SLURM_SCRIPT), "stop"], timeout=60)
        pytest.skip(
            f"SLURM node not up (sinfo state: {state}), and `.ci/slurm.sh start` failed:\n"
            f"{started.stdout}{started.stderr}"
        )
    yield

    # The tests' own runs have ended, so queued or running jobs belong to another
    # process that found the cluster up. Stopping the cluster would fail that run.
    active = subprocess.run(
        ["squeue", "--noheader", "--states=PENDING,RUNNING,COMPLETING", "--format=%i"],
        capture_output=True, text=True, timeout=30,
    ).stdout.split()  # fmt: skip
    if active:
        print(f"leaving SLURM running for jobs of other runs: {' '.join(active)}")
        return
    subprocess.run([str(SLURM_SCRIPT), "stop"], check=True, timeout=60)


def slurmctld_log_path() -> Path:
    """Return the controller's log file, as `scontrol show config` reports it."""
    config = subprocess.run(
        ["scontrol", "show", "config"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    match = re.search(r"^SlurmctldLogFile\s*=\s*(\S+)", config, re.MULTILINE)
    assert match, "scontrol show config reports no SlurmctldLogFile"
    return Path(match.group(1))


def read_csv_without_timing(path: Path) -> list[list[str]]:
    """Return the cells of a CSV file, without the columns of measured run time."""
    with path.open(newline="") as table:
        rows = list(csv.reader(table))
    if not rows:
        return rows
    kept = [index for index, name in enumerate(rows[0]) if name not in TIMING_COLUMNS]
    return [[row[index] for index in kept if index < len(row)] for row in rows]


def compare_results(slurm_results: Path, local_results: Path) -> None:
    """Assert that two runs wrote the same .npz files and CSV tables.

    The .npz files must be byte-identical. So must the CSV files, apart from the
    compute-cost table and the TIMING_COLUMNS of the others, whose cells are
    compared as text.
    """
    npz = sorted(p.relative_to(slurm_results) for p in slurm_results.rglob("*.npz"))
    local_npz = sorted(p.relative_to(local_results) for p in local_results.rglob("*.npz"))
    assert npz, f"no .npz file under {slurm_results}"
    assert npz == local_npz, "the two runs wrote different sets of .npz files"

    tables = sorted(
        p.relative_to(slurm_results)
        for p in slurm_results.rglob("*.csv")
        if not p.match(COST_TABLE_PATTERN)
    )
    local_tables = sorted(
        p.relative_to(local_results)
        for p in local_results.rglob("*.csv")
        if not p.match(COST_TABLE_PATTERN)
    )
    assert tables, f"no CSV table under {slurm_results}"
    assert tables == local_tables, "the two runs wrote different sets of CSV tables"

    different_npz = [
        str(path)
        for path in npz
        if (slurm_results / path).read_bytes() != (local_results / path).read_bytes()
    ]
    assert not different_npz, f".npz files that differ between the SLURM and the local run: {different_npz}"
    different_tables = [
        str(path)
        for path in tables
        if read_csv_without_timing(slurm_results / path)
        != read_csv_without_timing(local_results / path)
    ]
    assert not different_tables, f"CSV files that differ between the SLURM and the local run: {different_tables}"


@pytest.mark.slurm
@pytest.mark.slow
def test_smoke_workflow_through_slurm(slurm_cluster, smoke_run, tmp_path):
    slurm_dir = copy_cluster_workflow(tmp_path / "slurm")
    controller_log = slurmctld_log_path()
    log_offset = controller_log.stat().st_size

    slurm_log = run_snakemake(slurm_dir, ["--profile", "profiles/slurm", "--configfile", SMOKE_CONFIG])
    # The local run is the session's smoke run, on 2 cores.
    local_dir = smoke_run[0]
    local_log = (local_dir / "snakemake.out").read_text()

    # (a) Every job that is not a local rule went through sbatch exactly once.
    remote = remote_jobs(slurm_log)
    submissions = {
        int(m.group(1)): (m.group(2), Path(m.group(3)))
        for m in map(SLURM_SUBMITTED_LINE.match, slurm_log.splitlines())
        if m
    }
    assert remote, "the SLURM run finished no job outside local rules"
    assert sorted(submissions) == sorted(remote)
    slurm_ids = [slurm_id for slurm_id, _ in submissions.values()]
    assert len(set(slurm_ids)) == len(slurm_ids), f"SLURM job ids repeat: {slurm_ids}"

    with controller_log.open() as log:
        log.seek(log_offset)
        controller_ids = set(SLURMCTLD_SUBMIT.findall(log.read()))
    missing = sorted(set(slurm_ids) - controller_ids, key=int)
    assert not missing, f"job ids that slurmctld never received: {missing}"
    without_log = [str(path) for _, path in submissions.values() if not path.is_file()]
    assert not without_log, f"SLURM job logs not found: {without_log}"

    # Both runs ran the same jobs.
    assert rule_counts(slurm_log) == rule_counts(local_log)

    # (b) SLURM and local execution give the same arrays and tables.
    compare_results(slurm_dir / "results", local_dir / "results")


# The time-limit test trains one deep circles network. At N = 2048 it takes about
# 1,500 L-BFGS iterations before its line search stalls short of the tolerance,
# about 4 minutes on the 2-core test machine (0.18 s per iteration). Its first
# attempt gets a 1-minute limit (sbatch -t 1), and SLURM ends it 60 to about 95 s
# after it starts, as the controller checks the limits every 30 s. The retry gets
# 10 minutes, ample for what is left.
TIME_LIMIT_ITERATIONS = 3000
TIME_LIMIT_DEPTH = 2048
TIME_LIMIT_RUNTIME = "train_resnet:runtime=1 if attempt == 1 else 10"
TIME_LIMIT_MODEL = f"results/models/circles/baseline/N{TIME_LIMIT_DEPTH}/restart0"
SLURMCTLD_TIME_LIMIT = re.compile(r"Time limit exhausted for JobId=(\d+)")


def write_time_limit_config(workdir: Path) -> None:
    """Write config/time_limit.yaml: the smoke config reduced to the one deep circles network.

    Checkpoints are written every 5 s, so a kill loses at most 5 s of training.
    """
    config = yaml.safe_load((REPO / SMOKE_CONFIG).read_text())
    config["datasets"] = {"circles": {"n_samples": 200, "noise": 0.05, "state_dim": 3}}
    config["depths"] = [TIME_LIMIT_DEPTH]
    config["restarts"] = 1
    config["optimiser"].update(tolerance=1e-12, max_iter=TIME_LIMIT_ITERATIONS)
    config["checkpoint_seconds"] = 5
    (workdir / "config" / "time_limit.yaml").write_text(yaml.safe_dump(config))


@pytest.mark.slurm
@pytest.mark.slow
def test_job_killed_at_time_limit_resumes_from_checkpoint(slurm_cluster, tmp_path):
    slurm_dir = copy_cluster_workflow(tmp_path / "slurm")
    local_dir = copy_cluster_workflow(tmp_path / "local")
    for workdir in (slurm_dir, local_dir):
        write_time_limit_config(workdir)
    controller_log = slurmctld_log_path()
    log_offset = controller_log.stat().st_size

    # The uninterrupted run on this host goes alongside, on the other core.
    # The target goes first, because --configfile takes every argument that follows it.
    local_run = subprocess.Popen(
        [sys.executable, "-m", "snakemake", f"{TIME_LIMIT_MODEL}.npz", "--cores", "1",
         "--configfile", "config/time_limit.yaml"],
        cwd=local_dir, env=tool_environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    slurm_log = run_snakemake(
        slurm_dir,
        [f"{TIME_LIMIT_MODEL}.npz", "--profile", "profiles/slurm", "--set-resources", TIME_LIMIT_RUNTIME,
         "--configfile", "config/time_limit.yaml"],
    )  # fmt: skip
    local_output, _ = local_run.communicate(timeout=RUN_TIMEOUT_S)
    assert local_run.returncode == 0, f"the local run failed:\n{local_output[-3000:]}"

    # SLURM ended the first attempt at its time limit, and Snakemake submitted it again.
    attempts = [
        m.group(2)
        for m in map(SLURM_SUBMITTED_LINE.match, slurm_log.splitlines())
        if m and "rule_train_resnet" in m.group(3)
    ]
    with controller_log.open() as log:
        log.seek(log_offset)
        timed_out = set(SLURMCTLD_TIME_LIMIT.findall(log.read()))
    assert len(attempts) == 2, f"SLURM job ids of the training job: {attempts}"
    assert attempts[0] in timed_out, f"slurmctld did not end job {attempts[0]} at its time limit"
    assert attempts[1] not in timed_out

    # The retry resumed from a checkpoint of the first attempt, not from the start ...
    metrics = json.loads((slurm_dir / f"{TIME_LIMIT_MODEL}.json").read_text())
    uninterrupted_metrics = json.loads((local_dir / f"{TIME_LIMIT_MODEL}.json").read_text())
    print(f"resumed from iteration {metrics['resumed_from_iteration']} of {metrics['iterations']}")
    assert 0 < metrics["resumed_from_iteration"] < metrics["iterations"]
    assert metrics["iterations"] == uninterrupted_metrics["iterations"]
    train_log = (slurm_dir / f"results/logs/train_resnet/circles/baseline/N{TIME_LIMIT_DEPTH}.log").read_text()
    assert f"at iteration {metrics['resumed_from_iteration']}" in train_log

    # ... and ends with the parameters of the uninterrupted run, bit for bit.
    resumed = np.load(slurm_dir / f"{TIME_LIMIT_MODEL}.npz")
    uninterrupted = np.load(local_dir / f"{TIME_LIMIT_MODEL}.npz")
    assert sorted(resumed.files) == sorted(uninterrupted.files)
    for name in resumed.files:
        assert np.array_equal(resumed[name], uninterrupted[name]), f"array {name} differs"


# --- stand-in scheduler commands ------------------------------------------

# Shared by the stand-ins: a job id counter and a background launcher. Each job
# runs in its own session, writes its exit status to <id>.rc when it ends, and
# its process group id to <id>.pid.
SCHEDULER_COMMON = """\
import fcntl, json, os, signal, subprocess, sys
from pathlib import Path

STATE = Path(os.environ["FAKE_SCHEDULER_DIR"])


def record(name, **fields):
    with open(STATE / f"{name}.jsonl", "a") as calls:
        fcntl.flock(calls, fcntl.LOCK_EX)
        calls.write(json.dumps({"argv": sys.argv[1:], **fields}) + "\\n")


def next_job_id():
    with open(STATE / "counter.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        counter = STATE / "last_id"
        job_id = int(counter.read_text()) + 1 if counter.exists() else 1
        counter.write_text(str(job_id))
    return job_id


def launch(job_id, command, output, workdir):
    log = open(output, "w") if output else subprocess.DEVNULL
    status = STATE / f"{job_id}.rc"
    process = subprocess.Popen(
        ["/bin/sh", "-c", f'{command}\\necho $? > "{status}.tmp" && mv "{status}.tmp" "{status}"'],
        cwd=workdir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True, env={**os.environ, "SLURM_JOB_ID": str(job_id)},
    )
    (STATE / f"{job_id}.pid").write_text(str(process.pid))


def option(argv, name):
    for index, argument in enumerate(argv):
        if argument == name and index + 1 < len(argv):
            return argv[index + 1]
        if argument.startswith(name + "="):
            return argument.split("=", 1)[1]
    return None


def job_states():
    for pid_file in sorted(STATE.glob("*.pid")):
        job_id = pid_file.stem
        status = STATE / f"{job_id}.rc"
        if not status.exists():
            yield job_id, "RUNNING"
        else:
            yield job_id, "COMPLETED" if status.read_text().strip() == "0" else "FAILED"


def cancel(job_ids):
    for job_id in job_ids:
        pid_file = STATE / f"{job_id}.pid"
        if pid_file.exists() and not (STATE / f"{job_id}.rc").exists():
            try:
                os.killpg(int(pid_file.read_text()), signal.SIGTERM)
            except ProcessLookupError:
                pass
"""

# Snakemake arguments of the runs through the stand-ins. The stand-ins start every
# submitted job on this host at once. Each job is two Snakemake processes and a
# training process of a few hundred MB, so the runs allow two jobs at a time, as
# the local run does. The target, one data set and study, needs GPU and CPU rules
# alike (make_data, train_resnet, solve_limit, solve_limit_from_deepest,
# analyse_study) without a whole smoke run.
STAND_IN_ARGUMENTS = ("--jobs", "2", "results/analysis/moons/baseline.csv")

# Each stand-in is the common part above followed by its own lines.
FAKE_COMMANDS = {
    # Records the call, runs the --wrap command and prints the job id, as
    # `sbatch --parsable` does.
    "sbatch": """
argv = sys.argv[1:]
wrap = next(a.split("=", 1)[1] for a in argv if a.startswith("--wrap="))
job_id = next_job_id()
record("sbatch", id=job_id)
output = option(argv, "--output")
launch(job_id, wrap, output and output.replace("%j", str(job_id)), option(argv, "-D"))
print(job_id)
""",
    # Drops srun's options and runs the job step's command in place.
    "srun": """
record("srun", job=os.environ.get("SLURM_JOB_ID"))
argv = sys.argv[1:]
while argv and argv[0].startswith("-"):
    argv.pop(0)
os.execvp(argv[0], argv)
""",
    # Prints `squeue --format=%i|%T` lines for every job submitted so far.
    "squeue": """
for job_id, state in job_states():
    print(f"{job_id}|{state}")
""",
    # The SLURM executor reads MinJobAge here and polls with sacct when it is
    # short. 600 s keeps it on squeue, as on the real test cluster.
    "scontrol": """
if sys.argv[1:3] != ["show", "config"]:
    sys.exit("scontrol stand-in: only 'show config' is implemented")
print("MinJobAge               = 600 sec")
print("MaxArraySize            = 1001")
""",
    # Fails as on a cluster without accounting, so the executor submits without -A.
    "sacct": """
sys.exit("sacct: error: Accounting storage is disabled")
""",
    "scancel": """
cancel(sys.argv[1:])
""",
    # Records the call, runs the job script (the last argument) and prints a
    # job id, as PBS qsub does.
    "qsub": """
argv = sys.argv[1:]
job_id = next_job_id()
record("qsub", id=job_id)
launch(job_id, f'/bin/sh "{argv[-1]}"', option(argv, "-o"), None)
print(f"{job_id}.fake-pbs")
""",
    "qdel": """
cancel(job_id.split(".")[0] for job_id in sys.argv[1:])
""",
}


@pytest.fixture
def fake_scheduler(tmp_path):
    """Write the stand-in scheduler commands and return (bin folder, state folder).

    Stops jobs that are still running at teardown, for a test that failed early.
    """
    bin_dir = tmp_path / "fake-bin"
    state_dir = tmp_path / "fake-state"
    bin_dir.mkdir()
    state_dir.mkdir()
    for name, body in FAKE_COMMANDS.items():
        script = bin_dir / name
        script.write_text(f"#!{sys.executable}\n{SCHEDULER_COMMON}{textwrap.dedent(body)}")
        script.chmod(0o755)
    yield bin_dir, state_dir

    for pid_file in state_dir.glob("*.pid"):
        if not (state_dir / f"{pid_file.stem}.rc").exists():
            try:
                os.killpg(int(pid_file.read_text()), signal.SIGKILL)
            except ProcessLookupError:
                pass


def read_calls(state_dir: Path, command: str) -> list[dict]:
    """Return the recorded calls of one stand-in command."""
    path = state_dir / f"{command}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def sbatch_rule(argv: list[str]) -> str:
    """Return the rule named in the --comment that the SLURM executor sets.

    The comment is ``rule_<rule>`` or ``rule_<rule>_wildcards_<values>``.
    """
    comment = argv[argv.index("--comment") + 1]
    assert comment.startswith("rule_"), f"unexpected sbatch --comment: {comment}"
    return comment.removeprefix("rule_").split("_wildcards_")[0]


def submit_options(argv: list[str]) -> list[str]:
    """Return an sbatch command line without its long --wrap command, for messages."""
    return [argument for argument in argv if not argument.startswith("--wrap=")]


def requests_gpu(argv: list[str]) -> bool:
    """Return whether a command line requests a GPU from SLURM."""
    return any(
        argument.startswith("--gpus") or re.match(r"--gres=(\S*,)?gpu", argument)
        for argument in argv
    )


@pytest.mark.slow
def test_gpu_requested_for_gpu_rules_only(fake_scheduler, tmp_path):
    bin_dir, state_dir = fake_scheduler
    run_dir = copy_cluster_workflow(tmp_path / "run")
    env = stand_in_environment(bin_dir, FAKE_SCHEDULER_DIR=str(state_dir))

    log = run_snakemake(
        run_dir,
        ["--profile", "profiles/slurm-gpu", "--configfile", SMOKE_CONFIG, *STAND_IN_ARGUMENTS],
        env,
    )

    sbatch_calls = read_calls(state_dir, "sbatch")
    remote = remote_jobs(log)
    assert len(sbatch_calls) == len(remote)
    rules = Counter(sbatch_rule(call["argv"]) for call in sbatch_calls)
    assert rules == Counter(remote.values())
    assert GPU_RULES <= set(rules), f"the smoke workflow ran no job of {sorted(GPU_RULES)}"

    gpu_by_job = {}
    for call in sbatch_calls:
        rule = sbatch_rule(call["argv"])
        gpu_by_job[str(call["id"])] = rule in GPU_RULES
        options = submit_options(call["argv"])
        if rule in GPU_RULES:
            assert requests_gpu(options), f"sbatch for {rule} requests no GPU: {options}"
        else:
            assert not requests_gpu(options), f"sbatch for {rule} requests a GPU: {options}"

    # The job step inside each allocation must claim the GPU too, or the
    # training process would not see it on a cluster that confines devices.
    srun_calls = read_calls(state_dir, "srun")
    assert len(srun_calls) == len(sbatch_calls)
    for call in srun_calls:
        assert requests_gpu(call["argv"]) == gpu_by_job[call["job"]], call["argv"]


@pytest.mark.slow
def test_cluster_generic_submits_every_job(fake_scheduler, tmp_path):
    bin_dir, state_dir = fake_scheduler
    run_dir = copy_cluster_workflow(tmp_path / "run")
    env = stand_in_environment(bin_dir, FAKE_SCHEDULER_DIR=str(state_dir))

    log = run_snakemake(
        run_dir,
        ["--profile", "profiles/cluster-generic", "--configfile", SMOKE_CONFIG, *STAND_IN_ARGUMENTS],
        env,
    )

    qsub_calls = read_calls(state_dir, "qsub")
    remote = remote_jobs(log)
    assert remote, "the run finished no job outside local rules"
    assert len(qsub_calls) == len(remote)
    job_scripts = [call["argv"][-1] for call in qsub_calls]
    assert len(set(job_scripts)) == len(job_scripts), "a job script was submitted twice"

    # The template's fields were all filled in for every job.
    for call in qsub_calls:
        options = " ".join(call["argv"][:-1])
        assert "{" not in options, f"unformatted submit command: {options}"
        assert re.search(r"-l select=1:ncpus=\d+:mem=\d+mb", options), options
    logs = sorted((run_dir / ".snakemake" / "cluster_logs").glob("*.out"))
    assert len(logs) == len(qsub_calls)
