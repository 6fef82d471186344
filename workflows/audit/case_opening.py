"""How a case chain must open, for the completeness check (``coverage``) and the full run that
notes it while streaming: kept apart so the run's worker processes need not import the models."""

CASE_OPENED = "case_opened"
# what the registration's unit of work records before case_opened
CASE_PRELUDE = ("party_registered", "task_state_changed", "engine_step")
