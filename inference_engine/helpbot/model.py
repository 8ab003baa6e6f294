"""The fastText-like Keras model: ids -> Embedding(mask_zero) -> masked average -> dropout -> softmax over articles.

TensorFlow is imported here (training) and in the serving runtime only, always through ``import_tensorflow``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from inference_engine.helpbot.options import HelpbotOptions

log = logging.getLogger(__name__)


def import_tensorflow() -> ModuleType:
    """TensorFlow with quiet logs and without oneDNN's reordered (run-to-run varying) float maths."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import tensorflow as tf

    return tf


def build_model(buckets: int, max_length: int, classes: int, options: HelpbotOptions) -> Any:
    import keras

    inputs = keras.Input(shape=(max_length,), dtype="int32", name="token_ids")
    embedded = keras.layers.Embedding(buckets, options.embedding_dim, mask_zero=True, name="embedding")(inputs)
    averaged = keras.layers.GlobalAveragePooling1D(name="masked_average")(embedded)  # honours the padding mask
    dropped = keras.layers.Dropout(options.dropout, seed=options.seed, name="dropout")(averaged)
    outputs = keras.layers.Dense(classes, activation="softmax", name="article")(dropped)
    return keras.Model(inputs, outputs, name="helpbot")


@dataclass(frozen=True)
class Fitted:
    model: Any
    epochs: int  # epochs run (early stopping on the validation loss)
    best_epoch: int


def fit(
    x: np.ndarray, targets: np.ndarray, validation: tuple[np.ndarray, np.ndarray], buckets: int,
    options: HelpbotOptions,
) -> Fitted:  # fmt: skip
    """Mini-batch Adam with seeded shuffles and deterministic ops; the weights of the epoch with the best
    validation loss are kept (early stopping after ``options.patience`` epochs without one).

    ``targets`` are probability rows (one-hot for a question, uniform for a "says nothing" example);
    ``validation`` holds ids and class indices.

    A compiled train step instead of ``model.fit``: fit's per-epoch machinery (iterators, callbacks, the
    validation pass) cost ~0.3 s an epoch here, more than the maths of the whole epoch.
    """
    tf = import_tensorflow()
    import keras

    # Keras names auto-created ops (the embedding's mask) from a per-process counter: without a fresh session the
    # saved config.json of the same model depends on how many models this process built before it
    keras.utils.clear_session(free_memory=False)
    keras.utils.set_random_seed(options.seed)
    tf.config.experimental.enable_op_determinism()
    model = build_model(buckets, x.shape[1], targets.shape[1], options)
    optimizer = keras.optimizers.Adam(options.learning_rate)
    train_loss, valid_loss = keras.losses.CategoricalCrossentropy(), keras.losses.SparseCategoricalCrossentropy()
    ids_spec = tf.TensorSpec((None, x.shape[1]), tf.int32)

    @tf.function(input_signature=[ids_spec, tf.TensorSpec((None, targets.shape[1]), tf.float32)])
    def train_step(ids: Any, expected: Any) -> Any:
        with tf.GradientTape() as tape:
            loss = train_loss(expected, model(ids, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables,
                                      strict=True))  # fmt: skip
        return loss

    @tf.function(input_signature=[ids_spec, tf.TensorSpec((None,), tf.int64)])
    def validation_loss(ids: Any, labels: Any) -> Any:
        return valid_loss(labels, model(ids, training=False))

    rng = np.random.default_rng(options.seed)
    x_valid, y_valid = tf.constant(validation[0], tf.int32), tf.constant(validation[1], tf.int64)
    best_loss, best_epoch, best_weights, epoch = np.inf, 0, model.get_weights(), 0
    for epoch in range(1, options.max_epochs + 1):
        order = rng.permutation(len(x))
        for start in range(0, len(x), options.batch_size):
            batch = order[start : start + options.batch_size]
            train_step(tf.constant(x[batch], tf.int32), tf.constant(targets[batch], tf.float32))
        loss = float(validation_loss(x_valid, y_valid))
        if loss < best_loss:
            best_loss, best_epoch, best_weights = loss, epoch, model.get_weights()
        # the build's progress display shows this line (an epoch takes ~1 s; training stops early)
        log.info("epoch %d of at most %d: validation loss %.4f (best %.4f at epoch %d)", epoch, options.max_epochs,
                 loss, best_loss, best_epoch)  # fmt: skip
        if epoch - best_epoch >= options.patience:
            break
    model.set_weights(best_weights)
    return Fitted(model, epoch, best_epoch)


class Scorer:
    """The model behind a ``tf.function`` with a fixed input signature: traced once, then one graph call per
    batch. ``model.predict`` costs milliseconds per call (it builds a data pipeline); this costs well under one.

    Training's evaluation and the serving runtime both score through it, so they give the same answers.
    """

    def __init__(self, model: Any) -> None:
        tf = import_tensorflow()
        self.model = model
        self.classes = int(model.output_shape[-1])
        max_length = int(model.input_shape[-1])
        self._tf = tf
        self._graph = tf.function(
            lambda ids: model(ids, training=False),
            input_signature=[tf.TensorSpec(shape=(None, max_length), dtype=tf.int32, name="token_ids")],
        )

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """Softmax rows for a padded int32 batch; rows without a known id must not be passed (0/0 average)."""
        if len(batch) == 0:
            return np.zeros((0, self.classes), dtype=np.float32)
        result: np.ndarray = self._graph(self._tf.constant(batch, dtype=self._tf.int32)).numpy()
        return result
