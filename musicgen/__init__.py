"""musicgen: train, listen to and compare symbolic music-generation models.

Not related to Meta's MusicGen (an audio model); this package works on notes (MIDI, ABC).
"""

__version__ = "0.1.0"
