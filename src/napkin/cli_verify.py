"""`napkin verify`: measure the estimates with PyTorch."""
