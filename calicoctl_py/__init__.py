"""calicoctl-py: the resource CLI, with calicoctl's verbs, flags, messages and exit codes.

Thin by design: parsing, validation and storage live in libcalico_py; this package reads
manifests, calls the library, and prints. Subcommands import what they need lazily so that
`calicoctl-py version` does not pay for the etcd client.
"""
