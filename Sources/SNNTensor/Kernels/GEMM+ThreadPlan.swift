extension GEMM {
  /// How one product is split across threads: C is cut into a `rowSplits × columnSplits`
  /// grid of rectangles along whole micro-tiles (6 rows, 16 columns), one per thread. Each
  /// thread packs its own operands, so no thread waits for another and no element of C is
  /// touched by two threads.
  ///
  /// The grid depends only on (m, n, k, threads): the shape with the smallest estimated cost
  /// (padded multiply-adds of the slowest thread plus its packing traffic) wins, and products
  /// too small to pay for waking a thread use fewer threads.
  struct ThreadPlan {
    let m: Int, n: Int
    let rowSplits: Int, columnSplits: Int

    /// Products below this many multiply-adds per thread (about 30 µs of work on one core)
    /// run on fewer threads. Measured: 128³ (2.1 M multiply-adds) ran at 101 GFLOP/s on one
    /// thread and 63 on two; 256³ gains from two (105 → 160).
    static let minimumMACsPerThread = 3 << 19
    /// Packing one element costs about as much time as this many multiply-adds (a
    /// scalar copy versus 16 multiply-adds per cycle in the micro-kernel).
    static let packingCost = 12

    init(m: Int, n: Int, k: Int, threads: Int) {
      self.m = m
      self.n = n
      let rowPanels = (m + MicroKernel.rows - 1) / MicroKernel.rows
      let columnPanels = (n + MicroKernel.columns - 1) / MicroKernel.columns
      let macs = m.multipliedReportingOverflow(by: n).partialValue
        .multipliedReportingOverflow(by: k).partialValue
      var wanted = min(threads, max(1, macs / Self.minimumMACsPerThread))
      wanted = min(wanted, rowPanels * columnPanels)
      while true {
        var best: (rows: Int, columns: Int, cost: Int)?
        for rows in 1...wanted where wanted % rows == 0 {
          let columns = wanted / rows
          guard rows <= rowPanels && columns <= columnPanels else { continue }
          let height = (rowPanels + rows - 1) / rows * MicroKernel.rows
          let width = (columnPanels + columns - 1) / columns * MicroKernel.columns
          let blocksOfN = (width + Blocking.nc - 1) / Blocking.nc
          let cost = height * width * k + Self.packingCost * k * (width + height * blocksOfN)
          if best == nil || cost < best!.cost { best = (rows, columns, cost) }
        }
        if let best {
          rowSplits = best.rows
          columnSplits = best.columns
          return
        }
        wanted -= 1  // e.g. 3 threads on a 2×2 grid of tiles
      }
    }

    /// The number of rectangles (threads).
    var count: Int { rowSplits * columnSplits }

    /// The rows of C that rectangle `tile` covers.
    func rows(_ tile: Int) -> Range<Int> {
      Self.split(tile / columnSplits, of: rowSplits, count: m, granule: MicroKernel.rows)
    }

    /// The columns of C that rectangle `tile` covers.
    func columns(_ tile: Int) -> Range<Int> {
      Self.split(tile % columnSplits, of: columnSplits, count: n, granule: MicroKernel.columns)
    }

    /// Part `part` of `parts` near-equal runs of whole granules covering `0..<count`.
    static func split(_ part: Int, of parts: Int, count: Int, granule: Int) -> Range<Int> {
      let granules = (count + granule - 1) / granule
      let base = granules / parts, extra = granules % parts
      let start = part * base + min(part, extra)
      let end = start + base + (part < extra ? 1 : 0)
      return min(count, start * granule)..<min(count, end * granule)
    }
  }
}
