"""Demo data and the local supervisor behind ``make run``: a walkable platform on first start."""
