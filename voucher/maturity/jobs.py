"""The self-assessment has no background job: scoring and suggestions are computed when asked."""
