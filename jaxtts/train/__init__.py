"""Training: data, features and the FastPitch and HiFi-GAN trainers."""
