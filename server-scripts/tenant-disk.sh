#!/usr/bin/env bash
# A tenant's disk budget as its own filesystem: an ext4 image of the budget's size, loop-mounted on
# the server; the tenant's two volumes are bind mounts of folders inside it (Docker's local driver,
# type none, o bind), so a write past the budget fails inside that tenant alone.
#   tenant-disk.sh apply   TENANT SIZE_MB UID:GID   create (or grow, never shrink) and mount; record for boot
#   tenant-disk.sh release TENANT                    unmount and forget for boot; the image (the data) stays
#   tenant-disk.sh purge   TENANT                    unmount and delete the image: only for deleteData
#   tenant-disk.sh boot                              mount every recorded image (before Docker starts)
#   tenant-disk.sh unit                              print the boot unit (no root needed)
# Images, the folders and the records are root-only (0600/0700): a tenant's data is nobody else's
# to read. While an image is not mounted its mountpoint is empty and immutable, so the tenant's
# volumes (binds of state/ and credentials/ inside it) find nothing and its container cannot start
# on the bare folder and write to the root disk.
set -euo pipefail
umask 077

DISKS=/var/lib/openclaw-hosting/disks
RECORDS=/etc/openclaw-hosting/disks
INSTALLED=/usr/local/lib/openclaw-hosting/tenant-disk.sh
BOOT_UNIT=/etc/systemd/system/openclaw-disks.service

die() { echo "openclaw-hosting: tenant disk: $*" >&2; exit 1; }
have_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

# One tenant's failing disk must not keep Docker (every other tenant) from starting: the unit is
# ordered before docker.service and wanted by it, never required by it. The tenant whose image
# failed to mount has no state/ folder (its mountpoint is immutable), so its container alone fails.
boot_unit() {
  printf '%s\n' \
    '[Unit]' \
    'Description=openclaw-hosting: tenant disks before Docker starts containers' \
    'Before=docker.service' 'After=local-fs.target' \
    '' '[Service]' 'Type=oneshot' 'RemainAfterExit=yes' "ExecStart=$INSTALLED boot" \
    '' '[Install]' 'WantedBy=multi-user.target docker.service'
}
if [ "${1:-}" = unit ]; then boot_unit; exit 0; fi
if [ "$(id -u)" != 0 ]; then exec sudo -n bash "$0" "$@"; fi

mounted() { findmnt -rn --mountpoint "$1" >/dev/null 2>&1; }

# Root-only modes, fixed on every run so images made by earlier versions (0644/0755) are fixed too.
secure_layout() {
  mkdir -p -- "$DISKS" "$RECORDS"
  chmod 0700 -- "$DISKS" "$RECORDS"
  shopt -s nullglob
  local img
  for img in "$DISKS"/*.img; do chmod 0600 -- "$img"; done
  shopt -u nullglob
}

# An unmounted mountpoint: empty, root-only and immutable, so nothing (not Docker, not a script)
# can create state/ there and write a tenant's data to the root disk.
guard_mountpoint() {
  local mnt=$1
  mounted "$mnt" && return 0
  if [ ! -d "$mnt" ]; then mkdir -- "$mnt" || return 1; fi
  chmod 0700 -- "$mnt" 2>/dev/null || true   # fails only when already immutable (then it was set)
  [ -z "$(ls -A -- "$mnt")" ] || { echo "openclaw-hosting: tenant disk: $mnt is not mounted but holds files (written to the root disk?); move them aside and run again" >&2; return 1; }
  chattr +i -- "$mnt" 2>/dev/null || echo "openclaw-hosting: cannot make $mnt immutable (filesystem without chattr): an unmounted disk leaves it writable" >&2
}

mount_image() {
  local tenant=$1 img="$DISKS/$1.img" mnt="$DISKS/$1"
  # Explicit returns: boot calls this where `set -e` does not apply.
  [ -f "$img" ] || { echo "openclaw-hosting: tenant disk: no image for $tenant at $img" >&2; return 1; }
  guard_mountpoint "$mnt" || return 1
  mounted "$mnt" || mount -o loop,nosuid,nodev -- "$img" "$mnt" || return 1
  chmod 0700 -- "$mnt"   # the image's own root folder
}

unguard_mountpoint() { chattr -i -- "$1" 2>/dev/null || true; }

install_boot() {
  mkdir -p -- "$(dirname "$INSTALLED")" "$RECORDS"
  if ! cmp -s -- "$0" "$INSTALLED"; then install -m 0755 -- "$0" "$INSTALLED"; fi
  have_systemd || { echo "openclaw-hosting: no systemd here: run '$INSTALLED boot' at boot before Docker starts" >&2; return 0; }
  local unit
  unit=$(boot_unit)
  if [ "$(cat "$BOOT_UNIT" 2>/dev/null || true)" != "$unit" ]; then
    # Earlier versions installed RequiredBy=docker.service: disable with the old file first so
    # that link goes, and remove it by name in case the old file is gone.
    if [ -f "$BOOT_UNIT" ]; then systemctl disable openclaw-disks.service >/dev/null 2>&1 || true; fi
    rm -f -- /etc/systemd/system/docker.service.requires/openclaw-disks.service
    install -m 0644 /dev/null "$BOOT_UNIT"
    printf '%s\n' "$unit" >"$BOOT_UNIT"
    systemctl daemon-reload
    systemctl enable openclaw-disks.service >/dev/null 2>&1
  fi
}

uninstall_if_unused() {
  [ -z "$(ls -A -- "$RECORDS" 2>/dev/null)" ] || return 0
  if have_systemd && [ -f "$BOOT_UNIT" ]; then
    systemctl disable openclaw-disks.service >/dev/null 2>&1 || true
    rm -f -- "$BOOT_UNIT"; systemctl daemon-reload
  fi
  rm -f -- "$INSTALLED"
  rmdir -- "$RECORDS" "$(dirname "$INSTALLED")" "$(dirname "$RECORDS")" 2>/dev/null || true
}

action=${1:?usage: tenant-disk.sh apply|release|purge|boot ...}
case "$action" in
  apply)
    tenant=$2 size=$3 owner=$4
    [[ "$size" =~ ^[0-9]+$ ]] || die "size must be a number of MB, got $size"
    [[ "$owner" =~ ^[0-9]+:[0-9]+$ ]] || die "owner must be UID:GID, got $owner"
    img="$DISKS/$tenant.img" mnt="$DISKS/$tenant"
    secure_layout
    if [ ! -f "$img" ]; then
      truncate -s "${size}M" -- "$img"
      mkfs.ext4 -q -F -m 0 -L "oc-$tenant" -- "$img"
      chmod 0600 -- "$img"
    fi
    install_boot
    echo "$size" >"$RECORDS/$tenant"
    mount_image "$tenant" || die "could not mount $img at $mnt"
    have=$(( $(stat -c %s -- "$img") / 1048576 ))
    if [ "$size" -gt "$have" ]; then
      # Grow in place while mounted; a smaller budget never shrinks a tenant's data.
      truncate -s "${size}M" -- "$img"
      dev=$(findmnt -rn -o SOURCE --mountpoint "$mnt")
      losetup -c -- "$dev"
      resize2fs -- "$dev" >/dev/null 2>&1
    elif [ "$size" -lt "$have" ]; then
      echo "openclaw-hosting: tenant $tenant's disk stays at ${have} MB (budgets never shrink data; copy to a smaller one by hand)" >&2
    fi
    # A new folder belongs to the tenant's uid:gid from the start; an existing one (its files too)
    # is re-owned by tenant-owner.sh, which first stops a gateway still running as the old uid.
    for sub in state credentials; do
      if [ ! -d "$mnt/$sub" ]; then
        mkdir -- "$mnt/$sub"
        chown -- "$owner" "$mnt/$sub"
      fi
    done
    echo "openclaw-hosting: tenant $tenant's disk: $(df -m --output=size "$mnt" | tail -1 | tr -d ' ') MB at $mnt"
    ;;
  release)
    tenant=$2
    rm -f -- "$RECORDS/$tenant"
    if mounted "$DISKS/$tenant"; then umount -- "$DISKS/$tenant"; fi
    guard_mountpoint "$DISKS/$tenant" || die "could not guard $DISKS/$tenant"
    uninstall_if_unused
    echo "openclaw-hosting: tenant $tenant's disk unmounted; its image stays at $DISKS/$tenant.img"
    ;;
  purge)
    tenant=$2
    rm -f -- "$RECORDS/$tenant"
    if mounted "$DISKS/$tenant"; then umount -- "$DISKS/$tenant"; fi
    rm -f -- "$DISKS/$tenant.img"
    unguard_mountpoint "$DISKS/$tenant"
    rmdir -- "$DISKS/$tenant" 2>/dev/null || true
    rmdir -- "$DISKS" "$(dirname "$DISKS")" 2>/dev/null || true   # only when no other tenant's disk is there
    uninstall_if_unused
    echo "openclaw-hosting: tenant $tenant's disk image deleted"
    ;;
  boot)
    # Every disk that can be mounted is; one missing or corrupt image fails only its own tenant
    # (named here and in the unit's status), never the others.
    secure_layout
    shopt -s nullglob
    failed=()
    for record in "$RECORDS"/*; do
      tenant=$(basename -- "$record")
      if ! (mount_image "$tenant"); then failed+=("$tenant"); fi
    done
    if [ "${#failed[@]}" -gt 0 ]; then die "could not mount the disk of ${failed[*]}: their containers stay stopped; every other tenant's disk is mounted"; fi
    ;;
  *) die "unknown action $action" ;;
esac
