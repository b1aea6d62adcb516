# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The reassignment planner's stages (private: import the planner from ``reassignment``).

One module per stage, in the order ``reassignment.plan_reassignment`` runs them:

``inputs``     parse and check the arguments (``Request``)
``cluster``    number brokers, racks and replica lists (``Cluster``)
``placement``  run the placing stages below and pick the size-steered or count-only result
``targets``    rack loads and per-broker replica targets (``Targets``)
``bounds``     what any balanced plan keeps, hence the lower bound (``Bounds``)
``drops``      the replicas every plan must drop (``Drops``)
``shed``       surplus brokers shed replicas; every hole gets a rack (``Shed``)
``routing``    the min-cost flow over racks the shed stage asks (``Routing``)
``fill``       each hole goes to a broker below target (``Fill``)
``limit``      keep the changes that fit ``max_moves`` (``Limited``)
``leaders``    balance leaders by reordering replica lists
``report``     the reassignment JSON and the statistics

``errors`` holds the exceptions every stage raises.
"""
