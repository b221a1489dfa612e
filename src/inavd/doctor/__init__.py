"""`inavd doctor`: a preflight of everything a session needs before it can trade."""
