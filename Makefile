# Shortcuts for dev.py, which needs nothing but Python.
.PHONY: run test lint bench

run:
	python3 dev.py run

test:
	python3 dev.py test

lint:
	python3 dev.py test tests/test_architecture.py -q
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

bench:
	.venv/bin/python bench/store.py
