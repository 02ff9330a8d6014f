"""Shaping plans (HTB class trees), the policies that build them and the fluid HTB allocator."""
