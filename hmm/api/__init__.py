"""HMM API."""
