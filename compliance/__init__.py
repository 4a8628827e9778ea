"""Rule engine: may this number be dialled now, by this campaign; why not; when next."""
