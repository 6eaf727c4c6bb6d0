#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for test/slurm.test.ts (and by hand): as root, with no
# systemd. `cluster.sh start DIR` writes a munge key when there is none, starts munged as user
# munge (unless a munged already answers), generates DIR/slurm.conf (this host as the one node, with
# its real CPU count and memory; state, spool, pid and log files in DIR), starts slurmctld and
# slurmd, and waits until sinfo shows the node idle; it prints `SLURM_CONF=DIR/slurm.conf` for the
# client commands. `cluster.sh stop DIR` stops the daemons it started (by their pid files).
# It installs nothing: the Debian packages slurm-wlm and munge must be there (.ci/run installs them).
set -euo pipefail
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

stop_pidfile() {
  local f=$1
  [ -f "$f" ] || return 0
  local pid
  pid=$(cat "$f" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

if [ "$cmd" = stop ]; then
  stop_pidfile "$dir/slurmd.pid"
  stop_pidfile "$dir/slurmctld.pid"
  stop_pidfile "$dir/munged.pid"
  exit 0
fi
[ "$cmd" = start ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "cluster.sh: needs root (the daemons run as root and munge)" >&2; exit 3; }
for b in munged slurmctld slurmd sinfo sbatch; do
  command -v "$b" >/dev/null 2>&1 || { echo "cluster.sh: $b not found: apt-get install -y slurm-wlm munge" >&2; exit 3; }
done
mkdir -p "$dir/state" "$dir/spool"
dir=$(cd "$dir" && pwd)

# munge: a key (owner munge, mode 400) and the daemon, unless one already answers.
if ! (munge -n 2>/dev/null | unmunge >/dev/null 2>&1); then
  if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=128 status=none
  fi
  chown munge:munge /etc/munge /etc/munge/munge.key
  chmod 700 /etc/munge
  chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge /var/lib/munge /var/log/munge
  chown munge:munge /run/munge /var/lib/munge /var/log/munge
  chmod 755 /run/munge
  # In the foreground of its own session (setpriv execs, so $! is munged's pid; the pid file is ours).
  setsid setpriv --reuid=munge --regid=munge --init-groups munged --foreground --force </dev/null >"$dir/munged.log" 2>&1 &
  echo $! >"$dir/munged.pid"
  for _ in $(seq 1 50); do (munge -n 2>/dev/null | unmunge >/dev/null 2>&1) && break; sleep 0.1; done
  (munge -n | unmunge >/dev/null) || { echo "cluster.sh: munged did not start" >&2; exit 1; }
fi

host=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
cat >"$dir/slurm.conf" <<CONF
ClusterName=finetune-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
# Start a submitted job at once, and a requeued one after 5 s instead of the default 120 s
# (cred_expire also bounds a requeued job's hold, reason BeginTime).
SchedulerParameters=batch_sched_delay=0,sched_interval=1
AuthInfo=cred_expire=5
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
JobRequeue=1
KillWait=30
MinJobAge=300
SlurmctldPort=${SLURMCTLD_PORT:-6817}
SlurmdPort=${SLURMD_PORT:-6818}
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 1 300); do
  state=$(sinfo -h -n "$host" -o '%T' 2>/dev/null || true)
  [ "$state" = idle ] && { echo "SLURM_CONF=$SLURM_CONF"; exit 0; }
  sleep 0.1
done
echo "cluster.sh: the node did not become idle (sinfo: ${state:-no answer}); see $dir/slurmctld.log and $dir/slurmd.log" >&2
exit 1
