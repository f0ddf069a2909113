"""One module per use case (analyze, run, heal, publish, explain, ...): typed requests in, typed
results out. The only layer that calls both adapters and core."""
