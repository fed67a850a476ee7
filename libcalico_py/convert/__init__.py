"""Conversions from other APIs into the Calico model (Kubernetes NetworkPolicy)."""
