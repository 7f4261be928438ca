"""Demo data: `load.load_demo` and one module of demo rows per area."""
