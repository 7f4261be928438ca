"""The users' H5 pages, one module per area."""
