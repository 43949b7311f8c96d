"""The backtest and walk-forward report: a self-contained HTML page and its data files."""
