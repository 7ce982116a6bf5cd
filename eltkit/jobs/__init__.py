"""Jobs: named, triggered sequences of steps, and the scheduler that runs them."""
