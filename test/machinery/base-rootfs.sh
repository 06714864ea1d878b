# Sourced by both test-image builds (gateway-image/ and openclaw-image/): the root filesystem they
# share, laid out like upstream's image. Each build adds its own /app and image settings.
#
#   lay_base_rootfs ROOTFS NODE_BIN BUSYBOX
lay_base_rootfs() {
  local rootfs="$1" node_bin="$2" busybox="$3" libs lib applet
  chmod 755 "$rootfs"
  mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,lib64,etc,app,proc,sys,dev,run,tmp,var/tmp,root}
  mkdir -p "$rootfs"/home/node/.openclaw "$rootfs"/home/node/.config/openclaw

  # node + its shared libraries (same paths as on the host; the ELF interpreter included)
  install -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
  ln -s /usr/local/bin/node "$rootfs/usr/bin/node"
  libs="$(ldd "$node_bin" | awk '/=> \//{print $3} /^[ \t]*\//{print $1}')"
  [ -n "$libs" ] || { echo "ldd found no libraries for $node_bin" >&2; return 1; }
  for lib in $libs; do
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
  done

  # GNU tar at /usr/bin/tar and /bin/tar, as in upstream's Debian image (busybox's tar stays out):
  # a move streams a tenant's volumes with `tar --format=posix --numeric-owner`, and busybox's tar
  # can neither take that option nor store a uid above 2097151 (a tenant's own uid is 1900000000 up).
  local tar_bin
  tar_bin="$(readlink -f "$(command -v tar)")"
  "$tar_bin" --version 2>/dev/null | grep -q 'GNU tar' || { echo "$tar_bin is not GNU tar (apt-get install tar)" >&2; return 1; }
  install -m 0755 "$tar_bin" "$rootfs/usr/bin/tar"
  ln -s /usr/bin/tar "$rootfs/bin/tar"
  for lib in $(ldd "$tar_bin" | awk '/=> \//{print $3} /^[ \t]*\//{print $1}'); do
    [ -e "$rootfs$lib" ] && continue
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
  done

  # busybox: /bin/sh and the applets at their usual places
  install -m 0755 "$busybox" "$rootfs/bin/busybox"
  while read -r applet; do
    [ -n "$applet" ] || continue
    [ -e "$rootfs/$applet" ] || [ -L "$rootfs/$applet" ] || { mkdir -p "$rootfs/$(dirname "$applet")"; ln -s /bin/busybox "$rootfs/$applet"; }
  done < <("$busybox" --list-full)
  [ -e "$rootfs/bin/sh" ] || ln -s /bin/busybox "$rootfs/bin/sh"

  # users, name resolution, mount points docker bind-mounts over
  cat >"$rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
node:x:1000:1000:node:/home/node:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
  cat >"$rootfs/etc/group" <<'GROUP'
root:x:0:
node:x:1000:
nogroup:x:65534:
GROUP
  printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
  : >"$rootfs/etc/hosts"; : >"$rootfs/etc/resolv.conf"; : >"$rootfs/etc/hostname"

  chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
  chmod 700 "$rootfs/root"
  chmod 755 "$rootfs/home/node"
  chmod 700 "$rootfs/home/node/.openclaw" "$rootfs/home/node/.config" "$rootfs/home/node/.config/openclaw"
}
