#!/usr/bin/env bash
# Prints the bin folder of Node.js VERSION (e.g. 24.22.3), installing it first when it is missing: the
# npm registry ships Node itself as node-linux-<arch>, so no other download is needed. Installs go to
# $ETCDGW_TOOLS (default ~/.cache/etcdgw-tools), one folder per version, and are reused by later runs.
set -euo pipefail
version=$1
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "no Node.js build from the npm registry for $(uname -m)" >&2; exit 1 ;;
esac
tools=${ETCDGW_TOOLS:-$HOME/.cache/etcdgw-tools}
dir=$tools/node-v$version-linux-$arch
if [ ! -x "$dir/bin/node" ]; then
  mkdir -p "$tools"
  tmp=$(mktemp -d "$tools/.node-XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "Node.js $version not found: installing node-linux-$arch@$version from the npm registry" >&2
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$version" >/dev/null)
  mkdir "$tmp/node"
  tar xzf "$tmp"/node-linux-"$arch"-*.tgz -C "$tmp/node" --strip-components=1
  "$tmp/node/bin/node" --version >/dev/null
  rm -rf "$dir" && mv "$tmp/node" "$dir"
fi
echo "$dir/bin"
