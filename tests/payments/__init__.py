"""Tests of the payments library: money, amount due, states, platforms, callbacks, receipts."""
