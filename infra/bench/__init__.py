"""``make bench``: cold-start proxy, warm hot path and the cost model, measured next to baselines in one run.

``python -m infra.bench`` prints a markdown table and writes ``bench/results.json``.
"""
