"""Training: data pipeline (`data`, `features`) and, built on them, the trainers.

Import the submodules you need (`from jaxtts.train import data`); this file imports nothing, so
`jaxtts prepare` starts without loading JAX.
"""
