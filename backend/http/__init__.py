"""The Litestar shell: thin controllers that decode, call one service, and encode."""
