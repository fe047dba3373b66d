"""The offline teacher: a local server that speaks the OpenAI protocol and answers every prompt the
pipeline asks, procedurally, from material on the machine. It is not a language model. It is a tool
beside the pipeline, as a test server is: no pipeline module imports it, and it enters a rule's
identity only as the configured teacher (its version and answer-changing settings, see README)."""
