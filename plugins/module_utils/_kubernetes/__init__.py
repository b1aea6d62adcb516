# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Private pieces of the Kubernetes form of the cluster; import the public names from ``module_utils.kubernetes``.

* ``objects`` - what every API object shares: labels, selectors, metadata, Services, Routes, data;
* ``statefulset`` - a StatefulSet and its pod template: start script, container, volumes, ports, probes.
"""
