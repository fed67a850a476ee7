"""iptables driver: desired chains per table, reconciled with the kernel."""
