# The two commands a newcomer needs. Both set everything up first (idempotent).
.PHONY: up test

up:  ## set up, then bring the whole stack up healthy
	scripts/setup.sh
	.venv/bin/invoke up

test:  ## set up, then run every test
	scripts/test.sh
