# The two set-up commands of the README. Both create or reuse .venv/.
PY := .venv/bin/python

.PHONY: venv demo test

venv:
	tools/setup_env.sh

# main job: generate data, train CrossFormer on the CPU, test it, plot it
demo: venv
	$(PY) tools/run_demo.py

# the full test suite
test: venv
	$(PY) -m pytest tests -n 2 -p no:cacheprovider -q
