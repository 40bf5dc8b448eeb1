"""PyTorch reference models, state_dict-compatible with NVIDIA's, for parity tests and benchmarks."""
