"""Performance on stored rows: realized and estimated performance per window, fairness and segment breakdowns."""
