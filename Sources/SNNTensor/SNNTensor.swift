// SNNTensor: the dense time-stepped backend of swift-snn.
//
// Float32 tensors with time-major layouts, SIMD kernels (SGEMM, convolution, pooling),
// layers with hand-written backward functions, optimizers. See Docs/DenseBackend.md.
