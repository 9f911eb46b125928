#!/usr/bin/env bash
# Install, start, stop and inspect a one-node SLURM cluster on this host, so that
# tests can submit the workflow's jobs through a real sbatch.
#
# Usage: .ci/slurm.sh install|start|stop|status
#
# Needs root and a Debian-like system (apt-get). Tested with SLURM 22.05.8 and
# munge 0.5.15 from Debian bookworm, on a host without systemd. All traffic stays
# on the loopback address: the controller and the node are both 127.0.0.1.
#
# Environment:
#   DEEPLIMITS_SLURM_DIR      folder for the generated slurm.conf, state, spool,
#                             logs and PID files (default /var/tmp/deeplimits-slurm)
#   DEEPLIMITS_SLURM_TIMEOUT  seconds that `start` waits for the node to become
#                             idle before it gives up (default 60)
set -euo pipefail

STATE_DIR="${DEEPLIMITS_SLURM_DIR:-/var/tmp/deeplimits-slurm}"
START_TIMEOUT="${DEEPLIMITS_SLURM_TIMEOUT:-60}"
CONF="$STATE_DIR/slurm.conf"
# slurmd and the client commands read the configuration from this fixed path.
# Pointing SLURM_CONF elsewhere is not enough: the slurm-jobstep executor of
# Snakemake removes SLURM_* variables before its inner `srun`, which then fails
# with "Could not establish a configuration source".
SYSTEM_CONF=/etc/slurm/slurm.conf
CTLD_PID="$STATE_DIR/slurmctld.pid"
SLURMD_PID="$STATE_DIR/slurmd.pid"
MUNGED_PID=/run/munge/munged.pid
# Present while munged runs because this script started it, so that `stop`
# leaves alone a munged that was running before.
MUNGE_MARK="$STATE_DIR/munged.started-here"
PARTITION=main

die() {
    echo "slurm.sh: error: $*" >&2
    exit 1
}

log() {
    echo "slurm.sh: $*"
}

require_root() {
    [ "$(id -u)" -eq 0 ] || die "run as root (the daemons need it); current user is $(id -un)"
}

# Print the PID stored in a PID file if that process is alive, else nothing.
live_pid() {
    local pid_file=$1 pid
    [ -s "$pid_file" ] || return 1
    pid=$(cat "$pid_file")
    kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

cmd_install() {
    require_root
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
        && command -v munged >/dev/null; then
        log "slurm-wlm and munge are already installed: $(slurmctld -V)"
        return 0
    fi
    command -v apt-get >/dev/null || die "apt-get not found; install slurm-wlm and munge with this system's package manager"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge
    log "installed $(slurmctld -V)"
}

start_munge() {
    # munged refuses to run as root and needs a socket folder that its user owns.
    mkdir -p /run/munge
    chown munge:munge /run/munge
    chmod 0755 /run/munge
    if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
        [ -r /etc/munge/munge.key ] || die "/etc/munge/munge.key is missing; run '$0 install' (the munge package creates the key)"
        su -s /bin/sh munge -c /usr/sbin/munged
        mkdir -p "$STATE_DIR"
        touch "$MUNGE_MARK"
    fi
    munge -n | unmunge >/dev/null || die "munge credential check failed ('munge -n | unmunge'); see /var/log/munge/munged.log"
    log "munge is running"
}

write_config() {
    local host node_line
    host=$(hostname -s)
    # slurmd -C prints this host's real CPUs, sockets and memory as a node line.
    # A node line that claims more than the host has puts the node in DRAIN.
    node_line=$(slurmd -C | head -n 1)
    case "$node_line" in
        "NodeName=$host "*) ;;
        *) die "unexpected 'slurmd -C' output (expected 'NodeName=$host ...'): $node_line" ;;
    esac
    mkdir -p "$STATE_DIR/state" "$STATE_DIR/spool"
    cat >"$CONF" <<EOF
# One-node SLURM for this project's tests, written by .ci/slurm.sh.
ClusterName=deeplimits
# Controller and node both talk over the loopback address only. NoInAddrAny
# makes slurmd listen on 127.0.0.1 instead of all interfaces (slurmctld 22.05
# still listens on all interfaces).
SlurmctldHost=$host(127.0.0.1)
CommunicationParameters=NoInAddrAny
# The daemons run as root, because a fresh host has no separate slurm user.
SlurmUser=root
AuthType=auth/munge
# Both folders must exist before the daemons start (write_config creates them).
StateSaveLocation=$STATE_DIR/state
SlurmdSpoolDir=$STATE_DIR/spool
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$STATE_DIR/slurmctld.log
SlurmdLogFile=$STATE_DIR/slurmd.log
# info level logs each "_slurm_rpc_submit_batch_job: JobId=..." line, which the
# tests read to prove that a job went through sbatch.
SlurmctldDebug=info
SlurmdDebug=info
# Track job processes through /proc, which needs no cgroup setup (containers
# without systemd often lack one).
ProctrackType=proctrack/linuxproc
# No CPU binding or affinity plugin: nothing to configure, and one node of a
# few cores gains nothing from pinning.
TaskPlugin=task/none
# Allocate cores and memory separately, so that several small jobs share the node.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# A job without a memory request would otherwise get the whole node's memory,
# and jobs would then run one at a time.
DefMemPerCPU=1024
# No slurmdbd: sacct has no database to read. Snakemake's SLURM executor must
# therefore poll with squeue (slurm-status-command: squeue in the profiles).
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
# squeue drops a finished job MinJobAge seconds after it ends. The Snakemake
# SLURM executor falls back to sacct when MinJobAge is under three times its
# first status-check interval, and sacct without accounting makes it wait forever.
MinJobAge=600
# A node that was down (after a restart of slurmd, say) returns to service as
# soon as it registers with a valid configuration, without an scontrol update.
ReturnToService=2
$node_line State=UNKNOWN NodeAddr=127.0.0.1
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    mkdir -p "$(dirname "$SYSTEM_CONF")"
    if [ -e "$SYSTEM_CONF" ] && [ "$(readlink -f "$SYSTEM_CONF")" != "$(readlink -f "$CONF")" ]; then
        die "$SYSTEM_CONF exists and is not a link to $CONF; move it away if this host should run the test cluster"
    fi
    ln -sfn "$CONF" "$SYSTEM_CONF"
    log "wrote $CONF (linked from $SYSTEM_CONF)"
}

# Wait until sinfo reports the node able to take jobs. Fail after START_TIMEOUT seconds.
wait_for_node() {
    local deadline state
    deadline=$((SECONDS + START_TIMEOUT))
    while [ "$SECONDS" -lt "$deadline" ]; do
        state=$(sinfo --noheader --nodes "$(hostname -s)" --format '%T' 2>/dev/null || true)
        case "$state" in
            idle | mixed | allocated)
                log "node $(hostname -s) is $state in partition $PARTITION"
                return 0
                ;;
        esac
        sleep 1
    done
    die "node $(hostname -s) not idle after ${START_TIMEOUT} s (last sinfo state: '${state:-none}'); see $STATE_DIR/slurmctld.log and $STATE_DIR/slurmd.log"
}

cmd_start() {
    require_root
    command -v slurmctld >/dev/null || die "slurmctld not found; run '$0 install' first"
    start_munge
    if live_pid "$CTLD_PID" >/dev/null && live_pid "$SLURMD_PID" >/dev/null; then
        log "slurmctld and slurmd are already running"
        wait_for_node
        return 0
    fi

    # Rewrite the configuration only while no daemon reads it.
    live_pid "$CTLD_PID" >/dev/null || live_pid "$SLURMD_PID" >/dev/null || write_config
    if ! live_pid "$CTLD_PID" >/dev/null; then
        slurmctld || die "slurmctld failed to start; see $STATE_DIR/slurmctld.log"
        # slurmd registers with the controller at start-up, so give the controller
    # time to listen.
        sleep 2
    fi
    if ! live_pid "$SLURMD_PID" >/dev/null; then
        slurmd || die "slurmd failed to start; see $STATE_DIR/slurmd.log"
    fi
    wait_for_node
}

stop_daemon() {
    local name=$1 pid_file=$2 pid i
    if ! pid=$(live_pid "$pid_file"); then
        log "$name is not running"
        return 0
    fi
    kill "$pid"
    for i in $(seq 1 20); do
        kill -0 "$pid" 2>/dev/null || { log "stopped $name (PID $pid)"; return 0; }
        sleep 0.5
    done
    die "$name (PID $pid) still running 10 s after SIGTERM"
}

cmd_stop() {
    require_root
    # Stop the node first, so the controller does not mark it as failed while it
    # still has running jobs to report.
    stop_daemon slurmd "$SLURMD_PID"
    stop_daemon slurmctld "$CTLD_PID"
    if [ -e "$MUNGE_MARK" ]; then
        stop_daemon munged "$MUNGED_PID"
        rm -f "$MUNGE_MARK"
    fi
}

cmd_status() {
    local name pid_file pid
    for name in munged slurmctld slurmd; do
        case "$name" in
            munged) pid_file=$MUNGED_PID ;;
            slurmctld) pid_file=$CTLD_PID ;;
            slurmd) pid_file=$SLURMD_PID ;;
        esac
        if pid=$(live_pid "$pid_file"); then
            log "$name running (PID $pid)"
        else
            log "$name not running"
        fi
    done
    if command -v sinfo >/dev/null; then
        sinfo || true
    fi
}

case "${1:-}" in
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *)
        echo "usage: $0 install|start|stop|status" >&2
        exit 2
        ;;
esac
