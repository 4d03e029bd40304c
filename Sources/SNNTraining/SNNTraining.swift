// SNNTraining: model specs, compilation to either backend, the training methods, the
// trainer loop, checkpoints.
