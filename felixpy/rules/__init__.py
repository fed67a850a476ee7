"""Rendering: calc-graph messages -> Chain/Rule values in Calico's iptables layout.

Pure functions of the messages and RulesConfig; felixpy.iptables applies the result.
Entry point: felixpy.rules.renderer.RuleRenderer.
"""
