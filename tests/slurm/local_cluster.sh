#!/usr/bin/env bash
# A one-node Slurm "cluster" on this machine, for tests/test_slurm.py and by hand.
#
#   bash tests/slurm/local_cluster.sh start          # install if missing, configure, start, wait until idle
#   WITH_DBD=1 bash tests/slurm/local_cluster.sh start   # also MariaDB + slurmdbd: sacct works (real-cluster mode)
#   bash tests/slurm/local_cluster.sh stop           # stop every daemon this script starts
#   bash tests/slurm/local_cluster.sh status         # exit 0 when the node answers and is usable
#
# Needs root (Debian 12 packages, daemons run as root/slurm/munge). Idempotent: `start` leaves
# daemons that are already up alone, except that it restarts slurmctld/slurmd when the
# accounting mode (WITH_DBD) differs from the running one.
# Choices (the machine has no systemd and no usable cgroups; PID 1 does not reap):
#  * proctrack/linuxproc + task/none, select/cons_tres; node line from `slurmd -C`.
#  * The node advertises one fake GPU (GresTypes=gpu; gres.conf names /dev/null as its device:
#    without a File slurmd counts 0 and the node goes INVAL) so that jobs that ask for `--gpus=1` are scheduled and run (on the CPU); the tests
#    check that GPU rules ask for GPUs, not that a GPU exists.
#  * Without slurmdbd `sacct` does not work: profiles must use `slurm-status-command: squeue`,
#    which the plugin only trusts when MinJobAge >= 3 x slurm-init-seconds-before-status-checks.
#  * A daemon that died stays as a zombie, so liveness is the process state, not `pgrep`.
set -euo pipefail

CMD=${1:-start}
WITH_DBD=${WITH_DBD:-0}
H=$(hostname -s)
CONF=/etc/slurm/slurm.conf

[ "$(id -u)" = 0 ] || { echo "local_cluster.sh: needs root" >&2; exit 2; }

# alive NAME: a live (not zombie) process with this exact name exists
alive() {
  local p
  for p in $(pgrep -x "$1" || true); do
    case "$(ps -o stat= -p "$p" 2>/dev/null)" in Z*|"") ;; *) return 0 ;; esac
  done
  return 1
}

node_ready() {
  # exact states only: a suffix (idle* = not responding, idle~ = powered off) is not ready
  case "$(sinfo -h -n "$H" -o %T 2>/dev/null || true)" in idle|mixed|allocated|completing) return 0 ;; esac
  return 1
}

stop_all() {
  if alive slurmctld || alive slurmd; then
    scontrol shutdown >/dev/null 2>&1 || true           # stops slurmctld and slurmd
    for _ in $(seq 40); do alive slurmctld || alive slurmd || break; sleep 0.25; done
  fi
  local d f
  for d in slurmctld slurmd slurmdbd; do                  # left over after a failed shutdown
    f=/run/slurm/$d.pid
    if alive "$d" && [ -f "$f" ]; then kill "$(cat "$f")" 2>/dev/null || true; fi
  done
  for _ in $(seq 40); do alive slurmdbd || break; sleep 0.25; done
  if alive mariadbd; then mysqladmin shutdown >/dev/null 2>&1 || true; fi
  if alive munged && [ -f /run/munge/munged.pid ]; then kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true; fi
}

case "$CMD" in
  stop) stop_all; echo "slurm stopped"; exit 0 ;;
  status) alive slurmctld && alive slurmd && node_ready && { sinfo -h -o '%P %a %D %T %N'; exit 0; }; exit 1 ;;
  start) ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

# ---------------------------------------------------------------- 1. packages
apt_install() {
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
   || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  apt_install slurmctld slurmd slurm-client munge
fi
if [ "$WITH_DBD" = 1 ] && { ! command -v slurmdbd >/dev/null || ! command -v mariadbd >/dev/null; }; then
  apt_install slurmdbd mariadb-server
fi

# ---------------------------------------------------------------- 2. munge
[ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
chown munge:munge /etc/munge/munge.key; chmod 0400 /etc/munge/munge.key
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge; chmod 0755 /run/munge
alive munged || runuser -u munge -- /usr/sbin/munged
for _ in $(seq 40); do munge -n </dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.25; done

# ---------------------------------------------------------------- 3. configuration
getent hosts "$H" >/dev/null || echo "127.0.0.1 $H" >> /etc/hosts
if [ "$WITH_DBD" = 1 ]; then
  ACCT="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=$H
AccountingStoragePort=6819
JobAcctGatherType=jobacct_gather/linux"
else
  ACCT="AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none"
fi
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/slurm
chown slurm:slurm /var/spool/slurmctld /var/log/slurm /run/slurm
NEW=$(mktemp)
cat > "$NEW" <<EOF
# written by tests/slurm/local_cluster.sh (WITH_DBD=$WITH_DBD)
ClusterName=local
SlurmctldHost=$H
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
GresTypes=gpu
$ACCT
JobCompType=jobcomp/none
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
Waittime=0
$(slurmd -C | head -1) Gres=gpu:1 State=UNKNOWN
PartitionName=debug Nodes=$H Default=YES MaxTime=INFINITE State=UP
EOF
echo "NodeName=$H Name=gpu File=/dev/null" > /etc/slurm/gres.conf  # a "device" so slurmd counts 1
RESTART=0
if ! cmp -s "$NEW" "$CONF"; then RESTART=1; mv "$NEW" "$CONF"; else rm -f "$NEW"; fi
chmod 644 "$CONF" /etc/slurm/gres.conf

# ---------------------------------------------------------------- 3b. accounting (optional)
if [ "$WITH_DBD" = 1 ]; then
  mkdir -p /run/mysqld; chown mysql:mysql /run/mysqld
  alive mariadbd || { nohup mysqld_safe --skip-syslog >/var/log/mysqld_safe.log 2>&1 </dev/null & }
  for _ in $(seq 120); do mysqladmin ping >/dev/null 2>&1 && break; sleep 0.5; done
  mysql -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
            CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurmpw';
            GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"
  cat > /etc/slurm/slurmdbd.conf <<EOF
AuthType=auth/munge
DbdHost=$H
DbdPort=6819
SlurmUser=slurm
LogFile=/var/log/slurm/slurmdbd.log
PidFile=/run/slurm/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=slurmpw
StorageLoc=slurm_acct_db
EOF
  chown slurm:slurm /etc/slurm/slurmdbd.conf; chmod 600 /etc/slurm/slurmdbd.conf
  alive slurmdbd || /usr/sbin/slurmdbd
  for _ in $(seq 120); do sacctmgr -n show cluster >/dev/null 2>&1 && break; sleep 0.5; done
  sacctmgr -i add cluster local >/dev/null 2>&1 || true              # "already exists" is fine
  sacctmgr -i add account default Description=default Organization=local >/dev/null 2>&1 || true
  sacctmgr -i add user root Account=default >/dev/null 2>&1 || true
fi

# ---------------------------------------------------------------- 4. slurm daemons
if [ "$RESTART" = 1 ] && { alive slurmctld || alive slurmd; }; then
  scontrol shutdown >/dev/null 2>&1 || true
  for _ in $(seq 40); do alive slurmctld || alive slurmd || break; sleep 0.25; done
fi
alive slurmctld || /usr/sbin/slurmctld
alive slurmd || /usr/sbin/slurmd
st=""
for i in $(seq 120); do
  node_ready && break
  st=$(sinfo -h -n "$H" -o %T 2>/dev/null || true)
  case "$st" in down*|drain*|inval*) scontrol update nodename="$H" state=resume >/dev/null 2>&1 || true ;; esac
  sleep 0.5
done
if ! node_ready; then
  echo "local_cluster.sh: node $H not ready (state '$st')" >&2
  tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
  exit 1
fi
echo "slurm up: $(sinfo -h -o '%P %a %D %T %N')"
