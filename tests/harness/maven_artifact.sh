#!/usr/bin/env bash
# Puts one Maven artifact (group:artifact:version[:extension[:classifier]], Maven's own order) into
# the harness's local repository .cache/m2, with the checksum file Maven Central publishes beside
# it, so that molecule scenarios can serve it from a test host in a Maven repository's layout.
# Cached: a second call for the same artifact costs nothing. Prints the file's path.
#
#   tests/harness/maven_artifact.sh io.debezium:debezium-connector-postgres:3.6.1.Final:tar.gz:plugin
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
coords=${1:?usage: maven_artifact.sh GROUP:ARTIFACT:VERSION[:EXTENSION[:CLASSIFIER]]}
IFS=: read -r group artifact version extension classifier <<<"$coords"
extension=${extension:-jar}
file="$artifact-$version${classifier:+-$classifier}.$extension"
path="$ROOT/.cache/m2/${group//.//}/$artifact/$version/$file"
if [ ! -s "$path" ] || [ ! -s "$path.sha1" ]; then
  echo "[maven] fetching $coords" >&2
  mvn -q -B -Dmaven.repo.local="$ROOT/.cache/m2" dependency:get -Dtransitive=false -Dartifact="$coords" >&2
fi
test -s "$path"
# the checksum Maven Central published must match what was downloaded
test "$(sha1sum "$path" | cut -d' ' -f1)" = "$(cut -c1-40 "$path.sha1")"
echo "$path"
