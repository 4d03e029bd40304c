// The umbrella module: `import SNN` gives the whole library.
@_exported import SNNBase
@_exported import SNNDatasets
@_exported import SNNEngine
@_exported import SNNTensor
@_exported import SNNTraining
