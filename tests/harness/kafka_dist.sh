#!/usr/bin/env bash
# Builds an Apache Kafka distribution tarball from Maven Central jars, laid out like the Apache
# release (kafka_2.13-<version>/libs/*.jar), so the roles install it exactly as they would
# install the official tarball. Cached: a second call for the same version and the same pom.xml
# costs nothing; a changed pom.xml (an artifact added) builds the tarball again.
#
#   tests/harness/kafka_dist.sh 4.3.1        # KRaft-only line (log4j2)
#   tests/harness/kafka_dist.sh 3.9.2        # last line with ZooKeeper mode (reload4j)
#
# Prints the tarball's path; its SHA-256 is written next to it (.sha256).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
version=${1:?usage: kafka_dist.sh VERSION}
name="kafka_2.13-$version"
out="$ROOT/.cache/kafka"
tarball="$out/$name.tgz"
pom="$ROOT/tests/harness/kafka-dist/pom.xml"
pom_sum=$(sha256sum "$pom" | cut -d' ' -f1)
if [ -s "$tarball" ] && [ -s "$tarball.sha256" ] && [ "$(cat "$tarball.pom" 2>/dev/null)" = "$pom_sum" ]; then
  echo "$tarball"
  exit 0
fi
case "$version" in
  3.*) profile=zk3 ;;
  *) profile=kraft4 ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/$name/libs" "$out"
echo "[kafka-dist] resolving Kafka $version ($profile) from Maven Central" >&2
mvn -q -B -Dmaven.repo.local="$ROOT/.cache/m2" -f "$pom" \
  -P "$profile" -Dkafka.version="$version" \
  dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$work/$name/libs" >&2
test -s "$work/$name/libs/kafka_2.13-$version.jar"
printf '%s\n' "$version" > "$work/$name/VERSION"
# reproducible archive: sorted names, fixed owner and times
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2020-01-01 00:00Z' \
  -C "$work" -czf "$tarball.tmp" "$name"
mv "$tarball.tmp" "$tarball"
sha256sum "$tarball" | cut -d' ' -f1 > "$tarball.sha256"
echo "$pom_sum" > "$tarball.pom"
echo "$tarball"
