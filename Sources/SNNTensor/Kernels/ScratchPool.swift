import Synchronization

/// A process-wide pool of 64-byte-aligned scratch buffers for the kernels' packing and
/// work arrays.
///
/// A kernel call borrows one buffer per thread for its duration and returns it, so steady
/// state makes no allocation at all (the first calls allocate; a buffer that is too small
/// is replaced by a larger one). Safe to use from any number of threads at once, including
/// kernels called from inside other parallel loops.
enum ScratchPool {
  /// One allocation: base address and capacity in bytes.
  struct Block: @unchecked Sendable {
    var pointer: UnsafeMutableRawPointer
    var capacity: Int
  }

  /// Buffers kept for reuse beyond this many are freed on return.
  static let retainedLimit = 16

  private static let free = Mutex<[Block]>([])

  /// Runs `body` with a buffer of at least `floats` Floats (uninitialized contents).
  @inline(__always)
  static func withBuffer<R>(floats: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
    withBytes(floats * MemoryLayout<Float>.stride) { raw in
      body(raw.bindMemory(to: Float.self, capacity: floats))
    }
  }

  /// Runs `body` with at least `byteCount` bytes (uninitialized, 64-byte aligned). The
  /// memory may be bound to any trivial type; rebind it before use.
  @inline(__always)
  static func withBytes<R>(_ byteCount: Int, _ body: (UnsafeMutableRawPointer) -> R) -> R {
    let block = take(bytes: byteCount)
    defer { give(block) }
    return body(block.pointer)
  }

  static func take(bytes: Int) -> Block {
    let reused: Block? = free.withLock { blocks in
      // The smallest block that is large enough, else the largest (to be replaced).
      var best: Int?
      for i in blocks.indices where blocks[i].capacity >= bytes {
        if best == nil || blocks[i].capacity < blocks[best!].capacity { best = i }
      }
      if let best { return blocks.remove(at: best) }
      return nil
    }
    if let reused { return reused }
    let capacity = max(bytes, 4096)
    return Block(
      pointer: UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64),
      capacity: capacity)
  }

  static func give(_ block: Block) {
    let evicted: Block? = free.withLock { blocks in
      blocks.append(block)
      guard blocks.count > retainedLimit else { return nil }
      // Drop the smallest: large buffers are the expensive ones to recreate.
      var smallest = 0
      for i in blocks.indices where blocks[i].capacity < blocks[smallest].capacity {
        smallest = i
      }
      return blocks.remove(at: smallest)
    }
    if let evicted { evicted.pointer.deallocate() }
  }
}
