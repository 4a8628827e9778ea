"""The campaign runtime: agent board, attempt tracking, hopper, pacing loop, AGI routing."""
