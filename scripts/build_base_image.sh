#!/usr/bin/env bash
# Build the sandbox base image locally, without any registry (DESIGN §11), and cache it by tag.
#
#   scripts/build_base_image.sh [NAME]        NAME defaults to bench-by-execution/base:bookworm
#
# Skips at once when `docker image inspect NAME` succeeds. Otherwise debootstraps a minimal bookworm (python3, pytest, git,
# patch) from the Debian mirror apt already uses here and imports the tree with `docker import`. Needs a running daemon
# (scripts/docker_up.sh) and root. Environment: DEBIAN_MIRROR overrides the mirror.
set -euo pipefail

NAME="${1:-bench-by-execution/base:bookworm}"
SUITE=bookworm
PACKAGES=python3,python3-pytest,git,patch,ca-certificates

say() { echo "build_base_image: $*" >&2; }

if ! timeout 10 docker info >/dev/null 2>&1; then
    say "no Docker daemon answers: run scripts/docker_up.sh first"
    exit 1
fi

if docker image inspect "$NAME" >/dev/null 2>&1; then
    say "$NAME already exists"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    say "debootstrap needs root"
    exit 1
fi

# The Debian mirror apt uses here: deb822 sources first (URIs:), then one-line sources (deb URL SUITE ...).
find_mirror() {
    local files=() f url
    for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] && files+=("$f")
    done
    for f in "${files[@]}"; do
        case "$f" in
        *.sources)
            url=$(awk '
                /^[[:space:]]*$/ { if (deb && uri && suite) { print uri; exit } deb = uri = suite = 0; next }
                /^Types:/ { deb = ($0 ~ /[[:space:]]deb([[:space:]]|$)/) }
                /^URIs:/ { uri = $2 }
                /^Suites:/ { suite = ($0 ~ /[[:space:]]'"$SUITE"'([[:space:]]|$)/) }
                /^Enabled:[[:space:]]*no/ { deb = 0 }
                END { if (deb && uri && suite) print uri }' "$f" | head -n1)
            ;;
        *)
            url=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/ && $i ~ /:\/\//) { if ($(i+1) == "'"$SUITE"'") { print $i; exit } break } }' "$f" | head -n1)
            ;;
        esac
        if [ -n "$url" ]; then
            echo "$url"
            return 0
        fi
    done
    return 1
}

MIRROR="${DEBIAN_MIRROR:-$(find_mirror || true)}"
if [ -z "$MIRROR" ]; then
    say "found no Debian $SUITE mirror in /etc/apt/sources.list*; set DEBIAN_MIRROR"
    exit 1
fi

if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing debootstrap"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

WORK=$(mktemp -d /var/tmp/bench-base.XXXXXX)
cleanup() { rm -rf --one-file-system "$WORK"; }
trap cleanup EXIT

started=$SECONDS
say "debootstrap $SUITE from $MIRROR into $WORK/root"
if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$WORK/root" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
    say "debootstrap failed; last lines of its log:"
    tail -n 30 "$WORK/debootstrap.log" >&2
    [ -f "$WORK/root/debootstrap/debootstrap.log" ] && tail -n 30 "$WORK/root/debootstrap/debootstrap.log" >&2
    exit 1
fi
# Smaller and free of host leftovers: apt lists and caches, docs, man pages.
rm -rf "$WORK/root/var/cache/apt/archives/"*.deb "$WORK/root/var/lib/apt/lists/"* \
    "$WORK/root/usr/share/doc/"* "$WORK/root/usr/share/man/"* "$WORK/root/usr/share/info/"*
mkdir -p "$WORK/root/sandbox"
chmod 1777 "$WORK/root/sandbox"

say "importing as $NAME"
tar --numeric-owner -C "$WORK/root" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["/bin/bash"]' \
    - "$NAME" >/dev/null
say "built $NAME in $((SECONDS - started)) s ($(docker image inspect -f '{{.Size}}' "$NAME") bytes)"
