#!/usr/bin/env bash
# Prints why the confluent scenario cannot run here and exits 0 (skip it), or exits 1 (run it).
# Confluent Schema Registry and ksqlDB are on no registry this project's machines reach; the
# scenario runs them for real when a user supplies Confluent's archive:
#   KAFKAOPS_CONFLUENT_ARCHIVE=/path/to/confluent-7.9.0.tar.gz [KAFKAOPS_CONFLUENT_VERSION=7.9.0] make molecule
archive=${KAFKAOPS_CONFLUENT_ARCHIVE:-}
if [[ -z $archive ]]; then
  echo "KAFKAOPS_CONFLUENT_ARCHIVE is not set: Confluent Schema Registry and ksqlDB cannot be installed without Confluent's archive (on no registry this machine reaches)"
  exit 0
fi
if [[ ! -f $archive ]]; then
  echo "KAFKAOPS_CONFLUENT_ARCHIVE=$archive is not a file"
  exit 0
fi
exit 1
