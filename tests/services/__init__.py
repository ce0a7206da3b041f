"""Throwaway servers (PostgreSQL now; Dovecot, Chromium later) for the test suite, one module each.

A regular package rather than a namespace one, so that no other ``services`` package on
sys.path can shadow it.
"""
