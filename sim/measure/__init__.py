"""Measured traffic: interface counter files read, cleaned and mapped to sites."""
