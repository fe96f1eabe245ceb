"""Metrics and logs of a kpibot process: the bottom layer every other package may use.

It knows nothing of Slack, the store or the KPIs; callers hand it names, numbers and callbacks.
"""
