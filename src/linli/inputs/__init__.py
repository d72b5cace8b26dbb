"""Reading and checking the inputs of a plan: coordinate systems, boundaries, population, sites."""
