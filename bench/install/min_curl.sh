#!/usr/bin/env bash
# Builds the libcurl a device image would ship for aloft-agent (HTTP and HTTPS over OpenSSL,
# nothing else) from Debian's own source package of the installed libcurl4, into DIR (default
# /var/tmp/aloft-min-curl), and prints the directory that holds its libcurl.so.4. For the
# install bench's what-if (bench/README.md, "Install"): Debian's libcurl4 also loads gnutls
# (through librtmp), krb5, ldap, ssh2, nghttp2, idn2, psl and brotli, 3.5 MiB of the agent's
# peak RSS, for protocols the agent never enables.
#
#   ALOFT_IBENCH_AGENT_LIBS=$(bench/install/min_curl.sh) bench/install/run_install.sh 64 256
#
# Needs root (apt-get source with a private deb-src list and lists dir: the system's apt
# configuration is not touched), dpkg-dev, gcc, make and libssl-dev. A second run reuses DIR.
set -euo pipefail
dir=${1:-/var/tmp/aloft-min-curl}
if [[ -e $dir/lib/libcurl.so.4 ]]; then echo "$dir/lib"; exit 0; fi
version=$(dpkg-query -W -f='${Version}' libcurl4)
# shellcheck source=/dev/null
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
mkdir -p "$dir/apt/parts" "$dir/apt/lists/partial" "$dir/apt/cache" "$dir/dl"
cat > "$dir/apt/parts/src.sources" <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $codename $codename-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: $codename-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
apt=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$dir/apt/parts"
     -o "Dir::State::Lists=$dir/apt/lists" -o "Dir::Cache=$dir/apt/cache")
apt-get "${apt[@]}" -qq update >&2
(cd "$dir/dl" && apt-get "${apt[@]}" -qq source --download-only "curl=$version" >&2)
rm -rf "$dir/src"
dpkg-source -x "$dir/dl/curl_$version.dsc" "$dir/src" >&2  # with Debian's patches
cd "$dir/src"
# The series ends with the patches that turn the tree into the gnutls and nss flavours; the
# OpenSSL flavour (libcurl4) is built without them, as debian/rules does.
patch -s -R -p1 < debian/patches/99_nss.patch
patch -s -R -p1 < debian/patches/90_gnutls.patch
./configure --prefix="$dir" --disable-static --with-openssl \
  --disable-ftp --disable-file --disable-ldap --disable-ldaps --disable-rtsp --disable-dict \
  --disable-telnet --disable-tftp --disable-pop3 --disable-imap --disable-smb --disable-smtp \
  --disable-gopher --disable-mqtt --disable-manual --disable-docs \
  --without-zlib --without-brotli --without-zstd --without-libssh2 --without-nghttp2 \
  --without-libidn2 --without-libpsl --without-librtmp --without-gssapi \
  --enable-threaded-resolver --enable-versioned-symbols \
  --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --with-ca-path=/etc/ssl/certs > configure.log
make -s -j"$(nproc)" -C lib >&2
make -s -C lib install >&2
echo "$dir/lib"
