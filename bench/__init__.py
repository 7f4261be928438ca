"""`make bench`: the product against a bare Sanic app, on the same machine, in the same run."""
