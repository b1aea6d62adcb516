# kafkaops.platform — every set-up step is here; see README.md.
#   make demo        a real 3-host KRaft cluster on local test hosts
#   make demo-k8s    the same cluster as pods on a one-node Kubernetes built on this machine
#   make test        lint, sanity, unit tests and every molecule scenario
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

KAFKA_VERSION ?= 4.3.1
KAFKA_ZK_VERSION ?= 3.9.2
# the releases the reliability and migration scenarios deploy first and upgrade from (to
# KAFKA_VERSION, and to KAFKA_ZK_VERSION in ZooKeeper mode)
KAFKA_UPGRADE_FROM ?= 4.2.0
KAFKA_ZK_UPGRADE_FROM ?= 3.9.1
VENV := $(CURDIR)/.cache/venv
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.cache/collections
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# the test hosts' connection (podman with pipelining): tests/harness/ansible_plugins/connection
export ANSIBLE_CONNECTION_PLUGINS := $(CURDIR)/tests/harness/ansible_plugins/connection
# compiled-code cache for modules run on the control node (tests/harness/bootstrap.sh installs it)
export KAFKAOPS_ZIPIMPORT_CACHE := $(CURDIR)/.cache/zipimport
# test hosts are named after this checkout, so two checkouts (or CI beside a developer) never collide
export KAFKAOPS_HOST_PREFIX ?= kafkaops-$(shell printf '%s' "$(CURDIR)" | sha256sum | cut -c1-6)
MOLECULE_LANES ?= 2
MOLECULE_SCENARIOS ?= $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml))))

.PHONY: help bootstrap dist image k8s demo demo-clean demo-k8s demo-k8s-clean test lint sanity unit integration molecule molecule-with-integration bench bench-hosts clean

help:
	@echo "make demo        boot 3 test hosts and deploy a KRaft cluster on them"
	@echo "make demo-clean  remove the demo hosts"
	@echo "make demo-k8s    boot a one-node Kubernetes here and deploy the KRaft cluster as pods on it"
	@echo "make demo-k8s-clean  stop that Kubernetes and remove its pods"
	@echo "make test        lint + sanity + unit + integration + molecule ($(MOLECULE_SCENARIOS))"

bootstrap:
	@tests/harness/bootstrap.sh

dist: bootstrap
	@tests/harness/kafka_dist.sh $(KAFKA_VERSION) >/dev/null
	@tests/harness/kafka_dist.sh $(KAFKA_ZK_VERSION) >/dev/null
	@tests/harness/kafka_dist.sh $(KAFKA_UPGRADE_FROM) >/dev/null
	@tests/harness/kafka_dist.sh $(KAFKA_ZK_UPGRADE_FROM) >/dev/null
	@tests/harness/maven_artifact.sh io.debezium:debezium-connector-postgres:3.6.1.Final:tar.gz:plugin >/dev/null

image: bootstrap
	@python3 tests/harness/hosts.py image >/dev/null
	@python3 tests/harness/hosts.py image --suite trixie >/dev/null

# the Kubernetes API server of the kubernetes/openshift scenarios and the real node (kubelet,
# kube-proxy, CoreDNS), built with Go (cached in .cache/k8s)
k8s: bootstrap
	@tests/harness/k8s/kube.sh build

demo: dist image
	@python3 tests/harness/hosts.py up --prefix kafkaops-demo --count 3
	ansible-playbook -i inventories/local playbooks/site.yml
	ansible-playbook -i inventories/local playbooks/smoke_test.yml

demo-clean:
	@python3 tests/harness/hosts.py down --prefix kafkaops-demo

# A one-node Kubernetes on this machine (tests/harness/k8s/kube.sh with a real node: containerd,
# kubelet, kube-proxy, CoreDNS; the Kafka image built from the test hosts' root file system), and
# the cluster of inventories/kubernetes-local on it. One real node per machine: not beside make test.
K8S_DEMO_ENV := KUBE_HARNESS_RUN=$(CURDIR)/.cache/k8s/run-demo-k8s KUBE_HARNESS_PVS=8 \
  KUBE_HARNESS_COMPONENTS="etcd kube-apiserver kube-controller-manager kube-scheduler node" \
  KUBE_HARNESS_KAFKA_VERSIONS=$(KAFKA_VERSION)

demo-k8s: dist image k8s
	@$(K8S_DEMO_ENV) tests/harness/k8s/kube.sh up
	ansible-playbook -i inventories/kubernetes-local playbooks/site.yml
	ansible-playbook -i inventories/kubernetes-local playbooks/smoke_test.yml

demo-k8s-clean:
	@$(K8S_DEMO_ENV) tests/harness/k8s/kube.sh down

# mypy reads the module_utils through the collection's import path (bootstrap links it), see mypy.ini
lint: bootstrap
	ruff check .
	ansible-lint --profile production
	mypy .cache/collections/ansible_collections/kafkaops/platform/plugins/module_utils

# the older ansible-core releases meta/runtime.yml's requires_ansible claims, checked beside the pinned one
# (tests/unit/test_packaging.py keeps the two in step)
SANITY_OLDER_CORES ?= 2.18.19

sanity: bootstrap
	tests/harness/sanity.sh
	@for core in $(SANITY_OLDER_CORES); do echo "ansible-test sanity with ansible-core $$core"; \
	  SANITY_CORE=$$core tests/harness/sanity.sh || exit 1; done

unit: bootstrap
	python -m pytest -q tests/unit

integration: dist
	python -m pytest -q tests/integration

# scenarios run in MOLECULE_LANES parallel lanes (tests/harness/molecule_lanes.sh); logs in .cache/molecule/
molecule: dist image
	@rm -f .cache/molecule/*.result
	@tests/harness/molecule_lanes.sh $(MOLECULE_LANES) $(MOLECULE_SCENARIOS)

# The API server build (cold: 10+ minutes of one core) starts first, in the background, so
# it overlaps the lint and test steps; `make molecule` then finds it built (kube.sh serializes builds).
# After the bootstrap, the Kafka tarballs and the test-host image (mostly downloads and unpacking)
# are made in the background too, beside lint, sanity and unit; the scenarios start once both are done.
test:
	@mkdir -p .cache/k8s/logs
	@(nohup tests/harness/k8s/kube.sh build >.cache/k8s/logs/make-test-build.log 2>&1 &)
	@$(MAKE) --no-print-directory bootstrap
	@{ $(MAKE) --no-print-directory dist image >.cache/make-test-prepare.log 2>&1 & prepare=$$!; \
	  checks=0; $(MAKE) --no-print-directory lint sanity unit || checks=$$?; \
	  if ! wait $$prepare; then cat .cache/make-test-prepare.log; exit 1; fi; exit $$checks; }
	@$(MAKE) --no-print-directory molecule-with-integration

# the integration tests wait in the same queue as the molecule scenarios (two lanes in all); the
# Kubernetes scenarios go last, after the API server build
molecule-with-integration: dist image
	@rm -f .cache/molecule/*.result
	@tests/harness/molecule_lanes.sh $(MOLECULE_LANES) integration $(MOLECULE_SCENARIOS)

bench: bootstrap
	python benchmarks/reassignment/run.py

# what one ansible module call costs on a test host, by connection and cache (benchmarks/test_hosts/)
bench-hosts: image
	python benchmarks/test_hosts/run.py

clean: demo-clean
	rm -rf .cache/rootfs
