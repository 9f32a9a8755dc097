"""summarize: neutral combined news summaries, every sentence linked to its source span."""
