"""Training-run facts that the trainer writes and the app reads: the run folder's layout and
the events schema. No Qt and no torch here; both `trainer` and `ganexplorer` import it."""
