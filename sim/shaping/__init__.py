"""Shaping plans (HTB class trees), the policies that build them, the fluid HTB allocator,
the one tc compiler and the exports (tc script, RouterOS, plan files)."""
