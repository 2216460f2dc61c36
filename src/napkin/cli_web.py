"""`napkin web`: the local estimator page."""
