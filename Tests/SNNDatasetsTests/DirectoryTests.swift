import SNNBase
import Testing

@testable import SNNDatasets

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

@Suite struct DirectoryTests {
  @Test func listSkipsDotEntriesAndMarksFolders() throws {
    let root = temporaryPath("list")
    defer { Directory.removeTree(root) }
    mkdir(root, 0o755)
    mkdir(root + "/sub", 0o755)
    try FileIO.writeAtomically("x", to: root + "/file.txt")
    let items = try Directory.list(root).sorted { $0.name < $1.name }
    #expect(
      items == [
        Directory.Item(name: "file.txt", isDirectory: false),
        Directory.Item(name: "sub", isDirectory: true),
      ])
  }

  @Test func removeTreeDeletesNestedFoldersButNotTheTargetsOfLinks() throws {
    let root = temporaryPath("tree")
    let outside = temporaryPath("outside")
    defer {
      Directory.removeTree(root)
      Directory.removeTree(outside)
    }
    mkdir(outside, 0o755)
    try FileIO.writeAtomically("keep", to: outside + "/kept.txt")
    mkdir(root, 0o755)
    mkdir(root + "/a", 0o755)
    mkdir(root + "/a/b", 0o755)
    try FileIO.writeAtomically("1", to: root + "/top.txt")
    try FileIO.writeAtomically("2", to: root + "/a/b/deep.txt")
    #expect(symlink(outside, root + "/a/link") == 0)

    #expect(Directory.removeTree(root))
    #expect(!FileIO.exists(root))
    // The link was removed, the folder it pointed to was not entered.
    #expect(FileIO.exists(outside + "/kept.txt"))
    // Removing what is already gone succeeds; a single file is removed too.
    #expect(Directory.removeTree(root))
    #expect(Directory.removeTree(outside + "/kept.txt"))
    #expect(!FileIO.exists(outside + "/kept.txt"))
  }
}
