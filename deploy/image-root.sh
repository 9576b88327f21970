#!/usr/bin/env bash
# Assembles the container image's root filesystem in ROOT from a built census binary:
# exactly what deploy/Containerfile's final (scratch) stage holds, so the image's layout
# can be tested where no container engine runs (crates/census/tests/deploy.rs runs the
# binary in a chroot of this folder, read-only but for /out).
#
#   deploy/image-root.sh BINARY ROOT
#
# ROOT gets:
#   /usr/local/bin/census          the binary
#   the shared libraries `ldd` names for it, and the dynamic loader (none for a static
#   binary): glibc's libc, libm, libgcc_s; glibc 2.34+ resolves DNS without NSS modules
#   /etc/ssl/certs/ca-certificates.crt   the CA bundle (AWS and PostgreSQL TLS)
#   /etc/passwd, /etc/group        root and census (65532:65532, home /nonexistent)
#   /etc/nsswitch.conf             hosts: files dns
#   /out                           empty, owned by census: the only folder census writes
# Everything else is root's and read-only to census. Run as root (it chowns /out);
# ROOT must not exist yet or be empty.
set -euo pipefail
usage() { echo "usage: $0 BINARY ROOT (ROOT must be a new or empty folder)" >&2; exit 1; }
[ $# -eq 2 ] || usage
binary="$1"
root="$2"
[ -x "$binary" ] || { echo "image-root: $binary is not an executable file; build it first (cargo build --release -p census)" >&2; exit 1; }
if [ -e "$root" ] && [ -n "$(ls -A "$root")" ]; then
    echo "image-root: $root is not empty; give a new or empty folder" >&2
    exit 1
fi
ca="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
[ -s "$ca" ] || { echo "image-root: no CA bundle at $ca; install ca-certificates or set CA_BUNDLE" >&2; exit 1; }

mkdir -p "$root"/usr/local/bin "$root"/etc/ssl/certs "$root"/out
install -m 0755 "$binary" "$root"/usr/local/bin/census

# The libraries the dynamic loader resolves for the binary, copied (symlinks followed)
# to the paths it looks them up at; ldd also names the loader itself with its path.
if ldd "$binary" >/dev/null 2>&1; then
    ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u |
        while read -r lib; do
            mkdir -p "$root$(dirname "$lib")"
            cp -L "$lib" "$root$lib"
            chmod 0755 "$root$lib"
        done
fi
# Where a path of the loader is a symlink to another folder (/lib64 -> usr/lib64 on
# merged-/usr systems), the copy above followed it: the binary's own interpreter path
# is what the kernel opens, and it was copied as ldd printed it.

install -m 0644 "$ca" "$root"/etc/ssl/certs/ca-certificates.crt
printf 'root:x:0:0:root:/root:/sbin/nologin\ncensus:x:65532:65532:census:/nonexistent:/sbin/nologin\n' >"$root"/etc/passwd
printf 'root:x:0:\ncensus:x:65532:\n' >"$root"/etc/group
printf 'hosts: files dns\n' >"$root"/etc/nsswitch.conf
chmod 0644 "$root"/etc/passwd "$root"/etc/group "$root"/etc/nsswitch.conf
chown 65532:65532 "$root"/out
chmod 0755 "$root"/out
