# The commands a newcomer needs. All set everything up first (idempotent).
.PHONY: up test test-fast

up:  ## set up, then bring the whole stack up healthy
	scripts/setup.sh
	.venv/bin/invoke up

test:  ## set up, then run every test (the fast ones first)
	scripts/test.sh

test-fast:  ## lint, types and unit tests only: no Docker, no browser (about 2 minutes)
	scripts/test.sh --fast
