"""tinyforge: take a trained model to a running microcontroller."""

__version__ = "0.1.0"
