"""The training wizard's machinery: the trainer process, the events.jsonl tailer, and the
live monitoring widgets. Training always runs in a separate process (the trainer's own
command line), so nothing it does can stall or crash the app."""
