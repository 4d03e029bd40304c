// SNNDatasets: readers for the datasets swift-snn trains on.
//
// gzip/DEFLATE and ZIP decoding, IDX files (MNIST, Fashion-MNIST), N-MNIST event streams,
// encoders. Bad input gives typed errors naming the file and the byte offset.
