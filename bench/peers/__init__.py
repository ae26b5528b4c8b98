"""Adapters that run peer RL-diagnosis tools on SB3 run folders, for side-by-side accuracy comparisons."""
