"""news-streams: live news feeds turned into clean, deduplicated, topic-tagged Kafka events.

The package is split the way data flows: ``streams.text`` is the pure functional core
(split, normalise, fingerprint, tag), ``streams.feeds`` polls feeds, ``streams.pipeline``
is the thin Faust shell, ``streams.broker`` runs an embedded single-node Kafka.
"""

__version__ = "0.1.0"
