"""FastAPI control plane."""
