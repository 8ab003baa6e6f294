"""The help-centre chatbot model: a fastText-like TensorFlow classifier from a question's hashed n-gram
ids to a help-centre article, with a confidence threshold below which it says "don't know".

TensorFlow is imported only by ``model.py`` (training) and ``runtimes/tensorflow_runtime.py`` (serving); the rest
of this package is numpy and pyarrow, so the engine can check inputs and vectorisers without loading it.
"""
