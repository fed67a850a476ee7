"""The one policy evaluator: which verdict Calico's rules give a flow, and which rule
decided it.

`evaluator` holds the API (`Cluster`, `Flow`, `evaluate`, `Verdict`, `Decision`,
`RuleRef`); `cluster` indexes endpoints, network sets, policies and profiles;
`matching` decides whether one rule matches one flow. Pure code: no datastore, no
kernel. Tests use it as the oracle for packet tests, and `explain`-style tools can name
the deciding rule with it.
"""
