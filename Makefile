# The two set-up commands of the README. Both create or reuse .venv/.
PY := .venv/bin/python

.PHONY: venv train-demo test

venv:
	tools/setup_env.sh

# main job: generate synthetic data, train CrossFormer on the CPU, test it,
# plot it (video inference is demo/body3d_crossformer_demo.py)
train-demo: venv
	$(PY) tools/train_demo.py

# the full test suite
test: venv
	$(PY) -m pytest tests -n 2 -p no:cacheprovider -q
