"""Quote feeds: replay of recorded files, seeded synthetic quotes from bars, live Alpaca."""
