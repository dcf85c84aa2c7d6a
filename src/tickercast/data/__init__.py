"""Daily prices from several providers behind one small protocol (see `base`)."""
