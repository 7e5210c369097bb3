#!/bin/sh
# Boot of the Solstice fast test guest (busybox init sysinit action).
# Each stage is logged on the serial console as "solstice-guest: ...".
# Kernel command line options (all optional):
#   solstice.net=static|dhcp   static 10.0.2.15/24 via 10.0.2.2 (QEMU SLIRP, default) or udhcpc
#   solstice.ip=A.B.C.D/N solstice.gw=A.B.C.D solstice.dns=A.B.C.D   static addressing
#   solstice.workdir=/root/work   where the virtio disk (if it has a filesystem) is mounted
#   solstice.shell=1           a root shell on the serial console (debugging)
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
umask 022

uptime_s() { cut -d' ' -f1 /proc/uptime; }
say() { echo "solstice-guest: $* [$(uptime_s)s]" >/dev/console; }

mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o mode=0755,nosuid devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=0620,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
say "init started (kernel $(uname -r))"
# Start the kernel's random pool now (jitter entropy) so that it is ready by the
# time dropbear needs it: without RDRAND or a boot-loader seed it takes a second.
dd if=/dev/random of=/dev/null bs=1 count=1 2>/dev/null &

# Kernel command line options.
net=static ip=10.0.2.15/24 gw=10.0.2.2 dns=10.0.2.3 workdir=/root/work shell=
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    solstice.net=*) net="${arg#*=}" ;;
    solstice.ip=*) ip="${arg#*=}" ;;
    solstice.gw=*) gw="${arg#*=}" ;;
    solstice.dns=*) dns="${arg#*=}" ;;
    solstice.workdir=*) workdir="${arg#*=}" ;;
    solstice.shell=*) shell="${arg#*=}" ;;
  esac
done

# Storage drivers first: the IDE/AHCI probe runs in the background while the
# network comes up. crc32c is a soft dependency of ext4 that modprobe here does not follow.
modprobe -a ata_piix ahci sr_mod isofs virtio_pci virtio_blk virtio_scsi sd_mod crc32c_generic ext4 2>/dev/null
modprobe -a virtio_net virtio_rng button evdev 2>/dev/null
say "modules loaded"

hostname solstice-guest
ip link set lo up
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -e /sys/class/net/eth0 ]; then
  say "error: no network interface eth0"
elif [ "$net" = dhcp ]; then
  ip link set eth0 up
  if udhcpc -i eth0 -n -q -t 10 -T 1 -s /etc/solstice/udhcpc.sh >/dev/null 2>&1; then
    say "network up: eth0 $(ip -4 -o addr show eth0 | awk '{print $4}') (dhcp)"
  else
    say "error: DHCP on eth0 failed"
  fi
else
  ip addr add "$ip" dev eth0
  ip link set eth0 up
  ip route add default via "$gw"
  echo "nameserver $dns" >/etc/resolv.conf
  say "network up: eth0 $ip gw $gw dns $dns"
fi

# The NoCloud seed: an ISO 9660 volume labelled "cidata", usually the IDE CD-ROM /dev/sr0.
seed=/run/solstice/seed
# A seed file by its name; without Rock Ridge or Joliet, ISO 9660 shows it as user_dat.
seed_file() {
  for f in "$seed/$1" "$seed/$(echo "$1" | tr - _)" "$seed/$(echo "$1" | tr - _ | cut -c1-8)"; do
    [ -f "$f" ] && { echo "$f"; return; }
  done
}
mkdir -p "$seed"
seed_dev=
i=0
while [ -z "$seed_dev" ] && [ $i -lt 100 ]; do
  dev="$(findfs LABEL=cidata 2>/dev/null)"
  for d in $dev /dev/sr0 /dev/sr1 /dev/sr2; do
    # Skip absent devices and empty drives (QEMU's pc machine adds an empty CD-ROM).
    [ -b "$d" ] && [ "$(cat "/sys/class/block/${d#/dev/}/size" 2>/dev/null)" != 0 ] || continue
    if mount -t iso9660 -o ro "$d" "$seed" 2>/dev/null || mount -o ro "$d" "$seed" 2>/dev/null; then
      if [ -n "$(seed_file user-data)$(seed_file meta-data)" ]; then seed_dev="$d"; break; fi
      umount "$seed"
    fi
  done
  [ -n "$seed_dev" ] || { sleep 0.1; i=$((i + 1)); }
done

mkdir -p /root/.ssh /etc/solstice
chmod 0700 /root /root/.ssh
if [ -z "$seed_dev" ]; then
  say "error: no NoCloud seed (ISO 9660 labelled cidata with user-data) found; no SSH key installed"
else
  say "seed mounted from $seed_dev"
  meta="$(seed_file meta-data)"
  user="$(seed_file user-data)"
  if [ -n "$meta" ]; then
    name="$(sed -n 's/^[[:space:]"]*local-hostname"\{0,1\}[[:space:]]*:[[:space:]]*["'\'']\{0,1\}\([A-Za-z0-9.-]*\).*/\1/p' "$meta" | head -n1)"
    [ -n "$name" ] && hostname "$name"
  fi
  if [ -n "$user" ]; then
    tr -d '\r' <"$user" >/run/solstice/user-data
    # Every public key line in the user-data (ssh_authorized_keys of any user).
    grep -oE '(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) AAAA[A-Za-z0-9+/]+=*' \
      /run/solstice/user-data | sort -u >/root/.ssh/authorized_keys
    chmod 0600 /root/.ssh/authorized_keys
    say "ssh keys installed for root: $(wc -l </root/.ssh/authorized_keys)"
    # write_files entries (e.g. /etc/solstice/job.yaml).
    awk -f /etc/solstice/write-files.awk /run/solstice/user-data | while read -r written; do
      say "wrote $written"
    done
  else
    say "error: the seed has no user-data; no SSH key installed"
  fi
fi
printf '127.0.0.1 localhost\n127.0.1.1 %s\n' "$(hostname)" >/etc/hosts
say "hostname $(hostname)"

# The workspace: the virtio disk (the job's qcow2 overlay) when it holds a filesystem.
mkdir -p "$workdir"
if [ -b /dev/vda ] && mount -t ext4 -o noatime,noinit_itable /dev/vda "$workdir" 2>/dev/null; then
  # The overlay may be larger than the base image: grow the filesystem (online) to the disk.
  resize2fs /dev/vda >/dev/null 2>&1 || say "warning: resize2fs /dev/vda failed"
  echo "$workdir" >/run/solstice/workdir
  say "workspace /dev/vda mounted on $workdir ($(df -h "$workdir" | awk 'NR==2 {print $2}'))"
else
  say "workspace $workdir in memory (no filesystem on /dev/vda)"
fi

# Power button -> poweroff.
acpid -c /etc/acpi -l /run/acpid.log 2>/dev/null || say "warning: acpid did not start"
syslogd -C64 2>/dev/null

# SSH: a fresh Ed25519 host key each boot; public-key logins only.
mkdir -p /etc/dropbear
dropbearkey -t ed25519 -f /etc/dropbear/dropbear_ed25519_host_key >/dev/null 2>&1
dropbear -r /etc/dropbear/dropbear_ed25519_host_key -p 22 -s -P /run/dropbear.pid
i=0
until netstat -ltn 2>/dev/null | grep -q ':22 '; do
  [ $i -ge 100 ] && { say "error: dropbear is not listening on port 22"; break; }
  sleep 0.05
  i=$((i + 1))
done
say "ssh ready"

if [ -n "$shell" ] && [ "$shell" != 0 ]; then
  setsid sh -c 'exec /bin/sh </dev/console >/dev/console 2>&1' &
fi
exit 0
