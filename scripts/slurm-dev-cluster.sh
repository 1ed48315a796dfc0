#!/usr/bin/env bash
# Starts a single-node Slurm cluster on this machine (loopback), for the
# Slurm backend's tests and for trying `--backend slurm` locally.
#
#   scripts/slurm-dev-cluster.sh          install (Debian, as root) and start
#   scripts/slurm-dev-cluster.sh stop     stop the daemons this script started
#
# It installs slurm-wlm and munge if missing, creates the munge key, writes a
# minimal slurm.conf naming this host at 127.0.0.1 (proctrack/linuxproc,
# task/none, no accounting), starts munged, slurmctld and slurmd, and waits
# until `sinfo` shows the node idle. Running it again is harmless.
set -euo pipefail

conf_dir=/etc/slurm
state_dir=/var/lib/agent-exec-slurm
host=$(hostname -s)
cpus=$(( $(nproc) > 32 ? $(nproc) : 32 ))
mem_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))

if [ "${1:-}" = stop ]; then
  for d in slurmd slurmctld; do
    if [ -f "$state_dir/$d.pid" ]; then
      pid=$(cat "$state_dir/$d.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      rm -f "$state_dir/$d.pid"
    fi
  done
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "slurm-dev-cluster: must run as root (installs packages, starts daemons)" >&2
  exit 1
fi

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

# munge: a key, and the daemon running as user munge.
mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
if [ ! -s /etc/munge/munge.key ]; then mungekey -c -k /etc/munge/munge.key; fi
chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge
chmod 0700 /etc/munge /var/lib/munge /var/log/munge
chmod 0755 /run/munge
chmod 0400 /etc/munge/munge.key
if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 1 50); do
    munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && break
    sleep 0.1
  done
fi

mkdir -p "$conf_dir" "$state_dir/ctld" "$state_dir/d" /var/log/slurm
chown -R slurm:slurm "$state_dir/ctld" /var/log/slurm
cat >"$conf_dir/slurm.conf" <<EOF
# Written by agent-exec scripts/slurm-dev-cluster.sh: a single-node cluster on loopback.
ClusterName=agentexec-dev
SlurmctldHost=$host(127.0.0.1)
SlurmUser=slurm
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
MpiDefault=none
StateSaveLocation=$state_dir/ctld
SlurmdSpoolDir=$state_dir/d
SlurmctldPidFile=$state_dir/slurmctld.pid
SlurmdPidFile=$state_dir/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SchedulerParameters=batch_sched_delay=0,sched_min_interval=100
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# Advertise more CPUs than the machine has, so that many small test jobs run
# at once instead of queueing behind each other on a 2-core machine.
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
EOF

# A daemon counts as running when its pid file names a live, non-zombie process.
running() {
  [ -f "$1" ] || return 1
  local st
  st=$(ps -o stat= -p "$(cat "$1")" 2>/dev/null) || return 1
  case "$st" in Z*) return 1 ;; esac
}
if running "$state_dir/slurmctld.pid"; then scontrol reconfigure >/dev/null 2>&1 || true; else /usr/sbin/slurmctld; fi
running "$state_dir/slurmd.pid" || /usr/sbin/slurmd

for _ in $(seq 1 150); do
  state=$(sinfo -h -N -o '%T' 2>/dev/null | head -1 || true)
  case "$state" in
    idle|mixed|allocated) echo "slurm-dev-cluster: node $host is $state"; exit 0 ;;
    down*|drain*) scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1 || true ;;
  esac
  sleep 0.2
done
echo "slurm-dev-cluster: node $host did not become idle within 30 s (state: ${state:-none})" >&2
tail -20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
exit 1
