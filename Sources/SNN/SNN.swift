// The umbrella module: `import SNN` gives the whole library.
@_exported import SNNBase
@_exported import SNNEngine
