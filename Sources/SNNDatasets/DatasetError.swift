import SNNBase

/// Why a dataset could not be loaded: a missing dataset, an unreadable file, or a file
/// whose contents are malformed. Loaders throw this one type; the command line maps its
/// cases to exit codes (66 missing input, 74 I/O, 65 bad data).
public enum DatasetError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The dataset's files are not where they were looked for.
  case notFound(DatasetNotFound)
  /// A file exists but cannot be read.
  case file(FileError)
  /// A file's contents are malformed.
  case malformed(DataFormatError)

  public var description: String {
    switch self {
    case .notFound(let e): return e.description
    case .file(let e): return e.description
    case .malformed(let e): return e.description
    }
  }

  /// The format error, if this is one (convenient in tests).
  public var formatError: DataFormatError? {
    if case .malformed(let e) = self { return e }
    return nil
  }
}

/// A dataset that is not on disk where it was looked for.
public struct DatasetNotFound: Equatable, Sendable, CustomStringConvertible {
  /// The dataset's name, e.g. `mnist`.
  public var dataset: String
  /// The data root and how it was chosen.
  public var root: DataRoot
  /// The paths that were tried (all of them, in order).
  public var searched: [String]

  public init(dataset: String, root: DataRoot, searched: [String]) {
    self.dataset = dataset
    self.root = root
    self.searched = searched
  }

  public var description: String {
    let looked = searched.joined(separator: ", ")
    return
      "dataset '\(dataset)' not found: looked for \(looked); the data folder \(root.path) is \(root.sourceDescription). "
      + "Put the files there, or point --data DIR or SNN_DATA at the folder that holds \(dataset)/"
  }
}
