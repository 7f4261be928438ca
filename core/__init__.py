"""Infrastructure shared by every area: database, Redis, page rendering, uploads."""
