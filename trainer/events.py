"""The trainer's events and their file: defined once in `ganexplorer.runs.events` (the app
reads them too); re-exported here for the trainer's modules."""
from ganexplorer.runs.events import (END_REASONS, EVENT_TYPES, SCHEMA, WARNING_KINDS, EventLog,  # noqa: F401
                                     make, read_events)
