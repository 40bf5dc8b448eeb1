"""Typed errors. Each message names the problem and the fix; the CLI prints it as one line."""


class JaxTTSError(Exception):
    """Base class for every error jaxtts raises on purpose."""


class CheckpointError(JaxTTSError):
    """A checkpoint file or converted directory cannot be used (missing, corrupt, foreign, mismatched)."""


class ConfigError(JaxTTSError):
    """A model configuration is missing or inconsistent."""


class InputError(JaxTTSError, ValueError):
    """Arguments to a model or the engine are out of range (ids, speaker, pace, shapes)."""


class TextError(JaxTTSError, ValueError):
    """Text that has nothing speakable in it."""


class DataError(JaxTTSError, ValueError):
    """A training dataset, one of its audio files or a prepared directory cannot be used."""
