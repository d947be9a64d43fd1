#!/usr/bin/env bash
# Downloads and builds the delta benchmark's inputs into a cache outside git (default
# bench/delta/.data, git-ignored). Idempotent: what is already there is kept.
#   esbuild-0.20.0, esbuild-0.24.0, esbuild-0.24.2   the native linux-x64 executables from npm
#   esbuild-arm64-0.20.0, -0.24.0, -0.24.2            the same releases for linux-arm64
#   rootfs-a.ext4, rootfs-b.ext4                      ext4 images of Debian bookworm (minbase);
#                                                     b has a few more packages
# The images are reproducible apart from the packages' own versions: fixed UUID, hash seed,
# timestamps (SOURCE_DATE_EPOCH, E2FSPROGS_FAKE_TIME) and size (ROOTFS_SIZE, default 512M, so
# that the same pair also serves the 512 MiB memory measurement).
# Needs root (debootstrap, chroot) and network access to registry.npmjs.org and deb.debian.org.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
data=${DELTA_DATA:-$here/.data}
size=${ROOTFS_SIZE:-512M}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
epoch=${SOURCE_DATE_EPOCH:-1735689600}  # 2025-01-01T00:00:00Z
mkdir -p "$data"

for name in esbuild-0.20.0 esbuild-0.24.0 esbuild-0.24.2 \
            esbuild-arm64-0.20.0 esbuild-arm64-0.24.0 esbuild-arm64-0.24.2; do
  out=$data/$name
  [[ -s $out ]] && continue
  version=${name##*-}
  arch=x64
  [[ $name == esbuild-arm64-* ]] && arch=arm64
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "@esbuild/linux-$arch@$version" > /dev/null && tar xzf ./*.tgz)
  install -m 0755 "$tmp/package/bin/esbuild" "$out"
  rm -rf "$tmp"
  echo "fetch_data: $out ($(stat -c %s "$out") bytes)"
done

if ((EUID != 0)); then
  echo "fetch_data: not root, skipping the rootfs images (debootstrap needs root)" >&2
  exit 0
fi

# Both trees come from one debootstrap of minbase; b adds packages with apt inside a chroot,
# as an image build's next release would.
extra_packages=(openssh-server curl ca-certificates less iproute2)
tree_a=$data/tree-a
tree_b=$data/tree-b
if [[ ! -f $data/rootfs-a.ext4 || ! -f $data/rootfs-b.ext4 ]]; then
  if [[ ! -x $tree_a/bin/sh ]]; then
    rm -rf "$tree_a"
    debootstrap --variant=minbase bookworm "$tree_a" "$mirror"
    rm -rf "$tree_a"/var/cache/apt/archives/*.deb "$tree_a"/var/lib/apt/lists/*
  fi
  if [[ ! -x $tree_b/usr/bin/curl ]]; then
    rm -rf "$tree_b"
    cp -a "$tree_a" "$tree_b"
    echo "deb $mirror bookworm main" > "$tree_b/etc/apt/sources.list"
    chroot "$tree_b" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    chroot "$tree_b" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "${extra_packages[@]}"
    chroot "$tree_b" apt-get clean
    rm -rf "$tree_b"/var/lib/apt/lists/*
  fi
  for name in a b; do
    tree=$data/tree-$name
    # Every timestamp fixed: the images then differ only where the trees do.
    find "$tree" -depth -exec touch -h -d "@$epoch" {} +
    rm -f "$data/rootfs-$name.ext4"
    SOURCE_DATE_EPOCH=$epoch E2FSPROGS_FAKE_TIME=$epoch \
      mkfs.ext4 -q -F -d "$tree" -U 6b1f3c2e-5d4a-4e8f-9a7b-0c1d2e3f4a5b \
        -E hash_seed=3f8e2a1c-7b6d-4c5e-8f9a-0b1c2d3e4f5a,root_owner=0:0 \
        -L aloft-root -T default "$data/rootfs-$name.ext4" "$size"
    echo "fetch_data: $data/rootfs-$name.ext4 ($(du -h --apparent-size "$data/rootfs-$name.ext4" | cut -f1))"
  done
fi
