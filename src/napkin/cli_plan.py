"""Training layouts: `napkin plan` and `napkin finetune`."""
