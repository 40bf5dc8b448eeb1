"""Training in JAX: NVIDIA's FastPitch 1.1 and HiFi-GAN recipes (data pipeline, forwards, losses, optimizers)."""
