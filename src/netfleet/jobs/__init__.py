"""Jobs: the job model, retry policy and job-level execution rules."""
