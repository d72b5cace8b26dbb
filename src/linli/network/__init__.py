"""Walking networks: graphs, elevation and walking times."""
