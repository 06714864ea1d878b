#!/usr/bin/env bash
# A tenant's disk budget as its own filesystem: an ext4 image of the budget's size, loop-mounted on
# the server; the tenant's two volumes are bind mounts of folders inside it (Docker's local driver,
# type none, o bind), so a write past the budget fails inside that tenant alone.
#   tenant-disk.sh apply   TENANT SIZE_MB UID:GID   create (or grow, never shrink) and mount; record for boot
#   tenant-disk.sh release TENANT                    unmount and forget for boot; the image (the data) stays
#   tenant-disk.sh purge   TENANT                    unmount and delete the image: only for deleteData
#   tenant-disk.sh boot                              mount every recorded image (before Docker starts)
set -euo pipefail

DISKS=/var/lib/openclaw-hosting/disks
RECORDS=/etc/openclaw-hosting/disks
INSTALLED=/usr/local/lib/openclaw-hosting/tenant-disk.sh
BOOT_UNIT=/etc/systemd/system/openclaw-disks.service

die() { echo "openclaw-hosting: tenant disk: $*" >&2; exit 1; }
have_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }
if [ "$(id -u)" != 0 ]; then exec sudo -n bash "$0" "$@"; fi

mounted() { findmnt -rn --mountpoint "$1" >/dev/null 2>&1; }

mount_image() {
  local tenant=$1 img="$DISKS/$1.img" mnt="$DISKS/$1"
  [ -f "$img" ] || die "no image for $tenant at $img"
  mkdir -p -- "$mnt"
  mounted "$mnt" || mount -o loop,nosuid,nodev -- "$img" "$mnt"
}

install_boot() {
  mkdir -p -- "$(dirname "$INSTALLED")" "$RECORDS"
  if ! cmp -s -- "$0" "$INSTALLED"; then install -m 0755 -- "$0" "$INSTALLED"; fi
  have_systemd || { echo "openclaw-hosting: no systemd here: run '$INSTALLED boot' at boot before Docker starts" >&2; return 0; }
  local unit
  unit=$(printf '%s\n' \
    '[Unit]' \
    'Description=openclaw-hosting: tenant disks before Docker starts containers' \
    'Before=docker.service' 'After=local-fs.target' \
    '' '[Service]' 'Type=oneshot' 'RemainAfterExit=yes' "ExecStart=$INSTALLED boot" \
    '' '[Install]' 'WantedBy=multi-user.target' 'RequiredBy=docker.service')
  if [ "$(cat "$BOOT_UNIT" 2>/dev/null || true)" != "$unit" ]; then
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
    img="$DISKS/$tenant.img" mnt="$DISKS/$tenant"
    mkdir -p -- "$DISKS"
    if [ ! -f "$img" ]; then
      truncate -s "${size}M" -- "$img"
      mkfs.ext4 -q -F -m 0 -L "oc-$tenant" -- "$img"
    fi
    install_boot
    echo "$size" >"$RECORDS/$tenant"
    mount_image "$tenant"
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
    for sub in state credentials; do
      mkdir -p -- "$mnt/$sub"
      chown -- "$owner" "$mnt/$sub"
    done
    echo "openclaw-hosting: tenant $tenant's disk: $(df -m --output=size "$mnt" | tail -1 | tr -d ' ') MB at $mnt"
    ;;
  release)
    tenant=$2
    rm -f -- "$RECORDS/$tenant"
    if mounted "$DISKS/$tenant"; then umount -- "$DISKS/$tenant"; fi
    uninstall_if_unused
    echo "openclaw-hosting: tenant $tenant's disk unmounted; its image stays at $DISKS/$tenant.img"
    ;;
  purge)
    tenant=$2
    rm -f -- "$RECORDS/$tenant"
    if mounted "$DISKS/$tenant"; then umount -- "$DISKS/$tenant"; fi
    rm -f -- "$DISKS/$tenant.img"
    rmdir -- "$DISKS/$tenant" 2>/dev/null || true
    rmdir -- "$DISKS" "$(dirname "$DISKS")" 2>/dev/null || true   # only when no other tenant's disk is there
    uninstall_if_unused
    echo "openclaw-hosting: tenant $tenant's disk image deleted"
    ;;
  boot)
    shopt -s nullglob
    for record in "$RECORDS"/*; do mount_image "$(basename -- "$record")"; done
    ;;
  *) die "unknown action $action" ;;
esac
