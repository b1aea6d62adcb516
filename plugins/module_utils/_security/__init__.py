# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Private pieces of the security model; import the public names from ``module_utils.security``.

* ``base`` - constants, :class:`SecurityConfigError` and the checks of single values;
* ``sections`` - each section of the description validated into its canonical form;
* ``normalize`` - the whole description, with the checks that span sections;
* ``listeners`` - the listeners of the canonical form: which plays which role, which ones a process serves,
  which key and trust stores each uses (used by ``normalize``, ``server`` and module_utils.kubernetes);
* ``endpoints`` - what playbooks ask of them: the port of a role's listener, a process's ports, the TLS
  files of a host, the bootstrap servers of the control node's admin client;
* ``render`` - JAAS lines, key/trust store properties and ``{host}`` substitution;
* ``server``, ``clients``, ``zookeeper``, ``secrets`` - what each process and tool is given.
"""
