"""The HTTP edge: parse, call a service, commit, render a page, a block or a 303. Nothing else."""
