"""``make bench``: cold-start proxy, warm hot path, and on one local stack the cost per order, throughput, ack
latency and inventory figures, measured next to baselines in one run.

``python -m infra.bench`` prints a markdown table and writes ``bench/results.json``.
"""
